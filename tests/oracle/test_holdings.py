"""oracle.holdings: exact lots in storage and open shipments in a vehicle at one block, accepted by
ColdChainLog.reportExcursion; incremental log scanning, candidate pruning, JSON-RPC batching, the
full-scan fallback, node outages and threads.

Each test deploys its own ledger and cold-chain log on the module's Anvil (a free port), through
chain.sender, and reads the chain through a provider that records every JSON-RPC call it makes."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import pytest
import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from chain.enums import EquipmentKind
from chain.errors import ChainRevert, ChainUnavailable
from devnet.ports import free_port
from oracle.holdings import Holdings
from tests.chain.nodes import AnvilNode
from tests.oracle.world import World, build_world

# --------------------------------------------------------------------------- a node that records


class Recording(HTTPProvider):
    """An HTTP provider that records every call (batched or not) and can play a node that is down,
    one that goes down after some eth_getLogs answers, or one that refuses JSON-RPC batches."""

    def __init__(self, url: str) -> None:
        super().__init__(url, exception_retry_configuration=None)
        self.calls: list[tuple[str, Any]] = []
        self.batches = 0
        self.down = False
        self.refuse_batches = False
        self.logs_before_outage: int | None = None

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_getLogs" and self.logs_before_outage is not None:
            if self.logs_before_outage == 0:
                self.down = True
            self.logs_before_outage -= 1
        if self.down:
            raise requests.ConnectionError(f"node down ({method})")
        self.calls.append((method, params))
        return super().make_request(method, params)

    def make_batch_request(self, batch: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        if self.down:
            raise requests.ConnectionError("node down (batch)")
        if self.refuse_batches:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batches are not supported"}}
        self.batches += 1
        self.calls.extend(batch)
        return super().make_batch_request(batch)

    def log_ranges(self) -> list[tuple[int, int]]:
        return [(int(p[0]["fromBlock"], 16), int(p[0]["toBlock"], 16)) for m, p in self.calls if m == "eth_getLogs"]

    def eth_calls(self) -> int:
        return sum(1 for m, _ in self.calls if m == "eth_call")

    def reset(self) -> None:
        self.calls.clear()
        self.batches = 0


@pytest.fixture()
def world(node: AnvilNode) -> World:
    return build_world(node.url)


@pytest.fixture()
def recording(node: AnvilNode) -> Recording:
    return Recording(node.url)


def holdings(w: World, provider: Recording | None = None, **kw: Any) -> Holdings:
    """A Holdings reading through `provider` (default: the world's own connection)."""
    w3 = Web3(provider) if provider is not None else w.w3
    ledger = w3.eth.contract(address=w.ledger.address, abi=w.ledger.abi)
    return Holdings(w3, ledger, kw.pop("start_block", w.start_block), **kw)


def mine(w: World, blocks: int) -> None:
    w.w3.provider.make_request(RPCEndpoint("anvil_mine"), [hex(blocks)])


# --------------------------------------------------------------------------- what is where


def test_lots_registered_into_a_cold_room_are_listed_ascending(world: World) -> None:
    lots = [world.lot(f"HB{i:03}", 1_000) for i in range(3)]
    other = world.lot("HB-X", 500, release=False)  # not yet released: in stock all the same
    h = holdings(world)
    assert h.lots_in(world.maker_room) == [*lots, other] == world.truth_lots(world.maker_room)
    assert world.open_items(world.maker_room) == 4
    assert h.lots_in(world.cdc_room) == []


def test_a_received_shipment_puts_its_lot_in_the_fridge_and_leaves_the_van(world: World) -> None:
    a, b = world.lot("A", 1_000), world.lot("B", 1_000)
    s1 = world.ship(a, world.maker_room, world.van, world.cdc_room, 300)
    s2 = world.ship(b, world.maker_room, world.van, world.cdc_room, 200)
    h = holdings(world)
    assert h.open_shipments(world.van) == [s1, s2]
    assert h.lots_in(world.cdc_room) == []

    world.receive(s2, world.cdc_room)
    assert h.open_shipments(world.van) == [s1]
    assert h.lots_in(world.cdc_room) == [b]

    world.receive(s1, world.cdc_room, accepted=250)  # in part: the rest is written off, the shipment closes
    assert h.open_shipments(world.van) == []
    assert h.lots_in(world.cdc_room) == [a, b]

    s3 = world.deliver(a, world.cdc_room, world.van, world.fridge, 100)
    assert h.lots_in(world.fridge) == [a] == world.truth_lots(world.fridge)
    assert h.lots_in(world.cdc_room) == [a, b]  # 150 of a remain at the CDC
    assert s3 > s2 and h.open_shipments(world.van) == []


def test_a_refused_shipment_is_no_longer_in_the_van(world: World) -> None:
    a = world.lot("A", 1_000)
    s1 = world.ship(a, world.maker_room, world.van, world.cdc_room, 100)
    s2 = world.ship(a, world.maker_room, world.van2, world.cdc_room, 100)
    s3 = world.ship(a, world.maker_room, world.van, world.cdc_room, 100)
    h = holdings(world)
    assert (h.open_shipments(world.van), h.open_shipments(world.van2)) == ([s1, s3], [s2])
    world.refuse(s1)
    assert h.open_shipments(world.van) == [s3] == world.truth_shipments(world.van)
    assert h.lots_in(world.cdc_room) == []  # nothing received
    world.refuse(s3)
    world.receive(s2, world.cdc_room)
    assert (h.open_shipments(world.van), h.open_shipments(world.van2)) == ([], [])
    assert h.lots_in(world.cdc_room) == [a]


def test_a_move_lists_the_lot_in_both_fridges_until_the_source_is_empty(world: World) -> None:
    a, b = world.lot("A", 1_000), world.lot("B", 1_000)
    world.deliver(a, world.maker_room, world.van, world.fridge, 100)
    world.deliver(b, world.maker_room, world.van, world.fridge, 100)
    h = holdings(world)
    world.move(a, world.fridge, world.fridge2, 40)
    assert h.lots_in(world.fridge) == [a, b]
    assert h.lots_in(world.fridge2) == [a]
    world.move(a, world.fridge, world.fridge2, 60)  # the rest: the source's entry is deleted
    assert h.lots_in(world.fridge) == [b] == world.truth_lots(world.fridge)
    assert h.lots_in(world.fridge2) == [a]
    world.move(a, world.fridge2, world.fridge, 100)  # and back again
    assert h.lots_in(world.fridge) == [a, b]
    assert h.lots_in(world.fridge2) == []


def test_written_off_and_fully_administered_stock_is_not_listed(world: World) -> None:
    a, b, c = world.lot("A", 1_000), world.lot("B", 1_000), world.lot("C", 1_000)
    for lot in (a, b, c):
        world.deliver(lot, world.maker_room, world.van, world.fridge_b, 3)
    h = holdings(world)
    assert h.lots_in(world.fridge_b) == [a, b, c]
    world.write_off(a, world.fridge_b, 3)
    for _ in range(3):
        world.dose(b, world.fridge_b)
    world.dose(c, world.fridge_b)  # two doses of c remain
    assert h.lots_in(world.fridge_b) == [c] == world.truth_lots(world.fridge_b)
    assert world.open_items(world.fridge_b) == 1


def test_quarantined_stock_stays_listed_until_disposed_of(world: World) -> None:
    a, b = world.lot("A", 1_000), world.lot("B", 1_000)
    world.deliver(a, world.maker_room, world.van, world.fridge, 100)
    world.deliver(b, world.maker_room, world.van, world.fridge, 100)
    h = holdings(world)
    lots, shipments = h.quarantine_args(world.fridge)
    world.report("EXC-1", world.fridge, lots, shipments)
    assert tuple(world.ledger.functions.stockOf(a, world.fridge).call()[:2]) == (0, 100)
    assert h.lots_in(world.fridge) == [a, b]  # available 0, quarantined 100: still there
    world.dispose(a, world.fridge, 100)
    assert h.lots_in(world.fridge) == [b] == world.truth_lots(world.fridge)
    world.dispose(b, world.fridge, 40)
    assert h.lots_in(world.fridge) == [b]


def test_queries_pinned_to_older_blocks_give_that_blocks_answer(world: World) -> None:
    a = world.lot("A", 1_000)
    at_registered = world.head
    s1 = world.ship(a, world.maker_room, world.van, world.fridge, 100)
    at_shipped = world.head
    world.receive(s1, world.fridge)
    at_received = world.head
    world.move(a, world.fridge, world.fridge2, 40)
    at_split = world.head
    world.move(a, world.fridge, world.fridge2, 60)
    at_moved = world.head
    b = world.lot("B", 1_000, equipment=world.maker_room)
    world.deliver(b, world.maker_room, world.van, world.fridge, 10)

    expected = {
        at_registered: ([], [], [], []),
        at_shipped: ([], [], [], [s1]),
        at_received: ([a], [], [], []),
        at_split: ([a], [a], [], []),
        at_moved: ([], [a], [], []),
        world.head: ([b], [a], [], []),
    }
    for name, h in (("newest first", holdings(world)), ("oldest first", holdings(world))):
        order = sorted(expected, reverse=name == "newest first")
        for block in order:
            got = (
                h.lots_in(world.fridge, block=block),
                h.lots_in(world.fridge2, block=block),
                h.lots_in(world.cdc_room, block=block),
                h.open_shipments(world.van, block=block),
            )
            assert got == expected[block], (name, block)
            assert got[0] == world.truth_lots(world.fridge, block)
        # A check at the head marks a absent from the fridge; an older block still finds it. A check at
        # an older block, where b had not yet arrived, does not hide b at the head.
        assert h.lots_in(world.fridge, block=at_received) == [a]
        assert h.lots_in(world.fridge) == [b]
        assert h.stats.full_scans == 0
    with pytest.raises(ValueError, match="not between"):
        holdings(world).lots_in(world.fridge, block=world.head + 10)


def test_the_lists_are_what_report_excursion_accepts(world: World) -> None:
    lots = [world.lot(f"L{i}", 1_000) for i in range(5)]
    for lot in lots[1:4]:
        world.deliver(lot, world.maker_room, world.van, world.cdc_room, 500)
    world.deliver(lots[2], world.cdc_room, world.van, world.fridge, 100)
    world.deliver(lots[3], world.cdc_room, world.van, world.fridge, 100)
    world.move(lots[2], world.fridge, world.fridge2, 100)
    in_van = [world.ship(lots[1], world.cdc_room, world.van2, world.fridge_b, 10) for _ in range(3)]
    world.receive(in_van[1], world.fridge_b)
    h = holdings(world, batch_size=2)

    # A list one lot short is refused by the ledger (the check this module exists to pass).
    short = h.lots_in(world.maker_room)[1:]
    with pytest.raises(ChainRevert) as refused:
        world.report("EXC-short", world.maker_room, short, [])
    assert refused.value.name == "QuarantineListMismatch"

    for i, equipment in enumerate((world.maker_room, world.cdc_room, world.fridge, world.fridge2, world.fridge_b)):
        lots_arg, shipments_arg = h.quarantine_args(equipment)
        assert shipments_arg == [] and lots_arg == world.truth_lots(equipment) and lots_arg
        assert world.report(f"EXC-{i}", equipment, lots_arg, shipments_arg)["status"] == 1
        assert world.ledger.functions.equipment(equipment).call()[3]  # under excursion
        assert all(world.ledger.functions.stockOf(lot, equipment).call()[0] == 0 for lot in lots_arg)
    assert h.quarantine_args(world.van2) == ([], [in_van[0], in_van[2]])
    assert world.report("EXC-van", world.van2, *h.quarantine_args(world.van2))["status"] == 1
    assert all(world.ledger.functions.shipment(s).call()[5] for s in (in_van[0], in_van[2]))
    # An empty van is reported with empty lists, which the ledger accepts too.
    assert h.quarantine_args(world.van) == ([], [])
    assert world.report("EXC-empty", world.van, [], [])["status"] == 1
    assert h.lots_in(world.maker_room) == world.truth_lots(world.maker_room)  # quarantined stays listed


def test_kinds_and_unknown_equipment_are_refused(world: World) -> None:
    h = holdings(world)
    with pytest.raises(ValueError, match="vehicle"):
        h.lots_in(world.van)
    with pytest.raises(ValueError, match="not a vehicle"):
        h.open_shipments(world.fridge)
    with pytest.raises(ValueError, match="no equipment 999"):
        h.quarantine_args(999)
    assert h.equipment(world.van).kind == EquipmentKind.VEHICLE


# --------------------------------------------------------------------------- what it costs


def test_a_second_query_scans_only_the_new_blocks_in_chunks(world: World, recording: Recording) -> None:
    a = world.lot("A", 1_000)
    h = holdings(world, recording, chunk_blocks=100)
    assert h.lots_in(world.maker_room) == [a]
    first = world.head
    assert recording.log_ranges() == [(world.start_block, first)]
    assert h.scanned_block == first

    mine(world, 250)  # (Anvil mines thousands of blocks slowly)
    b = world.lot("B", 1_000)
    second = world.head
    recording.reset()
    assert h.lots_in(world.maker_room) == [a, b]
    assert recording.log_ranges() == [
        (first + 1, first + 100),
        (first + 101, first + 200),
        (first + 201, second),
    ]
    assert recording.eth_calls() == 1 + 2  # the equipment's count, then both candidates...
    assert recording.batches == 1  # ...in one batch

    recording.reset()
    assert h.lots_in(world.maker_room) == [a, b]  # nothing new: no log request at all
    assert recording.log_ranges() == []
    assert h.stats.full_scans == 0


def test_the_log_request_uses_topics_and_the_ledger_address(world: World, recording: Recording) -> None:
    world.lot("A", 1_000)
    holdings(world, recording).lots_in(world.maker_room)
    ((_, params),) = [c for c in recording.calls if c[0] == "eth_getLogs"]
    address = params[0]["address"]  # web3 may send one address as a list of one
    assert (address if isinstance(address, list) else [address]) == [world.ledger.address]
    names = ("LotRegistered", "Moved", "Shipped", "ShipmentReceived")
    topics = {getattr(world.ledger.events, name)().topic for name in names}
    assert topics <= set(params[0]["topics"][0])


def test_stock_gone_is_not_read_again_but_older_blocks_still_see_it(world: World, recording: Recording) -> None:
    lots = [world.lot(f"L{i}", 1_000) for i in range(4)]
    world.deliver(lots[0], world.maker_room, world.van, world.fridge, 10)
    first_in = world.head
    for lot in lots[1:]:
        world.deliver(lot, world.maker_room, world.van, world.fridge, 10)
    full = world.head
    for lot in lots[:3]:
        world.write_off(lot, world.fridge, 10)
    gone = world.head
    h = holdings(world, recording)
    assert h.lots_in(world.fridge) == [lots[3]]
    recording.reset()
    assert h.lots_in(world.fridge) == [lots[3]]
    assert recording.eth_calls() == 1 + 1  # the count and the one lot still there
    recording.reset()
    assert h.lots_in(world.fridge, block=full) == lots
    assert recording.eth_calls() == 1 + 4
    recording.reset()
    assert h.lots_in(world.fridge, block=first_in) == lots[:1]
    assert recording.eth_calls() == 1 + 1  # lots that entered later are not candidates then
    world.deliver(lots[0], world.maker_room, world.van, world.fridge, 10)  # entered again: a candidate again
    assert h.lots_in(world.fridge) == [lots[0], lots[3]]
    # Absent at `gone` but back since: that check must not hide it at the head.
    assert h.lots_in(world.fridge, block=gone) == [lots[3]]
    assert h.lots_in(world.fridge) == [lots[0], lots[3]]
    assert h.stats.full_scans == 0

    for lot in (lots[0], lots[3]):
        world.write_off(lot, world.fridge, 10)
    recording.reset()
    assert h.lots_in(world.fridge) == []  # the ledger counts nothing: nothing else to read or scan
    assert recording.eth_calls() == 1 and recording.log_ranges() == []


def test_closed_shipments_are_never_read(world: World, recording: Recording) -> None:
    a = world.lot("A", 1_000)
    shipped = [world.ship(a, world.maker_room, world.van, world.cdc_room, 10) for _ in range(6)]
    for s in shipped[:5]:
        if s % 2:
            world.receive(s, world.cdc_room)
        else:
            world.refuse(s)
    h = holdings(world, recording)
    assert h.open_shipments(world.van) == [shipped[5]]
    assert recording.eth_calls() == 1 + 1  # the van's count and its one open shipment


def test_a_node_without_batches_is_read_call_by_call(world: World, recording: Recording, caplog: Any) -> None:
    lots = [world.lot(f"L{i}", 1_000) for i in range(3)]
    recording.refuse_batches = True
    h = holdings(world, recording)
    with caplog.at_level(logging.WARNING, logger="oracle.holdings"):
        assert h.lots_in(world.maker_room) == lots
    assert "batch" in caplog.text
    assert recording.batches == 0 and recording.eth_calls() == 1 + 3
    recording.reset()
    recording.refuse_batches = False  # no second try: the node said no once
    assert h.lots_in(world.maker_room) == lots
    assert recording.batches == 0


# --------------------------------------------------------------------------- when the index is wrong


def test_an_emptied_index_falls_back_to_a_full_scan_and_heals(world: World, caplog: Any) -> None:
    lots = [world.lot(f"L{i}", 1_000) for i in range(4)]
    world.deliver(lots[1], world.maker_room, world.van, world.fridge, 10)
    world.deliver(lots[3], world.maker_room, world.van, world.fridge, 10)
    s = world.ship(lots[2], world.maker_room, world.van2, world.fridge, 10)
    h = holdings(world)
    assert h.lots_in(world.fridge) == [lots[1], lots[3]]
    assert h.stats.full_scans == 0

    h._stock.clear()
    h._loads.clear()
    with caplog.at_level(logging.WARNING, logger="oracle.holdings"):
        assert h.lots_in(world.fridge) == [lots[1], lots[3]]
        assert h.open_shipments(world.van2) == [s]
    assert h.stats.full_scans == 2
    assert "scanning every lot" in caplog.text and "scanning every shipment" in caplog.text
    # What the full scan found is back in the index.
    assert h.lots_in(world.fridge) == [lots[1], lots[3]]
    assert h.open_shipments(world.van2) == [s]
    assert h.stats.full_scans == 2


def test_a_missing_candidate_is_caught_by_the_count(world: World) -> None:
    lots = [world.lot(f"L{i}", 1_000) for i in range(3)]
    h = holdings(world)
    assert h.lots_in(world.maker_room) == lots
    del h._stock.holders[world.maker_room][lots[1]]  # corrupt: forget one lot
    assert h.lots_in(world.maker_room) == lots
    assert h.stats.full_scans == 1


def test_history_before_the_start_block(world: World) -> None:
    a, b = world.lot("A", 1_000), world.lot("B", 1_000)
    s = world.ship(a, world.maker_room, world.van, world.fridge, 10)
    h = holdings(world, start_block=world.head + 1)  # an index that missed the lots' registration and s
    world.receive(s, world.fridge)  # s is resolved from the state before it closed: no full scan
    assert h.lots_in(world.fridge) == [a]
    assert h.stats.full_scans == 0
    assert h.lots_in(world.maker_room) == [a, b]  # registered before the index: the count catches it
    assert h.stats.full_scans == 1


# --------------------------------------------------------------------------- outages and threads


def test_a_node_that_is_down_raises_and_the_next_call_resumes(world: World, recording: Recording) -> None:
    a = world.lot("A", 1_000)
    mine(world, 50)
    b = world.lot("B", 1_000)
    h = holdings(world, recording, chunk_blocks=10)
    recording.logs_before_outage = 2  # two chunks answered, then the node goes away
    with pytest.raises(ChainUnavailable):
        h.lots_in(world.maker_room)
    assert h.scanned_block == world.start_block + 19  # two whole chunks, nothing of the third
    with pytest.raises(ChainUnavailable):
        h.lots_in(world.maker_room)
    assert h.scanned_block == world.start_block + 19

    recording.down, recording.logs_before_outage = False, None
    recording.reset()
    assert h.lots_in(world.maker_room) == [a, b]
    ranges = recording.log_ranges()
    assert ranges[0] == (world.start_block + 20, world.start_block + 29)  # resumed, not restarted
    assert ranges[-1][1] == world.head
    assert all(hi + 1 == lo for (_, hi), (lo, _) in itertools.pairwise(ranges))


def test_no_node_at_all_is_chain_unavailable(world: World) -> None:
    nobody = Web3(HTTPProvider(f"http://127.0.0.1:{free_port()}", exception_retry_configuration=None))
    h = Holdings(nobody, nobody.eth.contract(address=world.ledger.address, abi=world.ledger.abi), world.start_block)
    with pytest.raises(ChainUnavailable, match="did not answer"):
        h.quarantine_args(world.fridge)
    assert h.scanned_block == world.start_block - 1


def test_concurrent_queries_scan_each_block_once_and_agree(world: World, recording: Recording) -> None:
    lots = [world.lot(f"L{i}", 1_000) for i in range(4)]
    for lot in lots[:2]:
        world.deliver(lot, world.maker_room, world.van, world.fridge, 10)
    open_ = [world.ship(lots[3], world.maker_room, world.van2, world.fridge, 10) for _ in range(2)]
    h = holdings(world, recording, chunk_blocks=3, batch_size=2)
    results: list[Any] = []
    errors: list[BaseException] = []
    go = threading.Barrier(8)

    asks = [lambda: h.lots_in(world.fridge), lambda: h.open_shipments(world.van2), lambda: h.lots_in(world.maker_room)]

    def query(i: int) -> None:
        try:
            go.wait()
            results.append(asks[i % 3]())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=query, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(map(tuple, results)) == sorted(
        [tuple(lots[:2])] * 3 + [tuple(open_)] * 3 + [tuple(world.truth_lots(world.maker_room))] * 2
    )
    scanned = sorted(recording.log_ranges())
    assert scanned[0][0] == world.start_block
    assert all(hi + 1 == lo for (_, hi), (lo, _) in itertools.pairwise(scanned))  # no block twice
    assert h.stats.full_scans == 0
