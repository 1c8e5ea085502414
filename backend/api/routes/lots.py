"""Public reads of the supply chain: products, lots, a lot's provenance (no personal data) and its
custody history as GS1 EPCIS 2.0 events."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from backend.api.deps import RuntimeDep, SessionDep
from backend.api.errors import responses
from backend.api.schemas import IdPath
from backend.db.models import chainview as cv
from backend.db.models.offchain import ProductMeta
from backend.domain import epcis
from backend.indexer.follower import COLD_CHAIN_EVENTS
from backend.services import queries

router = APIRouter(prefix="/v1", tags=["public"])


@router.get("/products")
def products(s: SessionDep) -> list[dict[str, Any]]:
    meta = {m.product_id: m for m in s.scalars(select(ProductMeta))}
    return [
        {
            "id": p.id,
            "name": p.name,
            "vaccine_type": p.vaccine_type,
            "manufacturer_id": p.manufacturer_id,
            "doses_per_unit": p.doses_per_unit,
            "self_paid": p.self_paid,
            "storage_range_c": [p.min_temp_dc / 10, p.max_temp_dc / 10],
            "gtin": meta[p.id].gtin if p.id in meta else None,
        }
        for p in s.scalars(select(cv.Product).order_by(cv.Product.id))
    ]


@router.get("/lots")
def lots(
    s: SessionDep,
    number: Annotated[str | None, Query(max_length=32, description="Lot (batch) number as printed")] = None,
    vaccine: Annotated[str | None, Query(max_length=8)] = None,
    status: Annotated[str | None, Query(pattern="^(registered|released|recalled)$")] = None,
) -> list[dict[str, Any]]:
    query = select(cv.Lot, cv.Product).join(cv.Product, cv.Product.id == cv.Lot.product_id).order_by(cv.Lot.id)
    if number:
        query = query.where(cv.Lot.lot_number == number)
    if vaccine:
        query = query.where(cv.Product.vaccine_type == vaccine)
    if status:
        query = query.where(cv.Lot.status == status)
    return [
        {
            "id": lot.id,
            "lot_number": lot.lot_number,
            "product_id": p.id,
            "product": p.name,
            "vaccine_type": p.vaccine_type,
            "status": lot.status,
            "doses": lot.doses,
            "expiry": queries.expiry_date(lot.expiry).isoformat(),
        }
        for lot, p in s.execute(query.limit(1000)).all()
    ]


@router.get("/lots/{lot_id}/provenance", responses=responses(404))
def provenance(lot_id: IdPath, rt: RuntimeDep) -> Response:
    """The lot's facts, every custody step with its place, each transport leg's and storage stay's cold-chain
    summary, where its doses are now, and how many were given where (the balance always adds up)."""
    with rt.db.sessions() as s:
        changed = s.scalar(select(func.max(cv.ChainEvent.block)).where(cv.ChainEvent.lot_id == lot_id))
        cold_chain = s.scalar(select(func.max(cv.ChainEvent.block)).where(cv.ChainEvent.name.in_(COLD_CHAIN_EVENTS)))
    key = ("provenance", lot_id, changed, cold_chain)

    def build() -> dict[str, Any]:
        with rt.db.sessions() as s:
            return queries.lot_provenance(s, lot_id)

    return Response(rt.answers.get(key, build), media_type="application/json")


@router.get("/lots/{lot_id}/epcis", responses=responses(404))
def epcis_events(lot_id: IdPath, rt: RuntimeDep, s: SessionDep) -> Response:
    """The lot's custody history as an EPCIS 2.0 JSON-LD document."""
    lot, _, facts = queries.lot_facts(s, lot_id)
    meta = s.get(ProductMeta, lot.product_id)
    equipment = {e.id: e.facility_id for e in s.scalars(select(cv.Equipment))}
    shipments = {
        sh.id: {"quantity": sh.quantity, "to_facility_id": sh.to_facility_id, "vehicle_id": sh.vehicle_id}
        for sh in s.scalars(select(cv.Shipment).where(cv.Shipment.lot_id == lot_id))
    }
    rows = s.scalars(
        select(cv.ChainEvent)
        .where(cv.ChainEvent.lot_id == lot_id)
        .order_by(cv.ChainEvent.block, cv.ChainEvent.log_index)
    )
    records = [epcis.ChainRecord(r.name, json.loads(r.args), r.at, r.block, r.log_index, r.tx_hash) for r in rows]
    cursor = s.get(cv.ChainCursor, 1)
    chain_id = cursor.chain_id if cursor else 0
    doc = epcis.document(
        chain_id,
        epcis.lot_class(chain_id, lot_id, meta.gtin if meta else None, facts["lot_number"]),
        records,
        equipment.get,
        shipments.get,
    )
    return Response(json.dumps(doc, ensure_ascii=False), media_type="application/ld+json")
