"""The district CDC's officers (and the regulator): quarantine, release and disposal of stock, the
quarantine list, district stock, immunization coverage, the people to reach after a recall, and the
cold-chain board."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.schemas import AlarmAckIn, AlarmIdPath, BigIdPath, IdPath, QuarantineIn, ReleaseStockIn, WriteOffIn
from backend.db.models import chainview as cv
from backend.errors import ApiError
from backend.schedule import NoEditionError
from backend.services import alarms as alarm_service
from backend.services import coverage, recall, supply
from backend.services.writes import Actor
from backend.verification import records

router = APIRouter(prefix="/v1/cdc", tags=["cdc"], dependencies=[Depends(require("cdc", "regulator"))])
WRITE = responses(403, 404, 409, 422, 503)
LAST_DAY = date(2100, 12, 31)


@router.post("/equipment/{equipment_id}/quarantine", responses=WRITE)
def quarantine(
    equipment_id: IdPath, body: QuarantineIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep
) -> dict[str, Any]:
    """Quarantines all stock in a piece of equipment (every open shipment, for a vehicle)."""
    return supply.quarantine(rt, s, user, equipment_id, body.note)


@router.post("/equipment/{equipment_id}/end-excursion", responses=WRITE)
def end_excursion(equipment_id: IdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Lets the equipment take stock again; what is quarantined stays so until released or disposed of."""
    return supply.end_excursion(rt, s, user, equipment_id)


@router.post("/stock/release", responses=WRITE)
def release_stock(body: ReleaseStockIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Returns quarantined doses to use after review."""
    return supply.release_stock(rt, s, user, body)


@router.post("/stock/dispose", responses=WRITE)
def dispose_stock(body: WriteOffIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Disposes of quarantined doses, with the reason (a disposal record, Vaccine Administration Law art. 40)."""
    return supply.dispose_stock(rt, s, user, body)


@router.post("/shipments/{shipment_id}/release", responses=WRITE)
def release_shipment(shipment_id: BigIdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    return supply.release_shipment(rt, s, user, shipment_id)


@router.get("/quarantine")
def quarantined(s: SessionDep) -> dict[str, Any]:
    """Everything under quarantine in the district: stock per equipment and lot, and shipments."""
    stock = s.execute(
        select(cv.Stock, cv.Lot, cv.Product, cv.Equipment, cv.Facility)
        .join(cv.Lot, cv.Lot.id == cv.Stock.lot_id)
        .join(cv.Product, cv.Product.id == cv.Lot.product_id)
        .join(cv.Equipment, cv.Equipment.id == cv.Stock.equipment_id)
        .join(cv.Facility, cv.Facility.id == cv.Stock.facility_id)
        .where(cv.Stock.quarantined > 0)
        .order_by(cv.Facility.id, cv.Equipment.id)
    ).all()
    shipments = s.scalars(
        select(cv.Shipment).where(cv.Shipment.quarantined.is_(True), cv.Shipment.status == "in_transit")
    )
    return {
        "stock": [
            {
                "facility_id": f.id,
                "facility": f.name,
                "equipment_id": e.id,
                "equipment": e.label,
                "under_excursion": e.under_excursion,
                "lot_id": lot.id,
                "lot_number": lot.lot_number,
                "product": p.name,
                "quarantined": st.quarantined,
                "available": st.available,
            }
            for st, lot, p, e, f in stock
        ],
        "shipments": [
            {
                "shipment_id": sh.id,
                "lot_id": sh.lot_id,
                "vehicle_id": sh.vehicle_id,
                "quantity": sh.quantity,
                "to_facility_id": sh.to_facility_id,
            }
            for sh in shipments
        ],
    }


@router.get("/stock")
def district_stock(s: SessionDep, vaccine: Annotated[str | None, Query(max_length=8)] = None) -> list[dict[str, Any]]:
    """Doses per facility and vaccine type: available, quarantined."""
    query = (
        select(
            cv.Facility.id,
            cv.Facility.name,
            cv.Facility.kind,
            cv.Product.vaccine_type,
            func.sum(cv.Stock.available),
            func.sum(cv.Stock.quarantined),
        )
        .join(cv.Stock, cv.Stock.facility_id == cv.Facility.id)
        .join(cv.Lot, cv.Lot.id == cv.Stock.lot_id)
        .join(cv.Product, cv.Product.id == cv.Lot.product_id)
        .group_by(cv.Facility.id, cv.Facility.name, cv.Facility.kind, cv.Product.vaccine_type)
        .order_by(cv.Facility.id, cv.Product.vaccine_type)
    )
    if vaccine:
        query = query.where(cv.Product.vaccine_type == vaccine)
    return [
        {
            "facility_id": fid,
            "facility": name,
            "kind": kind,
            "vaccine_type": vt,
            "available": int(a or 0),
            "quarantined": int(q or 0),
        }
        for fid, name, kind, vt, a, q in s.execute(query).all()
    ]


@router.get("/coverage", responses=responses(422))
def district_coverage(
    rt: RuntimeDep,
    s: SessionDep,
    on: Annotated[date | None, Query(description="The day to evaluate on (default: today in China)")] = None,
) -> Response:
    """Immunization coverage of the registered children (under 18) on a day: per schedule series, per age
    and per clinic of each child's latest dose. Counts only: no person is named."""
    day = on or records.today()
    if day > LAST_DAY:
        raise ApiError(422, "invalid_date", "the day must be before 2100", "日期须在 2100 年以前")
    try:
        return Response(coverage.coverage(rt, s, day), media_type="application/json")
    except NoEditionError as exc:
        raise ApiError(422, "no_schedule_edition", str(exc), "该日期没有施行的免疫程序版本") from exc


@router.get("/recalls/{lot_id}/recipients", responses=responses(404))
def recipients(lot_id: IdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Everyone who received a dose of the lot, with how to reach them (the person, or their guardian). Each
    look is recorded in the audit log."""
    return recall.recipients(rt, s, Actor.of(user), lot_id)


@router.get("/coldchain/board", responses=responses(503))
def board(rt: RuntimeDep) -> Any:
    """Every piece of equipment with its latest reading, status and open alarms (from the oracle)."""
    return rt.oracle.board()


@router.get("/coldchain/equipment/{equipment_id}/readings", responses=responses(503))
def readings(
    equipment_id: IdPath,
    rt: RuntimeDep,
    from_ms: Annotated[int, Query(ge=0, le=2**53)],
    to_ms: Annotated[int, Query(ge=0, le=2**53)],
    max_points: Annotated[int, Query(ge=10, le=10_000)] = 1000,
) -> Any:
    """Readings for a chart: downsampled keeping each bucket's lowest and highest reading, never averaged."""
    return rt.oracle.readings(equipment_id, from_ms, to_ms, max_points)


@router.get("/alarms", responses=responses(503))
def alarms(
    rt: RuntimeDep,
    state: Annotated[str, Query(pattern="^(open|unacked|all)$")] = "open",
    equipment: Annotated[int | None, Query(ge=1, le=2**32 - 1)] = None,
) -> Any:
    return rt.oracle.alarms(state, equipment)


@router.post("/alarms/{alarm_id}/ack", responses=responses(404, 422, 503))
def ack(alarm_id: AlarmIdPath, body: AlarmAckIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> Any:
    """Acknowledges an alarm with a comment, in the officer's name; only that stops its escalation."""
    return alarm_service.acknowledge(rt, s, user, alarm_id, body.comment)
