"""An equipment's temperature history, read from the store for the HTTP read API: the last reading, a chart's
points, and the record of a period with its gaps.

Every function takes a connection from `Store.snapshot()` (a read-only connection of its own), so a long read
never holds the ingest writer, and the figures of one answer all come from the same committed state. The
queries run on the index readings (equipment, ts_ms, temp_dc) alone; the caller bounds the time range.
Ranges are closed: [from_ms, to_ms].
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

_RANGE = "FROM readings WHERE equipment = ? AND ts_ms BETWEEN ? AND ?"


@dataclass(frozen=True, slots=True)
class Point:
    ts_ms: int
    temp_dc: int


@dataclass(frozen=True, slots=True)
class Span:
    """What the readings in a range add up to; the extremes are None when there is no reading."""

    count: int
    first_ts_ms: int | None
    last_ts_ms: int | None
    min_dc: int | None
    max_dc: int | None


@dataclass(frozen=True, slots=True)
class Series:
    span: Span
    points: list[Point]
    """In time order: every reading, or when there are more than asked for, each time bucket's lowest and
    highest reading (real readings, never averages, so a one-reading peak is always drawn)."""
    downsampled: bool


@dataclass(frozen=True, slots=True)
class Record:
    span: Span
    gaps: list[tuple[int, int]]
    """(from_ms, to_ms) of each stretch longer than the allowed gap without a reading, in time order."""
    gaps_truncated: bool
    """More gaps than the caller's limit: only the first ones are listed (the record is incomplete anyway)."""
    complete: bool


def equipment_seen(db: sqlite3.Connection) -> list[int]:
    """Every equipment with a stored reading, ascending: one index seek per equipment, not a scan of the readings."""
    rows = db.execute(
        "WITH RECURSIVE seen (equipment) AS ("
        " SELECT min(equipment) FROM readings"
        " UNION ALL SELECT (SELECT min(equipment) FROM readings WHERE equipment > seen.equipment)"
        " FROM seen WHERE equipment IS NOT NULL"
        ") SELECT equipment FROM seen WHERE equipment IS NOT NULL"
    )
    return [r[0] for r in rows]


def latest(db: sqlite3.Connection, equipment: int) -> Point | None:
    """The reading of the equipment with the latest timestamp (the highest one on a tie)."""
    row = db.execute(
        "SELECT ts_ms, temp_dc FROM readings WHERE equipment = ? ORDER BY ts_ms DESC, temp_dc DESC LIMIT 1",
        (equipment,),
    ).fetchone()
    return None if row is None else Point(*row)


def count_since(db: sqlite3.Connection, equipment: int, since_ms: int) -> int:
    return db.execute(
        "SELECT count(*) FROM readings WHERE equipment = ? AND ts_ms >= ?", (equipment, since_ms)
    ).fetchone()[0]


def span(db: sqlite3.Connection, equipment: int, from_ms: int, to_ms: int) -> Span:
    row = db.execute(
        f"SELECT count(*), min(ts_ms), max(ts_ms), min(temp_dc), max(temp_dc) {_RANGE}", (equipment, from_ms, to_ms)
    ).fetchone()
    return Span(*row)


def series(db: sqlite3.Connection, equipment: int, from_ms: int, to_ms: int, max_points: int) -> Series:
    """The readings in the range for a chart: all of them if there are at most `max_points`, else the lowest and
    the highest of each of max_points // 2 equal time buckets (so at most max_points points)."""
    if max_points < 2:
        raise ValueError("max_points must be at least 2: a bucket keeps its lowest and its highest reading")
    total = span(db, equipment, from_ms, to_ms)
    if total.count <= max_points:
        rows = db.execute(f"SELECT ts_ms, temp_dc {_RANGE} ORDER BY ts_ms, temp_dc", (equipment, from_ms, to_ms))
        return Series(total, [Point(*r) for r in rows], downsampled=False)
    return Series(total, _extremes_per_bucket(db, equipment, from_ms, to_ms, max_points // 2), downsampled=True)


def _extremes_per_bucket(db: sqlite3.Connection, equipment: int, from_ms: int, to_ms: int, buckets: int) -> list[Point]:
    # Ties go to the earliest reading, so a flat bucket yields one point and the answer is deterministic.
    rows = db.execute(
        "SELECT ts_ms, temp_dc FROM ("
        " SELECT id, ts_ms, temp_dc,"
        "  row_number() OVER (PARTITION BY bucket ORDER BY temp_dc, ts_ms, id) AS lowest,"
        "  row_number() OVER (PARTITION BY bucket ORDER BY temp_dc DESC, ts_ms, id) AS highest"
        f" FROM (SELECT id, ts_ms, temp_dc, (ts_ms - ?) * ? / ? AS bucket {_RANGE})"
        ") WHERE lowest = 1 OR highest = 1 ORDER BY ts_ms, id",
        (from_ms, buckets, to_ms - from_ms + 1, equipment, from_ms, to_ms),
    )
    return [Point(*r) for r in rows]


def record(db: sqlite3.Connection, equipment: int, from_ms: int, to_ms: int, max_gap_ms: int, max_gaps: int) -> Record:
    """The temperature record of a period. Complete means: a reading at most max_gap_ms before the period or in
    it, and no stretch longer than max_gap_ms without a reading when walking from from_ms through the readings
    in the period to to_ms (at the start, between readings and at the end alike)."""
    total = span(db, equipment, from_ms, to_ms)
    gaps = db.execute(
        "SELECT previous, ts_ms FROM ("
        f" SELECT ts_ms, lag(ts_ms, 1, ?) OVER (ORDER BY ts_ms) AS previous {_RANGE}"
        ") WHERE ts_ms - previous > ? ORDER BY ts_ms LIMIT ?",
        (from_ms, equipment, from_ms, to_ms, max_gap_ms, max_gaps + 1),
    ).fetchall()
    last = from_ms if total.last_ts_ms is None else total.last_ts_ms
    if to_ms - last > max_gap_ms:
        gaps.append((last, to_ms))
    covered = total.count > 0 or _any(db, equipment, from_ms - max_gap_ms, from_ms)
    return Record(total, gaps[:max_gaps], len(gaps) > max_gaps, covered and not gaps)


def _any(db: sqlite3.Connection, equipment: int, from_ms: int, to_ms: int) -> bool:
    return bool(db.execute(f"SELECT EXISTS (SELECT 1 {_RANGE})", (equipment, from_ms, to_ms)).fetchone()[0])
