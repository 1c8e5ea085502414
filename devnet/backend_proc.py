"""The backend as a process of its own on loopback (`python -m backend serve`), as the benchmarks, the district
simulation and the fault tests run it: its own port, database and master keys, users made through its
command line before it starts, and stopped, or killed -9 and started again, like any process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from backend.core.config import BackendSettings
from backend.core.envelope import Keyring
from backend.runtime import Runtime
from devnet.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "VAXLEDGER_BACKEND_"


class BackendProcess:
    """`settings` (names without the VAXLEDGER_BACKEND_ prefix, lower case) override the defaults: a SQLite
    file in `workdir`, fresh master keys named `label`, warnings-only logs. Output goes to workdir/backend.log."""

    def __init__(self, workdir: Path, rpc_url: str, *, label: str, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings: dict[str, str] = {
            "port": str(self.port),
            "rpc_url": rpc_url,
            "manifest": str(workdir / "manifest.json"),
            "database_url": f"sqlite:///{workdir / 'backend.db'}",
            "master_keys": Keyring.generate_text(label),
            "log_level": "WARNING",
        } | settings
        self.log_path = workdir / "backend.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return os.environ | {PREFIX + k.upper(): v for k, v in self.settings.items()}

    def create_user(self, role: str, login: str, password: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "backend", "create-user", "--role", role, "--login", login],
            env=self.env | {"VAXLEDGER_NEW_PASSWORD": password},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    def start(self, ready: str = "/readyz", timeout: float = 120) -> BackendProcess:
        """Returns once `ready` answers 200. The fault tests wait on /healthz instead: after a kill, /readyz
        may rightly say no while the indexer catches up."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend", "serve"], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the backend exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + ready, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the backend was not ready within {timeout:g} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a request still waiting on the chain holds the graceful stop up
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def runtime(self) -> Runtime:
        """An in-process view of the same database and chain, without an indexer of its own."""
        return Runtime(BackendSettings(**self.settings | {"indexer": "false"}))
