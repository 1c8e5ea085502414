// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {FacilityRegistry} from "../supply/FacilityRegistry.sol";

/// @notice What the cold-chain log asks of the ledger: who holds a role, what a piece of
/// equipment is, and quarantine on an excursion (the ledger checks the lists exactly).
interface ILedgerQuarantine {
    function hasRole(bytes32 role, address account) external view returns (bool);
    function equipment(uint32 id) external view returns (FacilityRegistry.Equipment memory);
    function quarantineStock(uint32 equipment, uint32[] calldata lots, bytes32 excursionRef) external;
    function quarantineShipments(uint32 vehicle, uint64[] calldata shipments, bytes32 excursionRef) external;
    function endExcursion(uint32 equipment, bytes32 excursionRef) external;
}
