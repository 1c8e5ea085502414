"""No personal data on chain: persons are seeded with distinctive names, ID numbers, phones and birth
dates, a workload runs (sign-up, children, bookings, doses, an adverse event, a recall, walk-ins), then
every transaction input, every event and every storage slot the chain holds is searched for each datum,
in plain form and simply hashed (keccak-256, SHA-256, MD5 of the usual spellings). One hit fails."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta

from eth_utils import keccak

from backend.db.models import chainview as cv
from backend.domain.identity import id_check_character
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import PASSWORD, Api, Stack


def id_number(born: date, seq: str) -> str:
    first17 = "440604" + born.strftime("%Y%m%d") + seq
    return first17 + id_check_character(first17)


def spellings(kind: str, value: str) -> list[str]:
    if kind == "birth_date":
        d = date.fromisoformat(value)
        return [value, d.strftime("%Y%m%d"), d.strftime("%Y/%m/%d"), d.strftime("%Y年%m月%d日")]
    if kind == "phone":
        return [value, "+86" + value, f"{value[:3]}-{value[3:7]}-{value[7:]}"]
    if kind == "id_number":
        return [value, value.lower()]
    return [value]


def needles(kind: str, value: str) -> dict[str, bytes]:
    """Byte strings whose presence on chain would leak `value`: the plain text and its simple hashes."""
    out: dict[str, bytes] = {}
    for text in spellings(kind, value):
        raw = text.encode()
        out[f"{kind} plain {text!r}"] = raw
        out[f"{kind} keccak {text!r}"] = keccak(raw)
        out[f"{kind} sha256 {text!r}"] = hashlib.sha256(raw).digest()
        out[f"{kind} md5 {text!r}"] = hashlib.md5(raw).digest()
    return out


def chain_bytes(stack: Stack) -> bytes:
    """Everything the chain holds: transaction inputs, logs (topics and data) and contract storage."""
    w3 = stack.rt.ledgers.get().w3
    parts: list[bytes] = []
    head = w3.eth.block_number
    for number in range(head + 1):
        block = w3.provider.make_request("eth_getBlockByNumber", [hex(number), True])["result"]
        for tx in block["transactions"]:
            parts.append(bytes.fromhex(tx["input"][2:]))
    for log in w3.provider.make_request("eth_getLogs", [{"fromBlock": "0x0", "toBlock": hex(head)}])["result"]:
        parts += [bytes.fromhex(t[2:]) for t in log["topics"]] + [bytes.fromhex(log["data"][2:])]
    state = w3.provider.make_request("anvil_dumpState", [])["result"]
    dumped = json.loads(gzip.decompress(bytes.fromhex(state[2:])))
    for account in dumped["accounts"].values():
        for slot, value in account.get("storage", {}).items():
            parts += [bytes.fromhex(slot[2:].rjust(64, "0")), bytes.fromhex(value[2:].rjust(64, "0"))]
    return b"\n".join(parts)


def workload(stack: Stack) -> list[tuple[str, str]]:
    """Runs the platform's flows for three families; returns their personal data as (kind, value)."""
    data: list[tuple[str, str]] = []
    lot = stack.stocked_lot(doses=100, to_clinic=40)
    with stack.rt.db.sessions() as s:
        number = s.get(cv.Lot, lot).lot_number
    start = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    slot = stack.staff["nurse"].ok("post", "/v1/staff/slots", {"vaccine_type": "HepB", "start": start, "capacity": 20})
    for i, (name, born, child, child_born) in enumerate(
        [
            ("司马相如", date(1987, 4, 23), "司马小雨", date(2024, 2, 9)),
            ("欧阳修远", date(1979, 11, 2), "欧阳晓晴", date(2023, 7, 30)),
            ("Zhuge Liangliang", date(1995, 1, 17), "Zhuge Xiaoming", date(2025, 3, 3)),
        ]
    ):
        phone = f"1{3 + i}9{uuid.uuid4().int % 10**8:08d}"
        ident = id_number(born, f"{731 + 2 * i}")
        child_ident = id_number(child_born, f"{622 + 2 * i}")
        r = stack.client.post(
            "/v1/auth/register",
            json={
                "phone": phone,
                "password": PASSWORD,
                "name": name,
                "birth_date": born.isoformat(),
                "sex": "M",
                "id_number": ident,
            },
        )
        assert r.status_code == 201, r.text
        api = Api(stack.client, {"Authorization": f"Bearer {r.json()['access_token']}"})
        kid = api.ok(
            "post",
            "/v1/me/family",
            {"name": child, "birth_date": child_born.isoformat(), "sex": "F", "id_number": child_ident},
        )["id"]
        booking = api.ok("post", "/v1/appointments", {"slot_id": slot["slot_id"], "person_id": kid})["booking_id"]
        code = gs1(GTIN_HEPB, number, f"PRIV{i}")
        stack.staff["nurse"].ok("post", "/v1/staff/doses", {"code": code, "booking_id": booking})
        me = api.ok("get", "/v1/me")["person"]["id"]
        stack.staff["nurse"].ok(
            "post", "/v1/staff/doses", {"code": gs1(GTIN_HEPB, number, f"PRIV-A{i}"), "person_id": me}
        )
        stack.staff["nurse"].ok("post", "/v1/staff/persons/lookup", {"id_number": child_ident}, status=200)
        report = {
            "code": code,
            "category": "reaction_common",
            "severity": "non_serious",
            "onset": datetime.now(UTC).isoformat(),
            "report": {"patient": child, "id": child_ident, "phone": phone},
        }
        stack.staff["nurse"].ok("post", "/v1/staff/adverse-events", report)
        data += [
            ("name", name),
            ("name", child),
            ("phone", phone),
            ("id_number", ident),
            ("id_number", child_ident),
            ("birth_date", born.isoformat()),
            ("birth_date", child_born.isoformat()),
        ]
    walk_in = stack.staff["nurse"].ok(
        "post",
        "/v1/staff/persons",
        {"name": "慕容复兴", "birth_date": "1968-08-08", "sex": "M", "phone": "13712345678"},
    )
    stack.staff["nurse"].ok(
        "post", "/v1/staff/doses", {"code": gs1(GTIN_HEPB, number, "PRIV-W"), "person_id": walk_in["id"]}
    )
    data += [("name", "慕容复兴"), ("phone", "13712345678"), ("birth_date", "1968-08-08")]
    stack.staff["regulator"].ok("post", f"/v1/regulator/lots/{lot}/recall", {"document": "privacy workload recall"})
    return data


def test_no_personal_data_is_written_on_chain(stack: Stack) -> None:
    data = workload(stack)
    onchain = chain_bytes(stack)
    # the scan sees what is really there: public facility names and the lot's GS1 code travel on chain
    assert b"clinic2" in onchain and b"HepB" in onchain
    hits = [label for kind, value in data for label, needle in needles(kind, value).items() if needle in onchain]
    assert hits == [], f"personal data found on chain: {hits}"


def test_the_scanner_finds_a_leak_when_there_is_one(stack: Stack) -> None:
    # a facility named after a person would be a leak in plain form: the scan must report it
    name = "公孙测试泄露"
    stack.staff["admin"].ok("post", "/v1/admin/facilities", {"kind": "clinic", "name": name, "area_code": "440604"})
    onchain = chain_bytes(stack)
    found = [label for label, needle in needles("name", name).items() if needle in onchain]
    assert found == [f"name plain {name!r}"]
