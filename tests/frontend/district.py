"""Set-up through the API for the browser journeys: slots, bookings and doses at the test district's
clinic (tests/backend/stack.py), each by the account that may do it."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from backend.db.models import chainview as cv
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import Stack


def slot(stack: Stack, minutes_from_now: int, vaccine: str = "HepB", capacity: int = 5) -> int:
    start = datetime.fromtimestamp(time.time() + minutes_from_now * 60, UTC).replace(microsecond=0)
    body = {"vaccine_type": vaccine, "start": start.isoformat(), "duration_min": 60, "capacity": capacity}
    return stack.staff["nurse"].ok("post", "/v1/staff/slots", body)["slot_id"]


def lot_number(stack: Stack, lot: int) -> str:
    with stack.rt.db.sessions() as s:
        return s.get(cv.Lot, lot).lot_number


def bracketed(stack: Stack, lot: int, serial: str | None = None) -> str:
    """The unit's code as printed under its DataMatrix, as a nurse types it when the symbol won't scan."""
    serial = serial or uuid.uuid4().hex[:10].upper()
    return f"(01){GTIN_HEPB}(17)301231(10){lot_number(stack, lot)}(21){serial}"


def scanned(stack: Stack, lot: int) -> str:
    """The unit's code as a scanner reads it (]d2, GS separators)."""
    return gs1(GTIN_HEPB, lot_number(stack, lot), uuid.uuid4().hex[:10].upper())


def give(stack: Stack, lot: int, **recipient: Any) -> dict[str, Any]:
    return stack.staff["nurse"].ok("post", "/v1/staff/doses", {"code": scanned(stack, lot), **recipient})
