"""A lot's custody history as a GS1 EPCIS 2.0 document (JSON-LD), for exchange with traceability
systems that speak EPCIS (pure functions).

Each ledger event becomes an ObjectEvent with the Core Business Vocabulary's business step and
disposition: registration is commissioning, a shipment shipping (in transit), its receipt receiving, a
refusal receiving into non-conformant, a quarantine holding, a write-off or disposal destroying, a dose
dispensing. The lot is the object class: the GS1 Digital Link of GTIN and batch when the product's GTIN is
known, else a vaxledger URN. Places are vaxledger URNs of facilities (business locations) and of their
equipment (read points). No person appears: doses are counted, never named. Event ids are derived from the
chain position, so exporting twice yields the same ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
NAMESPACE = "urn:vaxledger:epcis:"
_ID_NAMESPACE = uuid.UUID("0b5f2a8e-3c1d-4e7a-9b2f-6d4c8a1e5f30")
TZ_OFFSET = "+08:00"

_WRITE_OFF = {
    1: "expired",
    2: "damaged",
    3: "non_conformant",
    4: "non_conformant",
    5: "recalled",
    6: "destroyed",
    7: "destroyed",
}


@dataclass(frozen=True, slots=True)
class ChainRecord:
    name: str
    args: dict[str, Any]
    at: int
    block: int
    log_index: int
    tx_hash: str


def lot_class(chain_id: int, lot_id: int, gtin: str | None, lot_number: str) -> str:
    if gtin:
        return f"https://id.gs1.org/01/{gtin}/10/{lot_number}"
    return f"urn:vaxledger:class:{chain_id}:lot:{lot_id}"


def facility_urn(facility_id: int) -> str:
    return f"urn:vaxledger:facility:{facility_id}"


def equipment_urn(equipment_id: int) -> str:
    return f"urn:vaxledger:equipment:{equipment_id}"


def document(
    chain_id: int,
    epc_class: str,
    records: Iterable[ChainRecord],
    facility_of: Callable[[int], int | None],
    shipment_of: Callable[[int], dict[str, Any] | None],
    created: datetime | None = None,
) -> dict[str, Any]:
    """The EPCIS document of one lot. `facility_of(equipment)` and `shipment_of(id)` (with its
    from/to facility and vehicle) fill in places the events do not carry."""
    events = []
    for record in records:
        event = _event(chain_id, epc_class, record, facility_of, shipment_of)
        if event is not None:
            events.append(event)
    return {
        "@context": [EPCIS_CONTEXT, {"vx": NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso((created or datetime.now(UTC)).timestamp()),
        "epcisBody": {"eventList": events},
    }


def _event(
    chain_id: int,
    epc_class: str,
    r: ChainRecord,
    facility_of: Callable[[int], int | None],
    shipment_of: Callable[[int], dict[str, Any] | None],
) -> dict[str, Any] | None:
    a = r.args
    action, step, disposition = "OBSERVE", None, None
    quantity: int | None = None
    read_point: int | None = None
    location: int | None = None
    extra: dict[str, Any] = {}
    if r.name == "LotRegistered":
        action, step, disposition, quantity = "ADD", "commissioning", "active", a["doses"]
        read_point = a["equipment"]
    elif r.name == "LotReleased":
        disposition = "available"
        extra["vx:certificateHash"] = a["certificateHash"]
    elif r.name == "Shipped":
        step, disposition, quantity, read_point = "shipping", "in_transit", a["quantity"], a["fromEquipment"]
        source = facility_of(a["fromEquipment"])
        extra["sourceList"] = [{"type": "owning_party", "source": facility_urn(source)}] if source else []
        extra["destinationList"] = [{"type": "owning_party", "destination": facility_urn(a["toFacility"])}]
        extra["vx:shipment"] = a["shipment"]
        extra["vx:vehicle"] = equipment_urn(a["vehicle"])
    elif r.name == "ShipmentReceived":
        step, disposition, quantity, read_point = "receiving", "available", a["accepted"], a["equipment"]
        extra["vx:shipment"] = a["shipment"]
    elif r.name == "ShipmentRefused":
        shipment = shipment_of(a["shipment"]) or {}
        step, disposition, quantity = "receiving", "non_conformant", shipment.get("quantity")
        location = shipment.get("to_facility_id")
        extra["vx:shipment"] = a["shipment"]
    elif r.name == "Moved":
        step, disposition, quantity, read_point = "storing", "available", a["quantity"], a["toEquipment"]
    elif r.name == "WrittenOff":
        action, step, quantity, read_point = "DELETE", "destroying", a["quantity"], a["equipment"]
        disposition = _WRITE_OFF.get(a["reason"], "destroyed")
    elif r.name == "StockQuarantined":
        step, disposition, quantity, read_point = "holding", "non_conformant", a["quantity"], a["equipment"]
        extra["vx:excursion"] = a["excursionRef"]
    elif r.name == "ShipmentQuarantined":
        shipment = shipment_of(a["shipment"]) or {}
        step, disposition, quantity, read_point = "holding", "non_conformant", shipment.get("quantity"), a["vehicle"]
        extra["vx:excursion"] = a["excursionRef"]
    elif r.name == "StockReleased":
        step, disposition, quantity, read_point = "holding", "available", a["quantity"], a["equipment"]
    elif r.name == "ShipmentReleased":
        shipment = shipment_of(a["shipment"]) or {}
        step, disposition, quantity = "holding", "in_transit", shipment.get("quantity")
        read_point = shipment.get("vehicle_id")
    elif r.name == "DoseRecorded":
        action, step, disposition, quantity, read_point = "DELETE", "dispensing", "dispensed", 1, a["equipment"]
        location = a["facility"]
    elif r.name == "LotRecalled":
        disposition = "recalled"
        extra["vx:noticeHash"] = a["noticeHash"]
    else:
        return None
    if location is None and read_point is not None:
        location = facility_of(read_point)
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{chain_id}:{r.block}:{r.log_index}')}",
        "eventTime": _iso(r.at),
        "eventTimeZoneOffset": TZ_OFFSET,
        "action": action,
        "epcList": [],
        "quantityList": [{"epcClass": epc_class, **({"quantity": quantity} if quantity is not None else {})}],
    }
    if step:
        event["bizStep"] = step
    if disposition:
        event["disposition"] = disposition
    if read_point is not None:
        event["readPoint"] = {"id": equipment_urn(read_point)}
    if location is not None:
        event["bizLocation"] = {"id": facility_urn(location)}
    event.update({k: v for k, v in extra.items() if v not in (None, [])})
    event["vx:txHash"] = r.tx_hash
    event["vx:block"] = r.block
    return event


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
