"""A fresh ledger and cold-chain log with a small district, built over JSON-RPC with
chain.sender: for the oracle's tests that need a chain (holdings, daemon, crash)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.client import connect
from chain.encoding import to_bytes8, to_bytes32
from chain.enums import EquipmentKind, FacilityKind, WriteOffReason
from chain.errors import ErrorTable
from chain.manifest import ContractInfo, Manifest
from chain.sender import TxSender
from tests.chain.nodes import artifact, deploy, funded_account

TABLE = ErrorTable.from_abis([artifact("VaccineLedger")["abi"], artifact("ColdChainLog")["abi"]])
DAY = 86_400
T0 = 1_763_700_000_000
TOO_WARM, SERIOUS = 1, 2


@dataclass
class World:
    """A fresh ledger and cold-chain log, with a small district; ids are on-chain ids.

    Facilities: maker, cdc, clinic, clinic2. Equipment: maker_room, cdc_room, van, van2 (cdc),
    fridge, fridge2 (clinic), fridge_b (clinic2). Product: hepb (1 dose a unit)."""

    w3: Web3
    ledger: Any
    cold_chain: Any
    start_block: int
    senders: dict[str, TxSender]
    accounts: dict[str, LocalAccount]
    staff: dict[int, TxSender] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> int:
        try:
            return self.__dict__["ids"][name]
        except KeyError:
            raise AttributeError(name) from None

    def send(self, who: TxSender | str, call: Any) -> Any:
        sender = self.senders[who] if isinstance(who, str) else who
        return sender.send(call)

    def event(self, receipt: Any, name: str, arg: str) -> int:
        (log,) = getattr(self.ledger.events, name)().process_receipt(receipt)
        return int(log["args"][arg])

    @property
    def head(self) -> int:
        return self.w3.eth.block_number

    # supply-chain steps, each by the account the ledger requires

    def lot(self, number: str, doses: int, equipment: int | None = None, *, release: bool = True) -> int:
        expiry = self.w3.eth.get_block("latest")["timestamp"] + 365 * DAY
        room = self.maker_room if equipment is None else equipment
        fn = self.ledger.functions.registerLot(self.hepb, to_bytes32(number), expiry, doses, room)
        lot = self.event(self.send(self.staff[self.maker], fn), "LotRegistered", "lot")
        if release:
            self.send("regulator", self.ledger.functions.releaseLot(lot, to_bytes32(f"cert:{number}")))
        return lot

    def ship(self, lot: int, source: int, vehicle: int, to_equipment: int, quantity: int) -> int:
        holder = self.ledger.functions.stockOf(lot, source).call()[2]
        to_facility = self.ledger.functions.equipment(to_equipment).call()[0]
        fn = self.ledger.functions.ship(lot, source, vehicle, to_facility, quantity)
        return self.event(self.send(self.staff[holder], fn), "Shipped", "shipment")

    def receive(self, shipment: int, equipment: int, accepted: int | None = None) -> None:
        s = self.ledger.functions.shipment(shipment).call()
        quantity = s[4] if accepted is None else accepted
        reason = WriteOffReason.NONE if quantity == s[4] else WriteOffReason.DAMAGED
        self.send(self.staff[s[2]], self.ledger.functions.receiveShipment(shipment, equipment, quantity, reason))

    def refuse(self, shipment: int) -> None:
        s = self.ledger.functions.shipment(shipment).call()
        self.send(self.staff[s[2]], self.ledger.functions.refuseShipment(shipment, WriteOffReason.REFUSED))

    def deliver(self, lot: int, source: int, vehicle: int, to_equipment: int, quantity: int) -> int:
        shipment = self.ship(lot, source, vehicle, to_equipment, quantity)
        self.receive(shipment, to_equipment)
        return shipment

    def move(self, lot: int, source: int, target: int, quantity: int) -> None:
        holder = self.ledger.functions.stockOf(lot, source).call()[2]
        self.send(self.staff[holder], self.ledger.functions.move(lot, source, target, quantity))

    def write_off(self, lot: int, equipment: int, quantity: int) -> None:
        holder = self.ledger.functions.stockOf(lot, equipment).call()[2]
        fn = self.ledger.functions.writeOff(lot, equipment, quantity, WriteOffReason.EXPIRED)
        self.send(self.staff[holder], fn)

    def dose(self, lot: int, equipment: int) -> None:
        holder = self.ledger.functions.stockOf(lot, equipment).call()[2]
        unit_hash = Web3.keccak(os.urandom(16))
        self.send(self.staff[holder], self.ledger.functions.recordDose(os.urandom(32), lot, equipment, unit_hash, 0))

    def dispose(self, lot: int, equipment: int, quantity: int) -> None:
        fn = self.ledger.functions.disposeStock(equipment, lot, quantity, WriteOffReason.EXCURSION)
        self.send("regulator", fn)

    def report(self, ref: str, equipment: int, lots: list[int], shipments: list[int]) -> Any:
        fn = self.cold_chain.functions.reportExcursion(
            to_bytes32(ref), equipment, TOO_WARM, SERIOUS, T0, lots, shipments
        )
        return self.send("oracle", fn)

    # what the ledger says, by brute force (the tests' own oracle)

    def truth_lots(self, equipment: int, block: int | str = "latest") -> list[int]:
        count = self.ledger.functions.lotCount().call(block_identifier=block)
        stock = self.ledger.functions.stockOf
        return [lot for lot in range(1, count + 1) if sum(stock(lot, equipment).call(block_identifier=block)[:2])]

    def truth_shipments(self, vehicle: int, block: int | str = "latest") -> list[int]:
        count = self.ledger.functions.shipmentCount().call(block_identifier=block)
        ship = self.ledger.functions.shipment
        return [s for s in range(1, count + 1) if ship(s).call(block_identifier=block)[3] == vehicle]

    def open_items(self, equipment: int, block: int | str = "latest") -> int:
        return self.ledger.functions.equipment(equipment).call(block_identifier=block)[4]


def build_world(url: str) -> World:
    """A fresh deployment with the small district World describes, on the node at `url`."""
    w3 = connect(url)
    accounts: dict[str, LocalAccount] = {name: funded_account(w3) for name in ("admin", "regulator", "oracle")}
    senders = {name: TxSender(w3, account, errors=TABLE) for name, account in accounts.items()}
    admin = senders["admin"]
    ledger = deploy(w3, "VaccineLedger", accounts["admin"].address, sender=admin)
    start_block = w3.eth.block_number
    roles = ledger.functions
    admin.send(roles.grantRole(roles.REGULATOR_ROLE().call(), accounts["regulator"].address))
    admin.send(roles.grantRole(roles.ORACLE_ROLE().call(), accounts["oracle"].address))
    cold_chain = deploy(w3, "ColdChainLog", ledger.address, sender=admin)
    admin.send(roles.grantRole(roles.ORACLE_ROLE().call(), cold_chain.address))  # as scripts/deploy.py does
    w = World(w3, ledger, cold_chain, start_block, senders, accounts)

    def facility(name: str, kind: FacilityKind) -> int:
        receipt = admin.send(roles.registerFacility(kind, name, to_bytes32("440604")))
        fid = w.event(receipt, "FacilityRegistered", "facility")
        staff = funded_account(w3)
        admin.send(roles.addMember(staff.address, fid))
        w.staff[fid] = TxSender(w3, staff, errors=TABLE)
        w.ids[name] = fid
        return fid

    def equipment(name: str, fid: int, kind: EquipmentKind) -> None:
        receipt = admin.send(roles.registerEquipment(fid, kind, name))
        w.ids[name] = w.event(receipt, "EquipmentRegistered", "equipment")

    maker = facility("maker", FacilityKind.MANUFACTURER)
    cdc = facility("cdc", FacilityKind.WAREHOUSE)
    clinic = facility("clinic", FacilityKind.CLINIC)
    clinic2 = facility("clinic2", FacilityKind.CLINIC)
    equipment("maker_room", maker, EquipmentKind.COLD_ROOM)
    equipment("cdc_room", cdc, EquipmentKind.COLD_ROOM)
    equipment("van", cdc, EquipmentKind.VEHICLE)
    equipment("van2", cdc, EquipmentKind.VEHICLE)
    equipment("fridge", clinic, EquipmentKind.FRIDGE)
    equipment("fridge2", clinic, EquipmentKind.FRIDGE)
    equipment("fridge_b", clinic2, EquipmentKind.FRIDGE)
    fn = roles.registerProduct(maker, to_bytes8("HepB"), 1, False, 20, 80, "HepB 10ug")
    w.ids["hepb"] = w.event(senders["regulator"].send(fn), "ProductRegistered", "product")
    return w


def manifest_of(w: World) -> Manifest:
    """The deployment manifest a daemon would read for this world."""
    contracts = {
        name: ContractInfo(c.address, c.abi, w.start_block)
        for name, c in (("VaccineLedger", w.ledger), ("ColdChainLog", w.cold_chain))
    }
    roles = {"oracle": [w.accounts["oracle"].address, w.cold_chain.address]}
    return Manifest(w.w3.eth.chain_id, contracts, roles)
