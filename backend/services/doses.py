"""Where a scanned vial becomes a dose on chain: the code is parsed and checked (domain/traceability.py),
its product and lot found, the equipment it came from chosen, and the person named by their pseudonym.
The chain's interlock then decides (released, not expired or recalled, not quarantined, held by this
clinic, unit not used up); its refusal comes back in words a nurse understands (ledger/reasons.py).

Adverse events are reported against a recorded dose: the report (clinical and personal details) is
sealed in the database, its hash goes on chain."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from backend.db.models import chainview as cv
from backend.db.models.offchain import AefiReport, Person, ProductMeta, User
from backend.domain.traceability import CodeError, CodeKind, UnitCode, parse, unit_hash
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services.supply import facility_account
from backend.services.writes import Actor, tx_hash
from chain.enums import AefiCategory, AefiSeverity


def parse_code(raw: str) -> UnitCode:
    try:
        return parse(raw)
    except CodeError as exc:
        raise ApiError(422, f"code_{exc.reason}", exc.message_en, exc.message_zh) from exc


# What a code names never changes once registered on a deployment (a GTIN's product, a product's batch):
# found answers are kept for the process's life, so a busy clinic's scans do not ask the database each time.
_known_products: dict[tuple[str, CodeKind, str], int] = {}
_known_lots: dict[tuple[str, int, str], int] = {}


def _product_of(s: Session, deployment: str, code: UnitCode) -> int | None:
    if code.kind is CodeKind.GS1:
        column, value = ProductMeta.gtin, code.gtin
    elif code.kind is CodeKind.CN_TRACE:
        column, value = ProductMeta.trace_prefix, code.product_code
    else:
        return None  # the old supervision code does not say its product
    assert value is not None
    known = _known_products.get((deployment, code.kind, value))
    if known is None:
        known = s.scalars(select(ProductMeta.product_id).where(column == value)).first()
        if known is not None:
            _known_products[(deployment, code.kind, value)] = known
    return known


def resolve_lot(s: Session, deployment: str, code: UnitCode, facility_id: int, lot_id: int | None) -> int:
    """The lot of the scanned unit: from the code (GS1 carries the batch), else the lot given, else the
    only lot of the product the clinic holds. `deployment`: the ledger's address, which the caches key by."""
    product_id = _product_of(s, deployment, code)
    if lot_id is not None:
        lot = s.get(cv.Lot, lot_id)
        if lot is None:
            raise ApiError(404, "unknown_lot", f"no lot {lot_id}", f"批次 {lot_id} 不存在")
        if product_id is not None and lot.product_id != product_id:
            raise ApiError(
                409,
                "code_lot_mismatch",
                "the scanned code is of another product than the lot chosen",
                "追溯码与所选批次的产品不符",
            )
        return lot_id
    if product_id is None:
        raise ApiError(
            422,
            "code_product_unknown",
            "the code does not identify a registered product: choose the lot by hand",
            "无法从追溯码识别产品，请手动选择批次",
        )
    if code.batch:
        found = (
            _known_lots.get((product_id, code.batch))
            or s.scalars(
                select(cv.Lot.id).where(cv.Lot.product_id == product_id, cv.Lot.lot_number == code.batch)
            ).first()
        )
        if found is not None:
            _known_lots[(product_id, code.batch)] = found
        if found is None:
            raise ApiError(
                404,
                "unknown_batch",
                f"batch {code.batch} of this product is not registered",
                f"该产品批号 {code.batch} 未登记",
            )
        return found
    held = sorted(
        set(
            s.scalars(
                select(cv.Stock.lot_id)
                .join(cv.Lot, cv.Lot.id == cv.Stock.lot_id)
                .where(cv.Stock.facility_id == facility_id, cv.Lot.product_id == product_id)
            )
        )
    )
    if len(held) != 1:
        raise ApiError(
            422,
            "lot_ambiguous",
            f"the clinic holds {len(held)} lots of this product: choose the lot",
            f"本门诊有该产品的 {len(held)} 个批次，请选择批次",
            detail={"lots": held},
        )
    return held[0]


def choose_equipment(s: Session, facility_id: int, lot_id: int, equipment_id: int | None) -> int:
    """The equipment the dose came from: the one given, else one of the clinic's holding available stock
    of the lot, else one holding it at all (then the chain says why it cannot be used)."""
    if equipment_id is not None:
        return equipment_id
    rows = s.execute(
        select(cv.Stock.equipment_id, cv.Stock.available)
        .where(cv.Stock.lot_id == lot_id, cv.Stock.facility_id == facility_id)
        .order_by(cv.Stock.available.desc(), cv.Stock.equipment_id)
    ).all()
    if not rows:
        raise ApiError(
            409,
            "lot_not_held",
            "the clinic holds no stock of this lot",
            "本门诊没有该批次的库存",
            detail={"lot_id": lot_id},
        )
    return int(rows[0][0])


def record_dose(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    code = parse_code(body.code)
    facility = user.facility_id
    assert facility is not None
    person, booking_id = _recipient(s, user, body)
    lot_id = resolve_lot(s, rt.ledgers.get().ledger.address, code, facility, body.lot_id)
    equipment = choose_equipment(s, facility, lot_id, body.equipment_id)
    digest = unit_hash(code)
    account = facility_account(rt, s, facility)

    def build(ledger: Any) -> Any:
        return ledger.ledger.functions.recordDose(bytes.fromhex(person[2:]), lot_id, equipment, digest, booking_id)

    ledger, receipt = rt.writer.send(
        Actor.of(user), "record_dose", f"lot {lot_id} equipment {equipment}", account, build
    )
    event = ledger.events(ledger.ledger, receipt, "DoseRecorded")[0]
    return {
        "lot_id": lot_id,
        "equipment_id": equipment,
        "unit_hash": "0x" + digest.hex(),
        "dose_number": event["doseNumber"],
        "booking_id": booking_id or None,
        "tx_hash": tx_hash(receipt),
    }


def _recipient(s: Session, user: User, body: Any) -> tuple[str, int]:
    """(pseudonym, booking id or 0)."""
    if body.booking_id is not None:
        booking = s.get(cv.Booking, body.booking_id)
        if booking is None or booking.site_id != user.facility_id:
            raise ApiError(404, "unknown_booking", f"no booking {body.booking_id} at this clinic", "本门诊没有此预约")
        return booking.person, booking.id
    if body.person_id is None:
        raise ApiError(
            422, "recipient_required", "name the person (person_id) or the booking (booking_id)", "请指定受种者或预约"
        )
    person = s.get(Person, body.person_id)
    if person is None:
        raise ApiError(404, "unknown_person", f"no person {body.person_id}", "受种者不存在")
    return person.pseudonym, 0


_CATEGORIES = {c.name.lower(): c for c in AefiCategory if c is not AefiCategory.NONE}
_SEVERITIES = {c.name.lower(): c for c in AefiSeverity if c is not AefiSeverity.NONE}


def report_adverse_event(rt: Runtime, s: Session, user: User, body: Any) -> dict[str, Any]:
    category = _CATEGORIES.get(body.category)
    severity = _SEVERITIES.get(body.severity)
    if category is None or severity is None:
        raise ApiError(
            422,
            "bad_aefi_class",
            f"category is one of {sorted(_CATEGORIES)}, severity one of {sorted(_SEVERITIES)}",
            "不良反应分类或严重程度无效",
        )
    digest = unit_hash(parse_code(body.code))
    report_id = str(uuid.uuid4())
    document = json.dumps(
        {"id": report_id, **body.report, "onset": body.onset.isoformat()}, sort_keys=True, ensure_ascii=False
    )
    report_hash = Web3.keccak(text=document)
    _, receipt = rt.writer.send(
        Actor.of(user),
        "report_aefi",
        f"unit {digest.hex()[:16]} dose {body.dose_number}",
        facility_account(rt, s, user.facility_id),
        lambda ledger: ledger.ledger.functions.reportAdverseEvent(
            digest, body.dose_number, category, severity, report_hash
        ),
    )
    sent = tx_hash(receipt)
    s.add(
        AefiReport(
            id=report_id,
            unit_hash="0x" + digest.hex(),
            dose_number=body.dose_number,
            facility_id=user.facility_id,
            category=body.category,
            severity=body.severity,
            report_hash="0x" + report_hash.hex(),
            body_enc=rt.keyring.seal_text(document, f"aefi_reports.body_enc:{report_id}"),
            reported_by=user.id,
            tx_hash=sent,
            created_at=int(time.time()),
        )
    )
    deadline_h = 2 if severity in (AefiSeverity.SERIOUS, AefiSeverity.DEATH) else 48
    return {
        "report_id": report_id,
        "report_hash": "0x" + report_hash.hex(),
        "tx_hash": sent,
        "report_to_cdc_within_h": deadline_h,
    }
