"""Cold-chain alarms acknowledged by CDC officers through the oracle, in the officer's name, with the
comment the acknowledgement requires; recorded in the audit log like any staff action."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from backend.db.models.offchain import AuditEntry, User
from backend.runtime import Runtime
from backend.services import accounts


def acknowledge(rt: Runtime, s: Session, user: User, alarm_id: str, comment: str) -> Any:
    by = accounts.display_name(rt, user) or f"user {user.id}"
    result = rt.oracle.ack(alarm_id, by, comment)
    s.add(
        AuditEntry(
            at=int(time.time()),
            user_id=user.id,
            role=user.role,
            facility_id=user.facility_id,
            action="ack_alarm",
            target=f"alarm {alarm_id}",
            status="ok",
            detail=comment[:500],
        )
    )
    return result
