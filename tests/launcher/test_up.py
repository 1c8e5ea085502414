"""`make up`'s launcher: chain, deployment and seed come up; a restart resumes them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from scripts.run import free_port

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
    def __init__(self, state: Path, port: int, data: Path) -> None:
        env = os.environ | {
            "VAXLEDGER_STATE_DIR": str(state),
            "VAXLEDGER_CHAIN_PORT": str(port),
            "VAXLEDGER_SEED_DATA": str(data),
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

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def ledger_at(port: int, manifest: Path) -> Any:
    m = json.loads(manifest.read_text())
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
    info = m["contracts"]["VaccineLedger"]
    return w3.eth.contract(address=info["address"], abi=info["abi"])


def test_up_deploys_seeds_and_resumes_after_restart(tmp_path: Path, small_district: Path) -> None:
    state, port = tmp_path / "var", free_port()
    first = Platform(state, port, small_district)
    try:
        output = first.wait_up()
        assert "seeded: 2 sites, 3 products" in output
        ledger = ledger_at(port, state / "manifest.json")
        facilities = ledger.functions.facilityCount().call()
        assert facilities == 1 + 3 + 2
    finally:
        assert first.stop() == 0
    assert (state / "chain" / "state.json").stat().st_size > 0

    second = Platform(state, port, small_district)
    try:
        output = second.wait_up()
        assert "deployment in" in output and "reused" in output
        assert "seeded" not in output
        assert ledger_at(port, state / "manifest.json").functions.facilityCount().call() == facilities
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
