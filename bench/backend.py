"""The benchmarks' client of the backend (which runs as devnet.backend_proc starts it; the load comes from
another process): it signs in and fails loudly on any answer but a success."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-1"


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
