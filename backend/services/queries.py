"""Reads over the indexed chain: sites with live stock and free slots, the provenance of a lot (public,
no personal data) and of a person's dose, the recipients of a recalled lot, stock per facility.

The site list and a lot's provenance are asked for far more often than the chain changes; they are
cached per indexed block (and, for what depends on the clock, per minute)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.domain.provenance import Leg, LotEvent, Stay, dose_path
from backend.errors import not_found
from backend.services.supply import expiry_date

NEXT_SLOTS = 3
SLOT_HORIZON_S = 14 * 86_400


# --- sites ---------------------------------------------------------------------------------------------------


def sites(s: Session, vaccine: str | None, area: str | None, now: int) -> list[dict[str, Any]]:
    """Clinics with their bookable stock per vaccine type (unquarantined doses not held for bookings) and
    their next free slots."""
    clinics = s.scalars(
        select(cv.Facility).where(cv.Facility.kind == "clinic", cv.Facility.active.is_(True)).order_by(cv.Facility.id)
    ).all()
    if area:
        clinics = [c for c in clinics if c.area_code.startswith(area)]
    ids = [c.id for c in clinics]
    stock: dict[int, dict[str, int]] = defaultdict(dict)
    rows = s.execute(
        select(cv.Stock.facility_id, cv.Product.vaccine_type, func.sum(cv.Stock.available))
        .join(cv.Lot, cv.Lot.id == cv.Stock.lot_id)
        .join(cv.Product, cv.Product.id == cv.Lot.product_id)
        .where(cv.Stock.facility_id.in_(ids), cv.Lot.status == "released", cv.Lot.expiry > now)
        .group_by(cv.Stock.facility_id, cv.Product.vaccine_type)
    ).all()
    for facility, vtype, available in rows:
        stock[facility][vtype] = int(available or 0)
    for facility, vtype, held in s.execute(
        select(cv.Booking.site_id, cv.Booking.vaccine_type, func.count())
        .where(cv.Booking.site_id.in_(ids), cv.Booking.status == "booked")
        .group_by(cv.Booking.site_id, cv.Booking.vaccine_type)
    ).all():
        stock[facility][vtype] = max(stock[facility].get(vtype, 0) - int(held), 0)
    slots = _free_slots(s, ids, vaccine, now)
    result = []
    for c in clinics:
        site_stock = {k: v for k, v in sorted(stock[c.id].items()) if v > 0}
        if vaccine and vaccine not in site_stock:
            continue
        result.append(
            {
                "id": c.id,
                "name": c.name,
                "area_code": c.area_code,
                "stock": site_stock,
                "next_slots": slots.get(c.id, [])[:NEXT_SLOTS],
            }
        )
    return result


def _free_slots(s: Session, site_ids: list[int], vaccine: str | None, now: int) -> dict[int, list[dict[str, Any]]]:
    query = (
        select(cv.Slot)
        .where(
            cv.Slot.site_id.in_(site_ids),
            cv.Slot.start + cv.Slot.duration > now,
            cv.Slot.start < now + SLOT_HORIZON_S,
            cv.Slot.booked < cv.Slot.capacity,
        )
        .order_by(cv.Slot.start, cv.Slot.id)
    )
    if vaccine:
        query = query.where(cv.Slot.vaccine_type == vaccine)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for slot in s.scalars(query):
        out[slot.site_id].append(slot_out(slot))
    return out


def slot_out(slot: cv.Slot) -> dict[str, Any]:
    return {
        "id": slot.id,
        "site_id": slot.site_id,
        "vaccine_type": slot.vaccine_type,
        "start": slot.start,
        "end": slot.start + slot.duration,
        "capacity": slot.capacity,
        "free": slot.capacity - slot.booked,
    }


def site_slots(s: Session, site_id: int, vaccine: str | None, now: int) -> list[dict[str, Any]]:
    if s.get(cv.Facility, site_id) is None:
        raise not_found("site", "接种点", site_id)
    return _free_slots(s, [site_id], vaccine, now).get(site_id, [])


# --- cold chain summaries ----------------------------------------------------------------------------------


def cold_chain_summary(s: Session, equipment_id: int, since: int, until: int | None) -> dict[str, Any]:
    """What the anchored readings say about a piece of equipment from `since` to `until` (seconds; None:
    up to now and on): readings counted, lowest and highest (never averaged), and the excursions reported
    in that time."""
    lo_ms = since * 1000
    hi_ms = 2**62 if until is None else until * 1000 + 999
    batches = s.scalars(
        select(cv.ReadingBatch).where(
            cv.ReadingBatch.equipment_id == equipment_id,
            cv.ReadingBatch.last_ts_ms >= lo_ms,
            cv.ReadingBatch.first_ts_ms <= hi_ms,
        )
    ).all()
    excursions = s.scalars(
        select(cv.Excursion).where(
            cv.Excursion.equipment_id == equipment_id,
            cv.Excursion.started_at_ms <= hi_ms,
            or_(cv.Excursion.ended_at_ms.is_(None), cv.Excursion.ended_at_ms >= lo_ms),
        )
    ).all()
    return {
        "equipment_id": equipment_id,
        "readings": sum(b.count for b in batches),
        "min_c": min(b.min_temp_dc for b in batches) / 10 if batches else None,
        "max_c": max(b.max_temp_dc for b in batches) / 10 if batches else None,
        "anchored_until_ms": max((b.last_ts_ms for b in batches), default=None),
        "windows": sorted({b.window_id for b in batches}),
        "excursions": [
            {
                "id": x.id,
                "kind": x.kind,
                "severity": x.severity,
                "started_at_ms": x.started_at_ms,
                "ended_at_ms": x.ended_at_ms,
            }
            for x in excursions
        ],
    }


# --- provenance ----------------------------------------------------------------------------------------------


def _names(s: Session) -> tuple[dict[int, cv.Facility], dict[int, cv.Equipment]]:
    facilities = {f.id: f for f in s.scalars(select(cv.Facility))}
    equipment = {e.id: e for e in s.scalars(select(cv.Equipment))}
    return facilities, equipment


def _place(facilities: dict[int, cv.Facility], equipment: dict[int, cv.Equipment], equipment_id: int) -> dict[str, Any]:
    e = equipment.get(equipment_id)
    f = facilities.get(e.facility_id) if e else None
    return {
        "equipment_id": equipment_id,
        "equipment": e.label if e else None,
        "equipment_kind": e.kind if e else None,
        "facility_id": f.id if f else None,
        "facility": f.name if f else None,
    }


def lot_facts(s: Session, lot_id: int) -> tuple[cv.Lot, cv.Product, dict[str, Any]]:
    lot = s.get(cv.Lot, lot_id)
    if lot is None:
        raise not_found("lot", "批次", lot_id)
    product = s.get(cv.Product, lot.product_id)
    assert product is not None
    maker = s.get(cv.Facility, product.manufacturer_id)
    facts = {
        "lot_id": lot.id,
        "lot_number": lot.lot_number,
        "product_id": product.id,
        "product": product.name,
        "vaccine_type": product.vaccine_type,
        "self_paid": product.self_paid,
        "manufacturer_id": product.manufacturer_id,
        "manufacturer": maker.name if maker else None,
        "expiry": expiry_date(lot.expiry).isoformat(),
        "doses_produced": lot.doses,
        "status": lot.status,
        "registered_at": lot.registered_at,
        "released_at": lot.released_at,
        "certificate_hash": lot.certificate_hash,
        "recalled_at": lot.recalled_at,
        "storage_range_c": [product.min_temp_dc / 10, product.max_temp_dc / 10],
    }
    return lot, product, facts


def custody_events(lot_id: int) -> Select[tuple[cv.ChainEvent]]:
    """The lot's custody events (everything but its doses and adverse events, which are counted in SQL), in
    chain order, from an index that holds only those: the cost does not grow with the doses given."""
    return (
        select(cv.ChainEvent)
        .where(cv.ChainEvent.lot_id == lot_id, text(cv.NOT_PER_DOSE))
        .order_by(cv.ChainEvent.block, cv.ChainEvent.log_index)
    )


def _lot_events(s: Session, lot_id: int) -> list[tuple[cv.ChainEvent, dict[str, Any]]]:
    return [(r, json.loads(r.args)) for r in s.scalars(custody_events(lot_id)).all()]


_PUBLIC_STEPS = {
    "LotRegistered": "commissioned",
    "LotReleased": "batch_released",
    "Shipped": "shipped",
    "ShipmentReceived": "received",
    "ShipmentRefused": "refused",
    "Moved": "moved",
    "WrittenOff": "written_off",
    "StockQuarantined": "quarantined",
    "ShipmentQuarantined": "quarantined_in_transit",
    "StockReleased": "released_from_quarantine",
    "ShipmentReleased": "released_in_transit",
    "LotRecalled": "recalled",
}


def lot_provenance(s: Session, lot_id: int) -> dict[str, Any]:
    """The public history of a lot: facts, every custody step with its place and, for legs and stays, the
    cold-chain summary; doses appear only as counts per clinic. No personal data."""
    _, _, facts = lot_facts(s, lot_id)
    facilities, equipment = _names(s)
    shipments = {sh.id: sh for sh in s.scalars(select(cv.Shipment).where(cv.Shipment.lot_id == lot_id))}
    steps: list[dict[str, Any]] = []
    written_off = 0
    for row, args in _lot_events(s, lot_id):
        kind = _PUBLIC_STEPS.get(row.name)
        if kind is None:
            continue
        step: dict[str, Any] = {"step": kind, "at": row.at, "block": row.block, "tx_hash": row.tx_hash}
        if row.name == "Shipped":
            sh = shipments.get(args["shipment"])
            step |= {
                "shipment_id": args["shipment"],
                "quantity": args["quantity"],
                "from": _place(facilities, equipment, args["fromEquipment"]),
                "vehicle": _place(facilities, equipment, args["vehicle"]),
                "to_facility": facilities[args["toFacility"]].name if args["toFacility"] in facilities else None,
            }
            if sh is not None:
                step["leg_cold_chain"] = cold_chain_summary(s, sh.vehicle_id, sh.shipped_at, sh.closed_at)
        elif row.name == "ShipmentReceived":
            step |= {"shipment_id": args["shipment"], "accepted": args["accepted"]}
            step["into"] = _place(facilities, equipment, args["equipment"])
        elif row.name == "ShipmentRefused":
            sh = shipments.get(args["shipment"])
            step |= {"shipment_id": args["shipment"], "quantity": sh.quantity if sh else None}
        elif row.name in ("LotRegistered", "Moved", "WrittenOff", "StockQuarantined", "StockReleased"):
            place = args.get("equipment") or args.get("toEquipment")
            step["at_place"] = _place(facilities, equipment, place)
            step["quantity"] = args.get("doses") or args.get("quantity")
            if row.name == "WrittenOff":
                e = equipment.get(args["equipment"])
                if e is None or e.kind == "vehicle":
                    continue  # a shipment's part, shown with its receipt or refusal
                written_off += args["quantity"]
        elif row.name in ("ShipmentQuarantined", "ShipmentReleased"):
            step["shipment_id"] = args["shipment"]
        elif row.name == "LotReleased":
            step["certificate_hash"] = args["certificateHash"]
        elif row.name == "LotRecalled":
            step["notice_hash"] = args["noticeHash"]
        steps.append(step)
    stays = s.scalars(select(cv.LotStay).where(cv.LotStay.lot_id == lot_id).order_by(cv.LotStay.since, cv.LotStay.id))
    doses_by_site = dict(
        s.execute(
            select(cv.Dose.facility_id, func.count()).where(cv.Dose.lot_id == lot_id).group_by(cv.Dose.facility_id)
        ).all()
    )
    aefi = s.scalar(
        select(func.count()).where(cv.ChainEvent.lot_id == lot_id, cv.ChainEvent.name == "AdverseEventReported")
    )
    held = s.execute(
        select(cv.Stock.facility_id, func.sum(cv.Stock.available), func.sum(cv.Stock.quarantined))
        .where(cv.Stock.lot_id == lot_id)
        .group_by(cv.Stock.facility_id)
    ).all()
    in_transit = sum(sh.quantity for sh in shipments.values() if sh.status == "in_transit")
    refused = sum(sh.quantity for sh in shipments.values() if sh.status == "refused")
    partial = sum(sh.quantity - (sh.accepted or 0) for sh in shipments.values() if sh.status == "received")
    administered = sum(doses_by_site.values())
    held_total = sum(int(a or 0) + int(q or 0) for _, a, q in held)
    return {
        "lot": facts,
        "steps": steps,
        "storage": [
            {
                **_place(facilities, equipment, stay.equipment_id),
                "since": stay.since,
                "until": stay.until,
                "cold_chain": cold_chain_summary(s, stay.equipment_id, stay.since, stay.until),
            }
            for stay in stays
        ],
        "where_now": [
            {
                "facility_id": f,
                "facility": facilities[f].name if f in facilities else None,
                "available": int(a or 0),
                "quarantined": int(q or 0),
            }
            for f, a, q in held
        ],
        "doses_administered": [
            {"facility_id": f, "facility": facilities[f].name if f in facilities else None, "doses": n}
            for f, n in sorted(doses_by_site.items())
        ],
        "adverse_events_reported": aefi,
        "balance": {
            "produced": facts["doses_produced"],
            "held": held_total,
            "in_transit": in_transit,
            "administered": administered,
            "written_off": written_off + refused + partial,
        },
    }


def dose_provenance(s: Session, dose: cv.Dose) -> dict[str, Any]:
    """One dose's story: the lot's facts, then manufacturer → batch release → each leg and stay (with its
    cold-chain summary) → the clinic where it was given."""
    _, _, facts = lot_facts(s, dose.lot_id)
    facilities, equipment = _names(s)
    events = [
        LotEvent(r.block, r.log_index, r.name, args, r.at, r.equipment_id, r.shipment_id)
        for r, args in _lot_events(s, dose.lot_id)
    ]
    path = dose_path(events, dose.equipment_id, (dose.block, dose.log_index), dose.at)
    timeline: list[dict[str, Any]] = [
        {"step": "manufactured", "at": facts["registered_at"], "facility": facts["manufacturer"]},
    ]
    if facts["released_at"]:
        timeline.append(
            {"step": "batch_released", "at": facts["released_at"], "certificate_hash": facts["certificate_hash"]}
        )
    for step in path.steps:
        if isinstance(step, Leg):
            timeline.append(
                {
                    "step": "transport",
                    "shipment_id": step.shipment_id,
                    "from": _place(facilities, equipment, step.from_equipment_id),
                    "to": _place(facilities, equipment, step.to_equipment_id),
                    "vehicle": _place(facilities, equipment, step.vehicle_id),
                    "since": step.shipped_at,
                    "until": step.received_at,
                    "cold_chain": cold_chain_summary(s, step.vehicle_id, step.shipped_at, step.received_at),
                }
            )
        elif isinstance(step, Stay):
            timeline.append(
                {
                    "step": "storage",
                    **_place(facilities, equipment, step.equipment_id),
                    "since": step.since,
                    "until": step.until,
                    "cold_chain": cold_chain_summary(s, step.equipment_id, step.since, step.until),
                }
            )
    clinic = facilities.get(dose.facility_id)
    timeline.append(
        {
            "step": "administered",
            "at": dose.at,
            "facility": clinic.name if clinic else None,
            "facility_id": dose.facility_id,
        }
    )
    return {"lot": facts, "timeline": timeline, "path_complete": path.complete}
