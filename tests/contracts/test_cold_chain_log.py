"""ColdChainLog (contracts/ColdChainLog.sol): windows of batch headers anchored under one root
computed on chain, readings proven through their batch and window, and excursions that
quarantine through the ledger.

Every revert test checks the named error and, through `rejected`, that nothing of the
ledger's state changed (the log's own state cannot change in a reverted transaction)."""

from __future__ import annotations

from typing import Any

import brownie
import pytest
from brownie import ColdChainLog, accounts
from eth_abi import encode
from eth_utils import keccak

from chain.enums import WriteOffReason
from oracle import merkle
from oracle.reading import Reading, leaf
from tests.contracts.conftest import World, person, rejected, reverts, text32, unit

WINDOW = text32("window-0001")
WINDOW2 = text32("window-0002")
EXC = text32("EXC-0001")
EXC2 = text32("EXC-0002")
T0 = 1_763_700_000_000
TOO_WARM, SERIOUS = 1, 2
HEADER_TYPE = "(bytes32,uint32,uint64,uint64,uint32,int16,int16,bytes32)"
ROOT_FIELD, COUNT_FIELD = 7, 4


def hex32(b: bytes) -> str:
    """A bytes32 as Brownie shows it in an event."""
    return "0x" + b.hex()


def readings(w: World, n: int, equipment: int | None = None, first_seq: int = 100) -> list[Reading]:
    eq = w.fridge if equipment is None else equipment
    return [
        Reading(f"sensor-{eq}", eq, first_seq + i, T0 + (first_seq + i) * 300_000, 40 + i % 7 - 3) for i in range(n)
    ]


def header_of(batch: list[Reading], label: str = "") -> tuple:
    """ColdChainLog.BatchHeader over real reading leaves."""
    root = merkle.root([leaf(r) for r in batch])
    temps = [r.temp_dc for r in batch]
    batch_id = keccak(encode(["string", "bytes32"], [label or f"batch/{batch[0].equipment}/{batch[0].seq}", root]))
    return (batch_id, batch[0].equipment, batch[0].ts_ms, batch[-1].ts_ms, len(batch), min(temps), max(temps), root)


def header_leaf(h: tuple) -> bytes:
    """ColdChainLog.headerLeaf in Python: the ABI-encoded header, hashed twice."""
    return keccak(keccak(encode([HEADER_TYPE], [h])))


def with_field(h: tuple, index: int, value: Any) -> tuple:
    return (*h[:index], value, *h[index + 1 :])


def some_headers(w: World, n: int, first_seq: int = 100) -> list[tuple]:
    """`n` batches of 1 to 5 readings, from the standard district's equipment in turn."""
    equipment = [w.fridge, w.fridge2, w.fridge_b, w.cold_box, w.van, w.cdc_room]
    return [
        header_of(readings(w, 1 + i % 5, equipment[i % len(equipment)], first_seq + 10 * i), f"b{first_seq}/{i}")
        for i in range(n)
    ]


def anchor(w: World, headers: list[tuple], window_id: bytes = WINDOW, by: Any = None) -> Any:
    return w.cold_chain.anchorWindow(window_id, headers, {"from": by or w.oracle})


def nothing_anchored(w: World, window_id: bytes = WINDOW) -> bool:
    return not w.cold_chain.anchored(window_id) and w.cold_chain.windowRoot(window_id) == hex32(bytes(32))


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


# --------------------------------------------------------------------------- anchorWindow


def test_anchor_window_stores_one_root_and_emits_it(world):
    headers = some_headers(world, 3)
    expected = merkle.root([header_leaf(h) for h in headers])
    assert nothing_anchored(world)
    assert world.cold_chain.anchorWindow.call(WINDOW, headers, {"from": world.oracle}) == hex32(expected)
    tx = anchor(world, headers)
    assert dict(tx.events["WindowAnchored"][0]) == {
        "windowId": hex32(WINDOW),
        "batches": 3,
        "headersRoot": hex32(expected),
    }
    assert len(tx.events) == 1
    assert world.cold_chain.anchored(WINDOW)
    assert world.cold_chain.windowRoot(WINDOW) == hex32(expected)
    assert nothing_anchored(world, WINDOW2)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 200])
def test_the_window_root_is_the_oracles_tree_over_the_header_leaves(world, n):
    """The tree of oracle/merkle.py: odd nodes carried up (3, 5, 13, 200), a single header its own root."""
    headers = some_headers(world, n)
    leaves = [header_leaf(h) for h in headers]
    anchor(world, headers)
    assert world.cold_chain.windowRoot(WINDOW) == hex32(merkle.root(leaves))
    if n == 1:
        assert world.cold_chain.windowRoot(WINDOW) == hex32(leaves[0])


def test_the_window_root_keeps_the_headers_order(world):
    """Pairs are hashed sorted, so only the pairing depends on order: a rotation changes the root."""
    headers = some_headers(world, 4)
    rotated = headers[1:] + headers[:1]
    anchor(world, headers)
    anchor(world, rotated, WINDOW2)
    assert world.cold_chain.windowRoot(WINDOW2) == hex32(merkle.root([header_leaf(h) for h in rotated]))
    assert world.cold_chain.windowRoot(WINDOW) != world.cold_chain.windowRoot(WINDOW2)


def test_header_leaf_is_the_double_hash_of_the_abi_encoded_header(world):
    (h,) = some_headers(world, 1)
    extremes = (b"\xff" * 32, 2**32 - 1, 0, 2**64 - 1, 2**32 - 1, -(2**15), 2**15 - 1, b"\x01" * 32)
    freezer = (text32("b-freezer"), 7, T0, T0 + 3_300_000, 12, -250, -180, text32("r"))
    for header in (h, extremes, freezer):
        assert world.cold_chain.headerLeaf(header) == hex32(header_leaf(header))


def test_anchor_window_single_reading_batch_same_time_and_temperature(world):
    h = (text32("b1"), world.fridge, T0, T0, 1, 45, 45, text32("root"))
    anchor(world, [h])
    assert world.cold_chain.windowRoot(WINDOW) == hex32(header_leaf(h))


def test_anchor_window_takes_the_oracles_word_for_the_equipment(world):
    """Equipment is not looked up in the ledger: a cold call per batch would cost more than the batch."""
    headers = [(text32(f"b{eq}"), eq, T0, T0, 1, 40, 40, text32("root")) for eq in (0, 99, 2**32 - 1)]
    anchor(world, headers)
    assert world.cold_chain.anchored(WINDOW)


def test_anchor_window_twice_is_refused(world):
    headers = some_headers(world, 2)
    anchor(world, headers)
    root = world.cold_chain.windowRoot(WINDOW)
    with rejected(world, "WindowAlreadyAnchored", WINDOW):
        anchor(world, some_headers(world, 3, first_seq=500))
    with rejected(world, "WindowAlreadyAnchored", WINDOW):
        anchor(world, headers)
    assert world.cold_chain.windowRoot(WINDOW) == root


def test_the_same_headers_in_another_window(world):
    headers = some_headers(world, 2)
    anchor(world, headers)
    anchor(world, headers, WINDOW2)
    assert world.cold_chain.windowRoot(WINDOW2) == world.cold_chain.windowRoot(WINDOW)


@pytest.mark.parametrize("who", ["admin", "regulator", "cdc_staff", "nurse"])
def test_anchor_window_needs_the_ledgers_oracle_role(world, who):
    account = getattr(world, who)
    with rejected(world, "NotOracle", account):
        anchor(world, some_headers(world, 2), by=account)
    assert nothing_anchored(world)


def test_anchor_window_by_a_revoked_oracle(world):
    world.ledger.revokeRole(world.ledger.ORACLE_ROLE(), world.oracle, {"from": world.admin})
    with rejected(world, "NotOracle", world.oracle):
        anchor(world, some_headers(world, 2))
    assert nothing_anchored(world)


def test_anchor_window_by_a_newly_granted_oracle(world):
    world.ledger.grantRole(world.ledger.ORACLE_ROLE(), accounts[4], {"from": world.admin})
    anchor(world, some_headers(world, 2), by=accounts[4])
    assert world.cold_chain.anchored(WINDOW)


def test_anchor_window_zero_id(world):
    with rejected(world, "ZeroWindowId"):
        anchor(world, some_headers(world, 2), bytes(32))
    assert nothing_anchored(world, bytes(32))


def test_anchor_window_empty(world):
    with rejected(world, "EmptyWindow"):
        anchor(world, [])
    assert nothing_anchored(world)


REFUSED_HEADERS = {
    "zero_root": ({ROOT_FIELD: bytes(32)}, ("ZeroMerkleRoot",)),
    "empty_batch": ({COUNT_FIELD: 0}, ("EmptyBatch",)),
    "times": ({2: T0 + 1, 3: T0}, ("TimesOutOfOrder", T0 + 1, T0)),
    "temperatures": ({5: 5, 6: -5}, ("TemperaturesOutOfOrder", 5, -5)),
}


@pytest.mark.parametrize("position", [0, 3, 4])
@pytest.mark.parametrize("case", REFUSED_HEADERS)
def test_anchor_window_with_a_refused_header(world, case, position):
    """Each header's values are checked, wherever it is in the window; nothing is stored."""
    changes, error = REFUSED_HEADERS[case]
    headers = some_headers(world, 5)
    for field, value in changes.items():
        headers[position] = with_field(headers[position], field, value)
    with rejected(world, *error):
        anchor(world, headers)
    assert nothing_anchored(world)


def test_anchor_window_names_the_first_refused_header(world):
    headers = some_headers(world, 4)
    headers[1] = with_field(headers[1], COUNT_FIELD, 0)
    headers[2] = with_field(headers[2], ROOT_FIELD, bytes(32))
    with rejected(world, "EmptyBatch"):
        anchor(world, headers)


def _dirty(calldata: bytes, word: int) -> bytes:
    """`calldata` with a high byte set in the given word (after the selector)."""
    at = 4 + 32 * word
    return calldata[:at] + b"\x01" + calldata[at + 1 :]


@pytest.mark.parametrize("field", [1, 2, 3, 4, 5, 6])
def test_a_header_field_with_dirty_high_bits_is_refused(world, field):
    """A narrow field must be clean, as the ABI decoder requires: the leaf is hashed from calldata."""
    headers = some_headers(world, 2)
    headers[1] = with_field(headers[1], 5, -3)  # a negative temperature is sign-extended, not dirty
    headers[1] = with_field(headers[1], 6, max(-3, headers[1][6]))
    clean = bytes.fromhex(world.cold_chain.anchorWindow.encode_input(WINDOW, headers)[2:])
    # selector, windowId, offset, length, header 0 (words 3..10), header 1 (words 11..18)
    with brownie.reverts():
        world.oracle.transfer(world.cold_chain, 0, data=_dirty(clean, 11 + field), gas_limit=1_000_000)
    assert nothing_anchored(world)
    world.oracle.transfer(world.cold_chain, 0, data=clean, gas_limit=1_000_000)
    assert world.cold_chain.windowRoot(WINDOW) == hex32(merkle.root([header_leaf(h) for h in headers]))

    call = bytes.fromhex(world.cold_chain.headerLeaf.encode_input(headers[1])[2:])
    assert brownie.web3.eth.call({"to": world.cold_chain.address, "data": "0x" + call.hex()}) == header_leaf(headers[1])
    with pytest.raises(ValueError):
        brownie.web3.eth.call({"to": world.cold_chain.address, "data": "0x" + _dirty(call, field).hex()})


# --------------------------------------------------------------------------- verifyReading


def build_window(w: World, sizes: list[int], window_id: bytes = WINDOW, first_seq: int = 100) -> list[Any]:
    """Anchors one batch per size; returns (header, header proof, readings, reading levels) per batch."""
    equipment = [w.fridge, w.fridge2, w.fridge_b, w.cold_box, w.van, w.cdc_room, w.maker_room]
    batches = [readings(w, n, equipment[i % len(equipment)], first_seq + 1_000 * i) for i, n in enumerate(sizes)]
    headers = [header_of(b) for b in batches]
    header_levels = merkle.build([header_leaf(h) for h in headers])
    anchor(w, headers, window_id)
    return [
        (h, merkle.proof_from_levels(header_levels, i), b, merkle.build([leaf(r) for r in b]))
        for i, (h, b) in enumerate(zip(headers, batches, strict=True))
    ]


def verify(w: World, window_id: bytes, h: tuple, header_proof: list, reading_leaf: bytes, proof: list) -> bool:
    return w.cold_chain.verifyReading(window_id, h, header_proof, reading_leaf, proof)


def test_every_reading_of_every_batch_of_a_window_verifies_on_chain(world):
    window = build_window(world, [12, 1, 7, 12, 3])
    for h, header_proof, batch, levels in window:
        for i, r in enumerate(batch):
            assert verify(world, WINDOW, h, header_proof, leaf(r), merkle.proof_from_levels(levels, i))


def test_a_single_batch_window_with_a_single_reading_verifies_with_empty_proofs(world):
    ((h, header_proof, (r,), _),) = build_window(world, [1])
    assert header_proof == []
    assert verify(world, WINDOW, h, [], leaf(r), [])


def test_a_tampered_reading_does_not_verify(world):
    h, header_proof, batch, levels = build_window(world, [5, 4, 6])[2]
    r = batch[2]
    proof = merkle.proof_from_levels(levels, 2)
    assert verify(world, WINDOW, h, header_proof, leaf(r), proof)
    warmer = Reading(r.device, r.equipment, r.seq, r.ts_ms, r.temp_dc - 20)
    other_fridge = Reading(r.device, world.fridge2, r.seq, r.ts_ms, r.temp_dc)
    later = Reading(r.device, r.equipment, r.seq, r.ts_ms + 1, r.temp_dc)
    for tampered in (warmer, other_fridge, later):
        assert not verify(world, WINDOW, h, header_proof, leaf(tampered), proof)
    assert not verify(world, WINDOW, h, header_proof, leaf(r), merkle.proof_from_levels(levels, 3))
    assert not verify(world, WINDOW, h, header_proof, leaf(r), proof[:-1])


def test_a_reading_does_not_verify_through_another_batch(world):
    window = build_window(world, [4, 4, 4])
    (h0, hp0, batch0, levels0), (h1, hp1, _, _) = window[0], window[1]
    proof = merkle.proof_from_levels(levels0, 0)
    assert verify(world, WINDOW, h0, hp0, leaf(batch0[0]), proof)
    assert not verify(world, WINDOW, h1, hp1, leaf(batch0[0]), proof)


def test_a_header_from_another_window_does_not_verify(world):
    build_window(world, [3, 5, 2])
    h, header_proof, batch, levels = build_window(world, [3, 5, 2], WINDOW2, first_seq=9_000)[1]
    proof = merkle.proof_from_levels(levels, 0)
    assert verify(world, WINDOW2, h, header_proof, leaf(batch[0]), proof)
    assert not verify(world, WINDOW, h, header_proof, leaf(batch[0]), proof)


def test_a_wrong_header_proof_does_not_verify(world):
    window = build_window(world, [3, 5, 2, 4, 1])
    h, header_proof, batch, levels = window[1]
    proof = merkle.proof_from_levels(levels, 0)
    assert verify(world, WINDOW, h, header_proof, leaf(batch[0]), proof)
    assert not verify(world, WINDOW, h, window[2][1], leaf(batch[0]), proof)
    assert not verify(world, WINDOW, h, header_proof[:-1], leaf(batch[0]), proof)
    assert not verify(world, WINDOW, h, [], leaf(batch[0]), proof)


def test_a_header_changed_after_anchoring_does_not_verify(world):
    h, header_proof, batch, levels = build_window(world, [3, 5, 2])[1]
    proof = merkle.proof_from_levels(levels, 0)
    hotter = with_field(h, 6, h[6] + 100)
    fewer = with_field(h, COUNT_FIELD, h[COUNT_FIELD] - 1)
    for changed in (hotter, fewer):
        assert not verify(world, WINDOW, changed, header_proof, leaf(batch[0]), proof)


def test_nothing_verifies_against_an_unknown_window(world):
    h, header_proof, batch, levels = build_window(world, [3, 5])[0]
    proof = merkle.proof_from_levels(levels, 0)
    assert not verify(world, WINDOW2, h, header_proof, leaf(batch[0]), proof)
    assert not verify(world, bytes(32), h, header_proof, leaf(batch[0]), proof)
    (single,) = some_headers(world, 1, first_seq=7_000)
    assert not verify(world, WINDOW2, single, [], bytes(32), [])


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
