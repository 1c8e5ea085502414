"""Stateful (rule-based) test of the supply chain: hypothesis drives random sequences of
ship / receive (full and partial) / refuse / move / write-off / quarantine / end excursion /
release / dispose / dose (walk-in and booked) / lot recall and release / slot publish / book /
cancel / mark missed / time passing against the real contracts, and a plain-Python model
predicts every outcome.

Every transaction must end as the model says: success, or a revert with the custom error the
model names (the first interlock the contract checks, in the contract's own order). After
every step, one batch of view calls is compared with the model:

1. conservation per lot: stock in all equipment (available + quarantined) + open shipments
   + doses administered + doses written off = doses produced, where administered and
   written-off are summed from the DoseRecorded / WrittenOff events of the transactions;
2. the model's stock per (lot, equipment), open shipments, lot status, units, slots,
   bookings, and every site's available / reserved stock per vaccine type equal the views;
3. equipment(eq).openItems = lots with stock in it (storage) or open shipments in it
   (vehicles), both as the model predicts and as the chain's own views show.

VAXLEDGER_STATEFUL_EXAMPLES (default 50) and VAXLEDGER_STATEFUL_STEPS (default 40) scale the
run; the defaults take about a minute here (hypothesis 6.27 makes its first ~20 examples only a
step or two long). Run with -s to see how often each transaction succeeded or failed, and why."""

from __future__ import annotations

import copy
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from brownie import accounts, chain, web3
from brownie.exceptions import VirtualMachineError
from brownie.test import strategy
from hypothesis import HealthCheck
from hypothesis import strategies as st

from chain.enums import BookingStatus, EquipmentKind, FacilityKind, LotStatus, WriteOffReason
from scripts.brownie_fixes import working_state_machine
from tests.contracts.conftest import text32, unit, vtype

EXAMPLES = int(os.environ.get("VAXLEDGER_STATEFUL_EXAMPLES", "50"))
STEPS = int(os.environ.get("VAXLEDGER_STATEFUL_STEPS", "40"))

HOUR = 3_600
HALF_HOUR = 1_800
# Deadlines (lot expiry, slot ends) sit half an hour off the whole hours that time moves by,
# so a transaction's block time is never within seconds of one; see SupplyChain._outcomes.
SHORT_SHELF = 6 * HOUR + HALF_HOUR
CLOCK_SLACK = 5  # seconds the next block's timestamp may run ahead of Brownie's clock
HEPB = vtype("HepB")
BOPV = vtype("bOPV")
VACCINE_TYPES = (HEPB, BOPV)
# Unit codes reused across doses: OPV-A has 2 of its 10 doses left, OPV-B and HB-A are used up
# (see the supply fixture), U-1 and U-2 are bound to whichever lot first uses them.
UNIT_POOL = ("OPV-A", "OPV-B", "HB-A", "U-1", "U-2")
CITIZENS = range(5, 10)
# (transaction, outcome) -> count over the whole run; printed at the end (visible with -s)
OUTCOMES: Counter = Counter()


# --- the district the machine starts from ----------------------------------------------


@dataclass
class Supply:
    """What this module adds to the standard world."""

    cdc_room2: int  # a second cold room at the CDC, so the CDC can move stock
    truck: int  # the manufacturer's vehicle, so quarantining the van does not stop all transport
    short_lot: int  # HepB, released, expires 6.5 hours after the fixture is built
    bopv_lot2: int  # bOPV, registered but not released, all at the manufacturer


def _pseudonym(n: int) -> bytes:
    return bytes(web3.keccak(text=f"person-{n}"))


@pytest.fixture(scope="module")
def supply(world: Any) -> Supply:
    w, d = world, world.district
    cdc_room2 = d.equipment(w.cdc, EquipmentKind.COLD_ROOM, "CDC-CR2")
    truck = d.equipment(w.maker, EquipmentKind.VEHICLE, "M-TRUCK1")
    tx = w.ledger.registerLot(
        w.hepb, text32("HB-SHORT"), chain.time() + SHORT_SHELF, 300, w.maker_room, {"from": w.maker_staff}
    )
    short_lot = tx.events["LotRegistered"]["lot"]
    w.ledger.releaseLot(short_lot, text32("cert:HB-SHORT"), {"from": w.regulator})
    bopv_lot2 = d.lot(w.bopv, "OP002", 300, w.maker_room, release=False)

    d.deliver(short_lot, w.maker_room, truck, w.cdc_room, 200)
    d.deliver(short_lot, w.cdc_room, w.van, w.fridge2, 40)
    d.deliver(w.hepb_lot2, w.cdc_room, w.van, w.fridge_b, 3)  # clinic2 holds only 3 HepB doses
    d.deliver(w.bopv_lot, w.cdc_room, w.van, w.cold_box, 30)
    d.receive(d.ship(w.hepb_lot, w.cdc_room, w.van, w.clinic, 20), w.fridge, 15)  # 5 written off
    n = 0
    for code, lot, doses in (("OPV-A", w.bopv_lot, 8), ("OPV-B", w.bopv_lot, 10), ("HB-A", w.hepb_lot, 1)):
        for _ in range(doses):
            n += 1
            w.ledger.recordDose(_pseudonym(-n), lot, w.fridge, unit(code), 0, {"from": w.nurse})
    # in transit when the machine starts; the truck's shipment is quarantined, the truck under excursion
    d.ship(w.hepb_lot2, w.cdc_room, w.van, w.clinic, 50)
    d.ship(w.bopv_lot, w.cdc_room, w.van, w.clinic2, 20)
    d.ship(short_lot, w.cdc_room, w.van, w.clinic2, 10)
    d.ship(w.bopv_lot, w.cdc_room, w.van, w.clinic, 30)
    in_truck = d.ship(w.hepb_lot, w.maker_room, truck, w.cdc, 100)
    w.ledger.quarantineShipments(truck, [in_truck], text32("exc-truck"), {"from": w.oracle})
    # quarantined stock: the clinic's cold box still under excursion, the CDC's second room after one
    w.ledger.quarantineStock(w.cold_box, [w.bopv_lot], text32("exc-box"), {"from": w.oracle})
    w.ledger.move(w.hepb_lot2, w.cdc_room, cdc_room2, 100, {"from": w.cdc_staff})
    w.ledger.quarantineStock(cdc_room2, [w.hepb_lot2], text32("exc-cr2"), {"from": w.oracle})
    w.ledger.endExcursion(cdc_room2, text32("exc-cr2"), {"from": w.oracle})
    # slots (ends on the half hour) and bookings: clinic2 has 2 of its 3 HepB doses reserved
    s1 = d.slot(w.clinic2, "HepB", start_in=HOUR + HALF_HOUR, duration=HOUR, capacity=3)
    s2 = d.slot(w.clinic, "bOPV", start_in=HALF_HOUR, duration=HOUR, capacity=2)
    d.slot(w.clinic, "HepB", start_in=3 * HOUR + HALF_HOUR, duration=2 * HOUR, capacity=4)
    for slot_id, citizen in ((s1, 5), (s1, 6), (s2, 7)):
        n += 1
        w.appointments.book(slot_id, _pseudonym(-n), {"from": accounts[citizen]})
    return Supply(cdc_room2=cdc_room2, truck=truck, short_lot=short_lot, bopv_lot2=bopv_lot2)


# --- reading many views in one round trip -------------------------------------------------

_session = requests.Session()
_encoded: dict[tuple[str, str, tuple], str] = {}


def _eth_calls(calls: list[tuple[Any, tuple]]) -> list[Any]:
    """Runs the view calls [(contract_method, args)] as one JSON-RPC batch; decoded results in order."""
    payload = []
    for i, (method, args) in enumerate(calls):
        key = (method._address, method.abi["name"], args)
        data = _encoded.get(key)
        if data is None:
            data = _encoded[key] = method.encode_input(*args)
        payload.append(
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": method._address, "data": data}, "latest"],
            }
        )
    replies = _session.post(web3.provider.endpoint_uri, json=payload, timeout=120).json()
    replies.sort(key=lambda r: r["id"])
    out = []
    for (method, args), reply in zip(calls, replies, strict=True):
        assert "result" in reply, f"{method.abi['name']}{args} failed: {reply}"
        out.append(method.decode_output(reply["result"]))
    return out


# --- the model -------------------------------------------------------------------------------


@dataclass
class Lot:
    vaccine_type: bytes
    doses_per_unit: int
    expiry: int
    status: int
    produced: int
    manufacturer: int


@dataclass
class Shipment:
    lot: int
    from_facility: int
    to_facility: int
    vehicle: int
    quantity: int
    quarantined: bool
    vaccine_type: bytes
    doses_per_unit: int

    def view(self) -> tuple:
        return (
            self.lot,
            self.from_facility,
            self.to_facility,
            self.vehicle,
            self.quantity,
            self.quarantined,
            self.vaccine_type,
            self.doses_per_unit,
        )


NO_SHIPMENT = (0, 0, 0, 0, 0, False, bytes(8), 0)


@dataclass
class Slot:
    site: int
    vaccine_type: bytes
    start: int
    duration: int
    capacity: int
    booked: int

    @property
    def end(self) -> int:
        return self.start + self.duration


@dataclass
class Booking:
    booker: str
    slot: int
    status: int


@dataclass
class Model:
    lots: dict[int, Lot]
    # (lot, equipment) -> [available, quarantined]; only entries that hold doses
    stock: dict[tuple[int, int], list[int]]
    shipments: dict[int, Shipment]  # open shipments only
    shipment_count: int
    excursion: set[int]  # equipment under excursion
    out_of_service: set[int]  # equipment set inactive
    closed: set[int]  # facilities set inactive
    units: dict[bytes, list[int]]  # unit hash -> [lot, uses]
    slots: dict[int, Slot]
    bookings: dict[int, Booking]
    administered: Counter = field(default_factory=Counter)  # per lot, from DoseRecorded events
    written_off: Counter = field(default_factory=Counter)  # per lot, from WrittenOff events


def _quantity(have: int, dose_unit: int, pick: int) -> int:
    """A quantity to try against `have`: all of it, part of it in whole units, half,
    a few doses (not whole units of a multi-dose product), one unit too many, or zero."""
    mode, rest = pick % 8, pick // 8
    if mode <= 1:
        return have or dose_unit
    if mode <= 3:
        units = have // dose_unit
        return dose_unit * (1 + rest % units) if units else dose_unit
    if mode == 4:
        return max(1, have // 2)
    if mode == 5:
        return 1 + rest % 9
    if mode == 6:
        return have + dose_unit * (1 + rest % 3)
    return 0 if rest % 2 == 0 else have + 1


def _error_name(exc: VirtualMachineError) -> str:
    """Brownie renders a custom error as "Name: arg, ..."; panics and bare reverts otherwise."""
    message = exc.revert_msg or ""
    return message.split(":", 1)[0].strip() or f"<revert without reason: {exc}>"


# --- the state machine -------------------------------------------------------------------


class SupplyChain:
    st_pick = strategy("uint16")
    st_noise = st.integers(min_value=0, max_value=15)  # 1..4 pick something deliberately off-target
    st_qty = strategy("uint8")
    st_reason = st.sampled_from(list(WriteOffReason))
    st_hours = st.sampled_from([1, 2, 3, 6, 12, 24])
    st_capacity = st.integers(min_value=1, max_value=3)

    def __init__(self, world: Any, supply: Supply) -> None:
        # Called once, on the class: static facts and the starting model, read from the chain.
        self.w = world
        self.ledger = world.ledger
        self.appointments = world.appointments
        self.oracle, self.regulator = world.oracle, world.regulator
        self.staff = dict(world.district.staff)  # facility -> its staff account
        self.citizens = [accounts[i] for i in CITIZENS]
        self.clinics = [world.clinic, world.clinic2]
        ledger = self.ledger

        facility_ids = list(range(1, ledger.facilityCount() + 1))
        equipment_ids = list(range(1, ledger.equipmentCount() + 1))
        lot_ids = list(range(1, ledger.lotCount() + 1))
        shipment_count = ledger.shipmentCount()
        slot_count = self.appointments.slotCount()
        booking_count = self.appointments.bookingCount()
        unit_hashes = [bytes(unit(code)) for code in UNIT_POOL]

        views = iter(
            _eth_calls(
                [(ledger.facility, (f,)) for f in facility_ids]
                + [(ledger.equipment, (e,)) for e in equipment_ids]
                + [(ledger.lot, (lot,)) for lot in lot_ids]
                + [(ledger.stockOf, (lot, e)) for lot in lot_ids for e in equipment_ids]
                + [(ledger.shipment, (s,)) for s in range(1, shipment_count + 1)]
                + [(ledger.unit, (h,)) for h in unit_hashes]
                + [(self.appointments.slot, (s,)) for s in range(1, slot_count + 1)]
                + [(self.appointments.booking, (b,)) for b in range(1, booking_count + 1)]
            )
        )
        self.facility_kind, closed = {}, set()
        for f in facility_ids:
            kind, active = next(views)
            self.facility_kind[f] = kind
            if not active:
                closed.add(f)
        self.facilities = facility_ids
        self.eq_facility, self.eq_kind, excursion, out_of_service = {}, {}, set(), set()
        for e in equipment_ids:
            facility, kind, active, under_excursion, _open = next(views)
            self.eq_facility[e], self.eq_kind[e] = facility, kind
            if under_excursion:
                excursion.add(e)
            if not active:
                out_of_service.add(e)
        self.equipment_ids = equipment_ids
        self.vehicles = [e for e in equipment_ids if self.eq_kind[e] == EquipmentKind.VEHICLE]
        self.storage = [e for e in equipment_ids if self.eq_kind[e] != EquipmentKind.VEHICLE]
        self.lot_ids = lot_ids
        lots = {}
        for lot in lot_ids:
            _product, manufacturer, vt, expiry, dpu, status, produced = next(views)
            lots[lot] = Lot(bytes(vt), dpu, expiry, status, produced, manufacturer)
        stock = {}
        for lot in lot_ids:
            for e in equipment_ids:
                available, quarantined, _facility = next(views)
                if available or quarantined:
                    stock[(lot, e)] = [available, quarantined]
        shipments = {}
        for s in range(1, shipment_count + 1):
            view = next(views)
            if view[0]:
                shipments[s] = Shipment(*view[:6], bytes(view[6]), view[7])
        units = {}
        for h in unit_hashes:
            lot, uses = next(views)
            if uses:
                units[h] = [lot, uses]
        slots = {s: Slot(site, bytes(vt), *rest) for s in range(1, slot_count + 1) for site, vt, *rest in [next(views)]}
        bookings = {
            b: Booking(str(booker), slot, status)
            for b in range(1, booking_count + 1)
            for booker, slot, status in [next(views)]
        }
        # Doses administered and written off so far are not in any view: sum the events.
        events = web3.eth.contract(address=ledger.address, abi=ledger.abi).events
        administered = Counter(log.args.lot for log in events.DoseRecorded.get_logs(from_block=0))
        written_off = Counter()
        for log in events.WrittenOff.get_logs(from_block=0):
            written_off[log.args.lot] += log.args.quantity
        self.initial = Model(
            lots,
            stock,
            shipments,
            shipment_count,
            excursion,
            out_of_service,
            closed,
            units,
            slots,
            bookings,
            administered,
            written_off,
        )

    def setup(self) -> None:
        # Each example starts from the chain snapshot, so from a fresh copy of the model.
        self.m = copy.deepcopy(self.initial)
        self.people = 0
        self.fresh_units = 0

    # --- derived model quantities ---------------------------------------------------------

    def site_available(self, site: int, vt: bytes) -> int:
        return sum(
            held[0]
            for (lot, e), held in self.m.stock.items()
            if self.eq_facility[e] == site and self.m.lots[lot].vaccine_type == vt
        )

    def site_reserved(self, site: int, vt: bytes) -> int:
        return sum(
            1
            for b in self.m.bookings.values()
            if b.status == BookingStatus.BOOKED
            and self.m.slots[b.slot].site == site
            and self.m.slots[b.slot].vaccine_type == vt
        )

    def open_items(self, e: int) -> int:
        if self.eq_kind[e] == EquipmentKind.VEHICLE:
            return sum(1 for s in self.m.shipments.values() if s.vehicle == e)
        return sum(1 for (_lot, held_in) in self.m.stock if held_in == e)

    def items_in(self, e: int) -> list[int]:
        if self.eq_kind[e] == EquipmentKind.VEHICLE:
            return sorted(i for i, s in self.m.shipments.items() if s.vehicle == e)
        return sorted(lot for (lot, held_in) in self.m.stock if held_in == e)

    def membership(self, account: Any) -> tuple[int, int]:
        for facility, member in self.staff.items():
            if str(member) == str(account):
                return facility, self.facility_kind[facility]
        return 0, FacilityKind.NONE

    # --- choosing among what exists ---------------------------------------------------------

    def _entry(self, pick: int, wild: bool, where: list[int] | None = None) -> tuple[int, int]:
        """A (lot, equipment) holding stock (in `where`, if given); `wild`: any lot and storage."""
        where = self.storage if where is None else where
        entries = sorted(k for k in self.m.stock if k[1] in where)
        if wild or not entries:
            return self.lot_ids[pick % len(self.lot_ids)], where[(pick // len(self.lot_ids)) % len(where)]
        return entries[pick % len(entries)]

    def _shipment_id(self, pick: int, wild: bool, only: Any = None) -> int:
        candidates = sorted(i for i, s in self.m.shipments.items() if only is None or only(s))
        if wild or not candidates:
            return pick % (self.m.shipment_count + 2)  # includes 0, closed ones and the next id
        return candidates[pick % len(candidates)]

    def _booking_id(self, pick: int, wild: bool) -> int:
        active = sorted(i for i, b in self.m.bookings.items() if b.status == BookingStatus.BOOKED)
        if wild or not active:
            return 1 + pick % (len(self.m.bookings) + 1)
        return active[pick % len(active)]

    def _other_facility(self, facility: int, pick: int) -> int:
        others = [f for f in self.facilities if f != facility]
        return others[pick % len(others)]

    def _unit(self, pick: int, lot: int) -> bytes:
        """A new unit code, one already used with `lot` (multi-dose: until used up), or one from the pool."""
        mode, rest = pick % 4, pick // 4
        same_lot = sorted(h for h, (used_lot, _uses) in self.m.units.items() if used_lot == lot)
        if mode == 2 and same_lot:
            return same_lot[rest % len(same_lot)]
        if mode == 3:
            return bytes(unit(UNIT_POOL[rest % len(UNIT_POOL)]))
        self.fresh_units += 1
        return bytes(unit(f"fresh-{self.fresh_units}"))

    def _person(self) -> bytes:
        self.people += 1
        return _pseudonym(self.people)

    # --- sending and checking -----------------------------------------------------------------

    def _outcomes(self, predict: Any, *args: Any) -> set:
        """The outcomes the model allows: `predict(*args, now)` at both ends of the window in
        which the next block's timestamp falls (they differ only right at a deadline)."""
        latest = web3.eth.get_block("latest")["timestamp"]
        return {predict(*args, latest), predict(*args, max(latest, chain.time()) + CLOCK_SLACK)}

    def _send(self, what: str, method: Any, args: tuple, sender: Any, expected: Any) -> Any:
        expected = expected if isinstance(expected, set) else {expected}
        shown = " or ".join(sorted(e or "success" for e in expected))
        try:
            tx = method(*args, {"from": sender})
        except VirtualMachineError as exc:
            got = _error_name(exc)
            OUTCOMES[(what, got)] += 1
            assert got in expected, f"{what}{args}: chain reverted with {exc.revert_msg!r}, model expected {shown}"
            return None
        OUTCOMES[(what, "success")] += 1
        assert None in expected, f"{what}{args}: chain accepted it, model expected {shown}"
        return tx

    def _settle(self, tx: Any, doses: Counter | None = None, written: Counter | None = None) -> None:
        """Counts the transaction's DoseRecorded / WrittenOff events into the model, after checking
        they are the ones the model predicts."""
        seen_doses, seen_written = Counter(), Counter()
        if "DoseRecorded" in tx.events:
            for ev in tx.events["DoseRecorded"]:
                seen_doses[ev["lot"]] += 1
        if "WrittenOff" in tx.events:
            for ev in tx.events["WrittenOff"]:
                seen_written[ev["lot"]] += ev["quantity"]
        assert seen_doses == (doses or Counter()), f"DoseRecorded events {seen_doses}, model predicted {doses}"
        assert seen_written == (written or Counter()), f"WrittenOff events {seen_written}, model predicted {written}"
        self.m.administered.update(seen_doses)
        self.m.written_off.update(seen_written)

    def _take(self, lot: int, e: int, quantity: int) -> None:
        held = self.m.stock[(lot, e)]
        held[0] -= quantity
        if held == [0, 0]:
            del self.m.stock[(lot, e)]

    def _put(self, lot: int, e: int, quantity: int) -> None:
        self.m.stock.setdefault((lot, e), [0, 0])[0] += quantity

    # --- what the contracts must do: the first failing check, in the contracts' order ---------

    def _usable(self, lot_id: int, now: int) -> str | None:
        lot = self.m.lots.get(lot_id)
        status = lot.status if lot else LotStatus.NONE
        if status != LotStatus.RELEASED:
            if status == LotStatus.RECALLED:
                return "LotUnderRecall"
            return "UnknownLot" if status == LotStatus.NONE else "LotNotReleased"
        if now > lot.expiry:
            return "LotExpired"
        return None

    def _take_stock(self, lot: int, e: int, facility: int, quantity: int) -> str | None:
        held = self.m.stock.get((lot, e))
        if held is None:
            return "NotHeld"
        if self.eq_facility[e] != facility:
            return "WrongFacility"
        if held[0] < quantity:
            return "StockInQuarantine" if held[0] == 0 else "InsufficientStock"
        return None

    def _take_site_stock(self, site: int, vt: bytes, quantity: int) -> str | None:
        if self.site_available(site, vt) - quantity < self.site_reserved(site, vt):
            return "StockReserved"
        return None

    def _storage(self, e: int, facility: int) -> str | None:
        if self.eq_kind[e] == EquipmentKind.VEHICLE:
            return "InvalidEquipmentKind"
        if e in self.m.out_of_service:
            return "EquipmentInactive"
        if self.eq_facility[e] != facility:
            return "WrongFacility"
        if e in self.m.excursion:
            return "EquipmentUnderExcursion"
        return None

    def _open_shipment(self, sid: int) -> str | None:
        if sid in self.m.shipments:
            return None
        return "UnknownShipment" if sid == 0 or sid > self.m.shipment_count else "ShipmentNotInTransit"

    def predict_ship(self, facility, lot, source, vehicle, to, quantity, now):
        if quantity == 0:
            return "ZeroQuantity"
        if err := self._usable(lot, now):
            return err
        if quantity % self.m.lots[lot].doses_per_unit:
            return "NotWholeUnits"
        if to == facility:
            return "SameFacility"
        if to in self.m.closed:
            return "FacilityInactive"
        if self.eq_kind[vehicle] != EquipmentKind.VEHICLE:
            return "NotAVehicle"
        if vehicle in self.m.out_of_service:
            return "EquipmentInactive"
        if vehicle in self.m.excursion:
            return "EquipmentUnderExcursion"
        return self._take_stock(lot, source, facility, quantity) or self._take_site_stock(
            facility, self.m.lots[lot].vaccine_type, quantity
        )

    def predict_receive(self, facility, sid, e, accepted, reason):
        if err := self._open_shipment(sid):
            return err
        s = self.m.shipments[sid]
        if facility != s.to_facility:
            return "WrongFacility"
        if s.quarantined:
            return "ShipmentInQuarantine"
        if accepted == 0:
            return "ZeroQuantity"
        if accepted > s.quantity:
            return "ExceedsShipment"
        if accepted % s.doses_per_unit:
            return "NotWholeUnits"
        if accepted < s.quantity and reason == WriteOffReason.NONE:
            return "ReasonRequired"
        return self._storage(e, facility)

    def predict_refuse(self, facility, sid, reason):
        if err := self._open_shipment(sid):
            return err
        if facility != self.m.shipments[sid].to_facility:
            return "WrongFacility"
        return "ReasonRequired" if reason == WriteOffReason.NONE else None

    def predict_move(self, facility, lot, source, to, quantity):
        if quantity == 0:
            return "ZeroQuantity"
        if source == to:
            return "SameEquipment"
        return self._storage(to, facility) or self._take_stock(lot, source, facility, quantity)

    def predict_write_off(self, facility, lot, e, quantity, reason):
        if quantity == 0:
            return "ZeroQuantity"
        if reason == WriteOffReason.NONE:
            return "ReasonRequired"
        return self._take_stock(lot, e, facility, quantity)

    def predict_quarantine(self, caller, e, listed, stock_call):
        if caller not in (self.oracle, self.regulator, self.staff[self.w.cdc]):
            return "MissingRole"
        is_vehicle = self.eq_kind[e] == EquipmentKind.VEHICLE
        if stock_call and is_vehicle:
            return "InvalidEquipmentKind"
        if not stock_call and not is_vehicle:
            return "NotAVehicle"
        if len(listed) != self.open_items(e):
            return "QuarantineListMismatch"
        previous = 0
        for item in listed:
            if item <= previous:
                return "QuarantineListUnsorted"
            previous = item
            if stock_call and (item, e) not in self.m.stock:
                return "NotHeld"
            if not stock_call and (item not in self.m.shipments or self.m.shipments[item].vehicle != e):
                return "NotInVehicle"
        return None

    def _cdc_or_regulator(self, caller) -> bool:
        return caller in (self.regulator, self.staff[self.w.cdc])

    def predict_release_stock(self, caller, e, lot, quantity):
        if not self._cdc_or_regulator(caller):
            return "MissingRole"
        if quantity == 0:
            return "ZeroQuantity"
        if e in self.m.excursion:
            return "EquipmentUnderExcursion"
        return self._quarantined(lot, e, quantity)

    def predict_dispose(self, caller, e, lot, quantity, reason):
        if not self._cdc_or_regulator(caller):
            return "MissingRole"
        if quantity == 0:
            return "ZeroQuantity"
        if reason == WriteOffReason.NONE:
            return "ReasonRequired"
        return self._quarantined(lot, e, quantity)

    def _quarantined(self, lot, e, quantity):
        held = self.m.stock.get((lot, e))
        if held is None:
            return "NotHeld"
        return "InsufficientQuarantined" if held[1] < quantity else None

    def predict_release_shipment(self, caller, sid):
        if not self._cdc_or_regulator(caller):
            return "MissingRole"
        if err := self._open_shipment(sid):
            return err
        s = self.m.shipments[sid]
        if not s.quarantined:
            return "ShipmentNotQuarantined"
        return "EquipmentUnderExcursion" if s.vehicle in self.m.excursion else None

    def predict_dose(self, sender, lot_id, e, unit_hash, booking_id, now):
        facility, kind = self.membership(sender)
        if kind != FacilityKind.CLINIC:
            return "NotAClinic"
        if err := self._usable(lot_id, now):
            return err
        lot = self.m.lots[lot_id]
        used = self.m.units.get(unit_hash)
        if used and used[0] != lot_id:
            return "UnitLotMismatch"
        if used and used[1] >= lot.doses_per_unit:
            return "UnitUsedUp"
        if err := self._take_stock(lot_id, e, facility, 1):
            return err
        if booking_id == 0:
            return self._take_site_stock(facility, lot.vaccine_type, 1)
        booking = self.m.bookings.get(booking_id)
        if booking is None:
            return "UnknownBooking"
        if booking.status != BookingStatus.BOOKED:
            return "BookingNotActive"
        slot = self.m.slots[booking.slot]
        if slot.site != facility:
            return "BookedAtOtherSite"
        return "BookingTypeMismatch" if slot.vaccine_type != lot.vaccine_type else None

    def predict_recall(self, caller, lot_id):
        lot = self.m.lots[lot_id]
        if caller != self.regulator:
            facility, _kind = self.membership(caller)
            if facility == 0:
                return "NotAMember"
            if facility != lot.manufacturer:
                return "WrongFacility"
        return "LotUnderRecall" if lot.status == LotStatus.RECALLED else None

    def _clinic_of(self, sender):
        facility, kind = self.membership(sender)
        if facility == 0:
            return None, "NotAMember"
        if kind != FacilityKind.CLINIC:
            return None, "NotAClinic"
        return facility, None

    def predict_book(self, slot_id, now):
        slot = self.m.slots.get(slot_id)
        if slot is None:
            return "UnknownSlot"
        if now >= slot.end:
            return "SlotClosed"
        if slot.booked >= slot.capacity:
            return "SlotFull"
        if self.site_available(slot.site, slot.vaccine_type) <= self.site_reserved(slot.site, slot.vaccine_type):
            return "StockReserved"
        return None

    def _active(self, booking_id):
        booking = self.m.bookings.get(booking_id)
        if booking is None:
            return "UnknownBooking"
        return "BookingNotActive" if booking.status != BookingStatus.BOOKED else None

    def predict_cancel(self, sender, booking_id):
        if err := self._active(booking_id):
            return err
        booking = self.m.bookings[booking_id]
        if str(sender) != booking.booker:
            facility, _kind = self.membership(sender)
            if facility != self.m.slots[booking.slot].site:
                return "NotBooker"  # strangers too: whoever is not the booker nor the site's staff
        return None

    def predict_mark_missed(self, sender, booking_id, now):
        if err := self._active(booking_id):
            return err
        slot = self.m.slots[self.m.bookings[booking_id].slot]
        site, err = self._clinic_of(sender)
        if err:
            return err
        if site != slot.site:
            return "WrongSite"
        return "SlotNotOver" if now < slot.end else None

    # --- rules: custody ------------------------------------------------------------------------

    def rule_ship(self, entry="st_pick", vehicle_pick="st_pick", dest="st_pick", qty="st_qty", noise="st_noise"):
        lot, source = self._entry(entry, noise == 1)
        holder = self.eq_facility[source]
        facility = self._other_facility(holder, dest) if noise == 2 else holder
        if noise == 3:
            vehicle = self.storage[vehicle_pick % len(self.storage)]
        else:
            vehicle = self.vehicles[vehicle_pick % len(self.vehicles)]
        to = facility if noise == 4 else self._other_facility(facility, dest)
        quantity = _quantity(self.m.stock.get((lot, source), [0])[0], self.m.lots[lot].doses_per_unit, qty)
        expected = self._outcomes(self.predict_ship, facility, lot, source, vehicle, to, quantity)
        args = (lot, source, vehicle, to, quantity)
        tx = self._send("ship", self.ledger.ship, args, self.staff[facility], expected)
        if tx is None:
            return
        sid = tx.events["Shipped"]["shipment"]
        assert sid == self.m.shipment_count + 1
        self.m.shipment_count = sid
        self._take(lot, source, quantity)
        lot_facts = self.m.lots[lot]
        self.m.shipments[sid] = Shipment(
            lot, facility, to, vehicle, quantity, False, lot_facts.vaccine_type, lot_facts.doses_per_unit
        )
        self._settle(tx)

    def rule_receive(self, ship="st_pick", eq="st_pick", qty="st_qty", reason="st_reason", noise="st_noise"):
        sid = self._shipment_id(ship, noise == 1)
        s = self.m.shipments.get(sid)
        to = s.to_facility if s else self.facilities[ship % len(self.facilities)]
        facility = self._other_facility(to, ship) if noise == 2 else to
        if noise == 3:
            e = self.equipment_ids[eq % len(self.equipment_ids)]
        else:
            own = [x for x in self.storage if self.eq_facility[x] == facility]
            e = own[eq % len(own)]
        accepted = _quantity(s.quantity if s else 1, s.doses_per_unit if s else 1, qty)
        expected = self.predict_receive(facility, sid, e, accepted, reason)
        tx = self._send(
            "receiveShipment", self.ledger.receiveShipment, (sid, e, accepted, reason), self.staff[facility], expected
        )
        if tx is None:
            return
        del self.m.shipments[sid]
        self._put(s.lot, e, accepted)
        self._settle(tx, written=Counter({s.lot: s.quantity - accepted}) if accepted < s.quantity else None)

    def rule_refuse(self, ship="st_pick", reason="st_reason", noise="st_noise"):
        sid = self._shipment_id(ship, noise == 1)
        s = self.m.shipments.get(sid)
        to = s.to_facility if s else self.facilities[ship % len(self.facilities)]
        facility = self._other_facility(to, ship) if noise == 2 else to
        expected = self.predict_refuse(facility, sid, reason)
        tx = self._send("refuseShipment", self.ledger.refuseShipment, (sid, reason), self.staff[facility], expected)
        if tx is None:
            return
        del self.m.shipments[sid]
        self._settle(tx, written=Counter({s.lot: s.quantity}))

    def rule_move(self, entry="st_pick", to_pick="st_pick", qty="st_qty", noise="st_noise"):
        lot, source = self._entry(entry, noise == 1)
        holder = self.eq_facility[source]
        facility = self._other_facility(holder, to_pick) if noise == 2 else holder
        targets = [e for e in self.storage if self.eq_facility[e] == holder and e != source]
        if noise == 3 or not targets:
            to = self.equipment_ids[to_pick % len(self.equipment_ids)]
        else:
            to = targets[to_pick % len(targets)]
        quantity = _quantity(self.m.stock.get((lot, source), [0])[0], 1, qty)
        expected = self.predict_move(facility, lot, source, to, quantity)
        tx = self._send("move", self.ledger.move, (lot, source, to, quantity), self.staff[facility], expected)
        if tx is None:
            return
        self._take(lot, source, quantity)
        self._put(lot, to, quantity)
        self._settle(tx)

    def rule_write_off(self, entry="st_pick", qty="st_qty", reason="st_reason", noise="st_noise"):
        lot, e = self._entry(entry, noise == 1)
        holder = self.eq_facility[e]
        facility = self._other_facility(holder, entry) if noise == 2 else holder
        quantity = _quantity(self.m.stock.get((lot, e), [0])[0], 1, qty)
        expected = self.predict_write_off(facility, lot, e, quantity, reason)
        tx = self._send("writeOff", self.ledger.writeOff, (lot, e, quantity, reason), self.staff[facility], expected)
        if tx is None:
            return
        self._take(lot, e, quantity)
        self._settle(tx, written=Counter({lot: quantity}))

    # --- rules: quarantine ------------------------------------------------------------------------

    def rule_quarantine(self, eq="st_pick", how="st_pick", noise="st_noise"):
        e = self.equipment_ids[eq % len(self.equipment_ids)]
        is_vehicle = self.eq_kind[e] == EquipmentKind.VEHICLE
        stock_call = is_vehicle if noise == 3 else not is_vehicle
        items = self.items_in(e)
        # an id that is not in the equipment: a lot without stock there / a shipment elsewhere
        if stock_call:
            absent = [lot for lot in self.lot_ids if (lot, e) not in self.m.stock] or [len(self.lot_ids) + 1]
        else:
            absent = [i for i in range(1, self.m.shipment_count + 2) if i not in items]
        stranger = absent[how % len(absent)]
        listed = list(items)
        corruption = how % 12
        if corruption == 0 and listed:
            listed.pop(how % len(listed))  # one missing
        elif corruption == 1:
            listed.reverse()  # unsorted when two or more
        elif corruption == 2:
            listed = sorted([*listed, stranger])  # one too many
        elif corruption == 3 and listed:
            listed[-1] = stranger  # right length, wrong item
        elif corruption == 4 and len(listed) >= 2:
            listed[1] = listed[0]  # duplicate
        callers = [self.oracle, self.oracle, self.regulator, self.staff[self.w.cdc]]
        caller = self.staff[self.w.clinic] if noise == 2 else callers[(how // 12) % len(callers)]
        expected = self.predict_quarantine(caller, e, listed, stock_call)
        ref = text32(f"exc-{e}-{how}")
        if stock_call:
            tx = self._send("quarantineStock", self.ledger.quarantineStock, (e, listed, ref), caller, expected)
        else:
            tx = self._send("quarantineShipments", self.ledger.quarantineShipments, (e, listed, ref), caller, expected)
        if tx is None:
            return
        for item in listed:
            if stock_call:
                held = self.m.stock[(item, e)]
                held[:] = [0, held[0] + held[1]]
            else:
                self.m.shipments[item].quarantined = True
        self.m.excursion.add(e)
        self._settle(tx)

    def rule_end_excursion(self, eq="st_pick", noise="st_noise"):
        under = sorted(self.m.excursion)
        pool = self.equipment_ids if noise == 1 or not under else under
        e = pool[eq % len(pool)]
        caller = self.staff[self.w.clinic] if noise == 2 else [self.oracle, self.regulator][eq % 2]
        expected = "MissingRole" if noise == 2 else (None if e in self.m.excursion else "NoExcursion")
        tx = self._send("endExcursion", self.ledger.endExcursion, (e, text32("end")), caller, expected)
        if tx is None:
            return
        self.m.excursion.discard(e)
        self._settle(tx)

    def rule_release(self, item="st_pick", qty="st_qty", which="st_pick", noise="st_noise"):
        caller = self.oracle if noise == 2 else [self.staff[self.w.cdc], self.regulator][which % 2]
        if which % 3 == 0:
            sid = self._shipment_id(item, noise == 1, lambda s: s.quarantined)
            expected = self.predict_release_shipment(caller, sid)
            tx = self._send("releaseShipment", self.ledger.releaseShipment, (sid,), caller, expected)
            if tx is not None:
                self.m.shipments[sid].quarantined = False
                self._settle(tx)
            return
        quarantined = [e for e in self.storage if any(k[1] == e and v[1] for k, v in self.m.stock.items())]
        lot, e = self._entry(item, noise == 1, quarantined or None)
        quantity = _quantity(self.m.stock.get((lot, e), [0, 0])[1], 1, qty)
        expected = self.predict_release_stock(caller, e, lot, quantity)
        tx = self._send("releaseStock", self.ledger.releaseStock, (e, lot, quantity), caller, expected)
        if tx is None:
            return
        held = self.m.stock[(lot, e)]
        held[:] = [held[0] + quantity, held[1] - quantity]
        self._settle(tx)

    def rule_dispose(self, item="st_pick", qty="st_qty", reason="st_reason", noise="st_noise"):
        caller = self.oracle if noise == 2 else [self.staff[self.w.cdc], self.regulator][qty % 2]
        quarantined = [e for e in self.storage if any(k[1] == e and v[1] for k, v in self.m.stock.items())]
        lot, e = self._entry(item, noise == 1, quarantined or None)
        quantity = _quantity(self.m.stock.get((lot, e), [0, 0])[1], 1, qty)
        expected = self.predict_dispose(caller, e, lot, quantity, reason)
        tx = self._send("disposeStock", self.ledger.disposeStock, (e, lot, quantity, reason), caller, expected)
        if tx is None:
            return
        held = self.m.stock[(lot, e)]
        held[1] -= quantity
        if held == [0, 0]:
            del self.m.stock[(lot, e)]
        self._settle(tx, written=Counter({lot: quantity}))

    # --- rules: lots -----------------------------------------------------------------------------

    def rule_recall(self, lot_pick="st_pick", who="st_pick"):
        lot = self.lot_ids[lot_pick % len(self.lot_ids)]
        staff = self.staff
        callers = [self.regulator, staff[self.w.maker], staff[self.w.clinic], staff[self.w.cdc], self.oracle]
        caller = callers[who % len(callers)]
        expected = self.predict_recall(caller, lot)
        tx = self._send("recallLot", self.ledger.recallLot, (lot, text32("notice")), caller, expected)
        if tx is None:
            return
        self.m.lots[lot].status = LotStatus.RECALLED
        self._settle(tx)

    def rule_release_lot(self, lot_pick="st_pick", noise="st_noise"):
        registered = [i for i, lot in self.m.lots.items() if lot.status == LotStatus.REGISTERED]
        pool = self.lot_ids if noise == 1 or not registered else registered
        lot = pool[lot_pick % len(pool)]
        expected = None if self.m.lots[lot].status == LotStatus.REGISTERED else "LotNotRegistered"
        tx = self._send("releaseLot", self.ledger.releaseLot, (lot, text32("cert")), self.regulator, expected)
        if tx is None:
            return
        self.m.lots[lot].status = LotStatus.RELEASED
        self._settle(tx)

    # --- rules: doses -------------------------------------------------------------------------------

    def rule_dose_walk_in(self, site_pick="st_pick", entry="st_pick", unit_pick="st_pick", noise="st_noise"):
        site = self.clinics[site_pick % len(self.clinics)]
        at_site = [e for e in self.storage if self.eq_facility[e] == site]
        at_clinics = [e for e in self.storage if self.eq_facility[e] in self.clinics]
        lot, e = self._entry(entry, noise == 1, at_clinics if noise == 1 else at_site)
        if noise == 2:
            sender = self.staff[self.w.cdc]
        elif noise == 3:
            sender = self.staff[self.clinics[1] if site == self.clinics[0] else self.clinics[0]]
        else:
            sender = self.staff[site]
        self._dose(sender, lot, e, self._unit(unit_pick, lot), 0)

    def rule_dose_booked(self, booking_pick="st_pick", entry="st_pick", unit_pick="st_pick", noise="st_noise"):
        booking_id = self._booking_id(booking_pick, noise == 1)
        booking = self.m.bookings.get(booking_id)
        slot = self.m.slots[booking.slot] if booking else None
        site = slot.site if slot else self.clinics[booking_pick % len(self.clinics)]
        if noise == 3:
            site = self.clinics[1] if site == self.clinics[0] else self.clinics[0]
        at_site = [e for e in self.storage if self.eq_facility[e] == site]
        # stock of the booked vaccine at the site; noise 4: any stock at the site (type mismatch)
        entries = sorted(
            (lot, e)
            for (lot, e) in self.m.stock
            if e in at_site and (slot is None or noise == 4 or self.m.lots[lot].vaccine_type == slot.vaccine_type)
        )
        lot, e = entries[entry % len(entries)] if entries else self._entry(entry, True, at_site)
        self._dose(self.staff[site], lot, e, self._unit(unit_pick, lot), booking_id)

    def _dose(self, sender, lot, e, unit_hash, booking_id):
        expected = self._outcomes(self.predict_dose, sender, lot, e, unit_hash, booking_id)
        args = (self._person(), lot, e, unit_hash, booking_id)
        tx = self._send("recordDose", self.ledger.recordDose, args, sender, expected)
        if tx is None:
            return
        used = self.m.units.setdefault(unit_hash, [lot, 0])
        used[1] += 1
        event = tx.events["DoseRecorded"]
        assert (event["doseNumber"], event["booking"], event["equipment"]) == (used[1], booking_id, e)
        self._take(lot, e, 1)
        if booking_id:
            self.m.bookings[booking_id].status = BookingStatus.COMPLETED
        self._settle(tx, doses=Counter({lot: 1}))

    # --- rules: appointments ---------------------------------------------------------------------

    def rule_publish_slot(self, site_pick="st_pick", when="st_pick", capacity="st_capacity", noise="st_noise"):
        site = self.clinics[site_pick % len(self.clinics)]
        vt = VACCINE_TYPES[(site_pick // 2) % len(VACCINE_TYPES)]
        sender = self.staff[self.w.cdc] if noise == 2 else self.staff[site]
        start = chain.time() + (when % 6) * HOUR + HALF_HOUR
        duration = (1 + (when // 6) % 3) * HOUR
        _site, expected = self._clinic_of(sender)
        tx = self._send("publishSlot", self.appointments.publishSlot, (vt, start, duration, capacity), sender, expected)
        if tx is None:
            return
        slot_id = tx.events["SlotPublished"]["slot"]
        assert slot_id == len(self.m.slots) + 1
        self.m.slots[slot_id] = Slot(site, vt, start, duration, capacity, 0)
        self._settle(tx)

    def rule_book(self, slot_pick="st_pick", citizen="st_pick", noise="st_noise"):
        slot_id = 1 + slot_pick % (len(self.m.slots) + (1 if noise == 1 else 0))
        booker = self.citizens[citizen % len(self.citizens)]
        expected = self._outcomes(self.predict_book, slot_id)
        tx = self._send("book", self.appointments.book, (slot_id, self._person()), booker, expected)
        if tx is None:
            return
        booking_id = tx.events["Booked"]["booking"]
        assert booking_id == len(self.m.bookings) + 1
        self.m.bookings[booking_id] = Booking(str(booker), slot_id, BookingStatus.BOOKED)
        self.m.slots[slot_id].booked += 1
        self._settle(tx)

    def _callers_for(self, booking_id: int, who: int) -> Any:
        """The booker, the slot's clinic, the other clinic, another citizen, or the CDC."""
        booking = self.m.bookings.get(booking_id)
        site = self.m.slots[booking.slot].site if booking else self.clinics[0]
        other_clinic = self.clinics[1] if site == self.clinics[0] else self.clinics[0]
        booker = next((c for c in self.citizens if booking and str(c) == booking.booker), self.citizens[0])
        stranger = next(c for c in self.citizens if str(c) != str(booker))
        staff = self.staff
        options = [booker, staff[site], staff[site], staff[other_clinic], stranger, staff[self.w.cdc]]
        return options[who % len(options)]

    def rule_cancel(self, booking_pick="st_pick", who="st_pick", noise="st_noise"):
        booking_id = self._booking_id(booking_pick, noise == 1)
        sender = self._callers_for(booking_id, who)
        expected = self.predict_cancel(sender, booking_id)
        tx = self._send("cancel", self.appointments.cancel, (booking_id,), sender, expected)
        if tx is None:
            return
        booking = self.m.bookings[booking_id]
        booking.status = BookingStatus.CANCELLED
        self.m.slots[booking.slot].booked -= 1
        self._settle(tx)

    def rule_mark_missed(self, booking_pick="st_pick", who="st_pick", noise="st_noise"):
        booking_id = self._booking_id(booking_pick, noise == 1)
        sender = self._callers_for(booking_id, 1 + who % 5)  # staff mostly, and a citizen
        expected = self._outcomes(self.predict_mark_missed, sender, booking_id)
        tx = self._send("markMissed", self.appointments.markMissed, (booking_id,), sender, expected)
        if tx is None:
            return
        self.m.bookings[booking_id].status = BookingStatus.MISSED
        self._settle(tx)

    # --- rules: service status -------------------------------------------------------------------

    def rule_set_active(self, pick="st_pick", noise="st_noise"):
        """The admin closes or reopens a facility, or takes equipment out of / back into service."""
        active = (pick // 3) % 2 == 1
        caller = self.regulator if noise == 2 else self.w.admin
        expected = "AccessControlUnauthorizedAccount" if noise == 2 else None
        if pick % 3 == 0:
            f = self.facilities[(pick // 6) % len(self.facilities)]
            tx = self._send("setFacilityActive", self.ledger.setFacilityActive, (f, active), caller, expected)
            if tx is not None:
                (self.m.closed.discard if active else self.m.closed.add)(f)
                self._settle(tx)
            return
        e = self.equipment_ids[(pick // 6) % len(self.equipment_ids)]
        tx = self._send("setEquipmentActive", self.ledger.setEquipmentActive, (e, active), caller, expected)
        if tx is not None:
            (self.m.out_of_service.discard if active else self.m.out_of_service.add)(e)
            self._settle(tx)

    # --- rules: time ------------------------------------------------------------------------------

    def rule_sleep(self, hours="st_hours"):
        chain.sleep(hours * HOUR)

    # --- the invariants ------------------------------------------------------------------------------

    def invariant_ledger_agrees_with_model(self):
        m, ledger, appointments = self.m, self.ledger, self.appointments
        lots, equipment = self.lot_ids, self.equipment_ids
        shipment_ids = range(1, m.shipment_count + 2)
        sites = [(f, vt) for f in self.facilities for vt in VACCINE_TYPES]
        units = sorted(m.units)
        views = iter(
            _eth_calls(
                [(ledger.shipmentCount, ()), (appointments.slotCount, ()), (appointments.bookingCount, ())]
                + [(ledger.facility, (f,)) for f in self.facilities]
                + [(ledger.lot, (lot,)) for lot in lots]
                + [(ledger.equipment, (e,)) for e in equipment]
                + [(ledger.stockOf, (lot, e)) for lot in lots for e in equipment]
                + [(ledger.shipment, (s,)) for s in shipment_ids]
                + [(ledger.siteStock, site) for site in sites]
                + [(ledger.unit, (h,)) for h in units]
                + [(appointments.slot, (s,)) for s in m.slots]
                + [(appointments.booking, (b,)) for b in m.bookings]
            )
        )
        counts = (next(views), next(views), next(views))
        assert counts == (m.shipment_count, len(m.slots), len(m.bookings)), "shipment / slot / booking counts"
        for f in self.facilities:
            got = next(views)
            want = (self.facility_kind[f], f not in m.closed)
            assert tuple(got) == want, f"facility {f}: chain {got}, model (kind, active) {want}"
        lot_views = {lot: next(views) for lot in lots}
        equipment_views = {e: next(views) for e in equipment}
        stock_views = {(lot, e): next(views) for lot in lots for e in equipment}
        shipment_views = {s: next(views) for s in shipment_ids}
        site_views = {site: next(views) for site in sites}

        # 1. conservation, from the chain's views plus the events counted so far
        for lot in lots:
            held = sum(v[0] + v[1] for (l_, _e), v in stock_views.items() if l_ == lot)
            in_transit = sum(v[4] for v in shipment_views.values() if v[0] == lot)
            produced = lot_views[lot][6]
            total = held + in_transit + m.administered[lot] + m.written_off[lot]
            assert total == produced, (
                f"lot {lot}: held {held} + in transit {in_transit} + administered {m.administered[lot]}"
                f" + written off {m.written_off[lot]} = {total} != produced {produced}"
            )

        # 2. the model's prediction of every view
        for lot in lots:
            want = m.lots[lot]
            got = lot_views[lot]
            assert (got[1], bytes(got[2]), got[3], got[4], got[5], got[6]) == (
                want.manufacturer,
                want.vaccine_type,
                want.expiry,
                want.doses_per_unit,
                want.status,
                want.produced,
            ), f"lot {lot}: chain {got}, model {want}"
        for (lot, e), got in stock_views.items():
            held = m.stock.get((lot, e))
            want = (held[0], held[1], self.eq_facility[e]) if held else (0, 0, 0)
            assert tuple(got) == want, f"stockOf(lot {lot}, equipment {e}): chain {got}, model {want}"
        for s, got in shipment_views.items():
            want = m.shipments[s].view() if s in m.shipments else NO_SHIPMENT
            got = (*tuple(got)[:6], bytes(got[6]), got[7])
            assert got == want, f"shipment {s}: chain {got}, model {want}"
        for (site, vt), got in site_views.items():
            want = (self.site_available(site, vt), self.site_reserved(site, vt))
            assert tuple(got) == want, f"siteStock({site}, {vt!r}): chain {got}, model (available, reserved) {want}"
            from_chain = sum(
                v[0]
                for (lot, e), v in stock_views.items()
                if self.eq_facility[e] == site and bytes(lot_views[lot][2]) == vt
            )
            assert got[0] == from_chain, f"siteStock({site}, {vt!r}) available {got[0]} != its stock {from_chain}"
        for h in units:
            got = next(views)
            assert tuple(got) == tuple(m.units[h]), f"unit {h.hex()}: chain {got}, model {m.units[h]}"
        for s, want in m.slots.items():
            got = next(views)
            assert (got[0], bytes(got[1]), got[2], got[3], got[4], got[5]) == (
                want.site,
                want.vaccine_type,
                want.start,
                want.duration,
                want.capacity,
                want.booked,
            ), f"slot {s}: chain {got}, model {want}"
        for b, want in m.bookings.items():
            got = next(views)
            assert (str(got[0]), got[1], got[2]) == (want.booker, want.slot, want.status), (
                f"booking {b}: chain {got}, model {want}"
            )

        # 3. openItems counts what quarantine must list
        for e, got in equipment_views.items():
            facility, kind, active, under_excursion, open_items = got
            if kind == EquipmentKind.VEHICLE:
                from_chain = sum(1 for v in shipment_views.values() if v[3] == e)
            else:
                from_chain = sum(1 for (_lot, held_in), v in stock_views.items() if held_in == e and v[2] != 0)
            assert open_items == from_chain == self.open_items(e), (
                f"equipment {e}: openItems {open_items}, items in it per the views {from_chain},"
                f" per the model {self.open_items(e)}"
            )
            assert (facility, kind, active, under_excursion) == (
                self.eq_facility[e],
                self.eq_kind[e],
                e not in m.out_of_service,
                e in m.excursion,
            ), f"equipment {e}: chain {got}"


def test_supply_chain_invariants(state_machine: Any, world: Any, supply: Supply) -> None:
    working_state_machine(state_machine)(
        SupplyChain,
        world,
        supply,
        settings={
            "max_examples": EXAMPLES,
            "stateful_step_count": STEPS,
            # Brownie's profile keeps one example database for every state machine on this host
            # (others run theirs in parallel); replaying their examples here is noise.
            "database": None,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
        },
    )
    print("\noutcomes of the transactions the machine sent, over all examples:")
    for (what, outcome), n in sorted(OUTCOMES.items()):
        print(f"  {what:20} {outcome:28} {n}")
