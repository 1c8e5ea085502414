"""The oracle in its production shape: the daemon (python -m oracle run) reading a fridge's sensor through the
production broker (TLS, the device's and the oracle's own logins, the ACL) and writing to a Besu-like chain (a
block every 2 s, QBFT extraData with poa=true, one pending transaction per sender). A freeze still
quarantines the fridge's stock within a few blocks (QUARANTINE_BLOCKS), and the readings are all anchored."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest
from web3 import Web3

from chain import manifest as manifest_mod
from chain.errors import ChainRevert
from devnet.ports import HOST
from oracle import devices
from oracle.devices import DeviceEntry, Registry
from oracle.simulator import Fault, Publisher, SimulatedSensor
from tests.chain.nodes import AnvilNode
from tests.oracle.daemon_proc import OracleProcess, wait_for
from tests.oracle.world import build_world, manifest_of
from tests.production.besu_like import besu_like, instant_mining, interval_mining
from tests.production.tls_broker import running_tls_broker

BLOCK_S = 2
QUARANTINE_BLOCKS = 8
HOUR_MS = 3_600_000


def test_a_freezing_fridge_is_quarantined_within_a_few_blocks(tmp_path: Path) -> None:
    with AnvilNode("--block-time", str(BLOCK_S)) as anvil, besu_like(anvil.url, max_pending_per_sender=1) as node:
        direct = Web3(Web3.HTTPProvider(anvil.url))
        instant_mining(direct)  # the district and its stock are set up at once; the oracle meets real blocks
        w = build_world(anvil.url)
        lot = w.lot("BESU-1", 1_000)
        w.deliver(lot, w.maker_room, w.van, w.cdc_room, 500)
        w.deliver(lot, w.cdc_room, w.van, w.fridge, 100)

        start_ms = time.time_ns() // 1_000_000 - 8 * HOUR_MS
        sensor = SimulatedSensor(
            "fridge-probe", w.fridge, "fridge", seed="besu", start_ms=start_ms, faults=[Fault("freezing", 3600)]
        )
        registry = Registry([DeviceEntry("fridge-probe", w.fridge, "fridge", sensor.public_key.hex(), w.clinic)])
        devices.save(registry, tmp_path / "devices.json")
        readings = sensor.run(7.5 * 3600)

        with running_tls_broker(tmp_path, registry) as (broker, files):
            interval_mining(direct, BLOCK_S)
            env = {
                "VAXLEDGER_ORACLE_RPC_URL": node.url,
                "VAXLEDGER_ORACLE_POA": "true",
                "VAXLEDGER_ORACLE_MANIFEST": str(manifest_mod.save(manifest_of(w), tmp_path / "manifest.json")),
                "VAXLEDGER_ORACLE_KEY": w.accounts["oracle"].key.hex(),
                "VAXLEDGER_ORACLE_SYNCHRONOUS": "FULL",
                "VAXLEDGER_ORACLE_MQTT_HOST": HOST,
                "VAXLEDGER_ORACLE_MQTT_PORT": str(broker.port),
                "VAXLEDGER_ORACLE_MQTT_USERNAME": "vaxledger-oracle",
                "VAXLEDGER_ORACLE_MQTT_PASSWORD": files.passwords["vaxledger-oracle"],
                "VAXLEDGER_ORACLE_MQTT_TLS_CA": str(files.ca_cert),
                "VAXLEDGER_ORACLE_MQTT_CLIENT_ID": "oracle-besu",
                # Anchor every second (not hourly), so that anchoring competes for the oracle's nonce too.
                "VAXLEDGER_ORACLE_ANCHOR_EVERY_S": "1",
                "VAXLEDGER_ORACLE_ANCHOR_MAX_READINGS": "40",
            }
            oracle = OracleProcess(tmp_path, env).start()
            try:
                publisher = Publisher(HOST, broker.port, client_id="fridge-probe")
                publisher.client.tls_set(ca_certs=str(files.ca_cert), tls_version=ssl.PROTOCOL_TLS_CLIENT)
                publisher.client.username_pw_set("fridge-probe", files.passwords["fridge-probe"])
                with publisher:
                    publisher.publish_fast(readings)
                published_at = direct.eth.block_number

                def quarantined() -> bool:
                    return w.ledger.functions.stockOf(lot, w.fridge).call()[1] == 100

                wait_for(quarantined, 30, "the fridge's stock was not quarantined", oracle.log_tail)
                [report] = w.cold_chain.events.ExcursionReported().get_logs(from_block=w.start_block)
                # Counted in blocks, not seconds: the report did not queue behind the anchoring for its nonce.
                assert report["blockNumber"] - published_at <= QUARANTINE_BLOCKS
                assert report["args"]["equipment"] == w.fridge
                with pytest.raises(ChainRevert) as refused:
                    w.dose(lot, w.fridge)
                assert refused.value.name == "StockInQuarantine"

                def all_anchored() -> bool:
                    s = oracle.status()
                    return s["readings"]["stored"] == len(readings) and s["readings"]["waiting_to_anchor"] == 0

                wait_for(all_anchored, 30, "readings were not all anchored", oracle.log_tail)
                status = oracle.status()
                assert status["readings"]["refused"] == {} and status["chain_writes_pending"] == 0
                assert node.accepted >= 1 + status["windows"]["confirmed"]
            finally:
                assert oracle.stop() == 0, oracle.log_tail()
