"""The simulation's HTTP client of the backend: one connection pool shared by the worker threads, each call
timed and its outcome counted per operation (a 2xx, or the refusal's stable `reason`)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx


class Refused(Exception):
    """The backend answered 4xx/5xx: `reason` is its stable reason (`error.reason`)."""

    def __init__(self, op: str, status: int, reason: str, body: Any) -> None:
        super().__init__(f"{op}: {status} {reason}")
        self.op, self.status, self.reason, self.body = op, status, reason, body


@dataclass
class Session:
    """One signed-in account. A 401 signs in again (once, under the lock, whichever thread saw it)."""

    login: str
    password: str
    token: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Recorder:
    """Latencies (seconds) and outcomes per operation; thread-safe."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, op: str, seconds: float, outcome: str) -> None:
        with self._lock:
            self.latencies.setdefault(op, []).append(seconds)
            self.outcomes[(op, outcome)] += 1

    def ok(self, op: str) -> int:
        return self.outcomes[(op, "ok")]

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per operation: count, outcomes, and latency percentiles in milliseconds."""
        out = {}
        for op, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            outcomes = {o: n for (name, o), n in sorted(self.outcomes.items()) if name == op}
            out[op] = {
                "count": len(ordered),
                "outcomes": outcomes,
                **{f"p{q}_ms": round(1000 * percentile(ordered, q / 100), 1) for q in (50, 90, 99)},
                "max_ms": round(1000 * ordered[-1], 1),
                "mean_ms": round(1000 * sum(ordered) / len(ordered), 1),
            }
        return out


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


class Api:
    def __init__(self, url: str, recorder: Recorder, connections: int) -> None:
        self.http = httpx.Client(
            base_url=url,
            timeout=120,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self.recorder = recorder

    def sign_in(self, login: str, password: str) -> Session:
        session = Session(login, password)
        self._sign_in(session)
        return session

    def _sign_in(self, session: Session) -> None:
        body = {"login": session.login, "password": session.password}
        session.token = self.call(None, "sign_in", "post", "/v1/auth/login", body)["access_token"]

    def call(
        self,
        session: Session | None,
        op: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON (None when empty); Refused on an error answer. Timed under `op`."""
        token = session.token if session else None
        response, seconds = self._send(session, method, path, body, headers)
        if response.status_code == 401 and session is not None:
            with session.lock:
                if session.token == token:  # nobody signed in again meanwhile
                    self._sign_in(session)
            response, seconds = self._send(session, method, path, body, headers)
        data = response.json() if response.content and "json" in response.headers.get("content-type", "") else None
        if response.status_code >= 400:
            error = (data.get("error") or {}) if isinstance(data, dict) else {}
            reason = str(error.get("reason") or response.status_code)
            self.recorder.add(op, seconds, reason)
            raise Refused(op, response.status_code, reason, data)
        self.recorder.add(op, seconds, "ok")
        return data

    def _send(
        self, session: Session | None, method: str, path: str, body: Any, headers: dict[str, str] | None
    ) -> tuple[httpx.Response, float]:
        merged = (session.headers() if session else {}) | (headers or {})
        started = time.perf_counter()
        response = self.http.request(method.upper(), path, json=body, headers=merged)
        return response, time.perf_counter() - started

    def close(self) -> None:
        self.http.close()
