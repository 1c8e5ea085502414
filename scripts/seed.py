"""Seeds a demo district on the deployed ledger: the CDC warehouse, three
manufacturers, 47 vaccination sites of the Chancheng shape with their
equipment and staff accounts, the national-schedule products, one released
lot of each, deliveries to the sites and a week of bookable slots.

    python -m scripts.run scripts.seed --port 8545     (after scripts.deploy)

Reads the deployment manifest; does nothing if the ledger already has facilities.
VAXLEDGER_SEED_DATA names another district file of the same shape."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from brownie import Appointments, VaccineLedger, accounts

from chain import manifest as manifest_mod
from chain.enums import EquipmentKind, FacilityKind
from scripts.deploy import Deployment
from scripts.district import DAY, District

DATA = Path(os.environ.get("VAXLEDGER_SEED_DATA") or Path(__file__).parent / "data" / "chancheng.json")
WAREHOUSE_SHARE = 0.9  # of each lot moved from the manufacturer to the CDC


class Progress:
    """One line per stage, rewritten in place: what is being seeded and how far along."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.live = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.live and done != total:
            return  # a log file gets one line per finished stage
        end = "\n" if done == total else ""
        elapsed = time.monotonic() - self.started
        print(f"\r  {stage:<28} {done:>4}/{total:<4} {elapsed:6.1f} s", end=end, file=sys.stderr, flush=True)


def seed(d: District, data: dict[str, Any], progress: Progress) -> dict[str, int]:
    wh = data["warehouse"]
    cdc = d.facility(FacilityKind.WAREHOUSE, wh["name"], wh["area"])
    cdc_equipment = [(kind, d.equipment(cdc, EquipmentKind[kind], label)) for kind, label in wh["equipment"]]
    cdc_room = next(eq for kind, eq in cdc_equipment if kind == "COLD_ROOM")
    vans = itertools.cycle([eq for kind, eq in cdc_equipment if kind == "VEHICLE"])

    makers: dict[str, tuple[int, int]] = {}
    for m in data["manufacturers"]:
        facility = d.facility(FacilityKind.MANUFACTURER, m["name"], data["area"])
        makers[m["key"]] = (facility, d.equipment(facility, EquipmentKind.COLD_ROOM, f"{m['key'].upper()}-CR1"))
    progress("warehouse and manufacturers", 1, 1)

    lots: dict[str, int] = {}
    for i, p in enumerate(data["products"], 1):
        maker, room = makers[p["maker"]]
        product = d.product(
            maker,
            p["type"],
            doses_per_unit=p["doses_per_unit"],
            self_paid=p["self_paid"],
            range_deci_c=tuple(p["range"]),
            name=p["name"],
        )
        doses = p["lot_doses"]
        lots[p["type"]] = d.lot(product, f"{p['type'].upper()}-2026-001", doses, room, shelf_days=540)
        to_cdc = int(doses * WAREHOUSE_SHARE) // p["doses_per_unit"] * p["doses_per_unit"]
        d.deliver(lots[p["type"]], room, next(vans), cdc_room, to_cdc)
        progress("products, lots to the CDC", i, len(data["products"]))

    units = {p["type"]: p["doses_per_unit"] for p in data["products"]}
    sites = data["sites"]
    deliveries = slots = 0
    for i, site in enumerate(sites, 1):
        kind = data["site_kinds"][site["kind"]]
        facility = d.facility(FacilityKind.CLINIC, site["name"], site["area"])
        equipment = [d.equipment(facility, EquipmentKind[k], f"S{facility}-{label}") for k, label in kind["equipment"]]
        for vaccine in kind["stock"]:
            quantity = max(kind["doses"] // units[vaccine], 1) * units[vaccine]
            d.deliver(lots[vaccine], cdc_room, next(vans), equipment[0], quantity)
            deliveries += 1
        for vaccine, day in itertools.product(kind["slots"], range(1, 8)):
            d.slot(facility, vaccine, start_in=day * DAY + 9 * 3600, duration=3 * 3600, capacity=20)
            slots += 1
        progress("sites, deliveries, slots", i, len(sites))
    return {"sites": len(sites), "products": len(lots), "deliveries": deliveries, "slots": slots}


def main() -> None:
    manifest = manifest_mod.load()
    ledger = VaccineLedger.at(manifest.contract("VaccineLedger").address)
    appointments = Appointments.at(manifest.contract("Appointments").address)
    if ledger.facilityCount() > 0:
        print(f"ledger at {ledger.address} already has {ledger.facilityCount()} facilities: not seeding again")
        return
    d = District(Deployment(ledger, appointments, accounts[0], accounts[1], accounts[2]))
    print("seeding the demo district", file=sys.stderr)
    counts = seed(d, json.loads(DATA.read_text()), Progress())
    print("seeded: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
