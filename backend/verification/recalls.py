"""Attestations touched by a recall, and the revocation list offline verifiers fetch.

When the indexer projects `LotRecalled` it calls `revoke_for_recall` in the same transaction: one UPDATE
over an indexed join, so the indexer stays fast whatever the number of attestations. Only this module is
imported by the indexer (models, nothing else)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.db.models.verification import Attestation, AttestationLot, VerifierKey


def revoke_for_recall(s: Session, lot_id: int, at: int) -> None:
    """Revokes every attestation in which a dose of the lot counted."""
    touched = select(AttestationLot.attestation_id).where(AttestationLot.lot_id == lot_id)
    s.execute(
        update(Attestation)
        .where(Attestation.id.in_(touched), Attestation.revoked_at.is_(None))
        .values(revoked_at=at, revoke_reason=f"lot {lot_id} recalled")
        .execution_options(synchronize_session=False)
    )


def revocations(s: Session, now: int) -> dict[str, Any]:
    """Revoked attestations not yet expired (an expired one fails offline checks anyway), and revoked keys
    (everything such a key signed is void, listed or not)."""
    attestations = s.execute(
        select(Attestation.id, Attestation.revoked_at, Attestation.revoke_reason)
        .where(Attestation.revoked_at.is_not(None), Attestation.expires_at > now)
        .order_by(Attestation.revoked_at, Attestation.id)
    ).all()
    keys = s.execute(
        select(VerifierKey.id, VerifierKey.revoked_at, VerifierKey.revoke_reason)
        .where(VerifierKey.status == "revoked")
        .order_by(VerifierKey.revoked_at)
    ).all()
    return {
        "generated_at": now,
        "attestations": [{"id": i, "revoked_at": at, "reason": reason} for i, at, reason in attestations],
        "keys": [{"key_id": i, "revoked_at": at, "reason": reason} for i, at, reason in keys],
    }
