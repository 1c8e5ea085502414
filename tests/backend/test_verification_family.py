"""The guardian's "due next": a child's evaluation from the indexed chain (doses by their lot's vaccine
type, on the day given) and the reminder list, for the guardian only."""

from __future__ import annotations

from datetime import date, timedelta

from tests.backend.stack import Stack
from tests.backend.verifying import child, give_hepb


def series(view: dict, name: str) -> dict:
    return next(s for s in view["series"] if s["series"] == name)


def test_a_newborn_without_doses_is_overdue_for_hepb_and_due_for_bcg(stack: Stack) -> None:
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    view = parent.ok("get", f"/v1/me/family/{kid}/schedule")
    assert view["complete"] is False and view["edition"] == "cn-nip-2025"
    hepb, bcg, hpv = series(view, "hepb"), series(view, "bcg"), series(view, "hpv")
    assert hepb["status"] == "overdue" and hepb["missing_doses"] == [1] and hepb["next_dose"] == 1
    assert bcg["status"] == "due" and bcg["missing_doses"] == []
    assert hpv["status"] == "not_applicable" and hpv["reason"] == "sex"
    assert [(p["series"], p["dose"], p["overdue"]) for p in view["catch_up"]] == [("hepb", 1, True)]

    soon = parent.ok("get", f"/v1/me/family/{kid}/reminders?horizon_days=30")
    # Both may be given today; HepB dose 2 follows 28 days after dose 1 at the earliest.
    assert [(r["series"], r["dose"], r["overdue"]) for r in soon["reminders"]] == [
        ("bcg", 1, False),
        ("hepb", 1, True),
        ("hepb", 2, False),
    ]
    later = parent.ok("get", f"/v1/me/family/{kid}/reminders")
    assert later["horizon_days"] == 90
    assert {("polio", 1), ("dtp", 1)} <= {(r["series"], r["dose"]) for r in later["reminders"]}
    dates = [r["earliest"] for r in later["reminders"]]
    assert dates == sorted(dates)


def test_a_recorded_dose_counts_and_moves_the_next_due_date(stack: Stack) -> None:
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    give_hepb(stack, stack.stocked_lot(to_clinic=2), kid)
    view = parent.ok("get", f"/v1/me/family/{kid}/schedule")
    hepb = series(view, "hepb")
    assert [(c["dose"], c["vaccine"]) for c in hepb["counted"]] == [(1, "HepB")]
    assert hepb["status"] == "not_yet" and hepb["next_dose"] == 2
    # Dose 2: one month of age, and at least 28 days after dose 1 (given today, China time).
    given = date.fromisoformat(hepb["counted"][0]["given_on"])
    assert hepb["next_due"] == (given + timedelta(days=28)).isoformat()
    assert view["complete"] is True and view["catch_up"] == []


def test_only_the_guardian_sees_the_schedule(stack: Stack) -> None:
    parent, _ = stack.citizen()
    stranger, _ = stack.citizen()
    kid = child(parent, 10)
    for path in ("schedule", "reminders", "consents", "verifications"):
        r = stranger.get(f"/v1/me/family/{kid}/{path}")
        assert r.status_code == 404 and r.json()["error"]["reason"] == "unknown_person", path
    r = parent.get(f"/v1/me/family/{kid}/reminders?horizon_days=-1")
    assert r.status_code == 422 and r.json()["error"]["reason"] == "invalid_request" and r.json()["error"]["message_zh"]
    r = stack.staff["nurse"].get(f"/v1/me/family/{kid}/schedule")
    assert r.status_code == 403 and r.json()["error"]["reason"] == "wrong_role"
