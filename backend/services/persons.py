"""Persons and their personal data: sealed field by field in the database, never on chain.

A person's only name on chain is a random 32-byte pseudonym made here (never a hash of anything about
them: a hash of an ID or phone number can be brute-forced). Deleting a person deletes the row holding the
pseudonym, and with it the only link between the chain's records and that person."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.envelope import blind_index
from backend.db.models.offchain import Guardianship, Notification, Person, User
from backend.domain.identity import (
    InvalidIdentity,
    check_birth_date,
    check_sex,
    normalize_id_number,
    normalize_name,
    normalize_phone,
)
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services import accounts

SEALED = ("name", "birth_date", "sex", "id_number", "phone")


@dataclass(frozen=True)
class PersonView:
    id: str
    name: str
    birth_date: date
    sex: str
    id_number_masked: str | None
    phone_masked: str | None
    relation: str | None = None


def invalid(exc: InvalidIdentity) -> ApiError:
    return ApiError(422, exc.reason, exc.message_en, exc.message_zh, detail={"field": exc.field})


def _seal(rt: Runtime, person_id: str, column: str, value: str | None) -> bytes | None:
    return None if value is None else rt.keyring.seal_text(value, f"persons.{column}_enc:{person_id}")


def _open(rt: Runtime, person: Person, column: str) -> str | None:
    blob = getattr(person, f"{column}_enc")
    return None if blob is None else rt.keyring.open_text(blob, f"persons.{column}_enc:{person.id}")


def new_person(
    rt: Runtime,
    s: Session,
    *,
    name: str,
    birth_date: date,
    sex: str,
    id_number: str | None = None,
    phone: str | None = None,
) -> Person:
    try:
        name = normalize_name(name)
        sex = check_sex(sex)
        birth_date = check_birth_date(birth_date, date.today())
        id_number = normalize_id_number(id_number, birth_date, sex) if id_number else None
        phone = normalize_phone(phone) if phone else None
    except InvalidIdentity as exc:
        raise invalid(exc) from exc
    index = blind_index(rt.index_key, "id_number", id_number) if id_number else None
    if index is not None and s.scalars(select(Person.id).where(Person.id_number_index == index)).first():
        raise ApiError(409, "person_exists", "a person with this ID number is registered already", "该身份证号已登记")
    person_id = str(uuid.uuid4())
    person = Person(
        id=person_id,
        pseudonym="0x" + os.urandom(32).hex(),
        name_enc=_seal(rt, person_id, "name", name),
        birth_date_enc=_seal(rt, person_id, "birth_date", birth_date.isoformat()),
        sex_enc=_seal(rt, person_id, "sex", sex),
        id_number_enc=_seal(rt, person_id, "id_number", id_number),
        id_number_index=index,
        phone_enc=_seal(rt, person_id, "phone", phone),
        created_at=int(time.time()),
    )
    s.add(person)
    return person


def register_citizen(
    rt: Runtime,
    s: Session,
    *,
    phone: str,
    password: str,
    name: str,
    birth_date: date,
    sex: str,
    id_number: str | None,
) -> User:
    """A citizen account with its own person and a custodial wallet."""
    try:
        phone = normalize_phone(phone)
    except InvalidIdentity as exc:
        raise invalid(exc) from exc
    user = accounts.new_user(rt, s, role=accounts.CITIZEN, login=phone, password=password)
    person = new_person(rt, s, name=name, birth_date=birth_date, sex=sex, id_number=id_number, phone=phone)
    s.flush()
    user.person_id = person.id
    s.add(Guardianship(user_id=user.id, person_id=person.id, relation="self"))
    rt.wallets.create(s, "citizen", user.id)
    return user


def add_dependent(
    rt: Runtime, s: Session, user: User, *, name: str, birth_date: date, sex: str, id_number: str | None
) -> Person:
    person = new_person(rt, s, name=name, birth_date=birth_date, sex=sex, id_number=id_number)
    s.flush()
    s.add(Guardianship(user_id=user.id, person_id=person.id, relation="child"))
    return person


def family(s: Session, user: User) -> list[tuple[Person, str]]:
    rows = s.execute(
        select(Person, Guardianship.relation)
        .join(Guardianship, Guardianship.person_id == Person.id)
        .where(Guardianship.user_id == user.id)
        .order_by(Guardianship.relation.desc(), Person.created_at)
    ).all()
    return [(p, r) for p, r in rows]


def guarded(s: Session, user: User, person_id: str) -> Person:
    """The person, if `user` looks after them; otherwise 404 (whether the person exists is not said)."""
    row = s.execute(
        select(Person)
        .join(Guardianship, Guardianship.person_id == Person.id)
        .where(Guardianship.user_id == user.id, Person.id == person_id)
    ).scalar_one_or_none()
    if row is None:
        raise ApiError(404, "unknown_person", f"no person {person_id} in your family", "您的家庭成员中没有此人")
    return row


def view(rt: Runtime, person: Person, relation: str | None = None) -> PersonView:
    id_number = _open(rt, person, "id_number")
    phone = _open(rt, person, "phone")
    return PersonView(
        id=person.id,
        name=_open(rt, person, "name") or "",
        birth_date=date.fromisoformat(_open(rt, person, "birth_date") or "1900-01-01"),
        sex=_open(rt, person, "sex") or "",
        id_number_masked=f"{id_number[:6]}********{id_number[-4:]}" if id_number else None,
        phone_masked=f"{phone[:3]}****{phone[-4:]}" if phone else None,
        relation=relation,
    )


def phone(rt: Runtime, person: Person) -> str | None:
    """The full number, for those who must call (after a recall); everywhere else it is masked."""
    return _open(rt, person, "phone")


def birth_and_sex(rt: Runtime, person: Person) -> tuple[date, str]:
    return date.fromisoformat(_open(rt, person, "birth_date") or ""), _open(rt, person, "sex") or ""


def by_id_number(rt: Runtime, s: Session, id_number: str) -> Person | None:
    try:
        value = normalize_id_number(id_number)
    except InvalidIdentity as exc:
        raise invalid(exc) from exc
    return s.scalars(
        select(Person).where(Person.id_number_index == blind_index(rt.index_key, "id_number", value))
    ).first()


def delete_person(s: Session, user: User, person_id: str) -> None:
    """Deletes a dependent (or the account's own person, which closes the account's records): the row with
    the pseudonym goes, so nothing links the chain's records to them any more."""
    person = guarded(s, user, person_id)
    s.query(Notification).filter(Notification.person_id == person.id).delete()
    if user.person_id == person.id:
        user.person_id = None
    s.delete(person)
