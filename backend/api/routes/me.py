"""A citizen's own account: profile, family (self and children), each person's doses with their
provenance, notices (recalls), and the custodial key as an encrypted keystore."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import select

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.schemas import BigIdPath, DependentIn, KeystoreIn, MeOut, PersonOut
from backend.core.passwords import verify_password
from backend.db.models import chainview as cv
from backend.db.models.offchain import Notification, User
from backend.errors import ApiError
from backend.ledger.wallets import WalletError
from backend.services import accounts, persons, queries

router = APIRouter(prefix="/v1/me", tags=["citizens"])
Citizen = Depends(require(accounts.CITIZEN))


@router.get("", response_model=MeOut, responses=responses(401))
def me(user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    person = s.get(persons.Person, user.person_id) if user.person_id else None
    wallet = rt.wallets.of(s, "citizen", user.id)
    return {
        "user_id": user.id,
        "role": user.role,
        "facility_id": user.facility_id,
        "display_name": accounts.display_name(rt, user),
        "person": asdict(persons.view(rt, person, "self")) if person else None,
        "wallet": wallet.address if wallet else None,
    }


@router.get("/family", response_model=list[PersonOut], dependencies=[Citizen])
def family(user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> list[dict[str, Any]]:
    return [asdict(persons.view(rt, p, rel)) for p, rel in persons.family(s, user)]


@router.post(
    "/family", status_code=201, response_model=PersonOut, dependencies=[Citizen], responses=responses(409, 422)
)
def add_dependent(body: DependentIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Adds a child the account looks after."""
    person = persons.add_dependent(
        rt, s, user, name=body.name, birth_date=body.birth_date, sex=body.sex.upper(), id_number=body.id_number or None
    )
    return asdict(persons.view(rt, person, "child"))


@router.delete("/family/{person_id}", status_code=204, dependencies=[Citizen], responses=responses(404))
def delete_person(person_id: str, user: CurrentUser, s: SessionDep) -> None:
    """Deletes a person's personal data and their link to the chain; their doses stay on chain under a
    pseudonym nothing leads to any more."""
    persons.delete_person(s, user, person_id)


@router.get("/family/{person_id}/doses", dependencies=[Citizen], responses=responses(404))
def doses(person_id: str, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> list[dict[str, Any]]:
    """Every dose the person received, each with its full provenance."""
    person = persons.guarded(s, user, person_id)
    rows = s.scalars(select(cv.Dose).where(cv.Dose.person == person.pseudonym).order_by(cv.Dose.at)).all()
    return [
        {
            "unit_hash": d.unit_hash,
            "dose_number": d.dose_number,
            "at": d.at,
            "tx_hash": d.tx_hash,
            **queries.dose_provenance(s, d),
        }
        for d in rows
    ]


@router.get("/notifications", dependencies=[Citizen])
def notifications(user: CurrentUser, s: SessionDep) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.created_at.desc())
    ).all()
    return [
        {
            "id": n.id,
            "kind": n.kind,
            "ref": n.ref,
            "person_id": n.person_id,
            "message_zh": n.message_zh,
            "message": n.message_en,
            "created_at": n.created_at,
            "read": n.read_at is not None,
        }
        for n in rows
    ]


@router.post("/notifications/{notification_id}/read", status_code=204, dependencies=[Citizen], responses=responses(404))
def mark_read(notification_id: BigIdPath, user: CurrentUser, s: SessionDep) -> None:
    n = s.get(Notification, notification_id)
    if n is None or n.user_id != user.id:
        raise ApiError(404, "unknown_notification", "no such notice", "没有该通知")
    n.read_at = n.read_at or int(time.time())


@router.post("/wallet/keystore", dependencies=[Citizen], responses=responses(401, 422))
def export_keystore(body: KeystoreIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """The account's key as a Web3 Secret Storage keystore, encrypted with a password of the citizen's
    choosing (the account password is asked again). The key itself never leaves in clear."""
    _reauthenticate(user, body.account_password)
    wallet = rt.wallets.of(s, "citizen", user.id)
    if wallet is None:
        raise ApiError(404, "no_wallet", "this account has no wallet", "该账户没有链上钱包")
    try:
        return rt.wallets.keystore(s, wallet.address, body.keystore_password)
    except WalletError as exc:
        raise ApiError(422, "weak_keystore_password", str(exc), "密钥文件密码至少8位") from exc


def _reauthenticate(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        raise ApiError(401, "bad_credentials", "the account password is wrong", "账户密码错误")
