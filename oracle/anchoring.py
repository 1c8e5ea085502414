"""Readings to chain: each equipment's readings batched under a Merkle root, and a district's batches
anchored together as one window.

Batches are cut per equipment (a batch's header says which equipment, when, how many readings and
their extremes), on the district's schedule: every `every_ms` everything waiting is cut at once, and
in between any equipment with `max_readings` waiting (a burst, a logger upload). All batches cut
and not yet anchored go into one window: one transaction, one storage slot, whatever the number of
batches, so a fridge's hourly dozen readings do not each carry a transaction's cost.

Batch and window ids are derived from their content, and both are recorded in the store before
anything is sent. Whatever happens next (a crash, a timeout, a node that took the transaction and
lost the answer), the next pass asks the chain whether the window is anchored before sending, and
the contract refuses a window id twice: a window is on chain once or not yet, never twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from chain.client import read
from chain.errors import ChainRevert
from chain.sender import DEFAULT_MAX_IN_FLIGHT, TxSender
from oracle import merkle
from oracle.reading import keccak256, leaf
from oracle.store import Batch, BatchStatus, Store, Window

log = logging.getLogger(__name__)

MAX_BATCH = 5_000
"""Readings a batch may hold (its proofs stay short: 13 hashes)."""
MAX_WINDOW = 500
"""Batches a window may hold: ~2,500 gas each, far below a block's gas limit."""
HEADER_TYPE = "(bytes32,uint32,uint64,uint64,uint32,int16,int16,bytes32)"
NEXT_WINDOW = "anchoring.next_window_ms"


def batch_id(equipment: int, root: bytes) -> bytes:
    return Web3.keccak(encode(["string", "uint32", "bytes32"], ["vaxledger.batch", equipment, root]))


def window_id(batch_ids: Sequence[str]) -> bytes:
    ids = sorted(_b32(b) for b in batch_ids)
    return Web3.keccak(encode(["string", "bytes32[]"], ["vaxledger.window", ids]))


def header(b: Batch) -> tuple:
    """ColdChainLog.BatchHeader of a batch."""
    return (
        _b32(b.batch_id),
        b.equipment,
        b.min_ts_ms,
        b.max_ts_ms,
        b.count,
        b.min_temp_dc,
        b.max_temp_dc,
        b.merkle_root,
    )


def header_leaf(h: tuple) -> bytes:
    """ColdChainLog.headerLeaf: double hash of the ABI-encoded header, as reading leaves are."""
    return keccak256(keccak256(encode([HEADER_TYPE], [h])))


def headers_root(batches: Sequence[Batch]) -> bytes:
    """The window's root over its batches' headers, in the order of their ids (as the store lists them)."""
    return merkle.root([header_leaf(header(b)) for b in sorted(batches, key=lambda b: b.batch_id)])


def cut(store: Store, max_readings: int, *, everything: bool) -> list[Batch]:
    """Cut every full batch, and with `everything` the rest too. Local work: the chain may be down."""
    built = []
    for equipment, waiting, _ in store.unanchored_summary():
        if not (everything or waiting >= max_readings):
            continue
        while rows := store.unanchored(equipment, limit=max_readings):
            if len(rows) < max_readings and not everything:
                break
            root = merkle.root([leaf(r.reading) for r in rows])
            built.append(store.create_batch("0x" + batch_id(equipment, root).hex(), equipment, rows, root))
    return built


class Batcher:
    """Cuts batches on the district's schedule; the next due time survives restarts (the store's kv)."""

    def __init__(
        self,
        store: Store,
        *,
        every_ms: int,
        max_readings: int,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        if not 1 <= max_readings <= MAX_BATCH:
            raise ValueError(f"max_readings must be 1..{MAX_BATCH}")
        self.store = store
        self.every_ms = every_ms
        self.max_readings = max_readings
        self.clock = clock

    def cut_due(self, *, force: bool = False) -> list[Batch]:
        now = self.clock()
        raw = self.store.get_state(NEXT_WINDOW)
        due = int(raw) if raw is not None else now + self.every_ms
        everything = force or now >= due
        built = cut(self.store, self.max_readings, everything=everything)
        if everything or raw is None:
            self.store.put_state(NEXT_WINDOW, str(now + self.every_ms if everything else due))
        return built


@dataclass(frozen=True, slots=True)
class AnchorStats:
    sent: int = 0
    """Windows sent."""
    found_on_chain: int = 0
    """Windows an earlier attempt had anchored already (after a crash or a lost answer)."""
    gas_used: int = 0
    batches: int = 0
    readings: int = 0


class Anchorer:
    def __init__(
        self,
        store: Store,
        cold_chain: Contract,
        sender: TxSender,
        *,
        max_batches: int = MAX_WINDOW,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        start_block: int = 0,
    ) -> None:
        self.store = store
        self.cold_chain = cold_chain
        self.sender = sender
        self.max_batches = max_batches
        self.max_in_flight = max_in_flight
        self.start_block = start_block

    def form_windows(self) -> list[Window]:
        """Put every batch not yet in a window into windows (recorded before anything is sent)."""
        formed = []
        while batches := self.store.unwindowed(limit=self.max_batches):
            ids = [b.batch_id for b in batches]
            formed.append(self.store.create_window("0x" + window_id(ids).hex(), ids, headers_root(batches)))
        return formed

    def post_pending(self) -> AnchorStats:
        """Send every window not yet confirmed; ChainUnavailable propagates with the rest left for the next pass."""
        self.form_windows()
        stats = AnchorStats()
        to_send: list[Window] = []
        for w in self.store.windows(BatchStatus.BUILT) + self.store.windows(BatchStatus.POSTED):
            if read("checking a window", self.cold_chain.functions.anchored(_b32(w.window_id)).call):
                self._confirm_found(w)
                stats = _add(stats, found_on_chain=1)
            else:
                to_send.append(w)
        for start in range(0, len(to_send), self.max_in_flight):
            pending = []
            for w in to_send[start : start + self.max_in_flight]:
                batches = self.store.batches_of_window(w.window_id)
                try:
                    p = self.sender.submit(self._call(w, batches))
                except ChainRevert as exc:
                    if exc.name != "WindowAlreadyAnchored":
                        raise
                    self._confirm_found(w)
                    stats = _add(stats, found_on_chain=1)
                    continue
                self.store.mark_posted(w.window_id, p.hash)
                pending.append((w, batches, p))
            for w, batches, p in pending:
                receipt = self.sender.wait(p)
                self.store.mark_confirmed(w.window_id, receipt["blockNumber"])
                readings = sum(b.count for b in batches)
                stats = _add(stats, sent=1, gas_used=receipt["gasUsed"], batches=len(batches), readings=readings)
        return stats

    def _call(self, w: Window, batches: Sequence[Batch]):
        return self.cold_chain.functions.anchorWindow(_b32(w.window_id), [header(b) for b in batches])

    def _confirm_found(self, w: Window) -> None:
        logs = read(
            "finding a window's block",
            lambda: self.cold_chain.events.WindowAnchored().get_logs(
                from_block=self.start_block, argument_filters={"windowId": _b32(w.window_id)}
            ),
        )
        block = logs[0]["blockNumber"] if logs else read("the head", lambda: self.cold_chain.w3.eth.block_number)
        if w.status is BatchStatus.BUILT:
            self.store.mark_posted(w.window_id, logs[0]["transactionHash"].hex() if logs else "")
        self.store.mark_confirmed(w.window_id, block)
        log.info("window %s was already on chain (block %d): not sent again", w.window_id[:12], block)


def _b32(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id.removeprefix("0x"))


def _add(s: AnchorStats, **inc: int) -> AnchorStats:
    return AnchorStats(**{k: getattr(s, k) + inc.get(k, 0) for k in AnchorStats.__slots__})
