"""The read API's request and response models (its OpenAPI contract) and how the store's records map to them:
timestamps in ms since the Unix epoch, temperatures in °C with one decimal (the store keeps tenths)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from oracle.alarms import Alarm, LogEntry

MAX_GAPS = 1_000
"""A record lists at most this many gaps (an incomplete record either way)."""


class ProblemReason(StrEnum):
    INVALID_REQUEST = "invalid_request"
    BAD_RANGE = "bad_range"
    RANGE_TOO_LONG = "range_too_long"
    UNKNOWN_EQUIPMENT = "unknown_equipment"
    UNKNOWN_ALARM = "unknown_alarm"
    AMBIGUOUS_ALARM_ID = "ambiguous_alarm_id"
    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    INVALID_ACKNOWLEDGEMENT = "invalid_acknowledgement"
    ACK_DISABLED = "ack_disabled"
    MISSING_TOKEN = "missing_token"
    INVALID_TOKEN = "invalid_token"


class ProblemOut(BaseModel):
    reason: ProblemReason
    detail: str = Field(examples=["no alarm '5ef17b'"])


class ValidationProblemOut(BaseModel):
    reason: Literal[ProblemReason.INVALID_REQUEST]
    detail: list[dict[str, Any]] = Field(description="FastAPI's list of what failed validation, and where.")


# --- responses and the one request -------------------------------------------------------------------------------

EquipmentKind = Literal["fridge", "freezer", "cold_room", "vehicle", "cold_box"]


class EquipmentStatus(StrEnum):
    OK = "ok"
    ALARM = "alarm"
    """An open temperature alarm."""
    SILENT = "silent"
    """An open silence alarm, or no reading for the silence time of the equipment's rules."""
    NO_DATA = "no_data"
    """Registered, never heard."""


class OpenAlarmOut(BaseModel):
    alarm_id: str
    kind: str = Field(examples=["freeze"])
    tier: str = Field(examples=["cdc"])
    severity: int


class EquipmentOut(BaseModel):
    equipment: int
    kind: EquipmentKind | None = Field(description="From the device registry; null if not registered.")
    facility: int | None = Field(description="From the device registry; may be null.")
    last_ts_ms: int | None
    last_temp_c: float | None
    readings_24h: int = Field(description="Readings timed in the last 24 hours.")
    status: EquipmentStatus = Field(
        description="alarm: an open temperature alarm; silent: an open silence alarm or no reading for the "
        "silence time of its rules (15 min for a vehicle, 30 min otherwise in rules-v1); no_data: never heard; ok."
    )
    open_alarms: list[OpenAlarmOut]


class PointOut(BaseModel):
    ts_ms: int
    temp_c: float


class RangeAlarmOut(BaseModel):
    alarm_id: str
    kind: str
    severity: int
    opened_at_ms: int
    closed_at_ms: int | None = Field(description="null while open.")
    min_c: float | None
    max_c: float | None


class ReadingsOut(BaseModel):
    equipment: int
    from_ms: int
    to_ms: int
    total: int = Field(description="Readings in the range.")
    downsampled: bool
    points: list[PointOut] = Field(
        description="In time order. Downsampled: the lowest and the highest reading of each time bucket, real "
        "readings with their times, never averages."
    )
    min_c: float | None = Field(description="Over every reading in the range; null when there is none.")
    max_c: float | None
    alarms: list[RangeAlarmOut] = Field(description="The equipment's alarms overlapping the range.")


class GapOut(BaseModel):
    from_ms: int
    to_ms: int


class RecordOut(BaseModel):
    equipment: int
    from_ms: int
    to_ms: int
    count: int
    first_ts_ms: int | None
    last_ts_ms: int | None
    min_c: float | None = Field(
        description="Over the readings in [from_ms, to_ms]; whether that is in range is "
        "for the caller to judge against the product's range."
    )
    max_c: float | None
    gaps: list[GapOut] = Field(description="Stretches longer than max_gap_s without a reading, in time order.")
    gaps_truncated: bool = Field(description=f"More than {MAX_GAPS} gaps: only the first are listed.")
    complete: bool = Field(
        description="A reading in [from_ms - max_gap_s, to_ms], and no gap: the full record of the period."
    )
    alarms: list[RangeAlarmOut]


class AlarmOut(BaseModel):
    alarm_id: str
    equipment: int
    facility: int | None
    kind: str
    severity: int
    rules_version: str
    opened_at_ms: int
    raised_at_ms: int
    closed_at_ms: int | None
    open: bool
    min_c: float | None
    max_c: float | None
    tier: str = Field(description="site, cdc or regulator: where the alarm has climbed to.")
    tier_since_ms: int
    acked_at_ms: int | None
    acked_by: str | None
    ack_comment: str | None


class LogEntryOut(BaseModel):
    at_ms: int
    action: str = Field(examples=["raised", "escalated", "acknowledged", "closed"])
    tier: str | None
    actor: str | None
    detail: str | None


class AlarmDetailOut(AlarmOut):
    history: list[LogEntryOut]


_Text = StringConstraints(strip_whitespace=True, min_length=1)


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Annotated[str, _Text, StringConstraints(max_length=200)] = Field(description="Who acknowledges.")
    comment: Annotated[str, _Text, StringConstraints(max_length=2000)] = Field(description="What was checked or done.")


def celsius(dc: int | None) -> float | None:
    return None if dc is None else dc / 10


def alarm_out(a: Alarm) -> AlarmOut:
    same = {k: v for k, v in a.to_dict().items() if k in AlarmOut.model_fields}  # all but the temperatures
    return AlarmOut(**same, open=a.is_open, min_c=celsius(a.min_dc), max_c=celsius(a.max_dc))


def range_alarm_out(a: Alarm) -> RangeAlarmOut:
    return RangeAlarmOut(
        alarm_id=a.alarm_id,
        kind=a.kind,
        severity=a.severity,
        opened_at_ms=a.opened_at_ms,
        closed_at_ms=a.closed_at_ms,
        min_c=celsius(a.min_dc),
        max_c=celsius(a.max_dc),
    )


def log_out(e: LogEntry) -> LogEntryOut:
    return LogEntryOut(at_ms=e.at_ms, action=e.action, tier=e.tier, actor=e.actor, detail=e.detail)
