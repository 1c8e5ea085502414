"""A child's doses judged against the schedule edition in force on the evaluation date.

Pure functions over the edition data (editions.py); no clock, no storage, no personal data
besides the birth date and sex the schedule needs.

Which doses count:

- A dose belongs to the series (and alternative) whose doses use its vaccine type; the
  manufacturer does not matter. Within a series, doses are taken in date order and each
  one fills the next unfilled dose, or is set aside with a reason, checked in this order:
  `after_evaluation_date`, `duplicate` (same type on the same day as an earlier record),
  `extra` (the series is already full), `too_late` (on or after a series' `not_given_from`
  age, BCG from 4 years), `wrong_vaccine` (a type of the series, but not the one for this
  dose, e.g. bOPV as polio dose 1), `too_early` (before the dose's minimum age), `too_close`
  (sooner than the minimum interval after the previous counted dose). A late dose counts:
  catch-up fills the next dose, a series never restarts.
- A series limited to one sex or birth cohort (HPV) does not apply to other children; their
  doses of it are set aside as `not_applicable`. A vaccine type no series uses (DT once the
  2025 edition is in force) is `not_in_edition`.
- Across editions: a dose counts if it meets the rules of the evaluation edition or those of
  the edition in force on the day it was given (the oldest edition for older doses, none
  being known before it). So a DTaP dose 3 given at 5 months in 2024 still counts in 2026
  although the 2025 edition's dose 3 starts at 6 months, and a DT given at 6 years in 2024
  counts as dose 5 of the diphtheria-tetanus line, while a DT given in 2025 does not.
- Alternatives (JE live or inactivated, HepA live or inactivated) are counted separately,
  never mixed. The series follows a complete alternative if there is one, else the one with
  more counted doses, else the first one in the file (the live vaccine); the doses of the
  other alternative are set aside as `other_alternative`.

Series status, for the next dose the followed alternative needs:

- `complete`: every dose counted.
- `not_yet`: its earliest date (minimum age, minimum interval after the last counted dose,
  and the series' start date) is after the evaluation date.
- `due`: it may be given and is still on time (the evaluation date is before its `before` age).
- `overdue`: its on-time date has passed but it can still be given as catch-up (even when an
  interval holds it back a few more days). Every remaining dose whose on-time date has passed
  is what the school sees as missing and what the clinic catches up.
- `missing`: it can no longer be given within the catch-up window (under 18): the record
  stays incomplete for good. Reported missing to a school as well, but not in the catch-up.
- `not_applicable`: the series is not for this child (reason `sex` or `cohort`), or it has
  ended at `not_given_from` without the dose (reason `age_limit`: BCG from 4 years is no
  longer needed and is not counted as missing).

The overall `complete` means nothing is overdue or missing: the child is up to date for the
age, which is what school entry asks; doses that are due or not yet due do not spoil it.
Planned dates assume each earlier dose is given on its earliest date, and are never before
the evaluation date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from backend.schedule.editions import (
    Alternative,
    DoseRule,
    Edition,
    NoEditionError,
    Series,
    Sex,
    edition_for,
    editions,
)

Status = Literal["complete", "due", "overdue", "not_yet", "missing", "not_applicable"]
Reason = Literal[
    "after_evaluation_date",
    "duplicate",
    "extra",
    "too_late",
    "wrong_vaccine",
    "too_early",
    "too_close",
    "other_alternative",
    "not_applicable",
    "not_in_edition",
]


@dataclass(frozen=True, slots=True)
class GivenDose:
    vaccine: str
    given_on: date


@dataclass(frozen=True, slots=True)
class CountedDose:
    vaccine: str
    given_on: date
    dose: int


@dataclass(frozen=True, slots=True)
class NotCountedDose:
    vaccine: str
    given_on: date
    reason: Reason


@dataclass(frozen=True, slots=True)
class PlannedDose:
    """A dose still to give: a catch-up item, or a reminder."""

    series: str
    dose: int
    vaccines: tuple[str, ...]
    earliest: date
    due_before: date
    requires_tb_test: bool


@dataclass(frozen=True, slots=True)
class SeriesStatus:
    series: str
    name: str
    status: Status
    alternative: str | None
    """The alternative followed, for series that have alternatives."""
    counted: tuple[CountedDose, ...]
    not_counted: tuple[NotCountedDose, ...]
    next_dose: int | None
    next_due: date | None
    """The earliest date the next dose may be given by the schedule (in the past when it is due or overdue)."""
    due_before: date | None
    """The next dose is on time before this date."""
    missing_doses: tuple[int, ...]
    planned: tuple[PlannedDose, ...]
    reason: str | None = None
    """Why the series is not applicable: "sex", "cohort" or "age_limit"."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    edition: str
    on: date
    complete: bool
    series: tuple[SeriesStatus, ...]
    catch_up: tuple[PlannedDose, ...]
    unmatched: tuple[NotCountedDose, ...]
    """Doses that belong to no series of the edition."""

    @property
    def counted(self) -> tuple[CountedDose, ...]:
        return tuple(d for s in self.series for d in s.counted)

    @property
    def not_counted(self) -> tuple[NotCountedDose, ...]:
        return tuple(d for s in self.series for d in s.not_counted) + self.unmatched


@dataclass(frozen=True, slots=True)
class MissingDose:
    series: str
    dose: int


@dataclass(frozen=True, slots=True)
class SchoolEntryView:
    """What a school may learn: complete or not, and which doses are missing; never when a dose was given."""

    edition: str
    on: date
    complete: bool
    missing: tuple[MissingDose, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "edition": self.edition,
            "on": self.on.isoformat(),
            "complete": self.complete,
            "missing": [{"series": m.series, "dose": m.dose} for m in self.missing],
        }


@dataclass(frozen=True, slots=True)
class _Context:
    birth: date
    sex: Sex
    on: date
    edition: Edition


@dataclass(frozen=True, slots=True)
class _Track:
    """One alternative's doses, counted."""

    alternative: Alternative
    given: tuple[GivenDose, ...]
    counted: tuple[CountedDose, ...]
    not_counted: tuple[NotCountedDose, ...]

    @property
    def complete(self) -> bool:
        return len(self.counted) == len(self.alternative.doses)


# ---------------------------------------------------------------- public API


def evaluate(
    birth_date: date, sex: Sex, doses: Sequence[GivenDose], on: date, edition: Edition | None = None
) -> Evaluation:
    """Judge `doses` on the date `on`, by `edition` or else the edition in force on that date.

    A dose the evaluation edition refuses may still count by the shipped edition that was in force
    on the day it was given (see the module notes)."""
    if sex not in ("F", "M"):
        raise ValueError(f'sex must be "F" or "M", got {sex!r}')
    if on < birth_date:
        raise ValueError(f"evaluation date {on} is before the birth date {birth_date}")
    ctx = _Context(birth_date, sex, on, edition or edition_for(on))
    placed: dict[tuple[str, str], list[GivenDose]] = {}
    unmatched: list[NotCountedDose] = []
    for dose in doses:
        home = _home(dose, ctx.edition)
        if home is None:
            unmatched.append(NotCountedDose(dose.vaccine, dose.given_on, "not_in_edition"))
        else:
            placed.setdefault(home, []).append(dose)
    statuses = tuple(_series_status(ctx, s, placed) for s in ctx.edition.series)
    return Evaluation(
        edition=ctx.edition.id,
        on=on,
        complete=not any(s.missing_doses for s in statuses),
        series=statuses,
        catch_up=tuple(p for s in statuses for p in s.planned if p.dose in s.missing_doses),
        unmatched=tuple(unmatched),
    )


def school_entry_view(evaluation: Evaluation) -> SchoolEntryView:
    missing = tuple(MissingDose(s.series, n) for s in evaluation.series for n in s.missing_doses)
    return SchoolEntryView(evaluation.edition, evaluation.on, evaluation.complete, missing)


def reminders(evaluation: Evaluation, horizon_days: int = 90) -> tuple[PlannedDose, ...]:
    """The doses a family can plan for within the horizon (overdue ones included), soonest first."""
    if horizon_days < 0:
        raise ValueError(f"horizon_days must be >= 0, got {horizon_days}")
    end = evaluation.on + timedelta(days=horizon_days)
    upcoming = (p for s in evaluation.series for p in s.planned if p.earliest <= end)
    return tuple(sorted(upcoming, key=lambda p: (p.earliest, p.series, p.dose)))


# ---------------------------------------------------------------- placing and counting doses


def _judging_edition(day: date) -> Edition:
    try:
        return edition_for(day)
    except NoEditionError:
        return editions()[0]


def _home(dose: GivenDose, edition: Edition) -> tuple[str, str] | None:
    """(series id, alternative id) of the dose under `edition`, found through the edition it was given in if need be."""
    found = edition.route(dose.vaccine) or _judging_edition(dose.given_on).route(dose.vaccine)
    if found is None:
        return None
    series = edition.series_by_id(found[0].id)
    if series is None or series.alternative(found[1].id) is None:
        return None
    return series.id, found[1].id


def _count(ctx: _Context, series: Series, alternative: Alternative, doses: Sequence[GivenDose]) -> _Track:
    counted: list[CountedDose] = []
    not_counted: list[NotCountedDose] = []
    seen: set[tuple[str, date]] = set()
    for dose in sorted(doses, key=lambda d: (d.given_on, d.vaccine)):
        reason: Reason | None
        if dose.given_on > ctx.on:
            reason = "after_evaluation_date"
        elif (dose.vaccine, dose.given_on) in seen:
            reason = "duplicate"
        else:
            reason = _fill_reason(ctx, series, alternative, dose, counted)
        seen.add((dose.vaccine, dose.given_on))
        if reason is None:
            counted.append(CountedDose(dose.vaccine, dose.given_on, len(counted) + 1))
        else:
            not_counted.append(NotCountedDose(dose.vaccine, dose.given_on, reason))
    return _Track(alternative, tuple(doses), tuple(counted), tuple(not_counted))


def _fill_reason(
    ctx: _Context, series: Series, alternative: Alternative, dose: GivenDose, counted: Sequence[CountedDose]
) -> Reason | None:
    """Why the dose cannot be the alternative's next dose, or None when it can."""
    index = len(counted)
    if index == len(alternative.doses):
        return "extra"
    if series.not_given_from and dose.given_on >= series.not_given_from.after(ctx.birth):
        return "too_late"
    previous = counted[-1].given_on if counted else None
    reason = _rule_reason(alternative.doses[index], ctx.edition.grace_days, dose, previous, ctx.birth)
    then = _judging_edition(dose.given_on)
    if reason is None or then.id == ctx.edition.id:
        return reason
    earlier = _same_dose(then, series.id, alternative.id, index)
    earlier_reason = (
        "wrong_vaccine" if earlier is None else _rule_reason(earlier, then.grace_days, dose, previous, ctx.birth)
    )
    if earlier_reason is None:
        return None
    # Report the reason given by a rule that at least takes this vaccine.
    return reason if reason != "wrong_vaccine" else earlier_reason


def _same_dose(edition: Edition, series_id: str, alternative_id: str, index: int) -> DoseRule | None:
    series = edition.series_by_id(series_id)
    alternative = series.alternative(alternative_id) if series else None
    if alternative is None or index >= len(alternative.doses):
        return None
    return alternative.doses[index]


def _rule_reason(rule: DoseRule, grace_days: int, dose: GivenDose, previous: date | None, birth: date) -> Reason | None:
    if dose.vaccine not in rule.vaccines:
        return "wrong_vaccine"
    grace = timedelta(days=grace_days)
    if dose.given_on < rule.min_age.after(birth) - grace:
        return "too_early"
    if previous is not None and rule.min_interval and dose.given_on < rule.min_interval.after(previous) - grace:
        return "too_close"
    return None


# ---------------------------------------------------------------- series status


def _series_status(ctx: _Context, series: Series, placed: dict[tuple[str, str], list[GivenDose]]) -> SeriesStatus:
    given = {a.id: placed.get((series.id, a.id), []) for a in series.alternatives}
    excluded = _exclusion(ctx, series)
    if excluded is not None:
        set_aside = tuple(NotCountedDose(d.vaccine, d.given_on, "not_applicable") for ds in given.values() for d in ds)
        return _closed(series, "not_applicable", None, (), set_aside, reason=excluded)
    tracks = [_count(ctx, series, a, given[a.id]) for a in series.alternatives]
    followed = max(tracks, key=lambda t: (t.complete, len(t.counted)))  # max keeps the first of equals
    others = tuple(
        NotCountedDose(d.vaccine, d.given_on, "other_alternative") for t in tracks if t is not followed for d in t.given
    )
    return _status(ctx, series, followed, followed.not_counted + others)


def _exclusion(ctx: _Context, series: Series) -> str | None:
    if series.sex is not None and series.sex != ctx.sex:
        return "sex"
    if series.born_on_or_after is not None and ctx.birth < series.born_on_or_after:
        return "cohort"
    return None


def _closed(
    series: Series,
    status: Status,
    alternative: str | None,
    counted: tuple[CountedDose, ...],
    not_counted: tuple[NotCountedDose, ...],
    *,
    reason: str | None = None,
    missing: tuple[int, ...] = (),
) -> SeriesStatus:
    """A series with nothing left to plan."""
    return SeriesStatus(
        series.id, series.name, status, alternative, counted, not_counted, None, None, None, missing, (), reason
    )


def _status(ctx: _Context, series: Series, track: _Track, not_counted: tuple[NotCountedDose, ...]) -> SeriesStatus:
    alternative = track.alternative.id if len(series.alternatives) > 1 else None
    remaining = track.alternative.doses[len(track.counted) :]
    if not remaining:
        return _closed(series, "complete", alternative, track.counted, not_counted)
    last = track.counted[-1].given_on if track.counted else None
    planned = _plan(ctx, series, remaining, last)
    if not planned:
        if series.not_given_from is not None:
            return _closed(series, "not_applicable", alternative, track.counted, not_counted, reason="age_limit")
        missing = tuple(r.number for r in remaining)
        return _closed(series, "missing", alternative, track.counted, not_counted, missing=missing)
    rule = remaining[0]
    next_due = _earliest(series, rule, last, ctx.birth)
    due_before = rule.before.after(ctx.birth)
    status: Status
    if ctx.on >= due_before:
        status = "overdue"
    elif ctx.on >= next_due:
        status = "due"
    else:
        status = "not_yet"
    late = tuple(r.number for r in remaining if r.before.after(ctx.birth) <= ctx.on)
    return SeriesStatus(
        series=series.id,
        name=series.name,
        status=status,
        alternative=alternative,
        counted=track.counted,
        not_counted=not_counted,
        next_dose=rule.number,
        next_due=next_due,
        due_before=due_before,
        missing_doses=late if status == "overdue" else (),
        planned=planned,
    )


def _earliest(series: Series, rule: DoseRule, previous: date | None, birth: date) -> date:
    earliest = rule.min_age.after(birth)
    if previous is not None and rule.min_interval is not None:
        earliest = max(earliest, rule.min_interval.after(previous))
    if series.start is not None:
        earliest = max(earliest, series.start)
    return earliest


def _plan(ctx: _Context, series: Series, remaining: Sequence[DoseRule], last: date | None) -> tuple[PlannedDose, ...]:
    """The remaining doses on their earliest dates from the evaluation date, within the catch-up window."""
    limit = ctx.edition.catch_up_before.after(ctx.birth)
    if series.not_given_from is not None:
        limit = min(limit, series.not_given_from.after(ctx.birth))
    planned: list[PlannedDose] = []
    previous = last
    for rule in remaining:
        earliest = max(_earliest(series, rule, previous, ctx.birth), ctx.on)
        if earliest >= limit:
            break
        tb_from = rule.requires_tb_test_from
        tb_test = tb_from is not None and earliest >= tb_from.after(ctx.birth)
        due_before = rule.before.after(ctx.birth)
        planned.append(PlannedDose(series.id, rule.number, rule.vaccines, earliest, due_before, tb_test))
        previous = earliest
    return tuple(planned)
