"""The platform operator: staff accounts, facilities and their equipment, facility wallets, the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.schemas import EquipmentIn, FacilityIn, IdPath, StaffUserIn
from backend.db.models.offchain import AuditEntry
from backend.services import accounts, provision
from backend.services.writes import Actor

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require("admin"))])


@router.post("/users", status_code=201, responses=responses(409, 422))
def create_user(body: StaffUserIn, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """A staff, CDC, regulator, school or admin account (citizens sign up themselves)."""
    user = accounts.new_user(
        rt,
        s,
        role=body.role,
        login=body.login,
        password=body.password,
        display_name=body.display_name,
        facility_id=body.facility_id,
    )
    return {"user_id": user.id, "role": user.role, "facility_id": user.facility_id}


@router.post("/facilities", status_code=201, responses=responses(409, 422, 503))
def register_facility(body: FacilityIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Registers a facility on chain and admits a new custodial wallet to act for it."""
    return provision.register_facility(rt, s, Actor.of(user), body.kind, body.name, body.area_code)


@router.post("/facilities/{facility_id}/equipment", status_code=201, responses=responses(404, 409, 422, 503))
def register_equipment(facility_id: IdPath, body: EquipmentIn, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    return provision.register_equipment(rt, Actor.of(user), facility_id, body.kind, body.label)


@router.post("/facilities/{facility_id}/wallet", responses=responses(404, 409, 503))
def admit_wallet(facility_id: IdPath, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Makes (if needed) and admits the facility's custodial wallet; safe to repeat."""
    wallet = provision.admit_facility_wallet(rt, s, facility_id, Actor.of(user))
    return {"facility_id": facility_id, "wallet": wallet.address, "admitted": wallet.admitted}


@router.get("/audit")
def audit(
    s: SessionDep,
    action: Annotated[str | None, Query(max_length=48)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    return [
        {
            "id": a.id,
            "at": a.at,
            "user_id": a.user_id,
            "role": a.role,
            "facility_id": a.facility_id,
            "action": a.action,
            "target": a.target,
            "status": a.status,
            "tx_hash": a.tx_hash,
            "block": a.block,
        }
        for a in s.scalars(query)
    ]
