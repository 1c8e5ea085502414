"""The demo district seed, on one site of each kind, and the deployment it builds on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chain.encoding import to_bytes8
from chain.enums import EquipmentKind, FacilityKind, LotStatus
from scripts import seed as seed_mod
from scripts.deploy import build_manifest, deploy
from scripts.district import District


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    full = json.loads(seed_mod.DATA.read_text())
    one_of_each = {site["kind"]: site for site in full["sites"]}
    return full | {"sites": list(one_of_each.values())}


@pytest.fixture(scope="module")
def seeded(accounts: Any, data: dict[str, Any]) -> tuple[District, dict[str, int]]:
    district = District(deploy(accounts[0], accounts[1], accounts[2]))
    counts = seed_mod.seed(district, data, lambda *_: None)
    return district, counts


def test_the_full_district_has_the_chancheng_shape() -> None:
    full = json.loads(seed_mod.DATA.read_text())
    kinds = [site["kind"] for site in full["sites"]]
    assert len(kinds) == 47
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "vaccination_clinic": 8,
        "maternity_point": 10,
        "rabies_clinic": 8,
        "special_need_clinic": 6,
        "village_point": 15,
    }


def test_facilities_and_staff(seeded: tuple[District, dict[str, int]], data: dict[str, Any]) -> None:
    district, _ = seeded
    ledger = district.ledger
    expected = 1 + len(data["manufacturers"]) + len(data["sites"])
    assert ledger.facilityCount() == expected
    kinds = [ledger.facility(i)[0] for i in range(1, expected + 1)]
    assert kinds.count(FacilityKind.WAREHOUSE) == 1
    assert kinds.count(FacilityKind.MANUFACTURER) == len(data["manufacturers"])
    assert kinds.count(FacilityKind.CLINIC) == len(data["sites"])
    for facility, account in district.staff.items():
        assert ledger.membership(account)[0] == facility


def test_every_product_has_one_released_lot(seeded: tuple[District, dict[str, int]], data: dict[str, Any]) -> None:
    ledger = seeded[0].ledger
    assert ledger.productCount() == len(data["products"]) == ledger.lotCount()
    for lot in range(1, ledger.lotCount() + 1):
        assert ledger.lot(lot)[5] == LotStatus.RELEASED


def test_each_site_holds_what_its_kind_stocks(seeded: tuple[District, dict[str, int]], data: dict[str, Any]) -> None:
    district, counts = seeded
    ledger = district.ledger
    units = {p["type"]: p["doses_per_unit"] for p in data["products"]}
    first_site = 1 + 1 + len(data["manufacturers"])
    for offset, site in enumerate(data["sites"]):
        kind = data["site_kinds"][site["kind"]]
        facility = first_site + offset
        for vaccine in kind["stock"]:
            doses = max(kind["doses"] // units[vaccine], 1) * units[vaccine]
            available, reserved = ledger.siteStock(facility, to_bytes8(vaccine))
            assert (available, reserved) == (doses, 0), (site["name"], vaccine)
    assert counts["deliveries"] == sum(len(data["site_kinds"][s["kind"]]["stock"]) for s in data["sites"])


def test_equipment_kinds(seeded: tuple[District, dict[str, int]]) -> None:
    ledger = seeded[0].ledger
    kinds = [ledger.equipment(i)[1] for i in range(1, ledger.equipmentCount() + 1)]
    assert kinds.count(EquipmentKind.VEHICLE) == 3
    assert EquipmentKind.COLD_BOX in kinds and EquipmentKind.FRIDGE in kinds


def test_slots_for_a_week(seeded: tuple[District, dict[str, int]], data: dict[str, Any]) -> None:
    district, counts = seeded
    expected = sum(len(data["site_kinds"][s["kind"]]["slots"]) * 7 for s in data["sites"])
    assert counts["slots"] == expected == district.appointments.slotCount()


def test_manifest_names_both_contracts_and_the_roles(seeded: tuple[District, dict[str, int]]) -> None:
    district, _ = seeded
    m = build_manifest(district.d)
    assert m.contract("VaccineLedger").address == district.ledger.address
    assert m.contract("Appointments").address == district.appointments.address
    assert m.roles["regulator"] == [str(district.d.regulator)]
    ledger = district.ledger
    assert m.contract("ColdChainLog").address == district.d.cold_chain.address
    assert m.roles["oracle"] == [str(district.d.oracle), str(district.d.cold_chain.address)]
    assert all(ledger.hasRole(ledger.ORACLE_ROLE(), account) for account in m.roles["oracle"])
    assert ledger.appointments() == district.appointments.address
