"""The oracle's two chain writers against a real ledger: anchoring batches exactly once whatever
happened before a restart, and excursion reports/closes from the outbox, in order, once each."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from web3 import HTTPProvider, Web3

from chain.errors import ChainUnavailable
from chain.sender import TxSender
from oracle import merkle
from oracle.anchoring import Anchorer, batch_id
from oracle.excursions import ExcursionPoster, outbox_entry
from oracle.holdings import Holdings
from oracle.identity import sign
from oracle.reading import Reading, leaf
from oracle.rules import CLOSE, OPEN, AlarmEvent, ReadingRef
from oracle.store import BatchStatus, Store
from tests.chain.nodes import AnvilNode
from tests.oracle.world import TABLE, World, build_world

T0 = 1_763_700_000_000
MIN = 60_000


@pytest.fixture()
def world(node: AnvilNode) -> World:
    return build_world(node.url)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "o.db") as s:
        yield s


class Flaky(HTTPProvider):
    """A node connection that can be cut."""

    def __init__(self, url: str) -> None:
        super().__init__(url, exception_retry_configuration=None)
        self.down = False

    def make_request(self, method, params):  # type: ignore[no-untyped-def]
        if self.down:
            raise requests.ConnectionError("node down")
        return super().make_request(method, params)


def oracle_side(w: World, provider: HTTPProvider | None = None) -> tuple[Web3, TxSender, object, object]:
    """The oracle's own connection, sender and contracts (optionally through `provider`)."""
    w3 = Web3(provider) if provider is not None else w.w3
    sender = TxSender(w3, w.accounts["oracle"], errors=TABLE, max_retries=1, backoff_s=0.01)
    ledger = w3.eth.contract(address=w.ledger.address, abi=w.ledger.abi)
    cold_chain = w3.eth.contract(address=w.cold_chain.address, abi=w.cold_chain.abi)
    return w3, sender, ledger, cold_chain


def readings(equipment: int, n: int, device: str = "probe") -> list[tuple[Reading, bytes]]:
    key = Ed25519PrivateKey.generate()
    out = []
    for i in range(n):
        r = Reading(device, equipment, i + 1, T0 + i * MIN, 40 + i % 7)
        out.append((r, sign(key, r)))
    return out


# --------------------------------------------------------------------------- anchoring


def test_due_batches_are_cut_by_count_or_age_and_anchored_with_their_root(world: World, store: Store) -> None:
    _, sender, _, cold_chain = oracle_side(world)
    store.append(readings(world.fridge, 250), received_at=1_000)
    store.append(readings(world.fridge2, 30, "p2"), received_at=5_000)
    clock = [5_500]
    a = Anchorer(store, cold_chain, sender, every_ms=1_000, max_readings=100, clock=lambda: clock[0])

    built = a.build_due()  # fridge: 2 full batches (250 waiting >= 100) and its old rest; fridge2: too young

    assert [(b.equipment, b.count) for b in built] == [(world.fridge, 100), (world.fridge, 100), (world.fridge, 50)]
    stats = a.post_pending()
    assert (stats.sent, stats.readings, stats.found_on_chain) == (3, 250, 0)
    for b in store.batches():
        assert b.status is BatchStatus.CONFIRMED
        root = merkle.root([leaf(r.reading) for r in store.readings_of_batch(b.batch_id)])
        assert cold_chain.functions.batchRoot(bytes.fromhex(b.batch_id[2:])).call() == root == b.merkle_root
        assert b.batch_id == "0x" + batch_id(b.equipment, root).hex()
    clock[0] = 6_000
    assert [b.equipment for b in a.build_due()] == [world.fridge2]


def test_a_batch_anchored_before_a_crash_is_found_on_chain_and_not_sent_again(world: World, store: Store) -> None:
    _, sender, _, cold_chain = oracle_side(world)
    store.append(readings(world.fridge, 20))
    a = Anchorer(store, cold_chain, sender, every_ms=0, max_readings=100)
    [b] = a.build_due()
    sender.send(a._call(b))  # the transaction went out; the process died before the store heard of it
    nonce = world.w3.eth.get_transaction_count(sender.address)

    stats = a.post_pending()  # the restarted daemon

    assert (stats.sent, stats.found_on_chain) == (0, 1)
    assert world.w3.eth.get_transaction_count(sender.address) == nonce  # nothing sent twice, not even a revert
    assert store.batch(b.batch_id).status is BatchStatus.CONFIRMED and store.batch(b.batch_id).block is not None


def test_a_node_outage_leaves_batches_queued_and_they_go_out_when_it_returns(
    world: World, store: Store, node: AnvilNode
) -> None:
    flaky = Flaky(node.url)
    _, sender, _, cold_chain = oracle_side(world, flaky)
    store.append(readings(world.fridge, 30))
    a = Anchorer(store, cold_chain, sender, every_ms=0, max_readings=10)
    assert len(a.build_due()) == 3  # cutting is local: the chain is not needed

    flaky.down = True
    with pytest.raises((ChainUnavailable, requests.ConnectionError)):
        a.post_pending()
    assert {b.status for b in store.batches()} == {BatchStatus.BUILT}

    flaky.down = False
    assert a.post_pending().sent == 3
    assert {b.status for b in store.batches()} == {BatchStatus.CONFIRMED}


# --------------------------------------------------------------------------- excursions


def alarm(equipment: int, action: str, kind: str = "freeze", opened: int = T0) -> AlarmEvent:
    ref = ReadingRef.of(Reading("probe", equipment, 1, opened, -10))
    return AlarmEvent(
        action=action,
        equipment=equipment,
        profile="fridge",
        kind=kind,
        severity=4,
        at_ms=opened + 60 * MIN,
        opened_at_ms=opened,
        closed_at_ms=opened + 90 * MIN if action == CLOSE else None,
        trigger=ref,
        closed_by=None,
        exposure_ms=60 * MIN,
        min_dc=-31,
        max_dc=-6,
        rules_version="rules-v1",
    )


def queue(store: Store, *events: AlarmEvent) -> None:
    with store.transaction() as db:
        for e in events:
            store.enqueue(db, *outbox_entry(e), 0)


def poster(w: World, store: Store, provider: HTTPProvider | None = None) -> ExcursionPoster:
    w3, sender, ledger, cold_chain = oracle_side(w, provider)
    return ExcursionPoster(store, cold_chain, Holdings(w3, ledger, w.start_block), sender, retry_min_s=0.001)


def test_a_report_quarantines_exactly_the_fridges_lots_and_the_close_ends_the_excursion(
    world: World, store: Store
) -> None:
    a, b = world.lot("A", 1_000), world.lot("B", 1_000)
    for lot in (a, b):
        world.deliver(lot, world.maker_room, world.van, world.cdc_room, 300)
        world.deliver(lot, world.cdc_room, world.van, world.fridge, 50)
    queue(store, alarm(world.fridge, OPEN))

    [posted] = poster(world, store).post_pending()

    assert not posted.already
    for lot in (a, b):
        assert world.ledger.functions.stockOf(lot, world.fridge).call()[:2] == (0, 50)
        assert world.ledger.functions.stockOf(lot, world.cdc_room).call()[:2] == (250, 0)
    assert world.ledger.functions.equipment(world.fridge).call()[3]

    queue(store, alarm(world.fridge, CLOSE))
    [closed] = poster(world, store).post_pending()
    assert not closed.already and not world.ledger.functions.equipment(world.fridge).call()[3]
    assert world.ledger.functions.stockOf(a, world.fridge).call()[:2] == (0, 50)  # stays until the CDC releases
    assert store.pending() == []


def test_a_vehicle_excursion_quarantines_its_open_shipments(world: World, store: Store) -> None:
    lot = world.lot("V", 1_000)
    s1 = world.ship(lot, world.maker_room, world.van2, world.cdc_room, 100)
    s2 = world.ship(lot, world.maker_room, world.van2, world.cdc_room, 100)
    world.receive(s1, world.cdc_room)
    queue(store, alarm(world.van2, OPEN, kind="transport_heat_45"))

    poster(world, store).post_pending()

    assert world.ledger.functions.shipment(s2).call()[5]  # quarantined: cannot be received
    assert world.ledger.functions.stockOf(lot, world.cdc_room).call()[:2] == (100, 0)


def test_a_report_that_reached_the_chain_before_a_crash_is_not_sent_again(world: World, store: Store) -> None:
    world.deliver(world.lot("C", 100), world.maker_room, world.van, world.fridge2, 100)
    event = alarm(world.fridge2, OPEN)
    queue(store, event)
    first = poster(world, store)
    first.post_pending()
    with store.transaction() as db:  # the crash: the outbox never heard that it was done
        db.execute("UPDATE outbox SET done_at = NULL")
    nonce = world.w3.eth.get_transaction_count(world.accounts["oracle"].address)

    [again] = poster(world, store).post_pending()

    assert again.already and world.w3.eth.get_transaction_count(world.accounts["oracle"].address) == nonce


def test_a_close_waits_for_its_report_and_an_outage_retries_later(world: World, store: Store, node: AnvilNode) -> None:
    world.deliver(world.lot("D", 100), world.maker_room, world.van, world.fridge_b, 100)
    flaky = Flaky(node.url)
    p = poster(world, store, flaky)
    queue(store, alarm(world.fridge_b, OPEN), alarm(world.fridge_b, CLOSE))

    flaky.down = True
    with pytest.raises((ChainUnavailable, requests.ConnectionError)):
        p.post_pending()
    report, close = store.pending()
    assert report.attempts == 1 and "unavailable" in report.last_error and close.attempts == 0

    flaky.down = False
    time.sleep(0.01)  # past the backoff
    done = p.post_pending()
    assert [d.key.split(":")[0] for d in done] == ["report", "close"]
    payload = json.loads(report.payload)
    x = world.cold_chain.functions.excursion(bytes.fromhex(payload["excursion"])).call()
    assert x[1] == 2  # Closed
