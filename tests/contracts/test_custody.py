"""Custody (contracts/supply/Custody.sol): shipments, receipts, moves, write-offs,
quarantine and release, and the site stock held back for bookings.

Every success test checks the state after through the views, the events with
their arguments, and the ledger's books (`audit`): per lot, doses held + doses in
open shipments + doses written off + doses given = doses produced; per piece of
equipment, `openItems` = its live stock entries (vehicle: its open shipments);
per site and vaccine type, `siteStock.available` = the available doses in its
equipment. Every revert test checks the named error and, through `rejected`,
that no stock, site stock, shipment or equipment changed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from brownie import VaccineLedger, accounts, chain

from chain.enums import EquipmentKind, WriteOffReason
from tests.contracts.conftest import World, ledger_state, person, rejected, reverts, text32, type_word, unit, vtype

DAY = 86_400
HEPB = vtype("HepB")
BOPV = vtype("bOPV")
NO_SHIPMENT = (0, 0, 0, 0, 0, False, bytes(8), 0)


def shipment_tuple(w: World, sid: int) -> tuple:
    """A shipment view as plain values (Brownie's bytes8 does not compare with bytes)."""
    s = w.ledger.shipment(sid)
    return (*tuple(s)[:6], bytes(s[6]), s[7])


REF = text32("EXC-2024-001")
REF2 = text32("EXC-2024-002")
DAMAGED = WriteOffReason.DAMAGED
EXCURSION = WriteOffReason.EXCURSION
NONE = WriteOffReason.NONE


# --------------------------------------------------------------------------- helpers


def audit(w: World) -> dict[Any, tuple[int, ...]]:
    """Asserts conservation per lot, openItems per equipment and siteStock per site and type."""
    state = ledger_state(w)
    lots, equipment, facilities, shipments, *_ = state["counts"]
    written_off: Counter[int] = Counter()
    for ev in w.ledger.events.get_sequence(0, event_type="WrittenOff"):
        written_off[ev.args.lot] += ev.args.quantity
    administered = Counter(ev.args.lot for ev in w.ledger.events.get_sequence(0, event_type="DoseRecorded"))
    open_shipments = [state["shipment", s] for s in range(1, shipments + 1) if state["shipment", s][0] != 0]

    for lot in range(1, lots + 1):
        produced = state["lot", lot][6]
        held = sum(state["stock", lot, eq][0] + state["stock", lot, eq][1] for eq in range(1, equipment + 1))
        in_transit = sum(s[4] for s in open_shipments if s[0] == lot)
        assert held + in_transit + written_off[lot] + administered[lot] == produced, f"lot {lot} not conserved"

    for eq in range(1, equipment + 1):
        kind, open_items = state["equipment", eq][1], state["equipment", eq][4]
        if kind == EquipmentKind.VEHICLE:
            live = sum(1 for s in open_shipments if s[3] == eq)
        else:
            live = sum(1 for lot in range(1, lots + 1) if state["stock", lot, eq][2] != 0)
        assert open_items == live, f"equipment {eq}: openItems {open_items}, live items {live}"

    for fac in range(1, facilities + 1):
        for vt in (HEPB, BOPV):
            word = type_word(vt)
            available = sum(
                state["stock", lot, eq][0]
                for lot in range(1, lots + 1)
                if state["lot", lot][2] == word
                for eq in range(1, equipment + 1)
                if state["stock", lot, eq][2] == fac
            )
            assert state["site", fac, word][0] == available, f"site stock of facility {fac} off"
    return state


def staff_of(w: World, equipment: int) -> Any:
    return w.district.staff[w.ledger.equipment(equipment)[0]]


def ship(w: World, lot: int, src: int, to: int, quantity: int, *, vehicle: int | None = None, by: Any = None) -> Any:
    sender = by or staff_of(w, src)
    return w.ledger.ship(lot, src, vehicle or w.van, to, quantity, {"from": sender})


def shipped(w: World, quantity: int = 40, lot: int | None = None) -> int:
    """The CDC ships `quantity` doses of hepb_lot (default) from its cold room to the clinic in the van."""
    tx = ship(w, lot or w.hepb_lot, w.cdc_room, w.clinic, quantity)
    return tx.return_value


def held_lots(w: World, equipment: int) -> list[int]:
    return [lot for lot in range(1, w.ledger.lotCount() + 1) if w.ledger.stockOf(lot, equipment)[2] != 0]


def quarantine(w: World, equipment: int, by: Any = None, ref: bytes = REF) -> Any:
    return w.ledger.quarantineStock(equipment, held_lots(w, equipment), ref, {"from": by or w.oracle})


def dose(w: World, lot: int, equipment: int, booking: int = 0) -> Any:
    return w.ledger.recordDose(person(), lot, equipment, unit(person().hex()), booking, {"from": w.nurse})


def book(w: World, count: int, site: int | None = None, vaccine: str = "HepB") -> list[int]:
    slot = w.district.slot(site or w.clinic, vaccine, capacity=20)
    return [
        w.appointments.book(slot, person(), {"from": accounts[5]}).events["Booked"]["booking"] for _ in range(count)
    ]


def site(w: World, facility: int, vaccine_type: bytes = HEPB) -> tuple[int, int]:
    return tuple(w.ledger.siteStock(facility, vaccine_type))


def stock(w: World, lot: int, equipment: int) -> tuple[int, int, int]:
    return tuple(w.ledger.stockOf(lot, equipment))


def open_items(w: World, equipment: int) -> int:
    return w.ledger.equipment(equipment)["openItems"]


def under_excursion(w: World, equipment: int) -> bool:
    return w.ledger.equipment(equipment)["underExcursion"]


def reserved_clinic(w: World, available: int = 2, reserved: int = 2) -> None:
    """Leaves the clinic `available` HepB doses (all in the fridge), `reserved` of them booked."""
    w.ledger.writeOff(w.hepb_lot, w.fridge, 100 - available, DAMAGED, {"from": w.nurse})
    book(w, reserved)
    assert site(w, w.clinic) == (available, reserved)


# --------------------------------------------------------------------------- baseline


def test_standard_world_books_balance(world):
    state = audit(world)
    assert state["stock", world.hepb_lot, world.cdc_room] == (1_000, 0, world.cdc)
    assert state["stock", world.hepb_lot, world.fridge] == (100, 0, world.clinic)
    assert site(world, world.cdc) == (1_500, 0)
    assert site(world, world.clinic, BOPV) == (50, 0)
    assert open_items(world, world.fridge) == 2
    assert open_items(world, world.van) == 0


# --------------------------------------------------------------------------- setAppointments


def test_set_appointments_wires_once_and_emits():
    ledger = VaccineLedger.deploy(accounts[0], {"from": accounts[0]})
    tx = ledger.setAppointments(accounts[6], {"from": accounts[0]})
    assert tx.events["AppointmentsSet"]["appointments"] == accounts[6]
    assert ledger.appointments() == accounts[6]
    with reverts("AppointmentsAlreadySet", accounts[6]):
        ledger.setAppointments(accounts[7], {"from": accounts[0]})
    assert ledger.appointments() == accounts[6]


def test_set_appointments_rejects_zero_address():
    ledger = VaccineLedger.deploy(accounts[0], {"from": accounts[0]})
    with reverts("ZeroAddress"):
        ledger.setAppointments("0x" + "00" * 20, {"from": accounts[0]})
    assert ledger.appointments() == "0x" + "00" * 20


def test_set_appointments_only_admin():
    ledger = VaccineLedger.deploy(accounts[0], {"from": accounts[0]})
    with reverts("AccessControlUnauthorizedAccount", accounts[1], bytes(32)):
        ledger.setAppointments(accounts[6], {"from": accounts[1]})
    assert ledger.appointments() == "0x" + "00" * 20


def test_set_appointments_cannot_rewire_deployed_ledger(world):
    with rejected(world, "AppointmentsAlreadySet", world.appointments):
        world.ledger.setAppointments(accounts[6], {"from": world.admin})
    assert world.ledger.appointments() == world.appointments


# --------------------------------------------------------------------------- ship


def test_ship_moves_doses_from_stock_into_a_shipment(world):
    count = world.ledger.shipmentCount()
    tx = ship(world, world.hepb_lot, world.cdc_room, world.clinic, 40)
    sid = count + 1
    assert tx.return_value == sid
    assert world.ledger.shipmentCount() == sid
    assert tx.events["Shipped"]["shipment"] == sid
    assert tx.events["Shipped"]["lot"] == world.hepb_lot
    assert tx.events["Shipped"]["fromEquipment"] == world.cdc_room
    assert tx.events["Shipped"]["vehicle"] == world.van
    assert tx.events["Shipped"]["toFacility"] == world.clinic
    assert tx.events["Shipped"]["quantity"] == 40
    assert shipment_tuple(world, sid) == (world.hepb_lot, world.cdc, world.clinic, world.van, 40, False, HEPB, 1)
    assert stock(world, world.hepb_lot, world.cdc_room) == (960, 0, world.cdc)
    assert site(world, world.cdc) == (1_460, 0)
    assert site(world, world.clinic) == (100, 0)
    assert open_items(world, world.van) == 1
    assert open_items(world, world.cdc_room) == 3
    audit(world)


def test_ship_ids_count_up_and_each_shipment_is_an_open_item_of_the_vehicle(world):
    first = shipped(world, 10)
    second = shipped(world, 20, lot=world.hepb_lot2)
    assert second == first + 1
    assert world.ledger.shipment(second)["quantity"] == 20
    assert open_items(world, world.van) == 2
    audit(world)


def test_ship_whole_entry_deletes_it_and_decrements_open_items(world):
    ship(world, world.hepb_lot, world.fridge, world.cdc, 100)
    assert stock(world, world.hepb_lot, world.fridge) == (0, 0, 0)
    assert open_items(world, world.fridge) == 1
    assert site(world, world.clinic) == (0, 0)
    audit(world)


def test_ship_whole_units_of_a_multi_dose_lot(world):
    tx = ship(world, world.bopv_lot, world.cdc_room, world.clinic, 30)
    assert tx.events["Shipped"]["quantity"] == 30
    assert site(world, world.cdc, BOPV) == (170, 0)
    audit(world)


def test_ship_rejects_part_units(world):
    with rejected(world, "NotWholeUnits", 15, 10):
        ship(world, world.bopv_lot, world.cdc_room, world.clinic, 15)


def test_ship_rejects_zero_quantity(world):
    with rejected(world, "ZeroQuantity"):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 0)


def test_ship_more_than_available_is_insufficient_stock(world):
    with rejected(world, "InsufficientStock", world.hepb_lot, world.cdc_room, 1_000):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 1_001)


def test_ship_from_quarantined_stock_is_refused(world):
    quarantine(world, world.fridge)
    with rejected(world, "StockInQuarantine", world.hepb_lot, world.fridge):
        ship(world, world.hepb_lot, world.fridge, world.cdc, 1)


def test_ship_lot_not_held_in_equipment(world):
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge):
        ship(world, world.hepb_lot2, world.fridge, world.cdc, 1, by=world.nurse)


def test_ship_unreleased_lot(world):
    lot = world.district.lot(world.hepb, "HB900", 100, world.maker_room, release=False)
    with rejected(world, "LotNotReleased", lot):
        ship(world, lot, world.maker_room, world.cdc, 10)


def test_ship_recalled_lot(world):
    world.ledger.recallLot(world.hepb_lot, text32("recall-1"), {"from": world.regulator})
    with rejected(world, "LotUnderRecall", world.hepb_lot):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10)


def test_ship_expired_lot(world):
    lot = world.district.lot(world.hepb, "HB901", 100, world.maker_room, shelf_days=1)
    expiry = world.ledger.lot(lot)["expiry"]
    ship(world, lot, world.maker_room, world.cdc, 10)  # still fine before expiry
    chain.sleep(DAY + 60)
    with rejected(world, "LotExpired", lot, expiry):
        ship(world, lot, world.maker_room, world.cdc, 10)


def test_ship_unknown_lot(world):
    with rejected(world, "UnknownLot", 99):
        ship(world, 99, world.cdc_room, world.clinic, 1, by=world.cdc_staff)


def test_ship_to_own_facility(world):
    with rejected(world, "SameFacility", world.cdc):
        ship(world, world.hepb_lot, world.cdc_room, world.cdc, 10)


@pytest.mark.parametrize("to", [0, 99])
def test_ship_to_unknown_facility(world, to):
    with rejected(world, "UnknownFacility", to):
        ship(world, world.hepb_lot, world.cdc_room, to, 10)


def test_ship_to_inactive_facility(world):
    world.ledger.setFacilityActive(world.clinic2, False, {"from": world.admin})
    with rejected(world, "FacilityInactive", world.clinic2):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic2, 10)


def test_ship_via_storage_equipment_is_not_a_vehicle(world):
    with rejected(world, "NotAVehicle", world.cdc_room):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10, vehicle=world.cdc_room)


def test_ship_via_unknown_vehicle(world):
    with rejected(world, "UnknownEquipment", 99):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10, vehicle=99)


def test_ship_via_inactive_vehicle(world):
    world.ledger.setEquipmentActive(world.van, False, {"from": world.admin})
    with rejected(world, "EquipmentInactive", world.van):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10)


def test_ship_via_vehicle_under_excursion(world):
    world.ledger.quarantineShipments(world.van, [], REF, {"from": world.oracle})
    with rejected(world, "EquipmentUnderExcursion", world.van):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10)


def test_ship_by_non_member(world):
    with rejected(world, "NotAMember", accounts[5]):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10, by=accounts[5])


def test_ship_by_member_whose_custodian_role_was_revoked(world):
    world.ledger.revokeRole(world.ledger.DISTRIBUTOR_ROLE(), world.cdc_staff, {"from": world.admin})
    with rejected(world, "MissingRole", world.cdc_staff):
        ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10)


def test_ship_from_another_facilitys_equipment(world):
    with rejected(world, "WrongFacility", world.nurse2, world.clinic):
        ship(world, world.hepb_lot, world.fridge, world.cdc, 10, by=world.nurse2)


# --------------------------------------------------------------------------- receiveShipment


def test_receive_full_shipment_into_existing_entry(world):
    sid = shipped(world, 40)
    tx = world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})
    assert tx.events["ShipmentReceived"]["shipment"] == sid
    assert tx.events["ShipmentReceived"]["equipment"] == world.fridge
    assert tx.events["ShipmentReceived"]["accepted"] == 40
    assert "WrittenOff" not in tx.events
    assert shipment_tuple(world, sid) == NO_SHIPMENT
    assert stock(world, world.hepb_lot, world.fridge) == (140, 0, world.clinic)
    assert site(world, world.clinic) == (140, 0)
    assert open_items(world, world.fridge) == 2
    assert open_items(world, world.van) == 0
    audit(world)


def test_receive_into_empty_equipment_creates_entry(world):
    sid = shipped(world, 40)
    world.ledger.receiveShipment(sid, world.fridge2, 40, NONE, {"from": world.nurse})
    assert stock(world, world.hepb_lot, world.fridge2) == (40, 0, world.clinic)
    assert open_items(world, world.fridge2) == 1
    audit(world)


def test_receive_full_shipment_ignores_reason(world):
    sid = shipped(world, 40)
    tx = world.ledger.receiveShipment(sid, world.fridge, 40, DAMAGED, {"from": world.nurse})
    assert "WrittenOff" not in tx.events
    audit(world)


def test_receive_partial_writes_off_rest_against_the_vehicle(world):
    sid = shipped(world, 40)
    tx = world.ledger.receiveShipment(sid, world.fridge, 30, DAMAGED, {"from": world.nurse})
    assert tx.events["ShipmentReceived"]["accepted"] == 30
    assert tx.events["WrittenOff"]["lot"] == world.hepb_lot
    assert tx.events["WrittenOff"]["equipment"] == world.van
    assert tx.events["WrittenOff"]["quantity"] == 10
    assert tx.events["WrittenOff"]["reason"] == DAMAGED
    assert stock(world, world.hepb_lot, world.fridge) == (130, 0, world.clinic)
    assert site(world, world.clinic) == (130, 0)
    assert open_items(world, world.van) == 0
    audit(world)


def test_receive_partial_without_reason(world):
    sid = shipped(world, 40)
    with rejected(world, "ReasonRequired"):
        world.ledger.receiveShipment(sid, world.fridge, 30, NONE, {"from": world.nurse})


def test_receive_partial_must_be_whole_units(world):
    sid = ship(world, world.bopv_lot, world.cdc_room, world.clinic, 30).events["Shipped"]["shipment"]
    with rejected(world, "NotWholeUnits", 15, 10):
        world.ledger.receiveShipment(sid, world.fridge, 15, DAMAGED, {"from": world.nurse})
    world.ledger.receiveShipment(sid, world.fridge, 20, DAMAGED, {"from": world.nurse})
    assert stock(world, world.bopv_lot, world.fridge)[0] == 70
    audit(world)


def test_receive_twice_is_not_in_transit(world):
    sid = shipped(world, 40)
    world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})
    with rejected(world, "ShipmentNotInTransit", sid):
        world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})


def test_receive_unknown_shipment(world):
    shipped(world, 40)
    beyond = world.ledger.shipmentCount() + 1
    with rejected(world, "UnknownShipment", 0):
        world.ledger.receiveShipment(0, world.fridge, 1, NONE, {"from": world.nurse})
    with rejected(world, "UnknownShipment", beyond):
        world.ledger.receiveShipment(beyond, world.fridge, 1, NONE, {"from": world.nurse})


def test_receive_by_wrong_facility(world):
    sid = shipped(world, 40)
    with rejected(world, "WrongFacility", world.nurse2, world.clinic):
        world.ledger.receiveShipment(sid, world.fridge_b, 40, NONE, {"from": world.nurse2})


def test_receive_by_non_member(world):
    sid = shipped(world, 40)
    with rejected(world, "NotAMember", accounts[5]):
        world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": accounts[5]})


def test_receive_zero_accepted(world):
    sid = shipped(world, 40)
    with rejected(world, "ZeroQuantity"):
        world.ledger.receiveShipment(sid, world.fridge, 0, DAMAGED, {"from": world.nurse})


def test_receive_more_than_shipped(world):
    sid = shipped(world, 40)
    with rejected(world, "ExceedsShipment", sid, 40):
        world.ledger.receiveShipment(sid, world.fridge, 41, NONE, {"from": world.nurse})


def test_receive_into_a_vehicle(world):
    sid = shipped(world, 40)
    with rejected(world, "InvalidEquipmentKind"):
        world.ledger.receiveShipment(sid, world.van, 40, NONE, {"from": world.nurse})


def test_receive_into_unknown_equipment(world):
    sid = shipped(world, 40)
    with rejected(world, "UnknownEquipment", 99):
        world.ledger.receiveShipment(sid, 99, 40, NONE, {"from": world.nurse})


def test_receive_into_another_facilitys_fridge(world):
    sid = shipped(world, 40)
    with rejected(world, "WrongFacility", world.nurse, world.clinic2):
        world.ledger.receiveShipment(sid, world.fridge_b, 40, NONE, {"from": world.nurse})


def test_receive_into_inactive_equipment(world):
    sid = shipped(world, 40)
    world.ledger.setEquipmentActive(world.fridge2, False, {"from": world.admin})
    with rejected(world, "EquipmentInactive", world.fridge2):
        world.ledger.receiveShipment(sid, world.fridge2, 40, NONE, {"from": world.nurse})


def test_receive_into_equipment_under_excursion_until_it_ends(world):
    sid = shipped(world, 40)
    quarantine(world, world.fridge)
    with rejected(world, "EquipmentUnderExcursion", world.fridge):
        world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})
    world.ledger.endExcursion(world.fridge, REF, {"from": world.oracle})
    world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})
    # the new doses are available; the old ones stay quarantined
    assert stock(world, world.hepb_lot, world.fridge) == (40, 100, world.clinic)
    assert site(world, world.clinic) == (40, 0)
    audit(world)


def test_receive_quarantined_shipment_is_refused(world):
    sid = shipped(world, 40)
    world.ledger.quarantineShipments(world.van, [sid], REF, {"from": world.oracle})
    with rejected(world, "ShipmentInQuarantine", sid):
        world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})


# --------------------------------------------------------------------------- refuseShipment


def test_refuse_writes_off_whole_shipment_against_the_vehicle(world):
    sid = shipped(world, 40)
    tx = world.ledger.refuseShipment(sid, WriteOffReason.REFUSED, {"from": world.nurse})
    assert tx.events["ShipmentRefused"]["shipment"] == sid
    assert tx.events["ShipmentRefused"]["reason"] == WriteOffReason.REFUSED
    assert tx.events["WrittenOff"]["lot"] == world.hepb_lot
    assert tx.events["WrittenOff"]["equipment"] == world.van
    assert tx.events["WrittenOff"]["quantity"] == 40
    assert tx.events["WrittenOff"]["reason"] == WriteOffReason.REFUSED
    assert shipment_tuple(world, sid) == NO_SHIPMENT
    assert open_items(world, world.van) == 0
    assert site(world, world.cdc) == (1_460, 0)
    assert site(world, world.clinic) == (100, 0)
    audit(world)


def test_refuse_without_reason(world):
    sid = shipped(world, 40)
    with rejected(world, "ReasonRequired"):
        world.ledger.refuseShipment(sid, NONE, {"from": world.nurse})


@pytest.mark.parametrize("who", ["nurse2", "cdc_staff"])
def test_refuse_only_by_receiving_facility(world, who):
    sid = shipped(world, 40)
    account = getattr(world, who)
    with rejected(world, "WrongFacility", account, world.clinic):
        world.ledger.refuseShipment(sid, WriteOffReason.REFUSED, {"from": account})


def test_refuse_by_non_member(world):
    sid = shipped(world, 40)
    with rejected(world, "NotAMember", accounts[5]):
        world.ledger.refuseShipment(sid, WriteOffReason.REFUSED, {"from": accounts[5]})


def test_refuse_closed_shipment(world):
    sid = shipped(world, 40)
    world.ledger.refuseShipment(sid, WriteOffReason.REFUSED, {"from": world.nurse})
    with rejected(world, "ShipmentNotInTransit", sid):
        world.ledger.refuseShipment(sid, WriteOffReason.REFUSED, {"from": world.nurse})
    with rejected(world, "ShipmentNotInTransit", sid):
        world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})


def test_refuse_unknown_shipment(world):
    beyond = world.ledger.shipmentCount() + 1
    with rejected(world, "UnknownShipment", 0):
        world.ledger.refuseShipment(0, WriteOffReason.REFUSED, {"from": world.nurse})
    with rejected(world, "UnknownShipment", beyond):
        world.ledger.refuseShipment(beyond, WriteOffReason.REFUSED, {"from": world.nurse})


def test_refuse_quarantined_shipment_is_allowed(world):
    sid = shipped(world, 40)
    world.ledger.quarantineShipments(world.van, [sid], REF, {"from": world.oracle})
    tx = world.ledger.refuseShipment(sid, EXCURSION, {"from": world.nurse})
    assert tx.events["WrittenOff"]["quantity"] == 40
    assert tx.events["WrittenOff"]["reason"] == EXCURSION
    assert open_items(world, world.van) == 0
    assert under_excursion(world, world.van)
    audit(world)


# --------------------------------------------------------------------------- move


def test_move_part_creates_entry_in_target(world):
    tx = world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 30, {"from": world.nurse})
    ev = tx.events["Moved"]
    assert (ev["lot"], ev["fromEquipment"], ev["toEquipment"], ev["quantity"]) == (
        world.hepb_lot,
        world.fridge,
        world.fridge2,
        30,
    )
    assert stock(world, world.hepb_lot, world.fridge) == (70, 0, world.clinic)
    assert stock(world, world.hepb_lot, world.fridge2) == (30, 0, world.clinic)
    assert open_items(world, world.fridge) == 2
    assert open_items(world, world.fridge2) == 1
    assert site(world, world.clinic) == (100, 0)
    audit(world)


def test_move_all_empties_source_entry(world):
    world.ledger.move(world.bopv_lot, world.fridge, world.cold_box, 50, {"from": world.nurse})
    assert stock(world, world.bopv_lot, world.fridge) == (0, 0, 0)
    assert stock(world, world.bopv_lot, world.cold_box) == (50, 0, world.clinic)
    assert open_items(world, world.fridge) == 1
    assert open_items(world, world.cold_box) == 1
    assert site(world, world.clinic, BOPV) == (50, 0)
    audit(world)


def test_move_into_existing_entry_keeps_open_items(world):
    world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 30, {"from": world.nurse})
    world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 20, {"from": world.nurse})
    assert stock(world, world.hepb_lot, world.fridge2) == (50, 0, world.clinic)
    assert open_items(world, world.fridge2) == 1
    audit(world)


def test_move_zero(world):
    with rejected(world, "ZeroQuantity"):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 0, {"from": world.nurse})


def test_move_to_same_equipment(world):
    with rejected(world, "SameEquipment", world.fridge):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge, 10, {"from": world.nurse})


def test_move_into_a_vehicle(world):
    with rejected(world, "InvalidEquipmentKind"):
        world.ledger.move(world.hepb_lot, world.cdc_room, world.van, 10, {"from": world.cdc_staff})


def test_move_into_unknown_equipment(world):
    with rejected(world, "UnknownEquipment", 99):
        world.ledger.move(world.hepb_lot, world.fridge, 99, 10, {"from": world.nurse})


def test_move_into_inactive_equipment(world):
    world.ledger.setEquipmentActive(world.fridge2, False, {"from": world.admin})
    with rejected(world, "EquipmentInactive", world.fridge2):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 10, {"from": world.nurse})


def test_move_into_another_facilitys_equipment(world):
    with rejected(world, "WrongFacility", world.nurse, world.clinic2):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge_b, 10, {"from": world.nurse})


def test_move_out_of_another_facilitys_equipment(world):
    with rejected(world, "WrongFacility", world.cdc_staff, world.clinic):
        world.ledger.move(world.hepb_lot, world.fridge, world.cdc_room, 10, {"from": world.cdc_staff})


def test_move_into_equipment_under_excursion(world):
    world.ledger.quarantineStock(world.fridge2, [], REF, {"from": world.oracle})
    with rejected(world, "EquipmentUnderExcursion", world.fridge2):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 10, {"from": world.nurse})


def test_move_more_than_available(world):
    with rejected(world, "InsufficientStock", world.hepb_lot, world.fridge, 100):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 101, {"from": world.nurse})


def test_move_quarantined_stock(world):
    quarantine(world, world.fridge)
    with rejected(world, "StockInQuarantine", world.hepb_lot, world.fridge):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 10, {"from": world.nurse})


def test_move_lot_not_held(world):
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge):
        world.ledger.move(world.hepb_lot2, world.fridge, world.fridge2, 10, {"from": world.nurse})


def test_move_by_non_member(world):
    with rejected(world, "NotAMember", accounts[5]):
        world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 10, {"from": accounts[5]})


# --------------------------------------------------------------------------- writeOff


def test_write_off_part(world):
    tx = world.ledger.writeOff(world.hepb_lot, world.fridge, 10, WriteOffReason.LOST, {"from": world.nurse})
    ev = tx.events["WrittenOff"]
    assert (ev["lot"], ev["equipment"], ev["quantity"], ev["reason"]) == (
        world.hepb_lot,
        world.fridge,
        10,
        WriteOffReason.LOST,
    )
    assert stock(world, world.hepb_lot, world.fridge) == (90, 0, world.clinic)
    assert site(world, world.clinic) == (90, 0)
    assert open_items(world, world.fridge) == 2
    audit(world)


def test_write_off_all_deletes_entry(world):
    world.ledger.writeOff(world.bopv_lot, world.fridge, 50, DAMAGED, {"from": world.nurse})
    assert stock(world, world.bopv_lot, world.fridge) == (0, 0, 0)
    assert open_items(world, world.fridge) == 1
    assert site(world, world.clinic, BOPV) == (0, 0)
    audit(world)


def test_write_off_single_doses_of_multi_dose_lot(world):
    # an opened vial: write-offs are in doses, not whole units
    world.ledger.writeOff(world.bopv_lot, world.fridge, 3, WriteOffReason.EXPIRED, {"from": world.nurse})
    assert stock(world, world.bopv_lot, world.fridge) == (47, 0, world.clinic)
    audit(world)


def test_write_off_recalled_and_expired_lots(world):
    world.ledger.recallLot(world.hepb_lot, text32("recall-1"), {"from": world.regulator})
    world.ledger.writeOff(world.hepb_lot, world.fridge, 100, WriteOffReason.RECALLED, {"from": world.nurse})
    chain.sleep(400 * DAY)
    world.ledger.writeOff(world.bopv_lot, world.fridge, 50, WriteOffReason.EXPIRED, {"from": world.nurse})
    assert open_items(world, world.fridge) == 0
    audit(world)


def test_write_off_zero(world):
    with rejected(world, "ZeroQuantity"):
        world.ledger.writeOff(world.hepb_lot, world.fridge, 0, DAMAGED, {"from": world.nurse})


def test_write_off_without_reason(world):
    with rejected(world, "ReasonRequired"):
        world.ledger.writeOff(world.hepb_lot, world.fridge, 1, NONE, {"from": world.nurse})


def test_write_off_more_than_available(world):
    with rejected(world, "InsufficientStock", world.hepb_lot, world.fridge, 100):
        world.ledger.writeOff(world.hepb_lot, world.fridge, 101, DAMAGED, {"from": world.nurse})


def test_write_off_quarantined_stock_needs_dispose(world):
    quarantine(world, world.fridge)
    with rejected(world, "StockInQuarantine", world.hepb_lot, world.fridge):
        world.ledger.writeOff(world.hepb_lot, world.fridge, 1, EXCURSION, {"from": world.nurse})


def test_write_off_lot_not_held(world):
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge):
        world.ledger.writeOff(world.hepb_lot2, world.fridge, 1, DAMAGED, {"from": world.nurse})


def test_write_off_another_facilitys_stock(world):
    with rejected(world, "WrongFacility", world.nurse2, world.clinic):
        world.ledger.writeOff(world.hepb_lot, world.fridge, 1, DAMAGED, {"from": world.nurse2})


def test_write_off_by_non_member(world):
    with rejected(world, "NotAMember", accounts[5]):
        world.ledger.writeOff(world.hepb_lot, world.fridge, 1, DAMAGED, {"from": accounts[5]})


# --------------------------------------------------------------------------- quarantineStock


@pytest.mark.parametrize("who", ["oracle", "cdc_staff", "regulator"])
def test_quarantine_stock_moves_all_available_to_quarantined(world, who):
    tx = world.ledger.quarantineStock(
        world.fridge, [world.hepb_lot, world.bopv_lot], REF, {"from": getattr(world, who)}
    )
    events = tx.events["StockQuarantined"]
    assert len(events) == 2
    assert (events[0]["equipment"], events[0]["lot"], events[0]["quantity"], events[0]["excursionRef"]) == (
        world.fridge,
        world.hepb_lot,
        100,
        "0x" + REF.hex(),
    )
    assert (events[1]["equipment"], events[1]["lot"], events[1]["quantity"]) == (world.fridge, world.bopv_lot, 50)
    assert tx.events["ExcursionStarted"]["equipment"] == world.fridge
    assert tx.events["ExcursionStarted"]["excursionRef"] == "0x" + REF.hex()
    assert stock(world, world.hepb_lot, world.fridge) == (0, 100, world.clinic)
    assert stock(world, world.bopv_lot, world.fridge) == (0, 50, world.clinic)
    assert site(world, world.clinic) == (0, 0)
    assert site(world, world.clinic, BOPV) == (0, 0)
    assert tuple(world.ledger.equipment(world.fridge)) == (world.clinic, EquipmentKind.FRIDGE, True, True, 2)
    audit(world)


def test_quarantine_stock_leaves_other_equipment_of_the_site_available(world):
    world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 30, {"from": world.nurse})
    quarantine(world, world.fridge)
    assert site(world, world.clinic) == (30, 0)
    dose(world, world.hepb_lot, world.fridge2)
    assert site(world, world.clinic) == (29, 0)
    audit(world)


def test_quarantine_empty_equipment_with_empty_list(world):
    tx = world.ledger.quarantineStock(world.fridge2, [], REF, {"from": world.oracle})
    assert "StockQuarantined" not in tx.events
    assert tx.events["ExcursionStarted"]["equipment"] == world.fridge2
    assert under_excursion(world, world.fridge2)


@pytest.mark.parametrize("who", ["nurse", "maker_staff", "admin"])
def test_quarantine_stock_role_required(world, who):
    account = getattr(world, who)
    with rejected(world, "MissingRole", account):
        world.ledger.quarantineStock(world.fridge, [world.hepb_lot, world.bopv_lot], REF, {"from": account})


@pytest.mark.parametrize("lots", [[1], [1, 2, 3], []])
def test_quarantine_stock_list_count_mismatch(world, lots):
    with rejected(world, "QuarantineListMismatch", world.fridge, 2, len(lots)):
        world.ledger.quarantineStock(world.fridge, lots, REF, {"from": world.oracle})


def test_quarantine_stock_list_unsorted(world):
    assert (world.hepb_lot, world.bopv_lot) == (1, 3)
    with rejected(world, "QuarantineListUnsorted", 1):
        world.ledger.quarantineStock(world.fridge, [3, 1], REF, {"from": world.oracle})


def test_quarantine_stock_list_duplicate(world):
    with rejected(world, "QuarantineListUnsorted", 1):
        world.ledger.quarantineStock(world.fridge, [1, 1], REF, {"from": world.oracle})


def test_quarantine_stock_list_zero_lot(world):
    with rejected(world, "QuarantineListUnsorted", 0):
        world.ledger.quarantineStock(world.fridge, [0, 1], REF, {"from": world.oracle})


def test_quarantine_stock_lot_not_in_equipment(world):
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge):
        world.ledger.quarantineStock(world.fridge, [world.hepb_lot, world.hepb_lot2], REF, {"from": world.oracle})


def test_quarantine_stock_of_a_vehicle(world):
    with rejected(world, "InvalidEquipmentKind"):
        world.ledger.quarantineStock(world.van, [], REF, {"from": world.oracle})


def test_quarantine_stock_unknown_equipment(world):
    with rejected(world, "UnknownEquipment", 99):
        world.ledger.quarantineStock(99, [], REF, {"from": world.oracle})


def test_dose_from_quarantined_stock_is_refused(world):
    quarantine(world, world.fridge)
    with rejected(world, "StockInQuarantine", world.hepb_lot, world.fridge):
        dose(world, world.hepb_lot, world.fridge)


# --------------------------------------------------------------------------- quarantineShipments


@pytest.mark.parametrize("who", ["oracle", "cdc_staff", "regulator"])
def test_quarantine_shipments_marks_every_open_shipment(world, who):
    first = shipped(world, 40)
    second = shipped(world, 20, lot=world.hepb_lot2)
    tx = world.ledger.quarantineShipments(world.van, [first, second], REF, {"from": getattr(world, who)})
    events = tx.events["ShipmentQuarantined"]
    assert [(e["vehicle"], e["shipment"], e["excursionRef"]) for e in events] == [
        (world.van, first, "0x" + REF.hex()),
        (world.van, second, "0x" + REF.hex()),
    ]
    assert tx.events["ExcursionStarted"]["equipment"] == world.van
    assert world.ledger.shipment(first)["quarantined"]
    assert world.ledger.shipment(second)["quarantined"]
    assert world.ledger.shipment(first)["quantity"] == 40
    assert under_excursion(world, world.van)
    assert open_items(world, world.van) == 2
    audit(world)


@pytest.mark.parametrize("who", ["nurse", "maker_staff", "admin"])
def test_quarantine_shipments_role_required(world, who):
    sid = shipped(world, 40)
    account = getattr(world, who)
    with rejected(world, "MissingRole", account):
        world.ledger.quarantineShipments(world.van, [sid], REF, {"from": account})


def test_quarantine_shipments_of_storage_equipment(world):
    with rejected(world, "NotAVehicle", world.cdc_room):
        world.ledger.quarantineShipments(world.cdc_room, [], REF, {"from": world.oracle})


def test_quarantine_shipments_unknown_equipment(world):
    with rejected(world, "UnknownEquipment", 99):
        world.ledger.quarantineShipments(99, [], REF, {"from": world.oracle})


def test_quarantine_shipments_list_count_mismatch(world):
    first = shipped(world, 40)
    shipped(world, 20)
    with rejected(world, "QuarantineListMismatch", world.van, 2, 1):
        world.ledger.quarantineShipments(world.van, [first], REF, {"from": world.oracle})


def test_quarantine_shipments_list_unsorted_or_duplicate(world):
    first = shipped(world, 40)
    second = shipped(world, 20)
    with rejected(world, "QuarantineListUnsorted", 1):
        world.ledger.quarantineShipments(world.van, [second, first], REF, {"from": world.oracle})
    with rejected(world, "QuarantineListUnsorted", 1):
        world.ledger.quarantineShipments(world.van, [first, first], REF, {"from": world.oracle})


def test_quarantine_shipments_in_another_vehicle(world):
    van2 = world.district.equipment(world.cdc, EquipmentKind.VEHICLE, "CDC-VAN2")
    other = ship(world, world.hepb_lot, world.cdc_room, world.clinic, 10, vehicle=van2).return_value
    mine = shipped(world, 20)
    with rejected(world, "NotInVehicle", other, world.van):
        world.ledger.quarantineShipments(world.van, [other], REF, {"from": world.oracle})
    world.ledger.quarantineShipments(world.van, [mine], REF, {"from": world.oracle})
    assert not world.ledger.shipment(other)["quarantined"]
    assert not under_excursion(world, van2)


def test_quarantine_shipments_closed_shipment_is_not_in_vehicle(world):
    shipped(world, 40)
    delivered = 1  # the standard world delivered shipment 1 in the van
    with rejected(world, "NotInVehicle", delivered, world.van):
        world.ledger.quarantineShipments(world.van, [delivered], REF, {"from": world.oracle})


# --------------------------------------------------------------------------- endExcursion


@pytest.mark.parametrize("who", ["oracle", "cdc_staff", "regulator"])
def test_end_excursion_reopens_equipment_but_keeps_quarantine(world, who):
    quarantine(world, world.fridge)
    tx = world.ledger.endExcursion(world.fridge, REF2, {"from": getattr(world, who)})
    assert tx.events["ExcursionEnded"]["equipment"] == world.fridge
    assert tx.events["ExcursionEnded"]["excursionRef"] == "0x" + REF2.hex()
    assert not under_excursion(world, world.fridge)
    assert stock(world, world.hepb_lot, world.fridge) == (0, 100, world.clinic)
    assert site(world, world.clinic) == (0, 0)
    audit(world)


def test_end_excursion_lets_moves_in_again(world):
    world.ledger.quarantineStock(world.fridge2, [], REF, {"from": world.oracle})
    world.ledger.endExcursion(world.fridge2, REF, {"from": world.oracle})
    world.ledger.move(world.hepb_lot, world.fridge, world.fridge2, 10, {"from": world.nurse})
    assert stock(world, world.hepb_lot, world.fridge2) == (10, 0, world.clinic)
    audit(world)


def test_end_excursion_without_one(world):
    with rejected(world, "NoExcursion", world.fridge):
        world.ledger.endExcursion(world.fridge, REF, {"from": world.oracle})


def test_end_excursion_unknown_equipment(world):
    with rejected(world, "UnknownEquipment", 99):
        world.ledger.endExcursion(99, REF, {"from": world.oracle})


@pytest.mark.parametrize("who", ["nurse", "maker_staff", "admin"])
def test_end_excursion_role_required(world, who):
    quarantine(world, world.fridge)
    account = getattr(world, who)
    with rejected(world, "MissingRole", account):
        world.ledger.endExcursion(world.fridge, REF, {"from": account})


# --------------------------------------------------------------------------- releaseStock


def _quarantined_fridge(w: World) -> None:
    quarantine(w, w.fridge)
    w.ledger.endExcursion(w.fridge, REF, {"from": w.oracle})


@pytest.mark.parametrize("who", ["cdc_staff", "regulator"])
def test_release_stock_partly_returns_doses_to_use(world, who):
    _quarantined_fridge(world)
    tx = world.ledger.releaseStock(world.fridge, world.hepb_lot, 40, {"from": getattr(world, who)})
    ev = tx.events["StockReleased"]
    assert (ev["equipment"], ev["lot"], ev["quantity"]) == (world.fridge, world.hepb_lot, 40)
    assert stock(world, world.hepb_lot, world.fridge) == (40, 60, world.clinic)
    assert site(world, world.clinic) == (40, 0)
    assert open_items(world, world.fridge) == 2
    audit(world)


def test_released_stock_can_be_used_but_not_the_rest(world):
    _quarantined_fridge(world)
    world.ledger.releaseStock(world.fridge, world.hepb_lot, 40, {"from": world.regulator})
    with rejected(world, "InsufficientStock", world.hepb_lot, world.fridge, 40):
        ship(world, world.hepb_lot, world.fridge, world.cdc, 41)
    dose(world, world.hepb_lot, world.fridge)
    ship(world, world.hepb_lot, world.fridge, world.cdc, 39)
    # the available part is gone, the quarantined part keeps the entry alive
    assert stock(world, world.hepb_lot, world.fridge) == (0, 60, world.clinic)
    assert open_items(world, world.fridge) == 2
    audit(world)


def test_release_stock_while_excursion_goes_on(world):
    quarantine(world, world.fridge)
    with rejected(world, "EquipmentUnderExcursion", world.fridge):
        world.ledger.releaseStock(world.fridge, world.hepb_lot, 10, {"from": world.regulator})


@pytest.mark.parametrize("who", ["oracle", "nurse", "maker_staff"])
def test_release_stock_role_required(world, who):
    _quarantined_fridge(world)
    account = getattr(world, who)
    with rejected(world, "MissingRole", account):
        world.ledger.releaseStock(world.fridge, world.hepb_lot, 10, {"from": account})


def test_release_stock_zero(world):
    _quarantined_fridge(world)
    with rejected(world, "ZeroQuantity"):
        world.ledger.releaseStock(world.fridge, world.hepb_lot, 0, {"from": world.regulator})


def test_release_stock_more_than_quarantined(world):
    _quarantined_fridge(world)
    with rejected(world, "InsufficientQuarantined", world.hepb_lot, world.fridge, 100):
        world.ledger.releaseStock(world.fridge, world.hepb_lot, 101, {"from": world.regulator})


def test_release_stock_never_quarantined(world):
    with rejected(world, "InsufficientQuarantined", world.hepb_lot, world.cdc_room, 0):
        world.ledger.releaseStock(world.cdc_room, world.hepb_lot, 1, {"from": world.regulator})


def test_release_stock_lot_not_held(world):
    _quarantined_fridge(world)
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge):
        world.ledger.releaseStock(world.fridge, world.hepb_lot2, 1, {"from": world.regulator})


def test_release_stock_unknown_equipment(world):
    with rejected(world, "UnknownEquipment", 99):
        world.ledger.releaseStock(99, world.hepb_lot, 1, {"from": world.regulator})


# --------------------------------------------------------------------------- disposeStock


@pytest.mark.parametrize("who", ["cdc_staff", "regulator"])
def test_dispose_part_and_release_the_rest(world, who):
    """Splitting stock when only part of it was exposed."""
    _quarantined_fridge(world)
    tx = world.ledger.disposeStock(world.fridge, world.hepb_lot, 60, EXCURSION, {"from": getattr(world, who)})
    ev = tx.events["WrittenOff"]
    assert (ev["lot"], ev["equipment"], ev["quantity"], ev["reason"]) == (world.hepb_lot, world.fridge, 60, EXCURSION)
    assert stock(world, world.hepb_lot, world.fridge) == (0, 40, world.clinic)
    assert site(world, world.clinic) == (0, 0)
    assert open_items(world, world.fridge) == 2
    audit(world)
    world.ledger.releaseStock(world.fridge, world.hepb_lot, 40, {"from": world.regulator})
    assert stock(world, world.hepb_lot, world.fridge) == (40, 0, world.clinic)
    assert site(world, world.clinic) == (40, 0)
    audit(world)


def test_dispose_all_deletes_entry_and_decrements_open_items(world):
    quarantine(world, world.fridge)
    # disposal does not wait for the excursion to end
    world.ledger.disposeStock(world.fridge, world.hepb_lot, 100, EXCURSION, {"from": world.regulator})
    assert stock(world, world.hepb_lot, world.fridge) == (0, 0, 0)
    assert open_items(world, world.fridge) == 1
    world.ledger.disposeStock(world.fridge, world.bopv_lot, 50, EXCURSION, {"from": world.regulator})
    assert open_items(world, world.fridge) == 0
    assert under_excursion(world, world.fridge)
    audit(world)


def test_dispose_keeps_entry_while_available_doses_remain(world):
    _quarantined_fridge(world)
    world.ledger.releaseStock(world.fridge, world.hepb_lot, 40, {"from": world.regulator})
    world.ledger.disposeStock(world.fridge, world.hepb_lot, 60, EXCURSION, {"from": world.regulator})
    assert stock(world, world.hepb_lot, world.fridge) == (40, 0, world.clinic)
    assert open_items(world, world.fridge) == 2
    audit(world)


@pytest.mark.parametrize("who", ["oracle", "nurse", "maker_staff"])
def test_dispose_role_required(world, who):
    _quarantined_fridge(world)
    account = getattr(world, who)
    with rejected(world, "MissingRole", account):
        world.ledger.disposeStock(world.fridge, world.hepb_lot, 10, EXCURSION, {"from": account})


def test_dispose_zero(world):
    _quarantined_fridge(world)
    with rejected(world, "ZeroQuantity"):
        world.ledger.disposeStock(world.fridge, world.hepb_lot, 0, EXCURSION, {"from": world.regulator})


def test_dispose_without_reason(world):
    _quarantined_fridge(world)
    with rejected(world, "ReasonRequired"):
        world.ledger.disposeStock(world.fridge, world.hepb_lot, 10, NONE, {"from": world.regulator})


def test_dispose_more_than_quarantined(world):
    _quarantined_fridge(world)
    with rejected(world, "InsufficientQuarantined", world.hepb_lot, world.fridge, 100):
        world.ledger.disposeStock(world.fridge, world.hepb_lot, 101, EXCURSION, {"from": world.regulator})


def test_dispose_available_stock_is_not_possible(world):
    with rejected(world, "InsufficientQuarantined", world.hepb_lot, world.fridge, 0):
        world.ledger.disposeStock(world.fridge, world.hepb_lot, 1, DAMAGED, {"from": world.regulator})


def test_dispose_lot_not_held(world):
    with rejected(world, "NotHeld", world.hepb_lot2, world.fridge):
        world.ledger.disposeStock(world.fridge, world.hepb_lot2, 1, DAMAGED, {"from": world.regulator})


# --------------------------------------------------------------------------- releaseShipment


def _quarantined_shipment(w: World) -> int:
    sid = shipped(w, 40)
    w.ledger.quarantineShipments(w.van, [sid], REF, {"from": w.oracle})
    return sid


@pytest.mark.parametrize("who", ["cdc_staff", "regulator"])
def test_release_shipment_after_excursion_lets_it_be_received(world, who):
    sid = _quarantined_shipment(world)
    world.ledger.endExcursion(world.van, REF, {"from": world.oracle})
    tx = world.ledger.releaseShipment(sid, {"from": getattr(world, who)})
    assert tx.events["ShipmentReleased"]["shipment"] == sid
    assert shipment_tuple(world, sid) == (world.hepb_lot, world.cdc, world.clinic, world.van, 40, False, HEPB, 1)
    world.ledger.receiveShipment(sid, world.fridge, 40, NONE, {"from": world.nurse})
    assert stock(world, world.hepb_lot, world.fridge) == (140, 0, world.clinic)
    audit(world)


def test_release_shipment_while_vehicle_excursion_goes_on(world):
    sid = _quarantined_shipment(world)
    with rejected(world, "EquipmentUnderExcursion", world.van):
        world.ledger.releaseShipment(sid, {"from": world.regulator})


def test_release_shipment_not_quarantined(world):
    sid = shipped(world, 40)
    with rejected(world, "ShipmentNotQuarantined", sid):
        world.ledger.releaseShipment(sid, {"from": world.regulator})


def test_release_shipment_unknown_or_closed(world):
    beyond = world.ledger.shipmentCount() + 1
    with rejected(world, "UnknownShipment", 0):
        world.ledger.releaseShipment(0, {"from": world.regulator})
    with rejected(world, "UnknownShipment", beyond):
        world.ledger.releaseShipment(beyond, {"from": world.regulator})
    with rejected(world, "ShipmentNotInTransit", 1):
        world.ledger.releaseShipment(1, {"from": world.regulator})


@pytest.mark.parametrize("who", ["oracle", "nurse", "maker_staff"])
def test_release_shipment_role_required(world, who):
    sid = _quarantined_shipment(world)
    world.ledger.endExcursion(world.van, REF, {"from": world.oracle})
    account = getattr(world, who)
    with rejected(world, "MissingRole", account):
        world.ledger.releaseShipment(sid, {"from": account})


# --------------------------------------------------------------------------- reserve / unreserve


def test_booking_reserves_and_cancelling_unreserves(world):
    (booking,) = book(world, 1)
    assert site(world, world.clinic) == (100, 1)
    book(world, 2)
    assert site(world, world.clinic) == (100, 3)
    world.appointments.cancel(booking, {"from": accounts[5]})
    assert site(world, world.clinic) == (100, 2)
    audit(world)


@pytest.mark.parametrize("who", ["admin", "nurse"])
def test_reserve_only_from_appointments(world, who):
    account = getattr(world, who)
    with rejected(world, "OnlyAppointments", account):
        world.ledger.reserve(world.clinic, HEPB, {"from": account})


@pytest.mark.parametrize("who", ["admin", "nurse"])
def test_unreserve_only_from_appointments(world, who):
    book(world, 1)
    account = getattr(world, who)
    with rejected(world, "OnlyAppointments", account):
        world.ledger.unreserve(world.clinic, HEPB, {"from": account})
    assert site(world, world.clinic) == (100, 1)


def test_reserve_cannot_overbook_site_stock(world):
    reserved_clinic(world, available=2, reserved=2)
    slot = world.district.slot(world.clinic, "HepB")
    with rejected(world, "StockReserved", world.clinic, HEPB):
        world.appointments.book(slot, person(), {"from": accounts[6]})
    assert site(world, world.clinic) == (2, 2)


def test_reserve_cannot_take_quarantined_stock(world):
    quarantine(world, world.fridge)
    slot = world.district.slot(world.clinic, "HepB")
    with rejected(world, "StockReserved", world.clinic, HEPB):
        world.appointments.book(slot, person(), {"from": accounts[6]})


def test_ship_cannot_take_reserved_stock(world):
    reserved_clinic(world, available=3, reserved=2)
    with rejected(world, "StockReserved", world.clinic, HEPB):
        ship(world, world.hepb_lot, world.fridge, world.cdc, 2)
    ship(world, world.hepb_lot, world.fridge, world.cdc, 1)
    assert site(world, world.clinic) == (2, 2)
    audit(world)


def test_walk_in_dose_cannot_take_reserved_stock(world):
    reserved_clinic(world, available=3, reserved=2)
    dose(world, world.hepb_lot, world.fridge)
    assert site(world, world.clinic) == (2, 2)
    with rejected(world, "StockReserved", world.clinic, HEPB):
        dose(world, world.hepb_lot, world.fridge)
    audit(world)


def test_booked_dose_consumes_its_reservation(world):
    reserved_clinic(world, available=2, reserved=2)
    booking = world.appointments.bookingCount()
    dose(world, world.hepb_lot, world.fridge, booking=booking)
    assert site(world, world.clinic) == (1, 1)
    audit(world)


def test_write_off_may_take_reserved_stock(world):
    reserved_clinic(world, available=2, reserved=2)
    world.ledger.writeOff(world.hepb_lot, world.fridge, 2, DAMAGED, {"from": world.nurse})
    assert site(world, world.clinic) == (0, 2)
    assert open_items(world, world.fridge) == 1
    audit(world)


def test_quarantine_may_take_reserved_stock_and_release_gives_it_back(world):
    reserved_clinic(world, available=2, reserved=2)
    quarantine(world, world.fridge)
    assert site(world, world.clinic) == (0, 2)
    world.ledger.endExcursion(world.fridge, REF, {"from": world.oracle})
    world.ledger.releaseStock(world.fridge, world.hepb_lot, 2, {"from": world.regulator})
    assert site(world, world.clinic) == (2, 2)
    audit(world)


def test_reservations_are_per_site_and_type(world):
    reserved_clinic(world, available=2, reserved=2)
    assert site(world, world.clinic, BOPV) == (50, 0)
    ship(world, world.bopv_lot, world.fridge, world.cdc, 10)
    dose(world, world.bopv_lot, world.fridge)
    assert site(world, world.clinic, BOPV) == (39, 0)
    audit(world)


# --------------------------------------------------------------------------- openItems and views


def test_open_items_follow_entries_through_every_path(world):
    w = world
    # receive a new lot into the fridge: +1
    sid = shipped(w, 2, lot=w.hepb_lot2)
    w.ledger.receiveShipment(sid, w.fridge, 2, NONE, {"from": w.nurse})
    assert open_items(w, w.fridge) == 3
    # dose empties it partly, then fully: -1
    dose(w, w.hepb_lot2, w.fridge)
    assert open_items(w, w.fridge) == 3
    dose(w, w.hepb_lot2, w.fridge)
    assert open_items(w, w.fridge) == 2
    # move a whole lot out: -1 here, +1 there
    w.ledger.move(w.bopv_lot, w.fridge, w.cold_box, 50, {"from": w.nurse})
    assert (open_items(w, w.fridge), open_items(w, w.cold_box)) == (1, 1)
    # ship a whole lot out: -1
    ship(w, w.bopv_lot, w.cold_box, w.cdc, 50)
    assert open_items(w, w.cold_box) == 0
    # write-off the last lot: -1
    w.ledger.writeOff(w.hepb_lot, w.fridge, 100, DAMAGED, {"from": w.nurse})
    assert open_items(w, w.fridge) == 0
    # a newly registered lot enters the maker's room: +1
    w.district.lot(w.hepb, "HB902", 10, w.maker_room)
    assert open_items(w, w.maker_room) == 4
    audit(w)


def test_views_of_unknown_keys_are_zero(world):
    assert tuple(world.ledger.stockOf(world.hepb_lot, world.fridge_b)) == (0, 0, 0)
    assert tuple(world.ledger.stockOf(99, world.fridge)) == (0, 0, 0)
    assert tuple(world.ledger.siteStock(world.clinic2, HEPB)) == (0, 0)
    assert tuple(world.ledger.siteStock(world.clinic, vtype("MMR"))) == (0, 0)
    assert shipment_tuple(world, 0) == NO_SHIPMENT
    assert shipment_tuple(world, 99) == NO_SHIPMENT


def test_views_name_their_fields(world):
    sid = shipped(world, 40)
    s = world.ledger.stockOf(world.hepb_lot, world.cdc_room)
    assert (s["available"], s["quarantined"], s["facility"]) == (960, 0, world.cdc)
    st = world.ledger.siteStock(world.cdc, HEPB)
    assert (st["available"], st["reserved"]) == (1_460, 0)
    sh = world.ledger.shipment(sid)
    assert (sh["lot"], sh["fromFacility"], sh["toFacility"], sh["vehicle"], sh["quantity"], sh["quarantined"]) == (
        world.hepb_lot,
        world.cdc,
        world.clinic,
        world.van,
        40,
        False,
    )


def test_conservation_through_a_mixed_day(world):
    w = world
    a = shipped(w, 40)
    b = shipped(w, 30, lot=w.bopv_lot)
    c = shipped(w, 25, lot=w.hepb_lot2)
    audit(w)
    w.ledger.receiveShipment(a, w.fridge, 35, DAMAGED, {"from": w.nurse})
    audit(w)
    w.ledger.refuseShipment(b, WriteOffReason.REFUSED, {"from": w.nurse})
    audit(w)
    w.ledger.writeOff(w.hepb_lot, w.fridge, 5, WriteOffReason.EXPIRED, {"from": w.nurse})
    dose(w, w.hepb_lot, w.fridge)
    audit(w)
    quarantine(w, w.fridge)
    w.ledger.disposeStock(w.fridge, w.hepb_lot, 100, EXCURSION, {"from": w.regulator})
    audit(w)
    w.ledger.quarantineShipments(w.van, [c], REF, {"from": w.oracle})
    w.ledger.refuseShipment(c, EXCURSION, {"from": w.nurse})
    audit(w)
