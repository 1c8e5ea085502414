"""The district's facilities with their cold-chain equipment, by name: what the web pages show in place of
bare ids (the CDC's cold-chain board, a shipment's destination). Public, as each lot's provenance already
names the places it passed through."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from backend.api.deps import SessionDep
from backend.db.models import chainview as cv

router = APIRouter(prefix="/v1/facilities", tags=["public"])


@router.get("", summary="Facilities and their equipment")
def facilities(s: SessionDep) -> list[dict[str, Any]]:
    equipment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in s.scalars(select(cv.Equipment).order_by(cv.Equipment.id)):
        equipment[e.facility_id].append(
            {"id": e.id, "kind": e.kind, "label": e.label, "active": e.active, "under_excursion": e.under_excursion}
        )
    return [
        {
            "id": f.id,
            "kind": f.kind,
            "name": f.name,
            "area_code": f.area_code,
            "active": f.active,
            "equipment": equipment[f.id],
        }
        for f in s.scalars(select(cv.Facility).order_by(cv.Facility.id))
    ]
