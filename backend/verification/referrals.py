"""The catch-up loop (Vaccine Administration Law art. 48): a school sends a child's not-complete result to
the clinic that does the catch-up, without learning which clinic that is; the clinic sees its referrals
with what is still missing; once the doses are recorded, the school's next check turns complete and the
referral closes.

The clinic is the one the guardian named in the consent, else the clinic of the child's latest dose.
The school's word is not taken for what is missing: the child is evaluated afresh when referred."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models.offchain import Guardianship, Notification, Person, User
from backend.db.models.verification import Referral
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services import audit, persons
from backend.services.writes import Actor
from backend.verification import records
from backend.verification.schools import Caller
from backend.verification.service import service
from backend.verification.verify import grant_of, refusal, verdict_of

LIST_LIMIT = 500


def refer(rt: Runtime, s: Session, caller: Caller, token: str) -> dict[str, Any]:
    now, on = int(time.time()), records.today()
    grant = grant_of(s, token)
    if grant is None or refusal(grant, caller, now) is not None:
        # The same refusal for every reason, as verification gives.
        raise ApiError(404, "not_verifiable", "this token gives your school no result", "该凭证无法用于贵校查验")
    verdict = verdict_of(rt, s, grant, on, records.fingerprint(s, grant.pseudonym))
    missing = [{"series": series, "dose": dose} for series, dose in verdict.missing]
    if not missing:
        raise ApiError(
            409, "nothing_missing", "the child is complete: there is nothing to catch up", "该儿童接种已完成，无需补种"
        )
    latest = max(records.doses_of(s, grant.pseudonym), key=lambda d: d.at, default=None)
    clinic = grant.clinic_id or (latest.facility_id if latest else None)
    if clinic is None:
        raise ApiError(
            409,
            "no_clinic_known",
            "no clinic is known for this child: the guardian may name one in the consent",
            "尚无该儿童的接种门诊信息，请家长在授权中指定门诊",
        )
    referral = s.scalars(
        select(Referral).where(
            Referral.person_id == grant.person_id, Referral.school_id == caller.school_id, Referral.status == "open"
        )
    ).first()
    if referral is None:
        referral = Referral(
            id=str(uuid.uuid4()), person_id=grant.person_id, school_id=caller.school_id, status="open", created_at=now
        )
        s.add(referral)
    referral.grant_id, referral.facility_id = grant.id, clinic
    referral.missing = json.dumps(missing, separators=(",", ":"))
    referral.edition, referral.evaluated_on = verdict.edition, on.isoformat()
    s.flush()
    _notify_guardians(s, grant.person_id, referral.id, now)
    return {"referral_id": referral.id, "status": "open", "missing": missing}


def _notify_guardians(s: Session, person_id: str, referral_id: str, now: int) -> None:
    guardians = s.scalars(select(Guardianship.user_id).where(Guardianship.person_id == person_id)).all()
    for user_id in guardians:
        exists = s.scalars(
            select(Notification.id).where(
                Notification.user_id == user_id,
                Notification.kind == "referral",
                Notification.ref == referral_id,
                Notification.person_id == person_id,
            )
        ).first()
        if exists is None:
            s.add(
                Notification(
                    user_id=user_id,
                    person_id=person_id,
                    kind="referral",
                    ref=referral_id,
                    message_zh="学校入学查验发现您的孩子有疫苗漏种，已转介至接种门诊补种，请预约接种。",
                    message_en="The school-entry check found doses your child is missing; the clinic has been asked "
                    "to catch them up. Please book an appointment.",
                    created_at=now,
                )
            )


def for_clinic(rt: Runtime, s: Session, user: User) -> list[dict[str, Any]]:
    """The clinic's referrals, newest first. An open one whose doses have all been given since closes now."""
    now, on = int(time.time()), records.today()
    policy = service(rt).settings.recalled_lot_doses
    rows = s.scalars(
        select(Referral)
        .where(Referral.facility_id == user.facility_id)
        .order_by(Referral.created_at.desc())
        .limit(LIST_LIMIT)
    ).all()
    people = {p.id: p for p in s.scalars(select(Person).where(Person.id.in_({r.person_id for r in rows})))}
    out = []
    for r in rows:
        person = people[r.person_id]
        view = persons.view(rt, person)
        referred = [(m["series"], m["dose"]) for m in json.loads(r.missing)]
        catch_up: list[dict[str, Any]] = []
        still: list[tuple[str, int]] = []
        if r.status == "open":
            judged = records.judge(view.birth_date, view.sex, records.doses_of(s, person.pseudonym), on, policy)
            still = [m for m in referred if m in set(judged.missing)]
            catch_up = [
                {"series": p.series, "dose": p.dose, "vaccines": list(p.vaccines), "earliest": p.earliest.isoformat()}
                for p in judged.evaluation.catch_up
            ]
            if not still:
                r.status, r.closed_at = "done", now
        out.append(
            {
                "id": r.id,
                "created_at": r.created_at,
                "status": r.status,
                "closed_at": r.closed_at,
                "person": {
                    "id": person.id,
                    "name": view.name,
                    "birth_date": view.birth_date.isoformat(),
                    "sex": view.sex,
                },
                "missing": [{"series": series, "dose": dose} for series, dose in referred],
                "still_missing": [{"series": series, "dose": dose} for series, dose in still],
                "catch_up": catch_up if still else [],
                "guardian_phones": _guardian_phones(rt, s, person),
            }
        )
    audit.record(s, Actor.of(user), "read_referrals", f"facility {user.facility_id}", f"{len(out)} referrals", at=now)
    return out


def _guardian_phones(rt: Runtime, s: Session, person: Person) -> list[str]:
    """How the clinic reaches the family: the phones of the accounts that look after the child."""
    guardians = s.scalars(
        select(Person)
        .join(User, User.person_id == Person.id)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.person_id == person.id, Guardianship.relation == "child")
    )
    return [p for g in guardians if (p := persons.phone(rt, g))]
