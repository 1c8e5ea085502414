"""Accounts, logins and sessions.

Roles: citizen (signs up with a phone number; looks after their own person and their children), staff of
a facility (clinic, warehouse: the CDC's store, manufacturer), CDC officer (acts for the CDC warehouse on
quarantine, release and disposal), regulator, school verifier, admin. Staff accounts are made by an admin.

A login is looked up by a blind index of the phone number or user name, so the database never holds a
phone number in clear. Failed logins are throttled per account and per client (core/throttle.py)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.core.envelope import blind_index
from backend.core.passwords import hash_password, needs_rehash, verify_password
from backend.core.tokens import hash_refresh_token, new_refresh_token
from backend.db.models import chainview as cv
from backend.db.models.offchain import RefreshToken, User
from backend.domain.identity import InvalidIdentity, normalize_phone
from backend.errors import ApiError
from backend.runtime import Runtime

CITIZEN = "citizen"
FACILITY_ROLES = {"clinic": "clinic", "warehouse": "warehouse", "cdc": "warehouse", "manufacturer": "manufacturer"}
"""Staff roles and the kind of facility they must belong to."""
PLATFORM_ROLES = {"regulator", "school", "admin"}
ROLES = {CITIZEN, *FACILITY_ROLES, *PLATFORM_ROLES}


@dataclass(frozen=True)
class Session_:
    access_token: str
    refresh_token: str
    expires_in: int
    role: str
    user_id: str


def login_key(rt: Runtime, login: str) -> str:
    return blind_index(rt.index_key, "login", normalize_login(login))


def normalize_login(login: str) -> str:
    text = login.strip()
    try:
        return normalize_phone(text)
    except InvalidIdentity:
        return text.lower()


def check_password_strength(rt: Runtime, password: str) -> None:
    minimum = rt.settings.password_min_length
    if len(password) < minimum or password.isdigit() or password.isalpha():
        raise ApiError(
            422,
            "weak_password",
            f"a password needs at least {minimum} characters, with letters and digits or symbols",
            f"密码至少 {minimum} 位，且须包含字母和数字或符号",
        )


def new_user(
    rt: Runtime,
    s: Session,
    *,
    role: str,
    login: str,
    password: str,
    display_name: str | None = None,
    facility_id: int | None = None,
) -> User:
    if role not in ROLES:
        raise ApiError(422, "unknown_role", f"no role {role!r}; roles: {', '.join(sorted(ROLES))}", f"没有角色 {role}")
    check_password_strength(rt, password)
    if role in FACILITY_ROLES:
        facility = s.get(cv.Facility, facility_id) if facility_id is not None else None
        if facility is None or facility.kind != FACILITY_ROLES[role]:
            raise ApiError(
                422,
                "facility_required",
                f"a {role} account needs a facility of kind {FACILITY_ROLES[role]}",
                f"{role} 账户必须属于一个 {FACILITY_ROLES[role]} 类型的机构",
            )
    elif facility_id is not None:
        raise ApiError(422, "no_facility_for_role", f"a {role} account belongs to no facility", "该角色不属于任何机构")
    key = login_key(rt, login)
    if s.scalars(select(User.id).where(User.login_index == key)).first() is not None:
        raise ApiError(409, "login_taken", "an account with this login exists already", "该账号已被注册")
    user_id = str(uuid.uuid4())
    user = User(
        id=user_id,
        role=role,
        login_index=key,
        login_enc=rt.keyring.seal_text(normalize_login(login), f"users.login_enc:{user_id}"),
        password_hash=hash_password(password),
        display_name_enc=(
            rt.keyring.seal_text(display_name, f"users.display_name_enc:{user_id}") if display_name else None
        ),
        facility_id=facility_id,
        token_version=0,
        disabled=False,
        created_at=int(time.time()),
    )
    s.add(user)
    return user


def display_name(rt: Runtime, user: User) -> str | None:
    if user.display_name_enc is None:
        return None
    return rt.keyring.open_text(user.display_name_enc, f"users.display_name_enc:{user.id}")


def login(rt: Runtime, s: Session, login_id: str, password: str, client: str) -> Session_:
    now = int(time.time())
    subjects = {"login": login_key(rt, login_id), "client": client}
    verdict = rt.throttle.check(s, subjects, now)
    if not verdict.allowed:
        rt.metrics.logins.labels("throttled").inc()
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins: try again in {verdict.retry_after_s} s",
            f"登录失败次数过多，请 {verdict.retry_after_s} 秒后再试",
            headers={"Retry-After": str(verdict.retry_after_s)},
        )
    user = s.scalars(select(User).where(User.login_index == subjects["login"])).first()
    ok = verify_password(user.password_hash if user else None, password) and user is not None and not user.disabled
    rt.throttle.record(s, subjects, ok, now)
    if not ok or user is None:
        rt.metrics.logins.labels("refused").inc()
        s.commit()  # the failure counts even though the request fails
        raise ApiError(401, "bad_credentials", "wrong login or password", "账号或密码错误")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    rt.metrics.logins.labels("ok").inc()
    return issue(rt, s, user, now)


def refresh(rt: Runtime, s: Session, token: str) -> Session_:
    """A new session for a refresh token, which is spent. A spent token presented again means it was
    copied: every session of that account ends."""
    now = int(time.time())
    row = s.scalars(select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))).first()
    if row is None or row.expires_at <= now:
        raise ApiError(401, "refresh_invalid", "the refresh token is not valid: log in again", "登录已失效，请重新登录")
    if row.revoked_at is not None:
        s.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == row.user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        s.commit()
        raise ApiError(
            401,
            "refresh_reused",
            "this refresh token was already used: all sessions ended",
            "检测到登录凭证被重复使用，已退出所有登录",
        )
    user = s.get(User, row.user_id)
    if user is None or user.disabled:
        raise ApiError(401, "refresh_invalid", "the account is closed", "账户已停用")
    row.revoked_at = now
    return issue(rt, s, user, now)


def logout(s: Session, user: User) -> None:
    """Ends every session of the account: refresh tokens revoked, access tokens refused from now on."""
    now = int(time.time())
    s.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    user.token_version += 1


def issue(rt: Runtime, s: Session, user: User, now: int) -> Session_:
    token, token_hash = new_refresh_token()
    s.add(
        RefreshToken(
            id=str(uuid.uuid4()),
            user_id=user.id,
            token_hash=token_hash,
            expires_at=now + rt.settings.refresh_token_ttl_s,
            created_at=now,
        )
    )
    access = rt.signer.issue(user.id, user.role, user.facility_id, user.token_version, now)
    return Session_(access, token, rt.settings.access_token_ttl_s, user.role, user.id)
