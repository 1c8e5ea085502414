"""The indexer: follows the deployment's events into the database.

- Resumes: the cursor (last block applied, and its hash) is committed with the events it covers, in one
  transaction; after a restart it goes on from there.
- Idempotent per (block, log index): an event already in `chain_events` is never applied again.
- Survives the node going away: a read that fails backs off and retries; nothing is half-applied.
- Refuses to mix deployments: a database indexed for one ledger address (or chain) will not take
  another's events. A block hash that no longer matches the cursor's (a reorganisation deeper than the
  configured confirmations) halts the indexer with a reason shown in /readyz.
- Readers may wait for a block (`wait_for`), which a write uses to read its own effects."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eth_utils import function_abi_to_4byte_selector
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.metrics import Metrics
from backend.db.engine import Database
from backend.db.models import chainview as cv
from backend.indexer.decode import EventDecoder, window_headers
from backend.indexer.projections import ChunkFacts, Projector
from backend.ledger.gateway import Ledger
from chain.client import rpc, rpc_batch

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 10.0
BATCH = 200  # JSON-RPC calls per batch request
COLD_CHAIN_EVENTS = ("WindowAnchored", "ExcursionReported", "ExcursionClosed")
"""Events that change cold-chain summaries: cached answers that include them are keyed by the latest."""


class IndexerHalted(Exception):
    """The indexer cannot go on without an operator (another deployment, a deep reorganisation)."""


class Indexer:
    def __init__(
        self,
        db: Database,
        ledger: Callable[[], Ledger],
        *,
        chunk_blocks: int = 2_000,
        poll_s: float = 0.2,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self._ledger = ledger
        self.chunk_blocks = chunk_blocks
        self.poll_s = poll_s
        self.metrics = metrics
        self.head: int | None = None
        self.halted: str | None = None
        self.last_error: str | None = None
        self._block = -1
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoder: EventDecoder | None = None
        self._projector: Projector | None = None

    # --- the loop ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                advanced = self.step()
                failures = 0
                self.last_error = None
            except IndexerHalted as exc:
                self.halted = str(exc)
                log.error("indexer halted: %s", exc)
                return
            except Exception as exc:  # node down, database busy: retry with backoff
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                delay = min(self.poll_s * 2**failures, MAX_BACKOFF_S)
                log.warning("indexer step failed (%s); retrying in %.1fs", self.last_error, delay)
                self._stop.wait(delay)
                continue
            if not advanced:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def poke(self) -> None:
        """Look at the chain now (a write just landed) rather than at the next poll."""
        self._wake.set()

    @property
    def block(self) -> int:
        return self._block

    def wait_for(self, block: int, timeout: float) -> bool:
        """Blocks until `block` is applied (True) or `timeout` passes (False)."""
        self.poke()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._block < block:
                left = deadline - time.monotonic()
                if left <= 0 or self.halted:
                    return False
                self._cond.wait(left)
        return True

    # --- one chunk --------------------------------------------------------------------------------------

    def step(self) -> int:
        """Applies the next chunk of blocks; returns how many blocks it covered (0: at the head). The chain
        is read with raw JSON-RPC (in batches): this runs after every write, and web3's formatters would
        cost more than the reads."""
        ledger = self._ledger()
        decoder, projector = self._tools(ledger)
        w3 = ledger.w3
        head = int(rpc(w3, "eth_blockNumber"), 16) - ledger.confirmations
        self.head = head
        if self.metrics is not None:
            self.metrics.chain_head.set(head)
        with self.db.session() as s:
            cursor = self._cursor(s, ledger)
        start = cursor.block + 1
        if start > head:
            self._advance(cursor.block)
            return 0
        end = min(head, cursor.block + self.chunk_blocks)
        logs, first, last = rpc_batch(
            w3,
            [
                ("eth_getLogs", [{"fromBlock": hex(start), "toBlock": hex(end), "address": decoder.addresses}]),
                ("eth_getBlockByNumber", [hex(start), False]),
                ("eth_getBlockByNumber", [hex(end), False]),
            ],
        )
        if first is None or first["parentHash"] != cursor.block_hash:
            raise IndexerHalted(
                f"block {cursor.block} changed since it was indexed (hash {cursor.block_hash}; block {start}'s parent "
                f"is {first and first['parentHash']}): the chain reorganised deeper than the confirmations setting, "
                "or the node serves another chain; re-index into a fresh database"
            )
        events = [e for e in (decoder.decode(entry) for entry in logs) if e is not None]
        facts = self._facts(ledger, events, {start: first, end: last})
        with self.db.session() as s:
            applied = self._apply(s, projector, events, facts)
            cursor = s.get(cv.ChainCursor, 1)
            assert cursor is not None
            cursor.block, cursor.block_hash, cursor.updated_at = end, last["hash"], int(time.time())
        if self.metrics is not None and applied:
            self.metrics.indexed_events.inc(applied)
        self._advance(end)
        return end - start + 1

    def _tools(self, ledger: Ledger) -> tuple[EventDecoder, Projector]:
        if self._decoder is None or self._projector is None:
            self._decoder = EventDecoder(ledger.w3, ledger.manifest)
            dispose = next(e for e in ledger.ledger.abi if e.get("type") == "function" and e["name"] == "disposeStock")
            self._projector = Projector("0x" + function_abi_to_4byte_selector(dispose).hex())
        return self._decoder, self._projector

    def _cursor(self, s: Session, ledger: Ledger) -> cv.ChainCursor:
        address = ledger.ledger.address
        cursor = s.get(cv.ChainCursor, 1)
        if cursor is None:
            start = max(ledger.manifest.start_block - 1, 0)
            block = rpc(ledger.w3, "eth_getBlockByNumber", hex(start), False)
            cursor = cv.ChainCursor(
                id=1,
                chain_id=ledger.chain_id,
                ledger_address=address,
                block=start,
                block_hash=block["hash"],
                updated_at=int(time.time()),
            )
            s.add(cursor)
            return cursor
        if cursor.chain_id != ledger.chain_id or cursor.ledger_address.lower() != address.lower():
            raise IndexerHalted(
                f"this database indexes ledger {cursor.ledger_address} on chain {cursor.chain_id}, but the manifest "
                f"names {address} on chain {ledger.chain_id}: use a fresh database for a new deployment"
            )
        return cursor

    def _facts(self, ledger: Ledger, events: list[Any], known: dict[int, dict[str, Any]]) -> ChunkFacts:
        """Block times of the blocks with events, and the input of the transactions whose events need it
        (`known`: blocks already read)."""
        facts = ChunkFacts()
        blocks = sorted({e.block for e in events} - set(known))
        wanted = sorted({e.tx_hash for e in events if e.name in ("WrittenOff", "WindowAnchored")})
        calls = [("eth_getBlockByNumber", [hex(n), False]) for n in blocks]
        calls += [("eth_getTransactionByHash", [h]) for h in wanted]
        results = []
        for i in range(0, len(calls), BATCH):
            results += rpc_batch(ledger.w3, calls[i : i + BATCH])
        for number, block in [*zip(blocks, results[: len(blocks)], strict=True), *known.items()]:
            facts.block_time[number] = int(block["timestamp"], 16)
        for tx_hash, tx in zip(wanted, results[len(blocks) :], strict=True):
            data = bytes(HexBytes(tx["input"]))
            facts.selector[tx_hash] = "0x" + data[:4].hex()
            if ledger.cold_chain is not None and str(tx["to"]).lower() == ledger.cold_chain.address.lower():
                with contextlib.suppress(ValueError):  # not an anchorWindow call: nothing to read from it
                    facts.windows[tx_hash] = window_headers(ledger.cold_chain, data)
        return facts

    @staticmethod
    def _apply(s: Session, projector: Projector, events: list[Any], facts: ChunkFacts) -> int:
        if not events:
            return 0
        # by block range (the primary key's prefix): a list of (block, log index) pairs would scan the table
        first, last = events[0].block, events[-1].block
        done = set(
            s.execute(
                select(cv.ChainEvent.block, cv.ChainEvent.log_index).where(
                    cv.ChainEvent.block >= first, cv.ChainEvent.block <= last
                )
            ).all()
        )
        applied = 0
        for event in events:
            if (event.block, event.log_index) in done:
                continue
            projector.apply(s, event, facts)
            s.flush()  # the next event's handler reads what this one wrote
            applied += 1
        return applied

    def _advance(self, block: int) -> None:
        with self._cond:
            if block > self._block:
                self._block = block
                self._cond.notify_all()
        if self.metrics is not None:
            self.metrics.indexed_block.set(block)

    def lag(self) -> int | None:
        return None if self.head is None else max(self.head - self._block, 0)
