"""Compares the indexed view with the chain itself, at the indexer's block: every stock entry, lot status,
open shipment, slot and booking. For operators (`python -m backend check-index`) and for the tests that
prove the indexer reaches the chain's state after restarts and faults."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db.models import chainview as cv
from backend.runtime import Runtime
from chain.enums import BookingStatus, LotStatus

_LOT_STATUS = {LotStatus.REGISTERED: "registered", LotStatus.RELEASED: "released", LotStatus.RECALLED: "recalled"}
_BOOKING_STATUS = {
    BookingStatus.BOOKED: "booked",
    BookingStatus.COMPLETED: "completed",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.MISSED: "missed",
}


def differences(rt: Runtime) -> list[str]:
    """What the view says that the chain does not (empty when they agree), read at the indexed block."""
    ledger = rt.ledgers.get()
    block = rt.indexer.block
    at: dict[str, Any] = {"block_identifier": block}
    fn, appt = ledger.ledger.functions, ledger.appointments.functions
    found: list[str] = []
    with rt.db.sessions() as s:
        lot_count = fn.lotCount().call(**at)
        lots = {lot.id: lot for lot in s.scalars(select(cv.Lot))}
        if len(lots) != lot_count:
            found.append(f"{len(lots)} lots indexed, {lot_count} on chain")
        for lot_id, lot in lots.items():
            status = _LOT_STATUS.get(LotStatus(fn.lot(lot_id).call(**at)[5]))
            if status != lot.status:
                found.append(f"lot {lot_id}: {lot.status} indexed, {status} on chain")
        equipment = [e.id for e in s.scalars(select(cv.Equipment))]
        stock = {(st.lot_id, st.equipment_id): (st.available, st.quarantined) for st in s.scalars(select(cv.Stock))}
        for lot_id in lots:
            for eq in equipment:
                available, quarantined, _ = fn.stockOf(lot_id, eq).call(**at)
                if stock.get((lot_id, eq), (0, 0)) != (available, quarantined):
                    found.append(
                        f"stock of lot {lot_id} in equipment {eq}: {stock.get((lot_id, eq), (0, 0))} indexed, "
                        f"{(available, quarantined)} on chain"
                    )
        for shipment in s.scalars(select(cv.Shipment)):
            open_on_chain = fn.shipment(shipment.id).call(**at)[0] != 0
            if open_on_chain != (shipment.status == "in_transit"):
                found.append(f"shipment {shipment.id}: {shipment.status} indexed, open={open_on_chain} on chain")
        for slot in s.scalars(select(cv.Slot)):
            booked = appt.slot(slot.id).call(**at)[5]
            if booked != slot.booked:
                found.append(f"slot {slot.id}: {slot.booked} booked indexed, {booked} on chain")
        for booking in s.scalars(select(cv.Booking)):
            status = _BOOKING_STATUS.get(BookingStatus(appt.booking(booking.id).call(**at)[2]))
            if status != booking.status:
                found.append(f"booking {booking.id}: {booking.status} indexed, {status} on chain")
    return found
