// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice What the ledger asks of the appointments contract when a booked dose is given.
interface IAppointments {
    /// @notice Marks `bookingId` completed by a dose given at `site`; returns the booked vaccine type.
    function complete(uint64 bookingId, uint32 site) external returns (bytes8 vaccineType);
}
