"""Role matrix: every state-changing external function of VaccineLedger, Appointments and
ColdChainLog, called by every kind of account, is refused to all but its own with a named error.

The functions come from the ABIs (`test_every_state_changing_function_has_a_rule`), so a new one
without a rule here fails. For each function a `Rule` names the accounts it is meant for and the
error every other account gets (with exceptions by account); its arguments are ones under which
the permitted accounts' calls succeed, so a refusal is the access rule speaking, not a bad argument.
Where a refusal names an account, it must name the caller (and AccessControl's, the role needed).

Callers (`CALLERS`): the platform admin, the regulator, a member of the manufacturer, of the
district CDC (distributor) and of two clinics, the oracle, the three contracts (the ColdChainLog
holds the ledger's oracle role; Appointments is the ledger's reservation caller; the ledger is
Appointments' completion caller), a citizen who holds a booking and a stranger.

Calls go through eth_call (tests/contracts/probe.py): the checks read only msg.sender, and every
row of the matrix then sees the same state, which the module fixture builds once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from brownie import accounts, chain

from chain.encoding import to_bytes32
from chain.enums import AefiCategory, AefiSeverity, BookingStatus, EquipmentKind, FacilityKind, WriteOffReason
from tests.contracts.conftest import World, person, text32, unit, vtype
from tests.contracts.probe import address_of, error_table, probe, shown

DAY = 86_400
HEPB = vtype("HepB")
REF = text32("EXC-ROLES")
T0 = 1_763_700_000_000
ADMIN_ROLE = bytes(32)

CALLERS = (
    "admin",
    "regulator",
    "maker",  # member of the manufacturer
    "cdc",  # member of the district CDC: the distributor
    "nurse",  # member of clinic A, where the stock, slots and bookings below are
    "nurse2",  # member of clinic B
    "oracle",
    "cold_chain",  # the ColdChainLog contract (holds the ledger's ORACLE_ROLE)
    "appointments",  # the Appointments contract
    "ledger",  # the VaccineLedger contract
    "citizen",  # holds the bookings below
    "stranger",  # any other account
)
MEMBERS = frozenset({"maker", "cdc", "nurse", "nurse2"})
NON_MEMBERS = frozenset(CALLERS) - MEMBERS
EVERYONE = frozenset(CALLERS)
# quarantine and the end of an excursion: the oracle (and the log, which holds its role), the CDC, the regulator
QUARANTINERS = frozenset({"oracle", "cold_chain", "cdc", "regulator"})
ORACLES = frozenset({"oracle", "cold_chain"})


@dataclass
class Matrix:
    """The state every row is probed in, on top of the standard world (tests/contracts/conftest.py)."""

    w: World
    callers: dict[str, str]
    regulator_role: bytes
    oracle_role: bytes
    clinic_c: int  # an open clinic with no member: a destination no caller belongs to
    unreleased_lot: int
    in_van: int  # open shipment, CDC to clinic A, in the van
    held: int  # quarantined shipment in the truck, whose excursion is over
    truck: int
    quarantined_fridge: int  # clinic A's fridge2: hepb_lot quarantined, excursion over
    excursion_box: int  # clinic A's cold box, under excursion, empty
    spare_fridge: int  # clinic B's second fridge, with an open excursion on the log
    used_unit: bytes  # a unit with one recorded dose
    slot: int  # clinic A's HepB slot tomorrow
    booking: int  # the citizen's booking in `slot`
    booking_over: int  # the citizen's booking in a slot that is over
    open_excursion: bytes  # reported on spare_fridge, not closed


@pytest.fixture(scope="module")
def m(world: World) -> Matrix:
    w, d = world, world.district
    led, app = w.ledger, w.appointments
    citizen, stranger = accounts[5], accounts[6]
    tx = led.registerFacility(FacilityKind.CLINIC, "Clinic C", to_bytes32("440604"), {"from": w.admin})
    clinic_c = tx.events["FacilityRegistered"]["facility"]
    unreleased = d.lot(w.hepb, "HB-ROLES", 100, w.maker_room, release=False)
    in_van = d.ship(w.hepb_lot, w.cdc_room, w.van, w.clinic, 10)

    truck = d.equipment(w.cdc, EquipmentKind.VEHICLE, "CDC-VAN2")
    held = led.ship(w.hepb_lot, w.cdc_room, truck, w.clinic2, 10, {"from": w.cdc_staff}).return_value
    led.quarantineShipments(truck, [held], REF, {"from": w.oracle})
    led.endExcursion(truck, REF, {"from": w.oracle})

    led.move(w.hepb_lot, w.fridge, w.fridge2, 10, {"from": w.nurse})
    led.quarantineStock(w.fridge2, [w.hepb_lot], REF, {"from": w.oracle})
    led.endExcursion(w.fridge2, REF, {"from": w.oracle})
    led.quarantineStock(w.cold_box, [], REF, {"from": w.oracle})

    used_unit = unit("ROLES-USED")
    led.recordDose(person(), w.hepb_lot, w.fridge, used_unit, 0, {"from": w.nurse})

    soon = d.slot(w.clinic, "HepB", start_in=3_600, duration=3_600)
    booking_over = app.book(soon, person(), {"from": citizen}).return_value
    chain.sleep(3 * 3_600)
    slot = d.slot(w.clinic, "HepB", start_in=DAY)
    booking = app.book(slot, person(), {"from": citizen}).return_value

    spare_fridge = d.equipment(w.clinic2, EquipmentKind.FRIDGE, "B-F2")
    open_excursion = text32("EXC-ROLES-OPEN")
    w.cold_chain.reportExcursion(open_excursion, spare_fridge, 1, 1, T0, [], [], {"from": w.oracle})

    callers = {
        "admin": w.admin,
        "regulator": w.regulator,
        "maker": w.maker_staff,
        "cdc": w.cdc_staff,
        "nurse": w.nurse,
        "nurse2": w.nurse2,
        "oracle": w.oracle,
        "cold_chain": w.cold_chain,
        "appointments": app,
        "ledger": led,
        "citizen": citizen,
        "stranger": stranger,
    }
    return Matrix(
        w=w,
        callers={role: address_of(who) for role, who in callers.items()},
        regulator_role=bytes(led.REGULATOR_ROLE()),
        oracle_role=bytes(led.ORACLE_ROLE()),
        clinic_c=clinic_c,
        unreleased_lot=unreleased,
        in_van=in_van,
        held=held,
        truck=truck,
        quarantined_fridge=w.fridge2,
        excursion_box=w.cold_box,
        spare_fridge=spare_fridge,
        used_unit=used_unit,
        slot=slot,
        booking=booking,
        booking_over=booking_over,
        open_excursion=open_excursion,
    )


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Rule:
    """Who may call a function, and how everyone else is refused."""

    allowed: frozenset[str]
    refusal: str  # the error every caller outside `allowed` gets...
    args: Callable[[Matrix], tuple[Any, ...]]
    per_caller: Mapping[str, str] = field(default_factory=dict)  # ...unless named here
    # A permitted caller that passes the access check and then meets another rule of the function.
    allowed_error: Mapping[str, str] = field(default_factory=dict)
    needed_role: Callable[[Matrix], bytes] | None = None  # AccessControlUnauthorizedAccount's second argument

    def expected(self, caller: str) -> str | None:
        """The error `caller` must get, or None for success."""
        if caller in self.allowed:
            return self.allowed_error.get(caller)
        return self.per_caller.get(caller, self.refusal)


def admin_only(args: Callable[[Matrix], tuple[Any, ...]], **kw: Any) -> Rule:
    return Rule(frozenset({"admin"}), "AccessControlUnauthorizedAccount", args, needed_role=lambda m: ADMIN_ROLE, **kw)


def regulator_only(args: Callable[[Matrix], tuple[Any, ...]]) -> Rule:
    return Rule(
        frozenset({"regulator"}), "AccessControlUnauthorizedAccount", args, needed_role=lambda m: m.regulator_role
    )


def custodian(allowed: set[str], args: Callable[[Matrix], tuple[Any, ...]], **per_caller: str) -> Rule:
    """A facility's own staff: everyone else who is a member acts for another facility
    (WrongFacility), and an account that is no member is refused as such (NotAMember)."""
    refusals = {c: "NotAMember" for c in NON_MEMBERS - allowed} | per_caller
    return Rule(frozenset(allowed), "WrongFacility", args, per_caller=refusals)


def clinic_staff(allowed: set[str], args: Callable[[Matrix], tuple[Any, ...]], other_clinic: str | None = None) -> Rule:
    """Staff of a clinic: the manufacturer's and the CDC's members are no clinic (NotAClinic), a
    non-member is no member (NotAMember), and clinic B's nurse, when not allowed, gets `other_clinic`."""
    refusals = {"maker": "NotAClinic", "cdc": "NotAClinic"}
    if other_clinic is not None:
        refusals["nurse2"] = other_clinic
    return Rule(frozenset(allowed), "NotAMember", args, per_caller=refusals)


def header() -> tuple[Any, ...]:
    return (text32("batch-roles"), 1, T0, T0 + 3_300_000, 12, 35, 52, text32("root"))


def expiry() -> int:
    return chain.time() + 365 * DAY


RULES: dict[str, dict[str, Rule]] = {
    "VaccineLedger": {
        # AccessControl, as OpenZeppelin has it: the admin grants and revokes; anyone renounces
        # only their own role (the regulator, here: everyone else names another account).
        "grantRole": admin_only(lambda m: (m.oracle_role, m.callers["stranger"])),
        "revokeRole": admin_only(lambda m: (m.regulator_role, m.callers["regulator"])),
        "renounceRole": Rule(
            frozenset({"regulator"}),
            "AccessControlBadConfirmation",
            lambda m: (m.regulator_role, m.callers["regulator"]),
        ),
        # FacilityRegistry: the platform admin
        "registerFacility": admin_only(lambda m: (FacilityKind.CLINIC, "Clinic D", to_bytes32("440604"))),
        "setFacilityActive": admin_only(lambda m: (m.w.clinic2, False)),
        "registerEquipment": admin_only(lambda m: (m.w.clinic2, EquipmentKind.FRIDGE, "B-F9")),
        "setEquipmentActive": admin_only(lambda m: (m.w.fridge2, False)),
        "addMember": admin_only(lambda m: (m.callers["stranger"], m.w.clinic)),
        "removeMember": admin_only(lambda m: (m.callers["nurse2"],)),
        # LotRegistry: the regulator licenses and releases; the maker registers and may recall its lots
        "registerProduct": regulator_only(lambda m: (m.w.maker, vtype("MMR"), 1, False, 20, 80, "MMR")),
        "registerLot": custodian({"maker"}, lambda m: (m.w.hepb, text32("HB-M1"), expiry(), 10, m.w.maker_room)),
        "releaseLot": regulator_only(lambda m: (m.unreleased_lot, text32("cert"))),
        "recallLot": custodian({"regulator", "maker"}, lambda m: (m.w.hepb_lot, text32("notice"))),
        # Custody: the holder's staff moves stock; the receiving facility receives
        "setAppointments": admin_only(
            lambda m: (m.callers["stranger"],),
            # One-shot: the admin passes the role check and meets the wiring already made.
            allowed_error={"admin": "AppointmentsAlreadySet"},
        ),
        "ship": custodian({"cdc"}, lambda m: (m.w.hepb_lot, m.w.cdc_room, m.w.van, m.clinic_c, 10)),
        "receiveShipment": custodian({"nurse"}, lambda m: (m.in_van, m.w.fridge, 10, WriteOffReason.NONE)),
        "refuseShipment": custodian({"nurse"}, lambda m: (m.in_van, WriteOffReason.DAMAGED)),
        "move": custodian({"nurse"}, lambda m: (m.w.hepb_lot, m.w.fridge, m.w.fridge2, 1)),
        "writeOff": custodian({"nurse"}, lambda m: (m.w.hepb_lot, m.w.fridge, 1, WriteOffReason.DAMAGED)),
        # quarantine: the oracle (and the log holding its role), the CDC, the regulator
        "quarantineStock": Rule(
            QUARANTINERS, "MissingRole", lambda m: (m.w.fridge, sorted([m.w.hepb_lot, m.w.bopv_lot]), REF)
        ),
        "quarantineShipments": Rule(QUARANTINERS, "MissingRole", lambda m: (m.w.van, [m.in_van], REF)),
        "endExcursion": Rule(QUARANTINERS, "MissingRole", lambda m: (m.excursion_box, REF)),
        # after review, only the CDC or the regulator: not the oracle, whose word started it
        "releaseStock": Rule(
            frozenset({"cdc", "regulator"}), "MissingRole", lambda m: (m.quarantined_fridge, m.w.hepb_lot, 1)
        ),
        "disposeStock": Rule(
            frozenset({"cdc", "regulator"}),
            "MissingRole",
            lambda m: (m.quarantined_fridge, m.w.hepb_lot, 1, WriteOffReason.EXCURSION),
        ),
        "releaseShipment": Rule(frozenset({"cdc", "regulator"}), "MissingRole", lambda m: (m.held,)),
        # the reservations behind bookings: the Appointments contract alone
        "reserve": Rule(frozenset({"appointments"}), "OnlyAppointments", lambda m: (m.w.clinic, HEPB)),
        "unreserve": Rule(frozenset({"appointments"}), "OnlyAppointments", lambda m: (m.w.clinic, HEPB)),
        # DoseLedger: a nurse of the clinic holding the stock; adverse events from any clinic
        "recordDose": clinic_staff(
            {"nurse"},
            lambda m: (person(), m.w.hepb_lot, m.w.fridge, unit("ROLES-NEW"), 0),
            other_clinic="WrongFacility",
        ),
        "reportAdverseEvent": clinic_staff(
            {"nurse", "nurse2"},
            lambda m: (
                m.used_unit,
                1,
                AefiCategory.REACTION_COMMON,
                AefiSeverity.NON_SERIOUS,
                text32("report"),
            ),
        ),
    },
    "Appointments": {
        "publishSlot": clinic_staff({"nurse", "nurse2"}, lambda m: (HEPB, chain.time() + DAY, 3_600, 5)),
        "setCapacity": clinic_staff({"nurse"}, lambda m: (m.slot, 7), other_clinic="WrongSite"),
        # anyone books: a citizen for a child, a nurse for a caller on the phone
        "book": Rule(EVERYONE, "(none)", lambda m: (m.slot, person())),
        # the booker, or the slot's clinic
        "cancel": Rule(frozenset({"citizen", "nurse"}), "NotBooker", lambda m: (m.booking,)),
        "markMissed": clinic_staff({"nurse"}, lambda m: (m.booking_over,), other_clinic="WrongSite"),
        "complete": Rule(frozenset({"ledger"}), "OnlyLedger", lambda m: (m.booking, m.w.clinic)),
    },
    "ColdChainLog": {
        "anchorWindow": Rule(ORACLES, "NotOracle", lambda m: (text32("window-roles"), [header()])),
        "reportExcursion": Rule(
            ORACLES, "NotOracle", lambda m: (text32("EXC-ROLES-NEW"), m.w.fridge_b, 1, 1, T0, [], [])
        ),
        "closeExcursion": Rule(ORACLES, "NotOracle", lambda m: (m.open_excursion, T0 + 3_600_000, -5, 90)),
    },
}


def contract_of(m: Matrix, name: str) -> Any:
    return {"VaccineLedger": m.w.ledger, "Appointments": m.w.appointments, "ColdChainLog": m.w.cold_chain}[name]


# --------------------------------------------------------------------------- the tests


def test_every_state_changing_function_has_a_rule(m):
    for name in RULES:
        abi = contract_of(m, name).abi
        writes = {e["name"] for e in abi if e["type"] == "function" and e["stateMutability"] not in ("view", "pure")}
        assert writes == set(RULES[name]), f"{name}: functions without a rule {writes - set(RULES[name])}"
        payable = [e["name"] for e in abi if e.get("stateMutability") == "payable"]
        assert payable == [], f"{name} takes ether in {payable}: nothing on this chain should"


@pytest.mark.parametrize(
    ("contract", "function"), [(c, f) for c, rules in RULES.items() for f in rules], ids=lambda v: str(v)
)
def test_only_its_own_callers_pass(m, contract, function):
    rule = RULES[contract][function]
    target = contract_of(m, contract)
    errors = error_table(m.w.ledger, m.w.appointments, m.w.cold_chain)
    wrong = []
    for caller in CALLERS:
        sender = m.callers[caller]
        got = probe(errors, sender, target, function, rule.args(m))
        want = rule.expected(caller)
        if (got.name if got else None) != want:
            wrong.append(f"{caller}: expected {want or 'success'}, got {shown(got)}")
            continue
        if got is None or caller in rule.allowed:
            continue
        # A refusal that names an account names the caller (and AccessControl's, the role needed).
        named = [a for a in got.args if isinstance(a, str) and a.startswith("0x") and len(a) == 42]
        if named and named[0] != sender:
            wrong.append(f"{caller}: {got.message} names {named[0]}, not the caller {sender}")
        if got.name == "AccessControlUnauthorizedAccount" and rule.needed_role and got.args[1] != rule.needed_role(m):
            wrong.append(f"{caller}: {got.message} names another role than {rule.needed_role(m).hex()}")
    assert not wrong, f"{contract}.{function}:\n  " + "\n  ".join(wrong)


def test_citizens_book_and_cancel_their_own_bookings_only(m):
    """Real transactions for what citizens may do: book for anyone they look after, cancel their
    own booking; another citizen cannot cancel it, nor publish, resize or mark slots."""
    w, app = m.w, m.w.appointments
    citizen, other = accounts[5], accounts[6]
    mine = app.book(m.slot, person(), {"from": citizen}).return_value
    theirs = app.book(m.slot, person(), {"from": other}).return_value
    errors = error_table(w.ledger, app)
    refusal = probe(errors, other, app, "cancel", (mine,))
    assert refusal is not None and (refusal.name, refusal.args) == ("NotBooker", (address_of(other), mine))
    app.cancel(mine, {"from": citizen})
    app.cancel(theirs, {"from": other})
    assert [app.booking(b)["status"] for b in (mine, theirs)] == [BookingStatus.CANCELLED] * 2
    for function, args in (
        ("publishSlot", (HEPB, chain.time() + DAY, 3_600, 5)),
        ("setCapacity", (m.slot, 7)),
        ("markMissed", (m.booking_over,)),
    ):
        got = probe(errors, citizen, app, function, args)
        assert got is not None and (got.name, got.args) == ("NotAMember", (address_of(citizen),)), function
