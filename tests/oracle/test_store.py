"""The durable store: idempotent appends, batch lifecycle, WAL, reopen, schema version, and no loss on kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oracle.reading import Reading
from oracle.store import SCHEMA_VERSION, BatchStatus, LastAccepted, SchemaTooNew, Store, StoreError

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_763_700_000_000
SIG = bytes(range(64))


def items(n: int, *, device: str = "fridge-07", equipment: int = 12, start: int = 1) -> list[tuple[Reading, bytes]]:
    return [
        (Reading(device, equipment, s, NOW + s * 60_000, 40 + s % 7, 80, s % 5 == 0), SIG)
        for s in range(start, start + n)
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "oracle.db") as s:
        yield s


def test_wal_mode_and_synchronous_setting(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as s:
        assert s.pragma("journal_mode") == "wal"
        assert s.pragma("synchronous") == 1  # NORMAL
        assert s.pragma("user_version") == SCHEMA_VERSION
    with Store(tmp_path / "b.db", synchronous="FULL") as s:
        assert s.pragma("synchronous") == 2  # FULL
    with pytest.raises(ValueError):
        Store(tmp_path / "c.db", synchronous="OFF")  # type: ignore[arg-type]


def test_append_is_idempotent_and_reports_new(store: Store) -> None:
    assert store.append(items(10)) == 10
    assert store.append(items(10)) == 0
    assert store.append(items(15)) == 5
    assert store.append([]) == 0
    assert store.count() == 15
    got = store.get("fridge-07", 5)
    assert got is not None and got.reading == items(5)[4][0] and got.signature == SIG and got.batch_id is None


def test_duplicates_within_one_append(store: Store) -> None:
    batch = items(3) + items(3)
    assert store.append(batch) == 3
    assert store.count() == 3


def test_last_accepted_tracks_highest_seq(store: Store) -> None:
    store.append(items(5, start=10))
    store.append(items(3, start=1))  # older readings arriving late do not move the state back
    store.append(items(2, device="freezer-01", equipment=13))
    last = store.last_accepted()
    assert last["fridge-07"] == LastAccepted(14, NOW + 14 * 60_000, 40 + 14 % 7)
    assert last["freezer-01"].seq == 2


def test_unanchored_ordering_and_filtering(store: Store) -> None:
    store.append(items(5, start=6))
    store.append(items(5, device="a-probe", start=3))
    store.append(items(5, start=1))
    store.append(items(4, device="other", equipment=99))
    got = store.unanchored(12, limit=100)
    assert [(x.reading.device, x.reading.seq) for x in got] == [("a-probe", s) for s in range(3, 8)] + [
        ("fridge-07", s) for s in range(1, 11)
    ]
    assert len(store.unanchored(12, limit=7)) == 7
    assert [x.reading.seq for x in store.unanchored(99)] == [1, 2, 3, 4]
    assert store.unanchored_equipment() == [12, 99]


def test_batch_lifecycle(store: Store) -> None:
    store.append(items(10))
    first = store.unanchored(12, limit=6)
    root = b"\xab" * 32
    batch = store.create_batch("b-1", 12, first, root)
    assert batch.status is BatchStatus.BUILT and batch.count == 6 and batch.merkle_root == root
    assert (batch.first_seq, batch.last_seq) == (1, 6)
    assert (batch.min_temp_dc, batch.max_temp_dc) == (41, 46)
    assert [x.reading.seq for x in store.unanchored(12)] == [7, 8, 9, 10]
    assert [x.reading for x in store.readings_of_batch("b-1")] == [x.reading for x in first]
    assert all(x.batch_id == "b-1" for x in store.readings_of_batch("b-1"))

    store.create_batch("b-0", 12, store.unanchored(12, limit=1), b"\x02" * 32)
    assert [b.batch_id for b in store.unwindowed()] == ["b-1", "b-0"]
    window = store.create_window("w-1", ["b-1", "b-0"], b"\xcd" * 32)
    assert (window.batches, window.status, window.headers_root) == (2, BatchStatus.BUILT, b"\xcd" * 32)
    assert [b.batch_id for b in store.batches_of_window("w-1")] == ["b-0", "b-1"]  # by id: the headers' order
    assert store.unwindowed() == []
    with pytest.raises(StoreError, match="already in a window"):
        store.create_window("w-2", ["b-1"], b"\x01" * 32)
    assert store.window("w-2") is None  # refused as a whole

    with pytest.raises(StoreError):
        store.mark_confirmed("w-1", 100)  # not posted yet
    store.mark_posted("w-1", "0x01")
    store.mark_posted("w-1", "0x02")  # replacement transaction
    assert store.batch("b-1").tx_hash == store.window("w-1").tx_hash == "0x02"  # type: ignore[union-attr]
    assert [b.batch_id for b in store.batches(status="posted")] == ["b-1", "b-0"]
    store.mark_confirmed("w-1", 123)
    b = store.batch("b-1")
    assert b is not None and b.status is BatchStatus.CONFIRMED and b.block == 123 and b.confirmed_at is not None
    assert store.window_counts() == {"built": 0, "posted": 0, "confirmed": 1}
    with pytest.raises(StoreError):
        store.mark_posted("w-1", "0x03")
    with pytest.raises(StoreError):
        store.mark_posted("nope", "0x03")

    store.create_batch("b-2", 12, store.unanchored(12), b"\x01" * 32)
    assert [b.batch_id for b in store.batches()] == ["b-1", "b-0", "b-2"]
    assert [b.batch_id for b in store.batches(status=BatchStatus.BUILT)] == ["b-2"]
    assert [b.batch_id for b in store.batches(status=BatchStatus.CONFIRMED, equipment=12)] == ["b-1", "b-0"]
    assert store.batches(equipment=99) == []
    assert store.count(anchored=False) == 0 and store.count(anchored=True) == 10


def test_create_batch_is_atomic(store: Store) -> None:
    store.append(items(5))
    store.append(items(2, device="other", equipment=99))
    store.create_batch("b-1", 12, store.unanchored(12, limit=2), b"\x00" * 32)
    rest = store.unanchored(12)
    cases = [
        ("b-x", [*rest, *store.readings_of_batch("b-1")], "already in batch 'b-1'"),
        ("b-x", [*rest, items(1, start=77)[0][0]], "not stored"),
        ("b-x", [*rest, *store.unanchored(99)], "belongs to equipment 99"),
        ("b-x", [*rest, rest[0]], "twice"),
        ("b-1", rest, "already exists"),
        ("b-x", [], "at least one"),
    ]
    for batch_id, readings, why in cases:
        with pytest.raises(StoreError, match=why):
            store.create_batch(batch_id, 12, readings, b"\x00" * 32)
        assert [x.reading.seq for x in store.unanchored(12)] == [3, 4, 5]
        assert [b.batch_id for b in store.batches()] == ["b-1"]


def test_state_kv(store: Store) -> None:
    assert store.get_state("detector") is None
    store.put_state("detector", json.dumps({"open": [1, 2]}))
    store.put_state("detector", json.dumps({"open": [3]}))
    assert json.loads(store.get_state("detector")) == {"open": [3]}  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.put_state("detector", "{not json")
    store.delete_state("detector")
    assert store.get_state("detector") is None


def test_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with Store(path) as s:
        s.append(items(20))
        s.create_batch("b-1", 12, s.unanchored(12, limit=5), b"\x11" * 32)
        s.create_window("w-1", ["b-1"], b"\x22" * 32)
        s.mark_posted("w-1", "0xaa")
        s.put_state("k", "[1]")
    with Store(path) as s:
        assert s.count() == 20
        assert s.batch("b-1").status is BatchStatus.POSTED  # type: ignore[union-attr]
        assert len(s.readings_of_batch("b-1")) == 5
        assert s.last_accepted()["fridge-07"].seq == 20
        assert s.get_state("k") == "[1]"
        assert s.append(items(20)) == 0


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(SchemaTooNew, match="schema version"):
        Store(path)


def test_concurrent_threads(store: Store) -> None:
    def writer(device: str) -> None:
        for k in range(10):
            store.append(items(50, device=device, start=1 + 50 * k))

    threads = [threading.Thread(target=writer, args=(f"dev-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 4 * 500


CHILD = """
import sys
from oracle.reading import Reading
from oracle.store import Store

store = Store(sys.argv[1])
sig = bytes(64)
seq = 0
while True:
    batch = []
    for _ in range(200):
        seq += 1
        batch.append((Reading("dev-crash", 7, seq, 1_700_000_000_000 + seq, 40, 255, False), sig))
    store.append(batch)
    # re-append the tail of the previous batch too: must stay idempotent across the crash
    store.append(batch[-20:])
    print(seq, flush=True)
"""


def test_kill_9_loses_no_committed_reading(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        while len(lines) < 5 and time.monotonic() < deadline:  # let it commit a few batches, then a bit more
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    lines += out.splitlines(keepends=True)
    committed = [int(x) for x in lines if x.endswith(b"\n")]  # a line cut by the kill does not count
    assert len(committed) >= 5, err.decode()
    reported = max(committed)

    with Store(path) as s:
        db = sqlite3.connect(path)
        seqs = [r[0] for r in db.execute("SELECT seq FROM readings WHERE device = 'dev-crash' ORDER BY seq")]
        db.close()
        assert len(seqs) == len(set(seqs))  # nothing duplicated
        assert seqs == list(range(1, len(seqs) + 1))  # no holes: whole batches only
        assert len(seqs) >= reported  # every reading the child saw committed is there
        assert len(seqs) % 200 == 0  # the batch in flight at the kill is all or nothing
        assert s.last_accepted()["dev-crash"].seq == len(seqs)


def test_a_version_2_store_gains_the_read_indexes(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with Store(path) as s:
        s.append(items(30))
    db = sqlite3.connect(path)
    db.executescript("DROP INDEX readings_by_equipment_time; DROP INDEX alarms_by_equipment; PRAGMA user_version = 2;")
    db.close()

    with Store(path) as s:
        assert s.pragma("user_version") == SCHEMA_VERSION == 3
        indexes = {r[0] for r in s.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"readings_by_equipment_time", "alarms_by_equipment"} <= indexes
        assert s.count() == 30 and s.append(items(30)) == 0


def test_a_snapshot_reads_while_the_writer_holds_its_transaction(store: Store) -> None:
    store.append(items(10))
    seen: list[int] = []

    def read() -> None:
        with store.snapshot() as db:
            seen.append(db.execute("SELECT count(*) FROM readings").fetchone()[0])

    with store.transaction() as db:  # holds the store's lock and SQLite's write lock, uncommitted row inside
        db.execute(
            "INSERT INTO readings (device, seq, equipment, ts_ms, temp_dc, battery, door, signature, received_at) "
            "VALUES ('late', 1, 12, 0, 0, 0, 0, x'00', 0)"
        )
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "the snapshot waited for the writer"
    assert seen == [10]  # committed state only
    with store.snapshot() as db:
        assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 11
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("DELETE FROM readings")
