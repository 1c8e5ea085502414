"""Staff and citizen actions that write nothing on chain (a read of personal data, an acknowledgement, a
consent, a key's rotation) still leave a row saying who did what: every action is attributable."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from backend.db.models.offchain import AuditEntry
from backend.services.writes import Actor


def record(
    s: Session, actor: Actor, action: str, target: str, detail: str | None = None, at: int | None = None
) -> None:
    """An off-chain action, done ("ok"), in the caller's transaction."""
    s.add(
        AuditEntry(
            at=int(time.time()) if at is None else at,
            user_id=actor.user_id,
            role=actor.role,
            facility_id=actor.facility_id,
            action=action,
            target=target,
            status="ok",
            detail=detail,
        )
    )
