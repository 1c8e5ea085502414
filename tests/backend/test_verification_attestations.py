"""Signed attestations: checked offline with eth_account and the published keys alone (also from the QR
text), still valid after a key rotation, void once their key is revoked, revoked when a lot that counted
in them is recalled; a roster answered in order under one signature."""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.db.models.verification import ConsentGrant
from tests.backend.stack import Api, Stack
from tests.backend.verifying import accepted_offline, child, consent, give_hepb, new_school, signer_of, verify


def published(stack: Stack) -> dict[str, Any]:
    return stack.anonymous().ok("get", "/v1/verify/keys")


def test_a_school_checks_an_attestation_offline_with_eth_account_alone(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    answer = verify(school, consent(parent, kid, school_id)["token"]).json()
    keys = published(stack)  # fetched once, kept by the school's checker

    # From the QR text and the published document only: no vaxledger code on the school's side.
    fields = answer["attestation"]["compact"].split("|")
    assert fields[0] == "VXA1" and len(fields) == len(keys["compact_fields"])
    named = dict(zip(keys["compact_fields"], fields, strict=True))
    typed = {
        "types": keys["types"]["single"],
        "primaryType": keys["primary_types"]["single"],
        "domain": keys["domain"] | {"chainId": int(named["chainId"])},
        "message": {
            "id": "0x" + named["id"],
            "subject": "0x" + named["subject"],
            "complete": named["complete"] == "1",
            "missing": named["missing"],
            "edition": named["edition"],
            "evaluatedOn": named["evaluatedOn"],
            "issuedAt": int(named["issuedAt"]),
            "expiresAt": int(named["expiresAt"]),
            "keyId": named["keyId"],
        },
    }
    signature = "0x" + named["signature"]
    key = next(k for k in keys["keys"] if k["key_id"] == named["keyId"])
    assert key["status"] == "active"
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=signature) == key["address"]
    assert typed == answer["attestation"]["typed_data"]
    assert named["complete"] == "0" and named["missing"] == "hepb:1"
    assert int(named["expiresAt"]) > time.time()

    forged = typed | {"message": typed["message"] | {"complete": True, "missing": ""}}
    assert Account.recover_message(encode_typed_data(full_message=forged), signature=signature) != key["address"]


def test_the_attestation_qr_code_is_for_the_school_that_obtained_it(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    _, _, other = new_school(stack)
    parent, _ = stack.citizen()
    answer = verify(school, consent(parent, child(parent, 1), school_id)["token"]).json()
    attestation = answer["attestation"]
    qr = school.get(attestation["qr_svg"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml" and qr.content.startswith(b"<svg")
    stored = school.ok("get", f"/v1/verify/attestations/{attestation['id']}")
    assert stored["signature"] == attestation["signature"] and stored["revoked_at"] is None
    for path in (attestation["qr_svg"], f"/v1/verify/attestations/{attestation['id']}"):
        r = other.get(path)
        assert r.status_code == 404 and r.json()["error"]["reason"] == "unknown_attestation"


def test_asking_again_about_an_unchanged_child_gives_the_same_attestation(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    kid = child(parent, 10)
    token = consent(parent, kid, school_id)["token"]
    first = verify(school, token).json()["attestation"]
    assert verify(school, token).json()["attestation"] == first
    give_hepb(stack, stack.stocked_lot(to_clinic=2), kid)
    after = verify(school, token).json()
    assert after["status"] == "complete" and after["attestation"]["id"] != first["id"]
    outcomes = [h["outcome"] for h in parent.ok("get", f"/v1/me/family/{kid}/verifications")]
    assert outcomes == ["complete", "not_complete", "not_complete"], "every question is recorded, cached or not"


def test_rotation_keeps_old_attestations_valid_and_a_revoked_key_voids_them(stack: Stack) -> None:
    admin = stack.staff["admin"]
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    token = consent(parent, child(parent, 1), school_id)["token"]
    old = verify(school, token).json()["attestation"]

    new_key = admin.ok("post", "/v1/admin/verifier-keys/rotate", status=201)
    assert new_key["status"] == "active" and new_key["key_id"] != old["key_id"]
    keys = published(stack)
    listed = {k["key_id"]: k for k in keys["keys"]}
    assert listed[old["key_id"]]["status"] == "retired" and listed[old["key_id"]]["signs_until"] is not None
    assert accepted_offline(old["typed_data"], old["signature"], keys, int(time.time()))

    fresh = verify(school, token).json()["attestation"]
    assert fresh["key_id"] == new_key["key_id"]
    assert signer_of(fresh["typed_data"], fresh["signature"]) == new_key["address"]

    revoked = admin.ok("post", f"/v1/admin/verifier-keys/{old['key_id']}/revoke", {"reason": "key file leaked"})
    assert revoked["status"] == "revoked" and revoked["revoke_reason"] == "key file leaked"
    keys = published(stack)
    assert {k["key_id"]: k["status"] for k in keys["keys"]}[old["key_id"]] == "revoked"
    assert not accepted_offline(old["typed_data"], old["signature"], keys, int(time.time()))
    assert accepted_offline(fresh["typed_data"], fresh["signature"], keys, int(time.time()))
    listed_revoked = stack.anonymous().ok("get", "/v1/verify/revocations")["keys"]
    assert old["key_id"] in {k["key_id"] for k in listed_revoked}

    # Revoking the active key replaces it at once: verification goes on under a new one.
    admin.ok("post", f"/v1/admin/verifier-keys/{new_key['key_id']}/revoke", {"reason": "precaution"})
    latest = verify(school, token).json()["attestation"]
    assert latest["key_id"] not in (old["key_id"], new_key["key_id"])
    assert accepted_offline(latest["typed_data"], latest["signature"], published(stack), int(time.time()))

    for path, body, status, reason in (
        ("/v1/admin/verifier-keys/vk-9999/revoke", {"reason": "x"}, 404, "unknown_verifier_key"),
        (f"/v1/admin/verifier-keys/{old['key_id']}/revoke", {}, 422, "invalid_request"),
    ):
        r = admin.post(path, body)
        assert r.status_code == status and r.json()["error"]["reason"] == reason and r.json()["error"]["message_zh"]
    assert school.post("/v1/admin/verifier-keys/rotate").status_code == 401


def test_a_recall_revokes_every_attestation_that_counted_the_lot(stack: Stack) -> None:
    school_user, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    recalled_lot, kept_lot = stack.stocked_lot(to_clinic=5), stack.stocked_lot(to_clinic=5)
    touched, untouched = child(parent, 10), child(parent, 10)
    give_hepb(stack, recalled_lot, touched)
    give_hepb(stack, kept_lot, untouched)
    token_touched = consent(parent, touched, school_id)["token"]
    token_untouched = consent(parent, untouched, school_id)["token"]
    single = verify(school, token_touched).json()
    other = verify(school, token_untouched).json()
    roster = school_user.ok("post", "/v1/verify/roster", {"tokens": [token_touched, token_untouched]})
    assert single["status"] == other["status"] == "complete"

    stack.staff["regulator"].ok("post", f"/v1/regulator/lots/{recalled_lot}/recall", {"document": "potency"})

    listed = {a["id"]: a for a in stack.anonymous().ok("get", "/v1/verify/revocations")["attestations"]}
    assert single["attestation"]["id"] in listed and roster["attestation"]["id"] in listed
    assert other["attestation"]["id"] not in listed
    assert listed[single["attestation"]["id"]]["reason"] == f"lot {recalled_lot} recalled"
    assert school.ok("get", f"/v1/verify/attestations/{single['attestation']['id']}")["revoked_at"] is not None

    # By default a dose of a recalled lot no longer counts: the child is judged afresh.
    again = verify(school, token_touched).json()
    assert again["status"] == "not_complete" and again["missing"] == [{"series": "hepb", "dose": 1}]
    assert again["attestation"]["id"] not in listed
    view = parent.ok("get", f"/v1/me/family/{touched}/schedule")
    assert view["recalled_lot_doses"] == "exclude"
    assert [(d["vaccine"], d["lot_id"], d["reason"]) for d in view["set_aside"]] == [
        ("HepB", recalled_lot, "recalled_lot")
    ]
    assert verify(school, token_untouched).json()["status"] == "complete"


def test_a_roster_answers_each_token_in_order_under_one_signature(stack: Stack) -> None:
    school_user, school_id, _ = new_school(stack)
    _, other_school, _ = new_school(stack)
    parent, _ = stack.citizen()
    complete, missing, revoked_kid = child(parent, 1), child(parent, 10), child(parent, 1)
    token_complete = consent(parent, complete, school_id)["token"]
    token_missing = consent(parent, missing, school_id)["token"]
    revoked = consent(parent, revoked_kid, school_id)
    parent.ok("delete", f"/v1/me/family/{revoked_kid}/consents/{revoked['id']}", status=204)
    elsewhere = consent(parent, complete, other_school)["token"]
    tokens = ["VX1-UNKNOWN", token_missing, revoked["token"], token_complete, elsewhere]

    answer = school_user.ok("post", "/v1/verify/roster", {"tokens": tokens})
    assert answer["count"] == 5
    assert [r["status"] for r in answer["results"]] == [
        "not_verifiable",
        "not_complete",
        "not_verifiable",
        "complete",
        "not_verifiable",
    ]
    assert answer["results"][1]["missing"] == [{"series": "hepb", "dose": 1}]
    assert all(set(r) == {"status", "missing", "edition", "evaluated_on"} for r in answer["results"])
    assert answer["results"][0] == answer["results"][2] == answer["results"][4]

    attestation = answer["attestation"]
    assert attestation["kind"] == "roster" and attestation["compact"] is None
    entries = attestation["typed_data"]["message"]["entries"]
    assert [(e["index"], e["complete"], e["missing"]) for e in entries] == [(1, False, "hepb:1"), (3, True, "")]
    with stack.rt.db.sessions() as s:
        subjects = {s.get(ConsentGrant, g["id"]).subject for g in parent.ok("get", f"/v1/me/family/{missing}/consents")}
    assert entries[0]["subject"][2:] in subjects
    keys = published(stack)
    assert accepted_offline(attestation["typed_data"], attestation["signature"], keys, int(time.time()))
    r = school_user.get(f"/v1/verify/attestations/{attestation['id']}/qr.svg")
    assert r.status_code == 409 and r.json()["error"]["reason"] == "roster_attestation"

    assert all(h["roster"] for h in parent.ok("get", f"/v1/me/family/{complete}/verifications"))


def test_roster_bounds(stack: Stack) -> None:
    school: Api = new_school(stack)[0]
    for tokens in ([], ["VX1-A"] * 2_001):
        r = school.post("/v1/verify/roster", {"tokens": tokens})
        assert (
            r.status_code == 422
            and r.json()["error"]["reason"] == "invalid_request"
            and r.json()["error"]["message_zh"]
        )
    empty = school.ok("post", "/v1/verify/roster", {"tokens": ["VX1-A"] * 2_000})
    assert empty["attestation"] is None and {r["status"] for r in empty["results"]} == {"not_verifiable"}
