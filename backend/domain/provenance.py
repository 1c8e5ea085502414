"""The custody path of one dose, worked out from its lot's events (pure functions).

The chain counts doses per lot per piece of equipment, not per vial, so a dose's path is traced
backwards: from the equipment it was taken from, the latest event before the dose that brought the lot
into that equipment (a receipt, a move, or the lot's registration), then from where that came, and so on
to the manufacturer. When a clinic received the same lot twice, the latest delivery before the dose is
taken (first-expiry-first-out makes the two the same lot anyway)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_STEPS = 32  # a lot never crosses more hands than this; a cycle in bad data stops here


@dataclass(frozen=True, slots=True)
class LotEvent:
    block: int
    log_index: int
    name: str
    args: dict[str, Any]
    at: int
    equipment_id: int | None
    shipment_id: int | None

    @property
    def order(self) -> tuple[int, int]:
        return (self.block, self.log_index)


@dataclass(frozen=True, slots=True)
class Stay:
    """The lot in one piece of storage equipment, from `since` until `until` (seconds)."""

    equipment_id: int
    since: int
    until: int


@dataclass(frozen=True, slots=True)
class Leg:
    """A shipment in a vehicle, from dispatch to receipt."""

    shipment_id: int
    vehicle_id: int
    from_equipment_id: int
    to_equipment_id: int
    shipped_at: int
    received_at: int


@dataclass
class Path:
    """Oldest first: the stays and legs that brought the dose from the manufacturer's store to the arm."""

    steps: list[Stay | Leg] = field(default_factory=list)
    complete: bool = True
    """False when the trail ran out before reaching the lot's registration."""


def dose_path(events: list[LotEvent], equipment_id: int, dose_at: tuple[int, int], dose_time: int) -> Path:
    """The path of a dose taken from `equipment_id` at chain position `dose_at` (block, log index)."""
    ordered = sorted(events, key=lambda e: e.order)
    shipped = {e.args["shipment"]: e for e in ordered if e.name == "Shipped"}
    steps: list[Stay | Leg] = []
    where, before, until = equipment_id, dose_at, dose_time
    for _ in range(MAX_STEPS):
        entry = _latest_entry(ordered, where, before)
        if entry is None:
            return Path(list(reversed(steps)), complete=False)
        steps.append(Stay(where, entry.at, until))
        if entry.name == "LotRegistered":
            return Path(list(reversed(steps)), complete=True)
        if entry.name == "Moved":
            where, before, until = entry.args["fromEquipment"], entry.order, entry.at
            continue
        dispatch = shipped.get(entry.args["shipment"])
        if dispatch is None:
            return Path(list(reversed(steps)), complete=False)
        steps.append(
            Leg(
                shipment_id=entry.args["shipment"],
                vehicle_id=dispatch.args["vehicle"],
                from_equipment_id=dispatch.args["fromEquipment"],
                to_equipment_id=where,
                shipped_at=dispatch.at,
                received_at=entry.at,
            )
        )
        where, before, until = dispatch.args["fromEquipment"], dispatch.order, dispatch.at
    return Path(list(reversed(steps)), complete=False)


def _latest_entry(events: list[LotEvent], equipment_id: int, before: tuple[int, int]) -> LotEvent | None:
    found = None
    for e in events:
        if e.order >= before:
            break
        if _enters(e) == equipment_id:
            found = e
    return found


def _enters(e: LotEvent) -> int | None:
    """The storage equipment this event put doses of the lot into, if any."""
    if e.name == "LotRegistered":
        return e.args["equipment"]
    if e.name == "ShipmentReceived":
        return e.args["equipment"]
    if e.name == "Moved":
        return e.args["toEquipment"]
    return None
