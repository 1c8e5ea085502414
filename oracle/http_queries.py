"""The oracle's read API (the CDC's board, the backend) and the one write people make over HTTP: acknowledging an
alarm. Models: oracle/query_models.py.

Reads are open: the API listens on loopback and serves no signatures or keys. Each goes through
Store.snapshot(), a read-only connection per request, so a chart over a month of readings never makes ingest
wait, and every figure of one answer comes from the same committed state. They run on at most API_THREADS
threads of their own, so a burst of charts cannot take the threads the HTTP ingest endpoints run on. Time
ranges are closed [from_ms, to_ms] and at most MAX_RANGE_DAYS long.

Acknowledging needs `Authorization: Bearer <VAXLEDGER_ORACLE_API_TOKEN>`; without a configured token it is
refused (403) and the CLI (`python -m oracle alarms ack`) remains. Every 4xx answer carries a machine-readable
`reason` next to its `detail`.

    install(app, QuerySource(store, alarm_book, registry=lambda: daemon.registry, rules=ruleset, api_token=token))
"""

from __future__ import annotations

import hmac
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from oracle import history
from oracle.alarms import Alarm, AlarmBook, AlarmError, AlarmState, AlreadyAcknowledged, AmbiguousAlarmId, UnknownAlarm
from oracle.devices import EquipmentProfile, Registry
from oracle.query_models import (
    MAX_GAPS,
    AckIn,
    AlarmDetailOut,
    AlarmOut,
    EquipmentOut,
    EquipmentStatus,
    GapOut,
    OpenAlarmOut,
    PointOut,
    ProblemOut,
    ProblemReason,
    ReadingsOut,
    RecordOut,
    ValidationProblemOut,
    alarm_out,
    celsius,
    log_out,
    range_alarm_out,
)
from oracle.rules import SILENT, RuleSet
from oracle.store import Store

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
MAX_RANGE_DAYS = 31
API_THREADS = 4
DEFAULT_MAX_POINTS = 1_000
DEFAULT_MAX_GAP_S = 1_800

T = TypeVar("T")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class QuerySource:
    """What the read API reads. `registry` is called per request: the daemon reloads its device registry."""

    store: Store
    alarms: AlarmBook
    registry: Callable[[], Registry]
    rules: RuleSet
    api_token: SecretStr | None = None
    clock: Callable[[], int] = _now_ms
    threads: CapacityLimiter = field(default_factory=lambda: CapacityLimiter(API_THREADS), repr=False, compare=False)


async def _run(src: QuerySource, fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args, limiter=src.threads)


# --- errors: a status, a stable reason, words for people ---------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, reason: ProblemReason, detail: str, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status, self.reason, self.detail, self.headers = status, reason, detail, headers


_ALARM_ERRORS: dict[type[AlarmError], tuple[int, ProblemReason]] = {
    UnknownAlarm: (404, ProblemReason.UNKNOWN_ALARM),
    AmbiguousAlarmId: (400, ProblemReason.AMBIGUOUS_ALARM_ID),
    AlreadyAcknowledged: (409, ProblemReason.ALREADY_ACKNOWLEDGED),
}


def _problem(
    status: int, reason: ProblemReason, detail: object, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"reason": reason.value, "detail": detail}, status_code=status, headers=headers)


async def _on_api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _problem(exc.status, exc.reason, exc.detail, exc.headers)


async def _on_alarm_error(_: Request, exc: Exception) -> JSONResponse:
    status, reason = _ALARM_ERRORS.get(type(exc), (422, ProblemReason.INVALID_ACKNOWLEDGEMENT))
    return _problem(status, reason, str(exc))


async def _on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _problem(422, ProblemReason.INVALID_REQUEST, jsonable_encoder(exc.errors()))


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {s: {"model": ProblemOut} for s in statuses}
    out[422] = {"model": ValidationProblemOut, "description": "A parameter or the body is not valid."}
    return out


def _check_range(from_ms: int, to_ms: int) -> None:
    if to_ms < from_ms:
        raise ApiError(400, ProblemReason.BAD_RANGE, f"to_ms {to_ms} is before from_ms {from_ms}")
    if to_ms - from_ms > MAX_RANGE_DAYS * DAY_MS:
        raise ApiError(400, ProblemReason.RANGE_TOO_LONG, f"a range spans at most {MAX_RANGE_DAYS} days: split it")


def _check_known(db: sqlite3.Connection, src: QuerySource, equipment: int) -> None:
    if equipment not in src.registry().equipment and history.latest(db, equipment) is None:
        raise ApiError(
            404, ProblemReason.UNKNOWN_EQUIPMENT, f"equipment {equipment} is not registered and has no readings"
        )


# --- the reads (on the API's threads) ----------------------------------------------------------------------------


def _silent_after_ms(rules: RuleSet, profile: EquipmentProfile | None) -> int:
    if profile is None:  # not judged by any rule: show it silent by the strictest one, never the laxest
        return min(p.silent_after_ms for p in rules.profiles.values())
    return rules.profile(profile.kind, profile.transport).silent_after_ms


def _status(last: history.Point | None, alarms: list[Alarm], silent_since_ms: int) -> EquipmentStatus:
    if any(a.kind != SILENT for a in alarms):
        return EquipmentStatus.ALARM
    if alarms or (last is not None and last.ts_ms <= silent_since_ms):  # alarms: open silence alarms only
        return EquipmentStatus.SILENT
    return EquipmentStatus.NO_DATA if last is None else EquipmentStatus.OK


def _board_entry(
    db: sqlite3.Connection,
    rules: RuleSet,
    equipment: int,
    profile: EquipmentProfile | None,
    alarms: list[Alarm],
    now: int,
) -> EquipmentOut:
    last = history.latest(db, equipment)
    return EquipmentOut(
        equipment=equipment,
        kind=profile.kind if profile else None,  # type: ignore[arg-type]
        facility=profile.facility if profile else None,
        last_ts_ms=last.ts_ms if last else None,
        last_temp_c=celsius(last.temp_dc) if last else None,
        readings_24h=history.count_since(db, equipment, now - DAY_MS),
        status=_status(last, alarms, now - _silent_after_ms(rules, profile)),
        open_alarms=[OpenAlarmOut(alarm_id=a.alarm_id, kind=a.kind, tier=a.tier, severity=a.severity) for a in alarms],
    )


def _board(src: QuerySource) -> list[EquipmentOut]:
    now, profiles = src.clock(), src.registry().equipment
    with src.store.snapshot() as db:
        open_alarms: dict[int, list[Alarm]] = defaultdict(list)
        for a in reversed(AlarmBook.select(db, "open")):  # oldest first within an equipment
            open_alarms[a.equipment].append(a)
        ids = sorted(set(profiles) | set(history.equipment_seen(db)) | set(open_alarms))
        return [_board_entry(db, src.rules, eq, profiles.get(eq), open_alarms[eq], now) for eq in ids]


def _readings(src: QuerySource, equipment: int, from_ms: int, to_ms: int, max_points: int) -> ReadingsOut:
    with src.store.snapshot() as db:
        _check_known(db, src, equipment)
        s = history.series(db, equipment, from_ms, to_ms, max_points)
        alarms = AlarmBook.overlapping(db, equipment, from_ms, to_ms)
    return ReadingsOut(
        equipment=equipment,
        from_ms=from_ms,
        to_ms=to_ms,
        total=s.span.count,
        downsampled=s.downsampled,
        points=[PointOut(ts_ms=p.ts_ms, temp_c=p.temp_dc / 10) for p in s.points],
        min_c=celsius(s.span.min_dc),
        max_c=celsius(s.span.max_dc),
        alarms=[range_alarm_out(a) for a in alarms],
    )


def _record(src: QuerySource, equipment: int, from_ms: int, to_ms: int, max_gap_s: int) -> RecordOut:
    with src.store.snapshot() as db:
        _check_known(db, src, equipment)
        r = history.record(db, equipment, from_ms, to_ms, max_gap_s * 1000, MAX_GAPS)
        alarms = AlarmBook.overlapping(db, equipment, from_ms, to_ms)
    return RecordOut(
        equipment=equipment,
        from_ms=from_ms,
        to_ms=to_ms,
        count=r.span.count,
        first_ts_ms=r.span.first_ts_ms,
        last_ts_ms=r.span.last_ts_ms,
        min_c=celsius(r.span.min_dc),
        max_c=celsius(r.span.max_dc),
        gaps=[GapOut(from_ms=a, to_ms=b) for a, b in r.gaps],
        gaps_truncated=r.gaps_truncated,
        complete=r.complete,
        alarms=[range_alarm_out(a) for a in alarms],
    )


def _alarms(
    src: QuerySource, state: AlarmState, equipment: int | None, facility: int | None, limit: int
) -> list[AlarmOut]:
    with src.store.snapshot() as db:
        rows = AlarmBook.select(db, state, equipment=equipment, facility=facility, limit=limit)
    return [alarm_out(a) for a in rows]


def _alarm(src: QuerySource, alarm_id: str) -> AlarmDetailOut:
    alarm, entries = src.alarms.detail(alarm_id)
    return AlarmDetailOut(**alarm_out(alarm).model_dump(), history=[log_out(e) for e in entries])


def _acknowledge(src: QuerySource, alarm_id: str, by: str, comment: str) -> AlarmOut:
    alarm = src.alarms.acknowledge(alarm_id, by, comment, src.clock())
    log.info("ALARM %s acknowledged over HTTP by %s: %s", alarm.alarm_id[:12], alarm.acked_by, alarm.ack_comment)
    return alarm_out(alarm)


# --- routes ------------------------------------------------------------------------------------------------------

router = APIRouter(prefix="/v1")


def _source(request: Request) -> QuerySource:
    return request.app.state.queries


Source = Annotated[QuerySource, Depends(_source)]
EquipmentId = Annotated[int, Path(ge=1, le=2**32 - 1, description="The ledger's equipment id.")]
AlarmId = Annotated[
    str, Path(pattern="^[0-9a-fA-F]{1,64}$", description="The alarm id, or a unique prefix of at least 6 characters.")
]
Ms = Query(ge=0, description="ms since the Unix epoch")
_bearer = HTTPBearer(auto_error=False, description="VAXLEDGER_ORACLE_API_TOKEN")


def _authorized(src: Source, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    if src.api_token is None:
        raise ApiError(
            403,
            ProblemReason.ACK_DISABLED,
            "acknowledging over HTTP is off: no API token is configured (VAXLEDGER_ORACLE_API_TOKEN); "
            "use `python -m oracle alarms ack`",
        )
    if credentials is None:
        raise ApiError(
            401, ProblemReason.MISSING_TOKEN, "send Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"}
        )
    if not hmac.compare_digest(credentials.credentials.encode(), src.api_token.get_secret_value().encode()):
        raise ApiError(
            401,
            ProblemReason.INVALID_TOKEN,
            "the bearer token is not the oracle's API token",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


@router.get(
    "/equipment",
    response_model=list[EquipmentOut],
    summary="The live board: every equipment registered or heard",
    tags=["board"],
)
async def list_equipment(src: Source) -> list[EquipmentOut]:
    return await _run(src, _board, src)


@router.get(
    "/equipment/{equipment}/readings",
    response_model=ReadingsOut,
    responses=_errors(400, 404),
    summary="Readings for a chart, downsampled to min and max per time bucket",
    tags=["board"],
)
async def get_readings(
    src: Source,
    equipment: EquipmentId,
    from_ms: Annotated[int | None, Ms] = None,
    to_ms: Annotated[int | None, Ms] = None,
    max_points: Annotated[int, Query(ge=2, le=10_000)] = DEFAULT_MAX_POINTS,
) -> ReadingsOut:
    """The range defaults to the 24 hours before to_ms, and to_ms to now."""
    to_ms = src.clock() if to_ms is None else to_ms
    from_ms = to_ms - DAY_MS if from_ms is None else from_ms
    _check_range(from_ms, to_ms)
    return await _run(src, _readings, src, equipment, from_ms, to_ms, max_points)


@router.get(
    "/equipment/{equipment}/record",
    response_model=RecordOut,
    responses=_errors(400, 404),
    summary="The temperature record of a transport leg or a storage period, and whether it is complete",
    tags=["board"],
)
async def get_record(
    src: Source,
    equipment: EquipmentId,
    from_ms: Annotated[int, Ms],
    to_ms: Annotated[int, Ms],
    max_gap_s: Annotated[int, Query(ge=1, le=86_400)] = DEFAULT_MAX_GAP_S,
) -> RecordOut:
    """For a receiver (Vaccine Administration Law art. 39): a delivery whose full-trip record is incomplete or
    out of range is refused. Completeness is judged here; the range, against the product's, by the caller."""
    _check_range(from_ms, to_ms)
    return await _run(src, _record, src, equipment, from_ms, to_ms, max_gap_s)


@router.get("/alarms", response_model=list[AlarmOut], summary="Alarms with their tier, newest first", tags=["alarms"])
async def list_alarms(
    src: Source,
    state: AlarmState = "open",
    equipment: Annotated[int | None, Query(ge=1)] = None,
    facility: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=5_000)] = 500,
) -> list[AlarmOut]:
    """open: not closed; unacked: not acknowledged, open or closed (closed ones whose stock waits for a decision);
    all. At most `limit`, the most recently raised."""
    return await _run(src, _alarms, src, state, equipment, facility, limit)


@router.get(
    "/alarms/{alarm_id}",
    response_model=AlarmDetailOut,
    responses=_errors(400, 404),
    summary="One alarm and its history",
    tags=["alarms"],
)
async def get_alarm(src: Source, alarm_id: AlarmId) -> AlarmDetailOut:
    return await _run(src, _alarm, src, alarm_id)


@router.post(
    "/alarms/{alarm_id}/ack",
    response_model=AlarmOut,
    responses=_errors(400, 401, 403, 404, 409),
    dependencies=[Depends(_authorized)],
    summary="Acknowledge an alarm: stops its escalation (as `python -m oracle alarms ack`)",
    tags=["alarms"],
)
async def ack_alarm(src: Source, alarm_id: AlarmId, body: AckIn) -> AlarmOut:
    return await _run(src, _acknowledge, src, alarm_id, body.by, body.comment)


def install(app: FastAPI, source: QuerySource | None) -> None:
    """The problem answers always (so the ingest API's 422s carry a reason too), the read API with a source."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    if source is None:
        return
    app.state.queries = source
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(AlarmError, _on_alarm_error)
    app.include_router(router)
