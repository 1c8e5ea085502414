"""What a guardian sees about a child: the evaluation today (each series' status, what is due next and
when, the catch-up), a reminder list, and who verified the child, when, with what outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models.offchain import Person
from backend.db.models.verification import Verification
from backend.runtime import Runtime
from backend.schedule import PlannedDose, SeriesStatus, reminders
from backend.services import persons
from backend.verification import records, schools
from backend.verification.records import Judged
from backend.verification.service import service


def judged_today(rt: Runtime, s: Session, person: Person) -> Judged:
    birth, sex = persons.birth_and_sex(rt, person)
    doses = records.doses_of(s, person.pseudonym)
    return records.judge(birth, sex, doses, records.today(), service(rt).settings.recalled_lot_doses)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _planned(p: PlannedDose, on: date) -> dict[str, Any]:
    return {
        "series": p.series,
        "dose": p.dose,
        "vaccines": list(p.vaccines),
        "earliest": p.earliest.isoformat(),
        "due_before": p.due_before.isoformat(),
        "overdue": p.due_before <= on,
        "requires_tb_test": p.requires_tb_test,
    }


def _series(st: SeriesStatus, on: date) -> dict[str, Any]:
    return {
        "series": st.series,
        "name": st.name,
        "status": st.status,
        "alternative": st.alternative,
        "reason": st.reason,
        "counted": [{"dose": c.dose, "vaccine": c.vaccine, "given_on": c.given_on.isoformat()} for c in st.counted],
        "not_counted": [
            {"vaccine": d.vaccine, "given_on": d.given_on.isoformat(), "reason": d.reason} for d in st.not_counted
        ],
        "next_dose": st.next_dose,
        "next_due": _day(st.next_due),
        "due_before": _day(st.due_before),
        "missing_doses": list(st.missing_doses),
        "planned": [_planned(p, on) for p in st.planned],
    }


def schedule(rt: Runtime, s: Session, person: Person) -> dict[str, Any]:
    judged = judged_today(rt, s, person)
    ev = judged.evaluation
    return {
        "person_id": person.id,
        "on": ev.on.isoformat(),
        "edition": ev.edition,
        "complete": ev.complete,
        "series": [_series(st, ev.on) for st in ev.series],
        "catch_up": [_planned(p, ev.on) for p in ev.catch_up],
        "not_in_edition": [{"vaccine": d.vaccine, "given_on": d.given_on.isoformat()} for d in ev.unmatched],
        "set_aside": [
            {
                "vaccine": d.vaccine,
                "given_on": records.day_of(d.at).isoformat(),
                "lot_id": d.lot_id,
                "reason": "recalled_lot",
            }
            for d in judged.set_aside
        ],
        "recalled_lot_doses": service(rt).settings.recalled_lot_doses,
    }


def reminder_list(rt: Runtime, s: Session, person: Person, horizon_days: int) -> dict[str, Any]:
    ev = judged_today(rt, s, person).evaluation
    return {
        "person_id": person.id,
        "on": ev.on.isoformat(),
        "edition": ev.edition,
        "horizon_days": horizon_days,
        "reminders": [_planned(p, ev.on) for p in reminders(ev, horizon_days)],
    }


def history(rt: Runtime, s: Session, person: Person, limit: int) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(Verification)
        .where(Verification.person_id == person.id)
        .order_by(Verification.at.desc(), Verification.id.desc())
        .limit(limit)
    ).all()
    names = schools.names(rt, s, (v.school_id for v in rows))
    return [
        {
            "at": v.at,
            "school": {"id": v.school_id, "name": names.get(v.school_id, "")},
            "outcome": v.outcome,
            "refused_because": v.detail,
            "consent_id": v.grant_id,
            "via": "api_key" if v.api_key_id else "school_user",
            "roster": v.roster,
        }
        for v in rows
    ]
