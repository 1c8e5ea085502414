"""The CSV upload client against the real app served by uvicorn on a free local port."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from devnet.ports import free_port
from oracle.http import create_app
from oracle.ingest import IngestResult, refusals
from oracle.simulator import SimulatedSensor, write_csv
from oracle.upload import UploadError, main, upload_csv
from oracle.validate import Rejection

ROWS = 12_000
BAD = (2, 5_001, 11_999)
"""Data rows whose seq is spoiled: one in each chunk of 5,000."""
BLANK_AFTER = 6_000
"""A blank line follows this data row: the lines after it are one further down the file."""


class Sink:
    """Stores by (device, seq): a redelivered reading is a duplicate, never stored twice."""

    def __init__(self, fail_first_try: bool = False) -> None:
        self.calls: list[int] = []
        self.stored: set[tuple[str, int]] = set()
        self.fail_first_try = fail_first_try
        self._seen: set[object] = set()
        self._lock = threading.Lock()

    def ingest(self, items, source):
        with self._lock:
            self.calls.append(len(items))
            key = (source, repr(items[0]), len(items))
            if self.fail_first_try and key not in self._seen:
                self._seen.add(key)
                raise RuntimeError("disk full (the first time each chunk comes)")
            result = IngestResult(refused=refusals(items))
            for item in items:
                if isinstance(item, Rejection):
                    continue
                k = (item[0].device, item[0].seq)
                if k in self.stored:
                    result.duplicates += 1
                else:
                    self.stored.add(k)
                    result.accepted += 1
            return result


@contextlib.contextmanager
def serving(sink, **limits) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(sink, **limits), host="127.0.0.1", port=port, log_level="critical")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def readings():
    return SimulatedSensor("logger-7", 7, seed=7, interval_s=60).run(ROWS * 60)


@pytest.fixture(scope="module")
def big_csv(readings, tmp_path_factory):
    """12,000 data rows, three of them spoiled, and a blank line after row 6,000."""
    assert len(readings) == ROWS
    path = tmp_path_factory.mktemp("upload") / "logger-7.csv"
    write_csv(path, readings)
    lines = path.read_bytes().decode().split("\r\n")
    for i in BAD:
        cells = lines[i + 1].split(",")
        cells[2] = "seq?"
        lines[i + 1] = ",".join(cells)
    lines.insert(BLANK_AFTER + 1, "")
    path.write_text("\r\n".join(lines), newline="")
    return path


def file_line(row: int) -> int:
    return row + 2 + (row >= BLANK_AFTER)


@pytest.fixture
def good_csv(readings, tmp_path):
    path = tmp_path / "good.csv"
    write_csv(path, readings[:30])
    return path


def test_chunks_summed_and_rebased(big_csv):
    sink = Sink()
    seen = []
    with serving(sink) as url:
        result = upload_csv(url, big_csv, chunk_rows=5_000, progress=lambda *a: seen.append(a))
        assert sink.calls == [5_000, 5_000, 2_000]
        assert result.accepted == ROWS - len(BAD) == len(sink.stored)
        assert result.duplicates == 0
        assert [r.index for r in result.refused] == list(BAD)
        assert {r.reason.value for r in result.refused} == {"wrong_type"}
        assert [r.message.split(":")[0] for r in result.refused] == [f"CSV line {file_line(i)}" for i in BAD]
        assert file_line(11_999) == 12_002
        assert seen == [(0, ROWS), (5_000, ROWS), (10_000, ROWS), (ROWS, ROWS)]

        again = upload_csv(url + "/", big_csv, chunk_rows=7_000)
        assert sink.calls[3:] == [7_000, 5_000]
        assert (again.accepted, again.duplicates) == (0, ROWS - len(BAD))
        assert [r.index for r in again.refused] == list(BAD)


def test_retry_after_503_counts_each_row_once(big_csv):
    sink = Sink(fail_first_try=True)
    with serving(sink) as url:
        result = upload_csv(url, big_csv, chunk_rows=5_000, backoff_s=0.01)
    assert sink.calls == [5_000, 5_000, 5_000, 5_000, 2_000, 2_000]  # each chunk refused once, then taken
    assert result.accepted == ROWS - len(BAD) == len(sink.stored)
    assert result.duplicates == 0
    assert [r.index for r in result.refused] == list(BAD)


def test_unreachable_oracle_gives_up(good_csv):
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(UploadError, match=r"cannot reach .* \(gave up after 3 tries\)") as info:
        upload_csv(url, good_csv, tries=3, backoff_s=0.05)
    assert 0.15 <= time.monotonic() - started < 5  # 0.05 + 0.1 of backoff
    assert info.value.rows_done == 0


def test_request_refused_is_not_retried(good_csv):
    sink = Sink()
    with serving(sink, max_items=10) as url:
        with pytest.raises(UploadError, match=r"refused the upload \(413\): 30 readings exceed") as info:
            upload_csv(url, good_csv, chunk_rows=100)
        assert sink.calls == []
        result = upload_csv(url, good_csv, chunk_rows=10)
    assert result.accepted == 30 and sink.calls == [10, 10, 10]
    assert info.value.rows_done == 0


def test_cli(big_csv, good_csv, capsys):
    sink = Sink()
    with serving(sink) as url:
        assert main([str(big_csv), "--url", url, "--chunk", "5000"]) == 1
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        assert err.splitlines()[-1] == "uploaded 12,000/12,000 rows (100%)"
        lines = out.splitlines()
        assert lines[0] == f"{big_csv}: 12,000 rows: 11,997 accepted, 0 duplicates, 3 refused"
        assert lines[1:4] == ["refused by reason:", "  wrong_type: 3", "first 3 refusals:"]
        assert lines[4].startswith("  row 2 [wrong_type] CSV line 4: field 'seq' is not an integer")
        assert lines[6].startswith("  row 11999 [wrong_type] CSV line 12002:")

        assert main([str(good_csv), "--url", url]) == 0  # row 2 was spoiled in the big file: new here
        out, _ = capsys.readouterr()
        assert out.strip() == f"{good_csv}: 30 rows: 1 accepted, 29 duplicates, 0 refused"


def test_cli_shows_ten_refusals_at_most(readings, tmp_path, capsys):
    path = tmp_path / "replayed.csv"
    write_csv(path, readings[:40])
    lines = path.read_bytes().decode().split("\r\n")
    lines[1:] = [line.replace("logger-7,7,", "logger-7,seven,", 1) for line in lines[1:]]
    path.write_text("\r\n".join(lines), newline="")
    with serving(Sink()) as url:
        assert main([str(path), "--url", url, "--chunk", "15"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "  wrong_type: 40" in out
    assert out.index("first 10 refusals:") == len(out) - 11
    assert out[-1].startswith("  row 9 [wrong_type] CSV line 11: field 'equipment'")


def test_cli_failures_exit_2_with_a_clear_message(tmp_path, good_csv, capsys):
    missing = tmp_path / "nope.csv"
    assert main([str(missing)]) == 2
    _, err = capsys.readouterr()
    assert err.strip() == f"error: cannot read {missing}: No such file or directory"

    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("device,equipment,seq,ts,temperature\nx,1,2,3,4\n")
    dead = f"http://127.0.0.1:{free_port()}"
    assert main([str(bad_header), "--url", dead]) == 2  # refused before any connection is tried
    _, err = capsys.readouterr()
    assert "lacks column(s) temp_c, battery, door, sig" in err and "Traceback" not in err

    assert main([str(good_csv), "--url", dead, "--tries", "2"]) == 2
    _, err = capsys.readouterr()
    assert "error: cannot reach" in err and "gave up after 2 tries" in err and "Traceback" not in err

    for url in ("127.0.0.1:8547", "ftp://x", "http://[::1"):
        assert main([str(good_csv), "--url", url]) == 2
        assert capsys.readouterr().err.startswith(f"error: bad URL {url!r}")
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err
    assert main([str(good_csv), "--chunk", "0"]) == 2
    assert main([str(good_csv), "--chunk", "many"]) == 2


def test_cli_reports_how_far_it_got(readings, tmp_path, capsys):
    path = tmp_path / "two-chunks.csv"
    write_csv(path, readings[:20])
    sink = Sink()
    real = sink.ingest

    def second_chunk_breaks(items, source):
        if items[0][0].seq >= 10:
            sink.calls.append(len(items))
            raise RuntimeError("still broken")
        return real(items, source)

    sink.ingest = second_chunk_breaks
    with serving(sink) as url:
        with pytest.raises(UploadError) as info:
            upload_csv(url, path, chunk_rows=10, tries=2, backoff_s=0.01)
        assert info.value.rows_done == 10 and info.value.result.accepted == 10
        assert "answered 503" in str(info.value) and "gave up after 2 tries" in str(info.value)
        assert main([str(path), "--url", url, "--chunk", "10", "--tries", "2"]) == 2
    err = capsys.readouterr().err
    assert "the first 10 rows were taken; uploading the file again is safe" in err
