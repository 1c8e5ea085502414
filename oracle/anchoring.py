"""Readings to chain: every equipment's readings, batched and anchored by Merkle root.

A batch is cut when an equipment has `max_readings` waiting or its oldest has
waited `every_ms`. The batch id is derived from the content (equipment and
root), and the batch is recorded in the store — its readings marked — before
anything is sent. Whatever happens next (a crash, a timeout, a node that took
the transaction and lost the answer), the next pass asks the chain whether that
id is anchored before sending, and the contract refuses an id twice: a batch is
on chain once or not yet, never twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from chain.client import read
from chain.errors import ChainRevert
from chain.sender import DEFAULT_MAX_IN_FLIGHT, TxSender
from oracle import merkle
from oracle.reading import leaf
from oracle.store import Batch, BatchStatus, Store

log = logging.getLogger(__name__)

MAX_BATCH = 5_000
"""A uint32 count and the block gas limit allow more; proofs stay short (13 hashes)."""


def batch_id(equipment: int, root: bytes) -> bytes:
    return Web3.keccak(encode(["string", "uint32", "bytes32"], ["vaxledger.batch", equipment, root]))


def cut_due(store: Store, every_ms: int, max_readings: int, now_ms: int, *, force: bool = False) -> list[Batch]:
    """Cut the batches that are due (all waiting readings with `force`). Local work: the chain may be down."""
    built = []
    for equipment, waiting, oldest in store.unanchored_summary():
        if not (force or waiting >= max_readings or now_ms - oldest >= every_ms):
            continue
        while rows := store.unanchored(equipment, limit=max_readings):
            full = len(rows) >= max_readings
            if not (force or full or now_ms - min(r.received_at for r in rows) >= every_ms):
                break
            root = merkle.root([leaf(r.reading) for r in rows])
            built.append(store.create_batch("0x" + batch_id(equipment, root).hex(), equipment, rows, root))
    return built


@dataclass(frozen=True, slots=True)
class AnchorStats:
    built: int = 0
    sent: int = 0
    found_on_chain: int = 0
    """Batches an earlier attempt had anchored already (after a crash or a lost answer)."""
    gas_used: int = 0
    readings: int = 0


class Anchorer:
    def __init__(
        self,
        store: Store,
        cold_chain: Contract,
        sender: TxSender,
        *,
        every_ms: int = 300_000,
        max_readings: int = 500,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        start_block: int = 0,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        if not 1 <= max_readings <= MAX_BATCH:
            raise ValueError(f"max_readings must be 1..{MAX_BATCH}")
        self.store = store
        self.cold_chain = cold_chain
        self.sender = sender
        self.every_ms = every_ms
        self.max_readings = max_readings
        self.max_in_flight = max_in_flight
        self.start_block = start_block
        self.clock = clock

    def build_due(self, *, force: bool = False) -> list[Batch]:
        return cut_due(self.store, self.every_ms, self.max_readings, self.clock(), force=force)

    def post_pending(self) -> AnchorStats:
        """Send every batch not yet confirmed; ChainUnavailable propagates with the rest left for the next pass."""
        stats = AnchorStats()
        to_send: list[Batch] = []
        for b in self.store.batches(BatchStatus.BUILT) + self.store.batches(BatchStatus.POSTED):
            if read("checking a batch", self.cold_chain.functions.anchored(_b32(b.batch_id)).call):
                self._confirm_found(b)
                stats = _add(stats, found_on_chain=1)
            else:
                to_send.append(b)
        for start in range(0, len(to_send), self.max_in_flight):
            chunk = to_send[start : start + self.max_in_flight]
            pending = []
            for b in chunk:
                try:
                    p = self.sender.submit(self._call(b))
                except ChainRevert as exc:
                    if exc.name != "BatchAlreadyAnchored":
                        raise
                    self._confirm_found(b)
                    stats = _add(stats, found_on_chain=1)
                    continue
                if b.status is BatchStatus.BUILT:
                    self.store.mark_posted(b.batch_id, p.hash)
                pending.append((b, p))
            for b, p in pending:
                receipt = self.sender.wait(p)
                if b.status is BatchStatus.POSTED:
                    self.store.mark_posted(b.batch_id, p.hash)  # a replacement: keep the hash that counts
                self.store.mark_confirmed(b.batch_id, receipt["blockNumber"])
                stats = _add(stats, sent=1, gas_used=receipt["gasUsed"], readings=b.count)
        return stats

    def _call(self, b: Batch):
        return self.cold_chain.functions.anchorBatch(
            _b32(b.batch_id),
            b.equipment,
            b.min_ts_ms,
            b.max_ts_ms,
            b.count,
            b.min_temp_dc,
            b.max_temp_dc,
            b.merkle_root,
        )

    def _confirm_found(self, b: Batch) -> None:
        logs = read(
            "finding a batch's block",
            lambda: self.cold_chain.events.BatchAnchored().get_logs(
                from_block=self.start_block, argument_filters={"batchId": _b32(b.batch_id)}
            ),
        )
        block = logs[0]["blockNumber"] if logs else read("the head", lambda: self.cold_chain.w3.eth.block_number)
        if b.status is BatchStatus.BUILT:
            self.store.mark_posted(b.batch_id, logs[0]["transactionHash"].hex() if logs else "")
        self.store.mark_confirmed(b.batch_id, block)
        log.info("batch %s was already on chain (block %d): not sent again", b.batch_id[:12], block)


def _b32(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id.removeprefix("0x"))


def _add(s: AnchorStats, **inc: int) -> AnchorStats:
    return AnchorStats(**{k: getattr(s, k) + inc.get(k, 0) for k in AnchorStats.__slots__})
