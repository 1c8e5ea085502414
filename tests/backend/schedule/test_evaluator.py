"""The evaluator against cases worked out by hand from the schedule (DOMAIN.md and the data notes).

Each case says, in its comment, how its expected result follows from the schedule; none was
produced by running the code. Dates are ISO strings; ages are counted in calendar months and
years from the birth date (a child born 2024-01-15 is 3 months old on 2024-04-15)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.core import given  # not the chain-isolating wrapper pytest-brownie puts on hypothesis.given

from backend.schedule.editions import VACCINE_CODES, Edition, edition_for, editions
from backend.schedule.evaluator import (
    Evaluation,
    GivenDose,
    PlannedDose,
    SeriesStatus,
    evaluate,
    reminders,
    school_entry_view,
)

D = date.fromisoformat


def run(birth: str, doses: list[tuple[str, str]], on: str, sex: str = "M") -> Evaluation:
    return evaluate(D(birth), sex, [GivenDose(v, D(day)) for v, day in doses], D(on))  # type: ignore[arg-type]


def line(evaluation: Evaluation, series_id: str) -> SeriesStatus:
    return next(s for s in evaluation.series if s.series == series_id)


def planned(items: tuple[PlannedDose, ...]) -> list[tuple[str, int, str]]:
    return [(p.series, p.dose, p.earliest.isoformat()) for p in items]


@dataclass(frozen=True)
class Case:
    name: str
    birth: str
    doses: list[tuple[str, str]]
    on: str
    series: str
    status: str
    counted: int
    not_counted: list[tuple[str, str, str]] = field(default_factory=list)
    next_due: str | None = None
    missing: tuple[int, ...] = ()
    sex: str = "M"
    alternative: str | None = None
    reason: str | None = None


# fmt: off
CASES = [
    # ---------------------------------------------- HepB: birth (within 24 h), 1 m, 6 m
    # Day of birth: dose 1 may be given from birth and is on time until the day after (data note).
    Case("hepb due at birth", "2024-01-15", [], "2024-01-15", "hepb", "due", 0, next_due="2024-01-15"),
    # Two days old without dose 1: the on-time window has closed, catch-up needed; dose 2 (before 12 m) is not late.
    Case("hepb 1 overdue on day 2", "2024-01-15", [], "2024-01-17", "hepb", "overdue", 0, next_due="2024-01-15",
         missing=(1,)),
    # Dose 2 waits for 1 month of age (2024-02-15), later than 28 days after dose 1 (2024-02-12).
    Case("hepb 2 not yet", "2024-01-15", [("HepB", "2024-01-15")], "2024-02-14", "hepb", "not_yet", 1,
         next_due="2024-02-15"),
    # Dose 2 at 20 days old is before the 1-month minimum age: not counted; dose 2 is due from 2024-02-15.
    Case("hepb 2 at 20 days", "2024-01-15", [("HepB", "2024-01-15"), ("HepB", "2024-02-04")], "2024-03-01", "hepb",
         "due", 1, [("HepB", "2024-02-04", "too_early")], next_due="2024-02-15"),
    # Birth, 1 m (31 d later), 6 m (152 d later): all three count.
    Case("hepb complete", "2024-01-15", [("HepB", "2024-01-15"), ("HepB", "2024-02-15"), ("HepB", "2024-07-15")],
         "2024-08-01", "hepb", "complete", 3),
    # Dose 3 at 6 m but only 56 days after dose 2 (05-20 + 60 d = 07-19): too close; due from 07-19, on time to 12 m.
    Case("hepb 3 too close", "2024-01-15", [("HepB", "2024-01-15"), ("HepB", "2024-05-20"), ("HepB", "2024-07-15")],
         "2024-08-01", "hepb", "due", 2, [("HepB", "2024-07-15", "too_close")], next_due="2024-07-19"),
    # A late dose 2 at 13.5 m still counts (no restart); dose 3 (before 12 m) is overdue, from 03-01 + 60 d = 04-30.
    Case("hepb late dose counts", "2024-01-15", [("HepB", "2024-01-15"), ("HepB", "2025-03-01")], "2025-06-01",
         "hepb", "overdue", 2, next_due="2025-04-30", missing=(3,)),
    # Two records of the same dose on the same day: the second is a duplicate.
    Case("hepb duplicate record", "2024-01-15", [("HepB", "2024-01-15"), ("HepB", "2024-01-15")], "2024-01-20",
         "hepb", "not_yet", 1, [("HepB", "2024-01-15", "duplicate")], next_due="2024-02-15"),
    # A dose dated after the evaluation date is not counted yet.
    Case("hepb dose after the evaluation date", "2024-01-15", [("HepB", "2024-01-15"), ("HepB", "2024-03-01")],
         "2024-02-20", "hepb", "due", 1, [("HepB", "2024-03-01", "after_evaluation_date")], next_due="2024-02-15"),
    # ---------------------------------------------- BCG: birth, before 3 m; TB test from 3 m; not from 4 y
    Case("bcg due", "2024-01-15", [], "2024-03-01", "bcg", "due", 0, next_due="2024-01-15"),
    Case("bcg complete", "2024-01-15", [("BCG", "2024-01-16")], "2024-03-01", "bcg", "complete", 1),
    # At 3.5 months BCG is late but may still be caught up (after a TB test).
    Case("bcg overdue after 3 m", "2024-01-15", [], "2024-05-01", "bcg", "overdue", 0, next_due="2024-01-15",
         missing=(1,)),
    # 3 years 11 months: still catch-up.
    Case("bcg overdue at 3 y 11 m", "2020-12-20", [], "2024-12-01", "bcg", "overdue", 0, next_due="2020-12-20",
         missing=(1,)),
    # From 4 years BCG is no longer given and not counted missing.
    Case("bcg lapses at 4 y", "2020-12-20", [], "2024-12-20", "bcg", "not_applicable", 0, reason="age_limit"),
    # A BCG given at 4 y 2 m does not count.
    Case("bcg given after 4 y", "2020-12-20", [("BCG", "2025-02-20")], "2025-03-01", "bcg", "not_applicable", 0,
         [("BCG", "2025-02-20", "too_late")], reason="age_limit"),
    # ---------------------------------------------- polio: IPV 2 m, IPV 3 m, bOPV 4 m, bOPV 4 y; >= 28 d
    # Three doses on time (31 and 30 days apart); dose 4 waits for 4 years.
    Case("polio 3 doses", "2024-01-15", [("IPV", "2024-03-15"), ("IPV", "2024-04-15"), ("bOPV", "2024-05-15")],
         "2024-06-01", "polio", "not_yet", 3, next_due="2028-01-15"),
    # IPV 2 twenty days after IPV 1 (03-26 -> 04-15), at exactly 3 m: too close; due from 03-26 + 28 d = 04-23.
    Case("ipv 2 after 20 days", "2024-01-15", [("IPV", "2024-03-26"), ("IPV", "2024-04-15")], "2024-05-01", "polio",
         "due", 1, [("IPV", "2024-04-15", "too_close")], next_due="2024-04-23"),
    # bOPV cannot be polio dose 1 (IPV).
    Case("bopv as polio 1", "2024-01-15", [("bOPV", "2024-03-15")], "2024-03-20", "polio", "due", 0,
         [("bOPV", "2024-03-15", "wrong_vaccine")], next_due="2024-03-15"),
    # Dose 4 is on time before 5 y (2024-02-01); at 5 y 1 m it is overdue.
    Case("polio 4 overdue at 5 y", "2019-02-01",
         [("IPV", "2019-04-01"), ("IPV", "2019-05-01"), ("bOPV", "2019-06-01")], "2024-03-01", "polio", "overdue", 3,
         next_due="2023-02-01", missing=(4,)),
    # ---------------------------------------------- DTaP/DT, 2021 edition: 3, 4, 5, 18 m, DT 6 y
    Case("dtap 2021 three doses", "2024-01-15",
         [("DTaP", "2024-04-15"), ("DTaP", "2024-05-15"), ("DTaP", "2024-06-15")], "2024-07-01", "dtp", "not_yet", 3,
         next_due="2025-07-15"),
    # In 2024 DTaP starts at 3 m: a dose at 2 m is too early.
    Case("dtap at 2 m in 2024", "2024-01-15", [("DTaP", "2024-03-15")], "2024-03-20", "dtp", "not_yet", 0,
         [("DTaP", "2024-03-15", "too_early")], next_due="2024-04-15"),
    # The same dose judged in 2025 meets the 2025 edition's 2-month minimum: it counts.
    Case("dtap at 2 m judged in 2025", "2024-01-15", [("DTaP", "2024-03-15")], "2025-01-02", "dtp", "due", 1,
         next_due="2024-05-15"),
    # 2021 edition: DT is dose 5 at 6 y, on time before 7 y.
    Case("dt completes 2021", "2018-03-10",
         [("DTaP", "2018-06-10"), ("DTaP", "2018-07-10"), ("DTaP", "2018-08-10"), ("DTaP", "2019-09-10"),
          ("DT", "2024-03-10")], "2024-04-01", "dtp", "complete", 5),
    # In 2024 a DTaP at 6 y is not the DT the 2021 edition asks for.
    Case("dtap instead of dt in 2024", "2018-03-10",
         [("DTaP", "2018-06-10"), ("DTaP", "2018-07-10"), ("DTaP", "2018-08-10"), ("DTaP", "2019-09-10"),
          ("DTaP", "2024-03-10")], "2024-04-01", "dtp", "due", 4, [("DTaP", "2024-03-10", "wrong_vaccine")],
         next_due="2024-03-10"),
    # ---------------------------------------------- DTaP, 2025 edition: 2, 4, 6, 18 m, 6 y
    # Under 2025 rules dose 3 starts at 6 m, but a dose 3 given at 5 m while the 2021 edition was in force counts.
    Case("2024 dose 3 at 5 m counts in 2025", "2024-01-15",
         [("DTaP", "2024-04-15"), ("DTaP", "2024-05-15"), ("DTaP", "2024-06-15")], "2025-02-01", "dtp", "not_yet", 3,
         next_due="2025-07-15"),
    # A dose 3 at 5 m given in 2025 breaks the 2025 minimum age; dose 3 is due from 6 m (2025-03-01).
    Case("2025 dose 3 at 5 m", "2024-09-01",
         [("DTaP", "2024-12-01"), ("DTaP", "2025-01-01"), ("DTaP", "2025-02-01")], "2025-03-15", "dtp", "due", 2,
         [("DTaP", "2025-02-01", "too_early")], next_due="2025-03-01"),
    # A DT given at 6 y in 2024 counts as dose 5 in 2026 (the 2021 edition was in force); doses before 2021 are
    # judged by the 2021 edition too, so dose 3 at 5 m counts.
    Case("2024 dt counts as dose 5 in 2026", "2018-03-10",
         [("DTaP", "2018-06-10"), ("DTaP", "2018-07-10"), ("DTaP", "2018-08-10"), ("DTaP", "2019-09-10"),
          ("DT", "2024-03-10")], "2026-01-01", "dtp", "complete", 5),
    # A DT given in 2025 belongs to no series of the 2025 edition; DTaP dose 5 is due (6 y) and on time until 7 y.
    Case("2025 dt is not dose 5", "2019-02-01",
         [("DTaP", "2019-05-01"), ("DTaP", "2019-06-01"), ("DTaP", "2019-07-01"), ("DTaP", "2020-08-01"),
          ("DT", "2025-02-01")], "2025-03-01", "dtp", "due", 4, next_due="2025-02-01"),
    # ---------------------------------------------- MMR: 8 m, 18 m
    Case("mmr 2 due", "2023-01-20", [("MMR", "2023-09-20")], "2024-08-01", "mmr", "due", 1, next_due="2024-07-20"),
    # MMR at 7 m is too early; at 12 m 5 d dose 1 is past its on-time limit (before 12 m).
    Case("mmr at 7 m", "2023-01-20", [("MMR", "2023-08-20")], "2024-01-25", "mmr", "overdue", 0,
         [("MMR", "2023-08-20", "too_early")], next_due="2023-09-20", missing=(1,)),
    # ---------------------------------------------- JE: live 8 m, 2 y; or inactivated 8 m x2, 2 y, 6 y
    Case("je live complete", "2021-03-01", [("JE-L", "2021-11-01"), ("JE-L", "2023-03-01")], "2024-01-01", "je",
         "complete", 2, alternative="JE-L"),
    Case("je inactivated three doses", "2021-03-01",
         [("JE-I", "2021-11-01"), ("JE-I", "2021-11-08"), ("JE-I", "2023-03-01")], "2024-01-01", "je", "not_yet", 3,
         next_due="2027-03-01", alternative="JE-I"),
    # The second inactivated dose 5 days after the first: too close (7-10 d); due from 11-08.
    Case("je-i 2 after 5 days", "2021-03-01", [("JE-I", "2021-11-01"), ("JE-I", "2021-11-06")], "2021-11-20", "je",
         "due", 1, [("JE-I", "2021-11-06", "too_close")], next_due="2021-11-08", alternative="JE-I"),
    # One live and two inactivated doses: the inactivated series has more doses and is followed.
    Case("je both kinds", "2021-03-01", [("JE-L", "2021-11-01"), ("JE-I", "2021-12-01"), ("JE-I", "2021-12-08")],
         "2022-01-01", "je", "not_yet", 2, [("JE-L", "2021-11-01", "other_alternative")], next_due="2023-03-01",
         alternative="JE-I"),
    # One of each: a tie goes to the live vaccine, listed first.
    Case("je tie", "2021-03-01", [("JE-L", "2021-11-01"), ("JE-I", "2021-12-01")], "2022-01-01", "je", "not_yet", 1,
         [("JE-I", "2021-12-01", "other_alternative")], next_due="2023-03-01", alternative="JE-L"),
    # The live series is complete: it is followed even though the inactivated one has more doses.
    Case("je complete beats more doses", "2021-03-01",
         [("JE-I", "2021-11-01"), ("JE-I", "2021-11-08"), ("JE-I", "2023-03-01"), ("JE-L", "2021-12-01"),
          ("JE-L", "2023-03-02")], "2024-01-01", "je", "complete", 2,
         [("JE-I", "2021-11-01", "other_alternative"), ("JE-I", "2021-11-08", "other_alternative"),
          ("JE-I", "2023-03-01", "other_alternative")], alternative="JE-L"),
    # None at 3 y: the live series is planned; dose 1 (before 12 m) and dose 2 (before 3 y) are both late.
    Case("je none at 3 y", "2021-03-01", [], "2024-03-01", "je", "overdue", 0, next_due="2021-11-01", missing=(1, 2),
         alternative="JE-L"),
    # ---------------------------------------------- MPSV-A: 6 m, 9 m, >= 3 months apart
    Case("mpsv-a complete", "2024-01-15", [("MPSV-A", "2024-07-15"), ("MPSV-A", "2024-10-15")], "2024-11-01",
         "mpsv-a", "complete", 2),
    Case("mpsv-a 2 before 9 m", "2024-01-15", [("MPSV-A", "2024-07-15"), ("MPSV-A", "2024-10-01")], "2024-10-20",
         "mpsv-a", "due", 1, [("MPSV-A", "2024-10-01", "too_early")], next_due="2024-10-15"),
    # Dose 1 at 7 m, dose 2 at 9 m: under 3 months apart; dose 2 waits for 08-20 + 3 months.
    Case("mpsv-a 2 too close", "2024-01-15", [("MPSV-A", "2024-08-20"), ("MPSV-A", "2024-10-15")], "2024-11-01",
         "mpsv-a", "not_yet", 1, [("MPSV-A", "2024-10-15", "too_close")], next_due="2024-11-20"),
    # ---------------------------------------------- MPSV-AC: 3 y, 6 y, >= 3 years apart
    Case("mpsv-ac 2 due", "2018-03-10", [("MPSV-AC", "2021-03-10")], "2024-03-20", "mpsv-ac", "due", 1,
         next_due="2024-03-10"),
    # A late dose 1 at 4 y counts; dose 2 then waits 3 years, past 6 y.
    Case("mpsv-ac late dose 1", "2018-03-10", [("MPSV-AC", "2022-03-10")], "2024-04-01", "mpsv-ac", "not_yet", 1,
         next_due="2025-03-10"),
    # ---------------------------------------------- HepA: live 18 m; or inactivated 18 m, 2 y, >= 6 m apart
    Case("hepa live complete", "2022-01-10", [("HepA-L", "2023-07-10")], "2024-03-01", "hepa", "complete", 1,
         alternative="HepA-L"),
    Case("hepa inactivated complete", "2022-01-10", [("HepA-I", "2023-07-10"), ("HepA-I", "2024-01-10")],
         "2024-03-01", "hepa", "complete", 2, alternative="HepA-I"),
    # Inactivated doses at 21 m and 2 y are 3 months apart: the second waits for 2023-10-10 + 6 months.
    Case("hepa-i 2 too close", "2022-01-10", [("HepA-I", "2023-10-10"), ("HepA-I", "2024-01-10")], "2024-02-01",
         "hepa", "not_yet", 1, [("HepA-I", "2024-01-10", "too_close")], next_due="2024-04-10", alternative="HepA-I"),
    # Nothing at 2 y 1 m: the live dose (before 24 m) is overdue.
    Case("hepa none at 2 y", "2022-01-10", [], "2024-02-10", "hepa", "overdue", 0, next_due="2023-07-10",
         missing=(1,), alternative="HepA-L"),
    # ---------------------------------------------- HPV (2025 edition): girls, 13 y, from 2025-11-10
    # A girl 13 y 2 m old before the programme starts: nothing is planned before 2025-11-10.
    Case("hpv waits for the programme", "2012-04-01", [], "2025-06-01", "hpv", "not_yet", 0, sex="F",
         next_due="2025-11-10"),
    Case("hpv due when it starts", "2012-04-01", [], "2025-11-10", "hpv", "due", 0, sex="F", next_due="2025-11-10"),
    Case("hpv not for boys", "2012-04-01", [("HPV", "2025-11-10")], "2025-12-01", "hpv", "not_applicable", 0,
         [("HPV", "2025-11-10", "not_applicable")], reason="sex"),
    # Born before 2011-11-10: outside the assumed cohort.
    Case("hpv cohort", "2011-06-01", [], "2025-12-01", "hpv", "not_applicable", 0, sex="F", reason="cohort"),
    Case("hpv complete", "2012-04-01", [("HPV", "2025-11-10"), ("HPV", "2026-05-10")], "2026-06-01", "hpv",
         "complete", 2, sex="F"),
    # Second dose 3 months after the first: the (assumed) 6-month interval is not met.
    Case("hpv 2 too close", "2012-04-01", [("HPV", "2025-11-10"), ("HPV", "2026-02-10")], "2026-03-01", "hpv",
         "not_yet", 1, [("HPV", "2026-02-10", "too_close")], sex="F", next_due="2026-05-10"),
]
# fmt: on


def check(case: Case, evaluation: Evaluation) -> None:
    status = line(evaluation, case.series)
    assert status.status == case.status
    assert len(status.counted) == case.counted
    assert [(d.vaccine, d.given_on.isoformat(), d.reason) for d in status.not_counted] == case.not_counted
    assert status.next_due == (D(case.next_due) if case.next_due else None)
    assert status.missing_doses == case.missing
    assert status.alternative == case.alternative
    assert status.reason == case.reason


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_series_case(case: Case) -> None:
    check(case, run(case.birth, case.doses, case.on, case.sex))


UNCHANGED_IN_2025 = [c for c in CASES if c.series not in {"dtp", "hpv"}]


@pytest.mark.parametrize("edition", editions(), ids=lambda e: e.id)
@pytest.mark.parametrize("case", UNCHANGED_IN_2025, ids=[c.name for c in UNCHANGED_IN_2025])
def test_lines_the_2025_changes_left_alone_judge_alike_in_both_editions(case: Case, edition: Edition) -> None:
    doses = [GivenDose(v, D(day)) for v, day in case.doses]
    check(case, evaluate(D(case.birth), case.sex, doses, D(case.on), edition))  # type: ignore[arg-type]


# ---------------------------------------------------------------- editions by date


def test_the_edition_switch_moves_dtap_dose_1() -> None:
    # Born 2024-10-01: on 2024-12-31 the 2021 edition wants DTaP at 3 m (2025-01-01); a day later the 2025
    # edition is in force and dose 1 has been due since 2 m (2024-12-01).
    before = run("2024-10-01", [], "2024-12-31")
    after = run("2024-10-01", [], "2025-01-01")
    assert (before.edition, line(before, "dtp").status, line(before, "dtp").next_due) == (
        "cn-nip-2021",
        "not_yet",
        D("2025-01-01"),
    )
    assert (after.edition, line(after, "dtp").status, line(after, "dtp").next_due) == (
        "cn-nip-2025",
        "due",
        D("2024-12-01"),
    )


def test_hpv_is_not_in_the_2021_edition() -> None:
    evaluation = run("2011-12-01", [("HPV", "2024-12-20")], "2024-12-31", sex="F")
    assert "hpv" not in [s.series for s in evaluation.series]
    assert [(d.vaccine, d.reason) for d in evaluation.unmatched] == [("HPV", "not_in_edition")]


def test_an_explicit_edition_overrides_the_date() -> None:
    # A DTaP at 2 m counts by the 2025 rules even when the evaluation date is in 2024.
    old_date = D("2024-03-20")
    evaluation = evaluate(D("2024-01-15"), "M", [GivenDose("DTaP", D("2024-03-15"))], old_date, editions()[1])
    assert evaluation.edition == "cn-nip-2025"
    assert len(line(evaluation, "dtp").counted) == 1


def test_unknown_vaccine_types_are_not_in_the_edition() -> None:
    evaluation = run("2024-01-15", [("XYZ", "2024-02-01"), ("hepb", "2024-01-15")], "2024-03-01")
    assert [(d.vaccine, d.reason) for d in evaluation.unmatched] == [
        ("XYZ", "not_in_edition"),
        ("hepb", "not_in_edition"),
    ]


# ---------------------------------------------------------------- complete children at 6 y 1 m


COMPLETE_2025 = [
    ("HepB", "2019-12-01"), ("HepB", "2020-01-01"), ("HepB", "2020-06-01"), ("BCG", "2019-12-01"),
    ("IPV", "2020-02-01"), ("IPV", "2020-03-01"), ("bOPV", "2020-04-01"), ("bOPV", "2023-12-01"),
    ("DTaP", "2020-03-01"), ("DTaP", "2020-04-01"), ("DTaP", "2020-05-01"), ("DTaP", "2021-06-01"),
    ("DTaP", "2025-12-01"), ("MMR", "2020-08-01"), ("MMR", "2021-06-01"), ("JE-L", "2020-08-01"),
    ("JE-L", "2021-12-01"), ("MPSV-A", "2020-06-01"), ("MPSV-A", "2020-09-01"), ("MPSV-AC", "2022-12-01"),
    ("MPSV-AC", "2025-12-01"), ("HepA-L", "2021-06-01"),
]  # fmt: skip

COMPLETE_2021 = [
    ("HepB", "2018-05-01"), ("HepB", "2018-06-01"), ("HepB", "2018-11-01"), ("BCG", "2018-05-01"),
    ("IPV", "2018-07-01"), ("IPV", "2018-08-01"), ("bOPV", "2018-09-01"), ("bOPV", "2022-05-01"),
    ("DTaP", "2018-08-01"), ("DTaP", "2018-09-01"), ("DTaP", "2018-10-01"), ("DTaP", "2019-11-01"),
    ("DT", "2024-05-01"), ("MMR", "2019-01-01"), ("MMR", "2019-11-01"), ("JE-I", "2019-01-01"),
    ("JE-I", "2019-01-08"), ("JE-I", "2020-05-01"), ("JE-I", "2024-05-01"), ("MPSV-A", "2018-11-01"),
    ("MPSV-A", "2019-02-01"), ("MPSV-AC", "2021-05-01"), ("MPSV-AC", "2024-05-01"), ("HepA-I", "2019-11-01"),
    ("HepA-I", "2020-05-01"),
]  # fmt: skip


@pytest.mark.parametrize("sex", ["F", "M"])
def test_complete_child_at_6_years_1_month_in_2026(sex: str) -> None:
    # Born 2019-12-01, evaluated 2026-01-01 under the 2025 edition; the DTaP dose 3 given at 5 m in 2020 counts
    # by the 2021 rules. Every line is complete but HPV: not for a boy, years away for a girl.
    evaluation = run("2019-12-01", COMPLETE_2025, "2026-01-01", sex)
    assert evaluation.edition == "cn-nip-2025"
    assert evaluation.complete
    assert evaluation.catch_up == ()
    assert not evaluation.not_counted
    statuses = {s.series: s.status for s in evaluation.series}
    assert statuses.pop("hpv") == ("not_yet" if sex == "F" else "not_applicable")
    assert set(statuses.values()) == {"complete"}


def test_complete_child_at_6_years_1_month_in_2024() -> None:
    evaluation = run("2018-05-01", COMPLETE_2021, "2024-06-01")
    assert evaluation.edition == "cn-nip-2021"
    assert evaluation.complete
    assert {s.status for s in evaluation.series} == {"complete"}
    assert len(evaluation.counted) == len(COMPLETE_2021)


def test_the_2021_complete_child_stays_complete_under_the_2025_edition() -> None:
    # In 2026 the DT of 2024 is dose 5 of the DTaP line, and the inactivated JE doses are followed.
    evaluation = run("2018-05-01", COMPLETE_2021, "2026-06-01")
    assert (evaluation.edition, evaluation.complete) == ("cn-nip-2025", True)
    assert line(evaluation, "dtp").counted[-1].vaccine == "DT"
    assert line(evaluation, "je").alternative == "JE-I"


def test_a_due_dose_does_not_spoil_complete() -> None:
    # Two months old with HepB and BCG at birth: HepB 2 and IPV 1 are due, nothing is late yet.
    evaluation = run("2024-01-15", [("HepB", "2024-01-15"), ("BCG", "2024-01-15")], "2024-03-15")
    assert evaluation.complete
    assert (line(evaluation, "hepb").status, line(evaluation, "polio").status) == ("due", "due")


# ---------------------------------------------------------------- catch-up


def test_catch_up_plans_every_late_dose_from_today() -> None:
    # Two years old with nothing, 2025 edition. HepB: dose 1 today, dose 2 28 days later (2026-02-12), dose 3
    # 60 days after that (2026-04-13). BCG needs a TB test first (over 3 months). Polio doses 1-3 (before 12 m)
    # are late, dose 4 (4 y) is not; the same for DTaP 1-4 (dose 4 before 24 m) and MMR 1-2.
    evaluation = run("2024-01-15", [], "2026-01-15")
    assert not evaluation.complete
    assert planned(tuple(p for p in evaluation.catch_up if p.series in {"hepb", "bcg", "polio"})) == [
        ("hepb", 1, "2026-01-15"),
        ("hepb", 2, "2026-02-12"),
        ("hepb", 3, "2026-04-13"),
        ("bcg", 1, "2026-01-15"),
        ("polio", 1, "2026-01-15"),
        ("polio", 2, "2026-02-12"),
        ("polio", 3, "2026-03-12"),
    ]
    assert [p.requires_tb_test for p in evaluation.catch_up if p.series == "bcg"] == [True]
    assert [p.dose for p in evaluation.catch_up if p.series == "dtp"] == [1, 2, 3, 4]
    assert [p.dose for p in evaluation.catch_up if p.series == "mmr"] == [1, 2]
    # JE: nothing given, so the live series is planned; dose 2 (before 3 y) is not late yet.
    assert [(p.dose, p.vaccines) for p in evaluation.catch_up if p.series == "je"] == [(1, ("JE-L",))]


def test_catch_up_never_restarts_a_series() -> None:
    # HepB dose 1 at birth, nothing since; at 2 y only doses 2 and 3 are caught up, dose 2 from today.
    evaluation = run("2024-01-15", [("HepB", "2024-01-15")], "2026-01-15")
    assert planned(tuple(p for p in evaluation.catch_up if p.series == "hepb")) == [
        ("hepb", 2, "2026-01-15"),
        ("hepb", 3, "2026-03-16"),
    ]


def test_catch_up_respects_the_interval_from_the_last_counted_dose() -> None:
    # Polio 1 and 2 given on 2024-12-20 and 2025-01-17 (28 days); at 13 m polio 3 is late, and may be given
    # from 2025-02-14 (28 days after dose 2).
    evaluation = run("2024-01-15", [("IPV", "2024-12-20"), ("IPV", "2025-01-17")], "2025-02-01")
    assert planned(tuple(p for p in evaluation.catch_up if p.series == "polio")) == [("polio", 3, "2025-02-14")]


def test_past_the_catch_up_age_a_dose_is_missing() -> None:
    # 21 years old with no HepB: it can no longer be caught up under the programme, so it is missing, not planned;
    # BCG lapsed at 4 y and is not missing.
    evaluation = run("2000-01-01", [], "2021-06-01")
    hepb = line(evaluation, "hepb")
    assert (hepb.status, hepb.missing_doses, hepb.planned) == ("missing", (1, 2, 3), ())
    assert (line(evaluation, "bcg").status, line(evaluation, "bcg").reason) == ("not_applicable", "age_limit")
    assert not evaluation.complete
    assert evaluation.catch_up == ()


def test_bcg_needs_a_tb_test_only_from_3_months() -> None:
    newborn = line(run("2024-01-15", [], "2024-01-15"), "bcg")
    late = line(run("2024-01-15", [], "2024-04-15"), "bcg")
    assert [(p.earliest, p.requires_tb_test) for p in newborn.planned] == [(D("2024-01-15"), False)]
    assert [(p.earliest, p.requires_tb_test) for p in late.planned] == [(D("2024-04-15"), True)]


def test_grace_days_come_from_the_edition() -> None:
    # HepB dose 2 three days before 1 month (2024-02-12, also 28 days after dose 1): not counted with the shipped
    # grace of 0 days, counted by an edition that allows 3.
    doses = [GivenDose("HepB", D("2024-01-15")), GivenDose("HepB", D("2024-02-12"))]
    strict = editions()[0]
    lenient = replace(strict, grace_days=3)
    assert len(line(evaluate(D("2024-01-15"), "F", doses, D("2024-03-01"), strict), "hepb").counted) == 1
    assert len(line(evaluate(D("2024-01-15"), "F", doses, D("2024-03-01"), lenient), "hepb").counted) == 2


# ---------------------------------------------------------------- school entry


def test_school_view_holds_the_result_and_no_dose_dates() -> None:
    # Kindergarten entry at 3 y (2021 edition): everything up to 2 y given, MPSV-AC dose 1 (3 y, before 4 y)
    # is due and not missing; JE live dose 2 (2 y) was never given and is late from 3 y.
    doses = [d for d in COMPLETE_2021 if D(d[1]) <= D("2020-05-01") and d[0] != "JE-I"]
    doses += [("JE-L", "2019-01-01")]
    evaluation = run("2018-05-01", doses, "2021-05-01")
    view = school_entry_view(evaluation)
    assert view.as_dict() == {
        "edition": "cn-nip-2021",
        "on": "2021-05-01",
        "complete": False,
        "missing": [{"series": "je", "dose": 2}],
    }
    text = json.dumps(view.as_dict())
    for _, day in doses:
        assert day not in text


def test_school_view_of_a_complete_child() -> None:
    view = school_entry_view(run("2019-12-01", COMPLETE_2025, "2026-01-01"))
    assert view.as_dict() == {"edition": "cn-nip-2025", "on": "2026-01-01", "complete": True, "missing": []}


# ---------------------------------------------------------------- reminders


def test_reminders_for_a_newborn() -> None:
    # HepB and BCG given at birth; within 90 days (to 2024-04-14): HepB 2 at 1 m and IPV 1 at 2 m. IPV 2 and
    # DTaP 1 fall on 2024-04-15, one day past the horizon.
    evaluation = run("2024-01-15", [("HepB", "2024-01-15"), ("BCG", "2024-01-15")], "2024-01-15")
    items = reminders(evaluation)
    assert planned(items) == [("hepb", 2, "2024-02-15"), ("polio", 1, "2024-03-15")]
    assert [p.due_before for p in items] == [D("2025-01-15"), D("2025-01-15")]
    assert planned(reminders(evaluation, horizon_days=91))[2:] == [("dtp", 1, "2024-04-15"), ("polio", 2, "2024-04-15")]


def test_reminders_include_overdue_doses_from_today() -> None:
    evaluation = run("2024-01-15", [("BCG", "2024-01-15")], "2024-01-20", "F")
    assert planned(reminders(evaluation, horizon_days=0)) == [("hepb", 1, "2024-01-20")]


def test_a_negative_horizon_is_refused() -> None:
    with pytest.raises(ValueError, match="horizon_days"):
        reminders(run("2024-01-15", [], "2024-01-15"), horizon_days=-1)


# ---------------------------------------------------------------- bad input


def test_evaluation_before_birth_is_refused() -> None:
    with pytest.raises(ValueError, match="before the birth date"):
        run("2024-01-15", [], "2024-01-14")


def test_unknown_sex_is_refused() -> None:
    with pytest.raises(ValueError, match="sex"):
        run("2024-01-15", [], "2024-02-01", sex="X")


# ---------------------------------------------------------------- properties

FIRST_EDITION = editions()[0].effective_from
CODES = [*sorted(VACCINE_CODES), "XYZ"]


@st.composite
def children(draw: st.DrawFn) -> tuple[date, str, list[GivenDose], date]:
    birth = draw(st.dates(date(2000, 1, 1), date(2032, 12, 31)))
    on = draw(st.dates(max(birth, FIRST_EDITION), max(birth, FIRST_EDITION) + timedelta(days=20 * 366)))
    doses = draw(
        st.lists(
            st.builds(GivenDose, st.sampled_from(CODES), st.integers(-30, 7500).map(lambda n: birth + timedelta(n))),
            max_size=40,
        )
    )
    return birth, draw(st.sampled_from(["F", "M"])), doses, on


@settings(max_examples=200, deadline=None)
@given(children())
def test_every_dose_is_accounted_for_and_catch_up_respects_minimum_ages(
    child: tuple[date, str, list[GivenDose], date],
) -> None:
    birth, sex, doses, on = child
    evaluation = evaluate(birth, sex, doses, on)  # type: ignore[arg-type]
    assert evaluation.edition == edition_for(on).id
    placed = [(d.vaccine, d.given_on) for d in evaluation.counted] + [
        (d.vaccine, d.given_on) for d in evaluation.not_counted
    ]
    assert sorted(placed) == sorted((d.vaccine, d.given_on) for d in doses)
    assert all(d.reason for d in evaluation.not_counted)
    edition = edition_for(on)
    for item in evaluation.catch_up:
        status = line(evaluation, item.series)
        series = edition.series_by_id(item.series)
        assert series is not None
        alternative = series.alternative(status.alternative or series.id)
        assert alternative is not None
        rule = alternative.doses[item.dose - 1]
        assert item.earliest >= rule.min_age.after(birth)
        assert item.earliest >= on
        assert item.dose > len(status.counted)  # never restarts
        assert item.vaccines == rule.vaccines
    for status in evaluation.series:
        assert [c.dose for c in status.counted] == list(range(1, len(status.counted) + 1))
    assert evaluation.complete == (not school_entry_view(evaluation).missing)
