"""Retrying a write with the same Idempotency-Key never writes twice: after a success, after an answer
lost to a node that stopped answering, and while the first attempt is still in progress."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from backend.db.models import chainview as cv
from backend.db.models.offchain import AuditEntry
from chain.errors import ChainUnavailable
from chain.sender import TxSender
from tests.backend.platform import gs1
from tests.backend.stack import Stack

GTIN_BOPV = "06901234000047"


@pytest.fixture(scope="module")
def bopv_lot(stack: Stack) -> tuple[int, str]:
    """A lot of ten-dose vials at the clinic: the same vial scanned twice is two doses, so only the key
    tells a retry from a second dose."""
    body = {
        "manufacturer_id": stack.maker,
        "vaccine_type": "bOPV",
        "doses_per_unit": 10,
        "name": "bOPV",
        "gtin": GTIN_BOPV,
        "min_temp_dc": -200,
    }
    stack.ids["bopv"] = stack.staff["regulator"].ok("post", "/v1/regulator/products", body)["product_id"]
    number = f"OPV{uuid.uuid4().hex[:6].upper()}"
    lot = stack.lot(number, doses=200, product="bopv")
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 200)
    stack.receive("warehouse", shipment, stack.cdc_room)
    shipment = stack.ship("warehouse", lot, stack.cdc_room, stack.clinic, 100)
    stack.receive("nurse", shipment, stack.fridge)
    return lot, number


def dose(stack: Stack, code: str, person: str, key: str | None) -> Any:
    headers = dict(stack.staff["nurse"].headers) | ({"Idempotency-Key": key} if key else {})
    return stack.client.post("/v1/staff/doses", json={"code": code, "person_id": person}, headers=headers)


def doses_of(stack: Stack, lot: int) -> int:
    with stack.rt.db.sessions() as s:
        return s.query(cv.Dose).filter(cv.Dose.lot_id == lot).count()


def test_without_a_key_a_repeated_request_is_a_second_dose(stack: Stack, bopv_lot: tuple[int, str]) -> None:
    _, number = bopv_lot
    _, fam = stack.citizen()
    code = gs1(GTIN_BOPV, number, uuid.uuid4().hex[:8])
    first, second = dose(stack, code, fam["self"], None), dose(stack, code, fam["self"], None)
    assert (first.json()["dose_number"], second.json()["dose_number"]) == (1, 2)


def test_a_retry_after_success_answers_the_first_result(stack: Stack, bopv_lot: tuple[int, str]) -> None:
    lot, number = bopv_lot
    _, fam = stack.citizen()
    code, key = gs1(GTIN_BOPV, number, uuid.uuid4().hex[:8]), uuid.uuid4().hex
    before = doses_of(stack, lot)
    first = dose(stack, code, fam["self"], key)
    again = dose(stack, code, fam["self"], key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert doses_of(stack, lot) == before + 1


def test_a_lost_answer_is_settled_from_the_chain_on_retry(
    stack: Stack, bopv_lot: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lot, number = bopv_lot
    _, fam = stack.citizen()
    code, key = gs1(GTIN_BOPV, number, uuid.uuid4().hex[:8]), uuid.uuid4().hex
    before = doses_of(stack, lot)
    real_wait = TxSender.wait

    def node_went_away(self: TxSender, pending: Any) -> Any:
        real_wait(self, pending)  # the dose is mined ...
        raise ChainUnavailable("the node stopped answering")  # ... but the answer never arrives

    monkeypatch.setattr(TxSender, "wait", node_went_away)
    lost = dose(stack, code, fam["self"], key)
    assert lost.status_code == 503 and lost.json()["error"]["reason"] == "outcome_unknown"
    monkeypatch.setattr(TxSender, "wait", real_wait)
    retry = dose(stack, code, fam["self"], key)
    assert retry.status_code == 201, retry.text
    assert retry.json()["tx_hash"] == lost.json()["error"]["tx_hash"]
    assert retry.json()["dose_number"] == 1
    assert doses_of(stack, lot) == before + 1


def test_an_attempt_still_in_progress_is_not_repeated(stack: Stack, bopv_lot: tuple[int, str]) -> None:
    _, number = bopv_lot
    _, fam = stack.citizen()
    key = uuid.uuid4().hex
    nurse_id = stack.staff["nurse"].ok("get", "/v1/me")["user_id"]
    with stack.rt.db.session() as s:  # another request took this key a moment ago and has not signed yet
        s.add(
            AuditEntry(
                at=int(time.time()),
                user_id=nurse_id,
                role="clinic",
                action="record_dose",
                status="pending",
                idempotency_key=f"{key}:1:record_dose",
            )
        )
    r = dose(stack, gs1(GTIN_BOPV, number, uuid.uuid4().hex[:8]), fam["self"], key)
    assert r.status_code == 409 and r.json()["error"]["reason"] == "in_progress"
    with stack.rt.db.session() as s:  # ... and then its process died: the key is free again after a while
        s.execute(update(AuditEntry).where(AuditEntry.idempotency_key == f"{key}:1:record_dose").values(at=0))
    r = dose(stack, gs1(GTIN_BOPV, number, uuid.uuid4().hex[:8]), fam["self"], key)
    assert r.status_code == 201
    with stack.rt.db.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.idempotency_key == f"{key}:1:record_dose")).all()
    assert [(row.status, bool(row.tx_hash)) for row in rows] == [("done", True)]


def test_a_refused_write_can_be_retried(stack: Stack, bopv_lot: tuple[int, str]) -> None:
    lot, _ = bopv_lot
    key = uuid.uuid4().hex
    body = {
        "lot_id": lot,
        "from_equipment_id": stack.fridge,
        "vehicle_id": stack.van,
        "to_facility_id": stack.clinic2,
        "quantity": 100_000,
    }
    headers = dict(stack.staff["nurse"].headers) | {"Idempotency-Key": key}
    assert stack.client.post("/v1/staff/shipments", json=body, headers=headers).status_code == 409
    body["quantity"] = 10
    assert stack.client.post("/v1/staff/shipments", json=body, headers=headers).status_code == 201


def test_a_malformed_key_is_refused(stack: Stack) -> None:
    headers = dict(stack.staff["nurse"].headers) | {"Idempotency-Key": "not ok!"}
    r = stack.client.post("/v1/staff/doses", json={"code": "x"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["reason"] == "bad_idempotency_key"
