"""What only the backend knows: accounts, persons and their personal data (sealed field by field),
custodial wallets (sealed keys), sessions, login attempts, the audit log, notifications, and facts about
products and adverse-event reports that stay off chain.

Sealed columns (`*_enc`) hold envelope-encrypted bytes (core/envelope.py) bound to their row and column.
A person's link to the chain is only `persons.pseudonym`: deleting the row leaves the chain unlinkable."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base

ID = String(36)  # uuid4 text
HASH = String(66)  # 0x + 32 bytes hex
ADDRESS = String(42)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    role: Mapped[str] = mapped_column(String(24))
    login_index: Mapped[str] = mapped_column(String(64), unique=True)
    """Blind index of the login (a citizen's phone, a staff user name)."""
    login_enc: Mapped[bytes] = mapped_column(LargeBinary)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    facility_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The on-chain facility a staff user works for."""
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    """A citizen's own person record."""
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped to revoke every token issued before (password change, account deletion)."""
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(HASH, unique=True)
    """Random 32 bytes: the person's only name on chain."""
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes] = mapped_column(LargeBinary)
    sex_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Guardianship(Base):
    """Whose records an account may see and act on: its own person, and its dependents."""

    __tablename__ = "guardianships"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(16))  # self | child


class Wallet(Base):
    """A custodial key: generated here, sealed at rest, used only to sign for its owner."""

    __tablename__ = "wallets"
    __table_args__ = (UniqueConstraint("owner_kind", "owner_id"),)

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))  # citizen | facility
    owner_id: Mapped[str] = mapped_column(String(36))
    key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    admitted: Mapped[bool] = mapped_column(Boolean, default=False)
    """Facility wallets: made a member of the facility on chain."""


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(80))
    """"login:<blind index>" or "client:<address>"."""
    at: Mapped[int] = mapped_column(BigInteger)
    ok: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """Who asked for what. A chain write is logged "pending" before it is sent, gets its hash before it is
    broadcast and its outcome after, so a crash in between leaves an honest row, never one claiming a
    write that did not happen."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[str | None] = mapped_column(ID, index=True)
    role: Mapped[str | None] = mapped_column(String(24))
    facility_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))  # pending | done | refused | failed | ok
    tx_hash: Mapped[str | None] = mapped_column(HASH)
    block: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(120))
    """The client's Idempotency-Key (with the write's place in its request): a retry finds this row."""


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "kind", "ref", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str] = mapped_column(String(80))
    """What it is about, e.g. the recalled lot's id."""
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    read_at: Mapped[int | None] = mapped_column(BigInteger)


class ProductMeta(Base):
    """How a product's packs are coded; the chain knows the product, not its codes."""

    __tablename__ = "product_meta"

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    trace_prefix: Mapped[str | None] = mapped_column(String(7), unique=True)


class AefiReport(Base):
    """The adverse-event report itself (personal and clinical details, sealed); its hash is on chain."""

    __tablename__ = "aefi_reports"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    unit_hash: Mapped[str] = mapped_column(HASH, index=True)
    dose_number: Mapped[int] = mapped_column(Integer)
    facility_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(16))
    report_hash: Mapped[str] = mapped_column(HASH, unique=True)
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    reported_by: Mapped[str] = mapped_column(ID)
    tx_hash: Mapped[str] = mapped_column(HASH)
    created_at: Mapped[int] = mapped_column(BigInteger)


class AppSecret(Base):
    """Secrets the backend makes for itself (token signing, blind-index keys), sealed under the master key."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
