"""Guardians: a child's schedule and reminders, consents for schools (with the token's QR code), and who
verified the child. Every route is for the child's own guardian only (404 for anyone else)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep, require
from backend.api.errors import responses
from backend.api.routes.verification.schemas import ConsentIn
from backend.services import accounts, persons
from backend.verification import consents, family, qr, schools

router = APIRouter(tags=["citizens"])
Citizen = Depends(require(accounts.CITIZEN))
CHILD = "/v1/me/family/{person_id}"


@router.get("/v1/schools", responses=responses(401))
def school_directory(user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> list[dict[str, Any]]:
    """The school accounts a consent may name."""
    return schools.directory(rt, s)


@router.get(CHILD + "/schedule", dependencies=[Citizen], responses=responses(404))
def schedule(person_id: str, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """The child's evaluation today: each vaccine series' status, the next dose and its dates, the
    catch-up, and doses that do not count (with the reason)."""
    return family.schedule(rt, s, persons.guarded(s, user, person_id))


@router.get(CHILD + "/reminders", dependencies=[Citizen], responses=responses(404, 422))
def reminder_list(
    person_id: str,
    user: CurrentUser,
    rt: RuntimeDep,
    s: SessionDep,
    horizon_days: Annotated[int, Query(ge=0, le=3650)] = 90,
) -> dict[str, Any]:
    """Doses to plan for within the horizon (overdue ones included, marked), soonest first."""
    return family.reminder_list(rt, s, persons.guarded(s, user, person_id), horizon_days)


@router.post(CHILD + "/consents", status_code=201, dependencies=[Citizen], responses=responses(404, 409, 422))
def grant_consent(person_id: str, body: ConsentIn, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Lets one school (or any school until `valid_until`) verify the child; signed with your wallet.
    The answer carries the token to show the school (also as a QR code)."""
    person = persons.guarded(s, user, person_id)
    return consents.grant(
        rt, s, user, person, school_id=body.school_id, valid_until=body.valid_until, clinic_id=body.clinic_id
    )


@router.get(CHILD + "/consents", dependencies=[Citizen], responses=responses(404))
def list_consents(person_id: str, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> list[dict[str, Any]]:
    return consents.listing(rt, s, persons.guarded(s, user, person_id))


@router.get(CHILD + "/consents/{consent_id}", dependencies=[Citizen], responses=responses(404))
def get_consent(person_id: str, consent_id: str, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """One consent, with its token."""
    person = persons.guarded(s, user, person_id)
    return consents.one(rt, s, consents.of_person(s, person, consent_id))


@router.delete(CHILD + "/consents/{consent_id}", status_code=204, dependencies=[Citizen], responses=responses(404))
def revoke_consent(person_id: str, consent_id: str, user: CurrentUser, s: SessionDep) -> None:
    """Revokes the consent: from now on its token verifies nothing. The record of it stays."""
    person = persons.guarded(s, user, person_id)
    consents.revoke(s, user, consents.of_person(s, person, consent_id))


@router.get(
    CHILD + "/consents/{consent_id}/qr.svg",
    dependencies=[Citizen],
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **responses(404, 409)},
)
def consent_qr(person_id: str, consent_id: str, user: CurrentUser, rt: RuntimeDep, s: SessionDep) -> Response:
    """The token as a QR code (SVG) for the school to scan."""
    person = persons.guarded(s, user, person_id)
    token = consents.usable_token(rt, consents.of_person(s, person, consent_id))
    return Response(qr.svg(token), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get(CHILD + "/verifications", dependencies=[Citizen], responses=responses(404))
def verifications(
    person_id: str,
    user: CurrentUser,
    rt: RuntimeDep,
    s: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Who verified the child, when, and the outcome, newest first."""
    return family.history(rt, s, persons.guarded(s, user, person_id), limit)
