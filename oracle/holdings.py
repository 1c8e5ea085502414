"""What a piece of equipment holds at one block: the exact lists an excursion's quarantine needs.

Why exact: the ledger keeps no list of what sits where (one would cost gas on every delivery), only a
count per equipment (`openItems`), and `ColdChainLog.reportExcursion` reverts `QuarantineListMismatch`
unless it is given exactly the live lots (or a vehicle's open shipments), ascending. A list one lot
short does not quarantine less: it quarantines nothing, and warm stock stays usable. The list must
also come from a single block, because deliveries keep landing while the oracle decides.

Why not simply read everything: the exact brute-force answer reads every lot (or shipment) the
district ever had, a cost that grows for years. Stock enters storage only through `LotRegistered`,
`ShipmentReceived` and `Moved`, and a shipment enters a vehicle only through `Shipped`, so an
incremental scan of those logs names the few items that could be in a given piece of equipment.
Each candidate is checked at the pinned block in one JSON-RPC batch, and the number found must equal
the ledger's own count at that block: found ⊆ live and |live| = openItems, so equal counts mean equal
sets. The index is only a hint; the chain stays the judge. When the counts differ (history before
`start_block`, a reorg, a bug) the full scan runs at the same block, with a warning, and what it
finds goes back into the index.

Why the candidate lists stay short as the chain ages: a shipment leaves its vehicle's list at the
block its receipt or refusal is logged (ids are never reused), and a lot found absent at block B,
with no entry logged after B, is skipped from B on until an entry event brings it back. A query
pinned to an older block still checks everything that might have been there then.

The index is in memory, rebuilt from `start_block` (the manifest's deployment block) after a restart;
`sync()` at start-up keeps that first scan off an excursion's critical path. One lock guards the index;
a query's state reads run outside it. A node that does not answer raises `ChainUnavailable`, and a
chunk of logs is applied whole or not at all, so the next call resumes where the index stopped.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3RPCError

from chain.client import read
from chain.enums import EquipmentKind
from chain.errors import ChainUnavailable

log = logging.getLogger(__name__)

DEFAULT_CHUNK_BLOCKS = 2_000
DEFAULT_BATCH_SIZE = 500
"""Calls per JSON-RPC batch; Besu's default limit is 1,024 (--rpc-http-max-batch-size)."""

_EVENTS = ("LotRegistered", "ShipmentReceived", "Moved", "Shipped", "ShipmentRefused")
_VIEWS = ("equipment", "stockOf", "shipment", "lotCount", "shipmentCount")

# Field positions in the ledger's structs (Custody.Stock, Custody.Shipment).
_STOCK_FACILITY = 2
_SHIP_LOT, _SHIP_VEHICLE = 0, 3


class EquipmentState(NamedTuple):
    facility: int
    kind: EquipmentKind
    active: bool
    under_excursion: bool
    open_items: int


@dataclass
class HoldingsStats:
    """What the chain was asked, for tests and metrics."""

    log_requests: int = 0
    """eth_getLogs requests."""
    log_ranges: deque[tuple[int, int]] = field(default_factory=lambda: deque(maxlen=1_000))
    """(fromBlock, toBlock) of the latest eth_getLogs requests, in order."""
    state_reads: int = 0
    """Contract reads (each call in a batch counts)."""
    batches: int = 0
    """JSON-RPC batch requests that were answered."""
    full_scans: int = 0
    """Queries that fell back to reading every lot or shipment."""


@dataclass(slots=True)
class _Entry:
    """One item (a lot in storage, a shipment in a vehicle) that entered a holder at least once."""

    first: int
    """Block of the first entry logged (0: unknown, seen only by a full scan)."""
    last: int
    """Block of the latest entry logged (or an upper bound)."""
    absent_from: int | None = None
    """Known absent from this block through the scanned head, until an entry is logged again."""

    def candidate_at(self, block: int) -> bool:
        return self.first <= block and (self.absent_from is None or self.absent_from > block)

    def mark_absent(self, block: int) -> None:
        self.absent_from = block if self.absent_from is None else min(self.absent_from, block)


class _Index:
    """holder (equipment id) -> item (lot or shipment id) -> _Entry."""

    def __init__(self) -> None:
        self.holders: dict[int, dict[int, _Entry]] = {}

    def enter(self, holder: int, item: int, block: int) -> None:
        items = self.holders.setdefault(holder, {})
        entry = items.get(item)
        if entry is None:
            items[item] = _Entry(first=block, last=block)
        else:
            entry.first = min(entry.first, block)
            entry.last = max(entry.last, block)
            entry.absent_from = None

    def seen(self, holder: int, item: int, head: int) -> None:
        """`item` was found in `holder` by a full scan; when it entered is unknown. first=0 keeps it a
        candidate for any older block; last at the scanned head lets only a later check mark it absent."""
        entry = self.holders.setdefault(holder, {}).setdefault(item, _Entry(first=0, last=head))
        entry.first = 0
        entry.last = max(entry.last, head)
        entry.absent_from = None

    def candidates(self, holder: int, block: int) -> list[int]:
        return sorted(item for item, e in self.holders.get(holder, {}).items() if e.candidate_at(block))

    def absent(self, holder: int, item: int, block: int) -> None:
        """`item` is not in `holder` at `block`; it stays out through the scanned head unless it entered after."""
        entry = self.holders.get(holder, {}).get(item)
        if entry is not None and entry.last <= block:
            entry.mark_absent(block)

    def clear(self) -> None:
        self.holders.clear()


@dataclass(frozen=True, slots=True)
class _View:
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


class Holdings:
    """Exact quarantine lists for the ledger, from an incremental log index checked against the chain.

    `start_block`: the ledger's deployment block (the first block that can hold its events).
    `chunk_blocks`: blocks per eth_getLogs request. `batch_size`: calls per JSON-RPC batch."""

    def __init__(
        self,
        w3: Web3,
        ledger: Contract,
        start_block: int = 0,
        *,
        chunk_blocks: int = DEFAULT_CHUNK_BLOCKS,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if start_block < 0:
            raise ValueError("start_block must be at least 0")
        if chunk_blocks < 1 or batch_size < 1:
            raise ValueError("chunk_blocks and batch_size must be at least 1")
        self.w3 = w3
        self.ledger = ledger
        self.address = Web3.to_checksum_address(ledger.address)
        self.start_block = start_block
        self.chunk_blocks = chunk_blocks
        self.batch_size = batch_size
        self.stats = HoldingsStats()
        self._events = {self._topic(name): getattr(ledger.events, name)() for name in _EVENTS}
        self._views = {name: self._view(name) for name in _VIEWS}
        self._lock = threading.Lock()  # the index and the scanned head
        self._stats_lock = threading.Lock()
        self._scanned = start_block - 1
        self._stock = _Index()  # storage equipment -> lots
        self._loads = _Index()  # vehicle -> shipments
        self._in_transit: dict[int, tuple[int, int]] = {}  # open shipment -> (lot, vehicle)
        self._batching = True

    # ---- public -----------------------------------------------------------------------------

    @property
    def scanned_block(self) -> int:
        """The last block whose logs are in the index (start_block - 1 before the first scan)."""
        with self._lock:
            return self._scanned

    def sync(self, block: int | None = None) -> int:
        """Brings the index up to `block` (default: the node's head) and returns it; queries do this themselves."""
        pinned = self._pin(block)
        self._scan_to(pinned)
        return pinned

    def lots_in(self, equipment: int, block: int | None = None) -> list[int]:
        """Every lot with stock in storage `equipment` at `block` (default: the head), ascending."""
        pinned = self._pin(block)
        state = self._equipment_at(equipment, pinned)
        if state.kind == EquipmentKind.VEHICLE:
            raise ValueError(f"equipment {equipment} is a vehicle: it carries shipments (open_shipments)")
        return self._holdings(equipment, state.open_items, pinned, vehicle=False)

    def open_shipments(self, vehicle: int, block: int | None = None) -> list[int]:
        """Every open shipment carried by `vehicle` at `block` (default: the head), ascending."""
        pinned = self._pin(block)
        state = self._equipment_at(vehicle, pinned)
        if state.kind != EquipmentKind.VEHICLE:
            raise ValueError(f"equipment {vehicle} is a {state.kind.name.lower()}, not a vehicle (lots_in)")
        return self._holdings(vehicle, state.open_items, pinned, vehicle=True)

    def quarantine_args(self, equipment: int, block: int | None = None) -> tuple[list[int], list[int]]:
        """(lots, shipments) for `ColdChainLog.reportExcursion`: (lots, []) for storage, ([], shipments)
        for a vehicle, both as of one block."""
        pinned = self._pin(block)
        state = self._equipment_at(equipment, pinned)
        if state.kind == EquipmentKind.VEHICLE:
            return [], self._holdings(equipment, state.open_items, pinned, vehicle=True)
        return self._holdings(equipment, state.open_items, pinned, vehicle=False), []

    def equipment(self, equipment: int, block: int | None = None) -> EquipmentState:
        """The ledger's record of `equipment` at `block` (default: the head); ValueError when there is none."""
        return self._equipment_at(equipment, self._pin(block))

    # ---- a query ----------------------------------------------------------------------------

    def _equipment_at(self, equipment: int, block: int) -> EquipmentState:
        (raw,) = self._read([("equipment", (equipment,))], block)
        facility, kind, active, under_excursion, open_items = raw
        if kind == EquipmentKind.NONE:
            raise ValueError(f"no equipment {equipment} on the ledger at block {block}")
        return EquipmentState(facility, EquipmentKind(kind), active, under_excursion, open_items)

    def _holdings(self, holder: int, expected: int, block: int, *, vehicle: bool) -> list[int]:
        if expected == 0:
            return []  # the ledger's own count at this block: nothing to find
        self._scan_to(block)
        index = self._loads if vehicle else self._stock
        with self._lock:
            candidates = index.candidates(holder, block)
        present = self._present(holder, candidates, block, vehicle=vehicle)
        with self._lock:
            for item, here in zip(candidates, present, strict=True):
                if not here:
                    index.absent(holder, item, block)
        found = [item for item, here in zip(candidates, present, strict=True) if here]
        if len(found) == expected:
            return found

        what = "vehicle" if vehicle else "equipment"
        log.warning(
            "holdings index has %d of the %d items the ledger counts in %s %d at block %d; scanning every %s",
            len(found),
            expected,
            what,
            holder,
            block,
            "shipment" if vehicle else "lot",
        )
        full = self._full_scan(holder, block, vehicle=vehicle)
        if len(full) != expected:  # the chain disagrees with itself at one block: say so, do not guess
            log.error(
                "full scan of %s %d at block %d found %d items; the ledger counts %d",
                what,
                holder,
                block,
                len(full),
                expected,
            )
        with self._lock:
            for item in full:
                index.seen(holder, item, self._scanned)
        return full

    def _present(self, holder: int, items: Sequence[int], block: int, *, vehicle: bool) -> list[bool]:
        if vehicle:
            rows = self._read([("shipment", (s,)) for s in items], block)
            return [row[_SHIP_LOT] != 0 and row[_SHIP_VEHICLE] == holder for row in rows]
        rows = self._read([("stockOf", (lot, holder)) for lot in items], block)
        # An entry exists while available + quarantined > 0 and is deleted at zero; `facility` is set
        # exactly while it exists, and is what the ledger's quarantine checks (NotHeld).
        return [row[_STOCK_FACILITY] != 0 for row in rows]

    def _full_scan(self, holder: int, block: int, *, vehicle: bool) -> list[int]:
        with self._stats_lock:
            self.stats.full_scans += 1
        (count,) = self._read([("shipmentCount" if vehicle else "lotCount", ())], block)
        ids = list(range(1, count + 1))
        present = self._present(holder, ids, block, vehicle=vehicle)
        return [item for item, here in zip(ids, present, strict=True) if here]

    def _pin(self, block: int | None) -> int:
        head = read("reading the head block", lambda: self.w3.eth.block_number)
        if block is None:
            return head
        if not 0 <= block <= head:
            raise ValueError(f"block {block} is not between 0 and the head, {head}")
        return block

    # ---- the log index ------------------------------------------------------------------------

    def _scan_to(self, block: int) -> None:
        with self._lock:
            while self._scanned < block:
                lo = self._scanned + 1
                hi = min(block, lo + self.chunk_blocks - 1)
                ops = self._decode(self._fetch(lo, hi))
                for op in ops:  # nothing below can fail: a chunk is applied whole or not at all
                    op[0](*op[1:])
                self._scanned = hi

    def _fetch(self, lo: int, hi: int) -> list[Any]:
        topics = ["0x" + topic.hex() for topic in self._events]
        params = {"address": self.address, "fromBlock": lo, "toBlock": hi, "topics": [topics]}
        with self._stats_lock:
            self.stats.log_requests += 1
            self.stats.log_ranges.append((lo, hi))
        try:
            return list(read(f"reading logs of blocks {lo}..{hi}", lambda: self.w3.eth.get_logs(params)))
        except Web3RPCError:
            if lo == hi:
                raise
            # Nodes cap a response (results or range); halve rather than give up.
            mid = (lo + hi) // 2
            return self._fetch(lo, mid) + self._fetch(mid + 1, hi)

    def _decode(self, logs: Iterable[Any]) -> list[tuple[Any, ...]]:
        """The index changes the logs imply, in log order, computed before any is made."""
        ops: list[tuple[Any, ...]] = []
        shipped: dict[int, tuple[int, int]] = {}  # shipments loaded in this chunk
        for raw in logs:
            event = self._events.get(bytes(raw["topics"][0]))
            if event is None:
                continue
            args = event.process_log(raw)["args"]
            block = int(raw["blockNumber"])
            name = event.event_name
            if name == "LotRegistered":
                ops.append((self._stock.enter, args["equipment"], args["lot"], block))
            elif name == "Moved":
                ops.append((self._stock.enter, args["toEquipment"], args["lot"], block))
            elif name == "Shipped":
                shipped[args["shipment"]] = (args["lot"], args["vehicle"])
                ops.append((self._in_transit.__setitem__, args["shipment"], (args["lot"], args["vehicle"])))
                ops.append((self._loads.enter, args["vehicle"], args["shipment"], block))
            else:  # ShipmentReceived / ShipmentRefused: the shipment closes
                shipment = args["shipment"]
                known = shipped.get(shipment) or self._in_transit.get(shipment) or self._loaded_before(shipment, block)
                if known is None:
                    continue
                lot, vehicle = known
                if name == "ShipmentReceived":
                    ops.append((self._stock.enter, args["equipment"], lot, block))
                ops.append((self._closed, shipment, vehicle, block))
        return ops

    def _closed(self, shipment: int, vehicle: int, block: int) -> None:
        self._in_transit.pop(shipment, None)
        entry = self._loads.holders.get(vehicle, {}).get(shipment)
        if entry is not None:
            entry.mark_absent(block)  # a closed shipment is deleted and its id never reused

    def _loaded_before(self, shipment: int, block: int) -> tuple[int, int] | None:
        """A shipment loaded before the index's first block: its (lot, vehicle) from the state before it closed."""
        try:
            (row,) = self._read([("shipment", (shipment,))], block - 1)
        except ChainUnavailable:
            raise
        except Exception as exc:  # state that old may be pruned; the count check then falls back
            log.warning("cannot read shipment %d at block %d (%s); its lot is not indexed", shipment, block - 1, exc)
            return None
        if row[_SHIP_LOT] == 0:
            log.warning("shipment %d closed at block %d was not open before it; not indexed", shipment, block)
            return None
        return row[_SHIP_LOT], row[_SHIP_VEHICLE]

    # ---- chain reads --------------------------------------------------------------------------

    def _read(self, calls: Sequence[tuple[str, tuple[Any, ...]]], block: int) -> list[Any]:
        """Each (view, args) at `block`, decoded; batched `batch_size` at a time where the node allows."""
        results: list[Any] = []
        for start in range(0, len(calls), self.batch_size):
            chunk = [self._tx(name, args) for name, args in calls[start : start + self.batch_size]]
            raws = self._batch(chunk, block) if self._batching and len(chunk) > 1 else None
            if raws is None:
                raws = [read("reading the ledger", lambda tx=tx: self.w3.eth.call(tx, block)) for tx in chunk]
                if self._batching and len(chunk) > 1:
                    self._batching = False
                    log.warning("the node refused a JSON-RPC batch; reading one call at a time from now on")
            with self._stats_lock:
                self.stats.state_reads += len(chunk)
            for (name, _), raw in zip(calls[start : start + self.batch_size], raws, strict=True):
                if not raw:  # no code at the address at that block: not an answer to decode as zeros
                    raise ValueError(f"no ledger at {self.address} at block {block}")
                results.append(self.w3.codec.decode(self._views[name].outputs, bytes(raw))[0])
        return results

    def _batch(self, txs: list[dict[str, Any]], block: int) -> list[Any] | None:
        """One batch request, or None when it failed: the caller retries call by call, and their
        errors (a node that is down, state that is gone) are the ones that count."""
        try:
            with self.w3.batch_requests() as batch:
                for tx in txs:
                    batch.add(self.w3.eth.call(tx, block))
                raws = batch.execute()
        except Exception as exc:
            log.debug("batch of %d calls failed: %s", len(txs), exc)
            return None
        if len(raws) != len(txs):
            return None
        with self._stats_lock:
            self.stats.batches += 1
        return list(raws)

    def _tx(self, name: str, args: tuple[Any, ...]) -> dict[str, Any]:
        view = self._views[name]
        return {"to": self.address, "data": "0x" + (view.selector + self.w3.codec.encode(view.inputs, args)).hex()}

    def _topic(self, name: str) -> bytes:
        return bytes.fromhex(getattr(self.ledger.events, name)().topic.removeprefix("0x"))

    def _view(self, name: str) -> _View:
        matches = [e for e in self.ledger.abi if e.get("type") == "function" and e.get("name") == name]
        if len(matches) != 1:
            raise ValueError(f"the ledger's ABI has {len(matches)} functions named {name!r}, expected one")
        abi = matches[0]
        return _View(
            selector=function_abi_to_4byte_selector(abi),
            inputs=tuple(get_abi_input_types(abi)),
            outputs=tuple(get_abi_output_types(abi)),
        )
