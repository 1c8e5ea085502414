"""The operator: rotating and revoking the verifier keys that sign attestations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from backend.api.deps import CurrentUser, RuntimeDep, require
from backend.api.errors import responses
from backend.api.routes.verification.schemas import RevokeKeyIn
from backend.services.writes import Actor
from backend.verification.service import service

router = APIRouter(prefix="/v1/admin/verifier-keys", tags=["admin"], dependencies=[Depends(require("admin"))])
KeyId = Annotated[str, Path(pattern=r"^vk-\d{4,}$")]


@router.post("/rotate", status_code=201, responses=responses(409))
def rotate(user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    """A new active key; the old one signs no more but stays published, so what it signed still verifies."""
    return service(rt).keys.rotate(Actor.of(user))


@router.post("/{key_id}/revoke", responses=responses(404, 409, 422))
def revoke(key_id: KeyId, body: RevokeKeyIn, user: CurrentUser, rt: RuntimeDep) -> dict[str, Any]:
    """Withdraws trust from everything the key signed (a leaked key); an active key is replaced at once."""
    return service(rt).keys.revoke(Actor.of(user), key_id, body.reason)
