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
from oracle.anchoring import Anchorer, Batcher, batch_id, cut, headers_root
from oracle.excursions import ExcursionPoster, outbox_entry
from oracle.holdings import Holdings
from oracle.identity import sign
from oracle.proof import ReadingProof, prove, verify
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


def test_batches_are_cut_on_the_district_schedule_and_anchored_together_in_one_window(
    world: World, store: Store
) -> None:
    _, sender, _, cold_chain = oracle_side(world)
    store.append(readings(world.fridge, 250))
    store.append(readings(world.fridge2, 30, "p2"))
    clock = [5_000]
    batcher = Batcher(store, every_ms=1_000, max_readings=100, clock=lambda: clock[0])

    early = batcher.cut_due()  # before the window is due: only full batches (a burst)
    assert [(b.equipment, b.count) for b in early] == [(world.fridge, 100), (world.fridge, 100)]
    clock[0] = 6_000
    due = batcher.cut_due()  # due: everything waiting, every equipment
    assert sorted((b.equipment, b.count) for b in due) == [(world.fridge, 50), (world.fridge2, 30)]
    assert batcher.cut_due() == []

    stats = Anchorer(store, cold_chain, sender).post_pending()

    assert (stats.sent, stats.batches, stats.readings, stats.found_on_chain) == (1, 4, 280, 0)
    [window] = store.windows()
    assert window.status is BatchStatus.CONFIRMED
    on_chain = cold_chain.functions.windowRoot(bytes.fromhex(window.window_id[2:])).call()
    assert on_chain == window.headers_root == headers_root(store.batches_of_window(window.window_id))
    for b in store.batches():
        assert b.status is BatchStatus.CONFIRMED and b.window_id == window.window_id
        assert merkle.root([leaf(r.reading) for r in store.readings_of_batch(b.batch_id)]) == b.merkle_root
        assert b.batch_id == "0x" + batch_id(b.equipment, b.merkle_root).hex()
    # anyone can prove any reading against the chain; a forged temperature does not verify
    p = prove(store, "p2", 17)
    assert verify(cold_chain, p).ok
    forged = ReadingProof.from_json(p.to_json() | {"reading": p.to_json()["reading"] | {"temp_dc": 99}})
    assert not verify(cold_chain, forged).ok


def test_a_window_anchored_before_a_crash_is_found_on_chain_and_not_sent_again(world: World, store: Store) -> None:
    _, sender, _, cold_chain = oracle_side(world)
    store.append(readings(world.fridge, 20))
    cut(store, 100, everything=True)
    a = Anchorer(store, cold_chain, sender)
    [w] = a.form_windows()
    sender.send(a._call(w, store.batches_of_window(w.window_id)))  # sent; the process died before noting it
    nonce = world.w3.eth.get_transaction_count(sender.address)

    stats = a.post_pending()  # the restarted daemon

    assert (stats.sent, stats.found_on_chain) == (0, 1)
    assert world.w3.eth.get_transaction_count(sender.address) == nonce  # nothing sent twice, not even a revert
    assert store.window(w.window_id).status is BatchStatus.CONFIRMED and store.window(w.window_id).block


def test_a_node_outage_leaves_windows_queued_and_they_go_out_when_it_returns(
    world: World, store: Store, node: AnvilNode
) -> None:
    flaky = Flaky(node.url)
    _, sender, _, cold_chain = oracle_side(world, flaky)
    store.append(readings(world.fridge, 30))
    assert len(cut(store, 10, everything=False)) == 3  # cutting is local: the chain is not needed
    a = Anchorer(store, cold_chain, sender)

    flaky.down = True
    with pytest.raises((ChainUnavailable, requests.ConnectionError)):
        a.post_pending()
    assert [w.status for w in store.windows()] == [BatchStatus.BUILT]  # formed and kept, not lost

    flaky.down = False
    assert a.post_pending().sent == 1
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
