// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAppointments} from "./interfaces/IAppointments.sol";
import {IStockReservations} from "./interfaces/IStockReservations.sol";
import {FacilityRegistry} from "./supply/FacilityRegistry.sol";

/// @title Appointments
/// @notice Clinics publish vaccination slots; citizens book and cancel; every
/// booking holds back one dose of the site's unquarantined stock, and the dose
/// recorded for it completes it. Neither a slot's capacity nor the site's stock
/// can be overbooked.
/// @dev Keeps no roles: who acts for a clinic is asked of the ledger. A citizen
/// books from a custodial wallet; the person booked for appears only as a
/// pseudonym in the {Booked} event.
contract Appointments is IAppointments {
    enum BookingStatus {
        None,
        Booked,
        Completed,
        Cancelled,
        Missed
    }

    /// @dev One slot: 32 + 64 + 40 + 32 + 32 + 32 = 232 bits.
    struct Slot {
        uint32 site;
        bytes8 vaccineType;
        uint40 start;
        uint32 duration;
        uint32 capacity;
        uint32 booked;
    }

    /// @dev One slot: 160 + 32 + 8 bits.
    struct Booking {
        address booker;
        uint32 slot;
        BookingStatus status;
    }

    IStockReservations public immutable ledger;

    uint32 public slotCount;
    uint64 public bookingCount;

    mapping(uint32 id => Slot) internal _slots;
    mapping(uint64 id => Booking) internal _bookings;

    event SlotPublished(uint32 indexed slot, uint32 indexed site, bytes8 vaccineType, uint40 start, uint32 duration, uint32 capacity);
    event SlotCapacityChanged(uint32 indexed slot, uint32 capacity);
    event Booked(uint64 indexed booking, uint32 indexed slot, address indexed booker, bytes32 person);
    event BookingCancelled(uint64 indexed booking, address by);
    event BookingCompleted(uint64 indexed booking);
    event BookingMissed(uint64 indexed booking);

    error ZeroAddress();
    error NotAClinic(uint32 facility);
    error WrongSite(address account, uint32 site);
    error InvalidSlot();
    error UnknownSlot(uint32 slot);
    error SlotClosed(uint32 slot);
    error SlotNotOver(uint32 slot);
    error SlotFull(uint32 slot);
    error CapacityBelowBooked(uint32 slot, uint32 booked);
    error InvalidPseudonym();
    error UnknownBooking(uint64 booking);
    error BookingNotActive(uint64 booking, BookingStatus status);
    error NotBooker(address account, uint64 booking);
    error OnlyLedger(address caller);
    error BookedAtOtherSite(uint64 booking, uint32 site);

    constructor(IStockReservations ledger_) {
        if (address(ledger_) == address(0)) revert ZeroAddress();
        ledger = ledger_;
    }

    /// @notice Publishes a slot at the caller's clinic.
    /// @param vaccineType Schedule code of the vaccine offered.
    /// @param start Slot start, unix time; must be in the future.
    /// @param duration Slot length in seconds.
    /// @param capacity How many people can be vaccinated in it.
    /// @return id The new slot id, counting from 1.
    function publishSlot(bytes8 vaccineType, uint40 start, uint32 duration, uint32 capacity)
        external
        returns (uint32 id)
    {
        uint32 site = _clinicOf(msg.sender);
        // Slots are set hours or days ahead: seconds of validator clock skew are immaterial.
        // slither-disable-next-line timestamp
        if (vaccineType == bytes8(0) || duration == 0 || capacity == 0 || start <= block.timestamp) {
            revert InvalidSlot();
        }
        id = ++slotCount;
        _slots[id] = Slot(site, vaccineType, start, duration, capacity, 0);
        emit SlotPublished(id, site, vaccineType, start, duration, capacity);
    }

    /// @notice Changes a slot's capacity; never below what is booked (0 closes an empty slot).
    /// Only the slot's clinic.
    function setCapacity(uint32 slotId, uint32 capacity) external {
        Slot storage s = _requireSlot(slotId);
        _requireSiteStaff(s.site);
        if (capacity < s.booked) revert CapacityBelowBooked(slotId, s.booked);
        s.capacity = capacity;
        emit SlotCapacityChanged(slotId, capacity);
    }

    /// @notice Books a place in a slot for `person`, holding back one dose of the site's stock.
    /// @param slotId The slot.
    /// @param person Pseudonym of the person to be vaccinated (the booker's dependant or self).
    /// @return id The booking id, counting from 1.
    function book(uint32 slotId, bytes32 person) external returns (uint64 id) {
        if (person == bytes32(0)) revert InvalidPseudonym();
        Slot storage s = _requireSlot(slotId);
        // A slot closes at its end, in whole minutes: seconds of validator clock skew are immaterial.
        // slither-disable-next-line timestamp
        if (block.timestamp >= uint256(s.start) + s.duration) revert SlotClosed(slotId);
        if (s.booked >= s.capacity) revert SlotFull(slotId);
        s.booked += 1;
        id = ++bookingCount;
        _bookings[id] = Booking(msg.sender, slotId, BookingStatus.Booked);
        emit Booked(id, slotId, msg.sender, person);
        // Last (checks-effects-interactions): the ledger refuses with StockReserved when every
        // dose is held back, and its revert undoes the booking above.
        ledger.reserve(s.site, s.vaccineType);
    }

    /// @notice Cancels a booking, freeing its place and its dose. By the booker, or by the
    /// slot's clinic (e.g. a clinic closing for the day).
    function cancel(uint64 bookingId) external {
        Booking storage b = _requireActive(bookingId);
        Slot storage s = _slots[b.slot];
        if (b.booker != msg.sender && !_actsFor(msg.sender, s.site)) revert NotBooker(msg.sender, bookingId);
        // Effects, then the ledger (checks-effects-interactions); this order is also the cheapest.
        emit BookingCancelled(bookingId, msg.sender);
        b.status = BookingStatus.Cancelled;
        s.booked -= 1;
        ledger.unreserve(s.site, s.vaccineType);
    }

    /// @notice Marks a booking missed once its slot is over, freeing its dose. Only the slot's clinic.
    function markMissed(uint64 bookingId) external {
        Booking storage b = _requireActive(bookingId);
        Slot storage s = _slots[b.slot];
        _requireSiteStaff(s.site);
        // Missed is marked after the slot's end, in whole minutes: seconds of skew are immaterial.
        // slither-disable-next-line timestamp
        if (block.timestamp < uint256(s.start) + s.duration) revert SlotNotOver(b.slot);
        b.status = BookingStatus.Missed;
        emit BookingMissed(bookingId);
        ledger.unreserve(s.site, s.vaccineType);
    }

    /// @inheritdoc IAppointments
    /// @dev Only the ledger, while recording the dose; the ledger consumes the reservation.
    function complete(uint64 bookingId, uint32 site) external returns (bytes8 vaccineType) {
        if (msg.sender != address(ledger)) revert OnlyLedger(msg.sender);
        Booking storage b = _requireActive(bookingId);
        Slot storage s = _slots[b.slot];
        if (s.site != site) revert BookedAtOtherSite(bookingId, s.site);
        b.status = BookingStatus.Completed;
        emit BookingCompleted(bookingId);
        return s.vaccineType;
    }

    /// @notice A slot's site, vaccine, time, capacity and bookings.
    function slot(uint32 id) external view returns (Slot memory) {
        return _slots[id];
    }

    /// @notice A booking's booker, slot and status.
    function booking(uint64 id) external view returns (Booking memory) {
        return _bookings[id];
    }

    /// @dev True when `account` is clinic staff of `site`; false (not a revert) for anyone else.
    function _actsFor(address account, uint32 site) internal view returns (bool) {
        try ledger.custodianFacility(account) returns (uint32 facility, FacilityRegistry.FacilityKind kind) {
            // A slot's site is always a clinic, so the kind is implied today; checked so that
            // this stays true of the code and not only of how slots happen to be made.
            return facility == site && kind == FacilityRegistry.FacilityKind.Clinic;
        } catch {
            return false;
        }
    }

    function _clinicOf(address account) internal view returns (uint32 site) {
        FacilityRegistry.FacilityKind kind;
        (site, kind) = ledger.custodianFacility(account);
        if (kind != FacilityRegistry.FacilityKind.Clinic) revert NotAClinic(site);
    }

    function _requireSiteStaff(uint32 site) internal view {
        if (_clinicOf(msg.sender) != site) revert WrongSite(msg.sender, site);
    }

    function _requireSlot(uint32 id) internal view returns (Slot storage s) {
        s = _slots[id];
        if (s.site == 0) revert UnknownSlot(id);
    }

    function _requireActive(uint64 id) internal view returns (Booking storage b) {
        b = _bookings[id];
        if (b.status != BookingStatus.Booked) {
            if (b.status == BookingStatus.None) revert UnknownBooking(id);
            revert BookingNotActive(id, b.status);
        }
    }
}
