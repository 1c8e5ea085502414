"""A logger's memory as CSV (the columns `simulator.CSV_COLUMNS`, as `simulator.write_csv` writes them),
parsed row by row into the same items as the JSON wire format (`ingest.Item`).

One physical line is one row. A quoted field could in principle span lines, but no field of a reading
holds a line break, while a logger that died mid-write leaves a stray quote that a multi-line parser
would let swallow the rest of the file; line by line, a damaged row costs that row only, and the line
numbers in the refusals are the lines an operator sees in an editor. Blank lines are skipped and are not
data rows (they get no index).

Text is decoded as UTF-8 with a byte-order mark dropped (spreadsheet exports write one) and undecodable
bytes kept as surrogates, so a corrupt byte refuses its row (the device id or signature no longer
encodes) instead of the whole file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from oracle.reading import Reading
from oracle.validate import Reason, Rejection, parse_fields

COLUMNS = ("device", "equipment", "seq", "ts", "temp_c", "battery", "door", "sig")
"""The header `simulator.write_csv` writes (`simulator.CSV_COLUMNS` is this tuple)."""
ENCODING = "utf-8-sig"
ERRORS = "surrogateescape"

# Python's int()/float() also take "1_000", " ٣ " and other forms no logger writes; the signature would
# catch them, but a precise WRONG_TYPE tells the operator which cell is wrong.
Row = tuple[Reading, bytes] | Rejection
"""What a data row comes to; an `ingest.Item` (not imported: the simulator uses this module without
the daemon's import graph)."""

_INT = re.compile(r"[+-]?[0-9]{1,40}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?|[+-]?(?:nan|inf|infinity)", re.I)
_DOOR = {"1": True, "0": False, "true": True, "false": False}


class CsvHeaderError(ValueError):
    """The first line is not a header naming every column: nothing of the file can be read."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


def is_blank(line: str) -> bool:
    return not line.strip()


def open_csv(path: Path | str) -> IO[str]:
    """Open a CSV file the way the parser expects (the csv module's newline="", tolerant decoding)."""
    return open(path, encoding=ENCODING, errors=ERRORS, newline="")


def decode(body: bytes, charset: str | None = None) -> str:
    """Bytes of an upload to text; `charset` other than UTF-8 (or its ASCII subset) is a ValueError."""
    if charset is not None and charset.strip().strip('"').lower() not in ("utf-8", "utf8", "us-ascii", "ascii"):
        raise ValueError(f"charset {charset!r} is not supported: send UTF-8")
    return body.decode(ENCODING, ERRORS)


def _split(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None


class CsvLog:
    """Reads the header at construction (raising CsvHeaderError), then yields one item per data row.

    `first_line` renumbers the lines in refusal messages: the file line number of the line right after the
    header, for a client that sends a big file in chunks (each with its own header) so refusals still name
    the lines of the operator's file. Iterate once."""

    def __init__(self, lines: Iterable[str], *, first_line: int | None = None) -> None:
        self._lines = iter(lines)
        self._line = 0
        header = None
        for raw in self._lines:
            self._line += 1
            if not is_blank(raw):
                header = raw
                break
        if header is None:
            raise CsvHeaderError(f"no header line: the first line must name the columns {', '.join(COLUMNS)}")
        names = _split(header)
        if names is None:
            raise CsvHeaderError("the header line is not valid CSV")
        names = [n.strip().lower() for n in names]
        missing = tuple(c for c in COLUMNS if c not in names)
        if missing:
            raise CsvHeaderError(f"header lacks column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})", missing)
        self.columns = {c: names.index(c) for c in COLUMNS}
        self._shift = 0 if first_line is None else first_line - (self._line + 1)

    def __iter__(self) -> Iterator[Row]:
        for _, item in self.numbered():
            yield item

    def numbered(self) -> Iterator[tuple[int, Row]]:
        """(line number, item) per data row."""
        for raw in self._lines:
            self._line += 1
            if is_blank(raw):
                continue
            line = self._line + self._shift
            item = self._row(raw)
            if isinstance(item, Rejection):
                item = Rejection(item.reason, f"CSV line {line}: {item.message}")
            yield line, item

    def _row(self, raw: str) -> Row:
        cells = _split(raw)
        if cells is None:
            return Rejection(Reason.MALFORMED_JSON, "not a valid CSV row")
        fields: dict[str, Any] = {}
        for name, col in self.columns.items():
            value = cells[col] if col < len(cells) else None
            if name not in ("device", "sig"):
                value = None if value is None else value.strip()
            if not value:
                if name in ("battery", "door"):  # optional on the wire too: absent means not reported
                    continue
                return Rejection(Reason.MISSING_FIELD, f"empty field {name!r}")
            converted = _convert(name, value)
            if converted is None:
                return Rejection(Reason.WRONG_TYPE, f"field {name!r} is not {_KIND[name]}: {value[:40]!r}")
            fields[name] = converted
        try:
            return parse_fields(fields)
        except Exception as exc:  # parse_fields is meant never to raise; a row must not sink the whole file
            return Rejection(Reason.INTERNAL_ERROR, f"unexpected error while parsing: {exc!r}")


_KIND = {
    "equipment": "an integer",
    "seq": "an integer",
    "ts": "an integer (ms)",
    "battery": "an integer",
    "temp_c": "a number",
    "door": "0 or 1",
}


def _convert(name: str, value: str) -> object | None:
    if name in ("device", "sig"):
        return value.strip() if name == "sig" else value
    if name == "temp_c":
        return float(value) if _FLOAT.fullmatch(value) else None
    if name == "door":
        return _DOOR.get(value.lower())
    return int(value) if _INT.fullmatch(value) else None


def parse_csv(lines: Iterable[str], *, first_line: int | None = None) -> list[Row]:
    """Every data row's item; raises CsvHeaderError when the header is unusable."""
    return list(CsvLog(lines, first_line=first_line))
