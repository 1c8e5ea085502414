"""The school calling the verification endpoints, and how their database work runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from backend.runtime import Runtime
from backend.verification import schools
from backend.verification.schools import Caller
from backend.verification.service import service

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="A school user's access token (or send X-Api-Key)")


async def blocking(rt: Runtime, work: Callable[[], T]) -> T:
    """Runs database work for an async route. On SQLite it runs inline: its calls are in-process and take
    microseconds, less than a hop to the thread pool. A network database's round trips must not hold up
    the event loop, so there it goes to the pool."""
    if rt.settings.is_sqlite:
        return work()
    return await run_in_threadpool(work)


async def school_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_api_key: Annotated[str | None, Header(description="A school API key (POST /v1/school/api-keys)")] = None,
) -> Caller:
    rt: Runtime = request.app.state.runtime
    bearer = credentials.credentials if credentials else None

    return await blocking(rt, lambda: schools.caller(rt, service(rt).api_keys, x_api_key, bearer))


SchoolCaller = Annotated[Caller, Depends(school_caller)]
