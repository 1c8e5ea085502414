"""LotRegistry: products, lots, batch release and recall (and the custody hook a new lot goes through)."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import accounts, chain, web3

from chain.enums import EquipmentKind, FacilityKind, LotStatus
from tests.contracts.conftest import reverts, text32, vtype

YEAR = 365 * 86_400
HEPB = vtype("HepB")


def plain(value: Any) -> tuple:
    """A struct returned by a view, with bytes fields as plain bytes (Brownie's HexString
    cannot be compared with arbitrary bytes)."""
    return tuple(bytes(v) if isinstance(v, bytes) else v for v in value)


def regulator_role(w: Any) -> bytes:
    return bytes(w.ledger.REGULATOR_ROLE())


def register_lot(w: Any, number: str, doses: int = 100, *, product=None, equipment=None, expiry=None, sender=None):
    return w.ledger.registerLot(
        w.hepb if product is None else product,
        text32(number),
        chain.time() + YEAR if expiry is None else expiry,
        doses,
        w.maker_room if equipment is None else equipment,
        {"from": sender or w.maker_staff},
    )


def unreleased_lot(w: Any, number: str = "HB900") -> int:
    return w.district.lot(w.hepb, number, 100, w.maker_room, release=False)


@pytest.fixture
def outsider() -> Any:
    return accounts[5]


@pytest.fixture
def other_maker(world) -> tuple[int, Any]:
    """A second manufacturer facility and its staff account."""
    facility_id = world.district.facility(FacilityKind.MANUFACTURER, "Other Biologicals")
    return facility_id, world.district.staff[facility_id]


# --- registerProduct ------------------------------------------------------------------------


def test_register_product_stores_facts_and_emits(world):
    ledger = world.ledger
    before = ledger.productCount()
    tx = ledger.registerProduct(world.maker, vtype("MMR"), 2, True, -250, -150, "MMR II", {"from": world.regulator})
    new_id = before + 1
    assert tx.return_value == new_id
    assert ledger.productCount() == new_id
    assert plain(ledger.product(new_id)) == (world.maker, vtype("MMR"), 2, True, -250, -150)
    event = tx.events["ProductRegistered"]
    assert event["product"] == new_id
    assert event["manufacturer"] == world.maker
    assert bytes(event["vaccineType"]) == vtype("MMR")
    assert event["dosesPerUnit"] == 2
    assert event["selfPaid"] is True
    assert (event["minTempDeciC"], event["maxTempDeciC"]) == (-250, -150)
    assert event["name"] == "MMR II"


def test_fixture_products(world):
    assert plain(world.ledger.product(world.hepb)) == (world.maker, HEPB, 1, False, 20, 80)
    assert plain(world.ledger.product(world.bopv)) == (world.maker, vtype("bOPV"), 10, False, -200, 80)


def test_register_product_requires_regulator(world):
    before = world.ledger.productCount()
    for account in (world.admin, world.maker_staff):
        with reverts("AccessControlUnauthorizedAccount", account, regulator_role(world)):
            world.ledger.registerProduct(world.maker, HEPB, 1, False, 20, 80, "x", {"from": account})
    assert world.ledger.productCount() == before


def test_register_product_rejects_unknown_facility(world):
    for facility_id in (0, 99):
        with reverts("UnknownFacility", facility_id):
            world.ledger.registerProduct(facility_id, HEPB, 1, False, 20, 80, "x", {"from": world.regulator})


def test_register_product_requires_a_manufacturer(world):
    before = world.ledger.productCount()
    for facility_id in (world.cdc, world.clinic):
        with reverts("NotAManufacturer", facility_id):
            world.ledger.registerProduct(facility_id, HEPB, 1, False, 20, 80, "x", {"from": world.regulator})
    assert world.ledger.productCount() == before


def test_register_product_rejects_empty_vaccine_type(world):
    with reverts("InvalidVaccineType"):
        world.ledger.registerProduct(world.maker, bytes(8), 1, False, 20, 80, "x", {"from": world.regulator})


def test_register_product_rejects_zero_doses_per_unit(world):
    with reverts("InvalidDosesPerUnit"):
        world.ledger.registerProduct(world.maker, HEPB, 0, False, 20, 80, "x", {"from": world.regulator})


def test_register_product_rejects_empty_storage_range(world):
    before = world.ledger.productCount()
    for low, high in ((80, 20), (50, 50), (-10, -20)):
        with reverts("InvalidStorageRange", low, high):
            world.ledger.registerProduct(world.maker, HEPB, 1, False, low, high, "x", {"from": world.regulator})
    assert world.ledger.productCount() == before


# --- registerLot ----------------------------------------------------------------------------


def test_register_lot_records_lot_stock_and_event(world):
    ledger = world.ledger
    before_count = ledger.lotCount()
    before_site = ledger.siteStock(world.maker, HEPB)["available"]
    before_items = ledger.equipment(world.maker_room)["openItems"]
    expiry = chain.time() + YEAR
    tx = register_lot(world, "HB100", 300, expiry=expiry)
    new_id = before_count + 1
    assert tx.return_value == new_id
    assert ledger.lotCount() == new_id
    assert plain(ledger.lot(new_id)) == (world.hepb, world.maker, HEPB, expiry, 1, LotStatus.REGISTERED, 300)
    assert ledger.lotIdOf(world.hepb, text32("HB100")) == new_id
    assert tuple(ledger.stockOf(new_id, world.maker_room)) == (300, 0, world.maker)
    assert ledger.siteStock(world.maker, HEPB)["available"] == before_site + 300
    assert ledger.equipment(world.maker_room)["openItems"] == before_items + 1
    event = tx.events["LotRegistered"]
    assert event["lot"] == new_id
    assert event["product"] == world.hepb
    assert bytes(event["lotNumber"]) == text32("HB100")
    assert event["expiry"] == expiry
    assert event["doses"] == 300
    assert event["equipment"] == world.maker_room


def test_register_lot_copies_multi_dose_product_facts(world):
    tx = register_lot(world, "OP100", 30, product=world.bopv)
    lot = world.ledger.lot(tx.return_value)
    assert bytes(lot["vaccineType"]) == vtype("bOPV")
    assert lot["dosesPerUnit"] == 10
    assert lot["produced"] == 30


def test_same_lot_number_may_exist_under_another_product(world):
    tx = register_lot(world, "HB001", 10, product=world.bopv)
    assert world.ledger.lotIdOf(world.bopv, text32("HB001")) == tx.return_value
    assert world.ledger.lotIdOf(world.hepb, text32("HB001")) == world.hepb_lot


def test_register_lot_into_any_storage_kind_of_the_manufacturer(world):
    ledger = world.ledger
    for kind in (EquipmentKind.FRIDGE, EquipmentKind.FREEZER, EquipmentKind.COLD_BOX):
        equipment = world.district.equipment(world.maker, kind, f"M-{kind.name}")
        lot_id = register_lot(world, f"HB-{kind.name}", 5, equipment=equipment).return_value
        assert ledger.stockOf(lot_id, equipment)["available"] == 5


def test_register_lot_rejects_unknown_product(world):
    before = world.ledger.lotCount()
    for product_id in (0, 99):
        with reverts("UnknownProduct", product_id):
            register_lot(world, "HB100", product=product_id)
    assert world.ledger.lotCount() == before


def test_register_lot_rejects_non_member(world, outsider):
    with reverts("NotAMember", outsider):
        register_lot(world, "HB100", sender=outsider)


def test_register_lot_rejects_member_of_another_facility(world, other_maker):
    before = world.ledger.lotCount()
    for account in (other_maker[1], world.nurse, world.cdc_staff):
        with reverts("WrongFacility", account, world.maker):
            register_lot(world, "HB100", sender=account)
    assert world.ledger.lotCount() == before


def test_register_lot_rejects_manufacturer_whose_role_was_revoked(world):
    ledger = world.ledger
    ledger.revokeRole(ledger.MANUFACTURER_ROLE(), world.maker_staff, {"from": world.admin})
    with reverts("MissingRole", world.maker_staff):
        register_lot(world, "HB100")


def test_register_lot_rejects_removed_manufacturer(world):
    world.ledger.removeMember(world.maker_staff, {"from": world.admin})
    with reverts("NotAMember", world.maker_staff):
        register_lot(world, "HB100")


def test_register_lot_rejects_zero_lot_number(world):
    before = world.ledger.lotCount()
    with reverts("InvalidLotNumber"):
        world.ledger.registerLot(
            world.hepb, bytes(32), chain.time() + YEAR, 10, world.maker_room, {"from": world.maker_staff}
        )
    assert world.ledger.lotCount() == before


def test_register_lot_rejects_expiry_not_in_the_future(world):
    for ago in (0, 1, YEAR):
        expiry = web3.eth.get_block("latest").timestamp - ago
        with reverts("InvalidExpiry", expiry):
            register_lot(world, "HB100", expiry=expiry)
    assert world.ledger.lotIdOf(world.hepb, text32("HB100")) == 0


def test_register_lot_rejects_zero_doses(world):
    with reverts("ZeroQuantity"):
        register_lot(world, "HB100", 0)


def test_register_lot_rejects_doses_not_whole_units(world):
    before = world.ledger.lotCount()
    for doses in (1, 15, 101):
        with reverts("NotWholeUnits", doses, 10):
            register_lot(world, "OP100", doses, product=world.bopv)
    assert world.ledger.lotCount() == before


def test_register_lot_rejects_duplicate_number(world):
    before_count = world.ledger.lotCount()
    before_stock = world.ledger.stockOf(world.hepb_lot, world.maker_room)["available"]
    with reverts("DuplicateLot", world.hepb, text32("HB001")):
        register_lot(world, "HB001")
    assert world.ledger.lotCount() == before_count
    assert world.ledger.lotIdOf(world.hepb, text32("HB001")) == world.hepb_lot
    assert world.ledger.stockOf(world.hepb_lot, world.maker_room)["available"] == before_stock


def test_register_lot_rejects_equipment_of_another_facility(world):
    before = world.ledger.lotCount()
    for equipment, owner in ((world.cdc_room, world.cdc), (world.fridge, world.clinic)):
        with reverts("WrongFacility", world.maker_staff, owner):
            register_lot(world, "HB100", equipment=equipment)
    assert world.ledger.lotCount() == before
    assert world.ledger.lotIdOf(world.hepb, text32("HB100")) == 0


def test_register_lot_rejects_a_vehicle(world):
    truck = world.district.equipment(world.maker, EquipmentKind.VEHICLE, "M-TRUCK")
    with reverts("InvalidEquipmentKind"):
        register_lot(world, "HB100", equipment=truck)
    assert world.ledger.equipment(truck)["openItems"] == 0


def test_register_lot_rejects_inactive_equipment(world):
    world.ledger.setEquipmentActive(world.maker_room, False, {"from": world.admin})
    with reverts("EquipmentInactive", world.maker_room):
        register_lot(world, "HB100")
    world.ledger.setEquipmentActive(world.maker_room, True, {"from": world.admin})
    register_lot(world, "HB100")


def test_register_lot_rejects_unknown_equipment(world):
    for equipment_id in (0, 99):
        with reverts("UnknownEquipment", equipment_id):
            register_lot(world, "HB100", equipment=equipment_id)


def test_register_lot_rejects_equipment_under_excursion(world):
    room = world.district.equipment(world.maker, EquipmentKind.COLD_ROOM, "M-CR2")
    world.ledger.quarantineStock(room, [], text32("exc-1"), {"from": world.oracle})
    before = world.ledger.lotCount()
    with reverts("EquipmentUnderExcursion", room):
        register_lot(world, "HB100", equipment=room)
    assert world.ledger.lotCount() == before


# --- releaseLot -----------------------------------------------------------------------------


def test_release_lot_sets_released_and_emits(world):
    lot_id = unreleased_lot(world)
    before = plain(world.ledger.lot(lot_id))
    tx = world.ledger.releaseLot(lot_id, text32("cert"), {"from": world.regulator})
    assert plain(world.ledger.lot(lot_id)) == (*before[:5], LotStatus.RELEASED, before[6])
    assert tx.events["LotReleased"]["lot"] == lot_id
    assert bytes(tx.events["LotReleased"]["certificateHash"]) == text32("cert")


def test_unreleased_lot_cannot_be_shipped(world):
    lot_id = unreleased_lot(world)
    with reverts("LotNotReleased", lot_id):
        world.ledger.ship(lot_id, world.maker_room, world.van, world.cdc, 10, {"from": world.maker_staff})


def test_release_lot_requires_regulator(world):
    lot_id = unreleased_lot(world)
    for account in (world.admin, world.maker_staff, world.cdc_staff):
        with reverts("AccessControlUnauthorizedAccount", account, regulator_role(world)):
            world.ledger.releaseLot(lot_id, text32("cert"), {"from": account})
    assert world.ledger.lot(lot_id)["status"] == LotStatus.REGISTERED


def test_release_lot_rejects_zero_certificate(world):
    lot_id = unreleased_lot(world)
    with reverts("InvalidCertificate"):
        world.ledger.releaseLot(lot_id, bytes(32), {"from": world.regulator})
    assert world.ledger.lot(lot_id)["status"] == LotStatus.REGISTERED


def test_release_lot_rejects_unknown_lot(world):
    for lot_id in (0, 99):
        with reverts("UnknownLot", lot_id):
            world.ledger.releaseLot(lot_id, text32("cert"), {"from": world.regulator})


def test_release_lot_twice_reverts(world):
    with reverts("LotNotRegistered", world.hepb_lot, int(LotStatus.RELEASED)):
        world.ledger.releaseLot(world.hepb_lot, text32("again"), {"from": world.regulator})


def test_release_of_recalled_lot_reverts(world):
    lot_id = unreleased_lot(world)
    world.ledger.recallLot(lot_id, text32("notice"), {"from": world.regulator})
    with reverts("LotNotRegistered", lot_id, int(LotStatus.RECALLED)):
        world.ledger.releaseLot(lot_id, text32("cert"), {"from": world.regulator})
    assert world.ledger.lot(lot_id)["status"] == LotStatus.RECALLED


# --- recallLot ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["regulator", "maker_staff"])
def test_recall_by_regulator_or_own_manufacturer(world, who):
    account = getattr(world, who)
    tx = world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": account})
    assert world.ledger.lot(world.hepb_lot)["status"] == LotStatus.RECALLED
    event = tx.events["LotRecalled"]
    assert event["lot"] == world.hepb_lot
    assert event["by"] == account
    assert bytes(event["noticeHash"]) == text32("notice")


def test_recall_needs_its_notice(world):
    with reverts("InvalidNotice"):
        world.ledger.recallLot(world.hepb_lot, bytes(32), {"from": world.regulator})
    assert world.ledger.lot(world.hepb_lot)["status"] == LotStatus.RELEASED


def test_closed_manufacturer_registers_no_lot(world):
    world.ledger.setFacilityActive(world.maker, False, {"from": world.admin})
    count = world.ledger.lotCount()
    with reverts("FacilityInactive", world.maker):
        register_lot(world, "HB777")
    assert world.ledger.lotCount() == count


def test_recall_leaves_other_lots_and_stock_alone(world):
    stock = tuple(world.ledger.stockOf(world.hepb_lot, world.fridge))
    world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": world.regulator})
    assert tuple(world.ledger.stockOf(world.hepb_lot, world.fridge)) == stock
    assert world.ledger.lot(world.hepb_lot2)["status"] == LotStatus.RELEASED


def test_recall_of_unreleased_lot(world):
    lot_id = unreleased_lot(world)
    world.ledger.recallLot(lot_id, text32("notice"), {"from": world.maker_staff})
    assert world.ledger.lot(lot_id)["status"] == LotStatus.RECALLED


def test_recalled_lot_cannot_be_shipped(world):
    world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": world.regulator})
    with reverts("LotUnderRecall", world.hepb_lot):
        world.ledger.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic, 10, {"from": world.cdc_staff})


def test_recall_by_another_manufacturer_reverts(world, other_maker):
    staff = other_maker[1]
    with reverts("WrongFacility", staff, world.maker):
        world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": staff})
    assert world.ledger.lot(world.hepb_lot)["status"] == LotStatus.RELEASED


def test_recall_by_custodian_of_another_facility_reverts(world):
    for account in (world.nurse, world.cdc_staff):
        with reverts("WrongFacility", account, world.maker):
            world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": account})
    assert world.ledger.lot(world.hepb_lot)["status"] == LotStatus.RELEASED


def test_recall_by_non_member_reverts(world, outsider):
    for account in (outsider, world.admin, world.oracle):
        with reverts("NotAMember", account):
            world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": account})
    assert world.ledger.lot(world.hepb_lot)["status"] == LotStatus.RELEASED


def test_recall_by_manufacturer_whose_role_was_revoked_reverts(world):
    ledger = world.ledger
    ledger.revokeRole(ledger.MANUFACTURER_ROLE(), world.maker_staff, {"from": world.admin})
    with reverts("MissingRole", world.maker_staff):
        ledger.recallLot(world.hepb_lot, text32("notice"), {"from": world.maker_staff})
    assert ledger.lot(world.hepb_lot)["status"] == LotStatus.RELEASED


def test_recall_twice_reverts(world):
    world.ledger.recallLot(world.hepb_lot, text32("notice"), {"from": world.regulator})
    for account in (world.regulator, world.maker_staff):
        with reverts("LotUnderRecall", world.hepb_lot):
            world.ledger.recallLot(world.hepb_lot, text32("notice-2"), {"from": account})


def test_recall_rejects_unknown_lot(world):
    for lot_id in (0, 99):
        with reverts("UnknownLot", lot_id):
            world.ledger.recallLot(lot_id, text32("notice"), {"from": world.regulator})


# --- lot / lotIdOf --------------------------------------------------------------------------


def test_lot_id_of_finds_each_lot_by_product_and_number(world):
    ledger = world.ledger
    assert ledger.lotIdOf(world.hepb, text32("HB001")) == world.hepb_lot
    assert ledger.lotIdOf(world.hepb, text32("HB002")) == world.hepb_lot2
    assert ledger.lotIdOf(world.bopv, text32("OP001")) == world.bopv_lot


def test_lot_id_of_unknown_pair_is_zero(world):
    ledger = world.ledger
    assert ledger.lotIdOf(world.bopv, text32("HB001")) == 0
    assert ledger.lotIdOf(world.hepb, text32("OP001")) == 0
    assert ledger.lotIdOf(world.hepb, text32("HB999")) == 0
    assert ledger.lotIdOf(0, text32("HB001")) == 0


def test_unknown_product_and_lot_read_as_zero(world):
    ledger = world.ledger
    assert plain(ledger.product(ledger.productCount() + 1)) == (0, bytes(8), 0, False, 0, 0)
    assert plain(ledger.lot(ledger.lotCount() + 1)) == (0, 0, bytes(8), 0, 0, LotStatus.NONE, 0)
