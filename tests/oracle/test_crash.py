"""The oracle killed with SIGKILL at random points while readings stream in and batches are
anchored: after restarts, no accepted reading is lost and no batch is on chain twice."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from oracle import devices, merkle
from oracle.anchoring import headers_root
from oracle.broker import Broker
from oracle.devices import DeviceEntry, Registry
from oracle.reading import leaf
from oracle.simulator import Publisher, SimulatedSensor, merged
from oracle.store import BatchStatus, Store
from tests.chain.nodes import AnvilNode
from tests.oracle.daemon_proc import OracleProcess, wait_for
from tests.oracle.test_daemon import oracle_env
from tests.oracle.world import World, build_world

KILLS = 4
PER_SENSOR = 2_500
CHUNK = 250
AHEAD = 2 * CHUNK


def test_kill_9_at_random_points_loses_no_reading_and_posts_no_batch_twice(
    node: AnvilNode, broker: Broker, tmp_path: Path
) -> None:
    w: World = build_world(node.url)
    equipment = [w.fridge, w.fridge2, w.fridge_b, w.cdc_room]
    start_ms = time.time_ns() // 1_000_000 - (PER_SENSOR + 60) * 60_000
    sensors = [
        SimulatedSensor(
            f"probe-{eq}", eq, "cold_room" if eq == w.cdc_room else "fridge", start_ms=start_ms, interval_s=60
        )
        for eq in equipment
    ]
    entries = [DeviceEntry(s.device, s.equipment, s.profile.kind, s.public_key.hex(), None) for s in sensors]
    devices.save(Registry(entries), tmp_path / "devices.json")
    readings = list(merged(s.run(PER_SENSOR * 60) for s in sensors))
    published = {(r.device, r.seq): (r, sig) for r, sig in readings}

    oracle = OracleProcess(tmp_path, oracle_env(w, node, broker, tmp_path, VAXLEDGER_ORACLE_ANCHOR_MAX_READINGS="100"))
    oracle.start()
    done = threading.Event()
    # The test lets the stream run only so far ahead of the next kill point: left free, a fast broker
    # flush after a restart could deliver the whole stream before the last kill, which would then
    # land on an idle oracle.
    gate = threading.Condition()
    allowed = [0]

    def allow(n: int) -> None:
        with gate:
            allowed[0] = n
            gate.notify_all()

    def publish() -> None:
        with Publisher(port=broker.port, client_id="crash-sim") as pub:
            for i in range(0, len(readings), CHUNK):
                with gate:
                    if not gate.wait_for(lambda i=i: i + CHUNK <= allowed[0], timeout=120):
                        return
                pub.publish_fast(readings[i : i + CHUNK])
                time.sleep(0.1)  # a steady stream, so kills land at different stages
        done.set()

    publisher = threading.Thread(target=publish)
    publisher.start()
    rng = random.Random(20261122)
    # Kill points drawn over the stream: whatever each one lands on (a batch being cut, a COMMIT, an
    # anchoring transaction in flight), the restart must pick up from there.
    kill_at = sorted(int(rng.uniform(0.05, 0.9) * len(published)) for _ in range(KILLS))
    stored_at_kill = []
    try:
        for target in kill_at:
            allow(target + AHEAD)  # readings still in flight past the kill point
            wait_for(lambda t=target: oracle.status()["readings"]["stored"] >= t, 60, "no progress", oracle.log_tail)
            time.sleep(rng.uniform(0, 0.2))
            stored_at_kill.append(oracle.status()["readings"]["stored"])
            oracle.kill()
            oracle.start()
        allow(len(readings))
        publisher.join(timeout=120)
        assert done.is_set(), "the publisher did not finish"

        def settled() -> dict | None:
            s = oracle.status()
            b = s["batches"]
            ok = s["readings"]["stored"] == len(published) and s["readings"]["waiting_to_anchor"] == 0
            return (
                s if ok and b["built"] == b["posted"] == s["windows"]["built"] == s["windows"]["posted"] == 0 else None
            )

        status = wait_for(settled, 60, "the oracle did not catch up after its restarts", oracle.log_tail)
    finally:
        assert oracle.stop() == 0, oracle.log_tail()
    assert oracle.starts == KILLS + 1
    assert all(0 < n < len(published) for n in stored_at_kill), stored_at_kill  # every kill mid-stream
    assert status["readings"]["refused"] == {}

    with Store(tmp_path / "oracle.db") as store:
        batches = store.batches()
        stored = {(r.reading.device, r.reading.seq): r for b in batches for r in store.readings_of_batch(b.batch_id)}
        assert stored.keys() == published.keys()  # none lost, none invented
        assert all(stored[k].signature == published[k][1] and stored[k].reading == published[k][0] for k in stored)
        assert {b.status for b in batches} == {BatchStatus.CONFIRMED}
        for b in batches:  # every batch's root is the root of the readings it claims
            assert merkle.root([leaf(r.reading) for r in store.readings_of_batch(b.batch_id)]) == b.merkle_root
        windows = store.windows()
        assert sum(w.batches for w in windows) == len(batches)
        roots = {x.window_id: x.headers_root for x in windows}
        for x in windows:  # and every window's root is the root of its batches' headers
            assert headers_root(store.batches_of_window(x.window_id)) == x.headers_root

    events = w.cold_chain.events.WindowAnchored().get_logs(from_block=w.start_block)
    on_chain = {"0x" + e["args"]["windowId"].hex(): e["args"]["headersRoot"] for e in events}
    assert len(events) == len(on_chain) == len(roots)  # each window anchored once
    assert on_chain == roots
    # Every transaction the oracle ever sent is one of these anchors: no duplicate was even attempted on chain.
    assert w.w3.eth.get_transaction_count(w.accounts["oracle"].address) == len(events)
