"""`make up`'s backend: the API on 127.0.0.1:8000 over the embedded SQLite database in var/backend/, with
the demo district's facility wallets admitted and one account per role (printed when the platform is up).

A fresh deployment starts a fresh database (the old one indexes a chain that no longer exists); the master
key file stays. The oracle and the backend share a generated API token, so CDC officers can acknowledge
alarms through the backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devnet.ports import port_is_free

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8000
READY_TIMEOUT_S = 180


class Backend:
    def __init__(self, state: Path, rpc_url: str, manifest: Path, oracle_url: str, oracle_token: str, *, fresh: bool):
        self.dir = state / "backend"
        self.port = int(os.environ.get("VAXLEDGER_BACKEND_PORT", DEFAULT_PORT))
        if fresh:
            for name in ("backend.db", "backend.db-wal", "backend.db-shm"):
                (self.dir / name).unlink(missing_ok=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "VAXLEDGER_BACKEND_PORT": str(self.port),
            "VAXLEDGER_BACKEND_RPC_URL": rpc_url,
            "VAXLEDGER_BACKEND_MANIFEST": str(manifest),
            "VAXLEDGER_BACKEND_DATABASE_URL": f"sqlite:///{self.dir / 'backend.db'}",
            "VAXLEDGER_BACKEND_MASTER_KEY_FILE": str(self.dir / "master.keys"),
            "VAXLEDGER_BACKEND_ORACLE_URL": oracle_url,
            "VAXLEDGER_BACKEND_ORACLE_API_TOKEN": oracle_token,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.accounts = ""

    def start(self) -> None:
        if not port_is_free(self.port):
            raise SystemExit(
                f"port {self.port} for the backend is already in use: stop what holds it, or set VAXLEDGER_BACKEND_PORT"
            )
        demo = subprocess.run(
            [sys.executable, "-m", "backend", "demo"], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        with open(self.dir / "backend.log", "a") as log:
            log.write(demo.stdout + demo.stderr)
        if demo.returncode != 0:
            raise SystemExit(f"the backend's demo set-up failed: see {self.dir / 'backend.log'}\n{demo.stderr[-2000:]}")
        self.accounts = demo.stdout.strip()
        log_file = open(self.dir / "backend.log", "ab")  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        url = f"http://127.0.0.1:{self.port}/readyz"
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SystemExit(f"the backend exited with {self.process.returncode}: see {self.dir / 'backend.log'}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if json.loads(response.read()).get("ready"):
                        return
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")[:300]
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise SystemExit(f"the backend was not ready on {url} within {READY_TIMEOUT_S} s ({last})")

    def failed(self) -> str | None:
        if self.process is not None and self.process.poll() is not None:
            return f"the backend stopped (exit {self.process.returncode}): see {self.dir / 'backend.log'}"
        return None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def describe(self) -> str:
        return (
            f"  web       open http://127.0.0.1:{self.port}/ and sign in with a demo account below "
            f"(打开网页，用下面的演示账号登录)\n"
            f"  backend   API docs http://127.0.0.1:{self.port}/docs, log {self.dir / 'backend.log'}\n{self.accounts}"
        )
