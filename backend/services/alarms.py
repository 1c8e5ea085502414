"""Cold-chain alarms acknowledged by CDC officers through the oracle, in the officer's name, with the
comment the acknowledgement requires; recorded in the audit log like any staff action."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.db.models.offchain import User
from backend.runtime import Runtime
from backend.services import accounts, audit
from backend.services.writes import Actor


def acknowledge(rt: Runtime, s: Session, user: User, alarm_id: str, comment: str) -> Any:
    by = accounts.display_name(rt, user) or f"user {user.id}"
    result = rt.oracle.ack(alarm_id, by, comment)
    audit.record(s, Actor.of(user), "ack_alarm", f"alarm {alarm_id}", comment[:500])
    return result
