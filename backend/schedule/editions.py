"""Editions of the national children's immunization schedule, kept as versioned JSON in data/.

Schedules change (the 2025 revision moved DTaP and added HPV), so each edition is one data
file and this module only reads and checks them; the evaluator decides what they mean for a
child. How a file is read:

- An edition is in force from its `effective_from` date until the next edition's. A series
  (vaccine line) may have its own `from` date, later than its edition's: it is part of the
  edition, but no dose of it is planned before that date. `born_on_or_after` limits a series
  to a birth cohort, `sex` to girls or boys.
- Ages and intervals are calendar durations, {"days": n}, {"months": n} or {"years": n}, in the
  unit the source states them in (converting "3 months" to a day count would invent a fact).
  Adding months keeps the day of the month, or takes the month's last day when it has fewer.
- `min_age` is the earliest age for a dose, `before` the age from which it is no longer on
  time (exclusive), `min_interval` the least time after the previous counted dose of the
  series; the first dose of a series has none, every later dose must state one.
- `not_given_from` ends a series for good at that age (BCG): a dose missing then is no longer
  needed. Otherwise the edition's `catch_up_before` closes the catch-up window.
- Keys named "note" or ending in "_note" are documentation. Every value the domain notes do
  not give carries such a note saying it is an assumption; nothing of the kind hides in code.

A malformed file raises `EditionError`, naming the file and the offending field.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

DATA_DIR = Path(__file__).resolve().parent / "data"

# The vaccine type codes recorded on chain (bytes8); a dose is matched on them exactly.
VACCINE_CODES = frozenset(
    {"HepB", "BCG", "IPV", "bOPV", "DTaP", "DT", "MMR", "JE-L", "JE-I", "MPSV-A", "MPSV-AC", "HepA-L", "HepA-I", "HPV"}
)

Sex = Literal["F", "M"]
Unit = Literal["days", "months", "years"]
_UNITS: tuple[Unit, ...] = ("days", "months", "years")
T = TypeVar("T")


class EditionError(ValueError):
    """A schedule file that cannot be used."""


class NoEditionError(LookupError):
    """No edition is in force on the date asked about."""


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: Unit

    def after(self, start: date) -> date:
        if self.unit == "days":
            return start + timedelta(days=self.amount)
        months = self.amount * 12 if self.unit == "years" else self.amount
        return _add_months(start, months)


def _add_months(start: date, months: int) -> date:
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last_day))


@dataclass(frozen=True, slots=True)
class DoseRule:
    number: int
    vaccines: tuple[str, ...]
    min_age: Duration
    before: Duration
    min_interval: Duration | None
    requires_tb_test_from: Duration | None


@dataclass(frozen=True, slots=True)
class Alternative:
    """One way to complete a series; a series without alternatives has one, named like the series."""

    id: str
    doses: tuple[DoseRule, ...]

    @property
    def vaccines(self) -> frozenset[str]:
        return frozenset(code for rule in self.doses for code in rule.vaccines)


@dataclass(frozen=True, slots=True)
class Series:
    id: str
    name: str
    alternatives: tuple[Alternative, ...]
    sex: Sex | None
    start: date | None
    born_on_or_after: date | None
    not_given_from: Duration | None

    def alternative(self, alternative_id: str) -> Alternative | None:
        return next((a for a in self.alternatives if a.id == alternative_id), None)


@dataclass(frozen=True, slots=True)
class Edition:
    id: str
    title: str
    effective_from: date
    source: str
    catch_up_before: Duration
    grace_days: int
    series: tuple[Series, ...]

    def series_by_id(self, series_id: str) -> Series | None:
        return next((s for s in self.series if s.id == series_id), None)

    def route(self, vaccine: str) -> tuple[Series, Alternative] | None:
        """The series and alternative a dose of this vaccine type belongs to, if any."""
        for series in self.series:
            for alternative in series.alternatives:
                if vaccine in alternative.vaccines:
                    return series, alternative
        return None


# ---------------------------------------------------------------- the shipped editions


@cache
def editions() -> tuple[Edition, ...]:
    """The shipped editions, oldest first."""
    return load_editions(DATA_DIR)


def edition_for(on: date) -> Edition:
    """The edition in force on a date."""
    in_force = [e for e in editions() if e.effective_from <= on]
    if not in_force:
        raise NoEditionError(f"no schedule edition is in force on {on.isoformat()}")
    return in_force[-1]


def load_editions(directory: Path) -> tuple[Edition, ...]:
    """Every *.json edition in a directory, oldest first, checked against each other."""
    loaded = sorted((load_edition(path) for path in sorted(directory.glob("*.json"))), key=lambda e: e.effective_from)
    if not loaded:
        raise EditionError(f"{directory}: no edition files")
    _check_together(loaded)
    return tuple(loaded)


def load_edition(path: Path) -> Edition:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EditionError(f"{path.name}: cannot be read as JSON: {e}") from e
    edition = _edition(raw, path.name)
    if f"{edition.id}.json" != path.name:
        raise EditionError(f"{path.name}: id {edition.id!r} does not match the file name")
    return edition


def _check_together(loaded: Sequence[Edition]) -> None:
    """The evaluator follows a series across editions by its id, so the ids must mean the same thing."""
    for field in ("id", "effective_from"):
        values = [getattr(e, field) for e in loaded]
        if len(set(values)) != len(values):
            raise EditionError(f"two editions share an {field}")
    home: dict[str, tuple[str, str, str]] = {}
    for edition in loaded:
        for series in edition.series:
            for alternative in series.alternatives:
                for code in alternative.vaccines:
                    seen = home.setdefault(code, (series.id, alternative.id, edition.id))
                    if seen[:2] != (series.id, alternative.id):
                        raise EditionError(
                            f"{edition.id}: vaccine {code} is in {series.id}/{alternative.id}, "
                            f"but in {seen[0]}/{seen[1]} in {seen[2]}"
                        )


# ---------------------------------------------------------------- parsing


def _is_note(key: str) -> bool:
    return key == "note" or key.endswith("_note")


def _object(raw: Any, where: str, required: Iterable[str], optional: Iterable[str] = ()) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise EditionError(f"{where}: expected an object, got {type(raw).__name__}")
    required, known = tuple(required), {*required, *optional}
    for key, value in raw.items():
        if _is_note(key):
            if not isinstance(value, str):
                raise EditionError(f"{where}.{key}: a note must be a string")
        elif key not in known:
            raise EditionError(f"{where}: unknown field {key!r}")
    missing = [key for key in required if key not in raw]
    if missing:
        raise EditionError(f"{where}: missing field(s) {', '.join(missing)}")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list) or not raw:
        raise EditionError(f"{where}: expected a non-empty list")
    return raw


def _text(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise EditionError(f"{where}: expected a non-empty string, got {raw!r}")
    return raw


def _int(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise EditionError(f"{where}: expected a whole number >= 0, got {raw!r}")
    return int(raw)


def _date(raw: Any, where: str) -> date:
    try:
        return date.fromisoformat(_text(raw, where))
    except ValueError as e:
        raise EditionError(f"{where}: expected a date YYYY-MM-DD, got {raw!r}") from e


def _duration(raw: Any, where: str) -> Duration:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in _UNITS:
        raise EditionError(f'{where}: expected one of {{"days": n}}, {{"months": n}}, {{"years": n}}, got {raw!r}')
    ((unit, amount),) = raw.items()
    return Duration(_int(amount, f"{where}.{unit}"), unit)


def _optional(raw: Mapping[str, Any], key: str, parse: Callable[[Any, str], T], where: str) -> T | None:
    return None if raw.get(key) is None else parse(raw[key], f"{where}.{key}")


def _vaccine(raw: Any, where: str) -> str:
    if raw not in VACCINE_CODES:
        raise EditionError(f"{where}: unknown vaccine type {raw!r} (known: {', '.join(sorted(VACCINE_CODES))})")
    return str(raw)


def _dose(raw: Any, where: str, number: int) -> DoseRule:
    obj = _object(raw, where, ("dose", "vaccines", "min_age", "before", "min_interval"), ("requires_tb_test_from",))
    if _int(obj["dose"], f"{where}.dose") != number:
        raise EditionError(f"{where}.dose: expected {number} (doses are numbered in order from 1)")
    vaccines = _list(obj["vaccines"], f"{where}.vaccines")
    rule = DoseRule(
        number=number,
        vaccines=tuple(_vaccine(v, f"{where}.vaccines[{i}]") for i, v in enumerate(vaccines)),
        min_age=_duration(obj["min_age"], f"{where}.min_age"),
        before=_duration(obj["before"], f"{where}.before"),
        min_interval=_optional(obj, "min_interval", _duration, where),
        requires_tb_test_from=_optional(obj, "requires_tb_test_from", _duration, where),
    )
    if (rule.min_interval is None) != (number == 1):
        raise EditionError(f"{where}.min_interval: required for every dose but the first, and only for them")
    reference = date(2000, 1, 1)  # any birth date: compares durations stated in different units
    if rule.before.after(reference) <= rule.min_age.after(reference):
        raise EditionError(f"{where}.before: must be later than min_age")
    return rule


def _alternative(raw: Any, where: str, default_id: str | None = None) -> Alternative:
    if default_id is None:
        obj = _object(raw, where, ("id", "doses"))
        alternative_id = _text(obj["id"], f"{where}.id")
    else:
        obj, alternative_id = raw, default_id
    doses = _list(obj["doses"], f"{where}.doses")
    return Alternative(alternative_id, tuple(_dose(d, f"{where}.doses[{i}]", i + 1) for i, d in enumerate(doses)))


def _series(raw: Any, where: str) -> Series:
    optional = ("doses", "alternatives", "sex", "from", "born_on_or_after", "not_given_from")
    obj = _object(raw, where, ("id", "name"), optional)
    series_id = _text(obj["id"], f"{where}.id")
    if ("doses" in obj) == ("alternatives" in obj):
        raise EditionError(f"{where}: needs exactly one of doses and alternatives")
    if "doses" in obj:
        alternatives: tuple[Alternative, ...] = (_alternative(obj, where, series_id),)
    else:
        listed = _list(obj["alternatives"], f"{where}.alternatives")
        alternatives = tuple(_alternative(a, f"{where}.alternatives[{i}]") for i, a in enumerate(listed))
    if obj.get("sex") not in (None, "F", "M"):
        raise EditionError(f'{where}.sex: expected "F" or "M", got {obj["sex"]!r}')
    return Series(
        id=series_id,
        name=_text(obj["name"], f"{where}.name"),
        alternatives=alternatives,
        sex=obj.get("sex"),
        start=_optional(obj, "from", _date, where),
        born_on_or_after=_optional(obj, "born_on_or_after", _date, where),
        not_given_from=_optional(obj, "not_given_from", _duration, where),
    )


def _edition(raw: Any, where: str) -> Edition:
    required = ("id", "title", "effective_from", "source", "catch_up_before", "grace_days", "series")
    obj = _object(raw, where, required)
    series = tuple(_series(s, f"{where}: series[{i}]") for i, s in enumerate(_list(obj["series"], f"{where}: series")))
    _check_unique(series, where)
    return Edition(
        id=_text(obj["id"], f"{where}: id"),
        title=_text(obj["title"], f"{where}: title"),
        effective_from=_date(obj["effective_from"], f"{where}: effective_from"),
        source=_text(obj["source"], f"{where}: source"),
        catch_up_before=_duration(obj["catch_up_before"], f"{where}: catch_up_before"),
        grace_days=_int(obj["grace_days"], f"{where}: grace_days"),
        series=series,
    )


def _check_unique(series: Sequence[Series], where: str) -> None:
    """A dose is placed by its vaccine type alone, so a type may belong to one series alternative only."""
    ids = [s.id for s in series]
    if len(set(ids)) != len(ids):
        raise EditionError(f"{where}: a series id appears twice")
    owner: dict[str, str] = {}
    for s in series:
        if len({a.id for a in s.alternatives}) != len(s.alternatives):
            raise EditionError(f"{where}: series {s.id} has two alternatives with one id")
        for alternative in s.alternatives:
            for code in alternative.vaccines:
                if owner.setdefault(code, f"{s.id}/{alternative.id}") != f"{s.id}/{alternative.id}":
                    raise EditionError(f"{where}: vaccine {code} is in both {owner[code]} and {s.id}/{alternative.id}")
