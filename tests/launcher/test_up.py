"""`make up`'s launcher: chain, deployment, seed and the cold chain (mosquitto, oracle, simulated
sensors) come up; a restart resumes them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from devnet.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
UP_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def small_district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    full = json.loads((ROOT / "scripts" / "data" / "chancheng.json").read_text())
    small = full | {"products": full["products"][:3], "sites": full["sites"][:1] + full["sites"][8:9]}
    small["site_kinds"] = {
        kind: spec | {"stock": [v for v in spec["stock"] if v in {"HepB", "BCG", "IPV"}]}
        for kind, spec in full["site_kinds"].items()
    }
    target = tmp_path_factory.mktemp("district") / "small.json"
    target.write_text(json.dumps(small))
    return target


class Platform:
    def __init__(self, state: Path, port: int, data: Path, oracle_port: int | None = None) -> None:
        self.oracle_port = oracle_port or free_port()
        self.backend_port = free_port()
        env = os.environ | {
            "VAXLEDGER_BACKEND_PORT": str(self.backend_port),
            "VAXLEDGER_STATE_DIR": str(state),
            "VAXLEDGER_CHAIN_PORT": str(port),
            "VAXLEDGER_SEED_DATA": str(data),
            "VAXLEDGER_MQTT_PORT": str(free_port()),
            "VAXLEDGER_ORACLE_HTTP_PORT": str(self.oracle_port),
        }
        self.log = state.parent / f"up-{time.monotonic_ns()}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "launcher"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_up(self) -> str:
        deadline = time.monotonic() + UP_TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if "Ctrl-C stops it" in text:
                return text
            assert self.process.poll() is None, text
            time.sleep(0.5)
        raise AssertionError(f"not up within {UP_TIMEOUT_S} s:\n{self.log.read_text()}")

    def oracle_status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.oracle_port}/v1/status", timeout=5) as r:
            return json.loads(r.read())

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.backend_port}{path}", data=data, headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read())

    def login(self, login: str) -> str:
        return self.api("POST", "/v1/auth/login", {"login": login, "password": "vaxledger-demo-1"})["access_token"]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def contract_at(port: int, manifest: Path, name: str) -> Any:
    m = json.loads(manifest.read_text())
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
    info = m["contracts"][name]
    return w3.eth.contract(address=info["address"], abi=info["abi"])


def ledger_at(port: int, manifest: Path) -> Any:
    return contract_at(port, manifest, "VaccineLedger")


def wait(condition: Any, message: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.5)


def test_up_deploys_seeds_and_resumes_after_restart(tmp_path: Path, small_district: Path) -> None:
    state, port = tmp_path / "var", free_port()
    first = Platform(state, port, small_district)
    try:
        output = first.wait_up()
        assert "seeded: 2 sites, 3 products" in output
        ledger = ledger_at(port, state / "manifest.json")
        facilities = ledger.functions.facilityCount().call()
        assert facilities == 1 + 3 + 2
        registry = json.loads((state / "oracle" / "devices.json").read_text())["devices"]
        assert len(registry) == ledger.functions.equipmentCount().call()  # a sensor on every equipment
        frozen = min(d["equipment"] for d in registry if d["kind"] == "fridge")
        cold_chain = contract_at(port, state / "manifest.json", "ColdChainLog")
        reported = cold_chain.events.ExcursionReported()
        # The freeze ends in the past six hours too, so the excursion may be closed already: look for its report.
        wait(lambda: reported.get_logs(from_block=0, argument_filters={"equipment": frozen}), "no excursion reported")
        quarantined = ledger.events.StockQuarantined().get_logs(from_block=0, argument_filters={"equipment": frozen})
        assert quarantined and all(e["args"]["quantity"] > 0 for e in quarantined)
        past = 720 * (len(registry) - 1) + 600  # six hours at 30 s; one sensor died an hour ago
        wait(lambda: first.oracle_status()["readings"]["stored"] >= past, "the past six hours were not stored")

        # the freeze (closed once it warmed back) and the dead sensor's silence wait for a person
        # (a sensor is silent once its part of a delivery has settled for a minute: oracle.ingest.SETTLE_MS)
        def two_alarms() -> bool:
            return first.oracle_status()["alarms"]["unacknowledged"] == 2

        wait(two_alarms, "the demo's alarms were not raised", timeout=120)

        # the backend: demo accounts printed, the CDC sees the frozen fridge's quarantine and acknowledges
        # an alarm through it (the oracle's token is shared)
        assert "demo accounts" in output and "vaxledger-demo-1" in output
        cdc = first.login("cdc")
        quarantined_lots = {
            q["lot_id"]
            for q in first.api("GET", "/v1/cdc/quarantine", token=cdc)["stock"]
            if q["equipment_id"] == frozen
        }
        assert quarantined_lots == {e["args"]["lot"] for e in quarantined}
        alarm = next(a for a in first.api("GET", "/v1/cdc/alarms?state=unacked", token=cdc))
        first.api("POST", f"/v1/cdc/alarms/{alarm['alarm_id']}/ack", {"comment": "checked on site"}, token=cdc)
        assert first.oracle_status()["alarms"]["unacknowledged"] == 1
        frozen_site = next(d["facility"] for d in registry if d["equipment"] == frozen)
        stock = {s["id"]: s["stock"] for s in first.api("GET", "/v1/sites")}
        assert stock.pop(frozen_site) == {}, "the frozen fridge held the site's only stock: nothing to book there"
        assert [set(v) for v in stock.values()] == [{"HepB", "BCG"}]
        live = first.oracle_status()["readings"]["stored"]
        assert live > past, "the simulator did not go on live after the past (a dead sensor must not stop it)"
    finally:
        assert first.stop() == 0
    assert (state / "chain" / "state.json").stat().st_size > 0

    second = Platform(state, port, small_district)
    try:
        output = second.wait_up()
        assert "deployment in" in output and "reused" in output
        assert "seeded" not in output
        assert ledger_at(port, state / "manifest.json").functions.facilityCount().call() == facilities
        wait(lambda: second.oracle_status()["readings"]["stored"] > live, "the resumed oracle took no reading")
        assert second.api("GET", "/readyz")["ready"] is True
        assert second.api("GET", "/v1/me", token=second.login("13800138000"))["person"]["name"] == "李娜"
        assert second.oracle_status()["readings"]["refused"] == {}  # the live simulator continued its sequences
    finally:
        assert second.stop() == 0


def test_up_refuses_a_busy_port(tmp_path: Path, small_district: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        platform = Platform(tmp_path / "var", busy.getsockname()[1], small_district)
        assert platform.process.wait(timeout=60) != 0
    assert "already in use" in platform.log.read_text()
