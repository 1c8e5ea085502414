"""The oracle's HTTP ingest endpoint: gateways post readings in the MQTT wire format, operators upload a
logger's memory as CSV (`python -m oracle.upload`).

A 200 means every reading in the answer's `accepted` and `duplicates` is committed; refusals are
per reading (index, reason, message), never an HTTP error, because the rest of the batch was taken and
resending it would only yield duplicates. Errors are for the request as a whole: 400 (not JSON, no
usable CSV header), 413 (too many readings or bytes), 415 (content type), and 503 when the sink could
not commit (the store's disk is full, the daemon is stopping): nothing of that request was
acknowledged, and the client must retry.

The read API (the board, charts, records, alarms) and acknowledging alarms are in oracle/http_queries.py,
served when create_app is given a QuerySource.

    app = create_app(sink, status=daemon.status, queries=QuerySource(...))
    uvicorn.run(app, host="127.0.0.1", port=8547)
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from oracle.csvlog import COLUMNS, CsvHeaderError, CsvLog, decode, is_blank
from oracle.http_queries import QuerySource, install
from oracle.ingest import IngestResult, Item, Sink
from oracle.validate import Reason, Rejection, parse_fields

log = logging.getLogger(__name__)

MiB = 1 << 20
DEFAULT_MAX_ITEMS = 50_000
DEFAULT_MAX_BODY_BYTES = 16 * MiB
RETRY_AFTER_S = 5


# --- response models (the OpenAPI contract) --------------------------------------------------------------------


class RefusedOut(BaseModel):
    index: int = Field(description="Position in the request: array element, or CSV data row (0-based).")
    reason: Reason = Field(description="Stable machine-readable reason (also the daemon's metric label).")
    message: str = Field(description="For people; a CSV refusal names the line.")


class IngestOut(BaseModel):
    """What the request's readings came to. Every reading is counted exactly once."""

    accepted: int = Field(description="Readings newly stored by this request.")
    duplicates: int = Field(description="Readings already stored (a redelivery): acknowledged, not stored twice.")
    refused: list[RefusedOut]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "accepted": 2,
                    "duplicates": 1,
                    "refused": [
                        {
                            "index": 3,
                            "reason": "bad_signature",
                            "message": "signature does not verify for device 'fridge-12' seq 4031",
                        }
                    ],
                }
            ]
        }
    }


class ErrorOut(BaseModel):
    detail: str = Field(examples=["body is not JSON: Expecting value: line 1 column 1 (char 0)"])


class HealthOut(BaseModel):
    status: str = Field(examples=["ok"])


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The body cannot be read at all (nothing was ingested)."},
    413: {"model": ErrorOut, "description": "Too many readings or too many bytes: split the upload."},
    415: {"model": ErrorOut, "description": "Wrong Content-Type."},
    503: {
        "model": ErrorOut,
        "description": "The readings could not be committed; nothing was acknowledged. Retry (see Retry-After).",
    },
}

_EXAMPLE_MESSAGE = {
    "device": "fridge-12",
    "equipment": 12,
    "seq": 4031,
    "ts": 1767225600000,
    "temp_c": 4.6,
    "battery": 97,
    "door": False,
    "sig": "base64 Ed25519 signature over the reading's signing bytes (64 bytes)",
}
_MESSAGE_SCHEMA = {
    "type": "object",
    "description": "The MQTT wire format of one signed reading.",
    "required": ["device", "equipment", "seq", "ts", "temp_c", "sig"],
    "properties": {
        "device": {"type": "string", "description": "Sensor id its key is registered under."},
        "equipment": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
        "seq": {"type": "integer", "minimum": 0, "description": "The device's counter, one up per reading."},
        "ts": {"type": "integer", "minimum": 0, "description": "Device clock, ms since the Unix epoch."},
        "temp_c": {"type": "number", "description": "°C, one decimal."},
        "battery": {"type": "integer", "minimum": 0, "maximum": 255, "description": "Percent; 255 = not reported."},
        "door": {"type": "boolean"},
        "sig": {"type": "string", "format": "byte"},
    },
}
_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_MESSAGE_SCHEMA, {"type": "array", "items": _MESSAGE_SCHEMA}]},
                "examples": {
                    "one": {"summary": "One reading", "value": _EXAMPLE_MESSAGE},
                    "batch": {"summary": "A batch", "value": [_EXAMPLE_MESSAGE, {**_EXAMPLE_MESSAGE, "seq": 4032}]},
                },
            }
        },
    }
}
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "description": f"Header {','.join(COLUMNS)}, then one reading a line."},
                "example": f"{','.join(COLUMNS)}\nfridge-12,12,4031,1767225600000,4.6,97,0,<base64 signature>\n",
            }
        },
    }
}


# --- request plumbing ------------------------------------------------------------------------------------------


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    kind, *params = raw.split(";")
    parsed = {}
    for p in params:
        key, _, value = p.partition("=")
        parsed[key.strip().lower()] = value.strip()
    return kind.strip().lower(), parsed


def _require(request: Request, *accepted: str) -> dict[str, str]:
    kind, params = _media_type(request)
    if kind not in accepted:
        got = kind or "none"
        raise HTTPException(415, f"Content-Type must be {' or '.join(accepted)}, got {got}")
    return params


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to exceed `limit`: by Content-Length before reading, and
    by counting, since a chunked body or a wrong header says nothing reliable."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPException(400, f"bad Content-Length {declared!r}") from None
        if size > limit:
            raise HTTPException(413, f"body of {size} bytes exceeds the limit of {limit} bytes")
    chunks, total = [], 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise HTTPException(413, f"body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise HTTPException(400, "client disconnected before the body was complete") from None
    return b"".join(chunks)


def _too_many(n: int, limit: int) -> HTTPException:
    return HTTPException(413, f"{n} readings exceed the limit of {limit} per request: split the upload")


def _parse_element(element: object) -> Item:
    if not isinstance(element, dict):
        return Rejection(Reason.MALFORMED_JSON, f"element must be a JSON object, got {type(element).__name__}")
    try:
        return parse_fields(element)
    except Exception as exc:  # parse_fields is meant never to raise; one element must not fail the batch
        return Rejection(Reason.INTERNAL_ERROR, f"unexpected error while parsing: {exc!r}")


def _parse_json(body: bytes, max_items: int) -> list[Item]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HTTPException(400, f"body is not JSON: {exc}") from None
    if isinstance(doc, dict):
        doc = [doc]
    elif not isinstance(doc, list):
        raise HTTPException(400, f"body must be a JSON object or an array of them, got {type(doc).__name__}")
    if len(doc) > max_items:
        raise _too_many(len(doc), max_items)
    return [_parse_element(e) for e in doc]


def _parse_csv(body: bytes, charset: str | None, first_line: int | None, max_items: int) -> list[Item]:
    try:
        text = decode(body, charset)
    except (ValueError, LookupError) as exc:
        raise HTTPException(415, str(exc)) from None
    lines = list(io.StringIO(text, newline=""))  # the line breaks csv and a file opened by open_csv see
    try:
        rows = CsvLog(lines, first_line=first_line)
    except CsvHeaderError as exc:
        raise HTTPException(400, str(exc)) from None
    # Every line but the header's is a data row or blank: count before parsing anything.
    n = sum(not is_blank(line) for line in lines) - 1
    if n > max_items:
        raise _too_many(n, max_items)
    return list(rows)


def create_app(
    sink: Sink,
    status: Callable[[], dict] | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    queries: QuerySource | None = None,
) -> FastAPI:
    """The ingest API over `sink`; `status` feeds GET /v1/status (the daemon's counters); `queries` adds the
    read API and acknowledging alarms (oracle/http_queries.py)."""
    app = FastAPI(
        title="vaxledger oracle ingest",
        version="1",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )

    async def ingest(items: Sequence[Item]) -> dict[str, Any]:
        if not items:
            return IngestResult().to_dict()
        try:
            result = await run_in_threadpool(sink.ingest, items, "http")
        except Exception:
            log.exception("sink failed to ingest %d HTTP item(s); answered 503", len(items))
            raise HTTPException(
                503,
                "the readings could not be stored; nothing was acknowledged, retry later",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            ) from None
        return result.to_dict()

    @app.post(
        "/v1/readings",
        response_model=IngestOut,
        responses=_ERRORS,
        summary="Ingest signed readings (JSON)",
        description="One reading in the MQTT wire format, or an array of them. Each element is parsed and "
        "validated on its own: refusals are listed by array index, the rest is stored.",
        openapi_extra=_JSON_BODY,
        tags=["ingest"],
    )
    async def post_readings(request: Request) -> dict[str, Any]:
        _require(request, "application/json")
        body = await _read_body(request, max_body_bytes)
        items = await run_in_threadpool(_parse_json, body, max_items)
        return await ingest(items)

    @app.post(
        "/v1/readings/csv",
        response_model=IngestOut,
        responses=_ERRORS,
        summary="Ingest a logger's memory (CSV)",
        description=f"Header naming the columns {', '.join(COLUMNS)} (any order, extra columns ignored), then "
        "one reading a line, sent in seq order per device. Refusals are listed by data row (0-based, blank "
        "lines not counted) and their messages name the CSV line.",
        openapi_extra=_CSV_BODY,
        tags=["ingest"],
    )
    async def post_readings_csv(
        request: Request,
        first_line: Annotated[
            int | None,
            Query(
                ge=1,
                description="File line number of the line after this body's header: a client sending a file "
                "in chunks passes it so refusal messages name the lines of the whole file.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        params = _require(request, "text/csv")
        body = await _read_body(request, max_body_bytes)
        items = await run_in_threadpool(_parse_csv, body, params.get("charset"), first_line, max_items)
        return await ingest(items)

    @app.get("/healthz", response_model=HealthOut, summary="Liveness", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/v1/status",
        response_model=dict[str, Any],
        responses={503: {"model": ErrorOut, "description": "The status could not be read."}},
        summary="The daemon's counters and state",
        tags=["operations"],
    )
    async def get_status() -> Any:
        if status is None:
            return {}
        try:
            return await run_in_threadpool(status)
        except Exception:
            log.exception("status callback failed; answered 503")
            return JSONResponse({"detail": "status unavailable"}, status_code=503)

    install(app, queries)
    return app
