"""Facility staff: lots (manufacturers), shipments and their receipt, moves and write-offs, stock, and at
clinics: slots, the day's appointments, walk-ins, doses and adverse events. Every call acts for the
staff member's own facility, signed with that facility's custodial wallet."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from datetime import time as dtime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import or_, select

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.schemas import (
    AefiIn,
    BigIdPath,
    DoseIn,
    LookupIn,
    LotIn,
    MoveIn,
    PersonOut,
    ReceiveIn,
    RefuseIn,
    ShipIn,
    SlotIn,
    StaffPersonIn,
    WriteOffIn,
)
from backend.db.models import chainview as cv
from backend.db.models.offchain import Person
from backend.errors import ApiError
from backend.services import booking, doses, persons, supply
from backend.services.supply import CHINA

router = APIRouter(prefix="/v1/staff", tags=["staff"])

STAFF = ("clinic", "warehouse", "cdc", "manufacturer")
Staff = Depends(require(*STAFF))
Clinic = Depends(require("clinic"))
Receivers = Depends(require("clinic", "warehouse", "cdc"))
WRITE = responses(403, 404, 409, 422, 503)


@router.post("/lots", status_code=201, dependencies=[Depends(require("manufacturer"))], responses=WRITE)
def register_lot(body: LotIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Registers a produced lot into one of the manufacturer's cold rooms."""
    return supply.register_lot(rt, s, user, body)


@router.get("/equipment", dependencies=[Staff])
def equipment(user: CurrentUser, s: SessionDep) -> list[dict[str, Any]]:
    rows = s.scalars(select(cv.Equipment).where(cv.Equipment.facility_id == user.facility_id).order_by(cv.Equipment.id))
    return [
        {"id": e.id, "kind": e.kind, "label": e.label, "active": e.active, "under_excursion": e.under_excursion}
        for e in rows
    ]


@router.get("/stock", dependencies=[Staff])
def stock(user: CurrentUser, s: SessionDep) -> list[dict[str, Any]]:
    """The facility's stock per equipment and lot: available and quarantined doses."""
    rows = s.execute(
        select(cv.Stock, cv.Lot, cv.Product, cv.Equipment)
        .join(cv.Lot, cv.Lot.id == cv.Stock.lot_id)
        .join(cv.Product, cv.Product.id == cv.Lot.product_id)
        .join(cv.Equipment, cv.Equipment.id == cv.Stock.equipment_id)
        .where(cv.Stock.facility_id == user.facility_id)
        .order_by(cv.Equipment.id, cv.Lot.id)
    ).all()
    return [
        {
            "equipment_id": e.id,
            "equipment": e.label,
            "equipment_kind": e.kind,
            "under_excursion": e.under_excursion,
            "lot_id": lot.id,
            "lot_number": lot.lot_number,
            "lot_status": lot.status,
            "expiry": supply.expiry_date(lot.expiry).isoformat(),
            "product": p.name,
            "vaccine_type": p.vaccine_type,
            "available": st.available,
            "quarantined": st.quarantined,
        }
        for st, lot, p, e in rows
    ]


@router.post("/shipments", status_code=201, dependencies=[Staff], responses=WRITE)
def ship(body: ShipIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Sends doses of a released lot from one of the facility's equipment to another facility."""
    return supply.ship(rt, s, user, body)


@router.get("/shipments", dependencies=[Staff])
def shipments(
    user: CurrentUser,
    s: SessionDep,
    direction: Annotated[str, Query(pattern="^(incoming|outgoing|all)$")] = "incoming",
    status: Annotated[str | None, Query(pattern="^(in_transit|received|refused)$")] = None,
) -> list[dict[str, Any]]:
    query = (
        select(cv.Shipment, cv.Lot, cv.Product)
        .join(cv.Lot, cv.Lot.id == cv.Shipment.lot_id)
        .join(cv.Product, cv.Product.id == cv.Lot.product_id)
    )
    mine = {
        "incoming": cv.Shipment.to_facility_id == user.facility_id,
        "outgoing": cv.Shipment.from_facility_id == user.facility_id,
        "all": or_(cv.Shipment.to_facility_id == user.facility_id, cv.Shipment.from_facility_id == user.facility_id),
    }[direction]
    query = query.where(mine)
    if status:
        query = query.where(cv.Shipment.status == status)
    return [
        {
            "id": sh.id,
            "lot_id": lot.id,
            "lot_number": lot.lot_number,
            "product": p.name,
            "vaccine_type": p.vaccine_type,
            "quantity": sh.quantity,
            "from_facility_id": sh.from_facility_id,
            "to_facility_id": sh.to_facility_id,
            "vehicle_id": sh.vehicle_id,
            "status": sh.status,
            "quarantined": sh.quarantined,
            "shipped_at": sh.shipped_at,
            "closed_at": sh.closed_at,
            "accepted": sh.accepted,
        }
        for sh, lot, p in s.execute(query.order_by(cv.Shipment.id.desc()).limit(500)).all()
    ]


@router.get("/shipments/{shipment_id}/trip-record", dependencies=[Receivers], responses=responses(403, 404, 503))
def trip_record(shipment_id: BigIdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """The trip's temperature record from the cold-chain oracle, judged against the product's range: what
    the receiver must see before signing for the delivery."""
    return supply.trip_record(rt, s, user, shipment_id)


@router.post("/shipments/{shipment_id}/receive", dependencies=[Receivers], responses=WRITE)
def receive(
    shipment_id: BigIdPath, body: ReceiveIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep
) -> dict[str, Any]:
    """Receives the shipment when its trip record is complete and in range; otherwise refuses it on chain
    (Vaccine Administration Law art. 39) and says why (`outcome`: received or refused)."""
    return supply.receive(rt, s, user, shipment_id, body)


@router.post("/shipments/{shipment_id}/refuse", dependencies=[Receivers], responses=WRITE)
def refuse(shipment_id: BigIdPath, body: RefuseIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    return supply.refuse(rt, s, user, shipment_id, body.reason)


@router.post("/stock/move", dependencies=[Staff], responses=WRITE)
def move(body: MoveIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    return supply.move(rt, s, user, body)


@router.post("/stock/write-off", dependencies=[Staff], responses=WRITE)
def write_off(body: WriteOffIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    return supply.write_off(rt, s, user, body)


@router.post("/slots", status_code=201, dependencies=[Clinic], responses=WRITE)
def publish_slot(body: SlotIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    return supply.publish_slot(rt, s, user, body)


@router.get("/appointments", dependencies=[Clinic])
def appointments(
    user: CurrentUser, rt: RuntimeDep, s: SessionDep, day: Annotated[date | None, Query()] = None
) -> list[dict[str, Any]]:
    """The clinic's bookings on a day (today by default, China time), with who is coming."""
    day = day or datetime.now(CHINA).date()
    start = int(datetime.combine(day, dtime(0), CHINA).timestamp())
    rows = s.execute(
        select(cv.Booking, cv.Slot)
        .join(cv.Slot, cv.Slot.id == cv.Booking.slot_id)
        .where(cv.Booking.site_id == user.facility_id, cv.Slot.start >= start, cv.Slot.start < start + 86_400)
        .order_by(cv.Slot.start, cv.Booking.id)
    ).all()
    people = {
        p.pseudonym: p for p in s.scalars(select(Person).where(Person.pseudonym.in_([b.person for b, _ in rows])))
    }
    out = []
    for b, slot in rows:
        person = people.get(b.person)
        view = persons.view(rt, person) if person else None
        out.append(
            {
                "booking_id": b.id,
                "status": b.status,
                "vaccine_type": b.vaccine_type,
                "start": slot.start,
                "end": slot.start + slot.duration,
                "person_id": person.id if person else None,
                "person_name": view.name if view else None,
                "birth_date": view.birth_date.isoformat() if view else None,
            }
        )
    return out


@router.post(
    "/persons", status_code=201, response_model=PersonOut, dependencies=[Clinic], responses=responses(409, 422)
)
def register_walk_in(body: StaffPersonIn, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Registers a person who came without an account."""
    person = persons.new_person(
        rt,
        s,
        name=body.name,
        birth_date=body.birth_date,
        sex=body.sex.upper(),
        id_number=body.id_number,
        phone=body.phone,
    )
    return asdict(persons.view(rt, person))


@router.post("/appointments/{booking_id}/missed", dependencies=[Clinic], responses=WRITE)
def mark_missed(booking_id: BigIdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Marks a no-show once the slot is over; the dose held for the booking is freed."""
    return booking.mark_missed(rt, s, user, booking_id)


@router.post("/persons/lookup", response_model=PersonOut, dependencies=[Clinic], responses=responses(404, 422))
def lookup(body: LookupIn, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Finds a person by ID card number (compared by a keyed index: numbers are never stored in clear)."""
    person = persons.by_id_number(rt, s, body.id_number)
    if person is None:
        raise ApiError(404, "unknown_person", "no person with this ID number", "未找到该身份证号对应的人员")
    return asdict(persons.view(rt, person))


@router.post("/doses", status_code=201, dependencies=[Clinic], responses=WRITE)
def record_dose(body: DoseIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Records a dose from a scanned unit code for a person or a booking. The ledger's interlock refuses a
    lot unreleased, expired, recalled or quarantined, stock this clinic does not hold, or a used-up code."""
    return doses.record_dose(rt, s, user, body)


@router.post("/adverse-events", status_code=201, dependencies=[Clinic], responses=WRITE)
def report_adverse_event(body: AefiIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Reports an adverse event following immunization against a recorded dose; the report is kept sealed,
    its hash goes on chain."""
    return doses.report_adverse_event(rt, s, user, body)
