"""Named attacks on the contracts, each shown to fail: reentrancy along the two call paths between
contracts (the ledger's recordDose into Appointments.complete, Appointments into the ledger's
reservations, ColdChainLog into the ledger's quarantine), and checked arithmetic at the real
boundaries of the counters and quantities (Panic(0x11) or a named error, never a wrapped value).

Why reentrancy cannot happen on the deployed contracts: the only external calls are between the
three of them, the callee never calls back (`test_no_call_between_the_contracts_calls_back` traces
them), and the wiring cannot be changed (setAppointments is one-shot and admin-only; each contract's
ledger is immutable). The hostile contracts below go further: wired in where the real ones are
refused (on a fresh ledger or log), they re-enter at the worst moment, and the state each contract
wrote before calling out (checks-effects-interactions) refuses the replay by name.

Hostile contracts are compiled from source here (Brownie's compile_source, through the same solc),
so nothing test-only sits in contracts/ to be deployed or analysed."""

from __future__ import annotations

from typing import Any

import pytest
from brownie import ColdChainLog, VaccineLedger, accounts, chain, compile_source, web3
from eth_abi import encode

from chain.enums import BookingStatus, EquipmentKind, FacilityKind
from chain.errors import ErrorTable, decode_revert
from scripts.deploy import Deployment
from scripts.district import District
from tests.contracts.conftest import World, person, reverts, text32, unit, vtype
from tests.contracts.probe import PANIC_OVERFLOW, address_of, error_table, probe, probe_raw, shown

HEPB = vtype("HepB")
EXC = text32("EXC-ATTACK")
T0 = 1_763_700_000_000
U64_MAX = 2**64 - 1
U32_MAX = 2**32 - 1

HOSTILE_SOURCE = """
// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// Calls out once, from inside a call it receives, with calldata it was armed with, and keeps
/// what came back: the re-entry an attacker would attempt at that moment.
abstract contract Reentrant {
    address public target;
    bytes public reentry;
    bool public reentered;
    bool public reentryOk;
    bytes public reentryReturn;

    function arm(address target_, bytes calldata reentry_) external {
        target = target_;
        reentry = reentry_;
        reentered = false;
    }

    /// Any call made as this contract (e.g. the reservation a hostile appointments contract may take).
    function forward(address to, bytes calldata data) external {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) assembly { revert(add(ret, 0x20), mload(ret)) }
    }

    function _reenter() internal {
        if (reentered || target == address(0)) return;
        reentered = true;
        (reentryOk, reentryReturn) = target.call(reentry);
    }
}

/// Wired as a ledger's appointments contract: complete() re-enters first, then answers `answer`.
contract ReentrantAppointments is Reentrant {
    bytes8 public answer;

    function setAnswer(bytes8 answer_) external {
        answer = answer_;
    }

    function complete(uint64, uint32) external returns (bytes8) {
        _reenter();
        return answer;
    }
}

/// Wired as a ColdChainLog's ledger: grants every role, reports every equipment as a fridge
/// under excursion, and re-enters the log when asked to quarantine or end an excursion.
contract ReentrantLedger is Reentrant {
    struct Equipment {
        uint32 facility;
        uint8 kind;
        bool active;
        bool underExcursion;
        uint32 openItems;
    }

    function hasRole(bytes32, address) external pure returns (bool) {
        return true;
    }

    function equipment(uint32) external pure returns (Equipment memory) {
        return Equipment(1, 1, true, true, 0);
    }

    function quarantineStock(uint32, uint32[] calldata, bytes32) external {
        _reenter();
    }

    function quarantineShipments(uint32, uint64[] calldata, bytes32) external {
        _reenter();
    }

    function endExcursion(uint32, bytes32) external {
        _reenter();
    }
}

/// A contract account making several calls in one transaction, keeping each outcome rather than
/// reverting: a hostile clinic member, booker or bystander trying its luck in sequence.
contract Replayer {
    bool[] internal _ok;
    bytes[] internal _returned;

    function run(address[] calldata targets, bytes[] calldata data) external {
        delete _ok;
        delete _returned;
        for (uint256 i; i < targets.length; ++i) {
            (bool ok, bytes memory ret) = targets[i].call(data[i]);
            _ok.push(ok);
            _returned.push(ret);
        }
    }

    function outcomes() external view returns (bool[] memory, bytes[] memory) {
        return (_ok, _returned);
    }
}
"""


@pytest.fixture(scope="module")
def hostile() -> Any:
    """The hostile contracts' containers (compiled once per module, for the chain's Shanghai)."""
    return compile_source(HOSTILE_SOURCE, solc_version="0.8.28", evm_version="shanghai")


@pytest.fixture(scope="module")
def errors(world: World) -> ErrorTable:
    return error_table(world.ledger, world.appointments, world.cold_chain)


def outcomes(errors: ErrorTable, replayer: Any) -> list[str]:
    """Each call the replayer made: 'ok' or its refusal by name and arguments."""
    oks, returned = replayer.outcomes()
    return ["ok" if ok else decode_revert(bytes(data), errors).message for ok, data in zip(oks, returned, strict=True)]


def reentry_outcome(errors: ErrorTable, attacker: Any) -> str:
    """What the hostile contract's one re-entry got: 'ok' or its refusal by name and arguments."""
    assert attacker.reentered(), "the hostile contract was never called back"
    return "ok" if attacker.reentryOk() else decode_revert(bytes(attacker.reentryReturn()), errors).message


def site(w: World, facility: int) -> tuple[int, int]:
    return tuple(w.ledger.siteStock(facility, HEPB))


def stock(w: World, lot: int, equipment: int) -> tuple[int, int, int]:
    return tuple(w.ledger.stockOf(lot, equipment))


def book(w: World, slot: int, who: Any = None) -> int:
    return w.appointments.book(slot, person(), {"from": who or accounts[5]}).return_value


# --------------------------------------------------------------------------- wiring cannot be changed


def test_attack_swap_in_a_malicious_appointments_contract_is_refused(world, hostile, errors):
    w = world
    attacker = hostile.ReentrantAppointments.deploy({"from": accounts[7]})
    refusal = probe(errors, w.admin, w.ledger, "setAppointments", (attacker,))
    assert (refusal.name, refusal.args) == ("AppointmentsAlreadySet", (address_of(w.appointments),))
    for who in (w.regulator, w.oracle, w.nurse, accounts[7]):
        refusal = probe(errors, who, w.ledger, "setAppointments", (attacker,))
        assert (refusal.name, refusal.args) == ("AccessControlUnauthorizedAccount", (address_of(who), bytes(32)))
    assert w.ledger.appointments() == w.appointments


def test_attack_set_appointments_is_one_shot_from_the_start(world, hostile):
    """On a fresh ledger too: the admin wires once, and not to nothing."""
    admin = world.admin
    ledger = VaccineLedger.deploy(admin, {"from": admin})
    with reverts("ZeroAddress"):
        ledger.setAppointments("0x" + "00" * 20, {"from": admin})
    ledger.setAppointments(world.appointments, {"from": admin})
    with reverts("AppointmentsAlreadySet", world.appointments):
        ledger.setAppointments(hostile.ReentrantAppointments.deploy({"from": admin}), {"from": admin})


def test_attack_the_cold_chain_logs_ledger_cannot_be_changed(world):
    """ColdChainLog keeps its ledger as an immutable: in the code itself, with no function to change it
    (tests/contracts/test_roles.py lists every function the log has)."""
    log = world.cold_chain
    assert log.ledger() == world.ledger
    assert bytes.fromhex(world.ledger.address[2:]) in bytes(web3.eth.get_code(log.address))


# --------------------------------------------------------------------------- direct calls to the internal path


def test_attack_hostile_contract_calls_reserve_unreserve_and_complete_directly(world, hostile, errors):
    w = world
    slot = w.district.slot(w.clinic, "HepB")
    booking = book(w, slot)
    before = (site(w, w.clinic), w.appointments.booking(booking))
    replayer = hostile.Replayer.deploy({"from": accounts[7]})
    replayer.run(
        [w.ledger, w.ledger, w.ledger, w.appointments],
        [
            w.ledger.reserve.encode_input(w.clinic, HEPB),
            w.ledger.unreserve.encode_input(w.clinic, HEPB),
            w.ledger.unreserve.encode_input(w.clinic, HEPB),
            w.appointments.complete.encode_input(booking, w.clinic),
        ],
        {"from": accounts[7]},
    )
    me = address_of(replayer)
    assert outcomes(errors, replayer) == [f"OnlyAppointments(caller={me})"] * 3 + [f"OnlyLedger(caller={me})"]
    assert (site(w, w.clinic), w.appointments.booking(booking)) == before


# --------------------------------------------------------------------------- doubling through the real contracts


@pytest.fixture()
def member_replayer(world: World, hostile: Any) -> Any:
    """A Replayer the admin made a member of clinic A: a clinic acting through a contract."""
    replayer = hostile.Replayer.deploy({"from": accounts[7]})
    world.ledger.addMember(replayer, world.clinic, {"from": world.admin})
    return replayer


def test_attack_double_complete_one_booking_in_one_transaction(world, member_replayer, errors):
    w = world
    booking = book(w, w.district.slot(w.clinic, "HepB"))
    assert site(w, w.clinic) == (100, 1)
    dose = w.ledger.recordDose.encode_input
    member_replayer.run(
        [w.ledger, w.ledger],
        [
            dose(person(), w.hepb_lot, w.fridge, unit("ATTACK-1"), booking),
            dose(person(), w.hepb_lot, w.fridge, unit("ATTACK-2"), booking),
        ],
        {"from": accounts[7]},
    )
    completed = int(BookingStatus.COMPLETED)
    assert outcomes(errors, member_replayer) == ["ok", f"BookingNotActive(booking={booking}, status={completed})"]
    assert w.appointments.booking(booking)["status"] == BookingStatus.COMPLETED
    assert site(w, w.clinic) == (99, 0)
    assert stock(w, w.hepb_lot, w.fridge) == (99, 0, w.clinic)


def test_attack_double_reserve_overbooks_the_last_dose(world, hostile, errors):
    """Two bookings in one transaction for the site's one unreserved dose: the second is refused by
    the ledger, and its refusal undoes the booking Appointments had already written."""
    w = world
    w.district.deliver(w.hepb_lot, w.cdc_room, w.van, w.fridge_b, 1)
    slot = w.district.slot(w.clinic2, "HepB", capacity=5)
    replayer = hostile.Replayer.deploy({"from": accounts[7]})
    count = w.appointments.bookingCount()
    call = w.appointments.book.encode_input
    replayer.run([w.appointments] * 2, [call(slot, person()), call(slot, person())], {"from": accounts[7]})
    assert outcomes(errors, replayer) == ["ok", f"StockReserved(facility={w.clinic2}, vaccineType=0x{HEPB.hex()})"]
    assert site(w, w.clinic2) == (1, 1)
    assert w.appointments.bookingCount() == count + 1
    assert w.appointments.slot(slot)["booked"] == 1


def test_attack_cancel_twice_to_free_a_reservation_twice(world, hostile, errors):
    """A booker cancelling (and marking missed) a booking again, in one transaction: refused by
    name; the site's reservation count goes back to zero, not below."""
    w = world
    slot = w.district.slot(w.clinic, "HepB", capacity=5)
    replayer = hostile.Replayer.deploy({"from": accounts[7]})
    replayer.run([w.appointments], [w.appointments.book.encode_input(slot, person())], {"from": accounts[7]})
    booking = w.appointments.bookingCount()
    assert site(w, w.clinic) == (100, 1)
    cancel = w.appointments.cancel.encode_input(booking)
    replayer.run([w.appointments] * 2, [cancel, cancel], {"from": accounts[7]})
    cancelled = int(BookingStatus.CANCELLED)
    assert outcomes(errors, replayer) == ["ok", f"BookingNotActive(booking={booking}, status={cancelled})"]
    chain.sleep(2 * 86_400)
    refusal = probe(errors, w.nurse, w.appointments, "markMissed", (booking,))
    assert (refusal.name, refusal.args) == ("BookingNotActive", (booking, cancelled))
    assert site(w, w.clinic) == (100, 0)
    assert w.appointments.slot(slot)["booked"] == 0


# --------------------------------------------------------------------------- re-entry by hostile contracts


@pytest.fixture()
def hostile_wired_ledger(world: World, hostile: Any) -> tuple[Any, Any, District, dict[str, int]]:
    """A fresh ledger whose admin wired a ReentrantAppointments, and made it a member of the clinic:
    the worst case, which the deployed ledger refuses (see above). The clinic holds 10 HepB doses."""
    admin, regulator = world.admin, world.regulator
    attacker = hostile.ReentrantAppointments.deploy({"from": accounts[7]})
    ledger = VaccineLedger.deploy(admin, {"from": admin})
    ledger.grantRole(ledger.REGULATOR_ROLE(), regulator, {"from": admin})
    ledger.setAppointments(attacker, {"from": admin})
    d = District(Deployment(ledger, attacker, admin, regulator, world.oracle))
    maker = d.facility(FacilityKind.MANUFACTURER, "Maker")
    clinic = d.facility(FacilityKind.CLINIC, "Clinic")
    room = d.equipment(maker, EquipmentKind.COLD_ROOM, "M-CR1")
    truck = d.equipment(maker, EquipmentKind.VEHICLE, "M-T1")
    fridge = d.equipment(clinic, EquipmentKind.FRIDGE, "C-F1")
    lot = d.lot(d.product(maker, "HepB"), "HB-X", 100, room)
    d.deliver(lot, room, truck, fridge, 10)
    ledger.addMember(attacker, clinic, {"from": admin})
    attacker.setAnswer(HEPB, {"from": accounts[7]})
    # the one reservation the booking would hold, taken by the hostile contract as the ledger's appointments
    attacker.forward(ledger, ledger.reserve.encode_input(clinic, HEPB), {"from": accounts[7]})
    return ledger, attacker, d, {"clinic": clinic, "fridge": fridge, "lot": lot}


def test_attack_reenter_record_dose_with_the_same_unit(hostile_wired_ledger, world):
    """complete() re-enters recordDose with the unit being recorded: the unit's use was written
    before the call out, so the replay is refused as UnitUsedUp, and one dose is recorded."""
    ledger, attacker, d, ids = hostile_wired_ledger
    errors = error_table(ledger, world.appointments)
    nurse, the_unit = d.staff[ids["clinic"]], unit("REENTRY-1")
    replay = ledger.recordDose.encode_input(person(), ids["lot"], ids["fridge"], the_unit, 0)
    attacker.arm(ledger, replay, {"from": accounts[7]})
    tx = ledger.recordDose(person(), ids["lot"], ids["fridge"], the_unit, 1, {"from": nurse})
    assert reentry_outcome(errors, attacker) == f"UnitUsedUp(unitHash=0x{bytes(the_unit).hex()})"
    assert len(tx.events["DoseRecorded"]) == 1
    assert tuple(ledger.unit(the_unit)) == (ids["lot"], 1)
    assert tuple(ledger.stockOf(ids["lot"], ids["fridge"])) == (9, 0, ids["clinic"])
    assert tuple(ledger.siteStock(ids["clinic"], HEPB)) == (9, 0)


def test_attack_reenter_record_dose_to_spend_one_reservation_twice(hostile_wired_ledger, world):
    """complete() re-enters recordDose for the same booking with another unit: the inner dose takes
    the one reservation, and the outer one's taking it again underflows: Panic(0x11), and the whole
    transaction (both doses) reverts, rather than `reserved` wrapping to 2**64 - 1."""
    ledger, attacker, d, ids = hostile_wired_ledger
    errors = error_table(ledger, world.appointments)
    nurse = d.staff[ids["clinic"]]
    replay = ledger.recordDose.encode_input(person(), ids["lot"], ids["fridge"], unit("REENTRY-B"), 1)
    attacker.arm(ledger, replay, {"from": accounts[7]})
    refusal = probe(errors, nurse, ledger, "recordDose", (person(), ids["lot"], ids["fridge"], unit("REENTRY-A"), 1))
    assert refusal is not None and (refusal.name, refusal.args) == ("Panic", (PANIC_OVERFLOW,)), shown(refusal)
    assert tuple(ledger.siteStock(ids["clinic"], HEPB)) == (10, 1)


@pytest.fixture()
def hostile_ledger_log(hostile: Any) -> tuple[Any, Any]:
    """A fresh ColdChainLog over a ReentrantLedger (the deployed log's ledger is immutable)."""
    attacker = hostile.ReentrantLedger.deploy({"from": accounts[7]})
    log = ColdChainLog.deploy(attacker, {"from": accounts[7]})
    return log, attacker


def test_attack_reenter_report_excursion_from_the_quarantine(hostile_ledger_log, world):
    """The ledger's quarantine re-enters reportExcursion with the same excursion: it was recorded
    before the call out, so the replay is ExcursionAlreadyReported and the count stays one."""
    log, attacker = hostile_ledger_log
    errors = error_table(log)
    equipment = 4
    args = (EXC, equipment, 1, 2, T0, [], [])
    attacker.arm(log, log.reportExcursion.encode_input(*args), {"from": accounts[7]})
    log.reportExcursion(*args, {"from": accounts[8]})
    assert reentry_outcome(errors, attacker) == f"ExcursionAlreadyReported(excursionId=0x{bytes(EXC).hex()})"
    assert log.openExcursions(equipment) == 1


def test_attack_reenter_close_excursion_from_the_end_of_excursion(hostile_ledger_log, world):
    """The ledger's endExcursion re-enters closeExcursion with the same excursion: it was closed
    before the call out, so the replay is ExcursionNotOpen and the open count stays at zero (a
    second decrement would be Panic(0x11), not 2**32 - 1)."""
    log, attacker = hostile_ledger_log
    errors = error_table(log)
    equipment = 4
    log.reportExcursion(EXC, equipment, 1, 2, T0, [], [], {"from": accounts[8]})
    close = (EXC, T0 + 3_600_000, -5, 90)
    attacker.arm(log, log.closeExcursion.encode_input(*close), {"from": accounts[7]})
    log.closeExcursion(*close, {"from": accounts[8]})
    assert reentry_outcome(errors, attacker) == f"ExcursionNotOpen(excursionId=0x{bytes(EXC).hex()})"
    assert log.openExcursions(equipment) == 0


def calls_of(tx: Any) -> list[tuple[int, str, str, str]]:
    """The transaction's call tree, flattened: (depth, call type, callee, selector)."""
    trace = web3.provider.make_request("debug_traceTransaction", [tx.txid, {"tracer": "callTracer"}])["result"]
    flat: list[tuple[int, str, str, str]] = []

    def walk(frame: dict[str, Any], depth: int) -> None:
        flat.append((depth, frame["type"], address_of(frame["to"]), frame.get("input", "0x")[:10]))
        for child in frame.get("calls", []):
            walk(child, depth + 1)

    walk(trace, 0)
    return flat


def test_no_call_between_the_contracts_calls_back(world):
    """Every path from one contract into another, traced on the deployed contracts: each callee
    answers without calling anything, so there is no path by which a call could re-enter."""
    w = world
    led, app, log = w.ledger, w.appointments, w.cold_chain
    slot = w.district.slot(w.clinic, "HepB")
    tx_book = app.book(slot, person(), {"from": accounts[5]})
    booking = tx_book.return_value
    tx_dose = led.recordDose(person(), w.hepb_lot, w.fridge, unit("TRACE-1"), booking, {"from": w.nurse})
    tx_cancel = app.cancel(book(w, slot), {"from": accounts[5]})
    tx_report = log.reportExcursion(EXC, w.fridge2, 1, 2, T0, [], [], {"from": w.oracle})
    tx_close = log.closeExcursion(EXC, T0 + 3_600_000, 30, 95, {"from": w.oracle})
    sel = {name: getattr(c, name).signature for c, name in ((led, "reserve"), (led, "unreserve"))}
    sel |= {"complete": app.complete.signature, "hasRole": led.hasRole.signature, "equipment": led.equipment.signature}
    sel |= {"quarantineStock": led.quarantineStock.signature, "endExcursion": led.endExcursion.signature}
    A, L = address_of(app), address_of(led)
    assert calls_of(tx_book)[1:] == [(1, "CALL", L, sel["reserve"])]
    assert calls_of(tx_dose)[1:] == [(1, "CALL", A, sel["complete"])]
    assert calls_of(tx_cancel)[1:] == [(1, "CALL", L, sel["unreserve"])]
    assert calls_of(tx_report)[1:] == [
        (1, "STATICCALL", L, sel["hasRole"]),
        (1, "STATICCALL", L, sel["equipment"]),
        (1, "CALL", L, sel["quarantineStock"]),
    ]
    assert calls_of(tx_close)[1:] == [
        (1, "STATICCALL", L, sel["hasRole"]),
        (1, "STATICCALL", L, sel["equipment"]),
        (1, "CALL", L, sel["endExcursion"]),
    ]


# --------------------------------------------------------------------------- checked arithmetic at the boundaries


def storage_slot_holding(contract: Any, word: int, search: int = 32) -> int:
    """The storage slot of `contract` whose value is `word`: counters are found by what they hold
    (read through their getters), so a change of storage layout cannot make the test write elsewhere."""
    found = [s for s in range(search) if int.from_bytes(web3.eth.get_storage_at(contract.address, s), "big") == word]
    assert len(found) == 1, f"{len(found)} slots of {contract.address} hold 0x{word:064x}"
    return found[0]


def set_storage(contract: Any, slot: int, word: int) -> None:
    reply = web3.provider.make_request("anvil_setStorageAt", [contract.address, hex(slot), f"0x{word:064x}"])
    assert reply.get("result") is True, reply


def test_overflow_site_stock_at_uint64_max(world, errors):
    """A lot registered into a site whose stock of the type would pass 2**64 - 1 doses: Panic(0x11).
    Up to the limit exactly, it is taken."""
    w = world
    held = w.ledger.siteStock(w.maker, HEPB)[0]
    args = (w.hepb, text32("HB-MAX"), chain.time() + 86_400 * 365, U64_MAX - held, w.maker_room)
    w.ledger.registerLot(*args, {"from": w.maker_staff})
    assert w.ledger.siteStock(w.maker, HEPB)[0] == U64_MAX
    one_more = (w.hepb, text32("HB-ONE"), args[2], 1, w.maker_room)
    refusal = probe(errors, w.maker_staff, w.ledger, "registerLot", one_more)
    assert refusal is not None and (refusal.name, refusal.args) == ("Panic", (PANIC_OVERFLOW,)), shown(refusal)


def test_overflow_uint64_booking_counter(world, errors):
    """Booking ids are uint64: the last id is given, the next booking is Panic(0x11), never id 0
    (which would overwrite nothing but alias every unknown booking)."""
    w, app = world, world.appointments
    slot = w.district.slot(w.clinic, "HepB", capacity=5)
    word = (app.bookingCount() << 32) | app.slotCount()  # slotCount: uint32, bookingCount: uint64, one slot
    where = storage_slot_holding(app, word)
    set_storage(app, where, ((U64_MAX - 1) << 32) | app.slotCount())
    assert book(w, slot) == U64_MAX
    refusal = probe(errors, accounts[5], app, "book", (slot, person()))
    assert refusal is not None and (refusal.name, refusal.args) == ("Panic", (PANIC_OVERFLOW,)), shown(refusal)


def test_overflow_uint32_slot_counter(world, errors):
    w, app = world, world.appointments
    w.district.slot(w.clinic, "HepB")  # so the counters' slot holds a value no other slot does
    word = (app.bookingCount() << 32) | app.slotCount()
    set_storage(app, storage_slot_holding(app, word), (app.bookingCount() << 32) | U32_MAX)
    refusal = probe(errors, w.nurse, app, "publishSlot", (HEPB, chain.time() + 86_400, 3_600, 5))
    assert refusal is not None and (refusal.name, refusal.args) == ("Panic", (PANIC_OVERFLOW,)), shown(refusal)


def test_overflow_uint64_shipment_counter(world, errors):
    w, led = world, world.ledger
    word = (int(led.appointments(), 16) << 64) | led.shipmentCount()  # shipmentCount: uint64, then the address
    set_storage(led, storage_slot_holding(led, word), (int(led.appointments(), 16) << 64) | U64_MAX)
    refusal = probe(errors, w.cdc_staff, led, "ship", (w.hepb_lot, w.cdc_room, w.van, w.clinic2, 10))
    assert refusal is not None and (refusal.name, refusal.args) == ("Panic", (PANIC_OVERFLOW,)), shown(refusal)


def test_underflow_unreserve_below_zero(world, errors):
    """A reservation given back where none is held (only reachable if Appointments were wrong):
    Panic(0x11), rather than `reserved` wrapping to 2**64 - 1 and holding back every dose of the site."""
    w = world
    assert site(w, w.clinic) == (100, 0)
    refusal = probe(errors, w.appointments, w.ledger, "unreserve", (w.clinic, HEPB))
    assert refusal is not None and (refusal.name, refusal.args) == ("Panic", (PANIC_OVERFLOW,)), shown(refusal)
    # and a reservation beyond the unquarantined stock is a named refusal
    refusal = probe(errors, w.appointments, w.ledger, "reserve", (w.clinic2, HEPB))
    assert (refusal.name, refusal.args) == ("StockReserved", (w.clinic2, HEPB))


def test_reserved_above_available_after_quarantine_stays_named(world, errors):
    """Quarantine takes stock that bookings hold (available falls below reserved): every later
    check compares rather than subtracts, so refusals stay named, and cancelling still works."""
    w = world
    slot = w.district.slot(w.clinic, "HepB", capacity=5)
    bookings = [book(w, slot) for _ in range(2)]
    w.ledger.quarantineStock(w.fridge, sorted([w.hepb_lot, w.bopv_lot]), EXC, {"from": w.oracle})
    assert site(w, w.clinic) == (0, 2)
    got = probe(errors, accounts[5], w.appointments, "book", (slot, person()))
    assert (got.name, got.args) == ("StockReserved", (w.clinic, HEPB))
    got = probe(errors, w.nurse, w.ledger, "recordDose", (person(), w.hepb_lot, w.fridge, unit("Q-1"), bookings[0]))
    assert (got.name, got.args) == ("StockInQuarantine", (w.hepb_lot, w.fridge))
    for b in bookings:
        w.appointments.cancel(b, {"from": accounts[5]})
    assert site(w, w.clinic) == (0, 0)


def test_uint32_quantity_with_high_bits_is_refused_not_truncated(world, errors):
    """ship(quantity) with 2**32 + 10 in the quantity word: the ABI decoder refuses it (a revert
    without data) rather than shipping 10."""
    w, led = world, world.ledger
    good = led.ship.encode_input(w.hepb_lot, w.cdc_room, w.van, w.clinic2, 10)
    assert probe_raw(errors, w.cdc_staff, led.address, good) is None
    words = bytes.fromhex(good[10:])
    dirty = words[:128] + encode(["uint256"], [2**32 + 10]) + words[160:]
    refusal = probe_raw(errors, w.cdc_staff, led.address, good[:10] + dirty.hex())
    assert refusal is not None and refusal.name == "Reverted", shown(refusal)


def test_slot_end_at_the_uint40_limit_does_not_overflow(world, errors):
    """A slot's end is start (uint40) + duration (uint32), summed in 256 bits: a slot at the very
    limits books, and cannot be marked missed before its end."""
    w, app = world, world.appointments
    tx = app.publishSlot(HEPB, 2**40 - 1, U32_MAX, 1, {"from": w.nurse})
    slot = tx.events["SlotPublished"]["slot"]
    booking = book(w, slot)
    got = probe(errors, w.nurse, app, "markMissed", (booking,))
    assert (got.name, got.args) == ("SlotNotOver", (slot,))


def test_unit_uses_stop_at_255_doses_per_unit(world, errors):
    """Doses per unit is a uint8 and so is a unit's use count: at 255 of 255 the next dose is
    UnitUsedUp, not a Panic or a count wrapped to 0. The count is set to 254 in storage (found by
    the value one real dose left there) rather than by recording 254 doses."""
    w, d, led = world, world.district, world.ledger
    product = d.product(w.maker, "HepB", doses_per_unit=255, name="HepB 255")
    lot = d.lot(product, "HB-255", 255 * 4, w.maker_room)
    d.deliver(lot, w.maker_room, w.van, w.fridge, 255 * 2)
    the_unit = unit("HB-255-SN1")
    led.recordDose(person(), lot, w.fridge, the_unit, 0, {"from": w.nurse})
    slot_index = storage_slot_of_unit(led, the_unit, lot)
    set_storage(led, slot_index, (254 << 32) | lot)  # Unit{uint32 lot; uint8 uses}, packed
    assert tuple(led.unit(the_unit)) == (lot, 254)
    assert led.recordDose(person(), lot, w.fridge, the_unit, 0, {"from": w.nurse}).return_value == 255
    got = probe(errors, w.nurse, led, "recordDose", (person(), lot, w.fridge, the_unit, 0))
    assert (got.name, got.args) == ("UnitUsedUp", (bytes(the_unit),))


def storage_slot_of_unit(ledger: Any, unit_hash: bytes, lot: int) -> int:
    """The storage slot of `_units[unit_hash]`, found among the mapping slots it could be in by the
    value one dose left there (lot, one use)."""
    expected = (1 << 32) | lot
    for base in range(32):
        key = int.from_bytes(web3.keccak(bytes(unit_hash) + base.to_bytes(32, "big")), "big")
        if int.from_bytes(web3.eth.get_storage_at(ledger.address, key), "big") == expected:
            return key
    raise AssertionError("no slot holds the unit record")
