"""After a recall: everyone who received a dose of the lot, and how to reach them. A child is reached
through their guardian's phone. Reading this list is personal data processing: every read is recorded in
the audit log with who read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.models import chainview as cv
from backend.db.models.offchain import Guardianship, Person, User
from backend.runtime import Runtime
from backend.services import audit, persons, queries
from backend.services.writes import Actor


def recipients(rt: Runtime, s: Session, actor: Actor, lot_id: int) -> dict[str, Any]:
    _, _, facts = queries.lot_facts(s, lot_id)
    doses = s.scalars(select(cv.Dose).where(cv.Dose.lot_id == lot_id).order_by(cv.Dose.at)).all()
    by_pseudonym = {
        p.pseudonym: p for p in s.scalars(select(Person).where(Person.pseudonym.in_({d.person for d in doses})))
    }
    clinics = {f.id: f.name for f in s.scalars(select(cv.Facility).where(cv.Facility.kind == "clinic"))}
    out = []
    for d in doses:
        person = by_pseudonym.get(d.person)
        entry: dict[str, Any] = {
            "given_at": d.at,
            "clinic_id": d.facility_id,
            "clinic": clinics.get(d.facility_id),
            "unit_hash": d.unit_hash,
            "dose_number": d.dose_number,
            "person_id": None,
        }
        if person is not None:
            view = persons.view(rt, person)
            entry |= {
                "person_id": person.id,
                "name": view.name,
                "birth_date": view.birth_date.isoformat(),
                "phone": persons.phone(rt, person),
                "guardian_phones": _guardian_phones(rt, s, person),
            }
        out.append(entry)
    audit.record(s, actor, "read_recall_recipients", f"lot {lot_id}", f"{len(out)} doses")
    linked = sum(1 for e in out if e["person_id"])
    return {"lot": facts, "doses": len(out), "reachable": linked, "unlinked": len(out) - linked, "recipients": out}


def _guardian_phones(rt: Runtime, s: Session, person: Person) -> list[str]:
    guardians = s.execute(
        select(Person)
        .join(User, User.person_id == Person.id)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.person_id == person.id, Guardianship.relation == "child")
    ).scalars()
    return [p for g in guardians if (p := persons.phone(rt, g))]
