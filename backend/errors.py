"""The one error services raise for a request that cannot be served: an HTTP status, a stable
machine-readable reason, and messages for people (Chinese first). api/errors.py renders it, and every
other failure (validation, chain refusals, the node down) in the same shape:

    {"error": {"reason": "stock_in_quarantine", "message": "...", "message_zh": "...", ...}}"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        message_zh: str | None = None,
        *,
        detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.message_zh = message_zh or message
        self.detail = detail or {}
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"error": {"reason": self.reason, "message": self.message, "message_zh": self.message_zh, **self.detail}}


def not_found(what: str, what_zh: str, ident: object) -> ApiError:
    return ApiError(404, f"unknown_{what.replace(' ', '_')}", f"no {what} {ident}", f"{what_zh} {ident} 不存在")


def forbidden(message: str, message_zh: str) -> ApiError:
    return ApiError(403, "forbidden", message, message_zh)
