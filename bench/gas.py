"""Gas per ledger operation, exact, on a freshly deployed local chain.

    make bench-gas        (brownie run bench/gas.py)

Each operation is measured in the state a district meets it in most often
(named in the table's note column); the costlier first-time variants are
measured as separate rows. Writes bench/results/gas.json."""

from __future__ import annotations

import json
from pathlib import Path

from brownie import accounts, chain
from eth_abi import encode
from eth_utils import keccak

from chain.encoding import to_bytes32
from chain.enums import AefiCategory, AefiSeverity, EquipmentKind, FacilityKind, WriteOffReason
from oracle import merkle
from oracle.reading import Reading, leaf
from scripts.deploy import deploy
from scripts.district import DAY, District

RESULTS = Path(__file__).parent / "results" / "gas.json"
TARGETS = {
    "record_dose": 70_000,
    "ship": 90_000,
    "receive": 90_000,
    "book": 80_000,
    "anchor_window_200x12_per_reading": 300,
}
READINGS_PER_HOUR = 12
"""A fridge's sensor reports every 5 minutes."""
DISTRICT_BATCHES = 200
"""Batches in a district's hourly window: one per piece of equipment reporting."""


def fridge_hour(equipment: int, t0: int) -> tuple:
    """ColdChainLog.BatchHeader of a fridge's hour of readings (2.0 to 8.0 degrees), with its real root."""
    batch = [
        Reading(f"sensor-{equipment}", equipment, seq, t0 + seq * 300_000, 20 + (equipment * 7 + seq * 13) % 61)
        for seq in range(READINGS_PER_HOUR)
    ]
    root = merkle.root([leaf(r) for r in batch])
    temps = [r.temp_dc for r in batch]
    batch_id = keccak(encode(["string", "uint32", "bytes32"], ["vaxledger.batch", equipment, root]))
    return (batch_id, equipment, batch[0].ts_ms, batch[-1].ts_ms, len(batch), min(temps), max(temps), root)


def calldata_floor(tx) -> int:
    """EIP-7623 (Prague on): a transaction pays at least 21,000 + 10 gas per calldata token
    (a zero byte is one token, any other byte four), whatever its execution costs."""
    data = bytes.fromhex(tx.input[2:])
    nonzero = sum(1 for b in data if b)
    return 21_000 + 10 * (len(data) - nonzero + 4 * nonzero)


def measure() -> list[tuple[str, int, str]]:
    rows: list[tuple[str, int, str]] = []

    def note(name: str, tx, what: str) -> None:
        rows.append((name, tx.gas_used, what))

    d = District(deploy(accounts[0], accounts[1], accounts[2]))
    ledger, appointments, admin, regulator = d.ledger, d.appointments, d.d.admin, d.d.regulator

    tx = ledger.registerFacility(FacilityKind.MANUFACTURER, "Demo Biologicals", to_bytes32("440604"), {"from": admin})
    note("register_facility", tx, "new facility")
    maker = tx.events["FacilityRegistered"]["facility"]
    tx = ledger.addMember(accounts[3], maker, {"from": admin})
    note("add_member", tx, "account to facility, role granted")
    d.staff[maker] = accounts[3]
    cdc = d.facility(FacilityKind.WAREHOUSE, "District CDC")
    clinic = d.facility(FacilityKind.CLINIC, "Clinic A")
    tx = ledger.registerEquipment(maker, EquipmentKind.COLD_ROOM, "M-CR1", {"from": admin})
    note("register_equipment", tx, "new equipment")
    maker_room = tx.events["EquipmentRegistered"]["equipment"]
    cdc_room = d.equipment(cdc, EquipmentKind.COLD_ROOM, "CDC-CR1")
    van = d.equipment(cdc, EquipmentKind.VEHICLE, "CDC-VAN1")
    fridge = d.equipment(clinic, EquipmentKind.FRIDGE, "A-F1")
    fridge2 = d.equipment(clinic, EquipmentKind.FRIDGE, "A-F2")

    tx = ledger.registerProduct(maker, b"HepB".ljust(8, b"\0"), 1, False, 20, 80, "HepB 10ug", {"from": regulator})
    note("register_product", tx, "new product")
    hepb = tx.events["ProductRegistered"]["product"]
    maker_staff = d.staff[maker]
    expiry = chain.time() + 365 * DAY
    tx = ledger.registerLot(hepb, to_bytes32("HB2026001"), expiry, 10_000, maker_room, {"from": maker_staff})
    note("register_lot", tx, "new lot, doses into the maker's cold room")
    lot1 = tx.events["LotRegistered"]["lot"]
    tx = ledger.releaseLot(lot1, to_bytes32("cert-1"), {"from": regulator})
    note("release_lot", tx, "batch release recorded")
    lot2 = d.lot(hepb, "HB2026002", 10_000, maker_room)

    # Stock the CDC and make the clinic a HepB site (its first delivery).
    d.deliver(lot1, maker_room, van, cdc_room, 5_000)
    d.deliver(lot2, maker_room, van, cdc_room, 5_000)
    s1 = d.ship(lot1, cdc_room, van, clinic, 200)
    tx = ledger.receiveShipment(s1, fridge, 200, 0, {"from": d.staff[clinic]})
    note("receive_first_of_type", tx, "first stock of a vaccine type at a site")

    tx = ledger.ship(lot2, cdc_room, van, clinic, 100, {"from": d.staff[cdc]})
    note("ship", tx, "warehouse to clinic, stock remains")
    s2 = tx.events["Shipped"]["shipment"]
    tx = ledger.receiveShipment(s2, fridge, 100, 0, {"from": d.staff[clinic]})
    note("receive", tx, "a new lot into a fridge of a site that stocks the type")
    s3 = d.ship(lot2, cdc_room, van, clinic, 50)
    tx = ledger.receiveShipment(s3, fridge, 50, 0, {"from": d.staff[clinic]})
    note("receive_topup", tx, "more of a lot the fridge already holds")
    s4 = d.ship(lot2, cdc_room, van, clinic, 50)
    tx = ledger.receiveShipment(s4, fridge, 40, WriteOffReason.DAMAGED, {"from": d.staff[clinic]})
    note("receive_partial", tx, "part accepted, rest written off")
    s5 = d.ship(lot2, cdc_room, van, clinic, 10)
    tx = ledger.refuseShipment(s5, WriteOffReason.REFUSED, {"from": d.staff[clinic]})
    note("refuse", tx, "whole shipment refused and written off")

    nurse = d.staff[clinic]
    tx = ledger.recordDose(to_bytes32("p1"), lot1, fridge, to_bytes32("u1"), 0, {"from": nurse})
    note("record_dose", tx, "walk-in, new unit, stock remains")

    slot = d.slot(clinic, "HepB", start_in=DAY, capacity=50)
    tx = appointments.book(slot, to_bytes32("p2"), {"from": accounts[5]})
    note("book", tx, "slot has room, site has unreserved stock")
    b1 = tx.events["Booked"]["booking"]
    tx = appointments.book(slot, to_bytes32("p3"), {"from": accounts[6]})
    b2 = tx.events["Booked"]["booking"]
    tx = appointments.cancel(b2, {"from": accounts[6]})
    note("cancel_booking", tx, "by the booker")
    tx = ledger.recordDose(to_bytes32("p2"), lot1, fridge, to_bytes32("u2"), b1, {"from": nurse})
    note("record_dose_booked", tx, "dose completing a booking")
    tx = appointments.publishSlot(b"HepB".ljust(8, b"\0"), chain.time() + DAY, 3600, 20, {"from": nurse})
    note("publish_slot", tx, "new slot")

    tx = ledger.move(lot1, fridge, fridge2, 20, {"from": nurse})
    note("move", tx, "between fridges of one clinic")
    tx = ledger.writeOff(lot1, fridge2, 5, WriteOffReason.DAMAGED, {"from": nurse})
    note("write_off", tx, "broken vials")
    tx = ledger.reportAdverseEvent(
        to_bytes32("u1"), 1, AefiCategory.REACTION_COMMON, AefiSeverity.NON_SERIOUS, to_bytes32("r1"), {"from": nurse}
    )
    note("report_adverse_event", tx, "against a recorded dose")

    tx = ledger.quarantineStock(fridge, [lot1, lot2], to_bytes32("exc-1"), {"from": d.d.oracle})
    note("quarantine", tx, "a fridge holding two lots")
    tx = ledger.endExcursion(fridge, to_bytes32("exc-1"), {"from": d.d.oracle})
    note("end_excursion", tx, "equipment takes stock again")
    tx = ledger.releaseStock(fridge, lot2, 50, {"from": d.staff[cdc]})
    note("release_stock", tx, "CDC releases part of it")
    tx = ledger.disposeStock(fridge, lot2, 10, WriteOffReason.EXCURSION, {"from": d.staff[cdc]})
    note("dispose_stock", tx, "CDC disposes of part of it")

    # Cold-chain evidence: windows of batches anchored, and an excursion reported and closed.
    cold_chain, oracle = d.d.cold_chain, d.d.oracle
    t0 = 1_763_700_000_000
    tx = cold_chain.anchorWindow(keccak(b"window-1"), [fridge_hour(fridge, t0)], {"from": oracle})
    note("anchor_window_1", tx, f"one fridge's hour: one batch of {READINGS_PER_HOUR} readings")
    window = [fridge_hour(1 + i, t0) for i in range(DISTRICT_BATCHES)]
    tx = cold_chain.anchorWindow(keccak(b"window-2"), window, {"from": oracle})
    floor = calldata_floor(tx)
    bound = f"; the EIP-7623 calldata floor ({floor:,}) sets it" if tx.gas_used == floor else ""
    note(
        "anchor_window_200", tx, f"a district's hour: {DISTRICT_BATCHES} batches of {READINGS_PER_HOUR} readings{bound}"
    )
    rows.append(("anchor_window_200_per_batch", tx.gas_used // DISTRICT_BATCHES, "anchor_window_200 / 200 batches"))
    readings = DISTRICT_BATCHES * READINGS_PER_HOUR
    rows.append(
        (
            "anchor_window_200x12_per_reading",
            tx.gas_used // readings,
            f"anchor_window_200 / {readings:,} readings (a reading every 5 min)",
        )
    )
    lots = [lot for lot in (lot1, lot2) if ledger.stockOf(lot, fridge2)[2] != 0]
    tx = cold_chain.reportExcursion(to_bytes32("exc-2"), fridge2, 1, 2, t0, lots, [], {"from": oracle})
    note("report_excursion", tx, f"a fridge holding {len(lots)} lot, quarantined through the ledger")
    tx = cold_chain.closeExcursion(to_bytes32("exc-2"), t0 + 3_600_000, 81, 112, {"from": oracle})
    note("close_excursion", tx, "its last open excursion: the ledger's excursion ends")
    tx = ledger.recallLot(lot1, to_bytes32("notice-1"), {"from": regulator})
    note("recall", tx, "by the regulator")
    return rows


def main() -> None:
    rows = measure()
    width = max(len(r[0]) for r in rows)
    print(f"\n{'operation':<{width}}  {'gas':>9}  {'target':>8}  state measured in")
    for name, gas, what in rows:
        target = f"{TARGETS[name]:,}" if name in TARGETS else ""
        print(f"{name:<{width}}  {gas:>9,}  {target:>8}  {what}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({name: gas for name, gas, _ in rows}, indent=1) + "\n")
    print(f"\nwritten to {RESULTS}")
