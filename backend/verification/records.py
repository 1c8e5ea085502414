"""A child's doses as the schedule evaluator takes them, read from the indexed chain: each dose's vaccine
type (its lot's product), the day it was given (China Standard Time) and whether its lot is recalled.

Which recalled-lot doses count is a setting (settings.VerificationSettings.recalled_lot_doses); the doses
set aside for it are returned beside the evaluation, so a guardian sees why a dose does not count. A
school's answer keeps only the `Verdict`; a one-row `fingerprint` of the dose records tells when a kept
verdict no longer holds."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import ColumnElement, Connection, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.schedule import Evaluation, GivenDose, evaluate
from backend.schedule.editions import Sex
from backend.services.supply import CHINA
from backend.verification.settings import RecallPolicy

CHUNK = 500
"""Values per IN (...) list: well under every database's bound variables limit."""


@dataclass(frozen=True, slots=True)
class DoseRow:
    """One dose as verification needs it (the clinic only to route a catch-up referral)."""

    vaccine: str
    at: int
    lot_id: int
    recalled: bool
    facility_id: int


@dataclass(frozen=True, slots=True)
class Judged:
    """A child's evaluation, the doses the recall policy set aside, and the lots of the doses that counted."""

    evaluation: Evaluation
    set_aside: tuple[DoseRow, ...]
    """Doses not given to the evaluator because their lot is recalled."""
    counted_lots: frozenset[int]

    @property
    def missing(self) -> tuple[tuple[str, int], ...]:
        return tuple((s.series, n) for s in self.evaluation.series for n in s.missing_doses)

    @property
    def verdict(self) -> Verdict:
        ev = self.evaluation
        return Verdict(ev.edition, ev.on, ev.complete, self.missing, self.counted_lots)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a school's answer and its attestation take from an evaluation: small enough to keep many."""

    edition: str
    on: date
    complete: bool
    missing: tuple[tuple[str, int], ...]
    counted_lots: frozenset[int]


def today() -> date:
    return datetime.now(CHINA).date()


def day_of(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, CHINA).date()


_DOSES = cv.Dose.__table__
_LOTS = cv.Lot.__table__
_PRODUCTS = cv.Product.__table__
# Core statements built once: verification reads dose records on every request, and building an ORM
# query each time costs more than running it.
_RECORDS = select(
    _DOSES.c.person, _PRODUCTS.c.vaccine_type, _DOSES.c.at, _DOSES.c.lot_id, _LOTS.c.status, _DOSES.c.facility_id
).select_from(_DOSES.join(_LOTS, _LOTS.c.id == _DOSES.c.lot_id).join(_PRODUCTS, _PRODUCTS.c.id == _LOTS.c.product_id))
_OF_ONE = _RECORDS.where(_DOSES.c.person == bindparam("person"))
_OF_MANY = _RECORDS.where(_DOSES.c.person.in_(bindparam("persons", expanding=True)))


def fingerprint_columns(person: ColumnElement[str]) -> tuple[ScalarSelect[int], ...]:
    """The fingerprint (below) as three scalar subqueries on a pseudonym, to read it beside another row."""
    of_person = _DOSES.c.person == person
    recalled = _DOSES.join(_LOTS, _LOTS.c.id == _DOSES.c.lot_id)
    return (
        select(func.count()).select_from(_DOSES).where(of_person).scalar_subquery(),
        select(func.max(_DOSES.c.at)).where(of_person).scalar_subquery(),
        select(func.count()).select_from(recalled).where(of_person, _LOTS.c.status == "recalled").scalar_subquery(),
    )


_FINGERPRINT = select(*fingerprint_columns(bindparam("person")))
Fingerprint = tuple[int, int | None, int]
"""(doses, time of the latest, doses of recalled lots): doses are only ever added and a lot only ever
becomes recalled, so this changes whenever a person's dose records do, and costs one row to read."""


def fingerprint(db: Connection | Session, pseudonym: str) -> Fingerprint:
    count, latest, recalled = db.execute(_FINGERPRINT, {"person": pseudonym}).one()
    return count, latest, recalled


def fingerprint_of(doses: Sequence[DoseRow]) -> Fingerprint:
    """The fingerprint of dose records already read (equal to `fingerprint` of the same records)."""
    return len(doses), max((d.at for d in doses), default=None), sum(d.recalled for d in doses)


def doses_of(db: Connection | Session, pseudonym: str) -> tuple[DoseRow, ...]:
    rows = db.execute(_OF_ONE, {"person": pseudonym}).all()
    return tuple(DoseRow(v, at, lot, status == "recalled", f) for _, v, at, lot, status, f in rows)


def doses_of_many(db: Connection | Session, pseudonyms: Collection[str]) -> dict[str, tuple[DoseRow, ...]]:
    found: dict[str, list[DoseRow]] = {p: [] for p in pseudonyms}
    ordered = list(found)
    for i in range(0, len(ordered), CHUNK):
        for person, v, at, lot, status, f in db.execute(_OF_MANY, {"persons": ordered[i : i + CHUNK]}):
            found[person].append(DoseRow(v, at, lot, status == "recalled", f))
    return {p: tuple(rows) for p, rows in found.items()}


def judge(birth: date, sex: str, doses: Sequence[DoseRow], on: date, policy: RecallPolicy) -> Judged:
    """The child's evaluation on `on`, doses of recalled lots counted or set aside by `policy`."""
    excluded = policy == "exclude"
    set_aside = tuple(d for d in doses if excluded and d.recalled)
    given = [d for d in doses if not (excluded and d.recalled)]
    # A birth date after today's date in China (a registration late in the day elsewhere) is judged as today.
    evaluation = evaluate(birth, cast(Sex, sex), [GivenDose(d.vaccine, day_of(d.at)) for d in given], max(on, birth))
    return Judged(evaluation, set_aside, _counted_lots(evaluation, given))


def _counted_lots(evaluation: Evaluation, doses: Iterable[DoseRow]) -> frozenset[int]:
    """Lots of the doses that counted. A dose is known to the evaluator by type and day only, so every lot
    given that type on that day is included: a recall of any of them touches the result."""
    counted = {(c.vaccine, c.given_on) for c in evaluation.counted}
    return frozenset(d.lot_id for d in doses if (d.vaccine, day_of(d.at)) in counted)
