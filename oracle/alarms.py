"""Tiered alarms: who must act on an excursion, and who is told when nobody does.

An alarm starts at the tier its severity names (a freeze goes to the district
CDC at once) and climbs — site, CDC, regulator — while it stays
unacknowledged past the policy's minutes. Only a person stops the climb: an
acknowledgement names who and must say why (a comment), because a quarantined
fridge of vaccine is a decision, not a notification to swipe away.

The policy is versioned data (oracle/data/alarm-tiers-v1.json). Alarms and
their history live in the oracle's store, written in the same transaction as
the rules' state, so a crash never loses or duplicates one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from oracle.rules import CLOSE, OPEN, AlarmEvent
from oracle.store import Store

MINUTE_MS = 60_000
TIERS = ("site", "cdc", "regulator")


AlarmState = Literal["open", "unacked", "all"]
"""open: not closed (acknowledged or not); unacked: not acknowledged (open or closed); all."""


class AlarmError(ValueError):
    """An alarm operation refused: unknown alarm, missing comment, already acknowledged."""


class UnknownAlarm(AlarmError):
    pass


class AmbiguousAlarmId(AlarmError):
    """Too few characters of an id, or a prefix of several."""


class AlreadyAcknowledged(AlarmError):
    pass


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    start: str
    escalate_after_ms: tuple[tuple[str, int], ...]
    """(tier, ms after raising) in climbing order."""
    stop_when_closed: bool


@dataclass(frozen=True, slots=True)
class TierPolicy:
    version: str
    severity: dict[int, SeverityPolicy]

    @classmethod
    def load(cls, path: str | Path) -> TierPolicy:
        return cls.from_config(json.loads(Path(path).read_text()))

    @classmethod
    def from_config(cls, data: Any) -> TierPolicy:
        try:
            version = data["version"]
            if list(data["tiers"]) != list(TIERS):
                raise AlarmError(f"tiers must be {list(TIERS)}, got {data['tiers']!r}")
            out: dict[int, SeverityPolicy] = {}
            for key, raw in data["severity"].items():
                start = raw["start"]
                if start not in TIERS:
                    raise AlarmError(f"severity {key}: unknown start tier {start!r}")
                steps = sorted(((t, int(m) * MINUTE_MS) for t, m in raw["escalate_after_min"].items()), key=_rank)
                for tier, after in steps:
                    if tier not in TIERS or _rank((tier, 0)) <= TIERS.index(start):
                        raise AlarmError(f"severity {key}: cannot escalate from {start!r} to {tier!r}")
                    if after <= 0:
                        raise AlarmError(f"severity {key}: minutes to {tier!r} must be positive")
                if [a for _, a in steps] != sorted(a for _, a in steps):
                    raise AlarmError(f"severity {key}: a higher tier cannot come sooner than a lower one")
                out[int(key)] = SeverityPolicy(start, tuple(steps), bool(raw.get("stop_when_closed", False)))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, AlarmError):
                raise
            raise AlarmError(f"alarm tier config: {exc!r}") from exc
        return cls(version, out)

    def for_severity(self, severity: int) -> SeverityPolicy:
        # An unknown severity is treated as the most severe one configured: over-alarm, never under.
        return self.severity.get(severity) or self.severity[max(self.severity)]

    def tier_at(self, severity: int, raised_at_ms: int, now_ms: int) -> str:
        policy = self.for_severity(severity)
        tier = policy.start
        for step, after in policy.escalate_after_ms:
            if now_ms - raised_at_ms >= after:
                tier = step
        return tier


def _rank(step: tuple[str, int]) -> int:
    return TIERS.index(step[0]) if step[0] in TIERS else -1


@dataclass(frozen=True, slots=True)
class Alarm:
    alarm_id: str
    equipment: int
    facility: int | None
    kind: str
    severity: int
    rules_version: str
    opened_at_ms: int
    raised_at_ms: int
    closed_at_ms: int | None
    min_dc: int | None
    max_dc: int | None
    tier: str
    tier_since_ms: int
    acked_at_ms: int | None
    acked_by: str | None
    ack_comment: str | None

    @property
    def is_open(self) -> bool:
        return self.closed_at_ms is None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class LogEntry:
    at_ms: int
    action: str
    tier: str | None
    actor: str | None
    detail: str | None


_COLS = (
    "alarm_id, equipment, facility, kind, severity, rules_version, opened_at_ms, raised_at_ms, closed_at_ms, "
    "min_dc, max_dc, tier, tier_since_ms, acked_at_ms, acked_by, ack_comment"
)


class AlarmBook:
    """The alarms in a store, under a tier policy."""

    def __init__(self, store: Store, policy: TierPolicy, facility_of: Callable[[int], int | None] = lambda _: None):
        self.store = store
        self.policy = policy
        self.facility_of = facility_of

    # -- from the rules (inside the caller's transaction)

    def record(self, db: sqlite3.Connection, alarm_id: str, event: AlarmEvent, now_ms: int) -> Alarm | None:
        """Raise (OPEN) or close (CLOSE) an alarm; idempotent, so replaying the rules after a crash is harmless.
        Returns the alarm when this call changed it. Escalation counts from `now_ms`, when people were told,
        not from the reading's time: a logger uploaded a day late raises its alarm today."""
        row = db.execute("SELECT closed_at_ms FROM alarms WHERE alarm_id = ?", (alarm_id,)).fetchone()
        if event.action == OPEN:
            if row is not None:
                return None
            tier = self.policy.for_severity(event.severity).start
            db.execute(
                f"INSERT INTO alarms ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, NULL, NULL)",
                (
                    alarm_id,
                    event.equipment,
                    self.facility_of(event.equipment),
                    event.kind,
                    event.severity,
                    event.rules_version,
                    event.opened_at_ms,
                    now_ms,
                    event.min_dc,
                    event.max_dc,
                    tier,
                    now_ms,
                ),
            )
            _log(db, alarm_id, now_ms, "raised", tier, None, _describe(event))
        elif event.action == CLOSE:
            if row is None or row[0] is not None:
                return None
            db.execute(
                "UPDATE alarms SET closed_at_ms = ?, min_dc = ?, max_dc = ? WHERE alarm_id = ?",
                (event.closed_at_ms, event.min_dc, event.max_dc, alarm_id),
            )
            _log(db, alarm_id, now_ms, "closed", None, None, _describe(event))
        return _get(db, alarm_id)

    # -- escalation

    def escalate(self, now_ms: int) -> list[Alarm]:
        """Move every unacknowledged alarm up to the tier its age calls for; returns those that moved."""
        moved = []
        with self.store.transaction() as db:
            for row in db.execute(f"SELECT {_COLS} FROM alarms WHERE acked_at_ms IS NULL").fetchall():
                alarm = Alarm(*row)
                if not alarm.is_open and self.policy.for_severity(alarm.severity).stop_when_closed:
                    continue
                due = self.policy.tier_at(alarm.severity, alarm.raised_at_ms, now_ms)
                if TIERS.index(due) <= TIERS.index(alarm.tier):
                    continue
                db.execute(
                    "UPDATE alarms SET tier = ?, tier_since_ms = ? WHERE alarm_id = ?", (due, now_ms, alarm.alarm_id)
                )
                minutes = (now_ms - alarm.raised_at_ms) // MINUTE_MS
                _log(db, alarm.alarm_id, now_ms, "escalated", due, None, f"unacknowledged for {minutes} min")
                moved.append(_get(db, alarm.alarm_id))
        return moved

    # -- people

    def acknowledge(self, alarm_id: str, by: str, comment: str, now_ms: int) -> Alarm:
        """A person takes the alarm: stops escalation. Both a name and a comment are required."""
        if not by or not by.strip():
            raise AlarmError("an acknowledgement must name who acknowledges")
        if not comment or not comment.strip():
            raise AlarmError("an acknowledgement needs a comment: what was checked or done")
        with self.store.transaction() as db:
            full = self._resolve(db, alarm_id)
            alarm = _get(db, full)
            if alarm.acked_at_ms is not None:
                raise AlreadyAcknowledged(f"alarm {full} was already acknowledged by {alarm.acked_by}")
            db.execute(
                "UPDATE alarms SET acked_at_ms = ?, acked_by = ?, ack_comment = ? WHERE alarm_id = ?",
                (now_ms, by.strip(), comment.strip(), full),
            )
            _log(db, full, now_ms, "acknowledged", alarm.tier, by.strip(), comment.strip())
            return _get(db, full)

    # -- reading

    def alarms(self, *, open_only: bool = False, unacked_only: bool = False, tier: str | None = None) -> list[Alarm]:
        where, args = [], []
        if open_only:
            where.append("closed_at_ms IS NULL")
        if unacked_only:
            where.append("acked_at_ms IS NULL")
        if tier is not None:
            where.append("tier = ?")
            args.append(tier)
        sql = f"SELECT {_COLS} FROM alarms" + (" WHERE " + " AND ".join(where) if where else "")
        return [Alarm(*r) for r in self.store.query(sql + " ORDER BY raised_at_ms, alarm_id", args)]

    def get(self, alarm_id: str) -> Alarm:
        with self.store.transaction() as db:
            return _get(db, self._resolve(db, alarm_id))

    def history(self, alarm_id: str) -> list[LogEntry]:
        with self.store.transaction() as db:
            full = self._resolve(db, alarm_id)
        rows = self.store.query(
            "SELECT at_ms, action, tier, actor, detail FROM alarm_log WHERE alarm_id = ? ORDER BY id", (full,)
        )
        return [LogEntry(*r) for r in rows]

    # -- reading through a snapshot (Store.snapshot), for the HTTP read API

    def detail(self, alarm_id: str) -> tuple[Alarm, list[LogEntry]]:
        """One alarm (full id or a unique prefix) and its history, oldest entry first."""
        with self.store.snapshot() as db:
            full = self._resolve(db, alarm_id)
            rows = db.execute(
                "SELECT at_ms, action, tier, actor, detail FROM alarm_log WHERE alarm_id = ? ORDER BY id", (full,)
            ).fetchall()
            return _get(db, full), [LogEntry(*r) for r in rows]

    @staticmethod
    def select(
        db: sqlite3.Connection,
        state: AlarmState = "all",
        *,
        equipment: int | None = None,
        facility: int | None = None,
        limit: int = -1,
    ) -> list[Alarm]:
        """Alarms newest first (by raising time), at most `limit` (-1: all)."""
        where, args = [{"open": "closed_at_ms IS NULL", "unacked": "acked_at_ms IS NULL", "all": "1"}[state]], []
        for column, value in (("equipment", equipment), ("facility", facility)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_COLS} FROM alarms WHERE {' AND '.join(where)} ORDER BY raised_at_ms DESC, alarm_id LIMIT ?"
        return [Alarm(*r) for r in db.execute(sql, (*args, limit))]

    @staticmethod
    def overlapping(db: sqlite3.Connection, equipment: int, from_ms: int, to_ms: int) -> list[Alarm]:
        """The equipment's alarms whose breach overlaps [from_ms, to_ms] (an open one reaches to now), oldest first."""
        rows = db.execute(
            f"SELECT {_COLS} FROM alarms WHERE equipment = ? AND opened_at_ms <= ? "
            "AND (closed_at_ms IS NULL OR closed_at_ms >= ?) ORDER BY opened_at_ms, alarm_id",
            (equipment, to_ms, from_ms),
        )
        return [Alarm(*r) for r in rows]

    @staticmethod
    def _resolve(db: sqlite3.Connection, alarm_id: str) -> str:
        """A full id, or a unique prefix of one (people type the first characters)."""
        prefix = alarm_id.strip().lower()
        if len(prefix) < 6:
            raise AmbiguousAlarmId("give at least the first 6 characters of the alarm id")
        rows = db.execute(
            "SELECT alarm_id FROM alarms WHERE alarm_id >= ? AND alarm_id < ? LIMIT 2", (prefix, prefix + "\uffff")
        ).fetchall()
        if not rows:
            raise UnknownAlarm(f"no alarm {alarm_id!r}")
        if len(rows) > 1:
            raise AmbiguousAlarmId(f"{alarm_id!r} matches more than one alarm: give more characters")
        return rows[0][0]


def _get(db: sqlite3.Connection, alarm_id: str) -> Alarm:
    return Alarm(*db.execute(f"SELECT {_COLS} FROM alarms WHERE alarm_id = ?", (alarm_id,)).fetchone())


def _log(
    db: sqlite3.Connection, alarm_id: str, at_ms: int, action: str, tier: str | None, actor: str | None, detail: str
) -> None:
    db.execute(
        "INSERT INTO alarm_log (alarm_id, at_ms, action, tier, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (alarm_id, at_ms, action, tier, actor, detail),
    )


def _describe(event: AlarmEvent) -> str:
    span = f"{event.min_dc / 10:.1f}..{event.max_dc / 10:.1f} °C" if event.min_dc is not None else "no reading"
    return (
        f"{event.kind} (severity {event.severity}, {event.profile}, {event.rules_version}) "
        f"equipment {event.equipment}: {span}, exposure {event.exposure_ms // MINUTE_MS} min"
    )
