"""The one path every reading takes, whatever carried it (MQTT, HTTP, CSV):
parse -> validate -> durable store -> excursion rules -> alarm events.

The store's COMMIT comes before the rules see a reading, and before the
transport is told the reading was taken (MQTT ack, HTTP 200), so an accepted
reading survives any crash. The rules' state is saved with a cursor (the last
reading row judged); after a crash the readings past the cursor are judged
again, and the events they raise are idempotent (deterministic excursion ids).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from oracle.alarms import AlarmBook
from oracle.devices import EquipmentProfile, Registry
from oracle.excursions import alarm_id, goes_on_chain, outbox_entry
from oracle.reading import Reading
from oracle.rules import OPEN, VEHICLE, AlarmEvent, ExcursionDetector, RuleSet
from oracle.store import Store, StoredReading
from oracle.validate import ReadingValidator, Reason, Rejection

log = logging.getLogger(__name__)

Item = tuple[Reading, bytes | None] | Rejection
"""One parsed input: a reading with its signature, or why it could not even be parsed."""


@dataclass(frozen=True, slots=True)
class Refused:
    index: int
    """Position of the input in the call's sequence (for a CSV: data row, 0-based)."""
    reason: Reason
    message: str


@dataclass(slots=True)
class IngestResult:
    accepted: int = 0
    """Readings newly stored by this call."""
    duplicates: int = 0
    """Valid readings already stored (a redelivery); acknowledged, not stored twice."""
    refused: list[Refused] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "refused": [{"index": r.index, "reason": r.reason.value, "message": r.message} for r in self.refused],
        }


def refusals(items: Sequence[Item]) -> list[Refused]:
    return [Refused(i, x.reason, x.message) for i, x in enumerate(items) if isinstance(x, Rejection)]


class Sink(Protocol):
    """Where a transport hands its parsed items (the daemon's ingest path). It returns only once the
    accepted readings are committed, and raises when they could not be: the transport then acknowledges
    nothing, so the sender retries."""

    def ingest(self, items: Sequence[Item], source: str) -> IngestResult: ...


# ---------------------------------------------------------------------------------------------------------------------

DETECTOR_STATE = "detector"
STATE_SAVE_MS = 1_000
SETTLE_MS = 60_000
"""An equipment whose readings arrived this recently is still delivering, not silent."""


@dataclass(slots=True)
class Counters:
    """What the daemon exports about its own work (and the status endpoint shows)."""

    accepted: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    unjudged: int = 0
    """Stored readings the rules could not judge: equipment missing from the registry, or older than the
    last reading judged for their equipment (within the validator's reorder tolerance)."""
    alarms_raised: int = 0
    alarms_closed: int = 0


class Ingestor:
    """Serialises every input through validation, the store and the rules (one lock: the
    validator's per-device order and the rules' per-equipment order need one writer)."""

    def __init__(
        self,
        store: Store,
        validator: ReadingValidator,
        ruleset: RuleSet,
        alarms: AlarmBook,
        registry: Registry,
        *,
        clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        on_chain_work: Callable[[], None] = lambda: None,
        abandon_after_ms: int = 24 * 3_600_000,
    ) -> None:
        self.store = store
        self.validator = validator
        self.alarms = alarms
        self.registry = registry
        self.clock = clock
        self.on_chain_work = on_chain_work
        self.abandon_after_ms = abandon_after_ms
        self.counters = Counters()
        self._lock = threading.Lock()
        self._refusal_log = _RateLimitedLog(log)
        self._saved_at = 0
        validator.restore(store.last_accepted())
        self.detector, self.cursor = self._restore(ruleset)
        self._replay()
        self._heard: dict[int, int] = dict.fromkeys(self.detector.watched(), clock())
        """When readings of each equipment last arrived (in memory: after a restart every equipment
        gets SETTLE_MS for its backlog to arrive)."""

    # -- inputs

    def ingest(self, items: Sequence[Item], source: str) -> IngestResult:
        """Validate, store (COMMIT), judge. Returns only after the readings are durable; raises if the store
        fails (nothing acknowledged, the validator rewound: the caller retries the same items)."""
        result = IngestResult()
        with self._lock:
            now = self.clock()
            fresh: list[tuple[Reading, bytes]] = []
            parsed = [(i, item) for i, item in enumerate(items) if not isinstance(item, Rejection)]
            checked = self.validator.validate_all([x for _, x in parsed], now)
            verdicts = dict(zip([i for i, _ in parsed], checked, strict=True))
            for i, item in enumerate(items):
                if isinstance(item, Rejection):
                    self.validator.counts[item.reason] += 1
                    self._refuse(result, i, item.reason, item.message, source)
                    continue
                reading, sig = item
                verdict = verdicts[i]
                if verdict.ok:
                    fresh.append((reading, sig))  # type: ignore[arg-type]
                elif verdict.reason is Reason.REPLAY and self._already_stored(reading, sig):
                    result.duplicates += 1
                else:
                    assert verdict.reason is not None
                    self._refuse(result, i, verdict.reason, verdict.message, source)
            for reading, _ in fresh:
                self._heard[reading.equipment] = now
            if fresh:
                try:
                    result.accepted = self.store.append(fresh, received_at=now)
                except BaseException:
                    self.validator.restore(self.store.last_accepted())
                    raise
                self._judge_new()
            self.counters.accepted += result.accepted
            self.counters.duplicates += result.duplicates
        return result

    def tick(self) -> list[AlarmEvent]:
        """Silence, and abandoning equipment silent for too long (so no excursion stays open forever).

        Silence is judged by the readings' own times, but not while an equipment's readings are still
        arriving: a backlog (a gateway back online, a broker redelivering after a restart) brings hours-old
        readings that say nothing about the sensor being silent now."""
        with self._lock:
            now = self.clock()
            arriving = {eq for eq, at in self._heard.items() if now - at < SETTLE_MS}
            events = self.detector.tick(now, skip=arriving)
            for equipment, since in self.detector.silent_since().items():
                if now - since >= self.abandon_after_ms:
                    log.error(
                        "equipment %d silent for %d min: its open alarms are closed at its last reading; "
                        "its stock stays quarantined until the CDC decides",
                        equipment,
                        (now - since) // 60_000,
                    )
                    events += self.detector.end_leg(equipment)
            if events:
                self._commit(events, now)
            return events

    def end_leg(self, vehicle: int) -> list[AlarmEvent]:
        """A vehicle delivered its last open shipment: its transport leg ends."""
        with self._lock:
            if vehicle not in self.detector.watched():
                return []
            events = self.detector.end_leg(vehicle)
            self._commit(events, self.clock())
            return events

    def flush(self) -> None:
        """Save the rules' state now (on a clean stop)."""
        with self._lock:
            self._commit([], self.clock())

    def watched_vehicles(self) -> list[int]:
        with self._lock:
            kinds = self.registry.equipment
            return [eq for eq in self.detector.watched() if kinds.get(eq, _NO_PROFILE).kind == VEHICLE]

    def set_registry(self, registry: Registry) -> None:
        """A changed device registry (a sensor replaced, a key rotated) takes effect for the next reading."""
        with self._lock:
            self.registry = registry
            self.validator.set_devices(registry.validator_devices())

    # -- judging

    def _judge_new(self) -> None:
        rows = self.store.readings_after(self.cursor, limit=1_000_000)
        if rows:
            self._judge(rows)

    def _replay(self) -> None:
        """Readings stored after the last judged one (a crash between COMMIT and judging) are judged now."""
        while rows := self.store.readings_after(self.cursor, limit=10_000):
            log.info("judging %d stored readings the rules had not seen (after row %d)", len(rows), self.cursor)
            self._judge(rows)

    def _judge(self, rows: Sequence[StoredReading]) -> None:
        events: list[AlarmEvent] = []
        for row in sorted(rows, key=lambda r: (r.reading.equipment, r.reading.ts_ms, r.id)):
            r = row.reading
            profile = self.registry.equipment.get(r.equipment)
            if profile is None:
                self.counters.unjudged += 1
                continue
            try:
                events += self.detector.observe(profile.kind, r, profile.transport)
            except ValueError as exc:
                self.counters.unjudged += 1
                log.info("not judged by the rules: %s", exc)
        self.cursor = max(row.id for row in rows)
        self._commit(events, self.clock(), save=False)

    def _commit(self, events: Sequence[AlarmEvent], now: int, *, save: bool = True) -> None:
        """Alarms, chain writes and the rules' state with its cursor: one transaction. Without events the state
        is saved at most once a second (`save=False`): after a crash the rules re-judge at most that second
        of readings, which is idempotent, and the state of hundreds of equipment is not rewritten per batch."""
        chain_work = False
        changed = []
        if not events and not save and now - self._saved_at < STATE_SAVE_MS:
            return
        state = json.dumps({"cursor": self.cursor, "detector": self.detector.to_dict()}, separators=(",", ":"))
        with self.store.transaction() as db:
            for event in events:
                alarm = self.alarms.record(db, alarm_id(event), event, now)
                if alarm is not None:
                    changed.append((event, alarm))
                if goes_on_chain(event):
                    chain_work |= self.store.enqueue(db, *outbox_entry(event), now)
            Store.put_state_in(db, DETECTOR_STATE, state, now)
        self._saved_at = now
        for event, alarm in changed:
            if event.action == OPEN:
                self.counters.alarms_raised += 1
                log.warning(
                    "ALARM %s raised [%s] %s equipment %d severity %d (since %s)",
                    alarm.alarm_id[:12],
                    alarm.tier,
                    event.kind,
                    event.equipment,
                    event.severity,
                    _iso(event.opened_at_ms),
                )
            else:
                self.counters.alarms_closed += 1
                log.warning("ALARM %s closed: %s equipment %d", alarm.alarm_id[:12], event.kind, event.equipment)
        if chain_work:
            self.on_chain_work()

    def _restore(self, ruleset: RuleSet) -> tuple[ExcursionDetector, int]:
        raw = self.store.get_state(DETECTOR_STATE)
        if raw is None:
            return ExcursionDetector(ruleset), 0
        saved = json.loads(raw)
        try:
            return ExcursionDetector.from_dict(ruleset, saved["detector"]), int(saved["cursor"])
        except ValueError as exc:
            # A new rules version: judge from here on under it; breaches in progress restart their windows.
            log.error("rules state not restored (%s): judging from the next reading under %s", exc, ruleset.version)
            return ExcursionDetector(ruleset), self.store.last_reading_id()

    # -- helpers

    def _already_stored(self, reading: Reading, sig: bytes | None) -> bool:
        stored = self.store.get(reading.device, reading.seq)
        return stored is not None and stored.reading == reading and stored.signature == sig

    def _refuse(self, result: IngestResult, index: int, reason: Reason, message: str, source: str) -> None:
        result.refused.append(Refused(index, reason, message))
        self.counters.refused[reason.value] += 1
        self._refusal_log.warning(reason.value, "refused reading from %s: %s: %s", source, reason.value, message)


_NO_PROFILE = EquipmentProfile("", None, None)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")


class _RateLimitedLog:
    """One line per reason per interval, then a count of those not shown: a flood of forged or
    replayed readings must be visible without drowning the log."""

    def __init__(self, logger: logging.Logger, interval_s: float = 10.0) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._hidden: Counter[str] = Counter()

    def warning(self, key: str, msg: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -1e9) < self.interval_s:
            self._hidden[key] += 1
            return
        hidden = self._hidden.pop(key, 0)
        self._last[key] = now
        self.logger.warning(msg + (f" (and {hidden} more like it not shown)" if hidden else ""), *args)
