"""Booking, rescheduling and cancelling appointments, by citizens for themselves and their children."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.schemas import BigIdPath, BookIn, RescheduleIn
from backend.services import booking
from backend.services.accounts import CITIZEN

router = APIRouter(prefix="/v1/appointments", tags=["citizens"], dependencies=[Depends(require(CITIZEN))])


@router.post("", status_code=201, responses=responses(404, 409, 503))
def book(body: BookIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Books a place in a slot for a family member; one dose of the site's stock is held for it."""
    return booking.book(rt, s, user, body.slot_id, body.person_id)


@router.get("")
def mine(user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> list[dict[str, Any]]:
    return booking.mine(rt, s, user)


@router.delete("/{booking_id}", responses=responses(404, 409, 503))
def cancel(booking_id: BigIdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    return booking.cancel(rt, s, user, booking_id)


@router.post("/{booking_id}/reschedule", status_code=201, responses=responses(404, 409, 503))
def reschedule(
    booking_id: BigIdPath, body: RescheduleIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep
) -> dict[str, Any]:
    return booking.reschedule(rt, s, user, booking_id, body.slot_id)
