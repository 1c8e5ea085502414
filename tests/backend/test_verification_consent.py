"""Consent and privacy: a guardian's consent is signed with their wallet and names no child; a school
without a consent valid for it now learns nothing (unknown, another school's, revoked and expired tokens
are answered byte for byte alike); an answer holds only what school entry needs."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from backend.core.envelope import Keyring
from backend.db.models import chainview as cv
from backend.db.models.offchain import Person
from backend.db.models.verification import ConsentGrant, Verification, VerifierKey
from backend.keys import rotate
from backend.runtime import Runtime
from backend.verification.records import today
from tests.backend.stack import Stack
from tests.backend.verifying import ANSWER_KEYS, born, child, consent, give_hepb, new_school, signer_of, verify


def test_a_consent_is_signed_by_the_guardians_wallet_and_names_no_child(stack: Stack) -> None:
    _, school_id, _ = new_school(stack, "第一实验小学")
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    granted = consent(parent, kid, school_id)

    wallet = parent.ok("get", "/v1/me")["wallet"]
    assert granted["signer"] == wallet
    assert signer_of(granted["typed_data"], granted["signature"]) == wallet
    message = granted["typed_data"]["message"]
    assert message["school"] == school_id and message["schoolName"] == "第一实验小学"
    assert message["validUntil"] == 0 and message["guardian"] == wallet
    with stack.rt.db.sessions() as s:
        pseudonym = s.get(Person, kid).pseudonym
    text = json.dumps(granted["typed_data"], ensure_ascii=False)
    assert kid not in text and pseudonym[2:] not in text and granted["token"] not in text
    assert granted["token"].startswith("VX1-") and granted["status"] == "active"


def test_the_guardian_lists_shows_and_revokes_consents(stack: Stack) -> None:
    _, school_id, _ = new_school(stack)
    parent, _ = stack.citizen()
    stranger, _ = stack.citizen()
    kid = child(parent, 10)
    granted = consent(parent, kid, school_id)
    base = f"/v1/me/family/{kid}/consents"

    (listed,) = parent.ok("get", base)
    assert listed["id"] == granted["id"] and "token" not in listed and listed["school"]["id"] == school_id
    assert parent.ok("get", f"{base}/{granted['id']}")["token"] == granted["token"]
    qr = parent.get(f"{base}/{granted['id']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg") and b"http" not in qr.content.replace(b"http://www.w3.org/2000/svg", b"")

    for path in (base, f"{base}/{granted['id']}", f"{base}/{granted['id']}/qr.svg"):
        assert stranger.get(path).status_code == 404
    assert stranger.delete(f"{base}/{granted['id']}").status_code == 404

    parent.ok("delete", f"{base}/{granted['id']}", status=204)
    assert parent.ok("get", base)[0]["status"] == "revoked"
    refused = parent.get(f"{base}/{granted['id']}/qr.svg")
    assert refused.status_code == 409 and refused.json()["error"]["reason"] == "consent_revoked"


def test_consent_refusals_name_the_problem(stack: Stack) -> None:
    parent, fam = stack.citizen()
    kid = child(parent, 10)
    citizen_id = parent.ok("get", "/v1/me")["user_id"]
    too_late = (today() + timedelta(days=60)).isoformat()
    cases = [
        ({"school_id": None}, 422, "valid_until_required"),
        ({"school_id": None, "valid_until": too_late}, 422, "consent_too_long"),
        ({"school_id": None, "valid_until": "2020-01-01"}, 422, "valid_until_past"),
        ({"school_id": citizen_id}, 422, "unknown_school"),
        ({"school_id": None, "valid_until": today().isoformat(), "clinic_id": stack.cdc}, 422, "unknown_clinic"),
        ({"school_id": "not-a-uuid"}, 422, "invalid_request"),
    ]
    for body, status, reason in cases:
        r = parent.post(f"/v1/me/family/{kid}/consents", body)
        assert r.status_code == status, (body, r.text)
        error = r.json()["error"]
        assert error["reason"] == reason and error["message"] and error["message_zh"], (body, error)
    assert parent.post(f"/v1/me/family/{fam['self']}x/consents", {"school_id": None}).status_code == 404


def test_tokens_are_kept_only_hashed_and_sealed(stack: Stack) -> None:
    _, school_id, _ = new_school(stack)
    parent, _ = stack.citizen()
    granted = consent(parent, child(parent, 10), school_id)
    db = stack.workdir / "backend.db"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    wal = db.with_name(db.name + "-wal")
    raw = db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert granted["token"] not in dump and granted["token"].encode() not in raw


def test_master_key_rotation_rewraps_consent_tokens_and_verifier_keys(stack: Stack, tmp_path: Path) -> None:
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    granted = consent(parent, child(parent, 10), school_id)
    verify(school, granted["token"])  # a verifier key exists
    copy = tmp_path / "copy.db"
    with sqlite3.connect(stack.workdir / "backend.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    settings = stack.rt.settings
    assert settings.master_keys is not None
    new = Keyring.generate_text("rotated")
    update = {
        "database_url": f"sqlite:///{copy}",
        "master_keys": SecretStr(f"{new},{settings.master_keys.get_secret_value()}"),
    }
    rt = Runtime(settings.model_copy(update=update | {"indexer": False}))
    try:
        counts = rotate(rt)
        assert counts["consent_grants"] >= 1 and counts["verifier_keys"] >= 1
        only_new = Keyring.parse(new)
        with rt.db.sessions() as s:
            row = s.get(ConsentGrant, granted["id"])
            assert only_new.open_text(row.token_enc, f"consent_grants.token_enc:{row.id}") == granted["token"]
            for key in s.scalars(select(VerifierKey)):
                assert len(only_new.open(key.key_enc, f"verifier_keys.key_enc:{key.id}")) == 32
    finally:
        rt.db.dispose()


def test_a_school_without_a_valid_consent_learns_nothing(stack: Stack) -> None:
    _, school_a, as_a = new_school(stack, "甲校")
    _, _, as_b = new_school(stack, "乙校")
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    for_a = consent(parent, kid, school_a)["token"]
    revoked = consent(parent, kid, school_a)
    parent.ok("delete", f"/v1/me/family/{kid}/consents/{revoked['id']}", status=204)
    expired = consent(parent, kid, None, valid_until=today().isoformat())
    with stack.rt.db.session() as s:
        s.get(ConsentGrant, expired["id"]).valid_until = int(time.time()) - 1

    unknown = verify(as_a, "VX1-" + "A" * 52)
    assert unknown.status_code == 200
    assert unknown.json() == {
        "status": "not_verifiable",
        "missing": [],
        "edition": None,
        "evaluated_on": None,
        "attestation": None,
    }
    for school, token in ((as_b, for_a), (as_a, revoked["token"]), (as_a, expired["token"]), (as_b, "garbage")):
        r = verify(school, token)
        assert (r.status_code, r.content) == (unknown.status_code, unknown.content), token
    assert verify(as_a, for_a).json()["status"] == "not_complete"
    assert verify(as_a, for_a.lower()).json()["status"] == "not_complete", "a scanner's case change is harmless"

    history = parent.ok("get", f"/v1/me/family/{kid}/verifications")
    refused = sorted(h["refused_because"] for h in history if h["outcome"] == "not_verifiable")
    assert refused == ["expired", "other_school", "revoked"]
    assert {h["school"]["name"] for h in history} == {"甲校", "乙校"}


def test_a_consent_for_any_school_lets_each_school_verify_until_it_ends(stack: Stack) -> None:
    _, _, as_a = new_school(stack)
    _, _, as_b = new_school(stack)
    parent, _ = stack.citizen()
    kid = child(parent, 1)  # a day old: HepB dose 1 is still on time
    token = consent(parent, kid, None, valid_until=(today() + timedelta(days=7)).isoformat())["token"]
    assert verify(as_a, token).json()["status"] == "complete"
    assert verify(as_b, token).json()["status"] == "complete"


def test_the_answer_holds_only_what_school_entry_needs(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    lot = stack.stocked_lot(to_clinic=5)
    give_hepb(stack, lot, kid)
    answer = verify(school, consent(parent, kid, school_id)["token"]).json()

    assert set(answer) == ANSWER_KEYS
    assert answer["status"] == "complete" and answer["missing"] == []
    assert set(answer["attestation"]) == {"id", "kind", "key_id", "typed_data", "signature", "compact", "qr_svg"}
    assert set(answer["attestation"]["typed_data"]["message"]) == {
        "id",
        "subject",
        "complete",
        "missing",
        "edition",
        "evaluatedOn",
        "issuedAt",
        "expiresAt",
        "keyId",
    }
    with stack.rt.db.sessions() as s:
        pseudonym = s.get(Person, kid).pseudonym
        lot_number = s.get(cv.Lot, lot).lot_number
    view = parent.ok("get", f"/v1/me/family/{kid}/schedule")
    dose_date = view["series"][0]["counted"][0]["given_on"]
    details = parent.ok("get", f"/v1/me/family/{kid}/doses")[0]
    text = json.dumps(answer, ensure_ascii=False)
    for secret in (kid, pseudonym[2:], lot_number, details["unit_hash"][2:], details["tx_hash"][2:], "孩子"):
        assert secret not in text, secret
    assert born(10) not in text
    assert dose_date == answer["evaluated_on"], "the only date is the evaluation's (the dose was given today)"


def test_deleting_a_child_ends_every_consent_and_its_record(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    token = consent(parent, kid, school_id)["token"]
    assert verify(school, token).json()["status"] == "not_complete"
    parent.ok("delete", f"/v1/me/family/{kid}", status=204)
    assert verify(school, token).json()["status"] == "not_verifiable"
    with stack.rt.db.sessions() as s:
        assert s.scalars(select(Verification).where(Verification.person_id == kid)).first() is None
        assert s.scalars(select(ConsentGrant).where(ConsentGrant.person_id == kid)).first() is None
