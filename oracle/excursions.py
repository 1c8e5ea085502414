"""Excursions on chain: report at once (quarantining exactly what the equipment
holds), close when the temperature is back, each exactly once.

An excursion's id is derived from what the rules saw (equipment, kind, start,
rules version), so judging the same readings again after a crash gives the same
id, the alarm table and the outbox ignore it, and the chain refuses a second
report. Writes leave through the store's outbox in the order they were decided;
a close waits for its report.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from chain.client import read
from chain.errors import ChainError, ChainRevert, ChainUnavailable
from chain.sender import TxSender
from oracle.rules import OPEN, SILENT, AlarmEvent
from oracle.store import OutboxItem, Store

if TYPE_CHECKING:
    from oracle.holdings import Holdings

log = logging.getLogger(__name__)

# The oracle's excursion kinds as ColdChainLog stores them (uint8; 0 is none). Append only.
KIND_CODES = {
    "heat": 1,
    "freeze": 2,
    "transport_heat_45": 3,
    "transport_heat_30_cumulative": 4,
    "transport_10_cumulative": 5,
    "transport_freeze": 6,
}
REPORT, CLOSE_KIND = "report", "close"
# ColdChainLog.excursion(id).state
NONE, OPEN_STATE, CLOSED_STATE = 0, 1, 2
MISMATCH_RETRIES = 3


def excursion_id(event: AlarmEvent) -> bytes:
    return Web3.keccak(
        encode(
            ["string", "uint32", "string", "uint64", "string"],
            ["vaxledger.excursion", event.equipment, event.kind, event.opened_at_ms, event.rules_version],
        )
    )


def alarm_id(event: AlarmEvent) -> str:
    """The alarm's id is its excursion id in hex (silent alarms too, though they never go on chain)."""
    return excursion_id(event).hex()


def goes_on_chain(event: AlarmEvent) -> bool:
    """Temperature breaches quarantine; a silent sensor is an alarm for people, not evidence of damage."""
    return event.kind != SILENT and event.kind in KIND_CODES


def outbox_entry(event: AlarmEvent) -> tuple[str, str, str]:
    """(key, kind, payload) of the chain write an event calls for."""
    xid = alarm_id(event)
    kind = REPORT if event.action == OPEN else CLOSE_KIND
    payload = {
        "excursion": xid,
        "equipment": event.equipment,
        "kind": event.kind,
        "severity": event.severity,
        "opened_at_ms": event.opened_at_ms,
        "closed_at_ms": event.closed_at_ms,
        "min_dc": event.min_dc,
        "max_dc": event.max_dc,
        "raised_at_ms": event.at_ms,
    }
    return f"{kind}:{xid}", kind, json.dumps(payload, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Posted:
    key: str
    tx_hash: str | None
    block: int | None
    already: bool
    """The chain had it already (an earlier attempt went through): nothing was sent."""


class ExcursionPoster:
    """Drains the outbox to ColdChainLog: reportExcursion / closeExcursion."""

    def __init__(
        self,
        store: Store,
        cold_chain: Contract,
        holdings: Holdings,
        sender: TxSender,
        *,
        retry_min_s: float = 1,
        retry_max_s: float = 300,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.store = store
        self.cold_chain = cold_chain
        self.holdings = holdings
        self.sender = sender
        self.retry_min_ms = int(retry_min_s * 1000)
        self.retry_max_ms = int(retry_max_s * 1000)
        self.clock = clock

    def post_pending(self) -> list[Posted]:
        """One pass over the outbox; failed items are rescheduled with backoff. Raises nothing but
        ChainUnavailable (the node is down: the caller waits), which leaves the item queued."""
        done: list[Posted] = []
        blocked: set[str] = set()
        for item in self.store.pending():
            payload = json.loads(item.payload)
            xid = payload["excursion"]
            if xid in blocked or item.next_at > self.clock():
                blocked.add(xid)  # a close never overtakes its report
                continue
            try:
                posted = self._post(item, payload)
            except ChainUnavailable:
                self._retry_later(item, "chain unavailable")
                raise
            except ChainError as exc:
                blocked.add(xid)
                self._retry_later(item, f"{type(exc).__name__}: {exc}")
                log.error("excursion %s: %s failed, will retry: %s", xid[:12], item.kind, exc)
                continue
            if posted is None:
                blocked.add(xid)
                continue
            self.store.outbox_done(item.seq, posted.tx_hash, posted.block)
            done.append(posted)
        return done

    def _post(self, item: OutboxItem, p: dict[str, Any]) -> Posted | None:
        xid = bytes.fromhex(p["excursion"].removeprefix("0x"))
        state = read("reading an excursion's state", self.cold_chain.functions.excursion(xid).call)[1]
        if item.kind == REPORT:
            if state != NONE:
                return Posted(item.key, None, None, already=True)
            return self._report(item, xid, p)
        if state == CLOSED_STATE:
            return Posted(item.key, None, None, already=True)
        if state == NONE:
            return None  # its report is not on chain yet
        receipt = self.sender.send(
            self.cold_chain.functions.closeExcursion(
                xid, p["closed_at_ms"], _int16(p["min_dc"], p["max_dc"]), _int16(p["max_dc"], p["min_dc"])
            )
        )
        log.warning("excursion %s closed on chain in block %d", p["excursion"][:12], receipt["blockNumber"])
        return Posted(item.key, receipt["transactionHash"].hex(), receipt["blockNumber"], already=False)

    def _report(self, item: OutboxItem, xid: bytes, p: dict[str, Any]) -> Posted:
        for attempt in range(MISMATCH_RETRIES):
            lots, shipments = self.holdings.quarantine_args(p["equipment"])
            call = self.cold_chain.functions.reportExcursion(
                xid, p["equipment"], KIND_CODES[p["kind"]], p["severity"], p["opened_at_ms"], lots, shipments
            )
            try:
                receipt = self.sender.send(call)
            except ChainRevert as exc:
                if exc.name == "ExcursionAlreadyReported":
                    return Posted(item.key, None, None, already=True)
                if exc.name == "QuarantineListMismatch" and attempt + 1 < MISMATCH_RETRIES:
                    continue  # stock moved between our read and the transaction: read again
                raise
            log.warning(
                "excursion %s reported on chain: equipment %d quarantined (%d lots, %d shipments) in block %d",
                p["excursion"][:12],
                p["equipment"],
                len(lots),
                len(shipments),
                receipt["blockNumber"],
            )
            return Posted(item.key, receipt["transactionHash"].hex(), receipt["blockNumber"], already=False)
        raise AssertionError("unreachable")

    def _retry_later(self, item: OutboxItem, error: str) -> None:
        delay = min(self.retry_max_ms, self.retry_min_ms * 2 ** min(item.attempts, 30))
        self.store.outbox_failed(item.seq, error, self.clock() + delay)


def _int16(value: int | None, fallback: int | None) -> int:
    # A breach always has extremes; the fallback only guards a hand-edited outbox.
    chosen = value if value is not None else fallback
    return 0 if chosen is None else chosen
