"""The platform's verifier keys: the secp256k1 keys attestations are signed with.

Each key is made here and sealed at rest like every other secret (core/envelope.py, context
"verifier_keys.key_enc:<key id>"). Exactly one is active. Rotation retires it (it signs no more, and what
it signed stays valid: its address stays published with the time it stopped) and makes a new one;
revocation withdraws trust from everything a key ever signed (a leaked key) and, if it was the active
one, rotates at once. GET /v1/verify/keys publishes them all with their status."""

from __future__ import annotations

import threading
import time
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.envelope import Keyring
from backend.db.engine import Database
from backend.db.models.verification import VerifierKey
from backend.errors import ApiError
from backend.services import audit
from backend.services.writes import Actor

CURRENT_TTL_S = 2.0
"""How long a process trusts its idea of the active key before reading it again: another process may
have rotated. Rotation and revocation in this process take effect at once."""


def _context(key_id: str) -> str:
    return f"verifier_keys.key_enc:{key_id}"


class VerifierKeys:
    def __init__(self, db: Database, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring
        self._lock = threading.Lock()
        self._current: tuple[str, LocalAccount] | None = None
        self._checked = 0.0

    def current(self) -> tuple[str, LocalAccount]:
        """The active key's id and signing account (made on first use)."""
        with self._lock:
            if self._current is not None and time.monotonic() - self._checked < CURRENT_TTL_S:
                return self._current
            key_id, key_enc = self._active_or_new()
            if self._current is None or self._current[0] != key_id:
                self._current = (key_id, Account.from_key(self.keyring.open(key_enc, _context(key_id))))
            self._checked = time.monotonic()
            return self._current

    def rotate(self, actor: Actor) -> dict[str, Any]:
        """Retires the active key and makes a new one; returns the new key as published."""
        try:
            with self.db.session() as s:
                now = int(time.time())
                for row in s.scalars(select(VerifierKey).where(VerifierKey.status == "active")):
                    row.status, row.retired_at = "retired", now
                s.flush()
                new = self._new(s)
                _audit(s, actor, "rotate_verifier_key", new.id)
                out = key_out(new)
        except IntegrityError as exc:
            raise _conflict() from exc
        self._forget()
        return out

    def revoke(self, actor: Actor, key_id: str, reason: str) -> dict[str, Any]:
        """Withdraws trust from everything the key signed; an active key is replaced at once."""
        try:
            with self.db.session() as s:
                row = s.get(VerifierKey, key_id)
                if row is None:
                    raise ApiError(
                        404, "unknown_verifier_key", f"no verifier key {key_id}", f"验证密钥 {key_id} 不存在"
                    )
                if row.status != "revoked":
                    was_active = row.status == "active"
                    now = int(time.time())
                    row.status, row.revoked_at, row.revoke_reason = "revoked", now, reason
                    row.retired_at = row.retired_at or now
                    s.flush()
                    if was_active:
                        self._new(s)
                    _audit(s, actor, "revoke_verifier_key", key_id)
                out = key_out(row)
        except IntegrityError as exc:
            raise _conflict() from exc
        self._forget()
        return out

    def _active_or_new(self) -> tuple[str, bytes]:
        with self.db.session() as s:
            row = _active(s)
            if row is not None:
                return row.id, row.key_enc
        try:
            with self.db.session() as s:
                row = self._new(s)
                return row.id, row.key_enc
        except IntegrityError:
            # Another process made the first key at the same moment: use theirs.
            with self.db.session() as s:
                row = _active(s)
                if row is None:
                    raise
                return row.id, row.key_enc

    def _new(self, s: Session) -> VerifierKey:
        # Sequential ids read well in the published list; two processes making one at once collide on the
        # primary key instead of both becoming active.
        number = (s.scalar(select(func.count()).select_from(VerifierKey)) or 0) + 1
        account: LocalAccount = Account.create()
        key_id = f"vk-{number:04d}"
        row = VerifierKey(
            id=key_id,
            address=account.address,
            key_enc=self.keyring.seal(bytes(account.key), _context(key_id)),
            status="active",
            created_at=int(time.time()),
        )
        s.add(row)
        s.flush()
        return row

    def _forget(self) -> None:
        with self._lock:
            self._current = None


def _active(s: Session) -> VerifierKey | None:
    return s.scalars(select(VerifierKey).where(VerifierKey.status == "active")).first()


def _conflict() -> ApiError:
    return ApiError(
        409,
        "key_change_conflict",
        "another key change happened at the same time: try again",
        "密钥正在被其他操作更新，请重试",
    )


def _audit(s: Session, actor: Actor, action: str, key_id: str) -> None:
    audit.record(s, actor, action, f"verifier key {key_id}")


def published(s: Session) -> list[dict[str, Any]]:
    """Every key, oldest first: what an offline verifier needs to trust (or distrust) a signature."""
    rows = s.scalars(select(VerifierKey).order_by(VerifierKey.created_at, VerifierKey.id))
    return [key_out(k) for k in rows]


def key_out(k: VerifierKey) -> dict[str, Any]:
    return {
        "key_id": k.id,
        "address": k.address,
        "status": k.status,
        "valid_from": k.created_at,
        "signs_until": k.retired_at,
        "revoked_at": k.revoked_at,
        "revoke_reason": k.revoke_reason,
    }
