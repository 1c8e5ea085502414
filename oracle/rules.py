"""Excursion detection: cold-chain readings in, alarm open/close events out.

The thresholds live in versioned configuration (oracle/data/rules-v1.json), not
in code, because they are policy that changes (the storage heat duration is
still unconfirmed) and every event must say which version judged it.

Semantics, chosen once and tested:

- Readings are fed per equipment in time order. A reading older than the last
  one seen for its equipment raises ValueError and changes nothing (the daemon
  validates order; feeding one out of order is a bug, not data). Equal
  timestamps are accepted (a zero-length interval).
- "continuous" (single event, unbroken) rules: every reading in the window
  meets the condition; the exposure is the time from the first reading that met
  it to the current one, so the alarm opens at the reading where that reaches
  the duration (exactly 10 h alarms). One reading that does not meet the
  condition resets the window and closes an open alarm at that reading's time.
  A gap between readings does not break the window: the sensor-silent alarm
  reports the gap, and we would rather over-alarm than assume the gap was cold.
- "cumulative" rules: an interval between two consecutive readings counts when
  both readings meet the condition (neither endpoint is extrapolated); separate
  periods add up over the leg. A cumulative alarm stays open until end_leg(),
  since the exposure it records cannot be undone by cooling down.
- sensor silent: no reading for the configured time (the limit itself alarms).
  tick(now_ms) opens it; a reading closes it. observe() also checks the gap
  before the reading, so a gap opens (and closes) a silent alarm whether or
  not the daemon ticked during it. Silence never closes a heat or freeze
  alarm: the open breach stays open next to the silent alarm.
- opened_at_ms is the first reading of the breach (for cumulative rules: the
  first reading of the leg that met the condition); the event names the
  reading that completed it (trigger) and, on close, the one that ended it.
  min_dc/max_dc are the extremes of every reading that met the condition
  during the breach: peaks are kept, never averaged.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oracle.reading import Reading

DEFAULT_RULES_PATH = Path(__file__).resolve().parent / "data" / "rules-v1.json"
STORAGE_KINDS = ("fridge", "freezer", "cold_room", "cold_box")
VEHICLE = "vehicle"
TRANSPORT_TYPES = ("type1", "type2")
SILENT = "silent"
RULE_KINDS = frozenset(
    {
        "heat",
        "freeze",
        "transport_heat_45",
        "transport_heat_30_cumulative",
        "transport_10_cumulative",
        "transport_freeze",
    }
)
CONTINUOUS = "continuous"
CUMULATIVE = "cumulative"
MODES = (CONTINUOUS, CUMULATIVE)
OPEN = "open"
CLOSE = "close"
MINUTE_MS = 60_000

_OPS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class Rule:
    """One temperature rule: the condition `temp_dc <op> threshold_dc` held for `duration_ms`."""

    kind: str
    mode: str
    op: str
    threshold_dc: int
    duration_ms: int
    severity: int
    status: str = "confirmed"

    def met(self, temp_dc: int) -> bool:
        return _OPS[self.op](temp_dc, self.threshold_dc)


@dataclass(frozen=True, slots=True)
class Profile:
    """The rules for one kind of equipment (vehicles: one per transport type)."""

    name: str
    """"fridge", "freezer", "cold_room", "cold_box", "vehicle/type1" or "vehicle/type2"."""
    silent_after_ms: int
    silent_severity: int
    rules: tuple[Rule, ...]


def profile_name(kind: str, transport: str | None = None) -> str:
    return f"{kind}/{transport}" if kind == VEHICLE else kind


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"rules config: {where} {message}")


def _get(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict):
        raise _fail(where, f"must be an object, got {type(obj).__name__}")
    if key not in obj:
        raise _fail(f"{where}.{key}" if where else key, "is missing")
    return obj[key]


def _int(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise _fail(where, f"must be >= {minimum}, got {value}")
    return value


def _parse_rule(raw: Any, where: str) -> Rule:
    kind = _get(raw, "kind", where)
    if kind not in RULE_KINDS:
        raise _fail(f"{where}.kind", f"must be one of {sorted(RULE_KINDS)}, got {kind!r}")
    mode = _get(raw, "mode", where)
    if mode not in MODES:
        raise _fail(f"{where}.mode", f"must be one of {list(MODES)}, got {mode!r}")
    op = _get(raw, "op", where)
    if op not in _OPS:
        raise _fail(f"{where}.op", f"must be one of {list(_OPS)}, got {op!r}")
    status = raw.get("status", "confirmed")
    if not isinstance(status, str):
        raise _fail(f"{where}.status", f"must be a string, got {status!r}")
    return Rule(
        kind=kind,
        mode=mode,
        op=op,
        threshold_dc=_int(_get(raw, "threshold_dc", where), f"{where}.threshold_dc"),
        duration_ms=_int(_get(raw, "duration_min", where), f"{where}.duration_min", 1) * MINUTE_MS,
        severity=_int(_get(raw, "severity", where), f"{where}.severity", 1),
        status=status,
    )


def _parse_rules(raw: Any, where: str) -> tuple[Rule, ...]:
    if not isinstance(raw, list):
        raise _fail(where, f"must be a list, got {type(raw).__name__}")
    rules = tuple(_parse_rule(r, f"{where}[{i}]") for i, r in enumerate(raw))
    kinds = [r.kind for r in rules]
    for k in kinds:
        if kinds.count(k) > 1:
            raise _fail(where, f"has rule kind {k!r} more than once")
    return rules


def _parse_silent(raw: Any, where: str) -> tuple[int, int]:
    silent = _get(raw, "silent", where)
    after = _int(_get(silent, "after_min", f"{where}.silent"), f"{where}.silent.after_min", 1)
    severity = _int(_get(silent, "severity", f"{where}.silent"), f"{where}.silent.severity", 1)
    return after * MINUTE_MS, severity


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated, versioned rules configuration."""

    version: str
    profiles: Mapping[str, Profile]

    @classmethod
    def load(cls, path: str | Path | None = None) -> RuleSet:
        """Load and validate a rules file (the shipped rules-v1.json by default)."""
        path = Path(path) if path is not None else DEFAULT_RULES_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"rules config: {path} is not valid JSON: {e}") from e
        return cls.from_config(data)

    @classmethod
    def from_config(cls, data: Any) -> RuleSet:
        """Validate parsed configuration; a ValueError names the offending field."""
        version = _get(data, "version", "")
        if not isinstance(version, str) or not version:
            raise _fail("version", f"must be a non-empty string, got {version!r}")
        equipment = _get(data, "equipment", "")
        profiles: dict[str, Profile] = {}
        for kind in STORAGE_KINDS:
            where = f"equipment.{kind}"
            raw = _get(equipment, kind, "equipment")
            after, sev = _parse_silent(raw, where)
            profiles[kind] = Profile(kind, after, sev, _parse_rules(_get(raw, "rules", where), f"{where}.rules"))
        where = f"equipment.{VEHICLE}"
        raw = _get(equipment, VEHICLE, "equipment")
        after, sev = _parse_silent(raw, where)
        types = _get(raw, "transport_types", where)
        for transport in TRANSPORT_TYPES:
            tw = f"{where}.transport_types.{transport}"
            rules = _parse_rules(_get(types, transport, f"{where}.transport_types"), tw)
            name = profile_name(VEHICLE, transport)
            profiles[name] = Profile(name, after, sev, rules)
        return cls(version=version, profiles=profiles)

    def profile(self, kind: str, transport: str | None = None) -> Profile:
        """The profile for an equipment kind; vehicles need their transport type, others must not have one."""
        if kind == VEHICLE and transport not in TRANSPORT_TYPES:
            raise ValueError(f"vehicle needs a transport type in {list(TRANSPORT_TYPES)}, got {transport!r}")
        if kind != VEHICLE and transport is not None:
            raise ValueError(f"only vehicles have a transport type, got {transport!r} for {kind!r}")
        try:
            return self.profiles[profile_name(kind, transport)]
        except KeyError:
            raise ValueError(f"unknown equipment kind {kind!r}") from None


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class ReadingRef:
    """Which reading: enough to find it in the store and its Merkle leaf on chain."""

    device: str
    seq: int
    ts_ms: int

    @classmethod
    def of(cls, r: Reading) -> ReadingRef:
        return cls(r.device, r.seq, r.ts_ms)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReadingRef:
        return cls(str(d["device"]), int(d["seq"]), int(d["ts_ms"]))


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """An alarm opening or closing. Open and close events of one alarm share opened_at_ms and trigger."""

    action: str
    """"open" or "close"."""
    equipment: int
    profile: str
    kind: str
    severity: int
    at_ms: int
    """When this event happened: the completing reading / tick time, or the closing time."""
    opened_at_ms: int
    """Start of the breach: its first reading (silent: the last reading heard)."""
    closed_at_ms: int | None
    trigger: ReadingRef
    """The reading that completed the breach (silent: the last reading heard)."""
    closed_by: ReadingRef | None
    """The reading that ended it; None for end_leg() closes and open events."""
    exposure_ms: int
    """Continuous: first to last breach reading; cumulative: counted time; silent: the gap."""
    min_dc: int | None
    max_dc: int | None
    rules_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- engine state


@dataclass(slots=True)
class _Track:
    """A rule's running breach for one equipment."""

    start_ms: int | None = None
    exposure_ms: int = 0
    min_dc: int | None = None
    max_dc: int | None = None
    prev_met: bool = False
    open: bool = False
    trigger: ReadingRef | None = None

    def see(self, temp_dc: int, ts_ms: int) -> None:
        if self.start_ms is None:
            self.start_ms = ts_ms
        self.min_dc = temp_dc if self.min_dc is None else min(self.min_dc, temp_dc)
        self.max_dc = temp_dc if self.max_dc is None else max(self.max_dc, temp_dc)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> _Track:
        trig = d.get("trigger")
        return cls(
            start_ms=d.get("start_ms"),
            exposure_ms=int(d.get("exposure_ms", 0)),
            min_dc=d.get("min_dc"),
            max_dc=d.get("max_dc"),
            prev_met=bool(d.get("prev_met", False)),
            open=bool(d.get("open", False)),
            trigger=ReadingRef.from_dict(trig) if trig is not None else None,
        )


@dataclass(slots=True)
class _Equipment:
    profile: str
    last: ReadingRef | None = None
    silent_since_ms: int | None = None
    """When the silent alarm opened (tick or gap time); None while the sensor is heard."""
    tracks: dict[str, _Track] = field(default_factory=dict)


class ExcursionDetector:
    """Judges readings against a RuleSet, per equipment, and reports alarm events.

    Pure and deterministic: the same readings and ticks give the same events,
    and to_dict()/from_dict() carries open alarms and running windows across
    a daemon restart."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self._equipment: dict[int, _Equipment] = {}

    # -- feeding

    def observe(self, kind: str, reading: Reading, transport: str | None = None) -> list[AlarmEvent]:
        """Judge one reading for its equipment. `kind` is the equipment kind; vehicles need `transport`
        ("type1"/"type2"). The kind of an equipment cannot change until end_leg()."""
        profile = self.ruleset.profile(kind, transport)
        eq = self._equipment.get(reading.equipment)
        if eq is not None and eq.profile != profile.name:
            raise ValueError(
                f"equipment {reading.equipment} is watched as {eq.profile!r}, not {profile.name!r}; end_leg() first"
            )
        if eq is not None and eq.last is not None and reading.ts_ms < eq.last.ts_ms:
            raise ValueError(
                f"reading {reading.device}#{reading.seq} at {reading.ts_ms} is older than the last one "
                f"({eq.last.ts_ms}) for equipment {reading.equipment}"
            )
        if eq is None:
            eq = _Equipment(profile.name, tracks={r.kind: _Track() for r in profile.rules})
            self._equipment[reading.equipment] = eq

        ref = ReadingRef.of(reading)
        events = self._check_silent(reading.equipment, eq, profile, reading.ts_ms)
        if eq.silent_since_ms is not None:
            events.append(self._silent_event(CLOSE, reading.equipment, eq, profile, reading.ts_ms, ref))
            eq.silent_since_ms = None

        for rule in profile.rules:
            tr = eq.tracks[rule.kind]
            met = rule.met(reading.temp_dc)
            if rule.mode == CONTINUOUS:
                if met:
                    tr.see(reading.temp_dc, reading.ts_ms)
                    tr.exposure_ms = reading.ts_ms - (tr.start_ms or 0)
                else:
                    if tr.open:
                        events.append(self._event(CLOSE, reading.equipment, profile, rule, tr, reading.ts_ms, ref))
                    eq.tracks[rule.kind] = tr = _Track()
            else:
                if met:
                    if tr.prev_met and eq.last is not None:
                        tr.exposure_ms += reading.ts_ms - eq.last.ts_ms
                    tr.see(reading.temp_dc, reading.ts_ms)
                tr.prev_met = met
            if met and not tr.open and tr.exposure_ms >= rule.duration_ms:
                tr.open = True
                tr.trigger = ref
                events.append(self._event(OPEN, reading.equipment, profile, rule, tr, reading.ts_ms, None))
        eq.last = ref
        return events

    def tick(self, now_ms: int, skip: Collection[int] = ()) -> list[AlarmEvent]:
        """Open sensor-silent alarms for equipment not heard from for its limit (the limit itself alarms).
        `skip`: equipment whose readings are still arriving (a backlog being delivered), not silent."""
        events: list[AlarmEvent] = []
        for equipment in sorted(self._equipment):
            if equipment in skip:
                continue
            eq = self._equipment[equipment]
            events += self._check_silent(equipment, eq, self.ruleset.profiles[eq.profile], now_ms)
        return events

    def end_leg(self, equipment: int, at_ms: int | None = None) -> list[AlarmEvent]:
        """End a transport leg (or stop watching any equipment): close every open alarm, cumulative
        ones included, at `at_ms` and forget the equipment. The default time is the last reading's,
        or when the sensor was declared silent if later (a close never precedes its open event)."""
        eq = self._equipment.get(equipment)
        if eq is None or eq.last is None:
            self._equipment.pop(equipment, None)
            return []
        if at_ms is not None and at_ms < eq.last.ts_ms:
            raise ValueError(f"end_leg at {at_ms} is before the last reading ({eq.last.ts_ms}) of {equipment}")
        at = max(eq.last.ts_ms, eq.silent_since_ms or 0) if at_ms is None else at_ms
        profile = self.ruleset.profiles[eq.profile]
        events = self._check_silent(equipment, eq, profile, at)
        for rule in profile.rules:
            tr = eq.tracks[rule.kind]
            if tr.open:
                events.append(self._event(CLOSE, equipment, profile, rule, tr, at, None))
        if eq.silent_since_ms is not None:
            events.append(self._silent_event(CLOSE, equipment, eq, profile, max(at, eq.silent_since_ms), None))
        del self._equipment[equipment]
        return events

    def open_alarms(self, equipment: int) -> list[str]:
        """Kinds of the alarms open now for an equipment (for display and tests)."""
        eq = self._equipment.get(equipment)
        if eq is None:
            return []
        kinds = [k for k, tr in eq.tracks.items() if tr.open]
        return [*kinds, SILENT] if eq.silent_since_ms is not None else kinds

    def watched(self) -> list[int]:
        """Equipment with a running state (readings seen since the last end_leg)."""
        return sorted(self._equipment)

    def silent_since(self) -> dict[int, int]:
        """Equipment whose silent alarm is open, and since when."""
        return {eq: st.silent_since_ms for eq, st in self._equipment.items() if st.silent_since_ms is not None}

    # -- persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state: open alarms and running windows, keyed by equipment id (as a string)."""
        return {
            "rules_version": self.ruleset.version,
            "equipment": {
                str(equipment): {
                    "profile": eq.profile,
                    "last": asdict(eq.last) if eq.last is not None else None,
                    "silent_since_ms": eq.silent_since_ms,
                    "tracks": {k: tr.to_dict() for k, tr in eq.tracks.items()},
                }
                for equipment, eq in sorted(self._equipment.items())
            },
        }

    @classmethod
    def from_dict(cls, ruleset: RuleSet, data: Mapping[str, Any]) -> ExcursionDetector:
        """Resume from to_dict(). The rules version must match: a breach judged half under one
        version and half under another would be reported under neither."""
        version = data.get("rules_version")
        if version != ruleset.version:
            raise ValueError(f"state was built under rules version {version!r}, ruleset is {ruleset.version!r}")
        det = cls(ruleset)
        for key, raw in data.get("equipment", {}).items():
            profile = ruleset.profiles.get(raw.get("profile"))
            if profile is None:
                raise ValueError(f"state: equipment {key} has unknown profile {raw.get('profile')!r}")
            tracks = {r.kind: _Track.from_dict(raw.get("tracks", {}).get(r.kind, {})) for r in profile.rules}
            last = raw.get("last")
            det._equipment[int(key)] = _Equipment(
                profile=profile.name,
                last=ReadingRef.from_dict(last) if last is not None else None,
                silent_since_ms=raw.get("silent_since_ms"),
                tracks=tracks,
            )
        return det

    # -- helpers

    def _check_silent(self, equipment: int, eq: _Equipment, profile: Profile, now_ms: int) -> list[AlarmEvent]:
        if eq.last is None or eq.silent_since_ms is not None or now_ms - eq.last.ts_ms < profile.silent_after_ms:
            return []
        eq.silent_since_ms = now_ms
        return [self._silent_event(OPEN, equipment, eq, profile, now_ms, None)]

    def _silent_event(
        self, action: str, equipment: int, eq: _Equipment, profile: Profile, at_ms: int, closed_by: ReadingRef | None
    ) -> AlarmEvent:
        assert eq.last is not None
        return AlarmEvent(
            action=action,
            equipment=equipment,
            profile=profile.name,
            kind=SILENT,
            severity=profile.silent_severity,
            at_ms=at_ms,
            opened_at_ms=eq.last.ts_ms,
            closed_at_ms=at_ms if action == CLOSE else None,
            trigger=eq.last,
            closed_by=closed_by,
            exposure_ms=at_ms - eq.last.ts_ms,
            min_dc=None,
            max_dc=None,
            rules_version=self.ruleset.version,
        )

    def _event(
        self,
        action: str,
        equipment: int,
        profile: Profile,
        rule: Rule,
        tr: _Track,
        at_ms: int,
        closed_by: ReadingRef | None,
    ) -> AlarmEvent:
        assert tr.start_ms is not None and tr.trigger is not None
        return AlarmEvent(
            action=action,
            equipment=equipment,
            profile=profile.name,
            kind=rule.kind,
            severity=rule.severity,
            at_ms=at_ms,
            opened_at_ms=tr.start_ms,
            closed_at_ms=at_ms if action == CLOSE else None,
            trigger=tr.trigger,
            closed_by=closed_by,
            exposure_ms=tr.exposure_ms,
            min_dc=tr.min_dc,
            max_dc=tr.max_dc,
            rules_version=self.ruleset.version,
        )
