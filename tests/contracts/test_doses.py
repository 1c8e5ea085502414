"""Doses (contracts/supply/DoseLedger.sol): recordDose behind the safety interlock,
booked doses completing their booking, adverse events, and the unit view.

Success tests check stock, site stock, unit and booking through the views and the
events with their arguments. Every revert test checks the named error and, through
`rejected`, that no stock entry, site stock, unit, booking or slot changed."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import accounts, chain

from chain.enums import AefiCategory, AefiSeverity, BookingStatus
from tests.contracts.conftest import World, person, rejected, reverts, text32, unit, vtype

DAY = 86_400
HEPB = vtype("HepB")
BOPV = vtype("bOPV")
REF = text32("EXC-2024-001")
REPORT = text32("aefi-report-0001")
HB_UNIT = unit("HB001-SN000001")
HB_UNIT2 = unit("HB001-SN000002")
OPV_UNIT = unit("OP001-SN000001")
DOSE_FIELDS = {"person", "lot", "facility", "equipment", "unitHash", "doseNumber", "booking"}
COMMON = AefiCategory.REACTION_COMMON
NON_SERIOUS = AefiSeverity.NON_SERIOUS


# --------------------------------------------------------------------------- helpers


def dose(
    w: World,
    unit_hash: bytes = HB_UNIT,
    *,
    lot: int | None = None,
    equipment: int | None = None,
    booking: int = 0,
    by: Any = None,
    who: bytes | None = None,
) -> Any:
    """Records a dose of hepb_lot (default) from the clinic's fridge, given by its nurse."""
    return w.ledger.recordDose(
        who if who is not None else person(),
        lot or w.hepb_lot,
        equipment or w.fridge,
        unit_hash,
        booking,
        {"from": by or w.nurse},
    )


def stock(w: World, lot: int, equipment: int) -> tuple[int, int, int]:
    return tuple(w.ledger.stockOf(lot, equipment))


def site(w: World, facility: int, vaccine_type: bytes = HEPB) -> tuple[int, int]:
    return tuple(w.ledger.siteStock(facility, vaccine_type))


def uses(w: World, unit_hash: bytes) -> tuple[int, int]:
    return tuple(w.ledger.unit(unit_hash))


def status(w: World, booking: int) -> int:
    return w.appointments.booking(booking)["status"]


def book(w: World, site_id: int, count: int = 1, vaccine: str = "HepB") -> list[int]:
    """Publishes a slot at `site_id` and books `count` places in it."""
    slot = w.district.slot(site_id, vaccine, capacity=10)
    return [w.appointments.book(slot, person(), {"from": accounts[5]}).return_value for _ in range(count)]


def stock_clinic2(w: World, doses: int) -> None:
    """Gives clinic2 `doses` HepB doses of hepb_lot in fridge_b."""
    w.district.deliver(w.hepb_lot, w.cdc_room, w.van, w.fridge_b, doses)
    assert site(w, w.clinic2) == (doses, 0)


def aefi(w: World, unit_hash: bytes, number: int, *, by: Any = None, **kw: Any) -> Any:
    return w.ledger.reportAdverseEvent(
        unit_hash,
        number,
        kw.get("category", COMMON),
        kw.get("severity", NON_SERIOUS),
        kw.get("report", REPORT),
        {"from": by or w.nurse},
    )


# --------------------------------------------------------------------------- recordDose: walk-ins


def test_walk_in_dose_takes_one_dose_from_equipment_and_site_stock(world):
    tx = dose(world)
    assert tx.return_value == 1
    assert stock(world, world.hepb_lot, world.fridge) == (99, 0, world.clinic)
    assert site(world, world.clinic) == (99, 0)
    assert site(world, world.clinic, BOPV) == (50, 0)
    assert uses(world, HB_UNIT) == (world.hepb_lot, 1)
    dose(world, HB_UNIT2)
    assert stock(world, world.hepb_lot, world.fridge) == (98, 0, world.clinic)
    assert site(world, world.clinic) == (98, 0)


def test_dose_recorded_event_carries_only_the_pseudonym(world):
    pseudonym = person()
    tx = dose(world, who=pseudonym)
    assert list(tx.events.keys()) == ["DoseRecorded"]
    ev = tx.events["DoseRecorded"]
    assert set(ev.keys()) == DOSE_FIELDS
    assert ev["person"] == "0x" + pseudonym.hex()
    assert ev["lot"] == world.hepb_lot
    assert ev["facility"] == world.clinic
    assert ev["equipment"] == world.fridge
    assert ev["unitHash"] == "0x" + HB_UNIT.hex()
    assert ev["doseNumber"] == 1
    assert ev["booking"] == 0


def test_dose_from_another_equipment_of_the_clinic(world):
    world.ledger.move(world.hepb_lot, world.fridge, world.cold_box, 10, {"from": world.nurse})
    tx = dose(world, equipment=world.cold_box)
    assert tx.events["DoseRecorded"]["equipment"] == world.cold_box
    assert stock(world, world.hepb_lot, world.cold_box) == (9, 0, world.clinic)
    assert stock(world, world.hepb_lot, world.fridge) == (90, 0, world.clinic)
    assert site(world, world.clinic) == (99, 0)


def test_last_dose_in_equipment_empties_the_entry(world):
    world.ledger.move(world.hepb_lot, world.fridge, world.cold_box, 1, {"from": world.nurse})
    dose(world, equipment=world.cold_box)
    assert stock(world, world.hepb_lot, world.cold_box) == (0, 0, 0)
    assert world.ledger.equipment(world.cold_box)["openItems"] == 0
    with rejected(world, "NotHeld", world.hepb_lot, world.cold_box, units=(HB_UNIT2,)):
        dose(world, HB_UNIT2, equipment=world.cold_box)


# --------------------------------------------------------------------------- recordDose: units


def test_hepb_unit_gives_one_dose_then_is_used_up(world):
    dose(world)
    with rejected(world, "UnitUsedUp", HB_UNIT, units=(HB_UNIT,)):
        dose(world)
    assert uses(world, HB_UNIT) == (world.hepb_lot, 1)


def test_bopv_unit_gives_ten_doses_numbered_1_to_10_then_is_used_up(world):
    for n in range(1, 11):
        tx = dose(world, OPV_UNIT, lot=world.bopv_lot)
        assert tx.return_value == n
        assert tx.events["DoseRecorded"]["doseNumber"] == n
        assert uses(world, OPV_UNIT) == (world.bopv_lot, n)
    assert stock(world, world.bopv_lot, world.fridge) == (40, 0, world.clinic)
    assert site(world, world.clinic, BOPV) == (40, 0)
    with rejected(world, "UnitUsedUp", OPV_UNIT, units=(OPV_UNIT,)):
        dose(world, OPV_UNIT, lot=world.bopv_lot)


def test_each_bopv_unit_counts_its_own_doses(world):
    other = unit("OP001-SN000002")
    dose(world, OPV_UNIT, lot=world.bopv_lot)
    dose(world, OPV_UNIT, lot=world.bopv_lot)
    assert dose(world, other, lot=world.bopv_lot).return_value == 1
    assert uses(world, OPV_UNIT) == (world.bopv_lot, 2)
    assert uses(world, other) == (world.bopv_lot, 1)


def test_unit_code_first_used_with_another_lot_is_refused(world):
    world.district.deliver(world.hepb_lot2, world.cdc_room, world.van, world.fridge, 10)
    dose(world, HB_UNIT2, lot=world.hepb_lot2)
    with rejected(world, "UnitLotMismatch", HB_UNIT2, world.hepb_lot2, units=(HB_UNIT2,)):
        dose(world, HB_UNIT2, lot=world.hepb_lot)


def test_unit_of_a_multi_dose_lot_cannot_be_reused_for_another_lot(world):
    dose(world, OPV_UNIT, lot=world.bopv_lot)
    with rejected(world, "UnitLotMismatch", OPV_UNIT, world.bopv_lot, units=(OPV_UNIT,)):
        dose(world, OPV_UNIT, lot=world.hepb_lot)


def test_unit_view_of_an_unused_code_is_empty(world):
    assert uses(world, HB_UNIT) == (0, 0)


def test_refused_dose_does_not_claim_the_unit(world):
    world.ledger.recallLot(world.hepb_lot, text32("recall-1"), {"from": world.regulator})
    with rejected(world, "LotUnderRecall", world.hepb_lot, units=(HB_UNIT,)):
        dose(world)
    assert uses(world, HB_UNIT) == (0, 0)


# --------------------------------------------------------------------------- recordDose: the interlock


def test_dose_of_unreleased_lot_is_refused(world):
    lot = world.district.lot(world.hepb, "HB900", 100, world.maker_room, release=False)
    with rejected(world, "LotNotReleased", lot, units=(HB_UNIT,)):
        dose(world, lot=lot)


def test_dose_of_unknown_lot_is_refused(world):
    with rejected(world, "UnknownLot", 99, units=(HB_UNIT,)):
        dose(world, lot=99)


def test_dose_of_expired_lot_is_refused(world):
    lot = world.district.lot(world.hepb, "HB901", 100, world.maker_room, shelf_days=1)
    world.district.deliver(lot, world.maker_room, world.van, world.fridge, 10)
    expiry = world.ledger.lot(lot)["expiry"]
    dose(world, HB_UNIT2, lot=lot)  # still fine before expiry
    chain.sleep(DAY + 60)
    with rejected(world, "LotExpired", lot, expiry, units=(HB_UNIT,)):
        dose(world, lot=lot)
    assert stock(world, lot, world.fridge) == (9, 0, world.clinic)


def test_dose_of_recalled_lot_is_refused(world):
    world.ledger.recallLot(world.hepb_lot, text32("recall-1"), {"from": world.regulator})
    with rejected(world, "LotUnderRecall", world.hepb_lot, units=(HB_UNIT,)):
        dose(world)


def test_dose_from_quarantined_stock_is_refused(world):
    world.ledger.quarantineStock(world.fridge, sorted([world.hepb_lot, world.bopv_lot]), REF, {"from": world.oracle})
    assert stock(world, world.hepb_lot, world.fridge) == (0, 100, world.clinic)
    with rejected(world, "StockInQuarantine", world.hepb_lot, world.fridge, units=(HB_UNIT,)):
        dose(world)
    with rejected(world, "StockInQuarantine", world.bopv_lot, world.fridge, units=(OPV_UNIT,)):
        dose(world, OPV_UNIT, lot=world.bopv_lot)


def test_dose_after_quarantined_stock_is_released(world):
    world.ledger.quarantineStock(world.fridge, sorted([world.hepb_lot, world.bopv_lot]), REF, {"from": world.oracle})
    world.ledger.endExcursion(world.fridge, REF, {"from": world.oracle})
    world.ledger.releaseStock(world.fridge, world.hepb_lot, 5, {"from": world.regulator})
    dose(world)
    assert stock(world, world.hepb_lot, world.fridge) == (4, 95, world.clinic)
    assert site(world, world.clinic) == (4, 0)


def test_dose_of_lot_not_held_in_the_equipment_is_refused(world):
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge, units=(HB_UNIT,)):
        dose(world, lot=world.hepb_lot2)
    with rejected(world, "NotHeld", world.hepb_lot, world.fridge2, units=(HB_UNIT,)):
        dose(world, equipment=world.fridge2)


def test_dose_from_another_clinics_equipment_is_refused(world):
    stock_clinic2(world, 5)
    with rejected(world, "WrongFacility", world.nurse2, world.clinic, units=(HB_UNIT,)):
        dose(world, by=world.nurse2)


def test_dose_with_zero_pseudonym_is_refused(world):
    with rejected(world, "InvalidPseudonym", units=(HB_UNIT,)):
        dose(world, who=bytes(32))


def test_dose_with_zero_unit_hash_is_refused(world):
    with rejected(world, "InvalidUnitCode", units=(bytes(32),)):
        dose(world, bytes(32))


@pytest.mark.parametrize("who", ["maker", "cdc"])
def test_dose_by_manufacturer_or_cdc_staff_is_not_a_clinic(world, who):
    facility = getattr(world, who)
    with rejected(world, "NotAClinic", facility, units=(HB_UNIT,)):
        dose(world, by=getattr(world, f"{who}_staff"))


@pytest.mark.parametrize("who", ["citizen", "admin", "regulator", "oracle"])
def test_dose_by_non_member_is_refused(world, who):
    account = accounts[5] if who == "citizen" else getattr(world, who)
    with rejected(world, "NotAMember", account, units=(HB_UNIT,)):
        dose(world, by=account)


def test_dose_by_member_whose_clinic_role_was_revoked(world):
    world.ledger.revokeRole(world.ledger.CLINIC_ROLE(), world.nurse, {"from": world.admin})
    with rejected(world, "MissingRole", world.nurse, units=(HB_UNIT,)):
        dose(world)


def test_dose_by_removed_member_is_refused(world):
    world.ledger.removeMember(world.nurse, {"from": world.admin})
    with rejected(world, "NotAMember", world.nurse, units=(HB_UNIT,)):
        dose(world)


# --------------------------------------------------------------------------- recordDose: stock held for bookings


def test_walk_in_refused_when_all_site_stock_is_held_for_bookings(world):
    stock_clinic2(world, 2)
    book(world, world.clinic2, 2)
    assert site(world, world.clinic2) == (2, 2)
    with rejected(world, "StockReserved", world.clinic2, HEPB, units=(HB_UNIT,)):
        dose(world, by=world.nurse2, equipment=world.fridge_b)


def test_walk_in_takes_only_unreserved_stock(world):
    stock_clinic2(world, 3)
    book(world, world.clinic2, 2)
    dose(world, by=world.nurse2, equipment=world.fridge_b)
    assert site(world, world.clinic2) == (2, 2)
    assert stock(world, world.hepb_lot, world.fridge_b) == (2, 0, world.clinic2)
    with rejected(world, "StockReserved", world.clinic2, HEPB, units=(HB_UNIT2,)):
        dose(world, HB_UNIT2, by=world.nurse2, equipment=world.fridge_b)


def test_reservations_hold_back_only_their_vaccine_type(world):
    stock_clinic2(world, 1)
    world.district.deliver(world.bopv_lot, world.cdc_room, world.van, world.fridge_b, 10)
    book(world, world.clinic2, 1)
    dose(world, OPV_UNIT, lot=world.bopv_lot, by=world.nurse2, equipment=world.fridge_b)
    assert site(world, world.clinic2, BOPV) == (9, 0)
    assert site(world, world.clinic2) == (1, 1)


# --------------------------------------------------------------------------- recordDose: booked doses


def test_booked_dose_completes_the_booking_and_consumes_its_reservation(world):
    (bid,) = book(world, world.clinic)
    assert site(world, world.clinic) == (100, 1)
    tx = dose(world, booking=bid)
    assert list(tx.events.keys()) == ["BookingCompleted", "DoseRecorded"]
    assert tx.events["BookingCompleted"]["booking"] == bid
    assert tx.events["DoseRecorded"]["booking"] == bid
    assert status(world, bid) == BookingStatus.COMPLETED
    assert site(world, world.clinic) == (99, 0)
    assert stock(world, world.hepb_lot, world.fridge) == (99, 0, world.clinic)
    assert uses(world, HB_UNIT) == (world.hepb_lot, 1)


def test_booked_dose_may_use_stock_held_back_for_bookings(world):
    stock_clinic2(world, 2)
    first, second = book(world, world.clinic2, 2)
    dose(world, by=world.nurse2, equipment=world.fridge_b, booking=first)
    assert site(world, world.clinic2) == (1, 1)
    dose(world, HB_UNIT2, by=world.nurse2, equipment=world.fridge_b, booking=second)
    assert site(world, world.clinic2) == (0, 0)
    assert stock(world, world.hepb_lot, world.fridge_b) == (0, 0, 0)
    assert status(world, second) == BookingStatus.COMPLETED


def test_booked_dose_of_a_multi_dose_unit(world):
    (bid,) = book(world, world.clinic, vaccine="bOPV")
    dose(world, OPV_UNIT, lot=world.bopv_lot)
    tx = dose(world, OPV_UNIT, lot=world.bopv_lot, booking=bid)
    assert tx.events["DoseRecorded"]["doseNumber"] == 2
    assert site(world, world.clinic, BOPV) == (48, 0)


def test_booked_dose_at_another_site_is_refused(world):
    stock_clinic2(world, 2)
    (bid,) = book(world, world.clinic2)
    with rejected(world, "BookedAtOtherSite", bid, world.clinic2, units=(HB_UNIT,)):
        dose(world, booking=bid)
    assert status(world, bid) == BookingStatus.BOOKED


def test_booked_dose_of_another_vaccine_type_is_refused(world):
    (bid,) = book(world, world.clinic, vaccine="bOPV")
    with rejected(world, "BookingTypeMismatch", bid, BOPV, HEPB, units=(HB_UNIT,)):
        dose(world, booking=bid)
    assert status(world, bid) == BookingStatus.BOOKED
    assert site(world, world.clinic, BOPV) == (50, 1)


def test_booked_dose_for_cancelled_booking_is_refused(world):
    (bid,) = book(world, world.clinic)
    world.appointments.cancel(bid, {"from": accounts[5]})
    with rejected(world, "BookingNotActive", bid, BookingStatus.CANCELLED, units=(HB_UNIT,)):
        dose(world, booking=bid)


def test_booked_dose_for_completed_booking_is_refused(world):
    (bid,) = book(world, world.clinic)
    dose(world, booking=bid)
    with rejected(world, "BookingNotActive", bid, BookingStatus.COMPLETED, units=(HB_UNIT2,)):
        dose(world, HB_UNIT2, booking=bid)


def test_booked_dose_for_missed_booking_is_refused(world):
    (bid,) = book(world, world.clinic)
    chain.sleep(DAY + 3_600 + 60)
    world.appointments.markMissed(bid, {"from": world.nurse})
    with rejected(world, "BookingNotActive", bid, BookingStatus.MISSED, units=(HB_UNIT,)):
        dose(world, booking=bid)


@pytest.mark.parametrize("bid", [1, 99])
def test_booked_dose_for_unknown_booking_is_refused(world, bid):
    assert world.appointments.bookingCount() == 0
    with rejected(world, "UnknownBooking", bid, units=(HB_UNIT,)):
        dose(world, booking=bid)


def test_interlock_refusal_leaves_the_booking_active(world):
    (bid,) = book(world, world.clinic)
    world.ledger.recallLot(world.hepb_lot, text32("recall-1"), {"from": world.regulator})
    with rejected(world, "LotUnderRecall", world.hepb_lot, units=(HB_UNIT,)):
        dose(world, booking=bid)
    assert status(world, bid) == BookingStatus.BOOKED
    assert site(world, world.clinic) == (100, 1)


# --------------------------------------------------------------------------- reportAdverseEvent


def test_report_adverse_event_emits_its_fields(world):
    dose(world)
    tx = aefi(world, HB_UNIT, 1, category=AefiCategory.REACTION_RARE, severity=AefiSeverity.SERIOUS)
    ev = tx.events["AdverseEventReported"]
    assert ev["unitHash"] == "0x" + HB_UNIT.hex()
    assert ev["doseNumber"] == 1
    assert ev["facility"] == world.clinic
    assert ev["category"] == AefiCategory.REACTION_RARE
    assert ev["severity"] == AefiSeverity.SERIOUS
    assert ev["reportHash"] == "0x" + REPORT.hex()
    assert uses(world, HB_UNIT) == (world.hepb_lot, 1)


def test_any_clinic_may_report_against_a_dose(world):
    dose(world)
    tx = aefi(world, HB_UNIT, 1, by=world.nurse2, severity=AefiSeverity.DEATH)
    assert tx.events["AdverseEventReported"]["facility"] == world.clinic2
    assert tx.events["AdverseEventReported"]["severity"] == AefiSeverity.DEATH


def test_report_against_any_given_dose_of_a_multi_dose_unit(world):
    for _ in range(3):
        dose(world, OPV_UNIT, lot=world.bopv_lot)
    for n in (1, 3):
        assert aefi(world, OPV_UNIT, n).events["AdverseEventReported"]["doseNumber"] == n
    with reverts("UnknownDose", OPV_UNIT, 4):
        aefi(world, OPV_UNIT, 4)


@pytest.mark.parametrize("number", [0, 2])
def test_report_against_a_dose_not_given_is_unknown(world, number):
    dose(world)
    with reverts("UnknownDose", HB_UNIT, number):
        aefi(world, HB_UNIT, number)


def test_report_against_an_unused_unit_is_unknown(world):
    with reverts("UnknownDose", HB_UNIT2, 1):
        aefi(world, HB_UNIT2, 1)


@pytest.mark.parametrize(
    "field, value",
    [("category", AefiCategory.NONE), ("severity", AefiSeverity.NONE), ("report", bytes(32))],
)
def test_report_with_missing_classification_or_report_is_invalid(world, field, value):
    dose(world)
    with reverts("InvalidAefi"):
        aefi(world, HB_UNIT, 1, **{field: value})


@pytest.mark.parametrize("who", ["maker", "cdc"])
def test_report_by_manufacturer_or_cdc_staff_is_not_a_clinic(world, who):
    dose(world)
    with reverts("NotAClinic", getattr(world, who)):
        aefi(world, HB_UNIT, 1, by=getattr(world, f"{who}_staff"))


@pytest.mark.parametrize("who", ["citizen", "regulator"])
def test_report_by_non_member_is_refused(world, who):
    dose(world)
    account = accounts[5] if who == "citizen" else world.regulator
    with reverts("NotAMember", account):
        aefi(world, HB_UNIT, 1, by=account)


def test_report_by_member_whose_clinic_role_was_revoked(world):
    dose(world)
    world.ledger.revokeRole(world.ledger.CLINIC_ROLE(), world.nurse2, {"from": world.admin})
    with reverts("MissingRole", world.nurse2):
        aefi(world, HB_UNIT, 1, by=world.nurse2)
