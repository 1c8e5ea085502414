"""chain/enums.py mirrors the contracts' enums: each value does on chain what its name says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from brownie import accounts, chain
from brownie.exceptions import VirtualMachineError

from chain import enums
from chain.enums import BookingStatus, EquipmentKind, FacilityKind, LotStatus, WriteOffReason
from tests.contracts.conftest import person, reverts, text32, unit

BUILD = Path(__file__).resolve().parents[2] / "build" / "contracts"
MIRRORS = {
    "FacilityRegistry": ("FacilityKind", "EquipmentKind"),
    "LotRegistry": ("LotStatus",),
    "Custody": ("WriteOffReason",),
    "DoseLedger": ("AefiCategory", "AefiSeverity"),
    "Appointments": ("BookingStatus",),
}


def enum_members(contract: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("nodeType") == "EnumDefinition":
                found[node["name"]] = [m["name"] for m in node["members"]]
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(json.loads((BUILD / f"{contract}.json").read_text())["ast"])
    return found


def reverts_without_reason():
    """Solidity's ABI decoder rejects an out-of-range enum with empty revert data."""
    return pytest.raises(VirtualMachineError, match=r"^revert$")


def test_names_and_order_match_the_solidity_source():
    for contract, names in MIRRORS.items():
        declared = enum_members(contract)
        for name in names:
            expected = [re.sub(r"(?<!^)(?=[A-Z])", "_", member).upper() for member in declared[name]]
            mirror = getattr(enums, name)
            assert [m.name for m in mirror] == expected, name
            assert [m.value for m in mirror] == list(range(len(expected))), name


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (FacilityKind.MANUFACTURER, "MANUFACTURER_ROLE"),
        (FacilityKind.WAREHOUSE, "DISTRIBUTOR_ROLE"),
        (FacilityKind.CLINIC, "CLINIC_ROLE"),
    ],
)
def test_facility_kind_sets_kind_and_custodian_role(world, kind, role):
    ledger = world.ledger
    facility_id = ledger.registerFacility(kind, "F", text32("1"), {"from": world.admin}).return_value
    ledger.addMember(accounts[5], facility_id, {"from": world.admin})
    assert ledger.facility(facility_id)["kind"] == kind
    assert ledger.custodianFacility(accounts[5])["kind"] == kind
    assert ledger.hasRole(getattr(ledger, role)(), accounts[5])


def test_facility_kind_none_and_out_of_range_are_rejected(world):
    with reverts("InvalidFacilityKind"):
        world.ledger.registerFacility(FacilityKind.NONE, "F", text32("1"), {"from": world.admin})
    with reverts_without_reason():
        world.ledger.registerFacility(len(FacilityKind), "F", text32("1"), {"from": world.admin})


def test_equipment_kind_none_and_out_of_range_are_rejected(world):
    with reverts("InvalidEquipmentKind"):
        world.ledger.registerEquipment(world.cdc, EquipmentKind.NONE, "E", {"from": world.admin})
    with reverts_without_reason():
        world.ledger.registerEquipment(world.cdc, len(EquipmentKind), "E", {"from": world.admin})


def test_only_vehicle_kind_carries_a_shipment(world):
    ledger, d = world.ledger, world.district
    for kind in EquipmentKind:
        if kind in (EquipmentKind.NONE, EquipmentKind.VEHICLE):
            continue
        box = d.equipment(world.cdc, kind, kind.name)
        assert ledger.equipment(box)["kind"] == kind
        with reverts("NotAVehicle", box):
            ledger.ship(world.hepb_lot, world.cdc_room, box, world.clinic, 1, {"from": world.cdc_staff})
    truck = d.equipment(world.cdc, EquipmentKind.VEHICLE, "TRUCK")
    shipment = d.ship(world.hepb_lot, world.cdc_room, truck, world.clinic, 1)
    assert ledger.shipment(shipment)["vehicle"] == truck


def test_lot_status_through_register_release_recall(world):
    ledger = world.ledger
    lot_id = world.district.lot(world.hepb, "HB777", 10, world.maker_room, release=False)
    assert ledger.lot(lot_id)["status"] == LotStatus.REGISTERED
    ledger.releaseLot(lot_id, text32("cert"), {"from": world.regulator})
    assert ledger.lot(lot_id)["status"] == LotStatus.RELEASED
    ledger.recallLot(lot_id, text32("notice"), {"from": world.regulator})
    assert ledger.lot(lot_id)["status"] == LotStatus.RECALLED
    assert ledger.lot(lot_id + 1)["status"] == LotStatus.NONE


def test_write_off_reason_range(world):
    ledger = world.ledger
    with reverts("ReasonRequired"):
        ledger.writeOff(world.hepb_lot, world.fridge, 1, WriteOffReason.NONE, {"from": world.nurse})
    for reason in list(WriteOffReason)[1:]:
        tx = ledger.writeOff(world.hepb_lot, world.fridge, 1, reason, {"from": world.nurse})
        assert tx.events["WrittenOff"]["reason"] == reason
    with reverts_without_reason():
        ledger.writeOff(world.hepb_lot, world.fridge, 1, len(WriteOffReason), {"from": world.nurse})


def test_aefi_category_and_severity_range(world):
    ledger = world.ledger
    code = unit("AEFI-1")
    ledger.recordDose(person(), world.hepb_lot, world.fridge, code, 0, {"from": world.nurse})
    for category in list(enums.AefiCategory)[1:]:
        for severity in list(enums.AefiSeverity)[1:]:
            tx = ledger.reportAdverseEvent(code, 1, category, severity, text32("r"), {"from": world.nurse})
            event = tx.events["AdverseEventReported"]
            assert (event["category"], event["severity"]) == (category, severity)
    for category, severity in [(0, 1), (1, 0)]:
        with reverts("InvalidAefi"):
            ledger.reportAdverseEvent(code, 1, category, severity, text32("r"), {"from": world.nurse})
    for category, severity in [(len(enums.AefiCategory), 1), (1, len(enums.AefiSeverity))]:
        with reverts_without_reason():
            ledger.reportAdverseEvent(code, 1, category, severity, text32("r"), {"from": world.nurse})


def test_booking_status_through_book_complete_cancel_miss(world):
    appointments = world.appointments
    slot = world.district.slot(world.clinic, "HepB", start_in=60, duration=60)
    done, cancelled, missed = (appointments.book(slot, person(), {"from": accounts[6]}).return_value for _ in range(3))
    assert appointments.booking(done)["status"] == BookingStatus.BOOKED
    assert appointments.booking(missed + 1)["status"] == BookingStatus.NONE
    world.ledger.recordDose(person(), world.hepb_lot, world.fridge, unit("BK-1"), done, {"from": world.nurse})
    appointments.cancel(cancelled, {"from": accounts[6]})
    chain.sleep(300)
    chain.mine()
    appointments.markMissed(missed, {"from": world.nurse})
    assert appointments.booking(done)["status"] == BookingStatus.COMPLETED
    assert appointments.booking(cancelled)["status"] == BookingStatus.CANCELLED
    assert appointments.booking(missed)["status"] == BookingStatus.MISSED
