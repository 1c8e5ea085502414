"""End to end: simulated fridge -> mosquitto -> oracle daemon -> chain -> stock quarantined ->
dose refused; then the operator's commands: alarms, acknowledgement, proving a reading."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chain import manifest as manifest_mod
from chain.errors import ChainRevert
from oracle import devices
from oracle.broker import Broker
from oracle.devices import DeviceEntry, Registry
from oracle.identity import new_device_key, public_bytes, sign
from oracle.reading import Reading
from oracle.simulator import Fault, Publisher, SimulatedSensor
from oracle.store import Store
from tests.chain.nodes import AnvilNode
from tests.oracle.daemon_proc import ROOT, OracleProcess, wait_for
from tests.oracle.world import World, build_world, manifest_of

SEED = "e2e"
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def world(node: AnvilNode) -> World:
    return build_world(node.url)


def oracle_env(w: World, node: AnvilNode, broker: Broker, workdir: Path, **extra: str) -> dict[str, str]:
    manifest = manifest_mod.save(manifest_of(w), workdir / "manifest.json")
    return {
        "VAXLEDGER_ORACLE_RPC_URL": node.url,
        "VAXLEDGER_ORACLE_MANIFEST": str(manifest),
        "VAXLEDGER_ORACLE_KEY": w.accounts["oracle"].key.hex(),
        "VAXLEDGER_ORACLE_MQTT_PORT": str(broker.port),
        "VAXLEDGER_ORACLE_MQTT_CLIENT_ID": f"oracle-{workdir.name}",
        "VAXLEDGER_ORACLE_ANCHOR_EVERY_S": "1",
        "VAXLEDGER_ORACLE_ANCHOR_MAX_READINGS": "40",
        **extra,
    }


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oracle", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_freezing_fridge_is_quarantined_on_chain_and_its_doses_refused(
    world: World, node: AnvilNode, broker: Broker, tmp_path: Path
) -> None:
    w = world
    lot = w.lot("E2E-1", 1_000)
    w.deliver(lot, w.maker_room, w.van, w.cdc_room, 500)
    w.deliver(lot, w.cdc_room, w.van, w.fridge, 100)
    w.dose(lot, w.fridge)  # the fridge is in use

    start_ms = (time.time_ns() // 1_000_000) - 8 * HOUR_MS  # a day of the past: nothing is in the future
    sensor = SimulatedSensor(
        "fridge-probe", w.fridge, "fridge", seed=SEED, start_ms=start_ms, faults=[Fault("freezing", 3600)]
    )
    registry = Registry([DeviceEntry("fridge-probe", w.fridge, "fridge", sensor.public_key.hex(), w.clinic)])
    devices.save(registry, tmp_path / "devices.json")
    readings = sensor.run(7.5 * 3600)
    assert min(r.temp_dc for r, _ in readings) <= -10  # the model froze it

    oracle = OracleProcess(tmp_path, oracle_env(w, node, broker, tmp_path)).start()
    try:
        with Publisher(port=broker.port, client_id="e2e-sim") as pub:
            pub.publish_fast(readings)

        def quarantined() -> bool:
            return w.ledger.functions.stockOf(lot, w.fridge).call()[1] == 99

        wait_for(quarantined, 30, "the fridge's stock was not quarantined", oracle.log_tail)
        assert w.ledger.functions.equipment(w.fridge).call()[3]  # under excursion: takes no new stock
        with pytest.raises(ChainRevert) as refused:
            w.dose(lot, w.fridge)
        assert refused.value.name == "StockInQuarantine"
        assert w.ledger.functions.stockOf(lot, w.cdc_room).call()[:2] == (400, 0)  # elsewhere untouched

        [report] = w.cold_chain.events.ExcursionReported().get_logs(from_block=w.start_block)
        assert report["args"]["equipment"] == w.fridge and report["args"]["severity"] == 4

        def all_anchored() -> dict | None:
            s = oracle.status()
            done = s["readings"]["stored"] == len(readings) and s["readings"]["waiting_to_anchor"] == 0
            unsent = s["batches"]["built"] + s["batches"]["posted"] + s["windows"]["built"] + s["windows"]["posted"]
            return s if done and unsent == 0 else None

        status = wait_for(all_anchored, 30, "readings were not all anchored", oracle.log_tail)
        assert status["readings"]["refused"] == {} and status["chain_writes_pending"] == 0
        windows = w.cold_chain.events.WindowAnchored().get_logs(from_block=w.start_block)
        assert len({e["args"]["windowId"] for e in windows}) == len(windows) == status["windows"]["confirmed"]
        assert sum(e["args"]["batches"] for e in windows) == status["batches"]["confirmed"]
        receipts = [w.w3.eth.get_transaction_receipt(e["transactionHash"]) for e in windows]
        assert status["anchoring"]["readings"] == len(readings)
        assert status["anchoring"]["gas_used"] == sum(r["gasUsed"] for r in receipts)
    finally:
        assert oracle.stop() == 0, oracle.log_tail()

    env = oracle.env
    listed = cli(env, "alarms", "list")
    [line] = [x for x in listed.stdout.splitlines() if " freeze " in x]
    assert listed.returncode == 0 and "[cdc" in line and "UNACKNOWLEDGED" in line  # a freeze goes to the CDC at once
    alarm_id = line.split()[0]
    no_comment = cli(env, "alarms", "ack", alarm_id, "--by", "Nurse Li", "--comment", " ")
    assert no_comment.returncode == 1 and "comment" in no_comment.stderr
    acked = cli(env, "alarms", "ack", alarm_id, "--by", "Nurse Li", "--comment", "thermostat replaced")
    assert acked.returncode == 0, acked.stderr
    assert "thermostat replaced" in cli(env, "alarms", "show", alarm_id).stdout

    with Store(tmp_path / "oracle.db") as store:
        coldest = min(store.readings_of_batch(store.batches()[-1].batch_id), key=lambda r: r.reading.temp_dc)
    proof_file = tmp_path / "proof.json"
    proved = cli(env, "prove-reading", coldest.reading.device, str(coldest.reading.seq), "--out", str(proof_file))
    assert proved.returncode == 0, proved.stderr
    verified = cli(env, "verify-reading", str(proof_file), "--public-key", sensor.public_key.hex())
    assert verified.returncode == 0 and "VERIFIED" in verified.stdout, verified.stdout + verified.stderr

    forged = json.loads(proof_file.read_text())
    forged["reading"]["temp_dc"] = 45  # claim it stayed at +4.5 °C
    proof_file.write_text(json.dumps(forged))
    rejected = cli(env, "verify-reading", str(proof_file))
    assert rejected.returncode == 1 and "NOT VERIFIED" in rejected.stdout


def test_a_hot_van_quarantines_its_shipments_and_its_leg_ends_when_they_are_refused(
    world: World, node: AnvilNode, broker: Broker, tmp_path: Path
) -> None:
    w = world
    lot = w.lot("E2E-VAN", 1_000)
    shipment = w.ship(lot, w.maker_room, w.van2, w.cdc_room, 200)
    key = new_device_key()
    registry = Registry([DeviceEntry("van-probe", w.van2, "vehicle", public_bytes(key).hex(), w.cdc, "type1")])
    devices.save(registry, tmp_path / "devices.json")
    start_ms = (time.time_ns() // 1_000_000) - 12 * HOUR_MS
    hot = []  # 10 h at >= 30 °C on the road: WHO type 1, cumulative
    for i in range(61):
        r = Reading("van-probe", w.van2, i, start_ms + i * 10 * 60_000, 315)
        hot.append((r, sign(key, r)))

    oracle = OracleProcess(tmp_path, oracle_env(w, node, broker, tmp_path)).start()
    try:
        with Publisher(port=broker.port, client_id="e2e-van") as pub:
            pub.publish_fast(hot)
        wait_for(lambda: w.ledger.functions.shipment(shipment).call()[5], 30, "not quarantined", oracle.log_tail)
        assert w.ledger.functions.equipment(w.van2).call()[3]  # the van is under excursion

        w.refuse(shipment)  # the CDC's cold room will not take a cooked shipment: nothing is left aboard

        closed = w.cold_chain.events.ExcursionClosed()

        def leg_over() -> list:
            return closed.get_logs(from_block=w.start_block, argument_filters={"equipment": w.van2})

        [event] = wait_for(leg_over, 30, "the van's excursion was not closed", oracle.log_tail)
        assert event["args"]["maxTempDc"] == 315 and event["args"]["ledgerExcursionEnded"]
        assert not w.ledger.functions.equipment(w.van2).call()[3]  # the van may load again
    finally:
        assert oracle.stop() == 0, oracle.log_tail()
