"""Recording doses by scanning a unit's code: the chain's interlock refusing, in a nurse's words, and
adverse events reported against a dose."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.db.models import chainview as cv
from tests.backend.platform import GS, GTIN_HEPB, gs1
from tests.backend.stack import Stack


def number_of(stack: Stack, lot: int) -> str:
    with stack.rt.db.session() as s:
        return s.get(cv.Lot, lot).lot_number


def serial() -> str:
    return uuid.uuid4().hex[:12].upper()


def dose(stack: Stack, code: str, person: str, who: str = "nurse", **extra: object):
    return stack.staff[who].post("/v1/staff/doses", {"code": code, "person_id": person, **extra})


def test_a_scanned_dose_is_recorded_and_takes_one_from_the_fridge(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=10)
    _, fam = stack.citizen()
    r = dose(stack, gs1(GTIN_HEPB, number_of(stack, lot), serial()), fam["self"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["lot_id"] == lot and body["equipment_id"] == stack.fridge and body["dose_number"] == 1
    with stack.rt.db.session() as s:
        row = s.get(cv.Dose, (body["unit_hash"], 1))
        assert row is not None and row.lot_id == lot and row.facility_id == stack.clinic
        assert s.get(cv.Stock, (lot, stack.fridge)).available == 9
    assert stack.rt.ledgers.get().ledger.functions.stockOf(lot, stack.fridge).call()[0] == 9


def test_the_same_vial_twice_is_refused(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=10)
    _, fam = stack.citizen()
    unit, number = serial(), number_of(stack, lot)
    assert dose(stack, gs1(GTIN_HEPB, number, unit), fam["self"]).status_code == 201
    # the same unit typed in the bracketed form is the same unit
    r = dose(stack, f"(01){GTIN_HEPB}(17)301231(10){number}(21){unit}", fam["self"])
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["reason"] == "unit_used_up" and "重复扫码" in error["message_zh"]
    assert error["chain_error"].startswith("UnitUsedUp(")


def test_a_dose_from_a_quarantined_fridge_is_refused_in_words(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=10, clinic="nurse2", fridge="fridge_b")
    stack.staff["cdc"].ok("post", f"/v1/cdc/equipment/{stack.fridge_b}/quarantine", {"note": "froze"})
    _, fam = stack.citizen()
    r = dose(stack, gs1(GTIN_HEPB, number_of(stack, lot), serial()), fam["self"], who="nurse2")
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["reason"] == "stock_in_quarantine"
    assert "隔离" in error["message_zh"] and "quarantined" in error["message"]
    with stack.rt.db.session() as s:
        assert s.scalars(select(cv.Dose).where(cv.Dose.lot_id == lot)).first() is None
    stack.staff["cdc"].ok("post", f"/v1/cdc/equipment/{stack.fridge_b}/end-excursion")
    stack.staff["cdc"].ok(
        "post", "/v1/cdc/stock/release", {"lot_id": lot, "equipment_id": stack.fridge_b, "quantity": 10}
    )


def test_a_recalled_lot_is_refused(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=5)
    stack.staff["regulator"].ok("post", f"/v1/regulator/lots/{lot}/recall", {"document": "potency below spec"})
    _, fam = stack.citizen()
    r = dose(stack, gs1(GTIN_HEPB, number_of(stack, lot), serial()), fam["self"])
    assert r.status_code == 409 and r.json()["error"]["reason"] == "lot_under_recall"


def test_a_clinic_cannot_use_stock_it_does_not_hold(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=5)
    _, fam = stack.citizen()
    r = dose(stack, gs1(GTIN_HEPB, number_of(stack, lot), serial()), fam["self"], who="nurse2")
    assert r.status_code == 409 and r.json()["error"]["reason"] == "lot_not_held"
    r = dose(
        stack, gs1(GTIN_HEPB, number_of(stack, lot), serial()), fam["self"], who="nurse2", equipment_id=stack.fridge
    )
    assert r.status_code == 403 and r.json()["error"]["reason"] == "wrong_facility"


def test_malformed_codes_get_a_reason(stack: Stack) -> None:
    _, fam = stack.citizen()
    for code, reason in (
        (f"]d201{GTIN_HEPB}17301231", "code_missing_serial"),
        ("]d20106901234000017" + "17301231" + "10A" + GS + "21X", "code_bad_gtin_check_digit"),
        ("1234", "code_wrong_length"),
        ("   ", "code_empty"),
    ):
        r = dose(stack, code, fam["self"])
        assert r.status_code == 422, (code, r.text)
        assert r.json()["error"]["reason"] == reason, (code, r.text)
        assert r.json()["error"]["message_zh"]


def test_an_unregistered_batch_is_named(stack: Stack) -> None:
    _, fam = stack.citizen()
    r = dose(stack, gs1(GTIN_HEPB, "NOSUCHLOT", serial()), fam["self"])
    assert r.status_code == 404 and r.json()["error"]["reason"] == "unknown_batch"


def test_a_twenty_digit_code_with_the_lot_chosen(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=5)
    _, fam = stack.citizen()
    code = "7300011" + str(uuid.uuid4().int)[:13]
    r = dose(stack, code, fam["self"], lot_id=lot)
    assert r.status_code == 201, r.text
    assert dose(stack, code, fam["self"], lot_id=lot).json()["error"]["reason"] == "unit_used_up"


def test_walk_ins_cannot_take_doses_held_for_bookings(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=2, clinic="nurse2", fridge="fridge_b")
    start = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = {"vaccine_type": "HepB", "start": start, "capacity": 500}
    slot = stack.staff["nurse2"].ok("post", "/v1/staff/slots", body)["slot_id"]
    citizen, fam = stack.citizen()
    bookings = []
    while True:  # book until every unquarantined HepB dose of clinic2 is held back (earlier tests left some)
        r = citizen.post("/v1/appointments", {"slot_id": slot, "person_id": fam["self"]})
        if r.status_code != 201:
            assert r.json()["error"]["reason"] == "stock_reserved", r.text
            break
        bookings.append(r.json()["booking_id"])
    assert bookings
    _, walk_in = stack.citizen()
    r = dose(stack, gs1(GTIN_HEPB, number_of(stack, lot), serial()), walk_in["self"], who="nurse2")
    assert r.status_code == 409 and r.json()["error"]["reason"] == "stock_reserved"
    booked_dose = stack.staff["nurse2"].post(
        "/v1/staff/doses", {"code": gs1(GTIN_HEPB, number_of(stack, lot), serial()), "booking_id": bookings[0]}
    )
    assert booked_dose.status_code == 201, booked_dose.text
    for booking in bookings[1:]:
        citizen.ok("delete", f"/v1/appointments/{booking}")


def test_an_adverse_event_is_reported_against_a_dose_and_kept_sealed(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=5)
    _, fam = stack.citizen()
    code = gs1(GTIN_HEPB, number_of(stack, lot), serial())
    assert dose(stack, code, fam["self"]).status_code == 201
    report = {
        "code": code,
        "category": "reaction_common",
        "severity": "non_serious",
        "onset": datetime.now(UTC).isoformat(),
        "report": {"symptoms": "局部红肿 swelling at site 2cm"},
    }
    r = stack.staff["nurse"].post("/v1/staff/adverse-events", report)
    assert r.status_code == 201, r.text
    assert r.json()["report_to_cdc_within_h"] == 48
    events = stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")
    assert events["adverse_events_reported"] == 1
    with sqlite3.connect(stack.workdir / "backend.db") as conn:
        assert "swelling" not in "\n".join(conn.iterdump())
    serious = stack.staff["nurse"].post("/v1/staff/adverse-events", report | {"severity": "serious"})
    assert serious.json()["report_to_cdc_within_h"] == 2
    unknown = stack.staff["nurse"].post("/v1/staff/adverse-events", report | {"dose_number": 2})
    assert unknown.status_code == 404 and unknown.json()["error"]["reason"] == "unknown_dose"
    bad = stack.staff["nurse"].post("/v1/staff/adverse-events", report | {"category": "bogus"})
    assert bad.status_code == 422 and bad.json()["error"]["reason"] == "bad_aefi_class"
    assert json.loads(json.dumps(r.json()))["report_hash"].startswith("0x")
