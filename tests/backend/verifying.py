"""Helpers for the school-entry verification tests: schools with their own keys, children of a chosen age,
doses given through the clinic's API, consents, and checking an attestation with eth_account alone."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.db.models import chainview as cv
from backend.verification.records import today
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import PASSWORD, Api, Stack

ANSWER_KEYS = {"status", "missing", "edition", "evaluated_on", "attestation"}


def new_school(stack: Stack, name: str = "实验小学") -> tuple[Api, str, Api]:
    """A school account made by the admin: (signed-in API, school id, API speaking with a fresh API key)."""
    login = f"school-{uuid.uuid4().hex[:8]}"
    body = {"role": "school", "login": login, "password": PASSWORD, "display_name": name}
    school_id = stack.staff["admin"].ok("post", "/v1/admin/users", body)["user_id"]
    api = stack.login(login)
    key = api.ok("post", "/v1/school/api-keys", {"label": "front desk"})["key"]
    return api, school_id, Api(stack.client, {"X-Api-Key": key})


def born(days_old: int) -> str:
    """A birth date `days_old` days before today as the platform counts days (China time): the schedule
    judges ages in those days, whatever the machine's time zone."""
    return (today() - timedelta(days=days_old)).isoformat()


def child(parent: Api, days_old: int, sex: str = "M") -> str:
    body = {"name": f"孩子{uuid.uuid4().hex[:4]}", "birth_date": born(days_old), "sex": sex}
    return parent.ok("post", "/v1/me/family", body)["id"]


def give_hepb(stack: Stack, lot: int, person: str, who: str = "nurse") -> None:
    with stack.rt.db.sessions() as s:
        number = s.get(cv.Lot, lot).lot_number
    code = gs1(GTIN_HEPB, number, uuid.uuid4().hex[:10].upper())
    stack.staff[who].ok("post", "/v1/staff/doses", {"code": code, "person_id": person})


def consent(parent: Api, person: str, school_id: str | None, **extra: Any) -> dict[str, Any]:
    return parent.ok("post", f"/v1/me/family/{person}/consents", {"school_id": school_id, **extra})


def verify(school: Api, token: str) -> Any:
    return school.post("/v1/verify", {"token": token})


def signer_of(typed_data: dict[str, Any], signature: str) -> str:
    return Account.recover_message(encode_typed_data(full_message=typed_data), signature=signature)


def accepted_offline(typed_data: dict[str, Any], signature: str, keys: dict[str, Any], now: int) -> bool:
    """What a school's offline checker does with eth_account and the published keys (no revocation list)."""
    listed = {k["key_id"]: k for k in keys["keys"]}
    message = typed_data["message"]
    key = listed.get(message["keyId"])
    if key is None or key["status"] == "revoked" or typed_data["domain"] != keys["domain"]:
        return False
    if key["signs_until"] is not None and message["issuedAt"] > key["signs_until"]:
        return False
    return signer_of(typed_data, signature) == key["address"] and message["expiresAt"] > now
