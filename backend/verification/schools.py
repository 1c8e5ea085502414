"""School accounts as verifiers: the school directory guardians choose from, API keys for a school's own
system (made and revoked by a signed-in school user; stored only as a hash, shown once), and who is
calling the verification endpoints: a school user's access token or an `X-Api-Key`."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from backend.core.tokens import TokenError
from backend.db.models.offchain import User
from backend.db.models.verification import SchoolApiKey
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services import accounts

SCHOOL = "school"
KEY_PREFIX = "vxk_"
SHOWN_PREFIX = 8
"""Characters of a key (after its prefix) kept in clear to tell keys apart."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A school asking to verify: the school account, and the API key used (none for a signed-in user)."""

    school_id: str
    api_key_id: str | None


def key_hash(key: str) -> str:
    # A key is 32 random bytes: a plain hash cannot be reversed, and keeps the per-request check cheap.
    return hashlib.sha256(key.encode()).hexdigest()


def directory(rt: Runtime, s: Session) -> list[dict[str, Any]]:
    """Every school account that may be named in a consent."""
    rows = s.scalars(select(User).where(User.role == SCHOOL, User.disabled.is_(False)).order_by(User.created_at))
    return [{"id": u.id, "name": accounts.display_name(rt, u) or ""} for u in rows]


def names(rt: Runtime, s: Session, school_ids: Iterable[str | None]) -> dict[str, str]:
    ids = {i for i in school_ids if i}
    if not ids:
        return {}
    rows = s.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: accounts.display_name(rt, u) or "" for u in rows}


def school(s: Session, school_id: str) -> User:
    user = s.get(User, school_id)
    if user is None or user.role != SCHOOL or user.disabled:
        raise ApiError(422, "unknown_school", f"no school account {school_id}", "该学校账户不存在")
    return user


def create_key(s: Session, school_user: User, label: str) -> dict[str, Any]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = SchoolApiKey(
        id=str(uuid.uuid4()),
        school_id=school_user.id,
        key_hash=key_hash(key),
        prefix=key[: len(KEY_PREFIX) + SHOWN_PREFIX],
        label=label,
        created_at=int(time.time()),
    )
    s.add(row)
    return key_out(row) | {"key": key}


def list_keys(s: Session, school_user: User) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(SchoolApiKey).where(SchoolApiKey.school_id == school_user.id).order_by(SchoolApiKey.created_at)
    )
    return [key_out(k) for k in rows]


def revoke_key(s: Session, keys: KeyCache, school_user: User, key_id: str) -> None:
    row = s.get(SchoolApiKey, key_id)
    if row is None or row.school_id != school_user.id:
        raise ApiError(404, "unknown_api_key", f"no API key {key_id} of this school", "本校没有该 API 密钥")
    row.revoked_at = row.revoked_at or int(time.time())
    s.commit()  # before the cache forgets, so no request in between reads the key as still valid
    keys.clear()


def key_out(k: SchoolApiKey) -> dict[str, Any]:
    return {"id": k.id, "label": k.label, "prefix": k.prefix, "created_at": k.created_at, "revoked_at": k.revoked_at}


_KEYS = SchoolApiKey.__table__
_USERS = User.__table__
# Built once: every verification authenticates (see records.py).
_BY_KEY = (
    select(_KEYS.c.id, _KEYS.c.school_id, _KEYS.c.revoked_at, _USERS.c.disabled)
    .select_from(_KEYS.join(_USERS, _USERS.c.id == _KEYS.c.school_id))
    .where(_KEYS.c.key_hash == bindparam("key_hash"))
)
_USER = select(_USERS.c.role, _USERS.c.disabled, _USERS.c.token_version).where(_USERS.c.id == bindparam("id"))


class KeyCache:
    """API keys recently found valid, so a school's system sending thousands of requests costs no key
    lookup each. Revoking a key clears it at once in this process; another process sharing the database
    notices within TTL_S."""

    TTL_S = 2.0

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        found = self._items.get(digest)
        return found[1] if found is not None and found[0] > time.monotonic() else None

    def put(self, digest: str, caller: Caller) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[digest] = (time.monotonic() + self.TTL_S, caller)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def caller(rt: Runtime, keys: KeyCache, api_key: str | None, bearer: str | None) -> Caller:
    """The school calling, by API key (preferred when both are sent) or a school user's access token."""
    if api_key is not None:
        digest = key_hash(api_key.strip())
        found = keys.get(digest)
        if found is None:
            with rt.db.engine.connect() as db:
                found = _by_key(db, digest)
            keys.put(digest, found)
        return found
    if bearer is None:
        raise ApiError(
            401,
            "not_authenticated",
            "send X-Api-Key: <school API key>, or Authorization: Bearer <a school user's access token>",
            "请提供学校 API 密钥（X-Api-Key）或学校账户的登录令牌",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        claims = rt.signer.verify(bearer)
    except TokenError as exc:
        raise ApiError(401, exc.reason, str(exc), "登录已过期或无效，请重新登录") from exc
    with rt.db.engine.connect() as db:
        user = db.execute(_USER, {"id": claims.user_id}).first()
    if user is None or user.disabled or user.token_version != claims.version:
        raise ApiError(401, "token_revoked", "this session has ended: log in again", "登录已失效，请重新登录")
    if user.role != SCHOOL:
        raise ApiError(
            403, "wrong_role", f"verification is for school accounts; you are {user.role}", "仅学校账户可查验"
        )
    return Caller(claims.user_id, None)


def _by_key(db: Connection, digest: str) -> Caller:
    row = db.execute(_BY_KEY, {"key_hash": digest}).first()
    if row is None:
        raise ApiError(401, "api_key_invalid", "this API key is not known", "API 密钥无效")
    key_id, school_id, revoked_at, disabled = row
    if revoked_at is not None:
        raise ApiError(401, "api_key_revoked", "this API key was revoked: make a new one", "该 API 密钥已被撤销")
    if disabled:
        raise ApiError(401, "account_disabled", "the school account is disabled", "该学校账户已停用")
    return Caller(school_id, key_id)
