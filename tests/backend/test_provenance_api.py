"""End to end through the API: a lot registered, released, shipped and received twice, anchored cold-chain
readings, a booking and a dose; then the citizen sees the dose with its whole provenance, and anyone sees
the lot's public history and its EPCIS export (neither with personal data)."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

from backend.db.models import chainview as cv
from chain.dev import ORACLE_INDEX, dev_account
from chain.sender import TxSender
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import Stack


def anchor(stack: Stack, readings: dict[int, tuple[int, int, int]], since_ms: int, until_ms: int) -> str:
    """Anchors one window with a batch per equipment: (count, min dc, max dc) between the two times."""
    ledger = stack.rt.ledgers.get()
    cold_chain = ledger.cold_chain
    headers = [
        (os.urandom(32), equipment, since_ms, until_ms, count, lo, hi, os.urandom(32))
        for equipment, (count, lo, hi) in readings.items()
    ]
    window = os.urandom(32)
    oracle = TxSender(ledger.w3, dev_account(ORACLE_INDEX), errors=ledger.errors)
    receipt = oracle.send(cold_chain.functions.anchorWindow(window, headers))
    assert stack.rt.indexer.wait_for(receipt["blockNumber"], 60)
    return "0x" + window.hex()


def report_excursion(stack: Stack, equipment: int, started_ms: int) -> str:
    ledger = stack.rt.ledgers.get()
    ref = os.urandom(32)
    lots = sorted(int(x) for x in _lots_in(stack, equipment))
    oracle = TxSender(ledger.w3, dev_account(ORACLE_INDEX), errors=ledger.errors)
    receipt = oracle.send(ledger.cold_chain.functions.reportExcursion(ref, equipment, 1, 2, started_ms, lots, []))
    assert stack.rt.indexer.wait_for(receipt["blockNumber"], 60)
    return "0x" + ref.hex()


def _lots_in(stack: Stack, equipment: int) -> list[int]:
    with stack.rt.db.session() as s:
        return [st.lot_id for st in s.query(cv.Stock).filter(cv.Stock.equipment_id == equipment)]


def test_a_citizen_sees_the_dose_with_its_provenance(stack: Stack) -> None:
    t0 = int(time.time() * 1000) - 3_600_000
    number = f"E2E-{os.urandom(3).hex().upper()}"
    lot = stack.lot(number, doses=200)
    to_cdc = stack.ship("maker", lot, stack.maker_room, stack.cdc, 200)
    stack.receive("warehouse", to_cdc, stack.cdc_room)
    to_clinic = stack.ship("warehouse", lot, stack.cdc_room, stack.clinic, 20)
    stack.receive("nurse", to_clinic, stack.fridge2)
    window = anchor(
        stack,
        {stack.van: (12, 41, 67), stack.fridge2: (12, 38, 52), stack.cdc_room: (12, 30, 45)},
        t0,
        int(time.time() * 1000) + 3_600_000,
    )
    start = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    slot = stack.staff["nurse"].ok("post", "/v1/staff/slots", {"vaccine_type": "HepB", "start": start, "capacity": 3})
    citizen, fam = stack.citizen(children=1)
    child = fam["children"][0]
    booking = citizen.ok("post", "/v1/appointments", {"slot_id": slot["slot_id"], "person_id": child})
    given = stack.staff["nurse"].ok(
        "post", "/v1/staff/doses", {"code": gs1(GTIN_HEPB, number, "E2E-0001"), "booking_id": booking["booking_id"]}
    )
    assert given["equipment_id"] == stack.fridge2

    (dose,) = citizen.ok("get", f"/v1/me/family/{child}/doses")
    assert dose["lot"]["lot_number"] == number and dose["lot"]["manufacturer"] == "maker"
    assert dose["lot"]["certificate_hash"].startswith("0x")
    assert dose["path_complete"] is True
    steps = [(step["step"], step.get("facility"), step.get("equipment_id")) for step in dose["timeline"]]
    assert steps == [
        ("manufactured", "maker", None),
        ("batch_released", None, None),
        ("storage", "maker", stack.maker_room),
        ("transport", None, None),
        ("storage", "cdc", stack.cdc_room),
        ("transport", None, None),
        ("storage", "clinic", stack.fridge2),
        ("administered", "clinic", None),
    ]
    legs = [step for step in dose["timeline"] if step["step"] == "transport"]
    assert [leg["shipment_id"] for leg in legs] == [to_cdc, to_clinic]
    assert legs[1]["cold_chain"]["readings"] == 12
    assert (legs[1]["cold_chain"]["min_c"], legs[1]["cold_chain"]["max_c"]) == (4.1, 6.7)
    assert legs[1]["cold_chain"]["windows"] == [window]
    fridge = dose["timeline"][6]["cold_chain"]
    assert (fridge["readings"], fridge["min_c"], fridge["max_c"]) == (12, 3.8, 5.2)
    assert citizen.ok("get", "/v1/appointments")[0]["status"] == "completed"

    public = stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")
    assert public["balance"] == {"produced": 200, "held": 199, "in_transit": 0, "administered": 1, "written_off": 0}
    assert public["doses_administered"] == [{"facility_id": stack.clinic, "facility": "clinic", "doses": 1}]
    assert [s["step"] for s in public["steps"]][:4] == ["commissioned", "batch_released", "shipped", "received"]
    assert {s["equipment_id"] for s in public["storage"]} == {stack.maker_room, stack.cdc_room, stack.fridge2}
    text = json.dumps(public, ensure_ascii=False)
    with stack.rt.db.session() as s:
        from backend.db.models.offchain import Person

        pseudonym = s.get(Person, child).pseudonym
    assert pseudonym not in text and "孩子0" not in text


def test_an_excursion_shows_in_the_storage_summary(stack: Stack) -> None:
    lot = stack.stocked_lot(doses=30, to_clinic=10, clinic="nurse2", fridge="fridge_b")
    started = int(time.time() * 1000)
    ref = report_excursion(stack, stack.fridge_b, started)
    public = stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")
    stay = next(s for s in public["storage"] if s["equipment_id"] == stack.fridge_b)
    assert [x["id"] for x in stay["cold_chain"]["excursions"]] == [ref]
    assert any(step["step"] == "quarantined" for step in public["steps"])
    where = {w["facility"]: (w["available"], w["quarantined"]) for w in public["where_now"]}
    assert where == {"clinic2": (0, 10), "cdc": (20, 0)}
    cdc = stack.staff["cdc"]
    cdc.ok("post", f"/v1/cdc/equipment/{stack.fridge_b}/end-excursion")
    cdc.ok("post", "/v1/cdc/stock/release", {"lot_id": lot, "equipment_id": stack.fridge_b, "quantity": 10})


def test_the_epcis_export_follows_the_lot(stack: Stack) -> None:
    lot = stack.stocked_lot(doses=40, to_clinic=10)
    _, fam = stack.citizen()
    with stack.rt.db.session() as s:
        number = s.get(cv.Lot, lot).lot_number
    stack.staff["nurse"].ok(
        "post", "/v1/staff/doses", {"code": gs1(GTIN_HEPB, number, "EPCIS-1"), "person_id": fam["self"]}
    )
    r = stack.anonymous().get(f"/v1/lots/{lot}/epcis")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["type"] == "EPCISDocument" and doc["schemaVersion"] == "2.0"
    events = doc["epcisBody"]["eventList"]
    steps = [(e.get("bizStep"), e["action"], e["quantityList"][0].get("quantity")) for e in events]
    assert steps == [
        ("commissioning", "ADD", 40),
        (None, "OBSERVE", None),
        ("shipping", "OBSERVE", 40),
        ("receiving", "OBSERVE", 40),
        ("shipping", "OBSERVE", 10),
        ("receiving", "OBSERVE", 10),
        ("dispensing", "DELETE", 1),
    ]
    assert events[0]["quantityList"][0]["epcClass"] == f"https://id.gs1.org/01/{GTIN_HEPB}/10/{number}"
    assert events[2]["destinationList"] == [
        {"type": "owning_party", "destination": f"urn:vaxledger:facility:{stack.cdc}"}
    ]
    assert events[6]["bizLocation"] == {"id": f"urn:vaxledger:facility:{stack.clinic}"}
    assert len({e["eventID"] for e in events}) == len(events)
    assert r.json() == stack.anonymous().get(f"/v1/lots/{lot}/epcis").json() | {"creationDate": doc["creationDate"]}
    assert "person" not in r.text


def test_unknown_lots_are_404_everywhere(stack: Stack) -> None:
    for path in ("/v1/lots/999999/provenance", "/v1/lots/999999/epcis"):
        r = stack.anonymous().get(path)
        assert r.status_code == 404 and r.json()["error"]["reason"] == "unknown_lot"
    r = stack.anonymous().get("/v1/lots/0/provenance")
    assert r.status_code == 422
