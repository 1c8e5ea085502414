"""ColdChainLog (contracts/ColdChainLog.sol): batches of readings anchored as Merkle roots,
readings proven against them, and excursions that quarantine through the ledger.

Every revert test checks the named error and, through `rejected`, that nothing of the
ledger's state changed (the log's own state cannot change in a reverted transaction)."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import ColdChainLog, accounts

from chain.enums import WriteOffReason
from oracle import merkle
from oracle.reading import Reading, leaf
from tests.contracts.conftest import World, person, rejected, reverts, text32, unit

BATCH = text32("batch-0001")
BATCH2 = text32("batch-0002")
ROOT = text32("some-root")
EXC = text32("EXC-0001")
EXC2 = text32("EXC-0002")
T0 = 1_763_700_000_000
TOO_WARM, SERIOUS = 1, 2


def hex32(b: bytes) -> str:
    """A bytes32 as Brownie shows it in an event."""
    return "0x" + b.hex()


def readings(w: World, n: int, equipment: int | None = None) -> list[Reading]:
    eq = w.fridge if equipment is None else equipment
    return [Reading("fridge-07", eq, 100 + i, T0 + i * 60_000, 40 + i % 7 - 3) for i in range(n)]


def anchor(w: World, batch_id: bytes = BATCH, root: bytes = ROOT, **kw: Any) -> Any:
    args = {"equipment": w.fridge, "first": T0, "last": T0 + 60_000, "count": 2, "min": 35, "max": 48} | kw
    return w.cold_chain.anchorBatch(
        batch_id,
        args["equipment"],
        args["first"],
        args["last"],
        args["count"],
        args["min"],
        args["max"],
        root,
        {"from": kw.get("by", w.oracle)},
    )


def held_lots(w: World, equipment: int) -> list[int]:
    return [lot for lot in range(1, w.ledger.lotCount() + 1) if w.ledger.stockOf(lot, equipment)[2] != 0]


def report(w: World, equipment: int, ref: bytes = EXC, lots: list[int] | None = None, **kw: Any) -> Any:
    return w.cold_chain.reportExcursion(
        ref,
        equipment,
        kw.get("kind", TOO_WARM),
        kw.get("severity", SERIOUS),
        kw.get("started", T0),
        held_lots(w, equipment) if lots is None else lots,
        kw.get("shipments", []),
        {"from": kw.get("by", w.oracle)},
    )


def close(w: World, ref: bytes = EXC, ended: int = T0 + 3_600_000, lo: int = 81, hi: int = 112, by: Any = None) -> Any:
    return w.cold_chain.closeExcursion(ref, ended, lo, hi, {"from": by or w.oracle})


def stock(w: World, lot: int, equipment: int) -> tuple[int, int, int]:
    return tuple(w.ledger.stockOf(lot, equipment))


def under_excursion(w: World, equipment: int) -> bool:
    return w.ledger.equipment(equipment)["underExcursion"]


# --------------------------------------------------------------------------- deployment


def test_deployed_against_the_ledger_with_its_oracle_role(world):
    log = world.cold_chain
    assert log.ledger() == world.ledger.address
    assert log.ORACLE_ROLE() == world.ledger.ORACLE_ROLE()
    assert world.ledger.hasRole(world.ledger.ORACLE_ROLE(), log)


def test_constructor_rejects_zero_ledger(world):
    with reverts("ZeroAddress"):
        ColdChainLog.deploy("0x" + "00" * 20, {"from": world.admin})


# --------------------------------------------------------------------------- anchorBatch


def test_anchor_batch_stores_the_root_and_emits_the_rest(world):
    assert not world.cold_chain.anchored(BATCH)
    tx = anchor(world, count=500, min=-5, max=81)
    assert dict(tx.events["BatchAnchored"][0]) == {
        "batchId": hex32(BATCH),
        "equipment": world.fridge,
        "firstTsMs": T0,
        "lastTsMs": T0 + 60_000,
        "count": 500,
        "minTempDc": -5,
        "maxTempDc": 81,
        "merkleRoot": hex32(ROOT),
    }
    assert world.cold_chain.anchored(BATCH)
    assert world.cold_chain.batchRoot(BATCH) == hex32(ROOT)
    assert not world.cold_chain.anchored(BATCH2)


def test_anchor_batch_single_reading_same_time_and_temperature(world):
    anchor(world, first=T0, last=T0, count=1, min=45, max=45)
    assert world.cold_chain.anchored(BATCH)


def test_anchor_batch_of_any_equipment_kind(world):
    anchor(world, BATCH, equipment=world.van)
    anchor(world, BATCH2, equipment=world.cold_box)
    assert world.cold_chain.anchored(BATCH) and world.cold_chain.anchored(BATCH2)


def test_anchor_batch_twice_is_refused(world):
    anchor(world)
    with rejected(world, "BatchAlreadyAnchored", BATCH):
        anchor(world, root=text32("another-root"))
    assert world.cold_chain.batchRoot(BATCH) == hex32(ROOT)


@pytest.mark.parametrize("who", ["admin", "regulator", "cdc_staff", "nurse"])
def test_anchor_batch_needs_the_ledgers_oracle_role(world, who):
    account = getattr(world, who)
    with rejected(world, "NotOracle", account):
        anchor(world, by=account)


def test_anchor_batch_by_a_revoked_oracle(world):
    world.ledger.revokeRole(world.ledger.ORACLE_ROLE(), world.oracle, {"from": world.admin})
    with rejected(world, "NotOracle", world.oracle):
        anchor(world)


def test_anchor_batch_by_a_newly_granted_oracle(world):
    world.ledger.grantRole(world.ledger.ORACLE_ROLE(), accounts[4], {"from": world.admin})
    anchor(world, by=accounts[4])
    assert world.cold_chain.anchored(BATCH)


def test_anchor_batch_zero_root(world):
    with rejected(world, "ZeroMerkleRoot"):
        anchor(world, root=bytes(32))


def test_anchor_batch_empty(world):
    with rejected(world, "EmptyBatch"):
        anchor(world, count=0)


def test_anchor_batch_first_after_last(world):
    with rejected(world, "TimesOutOfOrder", T0 + 1, T0):
        anchor(world, first=T0 + 1, last=T0)


def test_anchor_batch_min_above_max(world):
    with rejected(world, "TemperaturesOutOfOrder", 5, -5):
        anchor(world, min=5, max=-5)


@pytest.mark.parametrize("equipment", [0, 99])
def test_anchor_batch_unknown_equipment(world, equipment):
    with rejected(world, "UnknownEquipment", equipment):
        anchor(world, equipment=equipment)


# --------------------------------------------------------------------------- verifyReading


def test_every_reading_of_a_batch_verifies_on_chain(world):
    batch = readings(world, 7)
    leaves = [leaf(r) for r in batch]
    levels = merkle.build(leaves)
    anchor(world, root=levels[-1][0], count=len(batch))
    for i, lf in enumerate(leaves):
        assert world.cold_chain.verifyReading(BATCH, lf, merkle.proof_from_levels(levels, i))


def test_a_tampered_reading_does_not_verify(world):
    batch = readings(world, 5)
    leaves = [leaf(r) for r in batch]
    anchor(world, root=merkle.root(leaves), count=len(batch))
    proof = merkle.proof(leaves, 2)
    r = batch[2]
    warmer = Reading(r.device, r.equipment, r.seq, r.ts_ms, r.temp_dc - 20)
    other_fridge = Reading(r.device, world.fridge2, r.seq, r.ts_ms, r.temp_dc)
    assert world.cold_chain.verifyReading(BATCH, leaf(r), proof)
    assert not world.cold_chain.verifyReading(BATCH, leaf(warmer), proof)
    assert not world.cold_chain.verifyReading(BATCH, leaf(other_fridge), proof)
    assert not world.cold_chain.verifyReading(BATCH, leaf(r), merkle.proof(leaves, 3))
    assert not world.cold_chain.verifyReading(BATCH, leaf(r), proof[:-1])


def test_a_reading_verifies_only_against_its_batch(world):
    first, second = readings(world, 4), readings(world, 4, equipment=world.fridge2)
    anchor(world, BATCH, root=merkle.root([leaf(r) for r in first]), count=4)
    anchor(world, BATCH2, root=merkle.root([leaf(r) for r in second]), count=4)
    proof = merkle.proof([leaf(r) for r in first], 0)
    assert world.cold_chain.verifyReading(BATCH, leaf(first[0]), proof)
    assert not world.cold_chain.verifyReading(BATCH2, leaf(first[0]), proof)


def test_a_single_reading_batch_verifies_with_an_empty_proof(world):
    (r,) = readings(world, 1)
    anchor(world, root=merkle.root([leaf(r)]), count=1)
    assert world.cold_chain.verifyReading(BATCH, leaf(r), [])


def test_nothing_verifies_against_an_unanchored_batch(world):
    assert not world.cold_chain.verifyReading(BATCH, bytes(32), [])
    assert not world.cold_chain.verifyReading(BATCH, ROOT, [])


# --------------------------------------------------------------------------- reportExcursion


def test_report_excursion_in_a_fridge_quarantines_exactly_its_stock(world):
    assert stock(world, world.hepb_lot, world.fridge) == (100, 0, world.clinic)
    assert stock(world, world.bopv_lot, world.fridge) == (50, 0, world.clinic)
    cdc_before = stock(world, world.hepb_lot, world.cdc_room)
    tx = report(world, world.fridge, started=T0 + 5)
    assert dict(tx.events["ExcursionReported"][0]) == {
        "excursionId": hex32(EXC),
        "equipment": world.fridge,
        "kind": TOO_WARM,
        "severity": SERIOUS,
        "startedAtMs": T0 + 5,
    }
    assert [(e["lot"], e["quantity"], e["excursionRef"]) for e in tx.events["StockQuarantined"]] == [
        (world.hepb_lot, 100, hex32(EXC)),
        (world.bopv_lot, 50, hex32(EXC)),
    ]
    assert tx.events["ExcursionStarted"][0]["equipment"] == world.fridge
    assert tx.events["ExcursionStarted"][0]["excursionRef"] == hex32(EXC)
    assert stock(world, world.hepb_lot, world.fridge) == (0, 100, world.clinic)
    assert stock(world, world.bopv_lot, world.fridge) == (0, 50, world.clinic)
    assert stock(world, world.hepb_lot, world.cdc_room) == cdc_before
    assert under_excursion(world, world.fridge)
    assert tuple(world.cold_chain.excursion(EXC)) == (world.fridge, 1, T0 + 5)
    assert world.cold_chain.openExcursions(world.fridge) == 1


def test_a_dose_from_quarantined_stock_is_refused(world):
    report(world, world.fridge)
    u = unit("HB-after-excursion")
    with rejected(world, "StockInQuarantine", world.hepb_lot, world.fridge, units=(u,)):
        world.ledger.recordDose(person(), world.hepb_lot, world.fridge, u, 0, {"from": world.nurse})


def test_report_excursion_in_empty_storage_with_an_empty_list(world):
    tx = report(world, world.fridge2, lots=[])
    assert "StockQuarantined" not in tx.events
    assert under_excursion(world, world.fridge2)


def test_report_excursion_in_a_vehicle_quarantines_its_open_shipments(world):
    first = world.district.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic, 40)
    second = world.district.ship(world.hepb_lot2, world.cdc_room, world.van, world.clinic2, 20)
    tx = report(world, world.van, lots=[], shipments=[first, second])
    assert [(e["shipment"], e["excursionRef"]) for e in tx.events["ShipmentQuarantined"]] == [
        (first, hex32(EXC)),
        (second, hex32(EXC)),
    ]
    assert world.ledger.shipment(first)["quarantined"] and world.ledger.shipment(second)["quarantined"]
    assert under_excursion(world, world.van)
    with rejected(world, "ShipmentInQuarantine", first):
        world.ledger.receiveShipment(first, world.fridge, 40, WriteOffReason.NONE, {"from": world.nurse})


def test_report_excursion_in_a_vehicle_ignores_the_lot_list(world):
    sid = world.district.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic, 40)
    report(world, world.van, lots=[world.hepb_lot], shipments=[sid])
    assert world.ledger.shipment(sid)["quarantined"]


def test_report_excursion_with_an_incomplete_lot_list(world):
    with rejected(world, "QuarantineListMismatch", world.fridge, 2, 1):
        report(world, world.fridge, lots=[world.hepb_lot])
    assert tuple(world.cold_chain.excursion(EXC)) == (0, 0, 0)
    assert world.cold_chain.openExcursions(world.fridge) == 0


def test_report_excursion_with_an_incomplete_shipment_list(world):
    first = world.district.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic, 40)
    world.district.ship(world.hepb_lot2, world.cdc_room, world.van, world.clinic2, 20)
    with rejected(world, "QuarantineListMismatch", world.van, 2, 1):
        report(world, world.van, lots=[], shipments=[first])


def test_report_excursion_with_an_unsorted_lot_list(world):
    with rejected(world, "QuarantineListUnsorted", 1):
        report(world, world.fridge, lots=[world.bopv_lot, world.hepb_lot])


def test_report_excursion_twice_is_refused(world):
    report(world, world.fridge)
    with rejected(world, "ExcursionAlreadyReported", EXC):
        report(world, world.fridge)
    with rejected(world, "ExcursionAlreadyReported", EXC):
        report(world, world.fridge2, lots=[])


def test_a_closed_excursion_cannot_be_reported_again(world):
    report(world, world.fridge)
    close(world)
    with rejected(world, "ExcursionAlreadyReported", EXC):
        report(world, world.fridge)


@pytest.mark.parametrize("who", ["admin", "regulator", "cdc_staff", "nurse"])
def test_report_excursion_needs_the_ledgers_oracle_role(world, who):
    account = getattr(world, who)
    with rejected(world, "NotOracle", account):
        report(world, world.fridge, by=account)


def test_report_excursion_zero_id(world):
    with rejected(world, "ZeroExcursionId"):
        report(world, world.fridge, ref=bytes(32))


def test_report_excursion_without_kind(world):
    with rejected(world, "InvalidExcursionKind"):
        report(world, world.fridge, kind=0)


def test_report_excursion_without_severity(world):
    with rejected(world, "InvalidSeverity"):
        report(world, world.fridge, severity=0)


@pytest.mark.parametrize("equipment", [0, 99])
def test_report_excursion_unknown_equipment(world, equipment):
    with rejected(world, "UnknownEquipment", equipment):
        report(world, equipment, lots=[])


def test_report_excursion_fails_when_the_log_lost_its_ledger_role(world):
    world.ledger.revokeRole(world.ledger.ORACLE_ROLE(), world.cold_chain, {"from": world.admin})
    with rejected(world, "MissingRole", world.cold_chain):
        report(world, world.fridge)


# --------------------------------------------------------------------------- closeExcursion


def test_close_the_only_excursion_ends_the_ledgers(world):
    report(world, world.fridge)
    tx = close(world, ended=T0 + 7_200_000, lo=82, hi=115)
    assert dict(tx.events["ExcursionClosed"][0]) == {
        "excursionId": hex32(EXC),
        "equipment": world.fridge,
        "endedAtMs": T0 + 7_200_000,
        "minTempDc": 82,
        "maxTempDc": 115,
        "ledgerExcursionEnded": True,
    }
    assert tx.events["ExcursionEnded"][0]["equipment"] == world.fridge
    assert tx.events["ExcursionEnded"][0]["excursionRef"] == hex32(EXC)
    assert not under_excursion(world, world.fridge)
    assert tuple(world.cold_chain.excursion(EXC)) == (world.fridge, 2, T0)
    assert world.cold_chain.openExcursions(world.fridge) == 0
    # the stock stays quarantined until the CDC releases it; new stock may come in
    assert stock(world, world.hepb_lot, world.fridge) == (0, 100, world.clinic)
    world.district.deliver(world.hepb_lot2, world.cdc_room, world.van, world.fridge, 10)
    assert stock(world, world.hepb_lot2, world.fridge) == (10, 0, world.clinic)


def test_close_ends_the_ledgers_excursion_only_with_the_last_open_one(world):
    report(world, world.fridge, EXC)
    report(world, world.fridge, EXC2, kind=2)
    assert world.cold_chain.openExcursions(world.fridge) == 2
    tx = close(world, EXC)
    assert tx.events["ExcursionClosed"][0]["ledgerExcursionEnded"] is False
    assert "ExcursionEnded" not in tx.events
    assert under_excursion(world, world.fridge)
    assert world.cold_chain.openExcursions(world.fridge) == 1
    tx = close(world, EXC2)
    assert tx.events["ExcursionClosed"][0]["ledgerExcursionEnded"] is True
    assert tx.events["ExcursionEnded"][0]["excursionRef"] == hex32(EXC2)
    assert not under_excursion(world, world.fridge)


def test_open_excursions_are_counted_per_equipment(world):
    report(world, world.fridge, EXC)
    report(world, world.fridge2, EXC2, lots=[])
    close(world, EXC2)
    assert not under_excursion(world, world.fridge2)
    assert under_excursion(world, world.fridge)


def test_close_a_vehicle_excursion(world):
    sid = world.district.ship(world.hepb_lot, world.cdc_room, world.van, world.clinic, 40)
    report(world, world.van, lots=[], shipments=[sid])
    close(world)
    assert not under_excursion(world, world.van)
    assert world.ledger.shipment(sid)["quarantined"]


def test_close_after_the_cdc_already_ended_the_ledgers_excursion(world):
    report(world, world.fridge)
    world.ledger.endExcursion(world.fridge, EXC, {"from": world.cdc_staff})
    tx = close(world)
    assert tx.events["ExcursionClosed"][0]["ledgerExcursionEnded"] is False
    assert "ExcursionEnded" not in tx.events
    assert tuple(world.cold_chain.excursion(EXC))[1] == 2


def test_close_an_unknown_excursion(world):
    with rejected(world, "ExcursionNotOpen", EXC):
        close(world)


def test_close_twice_is_refused(world):
    report(world, world.fridge)
    close(world)
    with rejected(world, "ExcursionNotOpen", EXC):
        close(world)


def test_close_before_it_started(world):
    report(world, world.fridge, started=T0)
    with rejected(world, "TimesOutOfOrder", T0, T0 - 1):
        close(world, ended=T0 - 1)


def test_close_with_min_above_max(world):
    report(world, world.fridge)
    with rejected(world, "TemperaturesOutOfOrder", 90, 85):
        close(world, lo=90, hi=85)


@pytest.mark.parametrize("who", ["admin", "regulator", "cdc_staff", "nurse"])
def test_close_needs_the_ledgers_oracle_role(world, who):
    report(world, world.fridge)
    account = getattr(world, who)
    with rejected(world, "NotOracle", account):
        close(world, by=account)
