// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {FacilityRegistry} from "../supply/FacilityRegistry.sol";

/// @notice What the appointments contract asks of the ledger: who acts for a site,
/// and holding back a dose of a site's stock for each booking.
interface IStockReservations {
    function custodianFacility(address account) external view returns (uint32, FacilityRegistry.FacilityKind);
    function reserve(uint32 site, bytes8 vaccineType) external;
    function unreserve(uint32 site, bytes8 vaccineType) external;
}
