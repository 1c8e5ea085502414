"""Clinic staff: the catch-up referrals schools sent to this clinic."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.verification import referrals

router = APIRouter(prefix="/v1/staff", tags=["staff"])


@router.get("/referrals", dependencies=[Depends(require("clinic"))])
def clinic_referrals(user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> list[dict[str, Any]]:
    """Children referred here for catch-up, newest first: who, what is still missing, what to give, and
    the guardians' phones. A referral closes once its doses are given. Each read is audited."""
    return referrals.for_clinic(rt, s, user)
