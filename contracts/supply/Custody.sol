// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LotRegistry} from "./LotRegistry.sol";

/// @title Custody
/// @notice Where every dose of every lot is: stock per lot per piece of
/// equipment, shipments in transit in a vehicle, moves, write-offs, quarantine
/// and release, and the doses each site holds back for bookings.
/// @dev Conservation, per lot: stock held + shipments open + doses administered
/// + doses written off = doses produced. Every path that changes one side
/// changes another by the same amount, and emits the event the indexer sums.
abstract contract Custody is LotRegistry {
    enum WriteOffReason {
        None,
        Expired,
        Damaged,
        Refused,
        Excursion,
        Recalled,
        Lost,
        Other
    }

    /// @dev One slot. `facility` is copied from the equipment when the entry
    /// is created so a dose need not read the equipment. An entry is deleted
    /// when both counts reach zero, and {Equipment-openItems} counts live entries.
    struct Stock {
        uint64 available;
        uint64 quarantined;
        uint32 facility;
    }

    /// @dev Per site and vaccine type: unquarantined doses, and how many of
    /// them are held back for bookings.
    struct SiteStock {
        uint64 available;
        uint64 reserved;
    }

    /// @dev One slot: 32 * 5 + 8 + 64 + 8 = 240 bits. The lot's vaccine type and
    /// doses per unit ride along so a receipt need not read the lot.
    struct Shipment {
        uint32 lot;
        uint32 fromFacility;
        uint32 toFacility;
        uint32 vehicle;
        uint32 quantity;
        bool quarantined;
        bytes8 vaccineType;
        uint8 dosesPerUnit;
    }

    uint64 public shipmentCount;
    /// @notice The appointments contract, the only caller of {reserve} and {unreserve}.
    address public appointments;

    mapping(uint256 lotAndEquipment => Stock) internal _stock;
    mapping(uint256 facilityAndType => SiteStock) internal _siteStock;
    mapping(uint64 id => Shipment) internal _shipments;

    event Shipped(
        uint64 indexed shipment,
        uint32 indexed lot,
        uint32 fromEquipment,
        uint32 indexed vehicle,
        uint32 toFacility,
        uint32 quantity
    );
    event ShipmentReceived(uint64 indexed shipment, uint32 indexed equipment, uint64 accepted);
    event ShipmentRefused(uint64 indexed shipment, WriteOffReason reason);
    event Moved(uint32 indexed lot, uint32 indexed fromEquipment, uint32 indexed toEquipment, uint64 quantity);
    /// @dev `equipment` is the vehicle when the doses were written off from a shipment.
    event WrittenOff(uint32 indexed lot, uint32 indexed equipment, uint64 quantity, WriteOffReason reason);
    event StockQuarantined(uint32 indexed equipment, uint32 indexed lot, uint64 quantity, bytes32 excursionRef);
    event ShipmentQuarantined(uint32 indexed vehicle, uint64 indexed shipment, bytes32 excursionRef);
    event ExcursionStarted(uint32 indexed equipment, bytes32 excursionRef);
    event ExcursionEnded(uint32 indexed equipment, bytes32 excursionRef);
    event StockReleased(uint32 indexed equipment, uint32 indexed lot, uint64 quantity);
    event ShipmentReleased(uint64 indexed shipment);
    event AppointmentsSet(address indexed appointments);

    error NotHeld(uint32 lot, uint32 equipment);
    error InsufficientStock(uint32 lot, uint32 equipment, uint64 available);
    error StockInQuarantine(uint32 lot, uint32 equipment);
    /// @notice Every unquarantined dose of this type at the site is held back for bookings.
    error StockReserved(uint32 facility, bytes8 vaccineType);
    error InsufficientQuarantined(uint32 lot, uint32 equipment, uint64 quarantined);
    error NotAVehicle(uint32 equipment);
    error SameFacility(uint32 facility);
    error SameEquipment(uint32 equipment);
    error EquipmentUnderExcursion(uint32 equipment);
    error NoExcursion(uint32 equipment);
    error UnknownShipment(uint64 shipment);
    error ShipmentNotInTransit(uint64 shipment);
    error ShipmentInQuarantine(uint64 shipment);
    error ShipmentNotQuarantined(uint64 shipment);
    error ExceedsShipment(uint64 shipment, uint64 quantity);
    error ReasonRequired();
    /// @notice The list must name, in ascending order, exactly the items in the equipment.
    error QuarantineListMismatch(uint32 equipment, uint32 expected, uint256 given);
    error QuarantineListUnsorted(uint256 index);
    error NotInVehicle(uint64 shipment, uint32 vehicle);
    error AppointmentsAlreadySet(address appointments);
    error OnlyAppointments(address caller);

    /// @notice Wires the appointments contract once. Only the admin.
    function setAppointments(address appointments_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (appointments_ == address(0)) revert ZeroAddress();
        if (appointments != address(0)) revert AppointmentsAlreadySet(appointments);
        appointments = appointments_;
        emit AppointmentsSet(appointments_);
    }

    /// @notice Sends doses of a released lot from the caller's equipment to another facility,
    /// in transit in `vehicle`. Only stock not held back for bookings can leave.
    /// @param lot The lot id.
    /// @param fromEquipment Equipment of the caller's facility holding the doses.
    /// @param vehicle The vehicle carrying the shipment.
    /// @param toFacility The receiving facility.
    /// @param quantity Doses, a whole number of units.
    /// @return id The shipment id, counting from 1.
    function ship(uint32 lot, uint32 fromEquipment, uint32 vehicle, uint32 toFacility, uint32 quantity)
        external
        returns (uint64 id)
    {
        if (quantity == 0) revert ZeroQuantity();
        Membership memory m = _custodian(msg.sender);
        Lot memory l = _lots[lot];
        _requireUsable(lot, l);
        if (quantity % l.dosesPerUnit != 0) revert NotWholeUnits(quantity, l.dosesPerUnit);
        if (toFacility == m.facility) revert SameFacility(toFacility);
        Facility memory to = _facilities[toFacility];
        if (to.kind == FacilityKind.None) revert UnknownFacility(toFacility);
        if (!to.active) revert FacilityInactive(toFacility);
        Equipment storage v = _requireEquipment(vehicle);
        if (v.kind != EquipmentKind.Vehicle) revert NotAVehicle(vehicle);
        if (!v.active) revert EquipmentInactive(vehicle);
        if (v.underExcursion) revert EquipmentUnderExcursion(vehicle);

        _takeStock(lot, fromEquipment, m.facility, quantity);
        _takeSiteStock(m.facility, l.vaccineType, quantity, false);
        v.openItems += 1;
        id = ++shipmentCount;
        _shipments[id] = Shipment(lot, m.facility, toFacility, vehicle, quantity, false, l.vaccineType, l.dosesPerUnit);
        emit Shipped(id, lot, fromEquipment, vehicle, toFacility, quantity);
    }

    /// @notice Receives a shipment into the caller's equipment, fully or in part; the
    /// rest is written off with `reason`. A quarantined shipment cannot be received.
    /// @param id The shipment id.
    /// @param equipment Storage equipment of the receiving facility.
    /// @param accepted Doses accepted, 1..quantity, a whole number of units.
    /// @param reason Why the rest is written off; ignored when all is accepted.
    function receiveShipment(uint64 id, uint32 equipment, uint32 accepted, WriteOffReason reason) external {
        Shipment memory s = _openShipment(id);
        Membership memory m = _custodian(msg.sender);
        if (m.facility != s.toFacility) revert WrongFacility(msg.sender, s.toFacility);
        if (s.quarantined) revert ShipmentInQuarantine(id);
        if (accepted == 0) revert ZeroQuantity();
        if (accepted > s.quantity) revert ExceedsShipment(id, s.quantity);
        if (accepted % s.dosesPerUnit != 0) revert NotWholeUnits(accepted, s.dosesPerUnit);
        if (accepted < s.quantity && reason == WriteOffReason.None) revert ReasonRequired();
        Equipment storage e = _requireStorage(equipment);
        if (e.facility != m.facility) revert WrongFacility(msg.sender, e.facility);
        if (e.underExcursion) revert EquipmentUnderExcursion(equipment);

        _closeShipment(id, s.vehicle);
        _putStock(s.lot, equipment, e, accepted);
        _putSiteStock(m.facility, s.vaccineType, accepted);
        emit ShipmentReceived(id, equipment, accepted);
        if (accepted < s.quantity) emit WrittenOff(s.lot, s.vehicle, s.quantity - accepted, reason);
    }

    /// @notice Refuses a whole shipment (e.g. its temperature record is missing or out of
    /// range); its doses are written off with `reason`. Only the receiving facility.
    function refuseShipment(uint64 id, WriteOffReason reason) external {
        Shipment memory s = _openShipment(id);
        Membership memory m = _custodian(msg.sender);
        if (m.facility != s.toFacility) revert WrongFacility(msg.sender, s.toFacility);
        if (reason == WriteOffReason.None) revert ReasonRequired();
        _closeShipment(id, s.vehicle);
        emit ShipmentRefused(id, reason);
        emit WrittenOff(s.lot, s.vehicle, s.quantity, reason);
    }

    /// @notice Moves doses between two pieces of equipment of the caller's facility.
    function move(uint32 lot, uint32 fromEquipment, uint32 toEquipment, uint64 quantity) external {
        if (quantity == 0) revert ZeroQuantity();
        if (fromEquipment == toEquipment) revert SameEquipment(toEquipment);
        Membership memory m = _custodian(msg.sender);
        Equipment storage to = _requireStorage(toEquipment);
        if (to.facility != m.facility) revert WrongFacility(msg.sender, to.facility);
        if (to.underExcursion) revert EquipmentUnderExcursion(toEquipment);
        _takeStock(lot, fromEquipment, m.facility, quantity);
        _putStock(lot, toEquipment, to, quantity);
        emit Moved(lot, fromEquipment, toEquipment, quantity);
    }

    /// @notice Writes off available doses held by the caller's facility (expired, broken, lost...).
    function writeOff(uint32 lot, uint32 equipment, uint64 quantity, WriteOffReason reason) external {
        if (quantity == 0) revert ZeroQuantity();
        if (reason == WriteOffReason.None) revert ReasonRequired();
        Membership memory m = _custodian(msg.sender);
        _takeStock(lot, equipment, m.facility, quantity);
        _takeSiteStock(m.facility, _requireLot(lot).vaccineType, quantity, true);
        emit WrittenOff(lot, equipment, quantity, reason);
    }

    /// @notice Quarantines all stock in storage equipment after an excursion, and keeps
    /// new stock out until {endExcursion}. By the oracle, the CDC or the regulator.
    /// @param equipment The equipment.
    /// @param lots Every lot with stock in it, ascending; checked against the equipment's count.
    /// @param excursionRef The excursion's id, for the audit trail.
    function quarantineStock(uint32 equipment, uint32[] calldata lots, bytes32 excursionRef) external {
        _checkAnyRole(ORACLE_ROLE, DISTRIBUTOR_ROLE, REGULATOR_ROLE, msg.sender);
        Equipment storage e = _requireEquipment(equipment);
        if (e.kind == EquipmentKind.Vehicle) revert InvalidEquipmentKind();
        if (lots.length != e.openItems) revert QuarantineListMismatch(equipment, e.openItems, lots.length);
        uint32 previous = 0; // lot ids count from 1, so the first must be above 0
        for (uint256 i; i < lots.length; ++i) {
            uint32 lot = lots[i];
            if (lot <= previous) revert QuarantineListUnsorted(i);
            previous = lot;
            Stock storage s = _stock[_stockKey(lot, equipment)];
            if (s.facility == 0) revert NotHeld(lot, equipment);
            uint64 moved = s.available;
            if (moved != 0) {
                s.quarantined += moved;
                s.available = 0;
                _takeSiteStock(s.facility, _lots[lot].vaccineType, moved, true);
            }
            emit StockQuarantined(equipment, lot, moved, excursionRef);
        }
        e.underExcursion = true;
        emit ExcursionStarted(equipment, excursionRef);
    }

    /// @notice Quarantines every open shipment in a vehicle after an excursion in transit.
    /// @param vehicle The vehicle.
    /// @param shipments Every open shipment in it, ascending; checked against the vehicle's count.
    /// @param excursionRef The excursion's id.
    function quarantineShipments(uint32 vehicle, uint64[] calldata shipments, bytes32 excursionRef) external {
        _checkAnyRole(ORACLE_ROLE, DISTRIBUTOR_ROLE, REGULATOR_ROLE, msg.sender);
        Equipment storage v = _requireEquipment(vehicle);
        if (v.kind != EquipmentKind.Vehicle) revert NotAVehicle(vehicle);
        if (shipments.length != v.openItems) revert QuarantineListMismatch(vehicle, v.openItems, shipments.length);
        uint64 previous = 0; // shipment ids count from 1, so the first must be above 0
        for (uint256 i; i < shipments.length; ++i) {
            uint64 id = shipments[i];
            if (id <= previous) revert QuarantineListUnsorted(i);
            previous = id;
            Shipment storage s = _shipments[id];
            if (s.vehicle != vehicle) revert NotInVehicle(id, vehicle);
            s.quarantined = true;
            emit ShipmentQuarantined(vehicle, id, excursionRef);
        }
        v.underExcursion = true;
        emit ExcursionStarted(vehicle, excursionRef);
    }

    /// @notice Ends an excursion: the equipment takes stock again. Quarantined stock stays
    /// quarantined until released or disposed of. By the oracle, the CDC or the regulator.
    function endExcursion(uint32 equipment, bytes32 excursionRef) external {
        _checkAnyRole(ORACLE_ROLE, DISTRIBUTOR_ROLE, REGULATOR_ROLE, msg.sender);
        Equipment storage e = _requireEquipment(equipment);
        if (!e.underExcursion) revert NoExcursion(equipment);
        e.underExcursion = false;
        emit ExcursionEnded(equipment, excursionRef);
    }

    /// @notice Releases quarantined doses back to use after review. By the CDC or the regulator.
    function releaseStock(uint32 equipment, uint32 lot, uint64 quantity) external {
        _checkEitherRole(DISTRIBUTOR_ROLE, REGULATOR_ROLE, msg.sender);
        if (quantity == 0) revert ZeroQuantity();
        if (_requireEquipment(equipment).underExcursion) revert EquipmentUnderExcursion(equipment);
        Stock storage s = _quarantinedStock(lot, equipment, quantity);
        s.quarantined -= quantity;
        s.available += quantity;
        _putSiteStock(s.facility, _lots[lot].vaccineType, quantity);
        emit StockReleased(equipment, lot, quantity);
    }

    /// @notice Disposes of quarantined doses, recording why. By the CDC or the regulator.
    function disposeStock(uint32 equipment, uint32 lot, uint64 quantity, WriteOffReason reason) external {
        _checkEitherRole(DISTRIBUTOR_ROLE, REGULATOR_ROLE, msg.sender);
        if (quantity == 0) revert ZeroQuantity();
        if (reason == WriteOffReason.None) revert ReasonRequired();
        uint256 key = _stockKey(lot, equipment);
        Stock storage s = _quarantinedStock(lot, equipment, quantity);
        s.quarantined -= quantity;
        if (s.quarantined == 0 && s.available == 0) _deleteStock(key, equipment);
        emit WrittenOff(lot, equipment, quantity, reason);
    }

    /// @notice Releases a quarantined shipment so it can be received. By the CDC or the regulator.
    function releaseShipment(uint64 id) external {
        _checkEitherRole(DISTRIBUTOR_ROLE, REGULATOR_ROLE, msg.sender);
        Shipment memory s = _openShipment(id);
        if (!s.quarantined) revert ShipmentNotQuarantined(id);
        if (_equipment[s.vehicle].underExcursion) revert EquipmentUnderExcursion(s.vehicle);
        _shipments[id].quarantined = false;
        emit ShipmentReleased(id);
    }

    /// @notice Holds back one dose of `vaccineType` at `site` for a booking. Only the appointments contract.
    function reserve(uint32 site, bytes8 vaccineType) external {
        if (msg.sender != appointments) revert OnlyAppointments(msg.sender);
        SiteStock storage st = _siteStock[_siteKey(site, vaccineType)];
        if (st.available <= st.reserved) revert StockReserved(site, vaccineType);
        st.reserved += 1;
    }

    /// @notice Gives back a dose held for a booking that was cancelled or missed.
    function unreserve(uint32 site, bytes8 vaccineType) external {
        if (msg.sender != appointments) revert OnlyAppointments(msg.sender);
        _siteStock[_siteKey(site, vaccineType)].reserved -= 1;
    }

    /// @notice Doses of `lot` in `equipment`: available, and quarantined.
    function stockOf(uint32 lot, uint32 equipment) external view returns (Stock memory) {
        return _stock[_stockKey(lot, equipment)];
    }

    /// @notice Unquarantined doses of `vaccineType` at `site`, and how many are held back for bookings.
    function siteStock(uint32 site, bytes8 vaccineType) external view returns (SiteStock memory) {
        return _siteStock[_siteKey(site, vaccineType)];
    }

    /// @notice An open shipment; all zero once received or refused.
    function shipment(uint64 id) external view returns (Shipment memory) {
        return _shipments[id];
    }

    function _commission(uint32 lot, uint32 facility, bytes8 vaccineType, uint32 equipment, uint64 doses)
        internal
        override
    {
        Equipment storage e = _requireStorage(equipment);
        if (e.facility != facility) revert WrongFacility(msg.sender, e.facility);
        if (e.underExcursion) revert EquipmentUnderExcursion(equipment);
        _putStock(lot, equipment, e, doses);
        _putSiteStock(facility, vaccineType, doses);
    }

    /// @dev Takes available doses out of `facility`'s equipment.
    function _takeStock(uint32 lot, uint32 equipment, uint32 facility, uint64 quantity) internal {
        uint256 key = _stockKey(lot, equipment);
        Stock storage s = _stock[key];
        uint32 holder = s.facility;
        if (holder == 0) revert NotHeld(lot, equipment);
        if (holder != facility) revert WrongFacility(msg.sender, holder);
        uint64 available = s.available;
        if (available < quantity) {
            if (available == 0) revert StockInQuarantine(lot, equipment);
            revert InsufficientStock(lot, equipment, available);
        }
        if (available == quantity && s.quarantined == 0) {
            _deleteStock(key, equipment);
        } else {
            s.available = available - quantity;
        }
    }

    function _putStock(uint32 lot, uint32 equipment, Equipment storage e, uint64 quantity) internal {
        Stock storage s = _stock[_stockKey(lot, equipment)];
        if (s.facility == 0) {
            s.facility = e.facility;
            e.openItems += 1;
        }
        s.available += quantity;
    }

    function _deleteStock(uint256 key, uint32 equipment) private {
        delete _stock[key];
        _equipment[equipment].openItems -= 1;
    }

    /// @dev `force` lets doses leave even when they are held back for bookings
    /// (write-off and quarantine follow physical facts; shipping and walk-in doses may not).
    function _takeSiteStock(uint32 facility, bytes8 vaccineType, uint64 quantity, bool force) internal {
        SiteStock storage st = _siteStock[_siteKey(facility, vaccineType)];
        uint64 available = st.available;
        if (!force && available - quantity < st.reserved) revert StockReserved(facility, vaccineType);
        st.available = available - quantity;
    }

    function _putSiteStock(uint32 facility, bytes8 vaccineType, uint64 quantity) internal {
        _siteStock[_siteKey(facility, vaccineType)].available += quantity;
    }

    /// @dev A booked dose consumes its reservation along with the dose.
    function _takeReservedSiteStock(uint32 facility, bytes8 vaccineType) internal {
        SiteStock storage st = _siteStock[_siteKey(facility, vaccineType)];
        st.available -= 1;
        st.reserved -= 1;
    }

    function _openShipment(uint64 id) internal view returns (Shipment memory s) {
        s = _shipments[id];
        if (s.lot == 0) {
            if (id == 0 || id > shipmentCount) revert UnknownShipment(id);
            revert ShipmentNotInTransit(id);
        }
    }

    function _closeShipment(uint64 id, uint32 vehicle) private {
        delete _shipments[id];
        _equipment[vehicle].openItems -= 1;
    }

    function _quarantinedStock(uint32 lot, uint32 equipment, uint64 quantity) private view returns (Stock storage s) {
        s = _stock[_stockKey(lot, equipment)];
        if (s.facility == 0) revert NotHeld(lot, equipment);
        if (s.quarantined < quantity) revert InsufficientQuarantined(lot, equipment, s.quarantined);
    }

    function _stockKey(uint32 lot, uint32 equipment) internal pure returns (uint256) {
        return (uint256(lot) << 32) | equipment;
    }

    function _siteKey(uint32 facility, bytes8 vaccineType) internal pure returns (uint256) {
        return (uint256(facility) << 64) | uint64(vaccineType);
    }
}
