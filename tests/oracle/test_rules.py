"""The excursion rules at their exact thresholds, silence, closing, peaks, persistence and config validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from oracle.reading import Reading
from oracle.rules import DEFAULT_RULES_PATH, AlarmEvent, ExcursionDetector, ReadingRef, RuleSet

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_700_000_000_000
EQ = 7


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return RuleSet.load()


class Feed:
    """Feeds readings to one equipment, numbering them, and collects the events."""

    def __init__(self, det: ExcursionDetector, kind: str, transport: str | None = None, equipment: int = EQ) -> None:
        self.det, self.kind, self.transport, self.equipment = det, kind, transport, equipment
        self.seq = 0
        self.events: list[AlarmEvent] = []

    def at(self, offset_ms: int, temp_dc: int) -> list[AlarmEvent]:
        self.seq += 1
        r = Reading(device="dev-1", equipment=self.equipment, seq=self.seq, ts_ms=T0 + offset_ms, temp_dc=temp_dc)
        new = self.det.observe(self.kind, r, self.transport)
        self.events += new
        return new

    def hold(self, start_ms: int, end_ms: int, temp_dc: int, step_ms: int = 10 * MIN) -> int:
        """Readings at temp_dc from start to end inclusive (end always read); returns end."""
        t = start_ms
        while t < end_ms:
            self.at(t, temp_dc)
            t += step_ms
        self.at(end_ms, temp_dc)
        return end_ms

    def opened(self) -> list[AlarmEvent]:
        return [e for e in self.events if e.action == "open"]

    def kinds(self, action: str = "open") -> list[str]:
        return [e.kind for e in self.events if e.action == action]


def feed(ruleset: RuleSet, kind: str = "fridge", transport: str | None = None) -> Feed:
    return Feed(ExcursionDetector(ruleset), kind, transport)


# ---------------------------------------------------------------- storage, continuous rules


@pytest.mark.parametrize(
    ("kind", "temp_dc", "duration_ms", "expected"),
    [
        ("fridge", 80, 11 * HOUR, []),  # 8.0 °C is in range: > 8 °C is the condition
        ("fridge", 81, 10 * HOUR, ["heat"]),  # exactly 10 h alarms
        ("fridge", 81, 10 * HOUR - MIN, []),  # 9 h 59 min does not
        ("cold_room", 81, 10 * HOUR, ["heat"]),
        ("cold_box", 81, 10 * HOUR - MIN, []),
        ("fridge", -5, 60 * MIN, ["freeze"]),  # -0.5 °C for 60 min
        ("fridge", -4, 2 * HOUR, []),  # -0.4 °C never freezes
        ("fridge", -5, 59 * MIN, []),
        ("cold_box", -5, 60 * MIN, ["freeze"]),
        ("freezer", -150, 2 * HOUR, []),  # -15.0 °C is in range: > -15 °C is the condition
        ("freezer", -149, 60 * MIN, ["heat"]),
        ("freezer", -149, 59 * MIN, []),
        ("freezer", -300, 5 * HOUR, []),  # a freezer has no freeze rule
    ],
)
def test_storage_thresholds(ruleset: RuleSet, kind: str, temp_dc: int, duration_ms: int, expected: list[str]) -> None:
    f = feed(ruleset, kind)
    f.hold(0, duration_ms, temp_dc)
    assert f.kinds() == expected


def test_heat_alarm_names_first_and_completing_reading(ruleset: RuleSet) -> None:
    f = feed(ruleset)
    f.at(0, 50)
    f.hold(10 * MIN, 10 * MIN + 10 * HOUR, 81)
    (e,) = f.opened()
    assert e.opened_at_ms == T0 + 10 * MIN  # first reading of the breach
    assert e.trigger == ReadingRef("dev-1", f.seq, T0 + 10 * MIN + 10 * HOUR)  # the reading that completed it
    assert e.exposure_ms == 10 * HOUR
    assert e.closed_at_ms is None and e.closed_by is None
    assert e.rules_version == ruleset.version == "rules-v1"
    assert e.severity == 2 and e.profile == "fridge" and e.equipment == EQ


def test_in_range_reading_resets_continuous_window(ruleset: RuleSet) -> None:
    f = feed(ruleset)
    f.hold(0, 5 * HOUR, 81)
    f.at(5 * HOUR + 10 * MIN, 80)  # one reading in range
    f.hold(5 * HOUR + 20 * MIN, 15 * HOUR + 10 * MIN, 81)  # 9 h 50 min after the reset
    assert f.opened() == []
    f.at(15 * HOUR + 20 * MIN, 81)  # 10 h after the reset
    (e,) = f.opened()
    assert e.opened_at_ms == T0 + 5 * HOUR + 20 * MIN


def test_gap_does_not_break_continuous_window(ruleset: RuleSet) -> None:
    """Only readings make the window; a gap is reported by the silent alarm, not assumed cold."""
    f = feed(ruleset)
    f.at(0, -5)
    f.at(60 * MIN, -5)
    assert f.kinds() == ["silent", "freeze"]
    assert f.kinds("close") == ["silent"]


def test_freeze_is_most_severe(ruleset: RuleSet) -> None:
    severities = {r.kind: r.severity for p in ruleset.profiles.values() for r in p.rules}
    top = max(severities.values())
    assert severities["freeze"] == severities["transport_freeze"] == top
    assert all(v < top for k, v in severities.items() if k not in ("freeze", "transport_freeze"))
    assert all(p.silent_severity < top for p in ruleset.profiles.values())


def test_heat_alarm_closes_with_peaks(ruleset: RuleSet) -> None:
    f = feed(ruleset)
    temps = [81, 150, 95, 81, 300, 82]
    for i in range(61):
        f.at(i * 10 * MIN, temps[i % len(temps)] if i != 33 else 420)
    f.at(10 * HOUR + 10 * MIN, 250)  # after the alarm opened: still a breach, peaks still tracked
    closing = f.at(10 * HOUR + 20 * MIN, 60)
    (opened,) = f.opened()
    assert (opened.min_dc, opened.max_dc) == (81, 420)  # the single 42 °C reading is not averaged away
    (closed,) = closing
    assert closed.action == "close" and closed.kind == "heat"
    assert closed.closed_at_ms == T0 + 10 * HOUR + 20 * MIN
    assert closed.closed_by == ReadingRef("dev-1", f.seq, closed.closed_at_ms)
    assert closed.opened_at_ms == opened.opened_at_ms and closed.trigger == opened.trigger
    assert (closed.min_dc, closed.max_dc) == (81, 420)  # the in-range closing reading is not part of the breach
    assert closed.exposure_ms == 10 * HOUR + 10 * MIN
    assert f.det.open_alarms(EQ) == []


def test_freeze_peak_is_the_minimum(ruleset: RuleSet) -> None:
    f = feed(ruleset)
    for i, t in enumerate([-5, -30, -7, -5, -6, -5, -5]):
        f.at(i * 10 * MIN, t)
    (e,) = f.opened()
    assert e.kind == "freeze" and e.severity == 4 and (e.min_dc, e.max_dc) == (-30, -5)
    (c,) = f.at(70 * MIN, -4)
    assert c.action == "close" and c.kind == "freeze" and c.min_dc == -30


# ---------------------------------------------------------------- transport legs


@pytest.mark.parametrize(
    ("transport", "temp_dc", "duration_ms", "expected"),
    [
        ("type1", 450, 60 * MIN, ["transport_heat_45"]),  # the threshold value itself triggers
        ("type1", 449, 60 * MIN, []),
        ("type1", 450, 59 * MIN, []),
        ("type1", -5, 60 * MIN, ["transport_freeze"]),
        ("type1", -4, 3 * HOUR, []),
        ("type1", 300, 10 * HOUR, ["transport_heat_30_cumulative"]),
        ("type1", 300, 10 * HOUR - MIN, []),
        ("type1", 299, 12 * HOUR, []),
        ("type1", 100, 25 * HOUR, []),  # type 1 has no 10 °C rule
        ("type2", 450, 60 * MIN, ["transport_heat_45"]),
        ("type2", 449, 60 * MIN, []),
        ("type2", -5, 5 * HOUR, []),  # type 2 has no freeze rule
        ("type2", 300, 10 * HOUR, ["transport_heat_30_cumulative"]),
        ("type2", 100, 20 * HOUR, ["transport_10_cumulative"]),
        ("type2", 100, 20 * HOUR - MIN, []),
        ("type2", 99, 25 * HOUR, []),
        ("type2", 450, 20 * HOUR, ["transport_heat_45", "transport_heat_30_cumulative", "transport_10_cumulative"]),
    ],
)
def test_transport_thresholds(
    ruleset: RuleSet, transport: str, temp_dc: int, duration_ms: int, expected: list[str]
) -> None:
    f = feed(ruleset, "vehicle", transport)
    f.hold(0, duration_ms, temp_dc, step_ms=5 * MIN)
    assert f.kinds() == expected


def test_heat_45_is_a_single_event(ruleset: RuleSet) -> None:
    f = feed(ruleset, "vehicle", "type1")
    f.hold(0, 50 * MIN, 460, step_ms=5 * MIN)
    f.at(55 * MIN, 449)
    f.hold(60 * MIN, 110 * MIN, 460, step_ms=5 * MIN)
    assert "transport_heat_45" not in f.kinds()


@pytest.mark.parametrize(
    ("transport", "kind", "hot", "cool", "total_ms"),
    [
        ("type1", "transport_heat_30_cumulative", 300, 250, 10 * HOUR),
        ("type2", "transport_heat_30_cumulative", 300, 250, 10 * HOUR),
        ("type2", "transport_10_cumulative", 100, 60, 20 * HOUR),
    ],
)
def test_cumulative_adds_separate_periods(
    ruleset: RuleSet, transport: str, kind: str, hot: int, cool: int, total_ms: int
) -> None:
    f = feed(ruleset, "vehicle", transport)
    half = total_ms // 2
    f.hold(0, half, hot, step_ms=5 * MIN)  # first period: half the budget
    f.at(half + 5 * MIN, cool)  # cooled for a while: neither interval next to this reading counts
    f.at(half + 2 * HOUR, cool)
    start2 = half + 3 * HOUR
    f.hold(start2, start2 + half - 5 * MIN, hot, step_ms=5 * MIN)
    assert kind not in f.kinds()
    (e,) = f.at(start2 + half, hot)  # the second period completes the budget
    assert e.kind == kind and e.exposure_ms == total_ms
    assert e.opened_at_ms == T0  # the first reading of the leg that met the condition
    assert e.trigger.ts_ms == T0 + start2 + half


def test_cumulative_counts_intervals_with_both_ends_in_breach(ruleset: RuleSet) -> None:
    """Alternating hot/cool readings accumulate nothing: an interval counts only if both ends meet the condition."""
    f = feed(ruleset, "vehicle", "type1")
    for i in range(200):
        f.at(i * 5 * MIN, 350 if i % 2 == 0 else 200)
    state = f.det.to_dict()["equipment"][str(EQ)]["tracks"]["transport_heat_30_cumulative"]
    assert state["exposure_ms"] == 0
    assert (state["min_dc"], state["max_dc"]) == (350, 350)


def test_cumulative_stays_open_until_end_leg(ruleset: RuleSet) -> None:
    f = feed(ruleset, "vehicle", "type1")
    f.hold(0, 10 * HOUR, 310, step_ms=10 * MIN)
    f.at(10 * HOUR + 10 * MIN, 500)
    f.hold(10 * HOUR + 20 * MIN, 11 * HOUR, 50)  # back in range: the exposure still happened
    assert f.kinds("close") == []
    assert f.det.open_alarms(EQ) == ["transport_heat_30_cumulative"]
    (c,) = f.det.end_leg(EQ, at_ms=T0 + 11 * HOUR + 5 * MIN)
    assert c.action == "close" and c.kind == "transport_heat_30_cumulative"
    assert c.closed_at_ms == T0 + 11 * HOUR + 5 * MIN and c.closed_by is None
    assert (c.min_dc, c.max_dc, c.exposure_ms) == (310, 500, 10 * HOUR + 10 * MIN)
    assert f.det.open_alarms(EQ) == [] and f.det.to_dict()["equipment"] == {}
    assert f.det.end_leg(EQ) == []


def test_end_leg_closes_single_event_and_silent_alarms(ruleset: RuleSet) -> None:
    f = feed(ruleset, "vehicle", "type1")
    f.hold(0, 60 * MIN, -10, step_ms=5 * MIN)
    assert f.kinds() == ["transport_freeze"]
    events = f.det.end_leg(EQ, at_ms=T0 + 80 * MIN)  # 20 min silent before the leg ended
    assert [(e.action, e.kind) for e in events] == [
        ("open", "silent"),
        ("close", "transport_freeze"),
        ("close", "silent"),
    ]
    assert all(e.closed_at_ms == T0 + 80 * MIN for e in events if e.action == "close")
    with pytest.raises(ValueError, match="before the last reading"):
        f2 = feed(ruleset)
        f2.at(HOUR, 50)
        f2.det.end_leg(EQ, at_ms=T0)


def test_new_leg_may_change_transport_type(ruleset: RuleSet) -> None:
    f = feed(ruleset, "vehicle", "type1")
    f.at(0, 50)
    r = Reading("dev-1", EQ, 99, T0 + MIN, 50)
    with pytest.raises(ValueError, match="end_leg"):
        f.det.observe("vehicle", r, "type2")
    f.det.end_leg(EQ)
    assert f.det.observe("vehicle", r, "type2") == []


@pytest.mark.parametrize(
    ("kind", "transport", "match"),
    [("vehicle", None, "transport type"), ("fridge", "type1", "only vehicles"), ("boat", None, "unknown equipment")],
)
def test_bad_kind_or_transport(ruleset: RuleSet, kind: str, transport: str | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ExcursionDetector(ruleset).observe(kind, Reading("d", 1, 1, T0, 50), transport)


# ---------------------------------------------------------------- sensor silent


@pytest.mark.parametrize(
    ("kind", "transport", "limit_ms"),
    [("fridge", None, 30 * MIN), ("freezer", None, 30 * MIN), ("vehicle", "type1", 15 * MIN)],
)
def test_silent_at_exactly_the_limit(ruleset: RuleSet, kind: str, transport: str | None, limit_ms: int) -> None:
    f = feed(ruleset, kind, transport)
    f.at(0, -200 if kind == "freezer" else 50)
    assert f.det.tick(T0 + limit_ms - 1) == []
    (e,) = f.det.tick(T0 + limit_ms)
    assert (e.action, e.kind, e.severity) == ("open", "silent", 1)
    assert e.opened_at_ms == T0 and e.trigger == ReadingRef("dev-1", 1, T0) and e.at_ms == T0 + limit_ms
    assert (e.min_dc, e.max_dc) == (None, None)
    assert f.det.tick(T0 + 5 * limit_ms) == []  # not reported twice
    (c,) = f.at(2 * HOUR, 50 if kind != "freezer" else -200)
    assert (c.action, c.kind, c.closed_at_ms, c.exposure_ms) == ("close", "silent", T0 + 2 * HOUR, 2 * HOUR)
    assert c.closed_by == ReadingRef("dev-1", 2, T0 + 2 * HOUR)


def test_gap_without_tick_still_reports_silence(ruleset: RuleSet) -> None:
    f = feed(ruleset)
    f.at(0, 50)
    f.at(29 * MIN, 50)
    assert f.events == []
    events = f.at(59 * MIN, 50)
    assert [(e.action, e.kind) for e in events] == [("open", "silent"), ("close", "silent")]
    assert events[0].at_ms == events[1].closed_at_ms == T0 + 59 * MIN


def test_silent_during_open_heat_alarm(ruleset: RuleSet) -> None:
    """A breach whose sensor dies stays open, and the silence alarms too."""
    f = feed(ruleset)
    f.hold(0, 10 * HOUR, 95)
    assert f.det.open_alarms(EQ) == ["heat"]
    (s,) = f.det.tick(T0 + 10 * HOUR + 30 * MIN)
    assert s.kind == "silent"
    assert f.det.tick(T0 + 100 * HOUR) == []
    assert f.det.open_alarms(EQ) == ["heat", "silent"]
    assert f.det.to_dict()["equipment"][str(EQ)]["silent_since_ms"] == T0 + 10 * HOUR + 30 * MIN
    events = f.at(100 * HOUR, 40)  # the sensor comes back, in range
    assert [(e.action, e.kind) for e in events] == [("close", "silent"), ("close", "heat")]


def test_end_leg_never_closes_silent_before_it_opened(ruleset: RuleSet) -> None:
    f = feed(ruleset, "vehicle", "type2")
    f.at(0, 50)
    (s,) = f.det.tick(T0 + HOUR)
    (c,) = f.det.end_leg(EQ)
    assert (c.action, c.kind, c.closed_at_ms, c.exposure_ms) == ("close", "silent", s.at_ms, HOUR)


def test_tick_covers_every_equipment_in_order(ruleset: RuleSet) -> None:
    det = ExcursionDetector(ruleset)
    det.observe("fridge", Reading("a", 3, 1, T0, 50))
    det.observe("vehicle", Reading("b", 2, 1, T0, 50), "type2")
    det.observe("cold_room", Reading("c", 1, 1, T0 + 20 * MIN, 50))
    assert [e.equipment for e in det.tick(T0 + 15 * MIN)] == [2]
    assert [e.equipment for e in det.tick(T0 + 30 * MIN)] == [3]
    assert [e.equipment for e in det.tick(T0 + 50 * MIN)] == [1]


# ---------------------------------------------------------------- ordering and persistence


def test_out_of_order_reading_is_rejected_without_change(ruleset: RuleSet) -> None:
    f = feed(ruleset)
    f.at(10 * MIN, 90)
    before = f.det.to_dict()
    with pytest.raises(ValueError, match="older than the last"):
        f.at(10 * MIN - 1, 90)
    assert f.det.to_dict() == before
    f.at(10 * MIN, 90)  # the same timestamp is accepted


# A scenario: ("r", offset, temp) readings and ("t", offset) ticks, with their kind and transport.
SCENARIOS: list[tuple[str, str | None, list[tuple[Any, ...]]]] = [
    (
        "fridge",
        None,
        [("r", i * 20 * MIN, 90 + i) for i in range(32)]
        + [("t", 11 * HOUR), ("r", 12 * HOUR, 50), ("r", 12 * HOUR + 10 * MIN, -5)]
        + [("r", 12 * HOUR + 10 * MIN + i * 10 * MIN, -10 - i) for i in range(1, 8)]
        + [("r", 14 * HOUR, 30)],
    ),
    (
        "vehicle",
        "type2",
        [("r", i * 10 * MIN, 460 if i < 12 else 320) for i in range(50)]
        + [("t", 9 * HOUR), ("r", 9 * HOUR + MIN, 150)]
        + [("r", 9 * HOUR + i * 10 * MIN, 310) for i in range(1, 80)]
        + [("t", 30 * HOUR)],
    ),
]


def _run(
    det: ExcursionDetector, kind: str, transport: str | None, steps: list[tuple[Any, ...]], first_seq: int = 1
) -> list[AlarmEvent]:
    events: list[AlarmEvent] = []
    for n, step in enumerate(steps, start=first_seq - 1):
        if step[0] == "r":
            events += det.observe(kind, Reading("dev-1", EQ, n + 1, T0 + step[1], step[2]), transport)
        else:
            events += det.tick(T0 + step[1])
    return events


@pytest.mark.parametrize(("kind", "transport", "steps"), SCENARIOS)
def test_state_round_trip_mid_breach(ruleset: RuleSet, kind: str, transport: str | None, steps: list) -> None:
    """Stopping anywhere, persisting as JSON and resuming gives exactly the events of an uninterrupted run."""
    straight = ExcursionDetector(ruleset)
    whole = _run(straight, kind, transport, steps) + straight.end_leg(EQ)
    assert {e.kind for e in whole} >= {"silent"} and len(whole) >= 4
    for cut in range(1, len(steps)):
        first = ExcursionDetector(ruleset)
        events = _run(first, kind, transport, steps[:cut])
        saved = json.loads(json.dumps(first.to_dict()))
        resumed = ExcursionDetector.from_dict(ruleset, saved)
        assert resumed.to_dict() == first.to_dict()
        events += _run(resumed, kind, transport, steps[cut:], first_seq=cut + 1)
        events += resumed.end_leg(EQ)
        assert events == whole, cut


def test_from_dict_rejects_other_rules_version(ruleset: RuleSet) -> None:
    state = ExcursionDetector(ruleset).to_dict()
    state["rules_version"] = "rules-v0"
    with pytest.raises(ValueError, match="rules-v0"):
        ExcursionDetector.from_dict(ruleset, state)


# ---------------------------------------------------------------- configuration


def test_default_config_loads(ruleset: RuleSet) -> None:
    assert RuleSet.load(DEFAULT_RULES_PATH) == ruleset
    assert set(ruleset.profiles) == {"fridge", "freezer", "cold_room", "cold_box", "vehicle/type1", "vehicle/type2"}
    heat = next(r for r in ruleset.profiles["fridge"].rules if r.kind == "heat")
    assert (heat.op, heat.threshold_dc, heat.duration_ms, heat.status) == (">", 80, 10 * HOUR, "unconfirmed")
    assert ruleset.profiles["fridge"].silent_after_ms == 30 * MIN
    assert ruleset.profiles["vehicle/type1"].silent_after_ms == 15 * MIN
    assert [r.kind for r in ruleset.profiles["freezer"].rules] == ["heat"]


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = json.loads(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DELETE = object()
_FRIDGE_HEAT = ["equipment", "fridge", "rules", 0]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["version"], _DELETE, "version"),
        (["version"], "", "version"),
        (["equipment", "cold_box"], _DELETE, "equipment.cold_box"),
        (["equipment", "vehicle", "transport_types", "type2"], _DELETE, "equipment.vehicle.transport_types.type2"),
        (["equipment", "fridge", "silent", "after_min"], 0, "equipment.fridge.silent.after_min"),
        (["equipment", "vehicle", "silent"], _DELETE, "equipment.vehicle.silent"),
        (["equipment", "freezer", "rules"], {}, "equipment.freezer.rules"),
        ([*_FRIDGE_HEAT, "threshold_dc"], "80", "equipment.fridge.rules[0].threshold_dc"),
        ([*_FRIDGE_HEAT, "threshold_dc"], 8.0, "equipment.fridge.rules[0].threshold_dc"),
        ([*_FRIDGE_HEAT, "threshold_dc"], True, "equipment.fridge.rules[0].threshold_dc"),
        ([*_FRIDGE_HEAT, "duration_min"], 0, "equipment.fridge.rules[0].duration_min"),
        ([*_FRIDGE_HEAT, "duration_min"], _DELETE, "equipment.fridge.rules[0].duration_min"),
        ([*_FRIDGE_HEAT, "op"], "=>", "equipment.fridge.rules[0].op"),
        ([*_FRIDGE_HEAT, "mode"], "average", "equipment.fridge.rules[0].mode"),
        ([*_FRIDGE_HEAT, "kind"], "warm", "equipment.fridge.rules[0].kind"),
        ([*_FRIDGE_HEAT, "kind"], "freeze", "equipment.fridge.rules"),  # duplicate kind
        ([*_FRIDGE_HEAT, "severity"], 0, "equipment.fridge.rules[0].severity"),
        (["equipment", "vehicle", "transport_types", "type1", 1, "kind"], _DELETE, "type1[1].kind"),
    ],
)
def test_malformed_config_names_the_field(path: list[Any], value: Any, field: str) -> None:
    with pytest.raises(ValueError, match=r"rules config: .*" + field.replace("[", r"\[").replace("]", r"\]")):
        RuleSet.from_config(_mutate(path, value))


def test_unparsable_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "rules.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        RuleSet.load(bad)
    good = tmp_path / "rules-v2.json"
    data = copy.deepcopy(_mutate(["version"], "rules-v2"))
    good.write_text(json.dumps(data), encoding="utf-8")
    assert RuleSet.load(good).version == "rules-v2"
