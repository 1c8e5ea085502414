"""Upload a logger's memory (CSV) to the oracle's HTTP endpoint, in chunks of rows.

    python -m oracle.upload logger-12.csv --url http://127.0.0.1:8547 --chunk 5000

Each chunk is the file's own header followed by the file's own lines, byte for byte, so a row is judged
exactly as written, and the chunk's position is passed along (`first_line`) so refusals name the lines of
the file. A chunk is retried with exponential backoff when the oracle cannot be reached or answers 503
(nothing of it was acknowledged). Uploading the same file again is always safe: rows the oracle already
holds count as duplicates, which is also what a retry after a lost answer reports for that chunk.

Exit status: 0 every row accepted or a duplicate, 1 some rows refused, 2 the upload could not be done
(usage, unreadable file, oracle unreachable or refusing the request).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import httpx

from oracle.csvlog import COLUMNS, ENCODING, ERRORS, CsvHeaderError, CsvLog, is_blank, open_csv
from oracle.ingest import IngestResult, Refused
from oracle.validate import Reason

DEFAULT_URL = "http://127.0.0.1:8547"
DEFAULT_CHUNK_ROWS = 5_000
DEFAULT_TRIES = 5
DEFAULT_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
_RETRY_STATUS = frozenset({429, 502, 503, 504})


class UploadError(Exception):
    """The upload stopped. `result` holds what the oracle acknowledged before it did (`rows_done` rows)."""

    def __init__(self, message: str, result: IngestResult | None = None, rows_done: int = 0) -> None:
        super().__init__(message)
        self.result = result or IngestResult()
        self.rows_done = rows_done


def _header_and_rows(f: TextIO) -> tuple[str, Iterator[tuple[int, str]]]:
    """The header line as written, and (file line number, line) for each line after it."""
    line_no = 0
    for line in f:
        line_no += 1
        if not is_blank(line):
            header = line if line.endswith(("\n", "\r")) else line + "\n"
            break
    else:
        header = ""
    try:
        CsvLog([header])  # the oracle would refuse every chunk: say so before sending anything
    except CsvHeaderError as exc:
        raise UploadError(f"{f.name}: {exc}") from None
    return header, enumerate(f, start=line_no + 1)


def _chunks(rows: Iterator[tuple[int, str]], chunk_rows: int) -> Iterator[tuple[int, int, list[str]]]:
    """(file line of the chunk's first line, data rows in it, its lines). Blank lines travel inside chunks,
    so the oracle's line numbering stays the file's; trailing blank lines are not sent."""
    first, count, lines = 0, 0, []
    for n, line in rows:
        if not lines:
            first = n
        lines.append(line)
        if not is_blank(line):
            count += 1
            if count == chunk_rows:
                yield first, count, lines
                first, count, lines = 0, 0, []
    if count:
        yield first, count, lines


def _endpoint(url: str) -> str:
    """A bad URL is the operator's typo: say so now rather than after a round of retries."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UploadError(f"bad URL {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UploadError(f"bad URL {url!r}: expected http://HOST:PORT")
    return url.rstrip("/") + "/v1/readings/csv"


def _count_rows(path: Path) -> int:
    with open_csv(path) as f:
        return sum(not is_blank(line) for line in f) - 1


def _result(answer: object, base: int) -> IngestResult:
    """Checks the oracle's answer and re-bases its indexes from the chunk's rows to the file's."""
    if not isinstance(answer, dict):
        raise ValueError("not a JSON object")
    out = IngestResult(int(answer["accepted"]), int(answer["duplicates"]))
    for r in answer["refused"]:
        try:
            reason = Reason(r["reason"])
            message = str(r["message"])
        except ValueError:  # a newer oracle's reason: keep its name rather than failing a finished chunk
            reason, message = Reason.INTERNAL_ERROR, f"[{r['reason']}] {r['message']}"
        out.refused.append(Refused(base + int(r["index"]), reason, message))
    return out


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else response.text[:200] or response.reason_phrase


def _post(
    client: httpx.Client, url: str, body: bytes, first_line: int, base: int, tries: int, backoff_s: float
) -> IngestResult:
    problem = ""
    for attempt in range(tries):
        if attempt:
            time.sleep(min(backoff_s * 2 ** (attempt - 1), MAX_BACKOFF_S))
        try:
            response = client.post(
                url,
                content=body,
                params={"first_line": first_line},
                headers={"Content-Type": "text/csv; charset=utf-8"},
            )
        except httpx.TransportError as exc:
            problem = f"cannot reach {url}: {exc or type(exc).__name__}"
            continue
        if response.status_code in _RETRY_STATUS:
            problem = f"{url} answered {response.status_code}: {_detail(response)}"
            continue
        if response.status_code != 200:
            raise UploadError(f"{url} refused the upload ({response.status_code}): {_detail(response)}")
        try:
            return _result(response.json(), base)
        except (ValueError, KeyError, TypeError) as exc:
            raise UploadError(f"{url} gave an unexpected answer: {exc}") from None
    raise UploadError(f"{problem} (gave up after {tries} {'try' if tries == 1 else 'tries'})")


def upload_csv(
    url: str,
    path: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
    timeout_s: float = 60,
    *,
    tries: int = DEFAULT_TRIES,
    backoff_s: float = DEFAULT_BACKOFF_S,
) -> IngestResult:
    """Send the CSV at `path` to `{url}/v1/readings/csv`, `chunk_rows` data rows a request; the results
    summed, refusal indexes counted in the file's data rows (0-based, blank lines not counted).
    `progress(rows sent, total rows)` after each chunk. Raises UploadError (file unreadable, bad header,
    oracle unreachable after `tries`, request refused)."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    path = Path(path)
    endpoint = _endpoint(url)
    total = IngestResult()
    sent = 0
    try:
        rows_in_file = max(_count_rows(path), 0)
        with open_csv(path) as f, httpx.Client(timeout=timeout_s) as client:
            header, rows = _header_and_rows(f)
            if progress is not None:
                progress(0, rows_in_file)
            for first_line, count, lines in _chunks(rows, chunk_rows):
                body = (header + "".join(lines)).encode(ENCODING.removesuffix("-sig"), ERRORS)
                try:
                    part = _post(client, endpoint, body, first_line, sent, tries, backoff_s)
                except UploadError as exc:
                    raise UploadError(str(exc), total, sent) from None
                total.accepted += part.accepted
                total.duplicates += part.duplicates
                total.refused.extend(part.refused)
                sent += count
                if progress is not None:
                    progress(sent, rows_in_file)
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror or exc}", total, sent) from None
    return total


# --- CLI -------------------------------------------------------------------------------------------------------


class _Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.dirty = False

    def __call__(self, sent: int, total: int) -> None:
        pct = 100 * sent // total if total else 100
        text = f"uploaded {sent:,}/{total:,} rows ({pct}%)"
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
            self.dirty = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.dirty:
            self.stream.write("\n")
            self.stream.flush()
            self.dirty = False


def summary(result: IngestResult, shown: int = 10) -> list[str]:
    rows = result.accepted + result.duplicates + len(result.refused)
    lines = [
        f"{rows:,} rows: {result.accepted:,} accepted, {result.duplicates:,} duplicates, "
        f"{len(result.refused):,} refused"
    ]
    if result.refused:
        lines.append("refused by reason:")
        for reason, n in sorted(Counter(r.reason.value for r in result.refused).items(), key=lambda kv: -kv[1]):
            lines.append(f"  {reason}: {n:,}")
        lines.append(f"first {min(shown, len(result.refused))} refusals:")
        for r in result.refused[:shown]:
            lines.append(f"  row {r.index} [{r.reason.value}] {r.message}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m oracle.upload", description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path, help="CSV with the header " + ",".join(COLUMNS))
    ap.add_argument("--url", default=DEFAULT_URL, help=f"the oracle's HTTP endpoint (default {DEFAULT_URL})")
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK_ROWS, help="rows a request (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds a request may take (default %(default)s)")
    ap.add_argument("--tries", type=int, default=DEFAULT_TRIES, help="attempts per chunk (default %(default)s)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:  # usage errors are exit status 2 from argparse already; --help is 0
        return int(exc.code or 0)
    if args.chunk < 1 or args.tries < 1:
        print("error: --chunk and --tries must be at least 1", file=sys.stderr)
        return 2
    bar = _Progress(sys.stderr)
    try:
        result = upload_csv(args.url, args.file, args.chunk, bar, args.timeout, tries=args.tries)
    except UploadError as exc:
        bar.end()
        print(f"error: {exc}", file=sys.stderr)
        if exc.rows_done:
            print(
                f"the first {exc.rows_done:,} rows were taken; uploading the file again is safe "
                "(they count as duplicates)",
                file=sys.stderr,
            )
        return 2
    except KeyboardInterrupt:
        bar.end()
        print("interrupted; uploading the file again is safe", file=sys.stderr)
        return 130
    bar.end()
    print(f"{args.file}: " + "\n".join(summary(result)))
    return 1 if result.refused else 0


if __name__ == "__main__":
    sys.exit(main())
