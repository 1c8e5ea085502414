"""A running platform for the browser: its own Anvil with the contracts deployed, the backend served by a
real uvicorn on a free loopback port, a small district built through the API over HTTP (as
tests/backend/stack.py builds it), and a cold-chain oracle (the fake one, or a real daemon's URL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from backend.app import create_app
from backend.runtime import Runtime
from devnet.ports import free_port
from tests.backend.platform import FakeOracle, deploy_platform
from tests.backend.stack import Stack, build_district, settings_for
from tests.chain.nodes import AnvilNode

START_TIMEOUT_S = 30


class Server:
    """uvicorn in a thread of the test process: the runtime stays reachable for set-up the API has no route
    for (the first accounts), and stopping it is a flag, not a signal."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    def start(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the backend did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@contextmanager
def live_stack(workdir: Path, oracle_url: str | None = None, **overrides: Any) -> Iterator[tuple[Stack, str]]:
    """(the district, as the API tests know it, and the backend's base URL). Without `oracle_url`, a fake
    oracle answers the trip records (complete and in range unless the test says otherwise)."""
    fake = FakeOracle() if oracle_url is None else None
    node = AnvilNode().start()
    server: Server | None = None
    try:
        deploy_platform(node.url, workdir / "manifest.json")
        settings = settings_for(node.url, workdir, oracle_url or fake.url, **overrides)  # type: ignore[union-attr]
        rt = Runtime(settings)
        server = Server(create_app(settings, rt)).start()
        with httpx.Client(base_url=server.url, timeout=60) as client:
            stack = Stack(node, rt, client, fake, workdir)  # type: ignore[arg-type]
            build_district(stack)
            yield stack, server.url
    finally:
        if server is not None:
            server.stop()
        node.stop()
        if fake is not None:
            fake.close()
