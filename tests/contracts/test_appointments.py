"""Appointments (contracts/Appointments.sol): slots published by clinics, bookings
that hold back a dose of the site's stock, cancellation, missed bookings, and
completion by the ledger.

Success tests check slots, bookings and the site stock held back through the
views, and the events with their arguments. Every revert test checks the named
error and, through `rejected`, that no slot, booking, site stock or stock entry changed."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import Appointments, accounts, chain

from chain.enums import BookingStatus
from tests.contracts.conftest import World, person, rejected, reverts, text32, unit, vtype

DAY = 86_400
HOUR = 3_600
HEPB = vtype("HepB")
BOPV = vtype("bOPV")
ZERO_ADDRESS = "0x" + "00" * 20
REF = text32("EXC-2024-001")
BOOKED = BookingStatus.BOOKED
COMPLETED = BookingStatus.COMPLETED
CANCELLED = BookingStatus.CANCELLED
MISSED = BookingStatus.MISSED


# --------------------------------------------------------------------------- helpers


def hx(raw: bytes) -> str:
    """Fixed bytes as Brownie compares them."""
    return "0x" + raw.hex()


def publish(w: World, site: int | None = None, **kw: Any) -> int:
    """A HepB slot at the clinic (default) starting in a day, one hour long, for 10 people."""
    return w.district.slot(site or w.clinic, kw.pop("vaccine", "HepB"), **kw)


def book(w: World, slot: int, by: Any = None, who: bytes | None = None) -> Any:
    return w.appointments.book(slot, who if who is not None else person(), {"from": by or accounts[5]})


def booked(w: World, slot: int, by: Any = None) -> int:
    """Books a place in `slot`; returns the booking id."""
    return book(w, slot, by).return_value


def slot_of(w: World, slot: int) -> tuple:
    return tuple(w.appointments.slot(slot))


def places(w: World, slot: int) -> int:
    return w.appointments.slot(slot)["booked"]


def status(w: World, booking: int) -> int:
    return w.appointments.booking(booking)["status"]


def site(w: World, facility: int, vaccine_type: bytes = HEPB) -> tuple[int, int]:
    return tuple(w.ledger.siteStock(facility, vaccine_type))


def stock_clinic2(w: World, doses: int) -> None:
    """Gives clinic2 `doses` HepB doses of hepb_lot in fridge_b."""
    w.district.deliver(w.hepb_lot, w.cdc_room, w.van, w.fridge_b, doses)
    assert site(w, w.clinic2) == (doses, 0)


def after_slot() -> None:
    """Moves past the end of a slot published with the defaults."""
    chain.sleep(DAY + HOUR + 60)


def give_dose(w: World, booking: int) -> Any:
    return w.ledger.recordDose(person(), w.hepb_lot, w.fridge, unit(person().hex()), booking, {"from": w.nurse})


# --------------------------------------------------------------------------- constructor


def test_constructor_wires_the_ledger(world):
    assert world.appointments.ledger() == world.ledger
    assert world.ledger.appointments() == world.appointments


def test_constructor_rejects_zero_ledger():
    with reverts("ZeroAddress"):
        Appointments.deploy(ZERO_ADDRESS, {"from": accounts[0]})


# --------------------------------------------------------------------------- publishSlot


def test_publish_slot_stores_it_and_emits(world):
    start = chain.time() + DAY
    tx = world.appointments.publishSlot(HEPB, start, 2 * HOUR, 25, {"from": world.nurse})
    assert tx.return_value == 1
    assert world.appointments.slotCount() == 1
    ev = tx.events["SlotPublished"]
    assert ev["slot"] == 1
    assert ev["site"] == world.clinic
    assert ev["vaccineType"] == hx(HEPB)
    assert ev["start"] == start
    assert ev["duration"] == 2 * HOUR
    assert ev["capacity"] == 25
    s = world.appointments.slot(1)
    assert (s["site"], s["start"], s["duration"], s["capacity"], s["booked"]) == (world.clinic, start, 2 * HOUR, 25, 0)
    assert s["vaccineType"] == hx(HEPB)


def test_slot_ids_count_up_and_belong_to_the_publishers_clinic(world):
    first = publish(world)
    second = publish(world, world.clinic2, vaccine="bOPV")
    assert second == first + 1
    assert world.appointments.slotCount() == second
    assert world.appointments.slot(second)["site"] == world.clinic2
    assert world.appointments.slot(second)["vaccineType"] == hx(BOPV)


@pytest.mark.parametrize("who", ["maker", "cdc"])
def test_publish_slot_by_manufacturer_or_cdc_staff_is_not_a_clinic(world, who):
    with rejected(world, "NotAClinic", getattr(world, who)):
        world.appointments.publishSlot(HEPB, chain.time() + DAY, HOUR, 10, {"from": getattr(world, f"{who}_staff")})


@pytest.mark.parametrize("who", ["citizen", "admin", "regulator"])
def test_publish_slot_by_non_member_is_refused(world, who):
    account = accounts[5] if who == "citizen" else getattr(world, who)
    with rejected(world, "NotAMember", account):
        world.appointments.publishSlot(HEPB, chain.time() + DAY, HOUR, 10, {"from": account})


def test_publish_slot_by_member_whose_clinic_role_was_revoked(world):
    world.ledger.revokeRole(world.ledger.CLINIC_ROLE(), world.nurse, {"from": world.admin})
    with rejected(world, "MissingRole", world.nurse):
        world.appointments.publishSlot(HEPB, chain.time() + DAY, HOUR, 10, {"from": world.nurse})


@pytest.mark.parametrize(
    "vaccine, start_in, duration, capacity",
    [
        (bytes(8), DAY, HOUR, 10),  # no vaccine type
        (HEPB, DAY, 0, 10),  # zero duration
        (HEPB, DAY, HOUR, 0),  # zero capacity
        (HEPB, -60, HOUR, 10),  # start in the past
        (HEPB, None, HOUR, 10),  # start at zero
    ],
    ids=["zero-type", "zero-duration", "zero-capacity", "past-start", "zero-start"],
)
def test_publish_invalid_slot_is_refused(world, vaccine, start_in, duration, capacity):
    start = 0 if start_in is None else chain.time() + start_in
    with rejected(world, "InvalidSlot"):
        world.appointments.publishSlot(vaccine, start, duration, capacity, {"from": world.nurse})
    assert world.appointments.slotCount() == 0


# --------------------------------------------------------------------------- setCapacity


def test_set_capacity_changes_it_and_emits(world):
    slot = publish(world, capacity=10)
    tx = world.appointments.setCapacity(slot, 30, {"from": world.nurse})
    assert tx.events["SlotCapacityChanged"]["slot"] == slot
    assert tx.events["SlotCapacityChanged"]["capacity"] == 30
    assert world.appointments.slot(slot)["capacity"] == 30
    world.appointments.setCapacity(slot, 3, {"from": world.nurse})
    assert world.appointments.slot(slot)["capacity"] == 3


def test_set_capacity_down_to_what_is_booked_fills_the_slot(world):
    slot = publish(world, capacity=10)
    booked(world, slot)
    booked(world, slot)
    world.appointments.setCapacity(slot, 2, {"from": world.nurse})
    assert slot_of(world, slot)[4:] == (2, 2)
    with rejected(world, "SlotFull", slot):
        book(world, slot)


def test_raising_capacity_reopens_a_full_slot(world):
    slot = publish(world, capacity=1)
    booked(world, slot)
    world.appointments.setCapacity(slot, 2, {"from": world.nurse})
    booked(world, slot)
    assert places(world, slot) == 2


def test_set_capacity_below_booked_is_refused(world):
    slot = publish(world, capacity=10)
    booked(world, slot)
    booked(world, slot)
    with rejected(world, "CapacityBelowBooked", slot, 2):
        world.appointments.setCapacity(slot, 1, {"from": world.nurse})


def test_set_capacity_by_another_clinics_staff_is_wrong_site(world):
    slot = publish(world)
    with rejected(world, "WrongSite", world.nurse2, world.clinic):
        world.appointments.setCapacity(slot, 20, {"from": world.nurse2})


@pytest.mark.parametrize("who", ["maker", "cdc"])
def test_set_capacity_by_manufacturer_or_cdc_staff_is_not_a_clinic(world, who):
    slot = publish(world)
    with rejected(world, "NotAClinic", getattr(world, who)):
        world.appointments.setCapacity(slot, 20, {"from": getattr(world, f"{who}_staff")})


def test_set_capacity_by_non_member_is_refused(world):
    slot = publish(world)
    with rejected(world, "NotAMember", accounts[5]):
        world.appointments.setCapacity(slot, 20, {"from": accounts[5]})


@pytest.mark.parametrize("slot", [0, 99])
def test_set_capacity_of_unknown_slot_is_refused(world, slot):
    publish(world)
    with rejected(world, "UnknownSlot", slot):
        world.appointments.setCapacity(slot, 20, {"from": world.nurse})


# --------------------------------------------------------------------------- book


def test_book_takes_a_place_and_holds_back_a_dose(world):
    slot = publish(world)
    pseudonym = person()
    tx = book(world, slot, by=accounts[6], who=pseudonym)
    assert tx.return_value == 1
    assert world.appointments.bookingCount() == 1
    ev = tx.events["Booked"]
    assert ev["booking"] == 1
    assert ev["slot"] == slot
    assert ev["booker"] == accounts[6]
    assert ev["person"] == hx(pseudonym)
    assert tuple(world.appointments.booking(1)) == (accounts[6], slot, BOOKED)
    assert places(world, slot) == 1
    assert site(world, world.clinic) == (100, 1)
    assert site(world, world.clinic, BOPV) == (50, 0)


def test_booking_ids_count_up_across_slots(world):
    first_slot, second_slot = publish(world), publish(world, vaccine="bOPV")
    assert [booked(world, first_slot), booked(world, second_slot), booked(world, first_slot)] == [1, 2, 3]
    assert places(world, first_slot) == 2
    assert site(world, world.clinic) == (100, 2)
    assert site(world, world.clinic, BOPV) == (50, 1)


def test_book_full_slot_is_refused(world):
    slot = publish(world, capacity=2)
    booked(world, slot)
    booked(world, slot)
    with rejected(world, "SlotFull", slot):
        book(world, slot)


def test_book_while_the_slot_is_running(world):
    slot = publish(world, duration=HOUR)
    chain.sleep(DAY + 60)
    booked(world, slot)
    assert places(world, slot) == 1


def test_book_after_the_slot_ends_is_closed(world):
    slot = publish(world)
    after_slot()
    with rejected(world, "SlotClosed", slot):
        book(world, slot)


@pytest.mark.parametrize("slot", [0, 99])
def test_book_unknown_slot_is_refused(world, slot):
    publish(world)
    with rejected(world, "UnknownSlot", slot):
        book(world, slot)


def test_book_with_zero_pseudonym_is_refused(world):
    slot = publish(world)
    with rejected(world, "InvalidPseudonym"):
        book(world, slot, who=bytes(32))


def test_site_stock_limits_bookings_below_slot_capacity(world):
    stock_clinic2(world, 3)
    slot = publish(world, world.clinic2, capacity=10)
    for _ in range(3):
        booked(world, slot)
    assert site(world, world.clinic2) == (3, 3)
    with rejected(world, "StockReserved", world.clinic2, HEPB):
        book(world, slot)
    assert places(world, slot) == 3


def test_bookings_in_all_slots_of_a_site_share_its_stock(world):
    stock_clinic2(world, 3)
    morning, evening = publish(world, world.clinic2), publish(world, world.clinic2, start_in=DAY + 6 * HOUR)
    booked(world, morning)
    booked(world, morning)
    booked(world, evening)
    with rejected(world, "StockReserved", world.clinic2, HEPB):
        book(world, morning)
    with rejected(world, "StockReserved", world.clinic2, HEPB):
        book(world, evening)


def test_book_at_a_site_without_stock_of_the_type_is_refused(world):
    world.district.deliver(world.bopv_lot, world.cdc_room, world.van, world.fridge_b, 10)
    slot = publish(world, world.clinic2)
    with rejected(world, "StockReserved", world.clinic2, HEPB):
        book(world, slot)


def test_quarantined_stock_cannot_be_booked(world):
    slot = publish(world)
    world.ledger.quarantineStock(world.fridge, sorted([world.hepb_lot, world.bopv_lot]), REF, {"from": world.oracle})
    assert site(world, world.clinic) == (0, 0)
    with rejected(world, "StockReserved", world.clinic, HEPB):
        book(world, slot)


# --------------------------------------------------------------------------- cancel


def test_cancel_by_booker_frees_the_place_and_the_dose(world):
    slot = publish(world)
    bid = booked(world, slot, by=accounts[6])
    tx = world.appointments.cancel(bid, {"from": accounts[6]})
    assert tx.events["BookingCancelled"]["booking"] == bid
    assert tx.events["BookingCancelled"]["by"] == accounts[6]
    assert status(world, bid) == CANCELLED
    assert places(world, slot) == 0
    assert site(world, world.clinic) == (100, 0)


def test_cancel_by_the_sites_staff(world):
    slot = publish(world)
    bid = booked(world, slot)
    tx = world.appointments.cancel(bid, {"from": world.nurse})
    assert tx.events["BookingCancelled"]["by"] == world.nurse
    assert status(world, bid) == CANCELLED
    assert places(world, slot) == 0
    assert site(world, world.clinic) == (100, 0)


def test_cancel_frees_capacity_for_another_booking(world):
    slot = publish(world, capacity=1)
    bid = booked(world, slot)
    world.appointments.cancel(bid, {"from": accounts[5]})
    assert booked(world, slot) == bid + 1
    assert places(world, slot) == 1


def test_cancel_frees_the_reserved_dose_for_another_booking(world):
    stock_clinic2(world, 1)
    morning, evening = publish(world, world.clinic2), publish(world, world.clinic2, start_in=2 * DAY)
    bid = booked(world, morning)
    with rejected(world, "StockReserved", world.clinic2, HEPB):
        book(world, evening)
    world.appointments.cancel(bid, {"from": accounts[5]})
    booked(world, evening)
    assert site(world, world.clinic2) == (1, 1)


@pytest.mark.parametrize("who", ["nurse2", "cdc_staff"])
def test_cancel_by_staff_of_another_facility_is_not_the_booker(world, who):
    bid = booked(world, publish(world))
    account = getattr(world, who)
    with rejected(world, "NotBooker", account, bid):
        world.appointments.cancel(bid, {"from": account})


def test_cancel_by_another_citizen_is_not_the_booker(world):
    bid = booked(world, publish(world), by=accounts[5])
    with rejected(world, "NotBooker", accounts[6], bid):
        world.appointments.cancel(bid, {"from": accounts[6]})


def test_cancel_twice_is_refused(world):
    bid = booked(world, publish(world))
    world.appointments.cancel(bid, {"from": accounts[5]})
    with rejected(world, "BookingNotActive", bid, CANCELLED):
        world.appointments.cancel(bid, {"from": accounts[5]})


def test_cancel_completed_booking_is_refused(world):
    bid = booked(world, publish(world))
    give_dose(world, bid)
    with rejected(world, "BookingNotActive", bid, COMPLETED):
        world.appointments.cancel(bid, {"from": accounts[5]})


def test_cancel_missed_booking_is_refused(world):
    bid = booked(world, publish(world))
    after_slot()
    world.appointments.markMissed(bid, {"from": world.nurse})
    with rejected(world, "BookingNotActive", bid, MISSED):
        world.appointments.cancel(bid, {"from": accounts[5]})


@pytest.mark.parametrize("bid", [0, 99])
def test_cancel_unknown_booking_is_refused(world, bid):
    booked(world, publish(world))
    with rejected(world, "UnknownBooking", bid):
        world.appointments.cancel(bid, {"from": accounts[5]})


# --------------------------------------------------------------------------- markMissed


def test_mark_missed_after_the_slot_frees_the_dose(world):
    slot = publish(world)
    bid = booked(world, slot)
    after_slot()
    tx = world.appointments.markMissed(bid, {"from": world.nurse})
    assert list(tx.events.keys()) == ["BookingMissed"]
    assert tx.events["BookingMissed"]["booking"] == bid
    assert status(world, bid) == MISSED
    assert site(world, world.clinic) == (100, 0)


@pytest.mark.parametrize("wait", [0, DAY + 60], ids=["before-start", "during-slot"])
def test_mark_missed_before_the_slot_ends_is_refused(world, wait):
    slot = publish(world)
    bid = booked(world, slot)
    chain.sleep(wait)
    with rejected(world, "SlotNotOver", slot):
        world.appointments.markMissed(bid, {"from": world.nurse})


def test_mark_missed_by_another_clinics_staff_is_wrong_site(world):
    bid = booked(world, publish(world))
    after_slot()
    with rejected(world, "WrongSite", world.nurse2, world.clinic):
        world.appointments.markMissed(bid, {"from": world.nurse2})


def test_mark_missed_by_cdc_staff_is_not_a_clinic(world):
    bid = booked(world, publish(world))
    after_slot()
    with rejected(world, "NotAClinic", world.cdc):
        world.appointments.markMissed(bid, {"from": world.cdc_staff})


def test_mark_missed_by_the_booker_is_refused(world):
    bid = booked(world, publish(world), by=accounts[5])
    after_slot()
    with rejected(world, "NotAMember", accounts[5]):
        world.appointments.markMissed(bid, {"from": accounts[5]})


def test_mark_missed_twice_is_refused(world):
    bid = booked(world, publish(world))
    after_slot()
    world.appointments.markMissed(bid, {"from": world.nurse})
    with rejected(world, "BookingNotActive", bid, MISSED):
        world.appointments.markMissed(bid, {"from": world.nurse})


def test_mark_missed_cancelled_booking_is_refused(world):
    bid = booked(world, publish(world))
    world.appointments.cancel(bid, {"from": accounts[5]})
    after_slot()
    with rejected(world, "BookingNotActive", bid, CANCELLED):
        world.appointments.markMissed(bid, {"from": world.nurse})


def test_mark_missed_completed_booking_is_refused(world):
    bid = booked(world, publish(world))
    give_dose(world, bid)
    after_slot()
    with rejected(world, "BookingNotActive", bid, COMPLETED):
        world.appointments.markMissed(bid, {"from": world.nurse})


def test_mark_missed_unknown_booking_is_refused(world):
    after_slot()
    with rejected(world, "UnknownBooking", 99):
        world.appointments.markMissed(99, {"from": world.nurse})


# --------------------------------------------------------------------------- complete


def test_complete_through_the_ledgers_dose(world):
    slot = publish(world)
    bid = booked(world, slot, by=accounts[6])
    tx = give_dose(world, bid)
    assert tx.events["BookingCompleted"]["booking"] == bid
    assert tuple(world.appointments.booking(bid)) == (accounts[6], slot, COMPLETED)
    assert site(world, world.clinic) == (99, 0)
    assert places(world, slot) == 1


@pytest.mark.parametrize("who", ["nurse", "booker", "admin"])
def test_complete_by_anyone_but_the_ledger_is_refused(world, who):
    bid = booked(world, publish(world))
    account = accounts[5] if who == "booker" else getattr(world, who)
    with rejected(world, "OnlyLedger", account):
        world.appointments.complete(bid, world.clinic, {"from": account})
    assert status(world, bid) == BOOKED


# --------------------------------------------------------------------------- views


def test_views_of_unknown_ids_are_empty(world):
    assert slot_of(world, 99) == (0, hx(bytes(8)), 0, 0, 0, 0)
    assert tuple(world.appointments.booking(99)) == (ZERO_ADDRESS, 0, BookingStatus.NONE)
