// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ILedgerQuarantine} from "./interfaces/ILedgerQuarantine.sol";
import {FacilityRegistry} from "./supply/FacilityRegistry.sol";

/// @title ColdChainLog
/// @notice Cold-chain evidence on chain: sensor readings anchored in windows of batches, and
/// temperature excursions, each of which quarantines the equipment's stock on the ledger at once.
/// @dev Roles are the ledger's: every write needs the ledger's ORACLE_ROLE, and this contract
/// holds that role itself to quarantine and end excursions. Only what a later check needs is
/// stored (a window's root; an excursion's equipment, state and start); the rest is in events
/// and in the transactions' input.
///
/// Readings: the oracle cuts each equipment's readings into a batch under a Merkle root, and
/// anchors all of a district's batches of an hour together as one window: one transaction and one
/// storage slot for the whole window, no per-batch storage or event. A batch costing its own
/// transaction and slot (~59,500 gas) would cost ~5,000 gas a reading for a fridge's hourly dozen;
/// in a window a batch costs its calldata and a few hashes. The contract computes the window's
/// root over the batches' headers itself, so the headers it checked are the ones anchored; the
/// headers stay readable by anyone in the transaction's input.
///
/// A reading's leaf is keccak256(bytes.concat(keccak256(abi.encode(uint32 equipment,
/// bytes32 deviceKey, uint64 seq, uint64 tsMs, int16 tempDc)))), as oracle/reading.py builds it;
/// a header's leaf is built the same way from the ABI-encoded {BatchHeader} ({headerLeaf}).
/// Both trees are oracle/merkle.py's: leaves in the given order, neighbours paired level by
/// level with OpenZeppelin's commutative hash, an odd node at the end of a level carried up
/// unchanged, a single leaf its own root. OpenZeppelin's {MerkleProof} verifies their proofs.
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

    /// @notice One equipment's readings in a window: what is on chain per batch.
    /// @dev Not stored: a header is hashed into its window's root, and stays in the transaction's input.
    struct BatchHeader {
        bytes32 batchId; // the oracle's id of the batch
        uint32 equipment; // the ledger's id of the equipment (the oracle's word: not looked up)
        uint64 firstTsMs; // time of the earliest reading, ms since the Unix epoch
        uint64 lastTsMs; // time of the latest reading
        uint32 count; // number of readings (leaves)
        int16 minTempDc; // lowest temperature, tenths of a degree Celsius
        int16 maxTempDc; // highest temperature
        bytes32 merkleRoot; // root over the batch's reading leaves
    }

    /// @notice The ledger whose roles, equipment and quarantine this log uses.
    ILedgerQuarantine public immutable ledger;

    /// @notice The root over an anchored window's batch headers; zero for a window never anchored.
    mapping(bytes32 windowId => bytes32 headersRoot) public windowRoot;
    mapping(bytes32 excursionId => Excursion) internal _excursions;
    /// @notice Excursions of a piece of equipment reported and not yet closed.
    mapping(uint32 equipment => uint32 count) public openExcursions;

    /// @param batches How many batch headers the window holds (they are in the transaction's input).
    event WindowAnchored(bytes32 indexed windowId, uint32 batches, bytes32 headersRoot);
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
    error ZeroWindowId();
    error WindowAlreadyAnchored(bytes32 windowId);
    error EmptyWindow();
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

    /// @notice Anchors a window: the headers of many batches of readings (typically every
    /// equipment of a district over an hour) under one root, computed here from the headers'
    /// leaves ({headerLeaf}) in the order given. A window id is anchored once: a sender unsure
    /// whether its transaction went through checks {anchored} before sending again. Only the oracle.
    /// @dev Each header's values are checked (nonzero root and count, times and temperatures in
    /// order); its equipment is not looked up in the ledger (a cold call per batch would cost more
    /// than the batch): the oracle is trusted for it, as for the readings themselves. Nothing is
    /// stored per batch, so batch ids are not checked for uniqueness, within a window or across.
    /// @param windowId The oracle's id of the window; nonzero.
    /// @param batches The batches' headers, at least one.
    /// @return headersRoot The window's root, as stored in {windowRoot}.
    function anchorWindow(bytes32 windowId, BatchHeader[] calldata batches)
        external
        onlyOracle
        returns (bytes32 headersRoot)
    {
        if (windowId == bytes32(0)) revert ZeroWindowId();
        if (windowRoot[windowId] != bytes32(0)) revert WindowAlreadyAnchored(windowId);
        if (batches.length == 0) revert EmptyWindow();
        bool valuesOk;
        (headersRoot, valuesOk) = _headersRoot(batches);
        if (!valuesOk) _refuse(batches);
        windowRoot[windowId] = headersRoot;
        emit WindowAnchored(windowId, uint32(batches.length), headersRoot);
    }

    /// @notice Whether `windowId` has been anchored.
    function anchored(bytes32 windowId) external view returns (bool) {
        return windowRoot[windowId] != bytes32(0);
    }

    /// @notice A batch header's leaf in its window's tree: hashed twice, as reading leaves are, so
    /// a 64-byte inner node can never pass for a leaf.
    /// @return keccak256(bytes.concat(keccak256(abi.encode(header)))).
    function headerLeaf(BatchHeader calldata header) public pure returns (bytes32) {
        return _headerLeaf(header);
    }

    /// @notice Whether `readingLeaf` is one of the readings of a batch anchored in a window.
    /// @param windowId The window.
    /// @param header The batch's header, as anchored.
    /// @param headerProof Sibling hashes from the header's leaf up to the window's root.
    /// @param readingLeaf The reading's double-hashed leaf.
    /// @param readingProof Sibling hashes from the reading's leaf up to `header.merkleRoot`.
    /// @return False for a window never anchored.
    function verifyReading(
        bytes32 windowId,
        BatchHeader calldata header,
        bytes32[] calldata headerProof,
        bytes32 readingLeaf,
        bytes32[] calldata readingProof
    ) external view returns (bool) {
        bytes32 root = windowRoot[windowId];
        return root != bytes32(0) && MerkleProof.verifyCalldata(headerProof, root, headerLeaf(header))
            && MerkleProof.verifyCalldata(readingProof, header.merkleRoot, readingLeaf);
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

    /// @dev The root over the headers' leaves, and whether every header passes {_checkValues}, in
    /// one pass without allocating. A window's gas is mostly its calldata; the same loop in plain
    /// Solidity (calldata-struct reads, abi.encode, bounds checks) cost ~1,470 gas more a batch,
    /// 4,439 against 2,968 with 12 readings a batch on Shanghai.
    /// Each leaf is {_headerLeaf}'s (the same dirty-bits revert included). The tree is
    /// oracle/merkle.py's, built in place: neighbours paired with OpenZeppelin's
    /// Hashes.commutativeKeccak256 (the smaller hash first), an odd node at the end of a level
    /// carried up unchanged, one leaf its own root.
    function _headersRoot(BatchHeader[] calldata batches) private pure returns (bytes32 root, bool valuesOk) {
        // For gas (above); tests/contracts/test_cold_chain_log.py checks it against oracle/merkle.py.
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let n := batches.length
            // Past the free memory pointer, used and left (not allocated): n nodes, then one header.
            let nodes := mload(0x40)
            let buffer := add(nodes, shl(5, n))
            let bad := 0
            let dirty := 0
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let h := add(batches.offset, shl(8, i)) // eight words a header
                let equipment := calldataload(add(h, 0x20))
                let first := calldataload(add(h, 0x40))
                let last := calldataload(add(h, 0x60))
                let count := calldataload(add(h, 0x80))
                let minT := calldataload(add(h, 0xa0))
                let maxT := calldataload(add(h, 0xc0))
                dirty := or(dirty, gt(or(equipment, count), 0xffffffff))
                dirty := or(dirty, gt(or(first, last), 0xffffffffffffffff))
                dirty := or(dirty, or(iszero(eq(minT, signextend(1, minT))), iszero(eq(maxT, signextend(1, maxT)))))
                bad := or(bad, or(iszero(calldataload(add(h, 0xe0))), iszero(count)))
                bad := or(bad, or(gt(first, last), sgt(minT, maxT)))
                calldatacopy(buffer, h, 0x100)
                mstore(0x00, keccak256(buffer, 0x100))
                mstore(add(nodes, shl(5, i)), keccak256(0x00, 0x20))
            }
            if dirty { revert(0, 0) }
            for {} gt(n, 1) {} {
                let pairs := shr(1, n)
                for { let i := 0 } lt(i, pairs) { i := add(i, 1) } {
                    let left := mload(add(nodes, shl(6, i)))
                    let right := mload(add(nodes, add(shl(6, i), 0x20)))
                    switch lt(left, right)
                    case 0 {
                        mstore(0x00, right)
                        mstore(0x20, left)
                    }
                    default {
                        mstore(0x00, left)
                        mstore(0x20, right)
                    }
                    mstore(add(nodes, shl(5, i)), keccak256(0x00, 0x40))
                }
                if and(n, 1) {
                    mstore(add(nodes, shl(5, pairs)), mload(add(nodes, shl(5, sub(n, 1)))))
                    pairs := add(pairs, 1)
                }
                n := pairs
            }
            root := mload(nodes)
            valuesOk := iszero(bad)
        }
    }

    /// @dev Reverts with the named error of the first header whose values are refused.
    function _refuse(BatchHeader[] calldata batches) private pure {
        for (uint256 i; i < batches.length; ++i) {
            _checkValues(batches[i]);
        }
        assert(false); // unreachable: _headersRoot found a header refused
    }

    function _checkValues(BatchHeader calldata h) private pure {
        if (h.merkleRoot == bytes32(0)) revert ZeroMerkleRoot();
        if (h.count == 0) revert EmptyBatch();
        if (h.firstTsMs > h.lastTsMs) revert TimesOutOfOrder(h.firstTsMs, h.lastTsMs);
        if (h.minTempDc > h.maxTempDc) revert TemperaturesOutOfOrder(h.minTempDc, h.maxTempDc);
    }

    /// @dev keccak256(bytes.concat(keccak256(abi.encode(header)))) without allocating memory: a
    /// header is eight static words, so its calldata is its ABI encoding once every narrow field
    /// is checked to be clean (as the ABI decoder would, with the same empty revert).
    function _headerLeaf(BatchHeader calldata header) private pure returns (bytes32 leaf) {
        // For gas (above); tests/contracts/test_cold_chain_log.py checks it against abi.encode.
        // slither-disable-next-line assembly
        assembly ("memory-safe") {
            let dirty := gt(calldataload(add(header, 0x20)), 0xffffffff)
            dirty := or(dirty, gt(calldataload(add(header, 0x40)), 0xffffffffffffffff))
            dirty := or(dirty, gt(calldataload(add(header, 0x60)), 0xffffffffffffffff))
            dirty := or(dirty, gt(calldataload(add(header, 0x80)), 0xffffffff))
            let t := calldataload(add(header, 0xa0))
            dirty := or(dirty, iszero(eq(t, signextend(1, t))))
            t := calldataload(add(header, 0xc0))
            dirty := or(dirty, iszero(eq(t, signextend(1, t))))
            if dirty { revert(0, 0) }
            let buffer := mload(0x40)
            calldatacopy(buffer, header, 0x100)
            mstore(0x00, keccak256(buffer, 0x100))
            leaf := keccak256(0x00, 0x20)
        }
    }

    function _equipmentKind(uint32 equipment) private view returns (FacilityRegistry.EquipmentKind kind) {
        kind = ledger.equipment(equipment).kind;
        if (kind == FacilityRegistry.EquipmentKind.None) revert UnknownEquipment(equipment);
    }
}
