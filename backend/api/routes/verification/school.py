"""A school's API keys for its own system: made and revoked by a signed-in school user. A key is shown
once, when made."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.routes.verification.schemas import ApiKeyIn
from backend.verification import schools
from backend.verification.service import service

router = APIRouter(prefix="/v1/school", tags=["schools"], dependencies=[Depends(require(schools.SCHOOL))])


@router.post("/api-keys", status_code=201, responses=responses(401, 403, 422))
def create_api_key(body: ApiKeyIn, user: CurrentUser, s: SessionDep) -> dict[str, Any]:
    """A new key; `key` is in this answer only. Send it as X-Api-Key to /v1/verify."""
    return schools.create_key(s, user, body.label)


@router.get("/api-keys", responses=responses(401, 403))
def list_api_keys(user: CurrentUser, s: SessionDep) -> list[dict[str, Any]]:
    return schools.list_keys(s, user)


@router.delete("/api-keys/{key_id}", status_code=204, responses=responses(401, 403, 404))
def revoke_api_key(key_id: str, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> None:
    """Revokes the key at once; it stays listed with when."""
    schools.revoke_key(s, service(rt).api_keys, user, key_id)
