"""The workload plan: seeded, shaped like the district's year, and self-consistent (every booking has a slot
place, every change comes after its booking and before its slot, every run holds each kind of event)."""

from __future__ import annotations

from datetime import date

import pytest

from simulate.clock import Period, default_start
from simulate.plan import FAULT_KINDS, Planner
from simulate.shape import load, subset

START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def shape():
    return load()


def test_the_district_file_has_the_chancheng_shape(shape) -> None:
    kinds = [s.kind for s in shape.all_sites]
    assert len(kinds) == 47
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "vaccination_clinic": 8,
        "maternity_point": 10,
        "rabies_clinic": 8,
        "special_need_clinic": 6,
        "village_point": 15,
    }
    programme = sum(shape.annual_doses(p) for p, spec in shape.products.items() if not spec.self_paid)
    self_paid = sum(shape.annual_doses(p) for p, spec in shape.products.items() if spec.self_paid)
    assert (programme, self_paid) == pytest.approx((400_000, 350_000))


def test_a_subset_keeps_one_site_of_each_kind(shape) -> None:
    few = subset(shape.all_sites, 6)
    assert len(few) <= 6 and {s.kind for s in few} == {s.kind for s in shape.all_sites}
    with pytest.raises(ValueError, match="at least 5"):
        subset(shape.all_sites, 3)


def test_a_day_is_the_same_whatever_is_asked_first(shape) -> None:
    a = Planner(shape, start=START, days=30, scale=0.1, seed="s")
    b = Planner(shape, start=START, days=30, scale=0.1, seed="s")
    b.day(20)
    assert a.day(5).doses == b.day(5).doses and a.day(5).bookings == b.day(5).bookings
    assert Planner(shape, start=START, days=30, scale=0.1, seed="other").day(5).doses != a.day(5).doses


def test_a_year_holds_the_districts_doses(shape) -> None:
    planner = Planner(shape, start=START, days=365, scale=0.02, seed="year")
    doses = sum(len(planner.day(d).doses) for d in range(365))
    assert doses == pytest.approx(750_000 * 0.02, rel=0.03)


def test_bookings_fit_their_slots_and_changes_fall_between_booking_and_slot(shape) -> None:
    planner = Planner(shape, start=START, days=20, scale=0.5, seed="b")
    for day in range(20):
        plan = planner.day(day)
        capacity = plan.slot_capacity()
        held: dict[tuple[int, str, int], int] = {}
        for b in plan.bookings:
            assert b.day == day and b.booked <= (day, 7)
            for change in (b.moved, b.cancelled):
                if change is not None:
                    assert b.booked <= change <= (day, 7)
            for half in {b.first_half, b.half}:
                held[(b.site, b.product, half)] = held.get((b.site, b.product, half), 0) + 1
        assert all(capacity[k] > n for k, n in held.items())
        booked = {d.booking for d in plan.doses if d.booking}
        assert booked == {b.key for b in plan.bookings if b.cancelled is None}


def test_every_run_holds_each_fault_and_a_recall_and_a_year_its_rates(shape) -> None:
    one = Planner(shape, start=START, days=1, scale=0.01, seed="f")
    assert sorted({f.kind for f in one.faults()}) == sorted(FAULT_KINDS)
    assert all(f.start_h + f.duration_h <= 24 or f.start_h == 0 for f in one.faults())
    assert len(one.recalls()) == 1
    year = Planner(shape, start=START, days=365, scale=1, seed="f")
    assert sorted(f.kind for f in year.faults()) == sorted(["freezing"] * 3 + ["power_cut"] * 2 + ["dead"])
    assert len(year.recalls()) == 2


def test_the_simulated_period_lies_in_the_past() -> None:
    period = Period(default_start(365, date(2026, 6, 1)), 365)
    assert period.start == date(2025, 5, 31)
    period.check_in_past()
    with pytest.raises(ValueError, match="end before now"):
        Period(date(2999, 1, 1), 1).check_in_past()
