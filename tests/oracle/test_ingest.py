"""The ingest path without a chain: validation, durable store, rules, alarms and the
chain outbox, across restarts of the process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oracle.alarms import AlarmBook, TierPolicy
from oracle.config import DEFAULT_TIERS_PATH
from oracle.devices import DeviceEntry, Registry
from oracle.excursions import REPORT
from oracle.identity import public_bytes, sign
from oracle.ingest import DETECTOR_STATE, Ingestor
from oracle.reading import Reading
from oracle.rules import RuleSet
from oracle.store import Store
from oracle.validate import ReadingValidator, Reason, Rejection

MIN = 60_000
T0 = 1_767_225_600_000
FRIDGE, VAN = 11, 12


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Sensor:
    def __init__(self, name: str, equipment: int) -> None:
        self.name, self.equipment = name, equipment
        self.key = Ed25519PrivateKey.generate()
        self.seq = 0

    def entry(self, kind: str, transport: str | None = None) -> DeviceEntry:
        return DeviceEntry(self.name, self.equipment, kind, public_bytes(self.key).hex(), 3, transport)

    def read(self, ts_ms: int, temp_c: float) -> tuple[Reading, bytes]:
        self.seq += 1
        r = Reading(self.name, self.equipment, self.seq, ts_ms, round(temp_c * 10))
        return r, sign(self.key, r)


class Rig:
    """An ingestor over a store file, rebuilt from that file as a restarted daemon would."""

    def __init__(self, path: Path, registry: Registry, clock: Clock) -> None:
        self.path, self.registry, self.clock = path, registry, clock
        self.chain_work = 0
        self.open()

    def open(self) -> None:
        self.store = Store(self.path)
        self.book = AlarmBook(self.store, TierPolicy.load(DEFAULT_TIERS_PATH))
        validator = ReadingValidator(self.registry.validator_devices(), clock=self.clock)
        self.ingestor = Ingestor(
            self.store, validator, RuleSet.load(), self.book, self.registry, clock=self.clock, on_chain_work=self._work
        )

    def _work(self) -> None:
        self.chain_work += 1

    def restart(self) -> None:
        self.store.close()
        self.open()


@pytest.fixture
def sensors() -> dict[str, Sensor]:
    return {"fridge": Sensor("probe-a", FRIDGE), "van": Sensor("probe-v", VAN)}


@pytest.fixture
def rig(tmp_path: Path, sensors: dict[str, Sensor]) -> Rig:
    registry = Registry([sensors["fridge"].entry("fridge"), sensors["van"].entry("vehicle", "type1")])
    return Rig(tmp_path / "oracle.db", registry, Clock(T0 + 24 * 60 * MIN))


def freeze(sensor: Sensor, minutes: int, start: int = T0, temp: float = -1.0) -> list[tuple[Reading, bytes]]:
    """Readings every 5 min at `temp` from start, `minutes` long (both ends read)."""
    return [sensor.read(start + m * MIN, temp) for m in range(0, minutes + 1, 5)]


def test_accepted_readings_are_stored_and_refusals_are_counted_with_reasons(rig: Rig, sensors) -> None:
    good = [sensors["fridge"].read(T0 + i * 5 * MIN, 4.0) for i in range(3)]
    forged_r = Reading("probe-a", FRIDGE, 99, T0 + 20 * MIN, 40)
    items = [*good, (forged_r, b"\x01" * 64), Rejection(Reason.MALFORMED_JSON, "not JSON"), (good[0][0], None)]

    result = rig.ingestor.ingest(items, "test")

    assert result.accepted == 3 and rig.store.count() == 3
    assert [(r.index, r.reason) for r in result.refused] == [
        (3, Reason.BAD_SIGNATURE),
        (4, Reason.MALFORMED_JSON),
        (5, Reason.MISSING_SIGNATURE),
    ]
    assert rig.ingestor.counters.refused == {"bad_signature": 1, "malformed_json": 1, "missing_signature": 1}


def test_a_redelivered_reading_is_a_duplicate_not_a_refusal(rig: Rig, sensors) -> None:
    batch = [sensors["fridge"].read(T0 + i * MIN, 4.0) for i in range(5)]
    rig.ingestor.ingest(batch, "mqtt")
    rig.restart()  # the broker redelivers what was not acknowledged before the crash

    result = rig.ingestor.ingest(batch, "mqtt")

    assert (result.accepted, result.duplicates, result.refused) == (0, 5, [])
    assert rig.store.count() == 5


def test_a_replay_with_other_content_is_refused(rig: Rig, sensors) -> None:
    s = sensors["fridge"]
    rig.ingestor.ingest([s.read(T0, 4.0)], "mqtt")
    s.seq -= 1
    result = rig.ingestor.ingest([s.read(T0 + MIN, 5.0)], "mqtt")  # same seq, validly signed, different reading
    assert [r.reason for r in result.refused] == [Reason.REPLAY]


def test_a_freeze_raises_one_alarm_and_queues_one_chain_report(rig: Rig, sensors) -> None:
    rig.ingestor.ingest(freeze(sensors["fridge"], 55), "mqtt")
    assert rig.book.alarms() == [] and rig.store.pending() == []

    rig.ingestor.ingest(freeze(sensors["fridge"], 5, start=T0 + 60 * MIN), "mqtt")  # 60 min at -1 °C

    [alarm] = rig.book.alarms()
    assert (alarm.kind, alarm.severity, alarm.tier, alarm.equipment) == ("freeze", 4, "cdc", FRIDGE)
    assert alarm.opened_at_ms == T0 and alarm.facility is None
    [item] = rig.store.pending()
    assert item.kind == REPORT and json.loads(item.payload)["excursion"] == alarm.alarm_id
    assert rig.chain_work == 1


def test_judging_resumes_after_a_crash_between_commit_and_judging(rig: Rig, sensors) -> None:
    readings = freeze(sensors["fridge"], 70)
    # The crash: readings committed, the rules never saw them (the daemon died in between).
    rig.store.append(readings[:10])
    rig.restart()
    assert len(rig.book.alarms()) == 0  # 45 min: not yet
    rig.store.append(readings[10:])  # the rest, again unjudged
    rig.restart()

    [alarm] = rig.book.alarms()
    assert alarm.kind == "freeze"
    state = json.loads(rig.store.get_state(DETECTOR_STATE))
    assert state["cursor"] == rig.store.last_reading_id()


def test_judging_the_same_readings_again_raises_nothing_twice(rig: Rig, sensors) -> None:
    rig.ingestor.ingest(freeze(sensors["fridge"], 70), "mqtt")
    rig.store.put_state(DETECTOR_STATE, json.dumps({"cursor": 0, "detector": {"rules_version": "rules-v1"}}))
    rig.restart()  # the rules' state is lost: every reading is judged again

    assert len(rig.book.alarms()) == 1
    assert len(rig.store.pending()) == 1
    assert [e.action for e in rig.book.history(rig.book.alarms()[0].alarm_id)] == ["raised"]


def test_warming_back_closes_the_alarm_and_queues_the_close_after_the_report(rig: Rig, sensors) -> None:
    rig.ingestor.ingest(freeze(sensors["fridge"], 60), "mqtt")
    rig.ingestor.ingest([sensors["fridge"].read(T0 + 65 * MIN, 4.0)], "mqtt")

    [alarm] = rig.book.alarms()
    assert alarm.closed_at_ms == T0 + 65 * MIN and (alarm.min_dc, alarm.max_dc) == (-10, -10)
    assert [i.kind for i in rig.store.pending()] == ["report", "close"]


def test_a_silent_sensor_is_an_alarm_for_people_not_a_chain_write(rig: Rig, sensors) -> None:
    rig.clock.now = T0
    rig.ingestor.ingest([sensors["fridge"].read(T0, 4.0)], "mqtt")
    rig.clock.now = T0 + 30 * MIN
    [event] = rig.ingestor.tick()

    assert event.kind == "silent"
    [alarm] = rig.book.alarms()
    assert (alarm.kind, alarm.tier) == ("silent", "site")
    assert rig.store.pending() == []


def test_a_sensor_silent_past_the_abandon_limit_has_its_excursion_closed(rig: Rig, sensors) -> None:
    rig.clock.now = T0 + 60 * MIN
    rig.ingestor.ingest(freeze(sensors["fridge"], 60), "mqtt")  # freeze alarm open, then the probe dies
    rig.clock.now = T0 + 60 * MIN + 30 * MIN
    rig.ingestor.tick()
    assert {a.kind for a in rig.book.alarms(open_only=True)} == {"freeze", "silent"}

    rig.clock.now = T0 + 60 * MIN + 24 * 60 * MIN + 30 * MIN
    rig.ingestor.tick()

    assert rig.book.alarms(open_only=True) == []
    freeze_alarm = next(a for a in rig.book.alarms() if a.kind == "freeze")
    assert freeze_alarm.closed_at_ms == T0 + 90 * MIN  # when it went silent, never later than known
    assert [i.kind for i in rig.store.pending()] == ["report", "close"]


def test_a_vehicle_leg_end_closes_a_cumulative_alarm(rig: Rig, sensors) -> None:
    van = sensors["van"]
    hot = [van.read(T0 + m * MIN, 31.0) for m in range(0, 10 * 60 + 1, 10)]  # 10 h >= 30 °C: cumulative
    rig.ingestor.ingest(hot, "mqtt")
    [alarm] = rig.book.alarms(open_only=True)
    assert alarm.kind == "transport_heat_30_cumulative"
    assert rig.ingestor.watched_vehicles() == [VAN]

    rig.ingestor.end_leg(VAN)

    assert rig.book.alarms(open_only=True) == [] and rig.ingestor.watched_vehicles() == []


def test_a_failing_store_acknowledges_nothing_and_the_same_items_go_in_later(rig: Rig, sensors, monkeypatch) -> None:
    batch = [sensors["fridge"].read(T0 + i * MIN, 4.0) for i in range(3)]

    def full(*a, **k):
        raise OSError("database or disk is full")

    monkeypatch.setattr(rig.store, "append", full)
    with pytest.raises(OSError):
        rig.ingestor.ingest(batch, "mqtt")
    monkeypatch.undo()

    assert rig.ingestor.ingest(batch, "mqtt").accepted == 3  # the validator was rewound: not "replays"


def test_the_excursion_id_is_the_alarm_id_and_depends_on_what_was_seen(rig: Rig, sensors) -> None:
    rig.ingestor.ingest(freeze(sensors["fridge"], 60), "mqtt")
    [alarm] = rig.book.alarms()
    payload = json.loads(rig.store.pending()[0].payload)
    assert payload["opened_at_ms"] == T0 and payload["equipment"] == FRIDGE
    assert alarm.alarm_id == payload["excursion"] and len(bytes.fromhex(alarm.alarm_id)) == 32

    other = Sensor("probe-b", FRIDGE + 100)
    rig.registry.add(other.entry("fridge"))
    rig.ingestor.set_registry(rig.registry)
    rig.ingestor.ingest(freeze(other, 60), "mqtt")  # same kind and start, other equipment: another excursion
    assert len({a.alarm_id for a in rig.book.alarms()}) == 2


def test_a_backlog_still_arriving_is_not_silence_but_a_sensor_that_stopped_in_it_is(rig: Rig, sensors) -> None:
    fridge, van = sensors["fridge"], sensors["van"]
    now = T0 + 24 * 60 * MIN
    # A gateway back online delivers the last six hours; the van's probe died an hour before the end.
    for start in range(0, 6 * 60, 30):
        rig.clock.now = now + start * 100  # each half hour of the past arrives three seconds after the last
        batch = [fridge.read(now - (6 * 60 - m) * MIN, 4.0) for m in range(start, start + 30, 5)]
        if start < 5 * 60:
            batch += [van.read(now - (6 * 60 - m) * MIN, 20.0) for m in range(start, start + 30, 5)]
            van_arrived = rig.clock.now
        rig.ingestor.ingest(batch, "gateway")
        assert rig.ingestor.tick() == []  # hours-old readings, still arriving: nobody is silent

    rig.clock.now = van_arrived + 59_999
    assert rig.ingestor.tick() == []
    rig.clock.now = van_arrived + 60_000
    [silent] = rig.ingestor.tick()  # the van's delivery settled: its last reading is an hour old

    assert (silent.kind, silent.equipment) == ("silent", VAN)
    assert [a.kind for a in rig.book.alarms()] == ["silent"]
