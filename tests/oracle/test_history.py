"""An equipment's history read from a real store: a chart keeps every peak when downsampled, a record finds its
gaps at the start, between readings and at the end, and says whether it is complete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oracle import history
from oracle.history import Point
from oracle.reading import Reading
from oracle.store import Store

MIN = 60_000
T0 = 1_767_225_600_000
SIG = bytes(64)
FRIDGE = 12


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "oracle.db") as s:
        yield s


def put(store: Store, points: list[tuple[int, int]], equipment: int = FRIDGE, device: str = "probe") -> None:
    """(ts_ms, temp_dc) readings, one device, seq in the given order."""
    first = store.last_reading_id() + 1
    store.append(
        [(Reading(device, equipment, first + i, ts, dc), SIG) for i, (ts, dc) in enumerate(points)],
        received_at=T0,
    )


def every(minutes: int, start: int, end: int, dc: int = 50) -> list[tuple[int, int]]:
    return [(ts, dc) for ts in range(start, end + 1, minutes * MIN)]


def test_a_single_warm_reading_among_thousands_survives_downsampling(store: Store) -> None:
    readings = every(1, T0, T0 + 4_999 * MIN)  # 5,000 readings at 5.0 °C
    spike, dip = readings[3_210][0], readings[777][0]
    readings[3_210] = (spike, 120)
    readings[777] = (dip, -6)
    put(store, readings)
    end = T0 + 4_999 * MIN

    with store.snapshot() as db:
        chart = history.series(db, FRIDGE, T0, end, max_points=1_000)

    assert chart.downsampled and chart.span.count == 5_000
    assert (chart.span.min_dc, chart.span.max_dc) == (-6, 120)
    assert len(chart.points) <= 1_000
    assert Point(spike, 120) in chart.points and Point(dip, -6) in chart.points
    assert [p.ts_ms for p in chart.points] == sorted(p.ts_ms for p in chart.points)
    stored = set(readings)
    assert all((p.ts_ms, p.temp_dc) in stored for p in chart.points)  # real readings, never averages


def test_each_bucket_keeps_its_lowest_and_highest_reading(store: Store) -> None:
    # a saw-tooth: 10 buckets of 10 readings, each rising from 20 + k to 29 + k
    put(store, [(T0 + i * MIN, 20 + i % 10 + i // 10) for i in range(100)])

    with store.snapshot() as db:
        chart = history.series(db, FRIDGE, T0, T0 + 100 * MIN - 1, max_points=20)

    expected = []
    for k in range(10):
        expected += [Point(T0 + 10 * k * MIN, 20 + k), Point(T0 + (10 * k + 9) * MIN, 29 + k)]
    assert chart.points == expected


def test_few_readings_are_returned_whole_and_the_range_is_closed(store: Store) -> None:
    put(store, every(5, T0, T0 + 60 * MIN))
    put(store, every(5, T0, T0 + 60 * MIN), equipment=99, device="other")

    with store.snapshot() as db:
        chart = history.series(db, FRIDGE, T0 + 10 * MIN, T0 + 20 * MIN, max_points=1_000)

    assert not chart.downsampled
    assert chart.points == [Point(T0 + m * MIN, 50) for m in (10, 15, 20)]


@pytest.mark.parametrize("max_points", [0, 1])
def test_fewer_than_two_points_cannot_keep_a_bucket_s_extremes(store: Store, max_points: int) -> None:
    with store.snapshot() as db, pytest.raises(ValueError):
        history.series(db, FRIDGE, T0, T0 + MIN, max_points)


def test_gaps_at_the_start_in_the_middle_and_at_the_end(store: Store) -> None:
    start, end = T0, T0 + 6 * 60 * MIN
    put(store, every(5, start + 40 * MIN, start + 120 * MIN) + every(5, start + 170 * MIN, end - 45 * MIN))
    put(store, [(start - 5 * MIN, 50)])  # just before the period: no help with the start inside it

    with store.snapshot() as db:
        rec = history.record(db, FRIDGE, start, end, max_gap_ms=30 * MIN, max_gaps=100)

    assert rec.gaps == [
        (start, start + 40 * MIN),
        (start + 120 * MIN, start + 170 * MIN),
        (end - 45 * MIN, end),
    ]
    assert not rec.complete and not rec.gaps_truncated
    assert (rec.span.first_ts_ms, rec.span.last_ts_ms) == (start + 40 * MIN, end - 45 * MIN)


def test_a_gap_of_exactly_the_limit_is_not_a_gap(store: Store) -> None:
    start, end = T0, T0 + 120 * MIN
    put(store, every(30, start + 30 * MIN, end - 30 * MIN, dc=61))

    with store.snapshot() as db:
        rec = history.record(db, FRIDGE, start, end, max_gap_ms=30 * MIN, max_gaps=100)
        strict = history.record(db, FRIDGE, start, end, max_gap_ms=30 * MIN - 1, max_gaps=100)

    assert rec.complete and rec.gaps == []
    assert (rec.span.count, rec.span.min_dc, rec.span.max_dc) == (3, 61, 61)
    assert len(strict.gaps) == 4 and not strict.complete


def test_no_reading_is_an_incomplete_record_with_one_gap(store: Store) -> None:
    put(store, every(5, T0, T0 + 60 * MIN), equipment=99, device="other")

    with store.snapshot() as db:
        rec = history.record(db, FRIDGE, T0, T0 + 60 * MIN, max_gap_ms=30 * MIN, max_gaps=100)

    assert not rec.complete
    assert rec.span == history.Span(0, None, None, None, None)
    assert rec.gaps == [(T0, T0 + 60 * MIN)]


def test_a_short_period_is_covered_by_a_reading_just_before_it(store: Store) -> None:
    put(store, [(T0 - 20 * MIN, 40)])

    with store.snapshot() as db:
        covered = history.record(db, FRIDGE, T0, T0 + 10 * MIN, max_gap_ms=30 * MIN, max_gaps=100)
        too_old = history.record(db, FRIDGE, T0 + 15 * MIN, T0 + 25 * MIN, max_gap_ms=30 * MIN, max_gaps=100)

    assert covered.complete and covered.gaps == [] and covered.span.count == 0
    assert not too_old.complete and too_old.gaps == []  # no stretch too long inside, but nothing read near it


def test_gaps_beyond_the_limit_are_cut_and_said_so(store: Store) -> None:
    put(store, every(60, T0 + 60 * MIN, T0 + 600 * MIN))

    with store.snapshot() as db:
        rec = history.record(db, FRIDGE, T0, T0 + 600 * MIN, max_gap_ms=30 * MIN, max_gaps=4)

    assert rec.gaps_truncated and not rec.complete
    assert rec.gaps == [(T0 + k * 60 * MIN, T0 + (k + 1) * 60 * MIN) for k in range(4)]


def test_equipment_seen_latest_and_recent_count(store: Store) -> None:
    put(store, [*every(10, T0, T0 + 60 * MIN), (T0 + 30 * MIN, 99)])  # a late upload: not the latest reading
    put(store, [(T0, 10)], equipment=3, device="a")
    put(store, [(T0, 10)], equipment=2**32 - 1, device="b")

    with store.snapshot() as db:
        assert history.equipment_seen(db) == [3, FRIDGE, 2**32 - 1]
        assert history.latest(db, FRIDGE) == Point(T0 + 60 * MIN, 50)
        assert history.latest(db, 4) is None
        assert history.count_since(db, FRIDGE, T0 + 30 * MIN) == 5
