"""The backend as the benchmarks run it: `python -m backend serve` in a process of its own (the load comes
from another), and a small client that signs in and fails loudly on any answer but a success."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-1"


class BackendProcess:
    """Started with `env` (the whole environment; its VAXLEDGER_BACKEND_PORT names the port) and ready
    when its /readyz says so; its output goes to `workdir/backend.log`."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{env['VAXLEDGER_BACKEND_PORT']}"
        self.log = open(workdir / "backend.log", "wb")  # noqa: SIM115 (lives as long as the server)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend", "serve"], env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"the backend did not come up: see {workdir / 'backend.log'}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a request still waiting on the chain holds the graceful stop up
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


class Client:
    def __init__(self, url: str, login: str | None = None, timeout: float = 120) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)
        if login:
            token = self.call("post", "/v1/auth/login", {"login": login, "password": PASSWORD})["access_token"]
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method.upper(), path, json=body)
        if response.status_code >= 300:
            raise RuntimeError(f"{method.upper()} {path}: {response.status_code} {response.text}")
        return response.json()
