"""Staff work on the supply chain: lots, batch release and recall, shipments (with the trip's temperature
record judged on receipt), moves, write-offs, quarantine, release and disposal, slots.

Each write is signed by the custodial wallet of the staff member's facility (the regulator's and the
platform's own keys for theirs) through services/writes.py; the chain checks every rule again."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.db.models import chainview as cv
from backend.db.models.offchain import ProductMeta, User
from backend.domain.traceability import gtin_check_digit
from backend.errors import ApiError, not_found
from backend.runtime import Runtime
from backend.services.coldchain import OracleUnavailable, TripVerdict, judge_trip
from backend.services.writes import Actor, tx_hash
from chain.encoding import to_bytes8, to_bytes32
from chain.enums import WriteOffReason

CHINA = timezone(timedelta(hours=8))
"""Lots expire at the end of their expiry date in China Standard Time."""


def document_hash(text: str) -> bytes:
    """A certificate's or notice's anchor: the hash given (0x + 64 hex), or keccak256 of the text."""
    value = text.strip()
    if value.startswith("0x") and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    if not value:
        raise ApiError(422, "document_required", "the document (or its 0x hash) is required", "请提供文件内容或其哈希")
    return Web3.keccak(text=value)


def facility_account(rt: Runtime, s: Session, facility_id: int | None) -> LocalAccount:
    wallet = rt.wallets.of(s, "facility", facility_id) if facility_id is not None else None
    if wallet is None or not wallet.admitted:
        raise ApiError(
            409,
            "facility_wallet_missing",
            f"facility {facility_id} has no admitted custodial wallet: an admin provisions it",
            "本机构尚未开通链上账户，请联系管理员",
        )
    return rt.wallets.account(s, wallet.address)


def signer_for(rt: Runtime, s: Session, user: User) -> LocalAccount:
    """Whose key signs for `user`: the regulator's for the regulator, the facility's for staff."""
    if user.role == "regulator":
        return rt.ledgers.get().regulator
    return facility_account(rt, s, user.facility_id)


def reason_code(name: str) -> WriteOffReason:
    try:
        reason = WriteOffReason[name.upper()]
    except KeyError:
        reason = WriteOffReason.NONE
    if reason is WriteOffReason.NONE:
        choices = ", ".join(r.name.lower() for r in WriteOffReason if r is not WriteOffReason.NONE)
        raise ApiError(422, "bad_reason", f"reason must be one of: {choices}", f"原因必须是：{choices}")
    return reason


def _fixed(text: str, size: int, field: str) -> bytes:
    try:
        return to_bytes8(text) if size == 8 else to_bytes32(text)
    except ValueError:
        raise ApiError(
            422, f"bad_{field}", f"{field} must be 1..{size} ASCII characters", f"{field} 须为 1 至 {size} 个英文字符"
        ) from None


# --- products and lots ------------------------------------------------------------------------------------


def register_product(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    _check_pack_codes(s, body.gtin, body.trace_prefix)  # before the chain write: nothing half-done after it

    def build(ledger: Any) -> Any:
        return ledger.ledger.functions.registerProduct(
            body.manufacturer_id,
            _fixed(body.vaccine_type, 8, "vaccine_type"),
            body.doses_per_unit,
            body.self_paid,
            body.min_temp_dc,
            body.max_temp_dc,
            body.name,
        )

    ledger, receipt = rt.writer.send(Actor.of(user), "register_product", body.name, signer_for(rt, s, user), build)
    product_id = ledger.events(ledger.ledger, receipt, "ProductRegistered")[0]["product"]
    if body.gtin or body.trace_prefix:
        s.merge(ProductMeta(product_id=product_id, gtin=body.gtin, trace_prefix=body.trace_prefix))
    return {"product_id": product_id, "tx_hash": tx_hash(receipt)}


def _check_pack_codes(s: Session, gtin: str | None, trace_prefix: str | None) -> None:
    if gtin is not None and gtin_check_digit(gtin[:13]) != int(gtin[13]):
        raise ApiError(422, "bad_gtin_check_digit", f"GTIN {gtin} fails its check digit", f"GTIN {gtin} 的校验位不正确")
    for column, value, name in (
        (ProductMeta.gtin, gtin, "gtin"),
        (ProductMeta.trace_prefix, trace_prefix, "trace_prefix"),
    ):
        if value is not None and s.scalars(select(ProductMeta.product_id).where(column == value)).first() is not None:
            raise ApiError(
                409, f"{name}_taken", f"{name} {value} belongs to another product", f"{value} 已属于另一个产品"
            )


def register_lot(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    expiry = int(datetime.combine(body.expiry, dtime(23, 59, 59), CHINA).timestamp())
    if expiry <= 0:  # before 1970: no ledger time holds it (the ledger itself refuses a past expiry by name)
        raise ApiError(422, "bad_expiry", "the expiry date is not a ledger date", "有效期不是有效日期")
    number = _fixed(body.lot_number, 32, "lot_number")

    def build(ledger: Any) -> Any:
        return ledger.ledger.functions.registerLot(body.product_id, number, expiry, body.doses, body.equipment_id)

    ledger, receipt = rt.writer.send(
        Actor.of(user),
        "register_lot",
        f"product {body.product_id} lot {body.lot_number}",
        signer_for(rt, s, user),
        build,
    )
    lot_id = ledger.events(ledger.ledger, receipt, "LotRegistered")[0]["lot"]
    return {"lot_id": lot_id, "tx_hash": tx_hash(receipt)}


def release_lot(rt: Runtime, s: Session, user: User, lot_id: int, certificate: str) -> dict[str, Any]:
    digest = document_hash(certificate)
    _, receipt = rt.writer.send(
        Actor.of(user),
        "release_lot",
        f"lot {lot_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.releaseLot(lot_id, digest),
    )
    return {
        "lot_id": lot_id,
        "certificate_hash": "0x" + digest.hex(),
        "tx_hash": tx_hash(receipt),
    }


def recall_lot(rt: Runtime, s: Session, user: User, lot_id: int, notice: str) -> dict[str, Any]:
    digest = document_hash(notice)
    _, receipt = rt.writer.send(
        Actor.of(user),
        "recall_lot",
        f"lot {lot_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.recallLot(lot_id, digest),
    )
    doses = s.query(cv.Dose).filter(cv.Dose.lot_id == lot_id).count()
    return {
        "lot_id": lot_id,
        "notice_hash": "0x" + digest.hex(),
        "doses_given": doses,
        "tx_hash": tx_hash(receipt),
    }


# --- shipments ------------------------------------------------------------------------------------------


def ship(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    def build(ledger: Any) -> Any:
        return ledger.ledger.functions.ship(
            body.lot_id, body.from_equipment_id, body.vehicle_id, body.to_facility_id, body.quantity
        )

    ledger, receipt = rt.writer.send(
        Actor.of(user), "ship", f"lot {body.lot_id} to facility {body.to_facility_id}", signer_for(rt, s, user), build
    )
    shipment_id = ledger.events(ledger.ledger, receipt, "Shipped")[0]["shipment"]
    return {"shipment_id": shipment_id, "tx_hash": tx_hash(receipt)}


def incoming(s: Session, user: User, shipment_id: int) -> tuple[cv.Shipment, cv.Product]:
    shipment = s.get(cv.Shipment, shipment_id)
    if shipment is None:
        raise not_found("shipment", "发货单", shipment_id)
    if shipment.to_facility_id != user.facility_id and user.role != "regulator":
        raise ApiError(
            403, "not_your_shipment", "the shipment is addressed to another facility", "该发货单不是发往本机构的"
        )
    lot = s.get(cv.Lot, shipment.lot_id)
    product = s.get(cv.Product, lot.product_id) if lot is not None else None
    if product is None:
        raise not_found("lot", "批次", shipment.lot_id)
    return shipment, product


def trip_verdict(rt: Runtime, shipment: cv.Shipment, product: cv.Product) -> TripVerdict:
    """The judgement of the trip from dispatch to now (or to its receipt), from the oracle's record. "Now"
    is the chain's: the dispatch time is a block's, and a replay of past days runs on past block times."""
    end = shipment.closed_at or int(rt.ledgers.get().w3.eth.get_block("latest")["timestamp"])
    try:
        record = rt.oracle.record(
            shipment.vehicle_id, shipment.shipped_at * 1000, end * 1000, rt.settings.trip_max_gap_s
        )
    except OracleUnavailable:
        record = None
    return judge_trip(record, product.min_temp_dc, product.max_temp_dc)


def receive(rt: Runtime, s: Session, user: User, shipment_id: int, body: Any) -> dict[str, Any]:
    """Receives a shipment whose trip record is complete and in range; otherwise refuses it on chain, as
    the law requires, and says why."""
    shipment, product = incoming(s, user, shipment_id)
    if shipment.status != "in_transit":
        raise ApiError(409, "shipment_not_in_transit", f"shipment {shipment_id} is {shipment.status}", "该发货单已处理")
    verdict = trip_verdict(rt, shipment, product)
    account = signer_for(rt, s, user)
    if not verdict.acceptable:
        _, receipt = rt.writer.send(
            Actor.of(user),
            "refuse_shipment",
            f"shipment {shipment_id}: {','.join(verdict.reasons)}",
            account,
            lambda ledger: ledger.ledger.functions.refuseShipment(shipment_id, WriteOffReason.REFUSED),
        )
        return {
            "shipment_id": shipment_id,
            "outcome": "refused",
            "trip": _verdict_out(verdict),
            "tx_hash": tx_hash(receipt),
        }
    accepted = shipment.quantity if body.accepted is None else body.accepted
    reason = WriteOffReason.NONE if accepted == shipment.quantity else reason_code(body.reason or "")
    _, receipt = rt.writer.send(
        Actor.of(user),
        "receive_shipment",
        f"shipment {shipment_id}",
        account,
        lambda ledger: ledger.ledger.functions.receiveShipment(shipment_id, body.equipment_id, accepted, reason),
    )
    return {
        "shipment_id": shipment_id,
        "outcome": "received",
        "accepted": accepted,
        "trip": _verdict_out(verdict),
        "tx_hash": tx_hash(receipt),
    }


def refuse(rt: Runtime, s: Session, user: User, shipment_id: int, reason: str) -> dict[str, Any]:
    incoming(s, user, shipment_id)
    code = reason_code(reason)
    _, receipt = rt.writer.send(
        Actor.of(user),
        "refuse_shipment",
        f"shipment {shipment_id}: {code.name.lower()}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.refuseShipment(shipment_id, code),
    )
    return {"shipment_id": shipment_id, "outcome": "refused", "tx_hash": tx_hash(receipt)}


def _verdict_out(verdict: TripVerdict) -> dict[str, Any]:
    return {
        "acceptable": verdict.acceptable,
        "reasons": verdict.reasons,
        "message": verdict.message_en,
        "message_zh": verdict.message_zh,
        "record": verdict.record,
    }


def trip_record(rt: Runtime, s: Session, user: User, shipment_id: int) -> dict[str, Any]:
    shipment, product = incoming(s, user, shipment_id)
    return _verdict_out(trip_verdict(rt, shipment, product))


# --- stock -------------------------------------------------------------------------------------------------


def move(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    _, receipt = rt.writer.send(
        Actor.of(user),
        "move",
        f"lot {body.lot_id} {body.from_equipment_id}->{body.to_equipment_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.move(
            body.lot_id, body.from_equipment_id, body.to_equipment_id, body.quantity
        ),
    )
    return {"tx_hash": tx_hash(receipt)}


def write_off(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    code = reason_code(body.reason)
    _, receipt = rt.writer.send(
        Actor.of(user),
        "write_off",
        f"lot {body.lot_id} equipment {body.equipment_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.writeOff(body.lot_id, body.equipment_id, body.quantity, code),
    )
    return {"tx_hash": tx_hash(receipt)}


def quarantine(rt: Runtime, s: Session, user: User, equipment_id: int, note: str) -> dict[str, Any]:
    """Quarantines everything in a piece of equipment (or every open shipment in a vehicle) by hand, as the
    oracle does on an excursion. The chain wants the exact list; it is read from the indexed view and the
    chain's count confirms it (a delivery landing meanwhile makes the chain refuse, and the caller retries)."""
    equipment = s.get(cv.Equipment, equipment_id)
    if equipment is None:
        raise not_found("equipment", "设备", equipment_id)
    ref = Web3.keccak(text=f"manual:{user.id}:{equipment_id}:{os.urandom(8).hex()}:{note}")
    if equipment.kind == "vehicle":
        ids = sorted(
            s.scalars(
                select(cv.Shipment.id).where(cv.Shipment.vehicle_id == equipment_id, cv.Shipment.status == "in_transit")
            )
        )
        build = lambda ledger: ledger.ledger.functions.quarantineShipments(equipment_id, ids, ref)  # noqa: E731
    else:
        ids = sorted(s.scalars(select(cv.Stock.lot_id).where(cv.Stock.equipment_id == equipment_id)))
        build = lambda ledger: ledger.ledger.functions.quarantineStock(equipment_id, ids, ref)  # noqa: E731
    _, receipt = rt.writer.send(
        Actor.of(user), "quarantine", f"equipment {equipment_id}", signer_for(rt, s, user), build
    )
    return {
        "equipment_id": equipment_id,
        "items": ids,
        "excursion_ref": "0x" + ref.hex(),
        "tx_hash": tx_hash(receipt),
    }


def release_stock(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    _, receipt = rt.writer.send(
        Actor.of(user),
        "release_stock",
        f"lot {body.lot_id} equipment {body.equipment_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.releaseStock(body.equipment_id, body.lot_id, body.quantity),
    )
    return {"tx_hash": tx_hash(receipt)}


def dispose_stock(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    code = reason_code(body.reason)
    _, receipt = rt.writer.send(
        Actor.of(user),
        "dispose_stock",
        f"lot {body.lot_id} equipment {body.equipment_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.disposeStock(body.equipment_id, body.lot_id, body.quantity, code),
    )
    return {"tx_hash": tx_hash(receipt)}


def release_shipment(rt: Runtime, s: Session, user: User, shipment_id: int) -> dict[str, Any]:
    _, receipt = rt.writer.send(
        Actor.of(user),
        "release_shipment",
        f"shipment {shipment_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.releaseShipment(shipment_id),
    )
    return {"tx_hash": tx_hash(receipt)}


def end_excursion(rt: Runtime, s: Session, user: User, equipment_id: int) -> dict[str, Any]:
    ref = Web3.keccak(text=f"manual-end:{user.id}:{equipment_id}:{os.urandom(8).hex()}")
    _, receipt = rt.writer.send(
        Actor.of(user),
        "end_excursion",
        f"equipment {equipment_id}",
        signer_for(rt, s, user),
        lambda ledger: ledger.ledger.functions.endExcursion(equipment_id, ref),
    )
    return {"tx_hash": tx_hash(receipt)}


# --- slots --------------------------------------------------------------------------------------------------


def publish_slot(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    start = int(body.start.timestamp())
    if start <= 0:  # before 1970: no ledger time holds it (the ledger itself refuses a past start)
        raise ApiError(422, "bad_slot_start", "the slot's start is not a ledger time", "预约时段开始时间无效")
    vaccine = _fixed(body.vaccine_type, 8, "vaccine_type")

    def build(ledger: Any) -> Any:
        return ledger.appointments.functions.publishSlot(vaccine, start, body.duration_min * 60, body.capacity)

    ledger, receipt = rt.writer.send(
        Actor.of(user),
        "publish_slot",
        f"{body.vaccine_type} at {start}",
        facility_account(rt, s, user.facility_id),
        build,
    )
    slot_id = ledger.events(ledger.appointments, receipt, "SlotPublished")[0]["slot"]
    return {"slot_id": slot_id, "tx_hash": tx_hash(receipt)}


def expiry_date(ts: int) -> date:
    return datetime.fromtimestamp(ts, CHINA).date()
