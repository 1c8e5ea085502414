"""Secrets stay secret: after a workload, no custodial private key, master key, token-signing key or
blind-index key appears in any log record, any response body, or the database file (in hex or base64),
and an unexpected failure answers without its internals."""

from __future__ import annotations

import base64
import logging
import sqlite3
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.core.envelope import Keyring
from backend.db.models import chainview as cv
from backend.db.models.offchain import Wallet
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import PASSWORD, Stack


def forms(secret: bytes) -> list[bytes]:
    hexed = secret.hex()
    return [secret, hexed.encode(), hexed.upper().encode(), base64.b64encode(secret), base64.urlsafe_b64encode(secret)]


def secrets_of(stack: Stack) -> dict[str, bytes]:
    rt = stack.rt
    found: dict[str, bytes] = {
        "token-signing key": rt.signer._key,
        "blind-index key": rt.index_key,
    }
    keyring = Keyring.parse(rt.settings.master_keys.get_secret_value())
    for key_id, key in keyring._keys.items():
        found[f"master key {key_id}"] = key
    with rt.db.sessions() as s:
        for wallet in s.scalars(select(Wallet)):
            found[f"wallet key {wallet.owner_kind} {wallet.address}"] = bytes(rt.wallets.account(s, wallet.address).key)
    return found


@pytest.fixture
def responses(stack: Stack) -> Any:
    bodies: list[bytes] = []

    def keep(response: httpx.Response) -> None:
        bodies.append(response.read())

    stack.client.event_hooks["response"].append(keep)
    yield bodies
    stack.client.event_hooks["response"].remove(keep)


def test_no_secret_in_logs_responses_or_the_database(
    stack: Stack, responses: list[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    citizen, fam = stack.citizen(children=1)
    lot = stack.stocked_lot(to_clinic=5)
    with stack.rt.db.sessions() as s:
        number = s.get(cv.Lot, lot).lot_number
    stack.staff["nurse"].ok(
        "post", "/v1/staff/doses", {"code": gs1(GTIN_HEPB, number, "SECRET-1"), "person_id": fam["self"]}
    )
    citizen.ok("post", "/v1/me/wallet/keystore", {"account_password": PASSWORD, "keystore_password": "keystore-pw-1"})
    stack.client.post("/v1/auth/login", json={"login": fam["phone"], "password": "wrong-password-1"})
    stack.client.post("/v1/auth/refresh", json={"refresh_token": uuid.uuid4().hex})

    wallet = citizen.ok("get", "/v1/me")["wallet"]
    logs = "\n".join(r.getMessage() + " " + str(r.__dict__.get("fields", "")) for r in caplog.records).encode()
    assert b"sent 0x" in logs, "the capture sees the sender's log lines"
    assert any(wallet.encode() in body for body in responses), "the capture sees response bodies"
    db = stack.workdir / "backend.db"
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump()).encode()
    stored = dump + db.read_bytes()
    wal = db.with_name(db.name + "-wal")
    if wal.exists():
        stored += wal.read_bytes()

    leaks = [
        f"{name} in {where}"
        for name, secret in secrets_of(stack).items()
        for where, text in (("logs", logs), ("responses", b"\n".join(responses)), ("database", stored))
        for form in forms(secret)
        if form in text
    ]
    assert leaks == []


def test_an_unexpected_failure_reveals_nothing(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.services import queries

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("internal detail: /secret/path and a key 0xdeadbeef")

    monkeypatch.setattr(queries, "site_slots", broken)
    # a client that, like a real one, gets the 500 instead of the server's exception
    r = TestClient(stack.client.app, raise_server_exceptions=False).get(f"/v1/sites/{stack.clinic}/slots")
    assert r.status_code == 500
    assert r.json()["error"]["reason"] == "internal_error"
    assert "secret" not in r.text and "deadbeef" not in r.text
    assert r.headers["x-request-id"] in r.json()["error"]["message"]
