"""Consent grants: a guardian lets one named school, or any school until a date, verify one child.

The grant is an EIP-712 message (messages.consent) signed with the guardian's custodial wallet when they
ask for it, kept with its signature as the record of consent. It yields a token: 32 random bytes in
base32 behind "VX1-" (QR alphanumeric mode, so the code stays small), stored as a SHA-256 hash to look it
up and sealed so the guardian's page can show it again. Revoking stops every later verification at once;
attestations already issued stay what they were (a school's record of a past result)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from eth_account.messages import encode_typed_data
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.db.models.offchain import Person, User
from backend.db.models.verification import ConsentGrant
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services import accounts, audit
from backend.services.supply import CHINA
from backend.services.writes import Actor
from backend.verification import messages, schools
from backend.verification.records import today
from backend.verification.service import service

TOKEN_PREFIX = "VX1-"


def new_token() -> str:
    return TOKEN_PREFIX + base64.b32encode(secrets.token_bytes(32)).decode().rstrip("=")


def token_hash(token: str) -> str:
    # Scanners and people may change the case of a base32 text; the token means the same in either.
    return hashlib.sha256(token.strip().upper().encode()).hexdigest()


def _context(grant_id: str) -> str:
    return f"consent_grants.token_enc:{grant_id}"


def _end_of(day: date) -> int:
    return int(datetime.combine(day, dtime(23, 59, 59), CHINA).timestamp())


def status(grant: ConsentGrant, now: int) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until is not None and grant.valid_until < now:
        return "expired"
    return "active"


def grant(
    rt: Runtime,
    s: Session,
    guardian: User,
    person: Person,
    *,
    school_id: str | None,
    valid_until: date | None,
    clinic_id: int | None,
) -> dict[str, Any]:
    now = int(time.time())
    settings = service(rt).settings
    school_name = ""
    if school_id is not None:
        school_name = accounts.display_name(rt, schools.school(s, school_id)) or ""
    if school_id is None and valid_until is None:
        raise ApiError(
            422,
            "valid_until_required",
            "a consent for any school needs an end date (valid_until)",
            "授权任意学校查验时必须设定截止日期",
        )
    until = _end_of(valid_until) if valid_until is not None else None
    if until is not None and until < now:
        raise ApiError(422, "valid_until_past", "the end date has passed already", "截止日期已过")
    latest = today() + timedelta(days=settings.any_school_max_days)
    if school_id is None and valid_until is not None and valid_until > latest:
        raise ApiError(
            422,
            "consent_too_long",
            f"a consent for any school lasts at most {settings.any_school_max_days} days (until {latest})",
            f"授权任意学校查验最长 {settings.any_school_max_days} 天（至 {latest}）",
        )
    if clinic_id is not None:
        clinic = s.get(cv.Facility, clinic_id)
        if clinic is None or clinic.kind != "clinic" or not clinic.active:
            raise ApiError(
                422, "unknown_clinic", f"no active clinic {clinic_id}", f"接种门诊 {clinic_id} 不存在或已停用"
            )
    wallet = rt.wallets.of(s, "citizen", guardian.id)
    if wallet is None:
        raise ApiError(
            409, "no_wallet", "this account has no wallet to sign the consent with", "该账户没有可签署授权的钱包"
        )
    grant_id, subject, token = str(uuid.uuid4()), secrets.token_hex(16), new_token()
    typed = messages.consent(
        grant_id=grant_id,
        subject=subject,
        school_id=school_id,
        school_name=school_name,
        valid_from=now,
        valid_until=until,
        guardian=wallet.address,
        chain_id=service(rt).chain_id,
    )
    signed = rt.wallets.account(s, wallet.address).sign_message(encode_typed_data(full_message=typed))
    row = ConsentGrant(
        id=grant_id,
        person_id=person.id,
        granted_by=guardian.id,
        school_id=school_id,
        clinic_id=clinic_id,
        subject=subject,
        token_hash=token_hash(token),
        token_enc=rt.keyring.seal_text(token, _context(grant_id)),
        valid_from=now,
        valid_until=until,
        typed_data=json.dumps(typed, separators=(",", ":")),
        signature=signed.signature.to_0x_hex(),
        signer=wallet.address,
        created_at=now,
    )
    s.add(row)
    _audit(s, guardian, "grant_consent", grant_id)
    return grant_out(row, school_name, now) | {"token": token}


def of_person(s: Session, person: Person, grant_id: str) -> ConsentGrant:
    row = s.get(ConsentGrant, grant_id)
    if row is None or row.person_id != person.id:
        raise ApiError(404, "unknown_consent", f"no consent {grant_id} for this person", "没有该授权")
    return row


def listing(rt: Runtime, s: Session, person: Person) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(ConsentGrant).where(ConsentGrant.person_id == person.id).order_by(ConsentGrant.created_at.desc())
    ).all()
    names = schools.names(rt, s, (g.school_id for g in rows))
    now = int(time.time())
    return [grant_out(g, names.get(g.school_id or "", ""), now) for g in rows]


def one(rt: Runtime, s: Session, row: ConsentGrant) -> dict[str, Any]:
    """The grant with its token (for its guardian only)."""
    names = schools.names(rt, s, [row.school_id])
    return grant_out(row, names.get(row.school_id or "", ""), int(time.time())) | {"token": token_of(rt, row)}


def token_of(rt: Runtime, row: ConsentGrant) -> str:
    return rt.keyring.open_text(row.token_enc, _context(row.id))


def usable_token(rt: Runtime, row: ConsentGrant) -> str:
    """The token to show as a QR code; a revoked or expired grant's is not shown."""
    state = status(row, int(time.time()))
    if state != "active":
        raise ApiError(409, f"consent_{state}", f"this consent is {state}: grant a new one", "该授权已撤销或已过期")
    return token_of(rt, row)


def revoke(s: Session, guardian: User, row: ConsentGrant) -> None:
    if row.revoked_at is None:
        row.revoked_at = int(time.time())
        _audit(s, guardian, "revoke_consent", row.id)


def grant_out(g: ConsentGrant, school_name: str, now: int) -> dict[str, Any]:
    return {
        "id": g.id,
        "person_id": g.person_id,
        "school": {"id": g.school_id, "name": school_name} if g.school_id else None,
        "clinic_id": g.clinic_id,
        "valid_from": g.valid_from,
        "valid_until": g.valid_until,
        "created_at": g.created_at,
        "revoked_at": g.revoked_at,
        "status": status(g, now),
        "signer": g.signer,
        "signature": g.signature,
        "typed_data": json.loads(g.typed_data),
    }


def _audit(s: Session, user: User, action: str, grant_id: str) -> None:
    audit.record(s, Actor.of(user), action, f"consent {grant_id}")
