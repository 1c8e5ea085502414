"""The indexer: follows the chain into the database, resumes after a restart without applying an event
twice, rides out the node going down and coming back, and refuses another deployment or a rewritten
history. After each, the view equals the chain (backend/indexer/check.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import func, select

from backend.db.models import chainview as cv
from backend.indexer.check import differences
from backend.indexer.follower import Indexer, IndexerHalted
from backend.runtime import Runtime
from chain.client import connect
from chain.dev import ADMIN_INDEX, REGULATOR_INDEX, dev_account
from chain.encoding import to_bytes8, to_bytes32
from chain.enums import EquipmentKind, FacilityKind
from chain.sender import TxSender
from tests.backend.platform import deploy_platform
from tests.backend.stack import settings_for
from tests.chain.nodes import AnvilNode


class Chain:
    """A node with its state on disk, the platform deployed, and a small supply chain driven directly."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.node = AnvilNode("--state", str(workdir / "anvil-state.json")).start()
        self.manifest = deploy_platform(self.node.url, workdir / "manifest.json")
        self.rt = Runtime(settings_for(self.node.url, workdir, "http://127.0.0.1:9"))
        self.connect()
        self.maker = self.cdc = self.room = self.cdc_room = self.van = self.product = 0

    def connect(self) -> None:
        w3 = connect(self.node.url)
        self.ledger = w3.eth.contract(
            address=self.manifest.contract("VaccineLedger").address, abi=self.manifest.contract("VaccineLedger").abi
        )
        self.admin = TxSender(w3, dev_account(ADMIN_INDEX))
        self.regulator = TxSender(w3, dev_account(REGULATOR_INDEX))
        self.w3 = w3

    def district(self) -> None:
        fn = self.ledger.functions
        self.maker_staff = TxSender(self.w3, Account.create())
        self.cdc_staff = TxSender(self.w3, Account.create())
        self.maker = self._id(
            self.admin.send(fn.registerFacility(FacilityKind.MANUFACTURER, "M", to_bytes32("1"))),
            "FacilityRegistered",
            "facility",
        )
        self.cdc = self._id(
            self.admin.send(fn.registerFacility(FacilityKind.WAREHOUSE, "C", to_bytes32("1"))),
            "FacilityRegistered",
            "facility",
        )
        self.admin.send(fn.addMember(self.maker_staff.address, self.maker))
        self.admin.send(fn.addMember(self.cdc_staff.address, self.cdc))
        self.room = self._equipment(self.maker, EquipmentKind.COLD_ROOM)
        self.cdc_room = self._equipment(self.cdc, EquipmentKind.COLD_ROOM)
        self.van = self._equipment(self.cdc, EquipmentKind.VEHICLE)
        receipt = self.regulator.send(fn.registerProduct(self.maker, to_bytes8("HepB"), 1, False, 20, 80, "HepB"))
        self.product = self._id(receipt, "ProductRegistered", "product")

    def _equipment(self, facility: int, kind: EquipmentKind) -> int:
        receipt = self.admin.send(self.ledger.functions.registerEquipment(facility, kind, "E"))
        return self._id(receipt, "EquipmentRegistered", "equipment")

    def _id(self, receipt: object, event: str, arg: str) -> int:
        return int(getattr(self.ledger.events, event)().process_receipt(receipt)[0]["args"][arg])

    def activity(self) -> int:
        """A lot registered, released, half shipped to the CDC and received; returns the lot."""
        fn = self.ledger.functions
        expiry = self.w3.eth.get_block("latest")["timestamp"] + 86_400 * 300
        receipt = self.maker_staff.send(
            fn.registerLot(self.product, to_bytes32(os.urandom(6).hex()), expiry, 100, self.room)
        )
        lot = self._id(receipt, "LotRegistered", "lot")
        self.regulator.send(fn.releaseLot(lot, to_bytes32("cert")))
        shipment = self._id(
            self.maker_staff.send(fn.ship(lot, self.room, self.van, self.cdc, 50)), "Shipped", "shipment"
        )
        self.cdc_staff.send(fn.receiveShipment(shipment, self.cdc_room, 50, 0))
        return lot

    def head(self) -> int:
        return self.w3.eth.block_number


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    c = Chain(tmp_path_factory.mktemp("indexer"))
    c.rt.start()
    c.district()
    try:
        yield c
    finally:
        c.rt.stop()
        c.node.stop()


def events_in_db(rt: Runtime) -> int:
    with rt.db.sessions() as s:
        return s.scalar(select(func.count()).select_from(cv.ChainEvent))


def logs_on_chain(c: Chain) -> int:
    addresses = [info.address for info in c.manifest.contracts.values()]
    return len(c.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": addresses}))


def test_the_view_follows_the_chain(chain: Chain) -> None:
    lot = chain.activity()
    assert chain.rt.indexer.wait_for(chain.head(), 60)
    assert differences(chain.rt) == []
    with chain.rt.db.sessions() as s:
        assert s.get(cv.Stock, (lot, chain.cdc_room)).available == 50
    assert events_in_db(chain.rt) == logs_on_chain(chain)


def test_a_restart_resumes_from_the_cursor_and_applies_nothing_twice(chain: Chain) -> None:
    chain.activity()
    assert chain.rt.indexer.wait_for(chain.head(), 60)
    chain.rt.indexer.stop()
    stopped_at = chain.rt.indexer.block
    lot = chain.activity()  # while no indexer runs
    fresh = Indexer(chain.rt.db, chain.rt.ledgers.get, chunk_blocks=3)
    fresh._block = -1
    while fresh.step():
        pass
    assert fresh.block == chain.head() > stopped_at
    assert events_in_db(chain.rt) == logs_on_chain(chain)
    chain.rt.indexer = fresh
    assert differences(chain.rt) == []
    # a crash between applying and moving the cursor is replayed from an older cursor: nothing doubles
    with chain.rt.db.session() as s:
        cursor = s.get(cv.ChainCursor, 1)
        cursor.block = stopped_at
        cursor.block_hash = "0x" + bytes(chain.w3.eth.get_block(stopped_at)["hash"]).hex()
    while fresh.step():
        pass
    assert events_in_db(chain.rt) == logs_on_chain(chain)
    assert differences(chain.rt) == []
    with chain.rt.db.sessions() as s:
        assert s.get(cv.Stock, (lot, chain.room)).available == 50


def test_the_indexer_rides_out_a_node_restart(chain: Chain) -> None:
    indexer = Indexer(chain.rt.db, chain.rt.ledgers.get, poll_s=0.05)
    indexer.start()
    chain.rt.indexer = indexer
    try:
        chain.activity()
        assert indexer.wait_for(chain.head(), 60)
        chain.node.stop()  # Anvil writes its state on the way out
        deadline = time.monotonic() + 10
        while indexer.last_error is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert indexer.last_error is not None, "the indexer noticed the node went away"
        chain.node.start()
        chain.connect()
        lot = chain.activity()
        assert indexer.wait_for(chain.head(), 30), indexer.last_error
        assert indexer.halted is None
        assert differences(chain.rt) == []
        with chain.rt.db.sessions() as s:
            assert s.get(cv.Stock, (lot, chain.cdc_room)).available == 50
    finally:
        indexer.stop()


def test_another_deployment_is_refused(chain: Chain, tmp_path: Path) -> None:
    other = deploy_platform(chain.node.url, tmp_path / "manifest.json")
    settings = settings_for(chain.node.url, chain.workdir, "http://127.0.0.1:9").model_copy(
        update={"manifest": tmp_path / "manifest.json"}
    )
    other_rt = Runtime(settings)
    with pytest.raises(IndexerHalted, match="use a fresh database"):
        Indexer(chain.rt.db, other_rt.ledgers.get).step()
    assert other.contract("VaccineLedger").address != chain.manifest.contract("VaccineLedger").address


def test_a_rewritten_history_halts_the_indexer(chain: Chain) -> None:
    with chain.rt.db.session() as s:
        cursor = s.get(cv.ChainCursor, 1)
        real = cursor.block_hash
        cursor.block_hash = "0x" + "ab" * 32
    try:
        with pytest.raises(IndexerHalted, match="changed since it was indexed"):
            Indexer(chain.rt.db, chain.rt.ledgers.get).step()
    finally:
        with chain.rt.db.session() as s:
            s.get(cv.ChainCursor, 1).block_hash = real
