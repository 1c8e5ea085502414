// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILedgerQuarantine} from "./interfaces/ILedgerQuarantine.sol";
import {FacilityRegistry} from "./supply/FacilityRegistry.sol";

/// @title ColdChainLog
/// @notice Cold-chain evidence on chain: Merkle roots of batches of sensor readings, and
/// temperature excursions, each of which quarantines the equipment's stock on the ledger at once.
/// @dev Roles are the ledger's: every write needs the ledger's ORACLE_ROLE, and this contract
/// holds that role itself to quarantine and end excursions. Only what a later check needs is
/// stored (a batch's root; an excursion's equipment, state and start); the rest is in events.
/// A reading's leaf is keccak256(bytes.concat(keccak256(abi.encode(uint32 equipment,
/// bytes32 deviceKey, uint64 seq, uint64 tsMs, int16 tempDc)))), as oracle/reading.py builds it.
contract ColdChainLog {
    /// @dev The same role id as the ledger's {VaxRoles-ORACLE_ROLE}.
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    enum ExcursionState {
        None,
        Open,
        Closed
    }

    /// @dev One slot.
    struct Excursion {
        uint32 equipment;
        ExcursionState state;
        uint64 startedAtMs;
    }

    /// @notice The ledger whose roles, equipment and quarantine this log uses.
    ILedgerQuarantine public immutable ledger;

    mapping(bytes32 batchId => bytes32 merkleRoot) public batchRoot;
    mapping(bytes32 excursionId => Excursion) internal _excursions;
    /// @notice Excursions of a piece of equipment reported and not yet closed.
    mapping(uint32 equipment => uint32 count) public openExcursions;

    event BatchAnchored(
        bytes32 indexed batchId,
        uint32 indexed equipment,
        uint64 firstTsMs,
        uint64 lastTsMs,
        uint32 count,
        int16 minTempDc,
        int16 maxTempDc,
        bytes32 merkleRoot
    );
    event ExcursionReported(
        bytes32 indexed excursionId, uint32 indexed equipment, uint8 kind, uint8 severity, uint64 startedAtMs
    );
    /// @param ledgerExcursionEnded Whether this was the equipment's last open excursion and the
    /// ledger's excursion was ended with it.
    event ExcursionClosed(
        bytes32 indexed excursionId,
        uint32 indexed equipment,
        uint64 endedAtMs,
        int16 minTempDc,
        int16 maxTempDc,
        bool ledgerExcursionEnded
    );

    error ZeroAddress();
    /// @notice The caller does not hold the ledger's ORACLE_ROLE.
    error NotOracle(address account);
    error BatchAlreadyAnchored(bytes32 batchId);
    error ZeroMerkleRoot();
    error EmptyBatch();
    error TimesOutOfOrder(uint64 first, uint64 last);
    error TemperaturesOutOfOrder(int16 min, int16 max);
    error UnknownEquipment(uint32 equipment);
    error ZeroExcursionId();
    error InvalidExcursionKind();
    error InvalidSeverity();
    error ExcursionAlreadyReported(bytes32 excursionId);
    error ExcursionNotOpen(bytes32 excursionId);

    modifier onlyOracle() {
        if (!ledger.hasRole(ORACLE_ROLE, msg.sender)) revert NotOracle(msg.sender);
        _;
    }

    constructor(address ledger_) {
        if (ledger_ == address(0)) revert ZeroAddress();
        ledger = ILedgerQuarantine(ledger_);
    }

    /// @notice Anchors the Merkle root of a batch of readings from one piece of equipment.
    /// A batch id is anchored once: a sender unsure whether its transaction went through
    /// checks {anchored} before sending again. Only the oracle.
    /// @param batchId The oracle's id of the batch.
    /// @param equipment The ledger's id of the equipment the readings come from.
    /// @param firstTsMs Time of the earliest reading, ms since the Unix epoch.
    /// @param lastTsMs Time of the latest reading.
    /// @param count Number of readings (leaves).
    /// @param minTempDc Lowest temperature in the batch, tenths of a degree Celsius.
    /// @param maxTempDc Highest temperature in the batch.
    /// @param merkleRoot Root over the readings' leaves, sorted-pair hashing (OpenZeppelin {MerkleProof}).
    function anchorBatch(
        bytes32 batchId,
        uint32 equipment,
        uint64 firstTsMs,
        uint64 lastTsMs,
        uint32 count,
        int16 minTempDc,
        int16 maxTempDc,
        bytes32 merkleRoot
    ) external onlyOracle {
        if (batchRoot[batchId] != bytes32(0)) revert BatchAlreadyAnchored(batchId);
        if (merkleRoot == bytes32(0)) revert ZeroMerkleRoot();
        if (count == 0) revert EmptyBatch();
        if (firstTsMs > lastTsMs) revert TimesOutOfOrder(firstTsMs, lastTsMs);
        if (minTempDc > maxTempDc) revert TemperaturesOutOfOrder(minTempDc, maxTempDc);
        _equipmentKind(equipment);
        batchRoot[batchId] = merkleRoot;
        emit BatchAnchored(batchId, equipment, firstTsMs, lastTsMs, count, minTempDc, maxTempDc, merkleRoot);
    }

    /// @notice Whether `batchId` has been anchored.
    function anchored(bytes32 batchId) external view returns (bool) {
        return batchRoot[batchId] != bytes32(0);
    }

    /// @notice Whether `leaf` is one of the readings of an anchored batch.
    /// @param batchId The batch.
    /// @param leaf The reading's double-hashed leaf.
    /// @param proof Sibling hashes from the leaf up to the root.
    /// @return False for a batch never anchored.
    function verifyReading(bytes32 batchId, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        bytes32 root = batchRoot[batchId];
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice Records an excursion and quarantines through the ledger at once: all stock in
    /// storage equipment, or every open shipment in a vehicle. Only the oracle.
    /// @param excursionId The oracle's id of the excursion; also the ledger's excursion reference.
    /// @param equipment The equipment the excursion happened in.
    /// @param kind What went wrong (oracle's code; 0 is none).
    /// @param severity How bad (oracle's code; 0 is none).
    /// @param startedAtMs When the excursion began, ms since the Unix epoch.
    /// @param lots For storage: every lot with stock in it, ascending (the ledger checks the list).
    /// @param shipments For a vehicle: every open shipment in it, ascending (the ledger checks the list).
    function reportExcursion(
        bytes32 excursionId,
        uint32 equipment,
        uint8 kind,
        uint8 severity,
        uint64 startedAtMs,
        uint32[] calldata lots,
        uint64[] calldata shipments
    ) external onlyOracle {
        if (excursionId == bytes32(0)) revert ZeroExcursionId();
        if (kind == 0) revert InvalidExcursionKind();
        if (severity == 0) revert InvalidSeverity();
        if (_excursions[excursionId].state != ExcursionState.None) revert ExcursionAlreadyReported(excursionId);
        FacilityRegistry.EquipmentKind equipmentKind = _equipmentKind(equipment);

        _excursions[excursionId] = Excursion(equipment, ExcursionState.Open, startedAtMs);
        openExcursions[equipment] += 1;
        emit ExcursionReported(excursionId, equipment, kind, severity, startedAtMs);

        if (equipmentKind == FacilityRegistry.EquipmentKind.Vehicle) {
            ledger.quarantineShipments(equipment, shipments, excursionId);
        } else {
            ledger.quarantineStock(equipment, lots, excursionId);
        }
    }

    /// @notice Closes an excursion once the temperature is back in range. When it was the
    /// equipment's last open one, ends the ledger's excursion so the equipment takes stock
    /// again (unless the CDC or regulator already ended it); quarantined stock stays
    /// quarantined until released. Only the oracle.
    /// @param excursionId The excursion.
    /// @param endedAtMs When it ended, ms since the Unix epoch; not before it started.
    /// @param minTempDc Lowest temperature during the excursion, tenths of a degree Celsius.
    /// @param maxTempDc Highest temperature during the excursion.
    function closeExcursion(bytes32 excursionId, uint64 endedAtMs, int16 minTempDc, int16 maxTempDc)
        external
        onlyOracle
    {
        Excursion storage x = _excursions[excursionId];
        if (x.state != ExcursionState.Open) revert ExcursionNotOpen(excursionId);
        if (endedAtMs < x.startedAtMs) revert TimesOutOfOrder(x.startedAtMs, endedAtMs);
        if (minTempDc > maxTempDc) revert TemperaturesOutOfOrder(minTempDc, maxTempDc);
        uint32 equipment = x.equipment;

        x.state = ExcursionState.Closed;
        uint32 stillOpen = --openExcursions[equipment];
        bool end = stillOpen == 0 && ledger.equipment(equipment).underExcursion;
        emit ExcursionClosed(excursionId, equipment, endedAtMs, minTempDc, maxTempDc, end);

        if (end) ledger.endExcursion(equipment, excursionId);
    }

    /// @notice An excursion's equipment, state and start time.
    function excursion(bytes32 excursionId) external view returns (Excursion memory) {
        return _excursions[excursionId];
    }

    function _equipmentKind(uint32 equipment) private view returns (FacilityRegistry.EquipmentKind kind) {
        kind = ledger.equipment(equipment).kind;
        if (kind == FacilityRegistry.EquipmentKind.None) revert UnknownEquipment(equipment);
    }
}
