"""Fixtures for the contract tests: one small district per module, and each
test isolated by a chain snapshot (Brownie's fn_isolation)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import brownie
import pytest
from brownie import web3

from chain.encoding import to_bytes8, to_bytes32
from chain.enums import EquipmentKind, FacilityKind
from scripts.deploy import deploy
from scripts.district import District


@pytest.fixture(autouse=True)
def isolation(fn_isolation: Any) -> None:
    """Every test starts from the module's district, whatever earlier tests did."""


@dataclass
class World:
    """The standard test district. Ids are on-chain ids; accounts are Brownie accounts.

    Facilities: maker (manufacturer), cdc (warehouse), clinic, clinic2.
    Equipment: maker_room, cdc_room, van (cdc's vehicle), fridge and fridge2 (clinic),
    fridge_b (clinic2), cold_box (clinic).
    Products: hepb (1 dose/unit), bopv (10 doses/unit, national programme).
    Lots, all released: hepb_lot (HepB: 1,000 doses at cdc_room, 100 in fridge),
    hepb_lot2 (HepB: 500 at cdc_room), bopv_lot (bOPV: 200 at cdc_room, 50 in fridge).
    Staff: maker_staff, cdc_staff, nurse (clinic), nurse2 (clinic2).
    Platform: admin, regulator, oracle. Citizens: accounts[5..9]."""

    district: District
    ledger: Any
    appointments: Any
    admin: Any
    regulator: Any
    oracle: Any
    maker: int
    cdc: int
    clinic: int
    clinic2: int
    maker_room: int
    cdc_room: int
    van: int
    fridge: int
    fridge2: int
    fridge_b: int
    cold_box: int
    hepb: int
    bopv: int
    hepb_lot: int
    hepb_lot2: int
    bopv_lot: int
    maker_staff: Any
    cdc_staff: Any
    nurse: Any
    nurse2: Any
    cold_chain: Any = None
    """The ColdChainLog (holds the ledger's ORACLE_ROLE)."""


@pytest.fixture(scope="module")
def world(accounts: Any) -> World:
    d = District(deploy(accounts[0], accounts[1], accounts[2]))
    maker = d.facility(FacilityKind.MANUFACTURER, "Test Biologicals")
    cdc = d.facility(FacilityKind.WAREHOUSE, "District CDC")
    clinic = d.facility(FacilityKind.CLINIC, "Clinic A")
    clinic2 = d.facility(FacilityKind.CLINIC, "Clinic B")
    maker_room = d.equipment(maker, EquipmentKind.COLD_ROOM, "M-CR1")
    cdc_room = d.equipment(cdc, EquipmentKind.COLD_ROOM, "CDC-CR1")
    van = d.equipment(cdc, EquipmentKind.VEHICLE, "CDC-VAN1")
    fridge = d.equipment(clinic, EquipmentKind.FRIDGE, "A-F1")
    fridge2 = d.equipment(clinic, EquipmentKind.FRIDGE, "A-F2")
    fridge_b = d.equipment(clinic2, EquipmentKind.FRIDGE, "B-F1")
    cold_box = d.equipment(clinic, EquipmentKind.COLD_BOX, "A-CB1")
    hepb = d.product(maker, "HepB", name="HepB 10ug")
    bopv = d.product(maker, "bOPV", doses_per_unit=10, range_deci_c=(-200, 80), name="bOPV")
    hepb_lot = d.lot(hepb, "HB001", 2_000, maker_room)
    hepb_lot2 = d.lot(hepb, "HB002", 1_000, maker_room)
    bopv_lot = d.lot(bopv, "OP001", 500, maker_room)
    d.deliver(hepb_lot, maker_room, van, cdc_room, 1_100)
    d.deliver(hepb_lot2, maker_room, van, cdc_room, 500)
    d.deliver(bopv_lot, maker_room, van, cdc_room, 250)
    d.deliver(hepb_lot, cdc_room, van, fridge, 100)
    d.deliver(bopv_lot, cdc_room, van, fridge, 50)
    return World(
        district=d,
        ledger=d.ledger,
        appointments=d.appointments,
        admin=d.d.admin,
        regulator=d.d.regulator,
        oracle=d.d.oracle,
        maker=maker,
        cdc=cdc,
        clinic=clinic,
        clinic2=clinic2,
        maker_room=maker_room,
        cdc_room=cdc_room,
        van=van,
        fridge=fridge,
        fridge2=fridge2,
        fridge_b=fridge_b,
        cold_box=cold_box,
        hepb=hepb,
        bopv=bopv,
        hepb_lot=hepb_lot,
        hepb_lot2=hepb_lot2,
        bopv_lot=bopv_lot,
        maker_staff=d.staff[maker],
        cdc_staff=d.staff[cdc],
        nurse=d.staff[clinic],
        nurse2=d.staff[clinic2],
        cold_chain=d.d.cold_chain,
    )


def person() -> bytes:
    """A fresh random pseudonym, as the backend makes them."""
    return os.urandom(32)


def unit(code: str) -> bytes:
    """The on-chain form of a unit's traceability code."""
    return bytes(web3.keccak(text=code))


def vtype(code: str) -> bytes:
    return to_bytes8(code)


def text32(text: str) -> bytes:
    return to_bytes32(text)


def reverts(error: str, *args: Any) -> Any:
    """Expects a revert with the named custom error; with `args`, exactly those arguments.

    Brownie renders a custom error as "Name: arg1, arg2", with addresses in
    lower case and bytes as Python bytes literals; accounts and checksummed
    addresses may be passed as they are."""
    if args:
        return brownie.reverts(f"{error}: {', '.join(_rendered(a) for a in args)}")
    return brownie.reverts(revert_pattern=rf"{error}(: .*)?")


def _rendered(arg: Any) -> str:
    text = str(getattr(arg, "address", arg))
    if text.startswith("0x") and len(text) == 42:
        return text.lower()
    return text


# --------------------------------------------------------------------------- state snapshots

SNAPSHOT_TYPES = (to_bytes8("HepB"), to_bytes8("bOPV"))


def type_word(vaccine_type: bytes) -> int:
    """A bytes8 as it sits in an ABI word (left-aligned)."""
    return int.from_bytes(vaccine_type.ljust(32, b"\0"), "big")


def _call(contract: Any, name: str, *args: int | bytes) -> tuple[str, str]:
    """(address, calldata) for a view, encoded by hand (static uint and bytesN arguments only)."""
    words = (a.ljust(32, b"\0").hex() if isinstance(a, bytes) else f"{a:064x}" for a in args)
    return contract.address, getattr(contract, name).signature + "".join(words)


def _batch(calls: list[tuple[str, str]]) -> list[tuple[int, ...]]:
    """Runs the calls in one JSON-RPC batch; each result as its ABI words."""
    responses = web3.provider.make_batch_request(
        [("eth_call", [{"to": to, "data": data}, "latest"]) for to, data in calls]
    )
    assert isinstance(responses, list), responses
    words = [bytes.fromhex(r["result"][2:]) for r in responses]
    return [tuple(int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)) for raw in words]


def ledger_state(w: World, units: tuple[bytes, ...] = ()) -> dict[Any, tuple[int, ...]]:
    """Every lot, stock entry, site stock (HepB, bOPV), shipment, equipment, slot and booking,
    and the given units, read in one batch as raw ABI words (so they compare exactly)."""
    led, app = w.ledger, w.appointments
    counts = _batch(
        [_call(led, n) for n in ("lotCount", "equipmentCount", "facilityCount", "shipmentCount")]
        + [_call(app, n) for n in ("slotCount", "bookingCount")]
    )
    lots, equipment, facilities, shipments, slots, bookings = (c[0] for c in counts)
    keyed: list[tuple[Any, tuple[str, str]]] = []
    for lot in range(1, lots + 1):
        keyed.append((("lot", lot), _call(led, "lot", lot)))
        keyed += [(("stock", lot, eq), _call(led, "stockOf", lot, eq)) for eq in range(1, equipment + 1)]
    for fac in range(1, facilities + 1):
        keyed += [(("site", fac, type_word(vt)), _call(led, "siteStock", fac, vt)) for vt in SNAPSHOT_TYPES]
    keyed += [(("shipment", sid), _call(led, "shipment", sid)) for sid in range(1, shipments + 1)]
    keyed += [(("equipment", eq), _call(led, "equipment", eq)) for eq in range(1, equipment + 1)]
    keyed += [(("slot", s), _call(app, "slot", s)) for s in range(1, slots + 1)]
    keyed += [(("booking", b), _call(app, "booking", b)) for b in range(1, bookings + 1)]
    keyed += [(("unit", u), _call(led, "unit", u)) for u in units]
    state = dict(zip([k for k, _ in keyed], _batch([c for _, c in keyed]), strict=True))
    state["counts"] = (lots, equipment, facilities, shipments, slots, bookings)
    return state


@contextmanager
def rejected(w: World, error: str, *args: Any, units: tuple[bytes, ...] = ()) -> Iterator[None]:
    """Expects the named custom error, and that nothing of the ledger's or the appointments'
    state changed (`units`: unit records to include)."""
    before = ledger_state(w, units)
    with reverts(error, *args):
        yield
    assert ledger_state(w, units) == before
