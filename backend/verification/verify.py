"""The school's question, answered: is the child behind this token complete for school entry today?

An answer is only: status ("complete", "not_complete" or "not_verifiable"), the missing doses (series
and dose number), the schedule edition and the evaluation date, with a signed attestation of the same.
Never a dose's date, lot, clinic or the child's name. A token that leads to no consent valid for this
school now (unknown, revoked, expired, another school's) gets one fixed answer, so the school learns
nothing, not even whether the child exists. Every question is recorded (the guardian reads who asked,
when, and the outcome); the reason a token was refused stays in that record.

Cost: a child's verdict is cached per (person, day, recall policy, fingerprint of their dose records:
records.fingerprint), and the signed answer per (grant, school, day, policy, fingerprint, signing key),
so asking again about an unchanged child costs one statement (the consent with the fingerprint) and one
insert. A dose recorded or a lot recalled changes the fingerprint, a rotation the key: either makes a
fresh evaluation and signature. A roster is evaluated child by child but signed once, over all its
results (messages.roster)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from backend.db.models.offchain import Person
from backend.db.models.verification import Attestation, AttestationLot, ConsentGrant, Verification
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.services import persons
from backend.verification import messages, records
from backend.verification.consents import token_hash
from backend.verification.records import DoseRow, Fingerprint, Verdict
from backend.verification.schools import Caller
from backend.verification.service import Answer, Service, service

ROSTER_MAX = 2_000
NOT_VERIFIABLE_RESULT: dict[str, Any] = {
    "status": "not_verifiable",
    "missing": [],
    "edition": None,
    "evaluated_on": None,
}
NOT_VERIFIABLE = NOT_VERIFIABLE_RESULT | {"attestation": None}
_NOT_VERIFIABLE_BODY = json.dumps(NOT_VERIFIABLE, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: str
    person_id: str
    school_id: str | None
    clinic_id: int | None
    valid_until: int | None
    revoked_at: int | None
    subject: str
    pseudonym: str


_G = ConsentGrant.__table__
_P = Person.__table__
# Core statements built once (see records.py): the hot path runs them on a plain connection.
_GRANTS = select(
    _G.c.token_hash,
    _G.c.id,
    _G.c.person_id,
    _G.c.school_id,
    _G.c.clinic_id,
    _G.c.valid_until,
    _G.c.revoked_at,
    _G.c.subject,
    _P.c.pseudonym,
).select_from(_G.join(_P, _P.c.id == _G.c.person_id))
_GRANT_OF = _GRANTS.where(_G.c.token_hash == bindparam("token_hash"))
# One statement for the hot path: the consent and its child's fingerprint.
_GRANT_AND_FINGERPRINT = _GRANT_OF.add_columns(*records.fingerprint_columns(_P.c.pseudonym))
_GRANTS_OF = _GRANTS.where(_G.c.token_hash.in_(bindparam("hashes", expanding=True)))
_SEALED = select(_P.c.id, _P.c.birth_date_enc, _P.c.sex_enc)
_SEALED_OF = _SEALED.where(_P.c.id == bindparam("id"))
_SEALED_OF_MANY = _SEALED.where(_P.c.id.in_(bindparam("ids", expanding=True)))
_INSERT_ATTESTATION = Attestation.__table__.insert()
_INSERT_LOTS = AttestationLot.__table__.insert()
_INSERT_VERIFICATIONS = Verification.__table__.insert()


def grant_of(db: Connection | Session, token: str) -> GrantRow | None:
    row = db.execute(_GRANT_OF, {"token_hash": token_hash(token)}).first()
    return None if row is None else GrantRow(*row[1:])


def _grants_of(db: Connection, hashes: Iterable[str]) -> dict[str, GrantRow]:
    ordered = list(set(hashes))
    found: dict[str, GrantRow] = {}
    for i in range(0, len(ordered), records.CHUNK):
        for row in db.execute(_GRANTS_OF, {"hashes": ordered[i : i + records.CHUNK]}):
            found[row[0]] = GrantRow(*row[1:])
    return found


def _birth_and_sex(rt: Runtime, row: Any) -> tuple[date, str]:
    # A transient Person carrying only the sealed columns: persons.py alone knows how they open.
    return persons.birth_and_sex(rt, Person(id=row[0], birth_date_enc=row[1], sex_enc=row[2]))


def refusal(grant: GrantRow | None, caller: Caller, now: int) -> str | None:
    """Why this token gives this school nothing now (kept for the audit, never told to the school)."""
    if grant is None:
        return "unknown_token"
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until is not None and grant.valid_until < now:
        return "expired"
    if grant.school_id is not None and grant.school_id != caller.school_id:
        return "other_school"
    return None


def outcome(verdict: Verdict) -> str:
    return "complete" if verdict.complete else "not_complete"


def result(verdict: Verdict) -> dict[str, Any]:
    """The answer's fields about the child: nothing beyond what school entry needs."""
    return {
        "status": outcome(verdict),
        "missing": [{"series": series, "dose": dose} for series, dose in verdict.missing],
        "edition": verdict.edition,
        "evaluated_on": verdict.on.isoformat(),
    }


def verdict_of(rt: Runtime, db: Connection | Session, grant: GrantRow, on: date, fingerprint: Fingerprint) -> Verdict:
    """The child's verdict today, cached while their dose records are unchanged (`fingerprint`)."""
    svc = service(rt)
    policy = svc.settings.recalled_lot_doses
    key = (grant.person_id, on, policy, fingerprint)
    verdict = svc.verdicts.get(key)
    if verdict is None:
        birth, sex = _birth_and_sex(rt, db.execute(_SEALED_OF, {"id": grant.person_id}).one())
        verdict = records.judge(birth, sex, records.doses_of(db, grant.pseudonym), on, policy).verdict
        svc.verdicts.put(key, verdict)
    return verdict


def verify_one(rt: Runtime, caller: Caller, token: str) -> bytes:
    """The JSON answer for one token."""
    svc = service(rt)
    now, on = int(time.time()), records.today()
    signed = None
    with rt.db.engine.begin() as db:
        row = db.execute(_GRANT_AND_FINGERPRINT, {"token_hash": token_hash(token)}).first()
        grant = None if row is None else GrantRow(*row[1:9])
        why = refusal(grant, caller, now)
        if row is None or grant is None or why is not None:
            _record(db, [_audit(caller, grant, "not_verifiable", now, detail=why)])
            return _NOT_VERIFIABLE_BODY
        fingerprint: Fingerprint = (row[9], row[10], row[11])
        verdict = verdict_of(rt, db, grant, on, fingerprint)
        key_id, account = svc.keys.current()
        key = (grant.id, caller.school_id, on, svc.settings.recalled_lot_doses, fingerprint, key_id)
        answer = svc.answers.get(key)
        if answer is None:
            answer = signed = _sign_one(db, svc, caller, grant, verdict, key_id, account, now)
        _record(db, [_audit(caller, grant, answer.outcome, now, attestation_id=answer.attestation_id)])
    if signed is not None:
        # Kept only once committed: a reused answer must name an attestation a recall can find and revoke.
        svc.answers.put(key, signed)
    return answer.body


def _issue(svc: Service, verdict: Verdict, key_id: str, now: int) -> messages.Issue:
    ttl = svc.settings.attestation_ttl_days * 86_400
    on = verdict.on.isoformat()
    return messages.Issue(secrets.token_hex(16), verdict.edition, on, now, now + ttl, key_id, svc.chain_id)


def _sign_one(
    db: Connection,
    svc: Service,
    caller: Caller,
    grant: GrantRow,
    verdict: Verdict,
    key_id: str,
    account: LocalAccount,
    now: int,
) -> Answer:
    issue = _issue(svc, verdict, key_id, now)
    typed = messages.attestation(issue, messages.Result(grant.subject, verdict.complete, verdict.missing))
    signature = _sign(account, typed)
    _store(db, issue, "single", caller, grant.id, typed, signature, verdict.counted_lots)
    body = result(verdict) | {"attestation": attestation_out(issue.attestation_id, "single", typed, signature)}
    return Answer(json.dumps(body, separators=(",", ":")).encode(), outcome(verdict), issue.attestation_id)


def verify_roster(rt: Runtime, caller: Caller, tokens: Sequence[str]) -> dict[str, Any]:
    """Each token's result in request order, and one attestation signed over the verifiable ones."""
    svc = service(rt)
    now, on = int(time.time()), records.today()
    with rt.db.engine.begin() as db:
        hashes = [token_hash(t) for t in tokens]
        grants = _grants_of(db, hashes)
        placed = [grants.get(h) for h in hashes]
        refusals = [refusal(g, caller, now) for g in placed]
        usable = {i: g for i, (g, why) in enumerate(zip(placed, refusals, strict=True)) if g and why is None}
        doses = records.doses_of_many(db, {g.pseudonym for g in usable.values()})
        verdicts = _verdicts(rt, db, svc, {g.person_id: doses[g.pseudonym] for g in usable.values()}, on)
        of = {i: verdicts[g.person_id] for i, g in usable.items()}
        attestation = _sign_roster(db, svc, caller, usable, of, now) if usable else None
        attestation_id = attestation["id"] if attestation else None
        _record(
            db,
            [
                _audit(
                    caller,
                    g,
                    outcome(of[i]) if i in of else "not_verifiable",
                    now,
                    detail=refusals[i],
                    attestation_id=attestation_id if i in of else None,
                    roster=True,
                )
                for i, g in enumerate(placed)
            ],
        )
    results = [result(of[i]) if i in of else NOT_VERIFIABLE_RESULT for i in range(len(tokens))]
    return {"count": len(tokens), "results": results, "attestation": attestation}


def _sign_roster(
    db: Connection, svc: Service, caller: Caller, usable: dict[int, GrantRow], of: dict[int, Verdict], now: int
) -> dict[str, Any]:
    key_id, account = svc.keys.current()
    issue = _issue(svc, next(iter(of.values())), key_id, now)
    entries = [(i, messages.Result(g.subject, of[i].complete, of[i].missing)) for i, g in usable.items()]
    typed = messages.roster(issue, entries)
    signature = _sign(account, typed)
    lots = frozenset[int]().union(*(j.counted_lots for j in of.values()))
    _store(db, issue, "roster", caller, None, typed, signature, lots)
    return attestation_out(issue.attestation_id, "roster", typed, signature)


def _verdicts(
    rt: Runtime, db: Connection, svc: Service, doses_by_person: dict[str, tuple[DoseRow, ...]], on: date
) -> dict[str, Verdict]:
    policy = svc.settings.recalled_lot_doses
    out: dict[str, Verdict] = {}
    missed: list[str] = []
    for person_id, doses in doses_by_person.items():
        found = svc.verdicts.get((person_id, on, policy, records.fingerprint_of(doses)))
        if found is None:
            missed.append(person_id)
        else:
            out[person_id] = found
    for i in range(0, len(missed), records.CHUNK):
        for row in db.execute(_SEALED_OF_MANY, {"ids": missed[i : i + records.CHUNK]}):
            birth, sex = _birth_and_sex(rt, row)
            doses = doses_by_person[row[0]]
            verdict = records.judge(birth, sex, doses, on, policy).verdict
            svc.verdicts.put((row[0], on, policy, records.fingerprint_of(doses)), verdict)
            out[row[0]] = verdict
    return out


def _sign(account: LocalAccount, typed: dict[str, Any]) -> str:
    return account.sign_message(encode_typed_data(full_message=typed)).signature.to_0x_hex()


def _store(
    db: Connection,
    issue: messages.Issue,
    kind: str,
    caller: Caller,
    grant_id: str | None,
    typed: dict[str, Any],
    signature: str,
    lots: Iterable[int],
) -> None:
    db.execute(
        _INSERT_ATTESTATION,
        {
            "id": issue.attestation_id,
            "kind": kind,
            "school_id": caller.school_id,
            "grant_id": grant_id,
            "key_id": issue.key_id,
            "edition": issue.edition,
            "evaluated_on": issue.evaluated_on,
            "issued_at": issue.issued_at,
            "expires_at": issue.expires_at,
            "typed_data": json.dumps(typed, separators=(",", ":")),
            "signature": signature,
            "revoked_at": None,
            "revoke_reason": None,
        },
    )
    rows = [{"attestation_id": issue.attestation_id, "lot_id": lot} for lot in sorted(lots)]
    if rows:
        db.execute(_INSERT_LOTS, rows)


def stored(s: Session, caller: Caller, attestation_id: str) -> dict[str, Any]:
    """An attestation this school obtained, with whether it has been revoked since."""
    row = s.get(Attestation, attestation_id)
    if row is None or row.school_id != caller.school_id:
        raise ApiError(
            404, "unknown_attestation", f"no attestation {attestation_id} for your school", "贵校没有该查验证明"
        )
    out = attestation_out(row.id, row.kind, json.loads(row.typed_data), row.signature)
    return out | {"revoked_at": row.revoked_at, "revoke_reason": row.revoke_reason}


def attestation_out(attestation_id: str, kind: str, typed: dict[str, Any], signature: str) -> dict[str, Any]:
    """An attestation as answers carry it; a single child's also as QR text and a QR code's address."""
    single = kind == "single"
    return {
        "id": attestation_id,
        "kind": kind,
        "key_id": typed["message"]["keyId"],
        "typed_data": typed,
        "signature": signature,
        "compact": messages.compact(typed, signature) if single else None,
        "qr_svg": f"/v1/verify/attestations/{attestation_id}/qr.svg" if single else None,
    }


def _audit(
    caller: Caller,
    grant: GrantRow | None,
    outcome_: str,
    now: int,
    *,
    detail: str | None = None,
    attestation_id: str | None = None,
    roster: bool = False,
) -> dict[str, Any]:
    return {
        "at": now,
        "school_id": caller.school_id,
        "api_key_id": caller.api_key_id,
        "grant_id": grant.id if grant else None,
        "person_id": grant.person_id if grant else None,
        "outcome": outcome_,
        "detail": detail,
        "attestation_id": attestation_id,
        "roster": roster,
    }


def _record(db: Connection, rows: list[dict[str, Any]]) -> None:
    db.execute(_INSERT_VERIFICATIONS, rows)
