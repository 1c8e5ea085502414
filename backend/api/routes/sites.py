"""Vaccination sites with their live stock per vaccine type and their next free slots (public)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from backend.api.deps import RuntimeDep, SessionDep
from backend.api.errors import responses
from backend.api.schemas import IdPath
from backend.services import queries

router = APIRouter(prefix="/v1/sites", tags=["sites"])

VaccineQuery = Annotated[str | None, Query(max_length=8, description="A vaccine type code, e.g. HepB")]


@router.get("", summary="Sites with stock and next free slots")
def list_sites(
    rt: RuntimeDep,
    vaccine: VaccineQuery = None,
    area: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9A-Za-z]*$", description="Area code prefix")] = None,
) -> Response:
    """Each clinic: its bookable doses per vaccine type (unquarantined, unexpired, released, not held for a
    booking) and its next free slots. Filter by vaccine (sites that have it) and by area code prefix."""
    now = int(time.time())
    key = ("sites", vaccine, area, rt.indexed_block(), now // 60)

    def build() -> list[dict[str, Any]]:
        with rt.db.sessions() as s:
            return queries.sites(s, vaccine, area, now)

    return Response(rt.answers.get(key, build), media_type="application/json")


@router.get("/{site_id}/slots", summary="A site's free slots", responses=responses(404))
def slots(site_id: IdPath, s: SessionDep, vaccine: VaccineQuery = None) -> list[dict[str, Any]]:
    return queries.site_slots(s, site_id, vaccine, int(time.time()))
