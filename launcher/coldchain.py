"""`make up`'s cold chain: mosquitto, the oracle daemon and a simulated sensor on every
piece of equipment of the demo district.

On a fresh deployment the simulator first publishes the past six hours, with a
fridge that froze (its stock is quarantined on chain by the time the platform
is up) and a sensor that died (a silent alarm), then goes on live. A restart
resumes: the oracle's store and the broker's queue are kept next to the chain's
state, and a new deployment starts the oracle afresh (its batches would name
a chain that no longer exists).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devnet.ports import port_is_free
from oracle import broker as mqtt_broker
from oracle import devices

ROOT = Path(__file__).resolve().parent.parent
DEMO_SEED = "demo"
DEFAULT_MQTT_PORT = 18830
DEFAULT_ORACLE_HTTP_PORT = 8547
BACKFILL_S = 6 * 3600


class ColdChain:
    def __init__(self, state: Path, rpc_url: str, manifest: Path, api_token: str, *, fresh_deployment: bool) -> None:
        self.dir = state / "oracle"
        self.mqtt_dir = state / "mqtt"
        self.mqtt_port = int(os.environ.get("VAXLEDGER_MQTT_PORT", DEFAULT_MQTT_PORT))
        self.http_port = int(os.environ.get("VAXLEDGER_ORACLE_HTTP_PORT", DEFAULT_ORACLE_HTTP_PORT))
        if fresh_deployment:
            shutil.rmtree(self.dir, ignore_errors=True)
            shutil.rmtree(self.mqtt_dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.registry = self.dir / "devices.json"
        self.env = {
            **os.environ,
            "VAXLEDGER_ORACLE_RPC_URL": rpc_url,
            "VAXLEDGER_ORACLE_MANIFEST": str(manifest),
            "VAXLEDGER_ORACLE_MQTT_PORT": str(self.mqtt_port),
            "VAXLEDGER_ORACLE_HTTP_PORT": str(self.http_port),
            "VAXLEDGER_ORACLE_STORE": str(self.dir / "oracle.db"),
            "VAXLEDGER_ORACLE_DEVICES": str(self.registry),
            "VAXLEDGER_ORACLE_API_TOKEN": api_token,
        }
        self.broker: mqtt_broker.Broker | None = None
        self.oracle: subprocess.Popen[bytes] | None = None
        self.simulator: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for port, what, var in (
            (self.mqtt_port, "MQTT broker", "VAXLEDGER_MQTT_PORT"),
            (self.http_port, "oracle", "VAXLEDGER_ORACLE_HTTP_PORT"),
        ):
            if not port_is_free(port):
                raise SystemExit(f"port {port} for the {what} is already in use: stop what holds it, or set {var}")
        self.broker = mqtt_broker.start_broker(self.mqtt_dir, self.mqtt_port, persistence_dir=self.mqtt_dir / "data")
        first = not self.registry.exists()
        if first:
            self._python("oracle", "devices", "demo", "--seed", DEMO_SEED, check=True)
        self.oracle = self._spawn("oracle.log", "-m", "oracle", "run")
        self._wait_for_oracle()
        self.simulator = self._spawn("simulator.log", "-m", "oracle.simulator", *self._simulator_args(first))

    def _simulator_args(self, first: bool) -> list[str]:
        args = ["--devices", str(self.registry), "--port", str(self.mqtt_port), "--seed", DEMO_SEED]
        args += ["--speed", "1", "--interval", "30s"]
        world = self.dir / "simulator.json"
        if first:
            fridges = sorted(eq for eq, p in devices.load(self.registry).equipment.items() if p.kind == "fridge")
            faults = [f"{fridges[0]}:freezing@30m+4h", f"{fridges[-1]}:dead@5h"] if len(fridges) >= 2 else []
            start_ms = int(time.time() * 1000) - BACKFILL_S * 1000
            world.write_text(json.dumps({"start_ms": start_ms, "faults": faults}))
            args += ["--start-ms", str(start_ms), "--backfill", f"{BACKFILL_S}s"]
        elif world.exists():
            # The same world goes on: its physics ran while the platform was down, so the first reading
            # after a restart follows the last one before it (a new world would jump).
            saved = json.loads(world.read_text())
            start_ms, faults = saved["start_ms"], saved["faults"]
            args += ["--start-ms", str(start_ms), "--resume"]
        else:  # a state kept before the world was: live from now
            faults = []
        for fault in faults:
            args += ["--fault", fault]
        return args

    def _wait_for_oracle(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/healthz"
        while time.monotonic() < deadline:
            assert self.oracle is not None
            if self.oracle.poll() is not None:
                raise SystemExit(f"the oracle exited with {self.oracle.returncode}: see {self.dir / 'oracle.log'}")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the oracle did not answer on {url} within {timeout:g} s: see {self.dir / 'oracle.log'}")

    def _python(self, *args: str, check: bool = False) -> None:
        subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=self.env, check=check)

    def _spawn(self, log_name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.dir / log_name, "ab")  # noqa: SIM115 (lives as long as the process)
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def failed(self) -> str | None:
        """Why the cold chain stopped working, if it did."""
        if self.broker is not None and not self.broker.running:
            return f"mosquitto stopped: see {self.broker.log_path}"
        if self.oracle is not None and self.oracle.poll() is not None:
            return f"the oracle stopped (exit {self.oracle.returncode}): see {self.dir / 'oracle.log'}"
        return None

    def stop(self) -> None:
        for proc in (self.simulator, self.oracle):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        if self.broker is not None:
            self.broker.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def describe(self) -> str:
        return (
            f"  mqtt      127.0.0.1:{self.mqtt_port} (topic vaxledger/readings/<equipment>)\n"
            f"  oracle    http://127.0.0.1:{self.http_port}/v1/status, log {self.dir / 'oracle.log'}\n"
            f"  alarms    VAXLEDGER_ORACLE_STORE={self.dir / 'oracle.db'} .venv/bin/python -m oracle alarms list"
        )
