"""The CDC's immunization coverage of registered children: per series, per age and per clinic, judged as
the guardian's page judges each child. The session's stack holds other tests' children too, so each test
compares the report before and after its own children arrive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backend.verification.records import today
from tests.backend.stack import Api, Stack
from tests.backend.verifying import child, give_hepb


def report(api: Api, on: str | None = None) -> dict[str, Any]:
    return api.ok("get", "/v1/cdc/coverage" + (f"?on={on}" if on else ""))


def row(rows: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    return next(
        (r for r in rows if r[key] == value),
        dict.fromkeys(("children", "up_to_date", "eligible", "behind", "complete"), 0),
    )


def delta(after: dict[str, Any], before: dict[str, Any], *fields: str) -> tuple[int, ...]:
    return tuple(after[f] - before[f] for f in fields)


def test_coverage_counts_each_child_once_by_series_age_and_clinic(stack: Stack) -> None:
    cdc = stack.staff["cdc"]
    before = report(cdc)
    parent, _ = stack.citizen()  # the parent, born 1990, is not a child: not counted
    vaccinated = child(parent, 10)
    child(parent, 12)  # no dose
    lot = stack.stocked_lot(to_clinic=2)
    neither = report(cdc)
    assert delta(neither, before, "children", "up_to_date") == (2, 0)
    # The kept evaluation of a child whose records change is made anew.
    give_hepb(stack, lot, vaccinated)
    after = report(cdc)

    assert after["on"] == today().isoformat() and after["basis"] == "registered_children"
    assert delta(after, before, "children", "up_to_date") == (2, 1)
    # Both newborns are due for HepB dose 1 within two days of birth: one had it, the other is overdue.
    hepb_before, hepb_after = row(before["series"], "series", "hepb"), row(after["series"], "series", "hepb")
    assert delta(hepb_after, hepb_before, "eligible", "up_to_date", "behind", "complete") == (2, 1, 1, 0)
    # MMR starts at 8 months: not yet due for either, so neither counts for it.
    assert delta(row(after["series"], "series", "mmr"), row(before["series"], "series", "mmr"), "eligible") == (0,)
    assert delta(row(after["ages"], "age", 0), row(before["ages"], "age", 0), "children", "up_to_date") == (2, 1)
    # A child belongs to the clinic of their latest dose; one without a dose to none.
    clinic_after, clinic_before = (row(r["clinics"], "facility_id", stack.clinic) for r in (after, before))
    assert delta(clinic_after, clinic_before, "children", "up_to_date") == (1, 1)
    none_after, none_before = (row(r["clinics"], "facility_id", None) for r in (after, before))
    assert delta(none_after, none_before, "children", "up_to_date") == (1, 0)
    for group in after["series"] + after["ages"] + after["clinics"]:
        whole = group.get("eligible", group.get("children"))
        assert group["rate"] == (round(group["up_to_date"] / whole, 4) if whole else None)


def test_coverage_on_a_past_day_leaves_out_children_not_yet_born(stack: Stack) -> None:
    cdc = stack.staff["cdc"]
    parent, _ = stack.citizen()
    child(parent, 10)
    day = (today() - timedelta(days=30)).isoformat()
    before_birth = report(cdc, day)
    assert before_birth["on"] == day
    assert report(cdc)["children"] - before_birth["children"] >= 1


def test_coverage_names_no_one_and_only_the_cdc_and_regulator_see_it(stack: Stack) -> None:
    parent, _ = stack.citizen()
    child(parent, 10)
    body = stack.staff["cdc"].get("/v1/cdc/coverage").text
    assert "孩子" not in body and "pseudonym" not in body
    assert stack.staff["regulator"].get("/v1/cdc/coverage").status_code == 200
    for who in ("nurse", "warehouse", "maker"):
        assert stack.staff[who].get("/v1/cdc/coverage").status_code == 403
    assert parent.get("/v1/cdc/coverage").status_code == 403
    r = stack.staff["cdc"].get("/v1/cdc/coverage?on=2020-06-01")  # before the 2021 edition
    assert r.status_code == 422 and r.json()["error"]["reason"] == "no_schedule_edition"
    r = stack.staff["cdc"].get("/v1/cdc/coverage?on=2101-01-01")
    assert r.status_code == 422 and r.json()["error"]["reason"] == "invalid_date"
    r = stack.staff["cdc"].get("/v1/cdc/coverage?on=not-a-day")
    assert r.status_code == 422 and r.json()["error"]["reason"]
