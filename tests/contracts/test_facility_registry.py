"""FacilityRegistry (facilities, equipment, membership) and VaxRoles (the platform roles)."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import ZERO_ADDRESS, VaccineLedger, accounts, web3

from chain.enums import EquipmentKind, FacilityKind
from tests.contracts.conftest import reverts, text32

ADMIN_ROLE = bytes(32)
ROLE_NAMES = ("REGULATOR_ROLE", "MANUFACTURER_ROLE", "DISTRIBUTOR_ROLE", "CLINIC_ROLE", "ORACLE_ROLE")
CUSTODIAN_ROLE = {
    FacilityKind.MANUFACTURER: "MANUFACTURER_ROLE",
    FacilityKind.WAREHOUSE: "DISTRIBUTOR_ROLE",
    FacilityKind.CLINIC: "CLINIC_ROLE",
}


def role(ledger: Any, name: str) -> bytes:
    return bytes(getattr(ledger, name)())


def unauthorized(account: Any, needed: bytes) -> Any:
    return reverts("AccessControlUnauthorizedAccount", account, needed)


@pytest.fixture
def outsider() -> Any:
    """An account with no role and no membership."""
    return accounts[5]


# --- VaxRoles -------------------------------------------------------------------------------


def test_role_constants_are_hashes_of_their_names(world):
    for name in ROLE_NAMES:
        assert role(world.ledger, name) == bytes(web3.keccak(text=name)), name


def test_every_role_is_administered_by_the_admin(world):
    for name in ROLE_NAMES:
        assert bytes(world.ledger.getRoleAdmin(role(world.ledger, name))) == ADMIN_ROLE, name


def test_constructor_grants_admin_to_the_given_account_not_the_deployer(world):
    ledger = VaccineLedger.deploy(accounts[6], {"from": accounts[0]})
    assert ledger.hasRole(ADMIN_ROLE, accounts[6])
    assert not ledger.hasRole(ADMIN_ROLE, accounts[0])


def test_constructor_rejects_zero_admin(world):
    with reverts("ZeroAddress"):
        VaccineLedger.deploy(ZERO_ADDRESS, {"from": accounts[0]})


def test_deployment_grants_platform_roles(world):
    ledger = world.ledger
    assert ledger.hasRole(ADMIN_ROLE, world.admin)
    assert ledger.hasRole(role(ledger, "REGULATOR_ROLE"), world.regulator)
    assert ledger.hasRole(role(ledger, "ORACLE_ROLE"), world.oracle)
    assert not ledger.hasRole(ADMIN_ROLE, world.regulator)


def test_grant_role_by_non_admin_reverts(world, outsider):
    regulator_role = role(world.ledger, "REGULATOR_ROLE")
    with unauthorized(world.regulator, ADMIN_ROLE):
        world.ledger.grantRole(regulator_role, outsider, {"from": world.regulator})
    assert not world.ledger.hasRole(regulator_role, outsider)


def test_either_role_check_reverts_with_missing_role(world):
    # releaseShipment needs DISTRIBUTOR_ROLE or REGULATOR_ROLE; the oracle has neither.
    with reverts("MissingRole", world.oracle):
        world.ledger.releaseShipment(1, {"from": world.oracle})


def test_either_role_check_accepts_each_role(world):
    # Past the role check, the next check fails on the unknown shipment instead.
    for account in (world.cdc_staff, world.regulator):
        with reverts("UnknownShipment", 99):
            world.ledger.releaseShipment(99, {"from": account})


def test_any_role_check_reverts_with_missing_role(world):
    # endExcursion needs ORACLE_ROLE, DISTRIBUTOR_ROLE or REGULATOR_ROLE.
    with reverts("MissingRole", world.nurse):
        world.ledger.endExcursion(world.fridge, text32("x"), {"from": world.nurse})


def test_any_role_check_accepts_each_role(world):
    for account in (world.oracle, world.cdc_staff, world.regulator):
        with reverts("NoExcursion", world.fridge):
            world.ledger.endExcursion(world.fridge, text32("x"), {"from": account})


# --- registerFacility -----------------------------------------------------------------------


def test_register_facility_stores_kind_active_and_emits(world):
    ledger = world.ledger
    kind = FacilityKind.CLINIC
    before = ledger.facilityCount()
    tx = ledger.registerFacility(kind, "Clinic C", text32("440605"), {"from": world.admin})
    new_id = before + 1
    assert tx.return_value == new_id
    assert ledger.facilityCount() == new_id
    assert tuple(ledger.facility(new_id)) == (kind, True)
    event = tx.events["FacilityRegistered"]
    assert event["facility"] == new_id
    assert event["kind"] == kind
    assert event["name"] == "Clinic C"
    assert bytes(event["areaCode"]) == text32("440605")


def test_register_facility_rejects_kind_none(world):
    before = world.ledger.facilityCount()
    with reverts("InvalidFacilityKind"):
        world.ledger.registerFacility(FacilityKind.NONE, "X", text32("1"), {"from": world.admin})
    assert world.ledger.facilityCount() == before


def test_register_facility_requires_admin(world):
    before = world.ledger.facilityCount()
    for account in (world.regulator, world.nurse):
        with unauthorized(account, ADMIN_ROLE):
            world.ledger.registerFacility(FacilityKind.CLINIC, "X", text32("1"), {"from": account})
    assert world.ledger.facilityCount() == before


# --- setFacilityActive ----------------------------------------------------------------------


def test_set_facility_inactive_and_back(world):
    ledger = world.ledger
    tx = ledger.setFacilityActive(world.clinic2, False, {"from": world.admin})
    assert tuple(ledger.facility(world.clinic2)) == (FacilityKind.CLINIC, False)
    assert tx.events["FacilityStatusChanged"]["facility"] == world.clinic2
    assert tx.events["FacilityStatusChanged"]["active"] is False

    tx = ledger.setFacilityActive(world.clinic2, True, {"from": world.admin})
    assert tuple(ledger.facility(world.clinic2)) == (FacilityKind.CLINIC, True)
    assert tx.events["FacilityStatusChanged"]["active"] is True


def test_inactive_facility_receives_no_shipment(world):
    ledger = world.ledger
    ledger.setFacilityActive(world.clinic2, False, {"from": world.admin})
    with reverts("FacilityInactive", world.clinic2):
        ledger.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic2, 10, {"from": world.cdc_staff})
    ledger.setFacilityActive(world.clinic2, True, {"from": world.admin})
    ledger.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic2, 10, {"from": world.cdc_staff})


def test_set_facility_active_rejects_unknown_facility(world):
    for facility_id in (0, 99):
        with reverts("UnknownFacility", facility_id):
            world.ledger.setFacilityActive(facility_id, True, {"from": world.admin})


def test_set_facility_active_requires_admin(world):
    with unauthorized(world.cdc_staff, ADMIN_ROLE):
        world.ledger.setFacilityActive(world.clinic, False, {"from": world.cdc_staff})
    assert world.ledger.facility(world.clinic)["active"] is True


# --- registerEquipment ----------------------------------------------------------------------


def test_register_equipment_stores_owner_kind_and_emits(world):
    ledger = world.ledger
    kind = EquipmentKind.FREEZER
    before = ledger.equipmentCount()
    tx = ledger.registerEquipment(world.clinic2, kind, "B-X1", {"from": world.admin})
    new_id = before + 1
    assert tx.return_value == new_id
    assert ledger.equipmentCount() == new_id
    assert tuple(ledger.equipment(new_id)) == (world.clinic2, kind, True, False, 0)
    event = tx.events["EquipmentRegistered"]
    assert event["equipment"] == new_id
    assert event["facility"] == world.clinic2
    assert event["kind"] == kind
    assert event["label"] == "B-X1"


def test_register_equipment_rejects_kind_none(world):
    before = world.ledger.equipmentCount()
    with reverts("InvalidEquipmentKind"):
        world.ledger.registerEquipment(world.clinic, EquipmentKind.NONE, "X", {"from": world.admin})
    assert world.ledger.equipmentCount() == before


def test_register_equipment_rejects_unknown_facility(world):
    before = world.ledger.equipmentCount()
    for facility_id in (0, 99):
        with reverts("UnknownFacility", facility_id):
            world.ledger.registerEquipment(facility_id, EquipmentKind.FRIDGE, "X", {"from": world.admin})
    assert world.ledger.equipmentCount() == before


def test_register_equipment_requires_admin(world):
    before = world.ledger.equipmentCount()
    with unauthorized(world.nurse, ADMIN_ROLE):
        world.ledger.registerEquipment(world.clinic, EquipmentKind.FRIDGE, "X", {"from": world.nurse})
    assert world.ledger.equipmentCount() == before


# --- setEquipmentActive ---------------------------------------------------------------------


def test_set_equipment_inactive_keeps_stock_and_emits(world):
    ledger = world.ledger
    before = ledger.equipment(world.fridge)
    tx = ledger.setEquipmentActive(world.fridge, False, {"from": world.admin})
    assert tuple(ledger.equipment(world.fridge)) == (before[0], before[1], False, before[3], before[4])
    assert ledger.stockOf(world.hepb_lot, world.fridge)["available"] == 100
    assert tx.events["EquipmentStatusChanged"]["equipment"] == world.fridge
    assert tx.events["EquipmentStatusChanged"]["active"] is False

    tx = ledger.setEquipmentActive(world.fridge, True, {"from": world.admin})
    assert ledger.equipment(world.fridge) == before
    assert tx.events["EquipmentStatusChanged"]["active"] is True


def test_inactive_vehicle_carries_no_shipment(world):
    world.ledger.setEquipmentActive(world.van, False, {"from": world.admin})
    with reverts("EquipmentInactive", world.van):
        world.ledger.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic, 10, {"from": world.cdc_staff})


def test_set_equipment_active_rejects_unknown_equipment(world):
    for equipment_id in (0, 99):
        with reverts("UnknownEquipment", equipment_id):
            world.ledger.setEquipmentActive(equipment_id, False, {"from": world.admin})


def test_set_equipment_active_requires_admin(world):
    with unauthorized(world.nurse, ADMIN_ROLE):
        world.ledger.setEquipmentActive(world.fridge, False, {"from": world.nurse})
    assert world.ledger.equipment(world.fridge)["active"] is True


# --- addMember ------------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["maker", "cdc", "clinic"])
def test_add_member_grants_exactly_the_role_of_the_facility_kind(world, outsider, site):
    ledger = world.ledger
    facility_id = getattr(world, site)
    kind = FacilityKind(ledger.facility(facility_id)["kind"])
    tx = ledger.addMember(outsider, facility_id, {"from": world.admin})
    assert tuple(ledger.membership(outsider)) == (facility_id, kind)
    assert tuple(ledger.custodianFacility(outsider)) == (facility_id, kind)
    for name in CUSTODIAN_ROLE.values():
        assert ledger.hasRole(role(ledger, name), outsider) == (name == CUSTODIAN_ROLE[kind])
    assert tx.events["MemberAdded"]["account"] == outsider
    assert tx.events["MemberAdded"]["facility"] == facility_id


def test_add_member_to_inactive_facility_is_allowed(world, outsider):
    world.ledger.setFacilityActive(world.clinic2, False, {"from": world.admin})
    world.ledger.addMember(outsider, world.clinic2, {"from": world.admin})
    assert tuple(world.ledger.custodianFacility(outsider)) == (world.clinic2, FacilityKind.CLINIC)


def test_add_member_twice_reverts_with_current_facility(world):
    for target in (world.clinic, world.clinic2):
        with reverts("AlreadyAMember", world.nurse, world.clinic):
            world.ledger.addMember(world.nurse, target, {"from": world.admin})
    assert tuple(world.ledger.membership(world.nurse)) == (world.clinic, FacilityKind.CLINIC)


def test_add_member_rejects_zero_address(world):
    with reverts("ZeroAddress"):
        world.ledger.addMember(ZERO_ADDRESS, world.clinic, {"from": world.admin})


def test_add_member_rejects_unknown_facility(world, outsider):
    for facility_id in (0, 99):
        with reverts("UnknownFacility", facility_id):
            world.ledger.addMember(outsider, facility_id, {"from": world.admin})
    assert tuple(world.ledger.membership(outsider)) == (0, FacilityKind.NONE)


def test_add_member_requires_admin(world, outsider):
    with unauthorized(world.nurse, ADMIN_ROLE):
        world.ledger.addMember(outsider, world.clinic, {"from": world.nurse})
    assert tuple(world.ledger.membership(outsider)) == (0, FacilityKind.NONE)
    assert not world.ledger.hasRole(role(world.ledger, "CLINIC_ROLE"), outsider)


# --- removeMember ---------------------------------------------------------------------------


def test_remove_member_clears_membership_and_role(world):
    ledger = world.ledger
    tx = ledger.removeMember(world.cdc_staff, {"from": world.admin})
    assert tuple(ledger.membership(world.cdc_staff)) == (0, FacilityKind.NONE)
    assert not ledger.hasRole(role(ledger, "DISTRIBUTOR_ROLE"), world.cdc_staff)
    assert tx.events["MemberRemoved"]["account"] == world.cdc_staff
    assert tx.events["MemberRemoved"]["facility"] == world.cdc


def test_removed_member_can_join_another_facility(world):
    ledger = world.ledger
    ledger.removeMember(world.nurse, {"from": world.admin})
    ledger.addMember(world.nurse, world.maker, {"from": world.admin})
    assert tuple(ledger.custodianFacility(world.nurse)) == (world.maker, FacilityKind.MANUFACTURER)
    assert not ledger.hasRole(role(ledger, "CLINIC_ROLE"), world.nurse)


def test_remove_member_rejects_non_member(world, outsider):
    with reverts("NotAMember", outsider):
        world.ledger.removeMember(outsider, {"from": world.admin})


def test_remove_member_twice_reverts(world):
    world.ledger.removeMember(world.nurse, {"from": world.admin})
    with reverts("NotAMember", world.nurse):
        world.ledger.removeMember(world.nurse, {"from": world.admin})


def test_remove_member_requires_admin(world):
    with unauthorized(world.nurse2, ADMIN_ROLE):
        world.ledger.removeMember(world.nurse, {"from": world.nurse2})
    assert tuple(world.ledger.custodianFacility(world.nurse)) == (world.clinic, FacilityKind.CLINIC)


# --- membership / custodianFacility ---------------------------------------------------------


def test_views_of_unknown_ids_and_non_members_read_as_zero(world, outsider):
    ledger = world.ledger
    assert tuple(ledger.facility(ledger.facilityCount() + 1)) == (FacilityKind.NONE, False)
    assert tuple(ledger.equipment(ledger.equipmentCount() + 1)) == (0, EquipmentKind.NONE, False, False, 0)
    assert tuple(ledger.membership(outsider)) == (0, FacilityKind.NONE)


def test_custodian_facility_of_each_staff_member(world):
    ledger = world.ledger
    assert tuple(ledger.custodianFacility(world.maker_staff)) == (world.maker, FacilityKind.MANUFACTURER)
    assert tuple(ledger.custodianFacility(world.cdc_staff)) == (world.cdc, FacilityKind.WAREHOUSE)
    assert tuple(ledger.custodianFacility(world.nurse)) == (world.clinic, FacilityKind.CLINIC)
    assert tuple(ledger.custodianFacility(world.nurse2)) == (world.clinic2, FacilityKind.CLINIC)


def test_custodian_facility_rejects_non_member(world, outsider):
    for account in (outsider, world.admin, world.regulator, world.oracle):
        with reverts("NotAMember", account):
            world.ledger.custodianFacility(account)


def test_custodian_role_without_membership_is_not_a_custodian(world, outsider):
    world.ledger.grantRole(role(world.ledger, "CLINIC_ROLE"), outsider, {"from": world.admin})
    with reverts("NotAMember", outsider):
        world.ledger.custodianFacility(outsider)


def test_custodian_facility_after_remove_member_reverts(world):
    world.ledger.removeMember(world.nurse, {"from": world.admin})
    with reverts("NotAMember", world.nurse):
        world.ledger.custodianFacility(world.nurse)


def test_custodian_facility_after_role_revoked_reverts_missing_role(world):
    ledger = world.ledger
    ledger.revokeRole(role(ledger, "CLINIC_ROLE"), world.nurse, {"from": world.admin})
    assert tuple(ledger.membership(world.nurse)) == (world.clinic, FacilityKind.CLINIC)
    with reverts("MissingRole", world.nurse):
        ledger.custodianFacility(world.nurse)

    ledger.grantRole(role(ledger, "CLINIC_ROLE"), world.nurse, {"from": world.admin})
    assert tuple(ledger.custodianFacility(world.nurse)) == (world.clinic, FacilityKind.CLINIC)


def test_custodian_facility_after_role_renounced_reverts_missing_role(world):
    ledger = world.ledger
    ledger.renounceRole(role(ledger, "DISTRIBUTOR_ROLE"), world.cdc_staff, {"from": world.cdc_staff})
    with reverts("MissingRole", world.cdc_staff):
        ledger.custodianFacility(world.cdc_staff)


def test_role_of_another_kind_does_not_make_a_custodian(world):
    ledger = world.ledger
    ledger.revokeRole(role(ledger, "CLINIC_ROLE"), world.nurse, {"from": world.admin})
    ledger.grantRole(role(ledger, "DISTRIBUTOR_ROLE"), world.nurse, {"from": world.admin})
    with reverts("MissingRole", world.nurse):
        ledger.custodianFacility(world.nurse)


def test_revoked_member_cannot_be_added_again_until_removed(world):
    ledger = world.ledger
    ledger.revokeRole(role(ledger, "CLINIC_ROLE"), world.nurse, {"from": world.admin})
    with reverts("AlreadyAMember", world.nurse, world.clinic):
        ledger.addMember(world.nurse, world.clinic, {"from": world.admin})
    ledger.removeMember(world.nurse, {"from": world.admin})
    ledger.addMember(world.nurse, world.clinic, {"from": world.admin})
    assert tuple(ledger.custodianFacility(world.nurse)) == (world.clinic, FacilityKind.CLINIC)
