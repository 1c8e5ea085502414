"""Every failure in one shape: {"error": {"reason", "message", "message_zh", ...}}.

Validation errors name the fields; a node that does not answer is a 503 saying nothing was recorded; an
unexpected failure is a 500 with a request id to quote and nothing of its internals."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.errors import ApiError
from backend.services.coldchain import OracleUnavailable
from backend.services.writes import chain_unavailable, refused
from chain.errors import ChainRevert, ChainUnavailable
from chain.manifest import ManifestError

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    reason: str = Field(description="Stable, machine-readable", examples=["stock_in_quarantine"])
    message: str = Field(examples=["the stock in this equipment is quarantined after a temperature excursion"])
    message_zh: str = Field(examples=["该设备中的疫苗因温度异常已被隔离，请勿使用"])


class ErrorOut(BaseModel):
    error: ErrorBody


def responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI entries for a route's error statuses."""
    return {status: {"model": ErrorOut} for status in statuses}


def _json(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc)

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        names = ", ".join(f["field"] or "body" for f in fields)
        return _json(
            ApiError(
                422, "invalid_request", f"invalid fields: {names}", f"请求内容有误：{names}", detail={"fields": fields}
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json(ApiError(exc.status_code, reason, str(exc.detail), str(exc.detail)))

    @app.exception_handler(ChainRevert)
    async def chain_revert(_: Request, exc: ChainRevert) -> JSONResponse:
        return _json(refused(exc))

    @app.exception_handler(ChainUnavailable)
    async def chain_down(_: Request, exc: ChainUnavailable) -> JSONResponse:
        return _json(chain_unavailable("reading"))

    @app.exception_handler(ManifestError)
    async def no_deployment(_: Request, exc: ManifestError) -> JSONResponse:
        return _json(ApiError(503, "no_deployment", str(exc), "账本尚未部署", headers={"Retry-After": "10"}))

    @app.exception_handler(OracleUnavailable)
    async def oracle_down(_: Request, exc: OracleUnavailable) -> JSONResponse:
        return _json(
            ApiError(503, "oracle_unavailable", str(exc), "冷链监测服务暂时无法访问", headers={"Retry-After": "5"})
        )


def internal_error(request_id: str) -> JSONResponse:
    """The answer to a failure nobody foresaw: a request id to quote, nothing of the failure itself."""
    return _json(
        ApiError(
            500,
            "internal_error",
            f"something went wrong on our side (request {request_id})",
            f"服务器内部错误（请求 {request_id}）",
        )
    )
