"""The oracle's durable local store: SQLite in WAL mode.

Tables
    readings      every accepted reading, unique per (device, seq); batch_id is NULL until anchored
    device_state  the last accepted (seq, ts_ms, temp_dc) per device, for the validator's restore
    batches       anchoring batches: built -> posted (tx hash) -> confirmed (block)
    kv            daemon state (the excursion detector's serialized state, cursors, ...)
    windows       anchoring transactions: many equipment's batches under one root on chain          [v2]
    outbox        chain writes decided but not yet mined (excursion reports and closes), in order   [v2]
    alarms        alarms raised by the rules, their tier, acknowledgement and close                 [v2]
    alarm_log     every raise, escalation, acknowledgement and close of an alarm                    [v2]
    (v3 adds indexes only: readings by (equipment, ts_ms) and alarms by equipment, for the read API)

Durability
    `append()` writes its readings in one transaction and returns only after COMMIT, so the daemon can
    acknowledge the MQTT messages as soon as it returns. The `synchronous` setting chooses what a commit
    survives:

    - "NORMAL" (default): in WAL mode the commit is in the WAL file (the OS page cache) when append() returns,
      so it survives a crash or kill -9 of the process — the OS still writes it out — but not a power loss or
      kernel panic, which may lose the last commits (never corrupt the database). Fast: no fsync per commit.
    - "FULL": the WAL is fsynced on every commit, so a returned append() also survives power loss, at the
      cost of one fsync per append (batch the readings: ~100-500 per call).

    Re-appending a (device, seq) already stored is ignored (INSERT OR IGNORE), so redelivered MQTT messages
    are harmless; append() reports how many readings were new.

Ordering
    `unanchored()` and `readings_of_batch()` return readings ordered by (device, seq): build the Merkle tree
    over `readings_of_batch()` in that order to reproduce a batch's root.

Schema versioning
    PRAGMA user_version holds the schema version; opening a file with a newer version raises SchemaTooNew
    rather than guessing.

Thread safety
    One connection, guarded by a lock; the store may be shared by the daemon's threads. Reads that may be long
    (the HTTP read API's charts and records) go through `snapshot()` instead: a read-only connection of their
    own, which in WAL mode neither waits for the writer nor makes it wait.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal, NamedTuple

from oracle.reading import Reading

SCHEMA_VERSION = 3

Synchronous = Literal["NORMAL", "FULL"]

_SCHEMA = """
CREATE TABLE readings (
    id          INTEGER PRIMARY KEY,
    device      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    equipment   INTEGER NOT NULL,
    ts_ms       INTEGER NOT NULL,
    temp_dc     INTEGER NOT NULL,
    battery     INTEGER NOT NULL,
    door        INTEGER NOT NULL,
    signature   BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    batch_id    TEXT REFERENCES batches (batch_id),
    UNIQUE (device, seq)
);
CREATE INDEX readings_unanchored ON readings (equipment, device, seq) WHERE batch_id IS NULL;
CREATE INDEX readings_by_batch ON readings (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE device_state (
    device      TEXT PRIMARY KEY,
    last_seq    INTEGER NOT NULL,
    last_ts_ms  INTEGER NOT NULL,
    last_temp_dc INTEGER
) WITHOUT ROWID;

CREATE TABLE batches (
    batch_id     TEXT PRIMARY KEY,
    equipment    INTEGER NOT NULL,
    first_id     INTEGER NOT NULL,
    last_id      INTEGER NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    min_ts_ms    INTEGER NOT NULL,
    max_ts_ms    INTEGER NOT NULL,
    min_temp_dc  INTEGER NOT NULL,
    max_temp_dc  INTEGER NOT NULL,
    merkle_root  BLOB    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('built', 'posted', 'confirmed')),
    tx_hash      TEXT,
    block        INTEGER,
    created_at   INTEGER NOT NULL,
    posted_at    INTEGER,
    confirmed_at INTEGER
);
CREATE INDEX batches_by_status ON batches (status, equipment);

CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
"""

_SCHEMA_V2 = """
CREATE TABLE windows (
    window_id    TEXT    PRIMARY KEY,
    headers_root BLOB    NOT NULL,
    batches      INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('built', 'posted', 'confirmed')),
    tx_hash      TEXT,
    block        INTEGER,
    created_at   INTEGER NOT NULL,
    posted_at    INTEGER,
    confirmed_at INTEGER
) WITHOUT ROWID;
CREATE INDEX windows_by_status ON windows (status);
ALTER TABLE batches ADD COLUMN window_id TEXT REFERENCES windows (window_id);
CREATE INDEX batches_by_window ON batches (window_id, batch_id) WHERE window_id IS NOT NULL;

CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    last_error  TEXT,
    tx_hash     TEXT,
    block       INTEGER,
    done_at     INTEGER
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE done_at IS NULL;

CREATE TABLE alarms (
    alarm_id      TEXT    PRIMARY KEY,
    equipment     INTEGER NOT NULL,
    facility      INTEGER,
    kind          TEXT    NOT NULL,
    severity      INTEGER NOT NULL,
    rules_version TEXT    NOT NULL,
    opened_at_ms  INTEGER NOT NULL,
    raised_at_ms  INTEGER NOT NULL,
    closed_at_ms  INTEGER,
    min_dc        INTEGER,
    max_dc        INTEGER,
    tier          TEXT    NOT NULL,
    tier_since_ms INTEGER NOT NULL,
    acked_at_ms   INTEGER,
    acked_by      TEXT,
    ack_comment   TEXT
) WITHOUT ROWID;
CREATE INDEX alarms_unacked ON alarms (raised_at_ms) WHERE acked_at_ms IS NULL;

CREATE TABLE alarm_log (
    id        INTEGER PRIMARY KEY,
    alarm_id  TEXT    NOT NULL REFERENCES alarms (alarm_id),
    at_ms     INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    tier      TEXT,
    actor     TEXT,
    detail    TEXT
);
CREATE INDEX alarm_log_by_alarm ON alarm_log (alarm_id, id);
"""

# temp_dc is in the index so a chart or a record is read from the index alone, never from the readings' rows.
_SCHEMA_V3 = """
CREATE INDEX readings_by_equipment_time ON readings (equipment, ts_ms, temp_dc);
CREATE INDEX alarms_by_equipment ON alarms (equipment, opened_at_ms);
"""

_READING_COLS = "id, device, seq, equipment, ts_ms, temp_dc, battery, door, signature, received_at, batch_id"


class StoreError(Exception):
    pass


class SchemaTooNew(StoreError):
    pass


class BatchStatus(StrEnum):
    BUILT = "built"
    POSTED = "posted"
    CONFIRMED = "confirmed"


class LastAccepted(NamedTuple):
    seq: int
    ts_ms: int
    temp_dc: int | None


@dataclass(frozen=True, slots=True)
class StoredReading:
    id: int
    """The row id (increasing in order of arrival)."""
    reading: Reading
    signature: bytes
    received_at: int
    batch_id: str | None


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    equipment: int
    first_id: int
    last_id: int
    first_seq: int
    last_seq: int
    count: int
    min_ts_ms: int
    max_ts_ms: int
    min_temp_dc: int
    max_temp_dc: int
    merkle_root: bytes
    status: BatchStatus
    tx_hash: str | None
    block: int | None
    created_at: int
    posted_at: int | None
    confirmed_at: int | None
    window_id: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    window_id: str
    headers_root: bytes
    batches: int
    status: BatchStatus
    tx_hash: str | None
    block: int | None
    created_at: int
    posted_at: int | None
    confirmed_at: int | None


_MAX_SQL_VARS = 900  # host parameters per statement, well under SQLite's smallest limit (999)
_OUTBOX_COLS = "seq, key, kind, payload, attempts, next_at, last_error, tx_hash, block, done_at"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    seq: int
    key: str
    kind: str
    payload: str
    attempts: int
    next_at: int
    last_error: str | None
    tx_hash: str | None
    block: int | None
    done_at: int | None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _row_reading(row: tuple) -> StoredReading:
    rid, device, seq, equipment, ts_ms, temp_dc, battery, door, signature, received_at, batch_id = row
    return StoredReading(
        rid, Reading(device, equipment, seq, ts_ms, temp_dc, battery, bool(door)), signature, received_at, batch_id
    )


def _row_window(row: tuple) -> Window:
    values = list(row)
    values[3] = BatchStatus(values[3])
    return Window(*values)


def _row_batch(row: tuple) -> Batch:
    values = list(row)
    values[12] = BatchStatus(values[12])
    return Batch(*values)


class Store:
    """The durable store. Use as a context manager or call close()."""

    def __init__(self, path: str | Path, *, synchronous: Synchronous = "NORMAL", busy_timeout_ms: int = 5000) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.path = str(path)
        self.synchronous = synchronous
        self._lock = threading.RLock()
        self._busy_s = busy_timeout_ms / 1000
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"cannot enable WAL mode on {self.path} (journal_mode={mode})")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    # --- lifecycle ----------------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path} has schema version {version}, this oracle understands up to {SCHEMA_VERSION}: "
                "upgrade the oracle (do not downgrade a store)"
            )
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]  # re-read under the write lock
            for target, schema in ((1, _SCHEMA), (2, _SCHEMA_V2), (3, _SCHEMA_V3)):
                if version < target:
                    for stmt in schema.split(";"):
                        if stmt.strip():
                            self._db.execute(stmt)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), for the daemon's modules that keep
        their own tables here (alarms, outbox): their writes commit together with the caller's."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection of its own, in one read transaction: every query through it sees the same
        committed state, and it takes neither the store's lock nor SQLite's write lock, so ingest goes on
        while it reads. Use it from one thread; it is closed on exit."""
        db = sqlite3.connect(
            Path(self.path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=self._busy_s
        )
        try:
            db.execute("BEGIN")
            yield db
        finally:
            db.close()

    def pragma(self, name: str) -> object:
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]

    def query(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:
        """A read for the modules that keep their own tables here."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # --- readings -----------------------------------------------------------------------------------------------

    def append(self, readings: Iterable[tuple[Reading, bytes]], received_at: int | None = None) -> int:
        """Store accepted (reading, signature) pairs in one transaction; returns after COMMIT.

        Returns how many were new; a (device, seq) already stored is ignored. Also advances device_state."""
        received = _now_ms() if received_at is None else received_at
        rows = []
        latest: dict[str, Reading] = {}
        for r, sig in readings:
            rows.append(
                (r.device, r.seq, r.equipment, r.ts_ms, r.temp_dc, r.battery, int(r.door_open), bytes(sig), received)
            )
            prev = latest.get(r.device)
            if prev is None or r.seq > prev.seq:
                latest[r.device] = r
        if not rows:
            return 0
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO readings "
                "(device, seq, equipment, ts_ms, temp_dc, battery, door, signature, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            new = db.total_changes - before
            db.executemany(
                "INSERT INTO device_state (device, last_seq, last_ts_ms, last_temp_dc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (device) DO UPDATE SET last_seq = excluded.last_seq, "
                "last_ts_ms = excluded.last_ts_ms, last_temp_dc = excluded.last_temp_dc "
                "WHERE excluded.last_seq > device_state.last_seq",
                [(d, r.seq, r.ts_ms, r.temp_dc) for d, r in latest.items()],
            )
        return new

    def count(self, *, anchored: bool | None = None) -> int:
        where = {None: "", True: " WHERE batch_id IS NOT NULL", False: " WHERE batch_id IS NULL"}[anchored]
        with self._lock:
            return self._db.execute("SELECT count(*) FROM readings" + where).fetchone()[0]

    def get(self, device: str, seq: int) -> StoredReading | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_READING_COLS} FROM readings WHERE device = ? AND seq = ?", (device, seq)
            ).fetchone()
        return None if row is None else _row_reading(row)

    def unanchored(self, equipment: int, limit: int = 1000) -> list[StoredReading]:
        """Readings of the equipment not yet in a batch, ordered by (device, seq)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_READING_COLS} FROM readings WHERE equipment = ? AND batch_id IS NULL "
                "ORDER BY device, seq LIMIT ?",
                (equipment, limit),
            ).fetchall()
        return [_row_reading(r) for r in rows]

    def readings_after(self, row_id: int, limit: int = 10_000) -> list[StoredReading]:
        """Readings stored after row `row_id`, in arrival order (the rules' replay after a crash)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_READING_COLS} FROM readings WHERE id > ? ORDER BY id LIMIT ?", (row_id, limit)
            ).fetchall()
        return [_row_reading(r) for r in rows]

    def last_reading_id(self) -> int:
        with self._lock:
            return self._db.execute("SELECT coalesce(max(id), 0) FROM readings").fetchone()[0]

    def unanchored_summary(self) -> list[tuple[int, int, int]]:
        """(equipment, readings waiting, oldest received_at) for every equipment with readings to anchor."""
        with self._lock:
            return self._db.execute(
                "SELECT equipment, count(*), min(received_at) FROM readings WHERE batch_id IS NULL "
                "GROUP BY equipment ORDER BY equipment"
            ).fetchall()

    def unanchored_equipment(self) -> list[int]:
        """Equipment ids that have readings waiting to be anchored."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT equipment FROM readings WHERE batch_id IS NULL ORDER BY equipment"
            ).fetchall()
        return [r[0] for r in rows]

    def last_accepted(self) -> dict[str, LastAccepted]:
        """The last accepted (seq, ts_ms, temp_dc) per device, for `ReadingValidator.restore`."""
        with self._lock:
            rows = self._db.execute("SELECT device, last_seq, last_ts_ms, last_temp_dc FROM device_state").fetchall()
        return {d: LastAccepted(s, t, c) for d, s, t, c in rows}

    # --- batches ------------------------------------------------------------------------------------------------

    def create_batch(
        self,
        batch_id: str,
        equipment: int,
        readings: Sequence[StoredReading | Reading],
        root: bytes,
        created_at: int | None = None,
    ) -> Batch:
        """Record a built batch and mark its readings with the batch id, atomically.

        Every reading must be stored, of this equipment and not yet anchored, else StoreError and nothing
        changes."""
        items = [x.reading if isinstance(x, StoredReading) else x for x in readings]
        if not items:
            raise StoreError("a batch needs at least one reading")
        if len({(r.device, r.seq) for r in items}) != len(items):
            raise StoreError("a batch lists the same reading twice")
        created = _now_ms() if created_at is None else created_at
        with self.transaction() as db:
            if all(isinstance(x, StoredReading) for x in readings):
                ids = [x.id for x in readings]  # type: ignore[union-attr]
            else:
                ids = [self._reading_id(db, r, equipment) for r in items]
            try:
                db.execute(
                    "INSERT INTO batches (batch_id, equipment, first_id, last_id, first_seq, last_seq, count, "
                    "min_ts_ms, max_ts_ms, min_temp_dc, max_temp_dc, merkle_root, status, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        batch_id,
                        equipment,
                        min(ids),
                        max(ids),
                        min(r.seq for r in items),
                        max(r.seq for r in items),
                        len(items),
                        min(r.ts_ms for r in items),
                        max(r.ts_ms for r in items),
                        min(r.temp_dc for r in items),
                        max(r.temp_dc for r in items),
                        bytes(root),
                        BatchStatus.BUILT.value,
                        created,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"batch {batch_id!r} already exists") from exc
            marked = 0
            for start in range(0, len(ids), _MAX_SQL_VARS):
                part = ids[start : start + _MAX_SQL_VARS]
                before = db.total_changes
                db.execute(
                    f"UPDATE readings SET batch_id = ? WHERE equipment = ? AND batch_id IS NULL "
                    f"AND id IN ({','.join('?' * len(part))})",
                    (batch_id, equipment, *part),
                )
                marked += db.total_changes - before
            if marked != len(ids):  # rolls the batch back; say precisely which reading was wrong
                for r in items:
                    self._reading_id(db, r, equipment, batch_id)
                raise StoreError(f"batch {batch_id!r}: {len(ids) - marked} readings could not be marked")
        batch = self.batch(batch_id)
        assert batch is not None
        return batch

    @staticmethod
    def _reading_id(db: sqlite3.Connection, r: Reading, equipment: int, ours: str | None = None) -> int:
        """The stored row of a reading that may join a batch of `equipment`, else StoreError saying why."""
        row = db.execute(
            "SELECT id, equipment, batch_id FROM readings WHERE device = ? AND seq = ?", (r.device, r.seq)
        ).fetchone()
        if row is None:
            raise StoreError(f"reading {r.device!r}#{r.seq} is not stored")
        if row[1] != equipment:
            raise StoreError(f"reading {r.device!r}#{r.seq} belongs to equipment {row[1]}, not {equipment}")
        if row[2] is not None and row[2] != ours:
            raise StoreError(f"reading {r.device!r}#{r.seq} is already in batch {row[2]!r}")
        return row[0]

    def batch(self, batch_id: str) -> Batch | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        return None if row is None else _row_batch(row)

    def batches(self, status: BatchStatus | str | None = None, equipment: int | None = None) -> list[Batch]:
        """Batches, oldest first, optionally of one status and/or equipment."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(BatchStatus(status).value)
        if equipment is not None:
            where.append("equipment = ?")
            args.append(equipment)
        sql = "SELECT * FROM batches" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY rowid"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [_row_batch(r) for r in rows]

    def batch_counts(self) -> dict[str, int]:
        """Batches per status (every status present)."""
        with self._lock:
            rows = dict(self._db.execute("SELECT status, count(*) FROM batches GROUP BY status").fetchall())
        return {st.value: rows.get(st.value, 0) for st in BatchStatus}

    def window_counts(self) -> dict[str, int]:
        """Windows per status (every status present)."""
        with self._lock:
            rows = dict(self._db.execute("SELECT status, count(*) FROM windows GROUP BY status").fetchall())
        return {st.value: rows.get(st.value, 0) for st in BatchStatus}

    def readings_of_batch(self, batch_id: str) -> list[StoredReading]:
        """The batch's readings ordered by (device, seq), the order its Merkle tree is built in."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_READING_COLS} FROM readings WHERE batch_id = ? ORDER BY device, seq", (batch_id,)
            ).fetchall()
        return [_row_reading(r) for r in rows]

    def unwindowed(self, limit: int = 1_000) -> list[Batch]:
        """Built batches not yet in a window, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM batches WHERE window_id IS NULL ORDER BY rowid LIMIT ?", (limit,)
            ).fetchall()
        return [_row_batch(r) for r in rows]

    def create_window(self, window_id: str, batch_ids: Sequence[str], headers_root: bytes) -> Window:
        """Record a window over built batches before it is sent, so a restart resends the same window."""
        if not batch_ids:
            raise StoreError("a window needs at least one batch")
        with self.transaction() as db:
            try:
                db.execute(
                    "INSERT INTO windows (window_id, headers_root, batches, status, created_at) VALUES (?, ?, ?, ?, ?)",
                    (window_id, bytes(headers_root), len(batch_ids), BatchStatus.BUILT.value, _now_ms()),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"window {window_id!r} already exists") from exc
            for batch_id in batch_ids:
                before = db.total_changes
                db.execute(
                    "UPDATE batches SET window_id = ? WHERE batch_id = ? AND window_id IS NULL AND status = ?",
                    (window_id, batch_id, BatchStatus.BUILT.value),
                )
                if db.total_changes == before:
                    raise StoreError(f"batch {batch_id!r} is unknown, not built, or already in a window")
        window = self.window(window_id)
        assert window is not None
        return window

    def window(self, window_id: str) -> Window | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM windows WHERE window_id = ?", (window_id,)).fetchone()
        return None if row is None else _row_window(row)

    def windows(self, status: BatchStatus | str | None = None) -> list[Window]:
        sql, args = "SELECT * FROM windows", ()
        if status is not None:
            sql, args = sql + " WHERE status = ?", (BatchStatus(status).value,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY created_at, window_id", args).fetchall()
        return [_row_window(r) for r in rows]

    def batches_of_window(self, window_id: str) -> list[Batch]:
        """The window's batches in the order of their ids: the order its headers root is built in."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM batches WHERE window_id = ? ORDER BY batch_id", (window_id,)
            ).fetchall()
        return [_row_batch(r) for r in rows]

    def mark_posted(self, window_id: str, tx_hash: str, at: int | None = None) -> None:
        """built -> posted, the window and its batches. Posting again (a replacement) updates the tx hash."""
        self._transition(window_id, (BatchStatus.BUILT, BatchStatus.POSTED), BatchStatus.POSTED, tx_hash=tx_hash, at=at)

    def mark_confirmed(self, window_id: str, block: int, at: int | None = None) -> None:
        """posted -> confirmed in `block`, the window and its batches."""
        self._transition(window_id, (BatchStatus.POSTED,), BatchStatus.CONFIRMED, block=block, at=at)

    def _transition(
        self,
        window_id: str,
        allowed: tuple[BatchStatus, ...],
        to: BatchStatus,
        *,
        tx_hash: str | None = None,
        block: int | None = None,
        at: int | None = None,
    ) -> None:
        when = _now_ms() if at is None else at
        with self.transaction() as db:
            row = db.execute("SELECT status FROM windows WHERE window_id = ?", (window_id,)).fetchone()
            if row is None:
                raise StoreError(f"no window {window_id!r}")
            if BatchStatus(row[0]) not in allowed:
                raise StoreError(f"window {window_id!r} is {row[0]}, cannot become {to.value}")
            for table in ("windows", "batches"):
                if to is BatchStatus.POSTED:
                    db.execute(
                        f"UPDATE {table} SET status = ?, tx_hash = ?, posted_at = ? WHERE window_id = ?",
                        (to.value, tx_hash, when, window_id),
                    )
                else:
                    db.execute(
                        f"UPDATE {table} SET status = ?, block = ?, confirmed_at = ? WHERE window_id = ?",
                        (to.value, block, when, window_id),
                    )

    # --- outbox: chain writes decided, in the order decided -------------------------------------------------------

    @staticmethod
    def enqueue(db: sqlite3.Connection, key: str, kind: str, payload: str, now: int) -> bool:
        """Inside the caller's transaction: queue a chain write once per key. False if already queued."""
        before = db.total_changes
        db.execute(
            "INSERT OR IGNORE INTO outbox (key, kind, payload, created_at, next_at) VALUES (?, ?, ?, ?, ?)",
            (key, kind, payload, now, now),
        )
        return db.total_changes > before

    def pending(self, limit: int = 100) -> list[OutboxItem]:
        """Writes not yet done, in the order they were queued (a close never overtakes its report)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_OUTBOX_COLS} FROM outbox WHERE done_at IS NULL ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [OutboxItem(*r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0]

    def outbox_item(self, key: str) -> OutboxItem | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_OUTBOX_COLS} FROM outbox WHERE key = ?", (key,)).fetchone()
        return None if row is None else OutboxItem(*row)

    def outbox_failed(self, seq: int, error: str, next_at: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE seq = ?",
                (error[:2000], next_at, seq),
            )

    def outbox_done(self, seq: int, tx_hash: str | None, block: int | None, at: int | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, tx_hash = ?, block = ?, done_at = ?, last_error = NULL "
                "WHERE seq = ?",
                (tx_hash, block, _now_ms() if at is None else at, seq),
            )

    # --- daemon state -------------------------------------------------------------------------------------------

    def put_state(self, key: str, value: str) -> None:
        """Store a JSON text under key (replacing any previous value), durably on return."""
        json.loads(value)  # reject what is not JSON now rather than when the detector restores it
        with self.transaction() as db:
            self.put_state_in(db, key, value, _now_ms())

    @staticmethod
    def put_state_in(db: sqlite3.Connection, key: str, value: str, now: int) -> None:
        """put_state inside the caller's transaction."""
        db.execute(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, now),
        )

    def get_state(self, key: str) -> str | None:
        """The JSON text stored under key, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def delete_state(self, key: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM kv WHERE key = ?", (key,))
