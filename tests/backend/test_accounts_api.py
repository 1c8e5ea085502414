"""Accounts: sign-up, login and its throttle, refresh rotation, logout, the custodial key's export, the
family, and personal data sealed in the database."""

from __future__ import annotations

import sqlite3
import time
import uuid

from eth_account import Account

from backend.domain.identity import id_check_character
from tests.backend.stack import PASSWORD, Api, Stack


def phone() -> str:
    return "137" + str(uuid.uuid4().int)[:8]


def register(stack: Stack, **overrides: object) -> object:
    body = {"phone": phone(), "password": PASSWORD, "name": "张伟", "birth_date": "1988-02-29", "sex": "M"} | overrides
    return stack.client.post("/v1/auth/register", json=body)


def id_number(born: str = "19880229", seq: str = "123") -> str:
    first17 = "440604" + born + seq
    return first17 + id_check_character(first17)


def test_sign_up_gives_a_session_a_person_and_a_wallet(stack: Stack) -> None:
    r = register(stack, id_number=id_number())
    assert r.status_code == 201, r.text
    api = Api(stack.client, {"Authorization": f"Bearer {r.json()['access_token']}"})
    me = api.ok("get", "/v1/me")
    assert me["role"] == "citizen"
    assert me["person"]["name"] == "张伟"
    assert me["person"]["id_number_masked"].startswith("440604") and "********" in me["person"]["id_number_masked"]
    assert me["wallet"].startswith("0x") and len(me["wallet"]) == 42


def test_sign_up_refusals_name_the_problem(stack: Stack) -> None:
    taken = phone()
    assert register(stack, phone=taken).status_code == 201
    cases = [
        ({"phone": taken}, 409, "login_taken"),
        ({"password": "short1"}, 422, "weak_password"),
        ({"password": "onlyletters"}, 422, "weak_password"),
        ({"phone": "12345"}, 422, "phone_invalid"),
        ({"id_number": id_number()[:-1] + ("0" if id_number()[-1] != "0" else "1")}, 422, "id_number_check"),
        ({"id_number": id_number("19900101")}, 422, "id_number_mismatch"),
        ({"birth_date": "2999-01-01"}, 422, "birth_date_future"),
        ({"sex": "X"}, 422, "invalid_request"),
        ({"name": ""}, 422, "invalid_request"),
    ]
    for overrides, status, reason in cases:
        r = register(stack, **overrides)
        assert r.status_code == status, (overrides, r.text)
        assert r.json()["error"]["reason"] == reason, (overrides, r.text)
        assert r.json()["error"]["message_zh"]


def test_the_same_id_number_cannot_be_registered_twice(stack: Stack) -> None:
    number = id_number(seq="771")
    assert register(stack, id_number=number).status_code == 201
    r = register(stack, id_number=number)
    assert r.status_code == 409 and r.json()["error"]["reason"] == "person_exists"


def test_login_with_wrong_password_is_refused_then_throttled(stack: Stack) -> None:
    login = phone()
    assert register(stack, phone=login).status_code == 201
    for _ in range(stack.rt.settings.login_max_failures):
        r = stack.client.post("/v1/auth/login", json={"login": login, "password": "wrong-pass-9"})
        assert r.status_code == 401 and r.json()["error"]["reason"] == "bad_credentials"
    r = stack.client.post("/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 429, "the right password must not get through a brute-force lockout"
    assert r.json()["error"]["reason"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0


def test_unknown_login_is_refused_like_a_wrong_password(stack: Stack) -> None:
    r = stack.client.post("/v1/auth/login", json={"login": "nobody-here", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["error"]["reason"] == "bad_credentials"


def test_refresh_rotates_and_a_reused_token_ends_every_session(stack: Stack) -> None:
    login = phone()
    register(stack, phone=login)
    first = stack.client.post("/v1/auth/login", json={"login": login, "password": PASSWORD}).json()
    second = stack.client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    replay = stack.client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401 and replay.json()["error"]["reason"] == "refresh_reused"
    after = stack.client.post("/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 401, "the whole family of refresh tokens is revoked"


def test_logout_ends_access_tokens_too(stack: Stack) -> None:
    api, _ = stack.citizen()
    assert api.get("/v1/me").status_code == 200
    assert api.post("/v1/auth/logout").status_code == 204
    r = api.get("/v1/me")
    assert r.status_code == 401 and r.json()["error"]["reason"] == "token_revoked"


def test_tokens_expire_and_forged_ones_are_refused(stack: Stack) -> None:
    api, _ = stack.citizen()
    user_id = api.ok("get", "/v1/me")["user_id"]
    old = stack.rt.signer.issue(user_id, "citizen", None, 0, now=int(time.time()) - 10_000)
    r = stack.client.get("/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and r.json()["error"]["reason"] == "token_expired"
    forged = old[:-4] + ("AAAA" if not old.endswith("AAAA") else "BBBB")
    r = stack.client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    r = stack.client.get("/v1/me")
    assert r.status_code == 401 and r.json()["error"]["reason"] == "not_authenticated"


def test_keystore_export_needs_the_password_and_holds_the_wallet_key(stack: Stack) -> None:
    api, _ = stack.citizen()
    wallet = api.ok("get", "/v1/me")["wallet"]
    refused = api.post(
        "/v1/me/wallet/keystore", {"account_password": "wrong-pass-1", "keystore_password": "keystore-pw"}
    )
    assert refused.status_code == 401
    r = api.post("/v1/me/wallet/keystore", {"account_password": PASSWORD, "keystore_password": "keystore-pw"})
    assert r.status_code == 200
    keystore = r.json()
    assert keystore["address"].lower() == wallet[2:].lower()
    key = Account.decrypt(keystore, "keystore-pw")
    assert Account.from_key(key).address == wallet
    assert key.hex() not in r.text


def test_family_members_are_private_to_their_guardian(stack: Stack) -> None:
    parent, fam = stack.citizen(children=1)
    stranger, _ = stack.citizen()
    child = fam["children"][0]
    names = [p["name"] for p in parent.ok("get", "/v1/me/family")]
    assert names[0] == "测试市民" and "孩子0" in names
    assert stranger.get(f"/v1/me/family/{child}/doses").status_code == 404
    assert stranger.delete(f"/v1/me/family/{child}").status_code == 404
    assert parent.delete(f"/v1/me/family/{child}").status_code == 204
    assert parent.get(f"/v1/me/family/{child}/doses").status_code == 404


def test_personal_data_is_sealed_in_the_database(stack: Stack) -> None:
    name, number, mobile = "欧阳娜娜", id_number("19950712", "482"), phone()
    assert (
        register(stack, phone=mobile, name=name, birth_date="1995-07-12", sex="F", id_number=number).status_code == 201
    )
    db = stack.workdir / "backend.db"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump()).encode()
    raw = db.read_bytes() + (
        db.with_name(db.name + "-wal").read_bytes() if db.with_name(db.name + "-wal").exists() else b""
    )
    for secret in (name, number, mobile, "1995-07-12"):
        assert secret.encode() not in dump, secret
        assert secret.encode() not in raw, secret
