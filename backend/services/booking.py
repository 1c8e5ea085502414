"""Citizens' appointments: book a slot for themselves or a child, cancel, reschedule, list. Each is a
transaction from the citizen's custodial wallet; the person booked for appears on chain only as their
pseudonym. The contract holds back a dose of the site's stock for every booking."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.db.models.offchain import Person, User
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services import persons
from backend.services.supply import facility_account
from backend.services.writes import Actor, tx_hash


def _wallet(rt: Runtime, s: Session, user: User) -> str:
    wallet = rt.wallets.of(s, "citizen", user.id)
    if wallet is None:
        raise ApiError(409, "no_wallet", "this account has no wallet", "该账户没有链上钱包")
    return wallet.address


def book(rt: Runtime, s: Session, user: User, slot_id: int, person_id: str) -> dict[str, Any]:
    person = persons.guarded(s, user, person_id)
    account = rt.wallets.account(s, _wallet(rt, s, user))
    pseudonym = bytes.fromhex(person.pseudonym[2:])
    ledger, receipt = rt.writer.send(
        Actor.of(user),
        "book",
        f"slot {slot_id}",
        account,
        lambda ledger: ledger.appointments.functions.book(slot_id, pseudonym),
    )
    booking_id = ledger.events(ledger.appointments, receipt, "Booked")[0]["booking"]
    return {
        "booking_id": booking_id,
        "slot_id": slot_id,
        "person_id": person.id,
        "tx_hash": tx_hash(receipt),
    }


def _own_booking(rt: Runtime, s: Session, user: User, booking_id: int) -> cv.Booking:
    booking = s.get(cv.Booking, booking_id)
    if booking is None or booking.booker != _wallet(rt, s, user):
        raise ApiError(404, "unknown_booking", f"no booking {booking_id} of yours", "没有找到您的这个预约")
    return booking


def cancel(rt: Runtime, s: Session, user: User, booking_id: int) -> dict[str, Any]:
    _own_booking(rt, s, user, booking_id)
    account = rt.wallets.account(s, _wallet(rt, s, user))
    _, receipt = rt.writer.send(
        Actor.of(user),
        "cancel_booking",
        f"booking {booking_id}",
        account,
        lambda ledger: ledger.appointments.functions.cancel(booking_id),
    )
    return {"booking_id": booking_id, "status": "cancelled", "tx_hash": tx_hash(receipt)}


def reschedule(rt: Runtime, s: Session, user: User, booking_id: int, slot_id: int) -> dict[str, Any]:
    """Cancels, then books the new slot for the same person; if the new booking is refused, the old slot
    is booked again (its place and dose were just freed) and the refusal is reported."""
    old = _own_booking(rt, s, user, booking_id)
    person = s.scalars(select(Person).where(Person.pseudonym == old.person)).first()
    if person is None:
        raise ApiError(
            404, "unknown_person", "the person of this booking is no longer registered", "该预约的受种者已删除"
        )
    cancel(rt, s, user, booking_id)
    try:
        return book(rt, s, user, slot_id, person.id)
    except ApiError:
        book(rt, s, user, old.slot_id, person.id)
        raise


def mark_missed(rt: Runtime, s: Session, user: User, booking_id: int) -> dict[str, Any]:
    """A clinic marks a no-show once the slot is over: the dose held for it is freed for others."""
    booking = s.get(cv.Booking, booking_id)
    if booking is None or booking.site_id != user.facility_id:
        raise ApiError(404, "unknown_booking", f"no booking {booking_id} at this clinic", "本门诊没有此预约")
    _, receipt = rt.writer.send(
        Actor.of(user),
        "mark_missed",
        f"booking {booking_id}",
        facility_account(rt, s, user.facility_id),
        lambda ledger: ledger.appointments.functions.markMissed(booking_id),
    )
    return {"booking_id": booking_id, "status": "missed", "tx_hash": tx_hash(receipt)}


def mine(rt: Runtime, s: Session, user: User) -> list[dict[str, Any]]:
    wallet = rt.wallets.of(s, "citizen", user.id)
    if wallet is None:
        return []
    family = {p.pseudonym: (p, rel) for p, rel in persons.family(s, user)}
    rows = s.execute(
        select(cv.Booking, cv.Slot, cv.Facility)
        .join(cv.Slot, cv.Slot.id == cv.Booking.slot_id)
        .join(cv.Facility, cv.Facility.id == cv.Booking.site_id)
        .where(cv.Booking.booker == wallet.address)
        .order_by(cv.Slot.start.desc())
    ).all()
    out = []
    for booking, slot, site in rows:
        member = family.get(booking.person)
        out.append(
            {
                "booking_id": booking.id,
                "status": booking.status,
                "vaccine_type": booking.vaccine_type,
                "slot_id": slot.id,
                "start": slot.start,
                "end": slot.start + slot.duration,
                "site_id": site.id,
                "site": site.name,
                "person_id": member[0].id if member else None,
                "person_name": persons.view(rt, member[0]).name if member else None,
            }
        )
    return out
