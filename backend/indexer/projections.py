"""Each chain event's effect on the query tables, applied in block and log order inside the indexer's
transaction (so an event is in `chain_events` exactly when its effects are in the tables).

Stock follows the ledger's own bookkeeping: every path that moves doses emits an event with the amount.
One event is ambiguous on its own: `WrittenOff` from storage equipment takes available doses when it
comes from `writeOff` and quarantined doses when it comes from `disposeStock`; the calling function's
selector (from the transaction's input) tells which."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.db.models.offchain import Guardianship, Notification, Person
from backend.indexer.decode import BatchHeader, Event
from backend.verification.recalls import revoke_for_recall
from chain.encoding import from_fixed
from chain.enums import EquipmentKind, FacilityKind, WriteOffReason


@dataclass
class ChunkFacts:
    """What the projections need from the chain beyond the logs, fetched before the transaction."""

    block_time: dict[int, int] = field(default_factory=dict)
    selector: dict[str, str] = field(default_factory=dict)
    """tx hash -> 4-byte selector (0x-hex) of the function the transaction called."""
    windows: dict[str, tuple[str, list[BatchHeader]]] = field(default_factory=dict)
    """tx hash -> (window id, batch headers) for anchoring transactions."""


class Projector:
    def __init__(self, dispose_selector: str) -> None:
        self.dispose_selector = dispose_selector
        self._handlers: dict[str, Callable[[Session, Event, int, cv.ChainEvent, ChunkFacts], None]] = {
            name.removeprefix("_on_"): getattr(self, name) for name in dir(self) if name.startswith("_on_")
        }

    def apply(self, session: Session, event: Event, facts: ChunkFacts) -> None:
        at = facts.block_time[event.block]
        row = cv.ChainEvent(
            block=event.block,
            log_index=event.log_index,
            tx_hash=event.tx_hash,
            contract=event.contract,
            name=event.name,
            args=json.dumps(event.args, separators=(",", ":")),
            at=at,
        )
        a = event.args
        row.lot_id = a.get("lot")
        row.equipment_id = a.get("equipment") if "equipment" in a else a.get("vehicle")
        row.facility_id = a.get("facility")
        row.shipment_id = a.get("shipment")
        handler = self._handlers.get(event.name)
        if handler is not None:
            handler(session, event, at, row, facts)
        session.add(row)

    # --- facilities and equipment -------------------------------------------------------------------------

    def _on_FacilityRegistered(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        s.merge(
            cv.Facility(
                id=a["facility"],
                kind=FacilityKind(a["kind"]).name.lower(),
                name=a["name"],
                area_code=from_fixed(a["areaCode"]),
                active=True,
            )
        )

    def _on_FacilityStatusChanged(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        facility = s.get(cv.Facility, e.args["facility"])
        if facility is not None:
            facility.active = e.args["active"]

    def _on_EquipmentRegistered(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        s.merge(
            cv.Equipment(
                id=a["equipment"],
                facility_id=a["facility"],
                kind=EquipmentKind(a["kind"]).name.lower(),
                label=a["label"],
                active=True,
                under_excursion=False,
            )
        )

    def _on_EquipmentStatusChanged(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        equipment = s.get(cv.Equipment, e.args["equipment"])
        if equipment is not None:
            equipment.active = e.args["active"]

    def _on_MemberAdded(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        s.merge(cv.Member(address=e.args["account"], facility_id=e.args["facility"]))

    def _on_MemberRemoved(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        member = s.get(cv.Member, e.args["account"])
        if member is not None:
            s.delete(member)

    # --- products and lots --------------------------------------------------------------------------------

    def _on_ProductRegistered(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        row.facility_id = a["manufacturer"]
        s.merge(
            cv.Product(
                id=a["product"],
                manufacturer_id=a["manufacturer"],
                vaccine_type=from_fixed(a["vaccineType"]),
                doses_per_unit=a["dosesPerUnit"],
                self_paid=a["selfPaid"],
                min_temp_dc=a["minTempDeciC"],
                max_temp_dc=a["maxTempDeciC"],
                name=a["name"],
            )
        )

    def _on_LotRegistered(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        s.merge(
            cv.Lot(
                id=a["lot"],
                product_id=a["product"],
                lot_number=from_fixed(a["lotNumber"]),
                expiry=a["expiry"],
                doses=a["doses"],
                status="registered",
                registered_at=at,
            )
        )
        row.facility_id = self._put(s, a["lot"], a["equipment"], a["doses"], at)

    def _on_LotReleased(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        lot = s.get(cv.Lot, e.args["lot"])
        if lot is not None:
            lot.status, lot.released_at, lot.certificate_hash = "released", at, e.args["certificateHash"]

    def _on_LotRecalled(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        lot = s.get(cv.Lot, e.args["lot"])
        if lot is None:
            return
        lot.status, lot.recalled_at, lot.recall_notice_hash = "recalled", at, e.args["noticeHash"]
        _notify_recall(s, lot, at)
        revoke_for_recall(s, lot.id, at)

    # --- custody -------------------------------------------------------------------------------------------

    def _on_Shipped(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        from_facility = self._take(s, a["lot"], a["fromEquipment"], a["quantity"], at)
        row.facility_id = from_facility
        s.merge(
            cv.Shipment(
                id=a["shipment"],
                lot_id=a["lot"],
                from_facility_id=from_facility,
                from_equipment_id=a["fromEquipment"],
                to_facility_id=a["toFacility"],
                vehicle_id=a["vehicle"],
                quantity=a["quantity"],
                status="in_transit",
                quarantined=False,
                shipped_at=at,
            )
        )

    def _on_ShipmentReceived(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        shipment = s.get(cv.Shipment, a["shipment"])
        if shipment is None:
            return
        shipment.status, shipment.closed_at = "received", at
        shipment.accepted, shipment.received_equipment_id = a["accepted"], a["equipment"]
        row.lot_id = shipment.lot_id
        row.facility_id = self._put(s, shipment.lot_id, a["equipment"], a["accepted"], at)

    def _on_ShipmentRefused(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        shipment = s.get(cv.Shipment, e.args["shipment"])
        if shipment is None:
            return
        shipment.status, shipment.closed_at = "refused", at
        shipment.refuse_reason = WriteOffReason(e.args["reason"]).name.lower()
        row.lot_id, row.facility_id = shipment.lot_id, shipment.to_facility_id

    def _on_ShipmentQuarantined(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        shipment = s.get(cv.Shipment, e.args["shipment"])
        if shipment is not None:
            shipment.quarantined = True
            row.lot_id = shipment.lot_id

    def _on_ShipmentReleased(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        shipment = s.get(cv.Shipment, e.args["shipment"])
        if shipment is not None:
            shipment.quarantined = False
            row.lot_id, row.equipment_id = shipment.lot_id, shipment.vehicle_id

    def _on_Moved(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        row.equipment_id = a["toEquipment"]
        row.facility_id = self._take(s, a["lot"], a["fromEquipment"], a["quantity"], at)
        self._put(s, a["lot"], a["toEquipment"], a["quantity"], at)

    def _on_WrittenOff(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        equipment = s.get(cv.Equipment, a["equipment"])
        if equipment is None or equipment.kind == "vehicle":
            return  # doses of a shipment, closed by its receipt or refusal
        row.facility_id = equipment.facility_id
        from_quarantine = f.selector.get(e.tx_hash) == self.dispose_selector
        self._take(s, a["lot"], a["equipment"], a["quantity"], at, quarantined=from_quarantine)

    def _on_StockQuarantined(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        stock = s.get(cv.Stock, (a["lot"], a["equipment"]))
        if stock is not None:
            stock.available -= a["quantity"]
            stock.quarantined += a["quantity"]
            row.facility_id = stock.facility_id

    def _on_StockReleased(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        stock = s.get(cv.Stock, (a["lot"], a["equipment"]))
        if stock is not None:
            stock.quarantined -= a["quantity"]
            stock.available += a["quantity"]
            row.facility_id = stock.facility_id

    def _on_ExcursionStarted(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        equipment = s.get(cv.Equipment, e.args["equipment"])
        if equipment is not None:
            equipment.under_excursion = True

    def _on_ExcursionEnded(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        equipment = s.get(cv.Equipment, e.args["equipment"])
        if equipment is not None:
            equipment.under_excursion = False

    # --- doses ---------------------------------------------------------------------------------------------

    def _on_DoseRecorded(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        self._take(s, a["lot"], a["equipment"], 1, at)
        s.merge(
            cv.Dose(
                unit_hash=a["unitHash"],
                dose_number=a["doseNumber"],
                person=a["person"],
                lot_id=a["lot"],
                facility_id=a["facility"],
                equipment_id=a["equipment"],
                booking_id=a["booking"] or None,
                at=at,
                tx_hash=e.tx_hash,
                block=e.block,
                log_index=e.log_index,
            )
        )

    def _on_AdverseEventReported(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        dose = s.get(cv.Dose, (e.args["unitHash"], e.args["doseNumber"]))
        if dose is not None:
            row.lot_id = dose.lot_id

    # --- appointments --------------------------------------------------------------------------------------

    def _on_SlotPublished(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        row.facility_id = a["site"]
        s.merge(
            cv.Slot(
                id=a["slot"],
                site_id=a["site"],
                vaccine_type=from_fixed(a["vaccineType"]),
                start=a["start"],
                duration=a["duration"],
                capacity=a["capacity"],
                booked=0,
            )
        )

    def _on_SlotCapacityChanged(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        slot = s.get(cv.Slot, e.args["slot"])
        if slot is not None:
            slot.capacity = e.args["capacity"]

    def _on_Booked(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        slot = s.get(cv.Slot, a["slot"])
        if slot is None:
            return
        slot.booked += 1
        row.facility_id = slot.site_id
        s.merge(
            cv.Booking(
                id=a["booking"],
                slot_id=a["slot"],
                site_id=slot.site_id,
                vaccine_type=slot.vaccine_type,
                booker=a["booker"],
                person=a["person"],
                status="booked",
                booked_at=at,
                updated_at=at,
            )
        )

    def _on_BookingCancelled(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        booking = self._booking_to(s, e.args["booking"], "cancelled", at)
        if booking is not None:
            slot = s.get(cv.Slot, booking.slot_id)
            if slot is not None:
                slot.booked -= 1

    def _on_BookingCompleted(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        self._booking_to(s, e.args["booking"], "completed", at)

    def _on_BookingMissed(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        self._booking_to(s, e.args["booking"], "missed", at)

    # --- cold chain ----------------------------------------------------------------------------------------

    def _on_WindowAnchored(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        window = f.windows.get(e.tx_hash)
        if window is None:
            return
        window_id, headers = window
        for h in headers:
            s.merge(
                cv.ReadingBatch(
                    window_id=window_id,
                    batch_id=h.batch_id,
                    equipment_id=h.equipment,
                    first_ts_ms=h.first_ts_ms,
                    last_ts_ms=h.last_ts_ms,
                    count=h.count,
                    min_temp_dc=h.min_temp_dc,
                    max_temp_dc=h.max_temp_dc,
                    merkle_root=h.merkle_root,
                    block=e.block,
                    tx_hash=e.tx_hash,
                )
            )

    def _on_ExcursionReported(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        a = e.args
        s.merge(
            cv.Excursion(
                id=a["excursionId"],
                equipment_id=a["equipment"],
                kind=a["kind"],
                severity=a["severity"],
                started_at_ms=a["startedAtMs"],
                reported_at=at,
            )
        )

    def _on_ExcursionClosed(self, s: Session, e: Event, at: int, row: cv.ChainEvent, f: ChunkFacts) -> None:
        x = s.get(cv.Excursion, e.args["excursionId"])
        if x is not None:
            x.ended_at_ms, x.min_temp_dc, x.max_temp_dc = (
                e.args["endedAtMs"],
                e.args["minTempDc"],
                e.args["maxTempDc"],
            )

    # --- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _put(s: Session, lot: int, equipment_id: int, quantity: int, at: int) -> int | None:
        stock = s.get(cv.Stock, (lot, equipment_id))
        if stock is None:  # the lot arrives in this equipment: a stay begins
            equipment = s.get(cv.Equipment, equipment_id)
            facility = equipment.facility_id if equipment is not None else 0
            stock = cv.Stock(lot_id=lot, equipment_id=equipment_id, facility_id=facility, available=0, quarantined=0)
            s.add(stock)
            s.add(cv.LotStay(lot_id=lot, equipment_id=equipment_id, since=at))
        stock.available += quantity
        return stock.facility_id

    @staticmethod
    def _take(
        s: Session, lot: int, equipment_id: int, quantity: int, at: int, *, quarantined: bool = False
    ) -> int | None:
        stock = s.get(cv.Stock, (lot, equipment_id))
        if stock is None:
            return None
        if quarantined:
            stock.quarantined -= quantity
        else:
            stock.available -= quantity
        facility = stock.facility_id
        if stock.available <= 0 and stock.quarantined <= 0:  # the last dose left: the stay ends
            s.delete(stock)
            stay = s.scalars(
                select(cv.LotStay).where(
                    cv.LotStay.lot_id == lot, cv.LotStay.equipment_id == equipment_id, cv.LotStay.until.is_(None)
                )
            ).first()
            if stay is not None:
                stay.until = at
        return facility

    @staticmethod
    def _booking_to(s: Session, booking_id: int, status: str, at: int) -> cv.Booking | None:
        booking = s.get(cv.Booking, booking_id)
        if booking is not None:
            booking.status, booking.updated_at = status, at
        return booking


def _notify_recall(s: Session, lot: cv.Lot, at: int) -> None:
    """A notice to every account that looks after a person who received a dose of the recalled lot."""
    product = s.get(cv.Product, lot.product_id)
    name = product.name if product is not None else f"#{lot.product_id}"
    pairs = s.execute(
        select(Guardianship.user_id, Person.id)
        .join(Person, Person.id == Guardianship.person_id)
        .join(cv.Dose, cv.Dose.person == Person.pseudonym)
        .where(cv.Dose.lot_id == lot.id)
        .distinct()
    ).all()
    for user_id, person_id in pairs:
        exists = s.scalars(
            select(Notification.id).where(
                Notification.user_id == user_id,
                Notification.kind == "recall",
                Notification.ref == str(lot.id),
                Notification.person_id == person_id,
            )
        ).first()
        if exists is None:
            s.add(
                Notification(
                    user_id=user_id,
                    person_id=person_id,
                    kind="recall",
                    ref=str(lot.id),
                    message_zh=f"{name} 批号 {lot.lot_number} 已被召回。您的家人接种过该批次疫苗，接种门诊将与您联系。",
                    message_en=f"{name} lot {lot.lot_number} has been recalled. A member of your family received a "
                    "dose from it; the clinic will contact you.",
                    created_at=at,
                )
            )
