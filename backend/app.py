"""The FastAPI application: `create_app(settings)` wires the runtime, the routes, the error shape, and
one middleware that gives each request an id, a log line and its metrics.

    uvicorn.run(create_app(BackendSettings()), host="127.0.0.1", port=8000)"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from backend.api import errors
from backend.api.routes import ROUTERS
from backend.core.config import BackendSettings
from backend.core.logs import request_id
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services.writes import IdempotencyScope, idempotency

log = logging.getLogger("backend.http")

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")

DESCRIPTION = """
vaxledger's API for citizens, facility staff, the district CDC, the regulator and schools.

Reads come from the indexed copy of the chain; every write is a transaction signed with the caller's
custodial wallet and is answered once mined. Errors always have the shape
`{"error": {"reason": "...", "message": "...", "message_zh": "..."}}` with a stable `reason`.

Send an `Idempotency-Key` header (1-64 letters, digits, `-` or `_`) with a write to make it safe to retry:
a retry with the same key after a timeout, a 503 or a lost answer never writes twice; it answers with
the first attempt's result once that is known.
"""


def create_app(settings: BackendSettings | None = None, runtime: Runtime | None = None) -> FastAPI:
    rt = runtime or Runtime(settings or BackendSettings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt.start()
        try:
            yield
        finally:
            rt.stop()

    app = FastAPI(title="vaxledger", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.runtime = rt
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RequestContext, runtime=rt)
    return app


def app_from_environment() -> FastAPI:
    """The app of one of several API worker processes (uvicorn's factory): settings from the environment,
    which `python -m backend serve` sets up for its workers."""
    return create_app(BackendSettings())


class RequestContext:
    """Request id (echoed as X-Request-Id), one structured log line, and latency by route template."""

    def __init__(self, app: Any, runtime: Runtime) -> None:
        self.app = app
        self.metrics = runtime.metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or uuid.uuid4().hex[:16]
        raw_key = _raw_header(scope, b"idempotency-key")
        if raw_key is not None and not IDEMPOTENCY_KEY.fullmatch(raw_key):
            bad = ApiError(
                422,
                "bad_idempotency_key",
                "Idempotency-Key must be 1-64 letters, digits, '-' or '_'",
                "幂等键须为1至64个字母、数字、- 或 _",
            )
            await JSONResponse(bad.body(), status_code=422)(scope, receive, send)
            return
        token = request_id.set(rid)
        key_token = idempotency.set(IdempotencyScope(raw_key) if raw_key else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        started_response = False

        async def tracking(message: dict[str, Any]) -> None:
            nonlocal started_response
            started_response = started_response or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            # Here rather than in an exception handler: Starlette runs those outside this middleware, where
            # the request id is already gone.
            log.exception("unhandled error (request %s)", rid)
            if started_response:
                raise
            await errors.internal_error(rid)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if status >= 400 or elapsed > 1:
                log.info(
                    "%s %s %d %.1f ms",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    extra={
                        "fields": {"method": method, "route": route, "status": status, "ms": round(elapsed * 1000, 1)}
                    },
                )
            request_id.reset(token)
            idempotency.reset(key_token)


def _raw_header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    text = (_raw_header(scope, name) or "")[:64]
    return text if text and text.replace("-", "").isalnum() else None
