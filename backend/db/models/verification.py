"""School-entry verification: guardians' consent grants, schools' API keys, the platform's verifier keys,
signed attestations (and the lots that counted in them, so a recall can revoke them), the audit of every
verification, and catch-up referrals to clinics.

Nothing here names a child to a school: a grant's `subject` is random per grant, and a school holds only
the grant's token (whose hash is stored) and the answers."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.models.offchain import ADDRESS, ID

HEX16 = String(32)  # 16 random bytes, hex
SHA256 = String(64)


class ConsentGrant(Base):
    """A guardian's consent that one school (or any school, for a limited time) may verify one child."""

    __tablename__ = "consent_grants"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    granted_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    """The school account; none means any school."""
    clinic_id: Mapped[int | None] = mapped_column(Integer)
    """The clinic the guardian wants catch-up referrals sent to (else the clinic of the latest dose)."""
    subject: Mapped[str] = mapped_column(HEX16, unique=True)
    """Random per grant: the child's only name in consent messages and attestations."""
    token_hash: Mapped[str] = mapped_column(SHA256, unique=True)
    token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    """The token itself, sealed, so the guardian's page can show its QR code again."""
    valid_from: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)
    """Unset: until revoked (named schools only)."""
    typed_data: Mapped[str] = mapped_column(Text)
    """The EIP-712 consent message the guardian's wallet signed, as JSON."""
    signature: Mapped[str] = mapped_column(String(132))
    signer: Mapped[str] = mapped_column(ADDRESS)
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class SchoolApiKey(Base):
    __tablename__ = "school_api_keys"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(SHA256, unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The key's first characters, so a school can tell its keys apart in a listing."""
    label: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class VerifierKey(Base):
    """A key the platform signs attestations with. One is active; rotation retires it (its attestations
    still verify), revocation withdraws trust in everything it signed."""

    __tablename__ = "verifier_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(ADDRESS, unique=True)
    key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(8))  # active | retired | revoked
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger)
    """When it stopped signing; attestations issued before stay valid."""
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoke_reason: Mapped[str | None] = mapped_column(String(200))


class Attestation(Base):
    """A signed school-entry result: one child's (kind "single"), or a roster's (kind "roster")."""

    __tablename__ = "attestations"

    id: Mapped[str] = mapped_column(HEX16, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    school_id: Mapped[str] = mapped_column(ID, index=True)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("consent_grants.id", ondelete="SET NULL"), index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    edition: Mapped[str] = mapped_column(String(40))
    evaluated_on: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    typed_data: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(132))
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """Indexed for the revocation list: revoked ones are few among many."""
    revoke_reason: Mapped[str | None] = mapped_column(String(80))


class AttestationLot(Base):
    """A lot one of whose doses counted in an attestation: a recall of the lot revokes the attestation."""

    __tablename__ = "attestation_lots"

    attestation_id: Mapped[str] = mapped_column(ForeignKey("attestations.id", ondelete="CASCADE"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, index=True)


class Verification(Base):
    """The audit of every verification: which school, which child (when the token led to one), when, and
    the outcome. `detail` says why a token was not verifiable; it is never shown to the school."""

    __tablename__ = "verifications"
    __table_args__ = (
        Index("ix_verifications_person_at", "person_id", "at"),
        Index("ix_verifications_school_at", "school_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger)
    school_id: Mapped[str] = mapped_column(ID)
    api_key_id: Mapped[str | None] = mapped_column(ID)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("consent_grants.id", ondelete="SET NULL"))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(16))  # complete | not_complete | not_verifiable
    detail: Mapped[str | None] = mapped_column(String(24))
    attestation_id: Mapped[str | None] = mapped_column(HEX16)
    roster: Mapped[bool] = mapped_column(Boolean, default=False)


class Referral(Base):
    """A school's not-complete result sent to a clinic for catch-up; the school never learns which clinic."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_facility_status", "facility_id", "status"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    grant_id: Mapped[str | None] = mapped_column(ForeignKey("consent_grants.id", ondelete="SET NULL"))
    school_id: Mapped[str] = mapped_column(ID)
    facility_id: Mapped[int] = mapped_column(Integer)
    missing: Mapped[str] = mapped_column(Text)
    """JSON: [{"series", "dose"}] as the school saw it."""
    edition: Mapped[str] = mapped_column(String(40))
    evaluated_on: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(8))  # open | done
    created_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)
