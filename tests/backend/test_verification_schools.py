"""Schools' side: API keys (valid, revoked, unknown, missing), the guardian's view of who verified their
child, and the catch-up loop end to end: not complete -> referral to the clinic -> the nurse records the
dose -> the school's re-check turns complete."""

from __future__ import annotations

from typing import Any

from tests.backend.stack import Api, Stack
from tests.backend.verifying import child, consent, give_hepb, new_school, verify


def error(r: Any, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["message"] and body["message_zh"]
    return body["reason"]


def test_api_keys_are_shown_once_and_revocable(stack: Stack) -> None:
    school_user, school_id, _ = new_school(stack)
    other_school, _, _ = new_school(stack)
    parent, _ = stack.citizen()
    token = consent(parent, child(parent, 1), school_id)["token"]

    made = school_user.ok("post", "/v1/school/api-keys", {"label": "教务处"})
    assert made["key"].startswith(made["prefix"]) and made["revoked_at"] is None
    listed = school_user.ok("get", "/v1/school/api-keys")
    assert made["id"] in {k["id"] for k in listed} and all("key" not in k for k in listed)
    keyed = Api(stack.client, {"X-Api-Key": made["key"]})
    assert verify(keyed, token).json()["status"] == "complete"
    assert verify(school_user, token).json()["status"] == "complete", "a signed-in school user may verify too"

    assert error(other_school.delete(f"/v1/school/api-keys/{made['id']}"), 404) == "unknown_api_key"
    school_user.ok("delete", f"/v1/school/api-keys/{made['id']}", status=204)
    assert error(verify(keyed, token), 401) == "api_key_revoked"
    assert error(verify(Api(stack.client, {"X-Api-Key": "vxk_nonsense"}), token), 401) == "api_key_invalid"
    assert error(verify(stack.anonymous(), token), 401) == "not_authenticated"
    assert error(verify(parent, token), 403) == "wrong_role"
    assert error(keyed.post("/v1/verify/roster", {"tokens": [token]}), 401) == "api_key_revoked"
    assert error(school_user.post("/v1/school/api-keys", {"label": ""}), 422) == "invalid_request"
    assert error(parent.get("/v1/school/api-keys"), 403) == "wrong_role"


def test_the_guardian_sees_who_verified_their_child(stack: Stack) -> None:
    school_user, school_id, keyed = new_school(stack, "育才幼儿园")
    parent, _ = stack.citizen()
    stranger, _ = stack.citizen()
    kid = child(parent, 10)
    token = consent(parent, kid, school_id)["token"]
    verify(keyed, token)
    give_hepb(stack, stack.stocked_lot(to_clinic=2), kid)
    school_user.ok("post", "/v1/verify/roster", {"tokens": [token]})

    history = parent.ok("get", f"/v1/me/family/{kid}/verifications")
    assert [(h["outcome"], h["via"], h["roster"]) for h in history] == [
        ("complete", "school_user", True),
        ("not_complete", "api_key", False),
    ]
    assert {h["school"]["name"] for h in history} == {"育才幼儿园"}
    assert history[0]["at"] >= history[1]["at"]
    assert stranger.get(f"/v1/me/family/{kid}/verifications").status_code == 404
    directory = parent.ok("get", "/v1/schools")
    assert {"id": school_id, "name": "育才幼儿园"} in directory


def test_the_catch_up_loop_end_to_end(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    parent, family = stack.citizen()
    kid = child(parent, 10)  # HepB dose 1 was due within a day of birth
    token = consent(parent, kid, school_id, clinic_id=stack.clinic)["token"]
    lot = stack.stocked_lot(to_clinic=5)

    first = verify(school, token).json()
    assert first["status"] == "not_complete" and first["missing"] == [{"series": "hepb", "dose": 1}]

    r = school.post("/v1/verify/referrals", {"token": token})
    assert r.status_code == 201, r.text
    referral = r.json()
    assert set(referral) == {"referral_id", "status", "missing"}, "the school is not told which clinic"
    assert referral["missing"] == [{"series": "hepb", "dose": 1}]

    (seen,) = [x for x in stack.staff["nurse"].ok("get", "/v1/staff/referrals") if x["id"] == referral["referral_id"]]
    assert seen["status"] == "open" and seen["person"]["id"] == kid
    assert seen["still_missing"] == [{"series": "hepb", "dose": 1}]
    assert {k: seen["catch_up"][0][k] for k in ("series", "dose")} == {"series": "hepb", "dose": 1}
    assert seen["catch_up"][0]["vaccines"] == ["HepB"]
    assert seen["guardian_phones"] == [family["phone"]]
    assert referral["referral_id"] not in {x["id"] for x in stack.staff["nurse2"].ok("get", "/v1/staff/referrals")}
    notices = [n for n in parent.ok("get", "/v1/me/notifications") if n["kind"] == "referral"]
    assert [n["person_id"] for n in notices] == [kid] and "补种" in notices[0]["message_zh"]

    give_hepb(stack, lot, kid)

    again = verify(school, token).json()
    assert again["status"] == "complete" and again["missing"] == []
    (closed,) = [x for x in stack.staff["nurse"].ok("get", "/v1/staff/referrals") if x["id"] == referral["referral_id"]]
    assert closed["status"] == "done" and closed["closed_at"] is not None and closed["still_missing"] == []
    assert error(school.post("/v1/verify/referrals", {"token": token}), 409) == "nothing_missing"


def test_a_referral_goes_to_the_clinic_of_the_latest_dose(stack: Stack) -> None:
    _, school_id, school = new_school(stack)
    parent, _ = stack.citizen()
    toddler = child(parent, 400)  # past 12 months: HepB doses 2 and 3 (and more) are overdue
    give_hepb(stack, stack.stocked_lot(to_clinic=2, clinic="nurse2", fridge="fridge_b"), toddler, who="nurse2")
    token = consent(parent, toddler, school_id)["token"]
    answer = verify(school, token).json()
    assert answer["status"] == "not_complete"
    assert {"series": "hepb", "dose": 2} in answer["missing"] and {"series": "hepb", "dose": 1} not in answer["missing"]

    referral = school.ok("post", "/v1/verify/referrals", {"token": token})
    assert referral["missing"] == answer["missing"]
    assert referral["referral_id"] in {x["id"] for x in stack.staff["nurse2"].ok("get", "/v1/staff/referrals")}
    assert referral["referral_id"] not in {x["id"] for x in stack.staff["nurse"].ok("get", "/v1/staff/referrals")}
    assert school.ok("post", "/v1/verify/referrals", {"token": token})["referral_id"] == referral["referral_id"]

    newborn = child(parent, 10)
    no_clinic = consent(parent, newborn, school_id)["token"]
    assert error(school.post("/v1/verify/referrals", {"token": no_clinic}), 409) == "no_clinic_known"
    assert error(school.post("/v1/verify/referrals", {"token": "VX1-NOPE"}), 404) == "not_verifiable"
    assert error(stack.staff["warehouse"].get("/v1/staff/referrals"), 403) == "wrong_role"
