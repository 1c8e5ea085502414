"""Staff work on the supply chain through the API: lots, batch release, shipments and their receipt
judged by the trip's temperature record, moves, write-offs, quarantine, release and disposal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db.models import chainview as cv
from tests.backend.stack import Stack


def stock(stack: Stack, who: str, lot: int) -> dict[int, tuple[int, int]]:
    rows = stack.staff[who].ok("get", "/v1/staff/stock")
    return {r["equipment_id"]: (r["available"], r["quarantined"]) for r in rows if r["lot_id"] == lot}


def chain_stock(stack: Stack, lot: int, equipment: int) -> tuple[int, int]:
    available, quarantined, _ = stack.rt.ledgers.get().ledger.functions.stockOf(lot, equipment).call()
    return available, quarantined


def test_a_lot_goes_from_maker_to_clinic_and_the_view_matches_the_chain(stack: Stack) -> None:
    lot = stack.stocked_lot(doses=100, to_clinic=30)
    assert stock(stack, "nurse", lot) == {stack.fridge: (30, 0)}
    assert stock(stack, "warehouse", lot) == {stack.cdc_room: (70, 0)}
    for equipment, counts in ((stack.fridge, (30, 0)), (stack.cdc_room, (70, 0)), (stack.maker_room, (0, 0))):
        assert chain_stock(stack, lot, equipment) == counts


def test_an_unreleased_lot_cannot_ship(stack: Stack) -> None:
    lot = stack.lot(release=False)
    body = {
        "lot_id": lot,
        "from_equipment_id": stack.maker_room,
        "vehicle_id": stack.van,
        "to_facility_id": stack.cdc,
        "quantity": 10,
    }
    r = stack.staff["maker"].post("/v1/staff/shipments", body)
    assert r.status_code == 409
    assert r.json()["error"]["reason"] == "lot_not_released"
    assert "签发" in r.json()["error"]["message_zh"]


def test_a_lot_number_is_registered_once_per_product(stack: Stack) -> None:
    stack.lot("DUP-1")
    body = {
        "product_id": stack.hepb,
        "lot_number": "DUP-1",
        "expiry": "2030-01-01",
        "doses": 10,
        "equipment_id": stack.maker_room,
    }
    r = stack.staff["maker"].post("/v1/staff/lots", body)
    assert r.status_code == 409 and r.json()["error"]["reason"] == "duplicate_lot"


def test_the_trip_record_is_shown_before_receipt(stack: Stack) -> None:
    lot = stack.lot()
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 50)
    record = stack.staff["warehouse"].ok("get", f"/v1/staff/shipments/{shipment}/trip-record")
    assert record["acceptable"] is True
    assert record["record"]["count"] == 6
    assert any(f"/v1/equipment/{stack.van}/record" in path for path in stack.oracle.requests)


def _refused_on_receipt(stack: Stack, record: dict[str, Any] | None, reasons: list[str]) -> None:
    lot = stack.lot()
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 40)
    if record is None:
        stack.oracle.down = True
    else:
        stack.oracle.records[stack.van] = record
    try:
        result = stack.staff["warehouse"].ok(
            "post", f"/v1/staff/shipments/{shipment}/receive", {"equipment_id": stack.cdc_room}
        )
    finally:
        stack.oracle.down = False
        stack.oracle.records.pop(stack.van, None)
    assert result["outcome"] == "refused"
    assert result["trip"]["reasons"] == reasons
    assert "拒收" in result["trip"]["message_zh"]
    assert stack.rt.ledgers.get().ledger.functions.shipment(shipment).call()[0] == 0  # closed on chain
    assert chain_stock(stack, lot, stack.cdc_room) == (0, 0)
    with stack.rt.db.session() as s:
        row = s.get(cv.Shipment, shipment)
        assert row is not None and row.status == "refused" and row.refuse_reason == "refused"


def test_a_delivery_that_got_warm_is_refused(stack: Stack) -> None:
    _refused_on_receipt(stack, {"max_c": 9.4}, ["too_warm"])


def test_a_delivery_that_froze_is_refused(stack: Stack) -> None:
    _refused_on_receipt(stack, {"min_c": -1.0}, ["too_cold"])


def test_a_delivery_with_a_gap_in_its_record_is_refused(stack: Stack) -> None:
    _refused_on_receipt(stack, {"complete": False, "gaps": [{"from_ms": 1, "to_ms": 2}]}, ["record_gaps"])


def test_a_delivery_without_any_record_is_refused(stack: Stack) -> None:
    _refused_on_receipt(stack, {"count": 0, "complete": False, "min_c": None, "max_c": None}, ["record_missing"])


def test_a_delivery_is_refused_when_the_record_cannot_be_had(stack: Stack) -> None:
    _refused_on_receipt(stack, None, ["record_unavailable"])


def test_partial_receipt_needs_a_reason_and_writes_off_the_rest(stack: Stack) -> None:
    lot = stack.lot()
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 40)
    path = f"/v1/staff/shipments/{shipment}/receive"
    r = stack.staff["warehouse"].post(path, {"equipment_id": stack.cdc_room, "accepted": 30})
    assert r.status_code == 422 and r.json()["error"]["reason"] == "bad_reason"
    result = stack.staff["warehouse"].ok(
        "post", path, {"equipment_id": stack.cdc_room, "accepted": 30, "reason": "damaged"}
    )
    assert result["outcome"] == "received" and result["accepted"] == 30
    provenance = stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")
    assert provenance["balance"] == {"produced": 100, "held": 90, "in_transit": 0, "administered": 0, "written_off": 10}


def test_only_the_addressee_may_receive(stack: Stack) -> None:
    lot = stack.lot()
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 10)
    r = stack.staff["nurse"].post(f"/v1/staff/shipments/{shipment}/receive", {"equipment_id": stack.fridge})
    assert r.status_code == 403 and r.json()["error"]["reason"] == "not_your_shipment"


def test_incoming_shipments_are_listed_for_the_receiver(stack: Stack) -> None:
    lot = stack.lot()
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 10)
    incoming = stack.staff["warehouse"].ok("get", "/v1/staff/shipments?status=in_transit")
    assert shipment in [s["id"] for s in incoming]
    outgoing = stack.staff["maker"].ok("get", "/v1/staff/shipments?direction=outgoing")
    assert shipment in [s["id"] for s in outgoing]
    assert shipment not in [s["id"] for s in stack.staff["nurse"].ok("get", "/v1/staff/shipments?direction=all")]


def test_move_and_write_off_keep_the_view_exact(stack: Stack) -> None:
    lot = stack.stocked_lot(doses=60, to_clinic=20)
    nurse = stack.staff["nurse"]
    nurse.ok(
        "post",
        "/v1/staff/stock/move",
        {"lot_id": lot, "from_equipment_id": stack.fridge, "to_equipment_id": stack.fridge2, "quantity": 5},
    )
    nurse.ok(
        "post",
        "/v1/staff/stock/write-off",
        {"lot_id": lot, "equipment_id": stack.fridge2, "quantity": 2, "reason": "damaged"},
    )
    assert stock(stack, "nurse", lot) == {stack.fridge: (15, 0), stack.fridge2: (3, 0)}
    assert chain_stock(stack, lot, stack.fridge2) == (3, 0)
    r = nurse.post(
        "/v1/staff/stock/write-off", {"lot_id": lot, "equipment_id": stack.fridge2, "quantity": 2, "reason": "bogus"}
    )
    assert r.status_code == 422 and r.json()["error"]["reason"] == "bad_reason"


def test_quarantine_release_and_dispose(stack: Stack) -> None:
    lot = stack.stocked_lot(doses=50, to_clinic=10, clinic="nurse2", fridge="fridge_b")
    cdc = stack.staff["cdc"]
    result = cdc.ok("post", f"/v1/cdc/equipment/{stack.fridge_b}/quarantine", {"note": "door left open"})
    assert lot in result["items"]
    assert stock(stack, "nurse2", lot) == {stack.fridge_b: (0, 10)}
    listed = cdc.ok("get", "/v1/cdc/quarantine")["stock"]
    assert any(r["lot_id"] == lot and r["equipment_id"] == stack.fridge_b and r["quarantined"] == 10 for r in listed)
    r = cdc.post("/v1/cdc/stock/release", {"lot_id": lot, "equipment_id": stack.fridge_b, "quantity": 4})
    assert r.status_code == 409 and r.json()["error"]["reason"] == "equipment_under_excursion"
    cdc.ok("post", f"/v1/cdc/equipment/{stack.fridge_b}/end-excursion")
    cdc.ok("post", "/v1/cdc/stock/release", {"lot_id": lot, "equipment_id": stack.fridge_b, "quantity": 4})
    cdc.ok(
        "post",
        "/v1/cdc/stock/dispose",
        {"lot_id": lot, "equipment_id": stack.fridge_b, "quantity": 6, "reason": "excursion"},
    )
    assert stock(stack, "nurse2", lot) == {stack.fridge_b: (4, 0)}
    assert chain_stock(stack, lot, stack.fridge_b) == (4, 0)
    balance = stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")["balance"]
    assert balance["written_off"] == 6 and balance["held"] == 44


def test_every_staff_write_is_attributed_in_the_audit_log(stack: Stack) -> None:
    stack.lot("AUDIT-1")
    audit = stack.staff["admin"].ok("get", "/v1/admin/audit?action=register_lot&limit=1000")
    (entry,) = [a for a in audit if a["target"].endswith("lot AUDIT-1")]
    assert entry["role"] == "manufacturer" and entry["facility_id"] == stack.maker
    assert entry["status"] == "done" and entry["tx_hash"] and entry["block"]
    receipt = stack.rt.ledgers.get().w3.eth.get_transaction_receipt(entry["tx_hash"])
    assert receipt["blockNumber"] == entry["block"] and receipt["status"] == 1


def test_a_refused_write_is_logged_as_refused_and_changes_nothing(stack: Stack) -> None:
    lot = stack.lot(release=False)
    before = stack.staff["admin"].ok("get", "/v1/admin/audit?action=ship&limit=1000")
    body = {
        "lot_id": lot,
        "from_equipment_id": stack.maker_room,
        "vehicle_id": stack.van,
        "to_facility_id": stack.cdc,
        "quantity": 10,
    }
    assert stack.staff["maker"].post("/v1/staff/shipments", body).status_code == 409
    after = stack.staff["admin"].ok("get", "/v1/admin/audit?action=ship&limit=1000")
    assert len(after) == len(before) + 1
    assert after[0]["status"] == "refused" and after[0]["tx_hash"] is None
    with stack.rt.db.session() as s:
        assert s.scalars(select(cv.Shipment).where(cv.Shipment.lot_id == lot)).first() is None
