"""The oracle daemon as a real process for the end-to-end and crash tests: started with
`python -m oracle run`, watched through its HTTP status, stopped or killed -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devnet.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


class OracleProcess:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.http_port = free_port()
        self.env = {
            **os.environ,
            "VAXLEDGER_ORACLE_HTTP_PORT": str(self.http_port),
            "VAXLEDGER_ORACLE_STORE": str(workdir / "oracle.db"),
            "VAXLEDGER_ORACLE_DEVICES": str(workdir / "devices.json"),
            "VAXLEDGER_ORACLE_TICK_S": "0.5",
            "VAXLEDGER_ORACLE_RETRY_MIN_S": "0.2",
            "VAXLEDGER_ORACLE_RETRY_MAX_S": "2",
            **env,
        }
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "oracle.log"
        self.starts = 0

    def start(self, timeout: float = 30) -> OracleProcess:
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oracle", "run"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_for(lambda: self._healthy(), timeout, f"oracle did not answer on {self.url}", self.log_tail)
        if self.env.get("VAXLEDGER_ORACLE_MQTT_PORT", "0") != "0":
            # Readings published before the broker confirms the subscription would be dropped on a first start.
            wait_for(self._subscribed, timeout, "the oracle did not subscribe to the broker", self.log_tail)
        return self

    def _subscribed(self) -> bool:
        try:
            mqtt = self.status()["mqtt"]
        except OSError:  # busy replaying after a restart: ask again
            return False
        assert mqtt["refused"] is None, mqtt["refused"]
        return mqtt["connected"]

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"oracle exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                return True
        except OSError:
            return False

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/v1/status", timeout=30) as r:  # busy replaying after a restart
            return json.loads(r.read())

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"oracle did not stop on SIGTERM:\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def wait_for(
    condition: Callable[[], Any], timeout: float, message: str, details: Callable[[], str] = lambda: ""
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout:g} s\n{details()}")
        time.sleep(0.05)
