"""Operability: liveness, readiness with its checks, Prometheus metrics, request ids, the error shape for
unknown routes and bad input, a view that matches the chain, and a write to a dead node that leaves no
row claiming it happened."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.db.models import chainview as cv
from backend.db.models.offchain import AuditEntry
from backend.indexer.check import differences
from tests.backend.stack import Stack


def test_health_and_readiness(stack: Stack) -> None:
    assert stack.anonymous().ok("get", "/healthz") == {"status": "ok"}
    ready = stack.anonymous().get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"] == "ok" and checks["chain"]["status"] == "ok"
    assert checks["indexer"]["lag_blocks"] is not None and checks["indexer"]["halted"] is None


def test_metrics_count_requests_by_route(stack: Stack) -> None:
    stack.anonymous().get("/v1/sites")
    text = stack.anonymous().get("/metrics").text
    assert 'vaxledger_http_requests_total{method="GET",route="/v1/sites",status="200"}' in text
    assert "vaxledger_indexer_block" in text and "vaxledger_chain_writes_total" in text


def test_request_ids_are_echoed(stack: Stack) -> None:
    r = stack.client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(stack.client.get("/healthz").headers["x-request-id"]) == 16


def test_every_error_has_the_same_shape(stack: Stack) -> None:
    for r in (
        stack.anonymous().get("/v1/nowhere"),
        stack.client.post("/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}),
        stack.client.post("/v1/auth/login", json={"login": "x"}),
        stack.staff["nurse"].post("/v1/staff/doses", {"code": "x", "unexpected": 1}),
        stack.client.put("/healthz"),
    ):
        error = r.json()["error"]
        assert 400 <= r.status_code < 500 and error["reason"] and error["message"] and error["message_zh"]


def test_the_view_equals_the_chain_after_all_that_activity(stack: Stack) -> None:
    stack.stocked_lot()
    assert stack.rt.indexer.wait_for(stack.rt.ledgers.get().w3.eth.block_number, 60)
    assert differences(stack.rt) == []


def test_a_write_to_a_dead_node_changes_nothing_and_says_so(stack: Stack) -> None:
    lot = stack.lot()
    with stack.rt.db.sessions() as s:
        shipments = s.scalar(select(func.count()).select_from(cv.Shipment))
    body = {
        "lot_id": lot,
        "from_equipment_id": stack.maker_room,
        "vehicle_id": stack.van,
        "to_facility_id": stack.cdc,
        "quantity": 5,
    }
    ledger = stack.rt.ledgers.get()
    real = ledger.w3.provider.endpoint_uri
    ledger.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # nothing listens there
    senders = dict(ledger._senders)
    for sender in ledger._senders.values():
        sender.max_retries, sender.backoff_s = 0, 0.01
    try:
        r = stack.staff["maker"].post("/v1/staff/shipments", body)
    finally:
        ledger.w3.provider.endpoint_uri = real
        for sender in senders.values():
            sender.max_retries, sender.backoff_s = 5, 0.5
    assert r.status_code == 503 and r.json()["error"]["reason"] == "chain_unavailable"
    assert "nothing was recorded" in r.json()["error"]["message"]
    with stack.rt.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(cv.Shipment)) == shipments
        last = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.action == "ship" and last.status == "failed" and last.tx_hash is None
    assert stack.staff["maker"].post("/v1/staff/shipments", body).status_code == 201
