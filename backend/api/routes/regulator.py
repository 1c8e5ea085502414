"""The regulator (NMPA's provincial office, in the model): products, batch release, recall (also by the
lot's manufacturer), and the audit trail of any lot."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import select

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.schemas import DocumentIn, IdPath, ProductIn
from backend.db.models import chainview as cv
from backend.db.models.offchain import AuditEntry
from backend.services import queries, supply

router = APIRouter(prefix="/v1/regulator", tags=["regulator"])
Regulator = Depends(require("regulator"))
WRITE = responses(403, 404, 409, 422, 503)


@router.post("/products", status_code=201, dependencies=[Regulator], responses=WRITE)
def register_product(body: ProductIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Registers a licensed product, with the GTIN and/or traceability-code prefix its packs carry."""
    return supply.register_product(rt, s, user, body)


@router.post("/lots/{lot_id}/release", dependencies=[Regulator], responses=WRITE)
def release(lot_id: IdPath, body: DocumentIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Records the batch release; the certificate's hash is anchored on chain."""
    return supply.release_lot(rt, s, user, lot_id, body.document)


@router.post("/lots/{lot_id}/recall", dependencies=[Depends(require("regulator", "manufacturer"))], responses=WRITE)
def recall(lot_id: IdPath, body: DocumentIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Recalls the lot at once: no further shipment or dose; every citizen account whose family received a
    dose of it is notified."""
    return supply.recall_lot(rt, s, user, lot_id, body.document)


@router.get("/lots/{lot_id}/audit", dependencies=[Regulator], responses=responses(404))
def audit(lot_id: IdPath, s: SessionDep) -> dict[str, Any]:
    """The lot's whole history: every chain event with its transaction, and the provenance summary."""
    events = s.scalars(
        select(cv.ChainEvent)
        .where(cv.ChainEvent.lot_id == lot_id)
        .order_by(cv.ChainEvent.block, cv.ChainEvent.log_index)
    )
    staff = s.scalars(select(AuditEntry).where(AuditEntry.target.like(f"lot {lot_id}%")).order_by(AuditEntry.id))
    return {
        **queries.lot_provenance(s, lot_id),
        "events": [
            {
                "block": e.block,
                "log_index": e.log_index,
                "tx_hash": e.tx_hash,
                "event": e.name,
                "at": e.at,
                "args": _public_args(json.loads(e.args)),
            }
            for e in events
        ],
        "staff_actions": [
            {
                "at": a.at,
                "user_id": a.user_id,
                "role": a.role,
                "facility_id": a.facility_id,
                "action": a.action,
                "status": a.status,
                "tx_hash": a.tx_hash,
            }
            for a in staff
        ],
    }


def _public_args(args: dict[str, Any]) -> dict[str, Any]:
    """An event's arguments without the person's pseudonym (the regulator audits lots, not people)."""
    return {k: v for k, v in args.items() if k != "person"}
