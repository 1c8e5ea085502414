"""The benchmarks' client of the backend (which runs as devnet.backend_proc starts it; the load comes from
another process): it signs in and fails loudly on any answer but a success."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
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


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temp folder for one run: removed after a good run, kept (and named) after a failed one for its logs."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    except BaseException:
        print(f"the run failed; its files and logs are kept in {path}", file=sys.stderr)
        raise
    shutil.rmtree(path, ignore_errors=True)
