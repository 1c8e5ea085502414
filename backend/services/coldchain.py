"""The cold chain as the backend needs it: the oracle's temperature records (for a delivery's trip, a
chart, the CDC's board and alarms) over its HTTP API, and the judgement of a trip's record on receipt.

Vaccine Administration Law art. 39: the receiver obtains the full-trip temperature record, and a delivery
whose record is missing or out of range must be refused. `judge_trip` says which, in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from backend.errors import ApiError


class OracleUnavailable(Exception):
    """The oracle did not answer; what it would have said is unknown."""


class OracleRefused(ApiError):
    """The oracle answered, and said no."""


class OracleClient:
    def __init__(self, base_url: str, timeout_s: float, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, headers=headers)

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, **params: Any) -> Any:
        return self._answer(lambda: self._http.get(path, params={k: v for k, v in params.items() if v is not None}))

    def _answer(self, request: Any) -> Any:
        """The oracle's JSON answer; its refusals become ApiErrors with its reason, its failures
        OracleUnavailable."""
        try:
            response = request()
        except httpx.HTTPError as exc:
            raise OracleUnavailable(f"the cold-chain oracle at {self._http.base_url} did not answer: {exc}") from exc
        if response.status_code >= 500:
            raise OracleUnavailable(f"the cold-chain oracle answered {response.status_code}")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            reason = str(body.get("reason") or "oracle_refused")
            status = {404: 404, 409: 409}.get(response.status_code, 502 if response.status_code in (401, 403) else 422)
            detail = body.get("detail")
            message = detail if isinstance(detail, str) else f"the cold-chain oracle refused ({response.status_code})"
            raise OracleRefused(status, reason, message, "冷链监测服务拒绝了此请求")
        return response.json()

    def record(self, equipment: int, from_ms: int, to_ms: int, max_gap_s: int) -> dict[str, Any]:
        return self._get(f"/v1/equipment/{equipment}/record", from_ms=from_ms, to_ms=to_ms, max_gap_s=max_gap_s)

    def readings(self, equipment: int, from_ms: int, to_ms: int, max_points: int = 1000) -> dict[str, Any]:
        return self._get(f"/v1/equipment/{equipment}/readings", from_ms=from_ms, to_ms=to_ms, max_points=max_points)

    def board(self) -> list[dict[str, Any]]:
        return self._get("/v1/equipment")

    def ack(self, alarm_id: str, by: str, comment: str) -> Any:
        return self._answer(lambda: self._http.post(f"/v1/alarms/{alarm_id}/ack", json={"by": by, "comment": comment}))

    def alarms(self, state: str = "open", equipment: int | None = None, facility: int | None = None) -> Any:
        return self._get("/v1/alarms", state=state, equipment=equipment, facility=facility)


@dataclass(frozen=True)
class TripVerdict:
    acceptable: bool
    reasons: list[str] = field(default_factory=list)
    """Machine-readable: record_unavailable, record_missing, record_gaps, too_warm, too_cold."""
    message_zh: str = ""
    message_en: str = ""
    record: dict[str, Any] | None = None


def judge_trip(record: dict[str, Any] | None, min_dc: int, max_dc: int) -> TripVerdict:
    """Whether a delivery may be accepted, from its trip's record and the product's storage range
    (tenths of °C)."""
    if record is None:
        return TripVerdict(
            False,
            ["record_unavailable"],
            "无法获取运输全程温度记录，必须拒收或等待记录恢复后再签收",
            "the trip's temperature record cannot be obtained: refuse the delivery, or wait until it can",
        )
    reasons: list[str] = []
    zh: list[str] = []
    en: list[str] = []
    if not record.get("count"):
        reasons.append("record_missing")
        zh.append("运输途中没有任何温度记录")
        en.append("there are no temperature readings for the trip")
    elif not record.get("complete", False):
        gaps = record.get("gaps") or []
        reasons.append("record_gaps")
        zh.append(f"温度记录有 {len(gaps)} 处中断")
        en.append(f"the temperature record has {len(gaps)} gap(s)")
    lo, hi = record.get("min_c"), record.get("max_c")
    if hi is not None and round(hi * 10) > max_dc:
        reasons.append("too_warm")
        zh.append(f"最高温度 {hi:.1f} °C 超过 {max_dc / 10:.1f} °C")
        en.append(f"the highest temperature {hi:.1f} °C is above {max_dc / 10:.1f} °C")
    if lo is not None and round(lo * 10) < min_dc:
        reasons.append("too_cold")
        zh.append(f"最低温度 {lo:.1f} °C 低于 {min_dc / 10:.1f} °C")
        en.append(f"the lowest temperature {lo:.1f} °C is below {min_dc / 10:.1f} °C")
    if not reasons:
        return TripVerdict(
            True, [], "运输全程温度记录完整且在范围内", "the trip's record is complete and in range", record
        )
    return TripVerdict(
        False,
        reasons,
        "；".join(zh) + "。依法必须拒收。",
        "; ".join(en) + ". The delivery must be refused.",
        record,
    )
