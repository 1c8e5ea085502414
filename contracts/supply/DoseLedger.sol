// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Custody} from "./Custody.sol";
import {IAppointments} from "../interfaces/IAppointments.sol";

/// @title DoseLedger
/// @notice Doses given, behind the safety interlock, and adverse events reported against them.
/// @dev A person appears only as a random 32-byte pseudonym chosen off chain;
/// a unit appears only as the hash of its traceability code. A dose is
/// identified by (unit hash, dose number within the unit) and lives in the
/// {DoseRecorded} event: the contract stores only what it must check, the
/// uses of each unit.
abstract contract DoseLedger is Custody {
    enum AefiCategory {
        None,
        ReactionCommon,
        ReactionRare,
        QualityEvent,
        ProgrammeError,
        Coincidental,
        Psychogenic,
        Unknown
    }

    enum AefiSeverity {
        None,
        NonSerious,
        Serious,
        Death
    }

    struct Unit {
        uint32 lot;
        uint8 uses;
    }

    mapping(bytes32 unitHash => Unit) internal _units;

    event DoseRecorded(
        bytes32 indexed person,
        uint32 indexed lot,
        uint32 indexed facility,
        uint32 equipment,
        bytes32 unitHash,
        uint8 doseNumber,
        uint64 booking
    );
    event AdverseEventReported(
        bytes32 indexed unitHash,
        uint8 doseNumber,
        uint32 indexed facility,
        AefiCategory category,
        AefiSeverity severity,
        bytes32 reportHash
    );

    error InvalidPseudonym();
    error InvalidUnitCode();
    error NotAClinic(uint32 facility);
    /// @notice The unit's code was first used with another lot: a counterfeit or a scanning error.
    error UnitLotMismatch(bytes32 unitHash, uint32 lot);
    /// @notice Every dose of this unit has been given already.
    error UnitUsedUp(bytes32 unitHash);
    error BookingTypeMismatch(uint64 booking, bytes8 booked, bytes8 given);
    error UnknownDose(bytes32 unitHash, uint8 doseNumber);
    error InvalidAefi();

    /// @notice Records a dose given at the caller's clinic. Reverts, by the safety interlock,
    /// when the lot is unreleased, expired or recalled, when the doses in `equipment` are
    /// quarantined or not held there by the caller's clinic, when the unit's code is used up or
    /// belongs to another lot, and (walk-ins) when the site's stock is held back for bookings.
    /// @param person The recipient's pseudonym (random, never derived from personal data).
    /// @param lot The lot id.
    /// @param equipment The equipment the dose was taken from.
    /// @param unitHash Hash of the unit's traceability code.
    /// @param booking The booking this dose completes, or 0 for a walk-in.
    /// @return doseNumber Which dose of the unit this was, from 1.
    function recordDose(bytes32 person, uint32 lot, uint32 equipment, bytes32 unitHash, uint64 booking)
        external
        returns (uint8 doseNumber)
    {
        if (person == bytes32(0)) revert InvalidPseudonym();
        if (unitHash == bytes32(0)) revert InvalidUnitCode();
        Membership memory m = _custodian(msg.sender);
        if (m.kind != FacilityKind.Clinic) revert NotAClinic(m.facility);
        Lot memory l = _lots[lot];
        _requireUsable(lot, l);

        Unit memory u = _units[unitHash];
        if (u.uses != 0 && u.lot != lot) revert UnitLotMismatch(unitHash, u.lot);
        if (u.uses >= l.dosesPerUnit) revert UnitUsedUp(unitHash);
        doseNumber = u.uses + 1;
        _units[unitHash] = Unit(lot, doseNumber);

        _takeStock(lot, equipment, m.facility, 1);
        if (booking == 0) {
            _takeSiteStock(m.facility, l.vaccineType, 1, false);
        } else {
            // `appointments` is our Appointments, wired once by the admin; complete() calls nothing
            // back, and the reservation can only be taken after it names the booked type.
            // slither-disable-next-line reentrancy-benign,reentrancy-events
            bytes8 booked = IAppointments(appointments).complete(booking, m.facility);
            if (booked != l.vaccineType) revert BookingTypeMismatch(booking, booked, l.vaccineType);
            _takeReservedSiteStock(m.facility, l.vaccineType);
        }
        emit DoseRecorded(person, lot, m.facility, equipment, unitHash, doseNumber, booking);
    }

    /// @notice Reports an adverse event following immunization against a recorded dose.
    /// Any clinic may report (the person may present elsewhere). The report itself stays
    /// off chain; its hash anchors it.
    /// @param unitHash Hash of the unit's traceability code.
    /// @param doseNumber Which dose of the unit, from 1.
    /// @param category AEFI classification.
    /// @param severity Non-serious, serious or death.
    /// @param reportHash Hash of the off-chain report.
    function reportAdverseEvent(
        bytes32 unitHash,
        uint8 doseNumber,
        AefiCategory category,
        AefiSeverity severity,
        bytes32 reportHash
    ) external {
        Membership memory m = _custodian(msg.sender);
        if (m.kind != FacilityKind.Clinic) revert NotAClinic(m.facility);
        if (doseNumber == 0 || doseNumber > _units[unitHash].uses) revert UnknownDose(unitHash, doseNumber);
        if (category == AefiCategory.None || severity == AefiSeverity.None || reportHash == bytes32(0)) {
            revert InvalidAefi();
        }
        emit AdverseEventReported(unitHash, doseNumber, m.facility, category, severity, reportHash);
    }

    /// @notice The lot a unit belongs to and how many of its doses were given.
    function unit(bytes32 unitHash) external view returns (Unit memory) {
        return _units[unitHash];
    }
}
