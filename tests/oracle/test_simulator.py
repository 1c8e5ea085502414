"""The sensor simulator: pure, no broker."""

from __future__ import annotations

import io
import itertools
from dataclasses import replace

import pytest

from oracle.identity import verify
from oracle.simulator import (
    PROFILES,
    Fault,
    SimulatedSensor,
    build_sensors,
    merged,
    parse_equipment,
    parse_fault,
    read_csv,
    timeline,
    topic_for,
    write_csv,
)
from oracle.validate import encode_message, parse_message

DAY = 86400
HOUR = 3600


def temps(rows):
    return [r.temp_c for r, _ in rows]


def test_compressor_cycles_stay_in_band_over_24h():
    no_doors = replace(PROFILES["fridge"], door_per_hour=0)
    for seed in range(5):
        s = SimulatedSensor("fridge-1", 5, profile=no_doors, seed=seed)
        rows = s.run(DAY)
        assert len(rows) == DAY // 300
        t = temps(rows)
        assert min(t) >= 2.5 and max(t) <= 6.5, (seed, min(t), max(t))
        assert max(t) - min(t) > 2.0  # it really cycles
    # ~20-40 min cycles: count compressor starts over a day at fine resolution
    m = SimulatedSensor("fridge-1", 5, profile=no_doors, seed=1).model
    starts, prev = 0, m.compressor_on
    for _ in range(DAY // 15):
        m.advance(15)
        starts += m.compressor_on and not prev
        prev = m.compressor_on
    assert 36 <= starts <= 72


def test_door_openings_spike_and_recover():
    busy = replace(PROFILES["fridge"], door_per_hour=2.0)
    s = SimulatedSensor("fridge-1", 5, profile=busy, seed=3, interval_s=60)
    rows = s.run(DAY)
    doors = [i for i, (r, _) in enumerate(rows) if r.door_open]
    assert doors
    assert max(temps(rows)) > 7.0  # a few degrees up
    assert max(temps(rows)) < 15.0
    for i in doors:  # back in the cabinet's band within ~10 minutes of the door flag
        later = [r.temp_c for r, _ in rows[i + 1 : i + 15] if not r.door_open]
        if later:
            assert min(later) <= 6.7


def test_power_cut_crosses_8_and_keeps_rising_toward_ambient():
    s = SimulatedSensor("fridge-1", 6, seed=2, faults=[Fault("power_cut", 2 * HOUR)])
    rows = s.run(DAY)
    before = [r.temp_c for r, _ in rows if r.ts_ms - rows[0][0].ts_ms < 2 * HOUR * 1000]
    assert max(before) <= 6.5
    after = [r.temp_c for r, _ in rows if r.ts_ms - rows[0][0].ts_ms >= 2 * HOUR * 1000]
    assert any(t > 8.0 for t in after)
    hourly = after[::12]
    assert all(b > a - 0.3 for a, b in itertools.pairwise(hourly[:13]))  # rising (noise aside)
    assert 20.0 < after[-1] < 27.5  # toward ambient (~25 °C), tau of hours
    assert after[12] < 20.0  # not instantly


def test_power_cut_with_duration_recovers():
    no_doors = replace(PROFILES["fridge"], door_per_hour=0)
    s = SimulatedSensor("fridge-1", 6, profile=no_doors, seed=2, faults=[parse_fault("6:power_cut@1h+3h")[1]])
    rows = s.run(12 * HOUR)
    assert max(temps(rows)) > 8.0
    assert max(temps(rows[-24:])) <= 6.5


def test_freezing_fault_crosses_minus_half_degree():
    s = SimulatedSensor("fridge-1", 6, seed=4, faults=[Fault("freezing", HOUR)])
    t = temps(s.run(12 * HOUR))
    assert min(t) <= -0.5
    assert min(t) > -3.5  # toward -3 °C, not the evaporator
    assert min(t[-24:]) <= -2.5


def test_dead_sensor_emits_nothing_after_death():
    start_ms = 1_700_000_000_000
    s = SimulatedSensor("fridge-1", 7, seed=5, start_ms=start_ms, faults=[Fault("dead", 6 * HOUR)])
    rows = s.run(DAY)
    assert len(rows) == 6 * 12
    assert all(r.ts_ms < start_ms + 6 * HOUR * 1000 for r, _ in rows)
    assert [r.seq for r, _ in rows] == list(range(len(rows)))


def test_drift_adds_offset():
    plain = temps(SimulatedSensor("d", 1, seed=6).run(2 * DAY))
    drifting = temps(SimulatedSensor("d", 1, seed=6, faults=[parse_fault("1:drift@1d=2")[1]]).run(2 * DAY))
    assert plain[:288] == drifting[:288]
    assert 1.8 <= drifting[-1] - plain[-1] <= 2.2


@pytest.mark.parametrize(
    ("kind", "lo", "hi"),
    [("freezer", -23.0, -5.0), ("cold_room", 2.5, 8.5), ("vehicle", 2.0, 10.0), ("cold_box", 1.5, 8.0)],
)
def test_other_kinds_hold_their_range(kind, lo, hi):
    t = temps(SimulatedSensor("d", 1, kind, seed=7).run(DAY))
    assert lo <= min(t) and max(t) <= hi, (min(t), max(t))


def test_vehicle_reefer_failure_warms_with_ambient_and_cold_box_runs_out_of_ice():
    v = temps(SimulatedSensor("d", 1, "vehicle", seed=8, faults=[Fault("power_cut", HOUR)]).run(12 * HOUR))
    assert max(v) > 25.0
    box = temps(SimulatedSensor("d", 1, "cold_box", seed=8).run(4 * DAY))
    assert max(box[: 40 * 12]) <= 5.5  # ice holds for ~48 h
    assert max(box) > 20.0  # then it warms


def test_deterministic_by_seed():
    def run(seed):
        return SimulatedSensor("d", 1, seed=seed, faults=[Fault("power_cut", 5 * HOUR)]).run(DAY)

    assert run(11) == run(11)
    assert temps(run(11)) != temps(run(12))


def test_signatures_verify():
    s = SimulatedSensor("fridge-9", 9, seed=9)
    rows = s.run(6 * HOUR)
    assert all(verify(s.public_key, r, sig) for r, sig in rows)
    r, sig = rows[0]
    assert not verify(s.public_key, replace(r, temp_dc=r.temp_dc + 1), sig)
    assert not verify(SimulatedSensor("other", 9, seed=9).public_key, r, sig)


def test_readings_fields():
    s = SimulatedSensor("fridge-1", 5, seed=1, start_ms=1_000_000, interval_s=600)
    rows = s.run(HOUR)
    assert [r.ts_ms for r, _ in rows] == [1_000_000 + i * 600_000 for i in range(6)]
    assert {r.device for r, _ in rows} == {"fridge-1"} and {r.equipment for r, _ in rows} == {5}
    assert all(0 <= r.battery <= 100 for r, _ in rows)


def test_payload_round_trip():
    r, sig = SimulatedSensor("fridge-1", 5, seed=1).step()
    assert parse_message(encode_message(r, sig)) == (r, sig)
    assert topic_for(5) == "vaxledger/readings/5"
    text = encode_message(r, sig).decode()
    assert f'"temp_c":{r.temp_dc / 10}' in text


def test_csv_round_trip():
    sensors = build_sensors(parse_equipment("5,6=freezer"), [parse_fault("6:power_cut@1h")], seed=3)
    rows = list(merged(s.readings(6 * HOUR) for s in sensors))
    buf = io.StringIO()
    assert write_csv(buf, rows) == len(rows)
    assert buf.getvalue().splitlines()[0] == "device,equipment,seq,ts,temp_c,battery,door,sig"
    buf.seek(0)
    assert read_csv(buf) == rows


def test_fault_syntax():
    assert parse_fault("6:power_cut@2h") == (6, Fault("power_cut", 7200.0))
    assert parse_fault("7:drift@1d+12h=0.5") == (7, Fault("drift", 86400.0, 43200.0, 0.5))
    for bad in ("6:power_cut", "x:dead@1h", "6:meltdown@1h", "6:dead@1y"):
        with pytest.raises(ValueError):
            parse_fault(bad)
    with pytest.raises(ValueError):
        build_sensors([(5, "fridge")], [parse_fault("6:dead@1h")])


def test_a_timeline_goes_on_past_a_sensor_that_died_for_good() -> None:
    def sensors() -> list[SimulatedSensor]:
        return [
            SimulatedSensor("alive", 1, seed=3),
            SimulatedSensor("dies", 2, seed=3, faults=[Fault("dead", 600)]),
        ]

    endless = list(itertools.islice(timeline(sensors()), 40))  # live mode: no end, one sensor silent for ever
    assert [r.device for r, _ in endless[-10:]] == ["alive"] * 10
    assert [r.ts_ms for r, _ in endless] == sorted(r.ts_ms for r, _ in endless)

    finite = list(timeline(sensors(), 3 * 3600))
    a, b = sensors()
    assert finite == list(merged([a.run(3 * 3600), b.run(3 * 3600)]))  # the same readings as merging them


@pytest.mark.parametrize("faults", [[], [Fault("freezing", 2 * HOUR, 2 * HOUR)], [Fault("dead", HOUR, HOUR)]])
def test_a_resumed_sensor_reads_what_it_would_have_read(faults) -> None:
    """A restart lives the outage unreported, so the first reading after it is the one an uninterrupted
    sensor takes at that time (a new world would jump, and the oracle would refuse the jump)."""
    start_ms, outage_end_ms = 1_700_000_000_000, 1_700_000_000_000 + 5 * HOUR * 1000 + 7_000
    straight = SimulatedSensor("d", 1, seed=4, start_ms=start_ms, faults=faults, interval_s=30).run(6 * HOUR)
    resumed = SimulatedSensor("d", 1, seed=4, start_ms=start_ms, faults=faults, interval_s=30)
    resumed.skip_to(outage_end_ms)
    after = resumed.run(6 * HOUR - resumed.t)
    expected = [r for r, _ in straight if r.ts_ms >= outage_end_ms]
    assert [(r.ts_ms, r.temp_dc, r.door_open) for r, _ in after] == [
        (r.ts_ms, r.temp_dc, r.door_open) for r in expected
    ]
    assert after[0][0].ts_ms - outage_end_ms < 30_000
