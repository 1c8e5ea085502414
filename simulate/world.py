"""The simulation's own picture of the district: ids the platform gave, sessions, and what the driver believes
is in stock (refreshed from the API every morning and after a refusal, so it never drifts far). The chain is
the truth; this picture only decides what to ask for next."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from simulate.api import Session
from simulate.clock import Period
from simulate.plan import Planner
from simulate.shape import Shape, Site

STORAGE_KINDS = ("fridge", "freezer", "cold_room", "cold_box")


@dataclass
class Facility:
    id: int
    kind: str
    """warehouse, manufacturer, or the site's kind (vaccination_clinic, ...)."""
    name: str
    staff: Session
    equipment: list[tuple[int, str]] = field(default_factory=list)
    """(id, kind) in the order of the district file."""
    site: Site | None = None

    def storage(self) -> list[int]:
        return [eq for eq, kind in self.equipment if kind in STORAGE_KINDS]


@dataclass
class Lot:
    id: int
    product: str
    number: str
    expiry: date
    doses: int
    status: str = "registered"
    """registered, released or recalled."""
    release_due: int = 0
    """Simulated hour (since the warm-up's start) of its batch release."""
    at_maker: bool = True


@dataclass
class Transit:
    shipment: int
    lot: int
    to: int
    """Facility id."""
    quantity: int
    due: int
    """Simulated hour (since the warm-up's start) from which the receiver takes it."""


@dataclass(eq=False)
class Family:
    """A guardian's account with one child; compared by identity."""

    key: int
    session: Session | None = None
    guardian: str = ""
    child: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    """School id -> consent token."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class School:
    id: str
    key: str
    """API key (X-Api-Key)."""


@dataclass
class World:
    shape: Shape
    planner: Planner
    admin: Session
    regulator: Session
    cdc_officer: Session
    cdc: Facility
    makers: dict[str, Facility]
    sites: dict[int, Facility]
    """By the site's index in the district file."""
    products: dict[str, int]
    schools: list[School]
    vans: list[int]
    """Added to every slot's start: the backend refuses a slot that starts before its wall clock, and the simulated
    days lie in the past (simulate/clock.py), so slots are published this many whole days later than simulated."""
    faulty: dict[int, str] = field(default_factory=dict)
    """Equipment -> the fault planned on it (decides disposal or release after its excursion)."""
    lots: dict[int, Lot] = field(default_factory=dict)
    stock: Counter[tuple[int, int]] = field(default_factory=Counter)
    """(facility, lot) -> available doses."""
    transits: list[Transit] = field(default_factory=list)
    reserved: Counter[tuple[int, str]] = field(default_factory=Counter)
    """(site index, product) -> bookings holding a dose."""
    slots: dict[tuple[int, str, int, int], int] = field(default_factory=dict)
    """(site, product, day, half) -> slot id."""
    bookings: dict[str, tuple[int, Family]] = field(default_factory=dict)
    """Plan key -> (booking id, family)."""
    families: list[Family] = field(default_factory=list)
    walk_ins: dict[int, list[str]] = field(default_factory=dict)
    vials: dict[tuple[int, int], tuple[str, int]] = field(default_factory=dict)
    """(site, lot) -> (serial of the open vial, doses taken from it)."""
    given_today: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    """Site -> (code, dose number) given today: what an adverse-event report names."""
    doses_by_lot: Counter[int] = field(default_factory=Counter)
    quarantine_seen: set[tuple[int, int, int, int]] = field(default_factory=set)
    """(facility, equipment, lot, doses) quarantined at the last look at the CDC's board."""
    counts: Counter[str] = field(default_factory=Counter)
    """What happened, by name (doses_given, unserved_no_stock, deliveries_refused, ...)."""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    serial: int = 0

    @property
    def period(self) -> Period:
        return Period(self.planner.start, self.planner.days)

    def facility(self, facility_id: int) -> Facility:
        for f in (self.cdc, *self.makers.values(), *self.sites.values()):
            if f.id == facility_id:
                return f
        raise KeyError(facility_id)

    def next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def usable_lots(self, facility: int, product: str, on: date) -> list[Lot]:
        """Lots of `product` the facility holds available stock of, released, unexpired, earliest expiry first."""
        with self.lock:
            lots = [
                lot
                for (fid, lot_id), n in self.stock.items()
                if fid == facility and n > 0
                for lot in (self.lots[lot_id],)
                if lot.product == product and lot.status == "released" and lot.expiry >= on
            ]
        return sorted(lots, key=lambda lot: (lot.expiry, lot.id))

    def available(self, facility: int, product: str, on: date) -> int:
        with self.lock:
            return sum(self.stock[(facility, lot.id)] for lot in self.usable_lots(facility, product, on))

    def in_transit(self, facility: int, product: str) -> int:
        with self.lock:
            return sum(t.quantity for t in self.transits if t.to == facility and self.lots[t.lot].product == product)
