"""The read API and acknowledging alarms over HTTP, on a real store, alarm book, device registry and rules: what
a board, a chart and a receiving clinic are told, and who may acknowledge."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from devnet.ports import free_port
from oracle import devices
from oracle.alarms import AlarmBook, TierPolicy
from oracle.config import DEFAULT_TIERS_PATH
from oracle.devices import DeviceEntry, Registry
from oracle.http import create_app
from oracle.http_queries import QuerySource
from oracle.identity import public_bytes, sign
from oracle.ingest import Ingestor
from oracle.reading import Reading
from oracle.rules import CLOSE, OPEN, AlarmEvent, ReadingRef, RuleSet
from oracle.store import Store
from oracle.validate import ReadingValidator, message_fields
from tests.oracle.daemon_proc import OracleProcess

MIN = 60_000
HOUR = 60 * MIN
NOW = 1_767_225_600_000
TOKEN = "s3cret-token-for-tests"
KEY = "00" * 32
FRIDGE, VAN, FREEZER, STRAY = 12, 30, 50, 77
CLINIC, CDC = 40, 41
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class NoIngest:
    def ingest(self, items, source):
        raise AssertionError("the read API must not ingest")


@dataclass
class Rig:
    store: Store
    book: AlarmBook
    client: TestClient
    clock: list[int]

    def put(self, points: list[tuple[int, int]], equipment: int = FRIDGE) -> None:
        first = self.store.last_reading_id() + 1
        device = f"probe-{equipment}"
        self.store.append(
            [(Reading(device, equipment, first + i, ts, dc), bytes(64)) for i, (ts, dc) in enumerate(points)]
        )

    def alarm(self, alarm_id: str, equipment: int, kind: str, severity: int, opened: int, closed: int | None = None):
        for action, at in ((OPEN, opened), (CLOSE, closed)):
            if at is None:
                continue
            event = AlarmEvent(
                action=action,
                equipment=equipment,
                profile="fridge",
                kind=kind,
                severity=severity,
                at_ms=at,
                opened_at_ms=opened,
                closed_at_ms=at if action == CLOSE else None,
                trigger=ReadingRef("probe", 1, opened),
                closed_by=None,
                exposure_ms=at - opened,
                min_dc=-12,
                max_dc=-5,
                rules_version="rules-v1",
            )
            with self.store.transaction() as db:
                self.book.record(db, alarm_id, event, at)


REGISTRY = Registry(
    [
        DeviceEntry("probe-12", FRIDGE, "fridge", KEY, CLINIC),
        DeviceEntry("probe-30", VAN, "vehicle", KEY, CDC, "type2"),
        DeviceEntry("probe-50", FREEZER, "freezer", KEY),
    ]
)


def rig_for(tmp_path: Path, token: str | None = TOKEN) -> Iterator[Rig]:
    clock = [NOW]
    with Store(tmp_path / "oracle.db") as store:
        book = AlarmBook(store, TierPolicy.load(DEFAULT_TIERS_PATH), facility_of=lambda eq: {FRIDGE: CLINIC}.get(eq))
        source = QuerySource(
            store,
            book,
            registry=lambda: REGISTRY,
            rules=RuleSet.load(),
            api_token=SecretStr(token) if token else None,
            clock=lambda: clock[0],
        )
        yield Rig(store, book, TestClient(create_app(NoIngest(), queries=source)), clock)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    yield from rig_for(tmp_path)


def every(minutes: int, start: int, end: int, dc: int = 50) -> list[tuple[int, int]]:
    return [(ts, dc) for ts in range(start, end + 1, minutes * MIN)]


A_FREEZE, A_SILENT, A_OLD = "a1" * 32, "b2" * 32, "c3" * 32


# --- the board ---------------------------------------------------------------------------------------------------


def test_the_board_lists_registered_and_heard_equipment_with_their_status(rig: Rig) -> None:
    rig.put(every(5, NOW - 26 * HOUR, NOW - 20 * MIN, dc=46))  # a fridge heard 20 min ago: ok
    rig.put([(NOW - 20 * MIN, 61)], equipment=VAN)  # a vehicle silent after 15 min
    rig.put([(NOW - 2 * MIN, 55)], equipment=STRAY)  # not in the registry

    board = {e["equipment"]: e for e in rig.client.get("/v1/equipment").json()}

    assert list(board) == [FRIDGE, VAN, FREEZER, STRAY]
    assert board[FRIDGE] == {
        "equipment": FRIDGE,
        "kind": "fridge",
        "facility": CLINIC,
        "last_ts_ms": NOW - 20 * MIN,
        "last_temp_c": 4.6,
        "readings_24h": 24 * 12 - 4 + 1,  # every 5 min from 24 h ago to 20 min ago
        "status": "ok",
        "open_alarms": [],
    }
    assert (board[VAN]["kind"], board[VAN]["facility"], board[VAN]["status"]) == ("vehicle", CDC, "silent")
    assert (board[FREEZER]["status"], board[FREEZER]["last_ts_ms"], board[FREEZER]["readings_24h"]) == (
        "no_data",
        None,
        0,
    )
    assert (board[STRAY]["kind"], board[STRAY]["facility"], board[STRAY]["status"]) == (None, None, "ok")

    rig.clock[0] = NOW + 11 * MIN  # the fridge's 30 min of silence
    assert {e["equipment"]: e["status"] for e in rig.client.get("/v1/equipment").json()}[FRIDGE] == "silent"


def test_an_open_alarm_outranks_silence_and_a_closed_one_is_not_shown(rig: Rig) -> None:
    rig.put([(NOW - MIN, -12)])
    rig.put([(NOW - MIN, -200)], equipment=FREEZER)
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 2 * HOUR)
    rig.alarm(A_SILENT, FRIDGE, "silent", 1, NOW - 3 * HOUR)
    rig.alarm(A_OLD, FRIDGE, "heat", 2, NOW - 30 * HOUR, NOW - 29 * HOUR)
    rig.alarm("d4" * 32, FREEZER, "silent", 1, NOW - HOUR)

    board = {e["equipment"]: e for e in rig.client.get("/v1/equipment").json()}

    assert board[FRIDGE]["status"] == "alarm"
    assert board[FRIDGE]["open_alarms"] == [
        {"alarm_id": A_SILENT, "kind": "silent", "tier": "site", "severity": 1},
        {"alarm_id": A_FREEZE, "kind": "freeze", "tier": "cdc", "severity": 4},
    ]
    assert board[FREEZER]["status"] == "silent"  # an open silence alarm, though a reading came since


# --- a chart ----------------------------------------------------------------------------------------------------


def test_a_chart_keeps_a_one_reading_spike_among_thousands(rig: Rig) -> None:
    start = NOW - 5_000 * MIN
    readings = every(1, start, NOW - MIN)  # 5,000 readings at 5.0 °C
    spike = readings[4_321][0]
    readings[4_321] = (spike, 120)
    rig.put(readings)

    r = rig.client.get(f"/v1/equipment/{FRIDGE}/readings", params={"from_ms": start, "to_ms": NOW})

    assert r.status_code == 200
    chart = r.json()
    assert (chart["equipment"], chart["from_ms"], chart["to_ms"]) == (FRIDGE, start, NOW)
    assert (chart["total"], chart["downsampled"], chart["min_c"], chart["max_c"]) == (5_000, True, 5.0, 12.0)
    assert len(chart["points"]) <= 1_000
    assert {"ts_ms": spike, "temp_c": 12.0} in chart["points"]
    times = [p["ts_ms"] for p in chart["points"]]
    assert times == sorted(times)

    small = rig.client.get(
        f"/v1/equipment/{FRIDGE}/readings", params={"from_ms": start, "to_ms": NOW, "max_points": 10_000}
    ).json()
    assert not small["downsampled"] and len(small["points"]) == 5_000


def test_a_chart_marks_the_alarms_overlapping_its_range_and_defaults_to_the_last_day(rig: Rig) -> None:
    rig.put(every(30, NOW - 30 * HOUR, NOW))
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 3 * HOUR, NOW - HOUR)
    rig.alarm(A_SILENT, FRIDGE, "silent", 1, NOW - 10 * MIN)  # open: reaches to now
    rig.alarm(A_OLD, FRIDGE, "heat", 2, NOW - 30 * HOUR, NOW - 25 * HOUR)  # over before the day began
    rig.alarm("d4" * 32, VAN, "transport_freeze", 4, NOW - 2 * HOUR)  # another equipment

    chart = rig.client.get(f"/v1/equipment/{FRIDGE}/readings").json()

    assert (chart["from_ms"], chart["to_ms"], chart["total"]) == (NOW - 24 * HOUR, NOW, 49)
    assert chart["alarms"] == [
        {
            "alarm_id": A_FREEZE,
            "kind": "freeze",
            "severity": 4,
            "opened_at_ms": NOW - 3 * HOUR,
            "closed_at_ms": NOW - HOUR,
            "min_c": -1.2,
            "max_c": -0.5,
        },
        {
            "alarm_id": A_SILENT,
            "kind": "silent",
            "severity": 1,
            "opened_at_ms": NOW - 10 * MIN,
            "closed_at_ms": None,
            "min_c": -1.2,
            "max_c": -0.5,
        },
    ]


@pytest.mark.parametrize(
    ("path", "params", "status", "reason"),
    [
        (f"/v1/equipment/{FRIDGE}/readings", {"from_ms": NOW, "to_ms": NOW - 1}, 400, "bad_range"),
        (f"/v1/equipment/{FRIDGE}/readings", {"from_ms": NOW - 32 * 24 * HOUR}, 400, "range_too_long"),
        (f"/v1/equipment/{FRIDGE}/readings", {"max_points": 1}, 422, "invalid_request"),
        (f"/v1/equipment/{FRIDGE}/readings", {"max_points": 10_001}, 422, "invalid_request"),
        (f"/v1/equipment/{STRAY}/readings", {}, 404, "unknown_equipment"),
        ("/v1/equipment/0/readings", {}, 422, "invalid_request"),
        (f"/v1/equipment/{FRIDGE}/record", {"from_ms": NOW - HOUR}, 422, "invalid_request"),
        (f"/v1/equipment/{FRIDGE}/record", {"from_ms": NOW, "to_ms": NOW - HOUR}, 400, "bad_range"),
        (f"/v1/equipment/{STRAY}/record", {"from_ms": NOW - HOUR, "to_ms": NOW}, 404, "unknown_equipment"),
        ("/v1/alarms", {"state": "closed"}, 422, "invalid_request"),
    ],
)
def test_refusals_carry_a_reason(rig: Rig, path: str, params: dict, status: int, reason: str) -> None:
    r = rig.client.get(path, params=params)
    assert (r.status_code, r.json()["reason"]) == (status, reason)
    assert r.json()["detail"]


# --- a record ----------------------------------------------------------------------------------------------------


def test_a_record_with_gaps_at_the_start_the_middle_and_the_end_is_incomplete(rig: Rig) -> None:
    start, end = NOW - 6 * HOUR, NOW
    rig.put(every(5, start + 40 * MIN, start + 2 * HOUR, dc=31) + every(5, start + 3 * HOUR, end - 45 * MIN, dc=72))
    rig.alarm(A_OLD, FRIDGE, "heat", 2, start - 2 * HOUR, start + 10 * MIN)

    r = rig.client.get(f"/v1/equipment/{FRIDGE}/record", params={"from_ms": start, "to_ms": end})

    assert r.status_code == 200
    assert r.json() == {
        "equipment": FRIDGE,
        "from_ms": start,
        "to_ms": end,
        "count": 17 + 28,
        "first_ts_ms": start + 40 * MIN,
        "last_ts_ms": end - 45 * MIN,
        "min_c": 3.1,
        "max_c": 7.2,
        "gaps": [
            {"from_ms": start, "to_ms": start + 40 * MIN},
            {"from_ms": start + 2 * HOUR, "to_ms": start + 3 * HOUR},
            {"from_ms": end - 45 * MIN, "to_ms": end},
        ],
        "gaps_truncated": False,
        "complete": False,
        "alarms": [
            {
                "alarm_id": A_OLD,
                "kind": "heat",
                "severity": 2,
                "opened_at_ms": start - 2 * HOUR,
                "closed_at_ms": start + 10 * MIN,
                "min_c": -1.2,
                "max_c": -0.5,
            }
        ],
    }
    wider = rig.client.get(
        f"/v1/equipment/{FRIDGE}/record", params={"from_ms": start, "to_ms": end, "max_gap_s": 3_600}
    ).json()
    assert wider["complete"] and wider["gaps"] == []


def test_a_leg_with_no_reading_is_incomplete(rig: Rig) -> None:
    rig.put(every(5, NOW - 5 * HOUR, NOW), equipment=FRIDGE)  # another equipment's readings say nothing of the van

    r = rig.client.get(f"/v1/equipment/{VAN}/record", params={"from_ms": NOW - 2 * HOUR, "to_ms": NOW}).json()

    assert (r["complete"], r["count"], r["min_c"], r["max_c"], r["first_ts_ms"]) == (False, 0, None, None, None)
    assert r["gaps"] == [{"from_ms": NOW - 2 * HOUR, "to_ms": NOW}]


# --- alarms ------------------------------------------------------------------------------------------------------


def test_alarms_are_listed_by_state_equipment_and_facility(rig: Rig) -> None:
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 2 * HOUR)
    rig.alarm(A_OLD, FRIDGE, "heat", 2, NOW - 30 * HOUR, NOW - 29 * HOUR)
    rig.alarm(A_SILENT, VAN, "silent", 1, NOW - HOUR)
    rig.book.acknowledge(A_SILENT, "Li Na", "battery replaced", NOW)

    def ids(**params) -> list[str]:
        r = rig.client.get("/v1/alarms", params=params)
        assert r.status_code == 200
        return [a["alarm_id"] for a in r.json()]

    assert ids() == [A_SILENT, A_FREEZE]  # open by default, newest first
    assert ids(state="unacked") == [A_FREEZE, A_OLD]  # the closed heat alarm still waits for a decision
    assert ids(state="all") == [A_SILENT, A_FREEZE, A_OLD]
    assert ids(state="all", equipment=FRIDGE) == [A_FREEZE, A_OLD]
    assert ids(state="all", facility=CLINIC) == [A_FREEZE, A_OLD]
    assert ids(state="all", limit=1) == [A_SILENT]

    [freeze] = rig.client.get("/v1/alarms", params={"equipment": FRIDGE}).json()
    assert freeze == {
        "alarm_id": A_FREEZE,
        "equipment": FRIDGE,
        "facility": CLINIC,
        "kind": "freeze",
        "severity": 4,
        "rules_version": "rules-v1",
        "opened_at_ms": NOW - 2 * HOUR,
        "raised_at_ms": NOW - 2 * HOUR,
        "closed_at_ms": None,
        "open": True,
        "min_c": -1.2,
        "max_c": -0.5,
        "tier": "cdc",
        "tier_since_ms": NOW - 2 * HOUR,
        "acked_at_ms": None,
        "acked_by": None,
        "ack_comment": None,
    }


def test_one_alarm_with_its_history(rig: Rig) -> None:
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 2 * HOUR, NOW - HOUR)
    rig.book.escalate(NOW)

    r = rig.client.get(f"/v1/alarms/{A_FREEZE[:8]}")

    assert r.status_code == 200
    alarm = r.json()
    assert (alarm["alarm_id"], alarm["tier"], alarm["open"]) == (A_FREEZE, "regulator", False)
    assert [(e["action"], e["tier"], e["at_ms"]) for e in alarm["history"]] == [
        ("raised", "cdc", NOW - 2 * HOUR),
        ("closed", None, NOW - HOUR),
        ("escalated", "regulator", NOW),
    ]


@pytest.mark.parametrize(
    ("alarm_id", "status", "reason"),
    [("ffffffff", 404, "unknown_alarm"), ("a1a", 400, "ambiguous_alarm_id"), ("not-hex", 422, "invalid_request")],
)
def test_an_unknown_or_unclear_alarm_id(rig: Rig, alarm_id: str, status: int, reason: str) -> None:
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - HOUR)
    for r in (
        rig.client.get(f"/v1/alarms/{alarm_id}"),
        rig.client.post(f"/v1/alarms/{alarm_id}/ack", json={"by": "Li Na", "comment": "checked"}, headers=AUTH),
    ):
        assert (r.status_code, r.json()["reason"]) == (status, reason)


# --- acknowledging -----------------------------------------------------------------------------------------------


def test_acknowledging_needs_the_token_and_stops_the_escalation(rig: Rig) -> None:
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 10 * MIN)
    body = {"by": "Li Na", "comment": "door left open; stock moved to fridge 2"}
    url = f"/v1/alarms/{A_FREEZE}/ack"

    for headers, reason in (
        ({}, "missing_token"),
        ({"Authorization": "Bearer wrong-token-of-some-length"}, "invalid_token"),
        ({"Authorization": f"Basic {TOKEN}"}, "missing_token"),
    ):
        r = rig.client.post(url, json=body, headers=headers)
        assert (r.status_code, r.json()["reason"]) == (401, reason)
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert rig.book.get(A_FREEZE).acked_at_ms is None

    rig.clock[0] = NOW + MIN
    r = rig.client.post(url, json=body, headers=AUTH)

    assert r.status_code == 200
    assert (r.json()["acked_by"], r.json()["ack_comment"], r.json()["acked_at_ms"]) == (
        "Li Na",
        body["comment"],
        NOW + MIN,
    )
    assert rig.book.escalate(NOW + 10 * HOUR) == []  # it would have reached the regulator
    shown = rig.client.get(f"/v1/alarms/{A_FREEZE}").json()
    assert shown["history"][-1] == {
        "at_ms": NOW + MIN,
        "action": "acknowledged",
        "tier": "cdc",
        "actor": "Li Na",
        "detail": body["comment"],
    }
    assert [a["alarm_id"] for a in rig.client.get("/v1/alarms", params={"state": "unacked"}).json()] == []

    again = rig.client.post(url, json={"by": "Dr Wang", "comment": "again"}, headers=AUTH)
    assert (again.status_code, again.json()["reason"]) == (409, "already_acknowledged")


@pytest.mark.parametrize(
    "body",
    [
        {"by": "Li Na"},
        {"by": "   ", "comment": "checked"},
        {"by": "Li Na", "comment": " \t"},
        {"by": "Li Na", "comment": "checked", "comments": "typo"},
        "not an object",
    ],
)
def test_a_bad_acknowledgement_body_is_422_and_changes_nothing(rig: Rig, body) -> None:
    rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 10 * MIN)
    r = rig.client.post(f"/v1/alarms/{A_FREEZE}/ack", json=body, headers=AUTH)
    assert (r.status_code, r.json()["reason"]) == (422, "invalid_request")
    assert rig.book.get(A_FREEZE).acked_at_ms is None


def test_without_a_configured_token_acknowledging_is_refused_and_reads_stay_open(tmp_path: Path) -> None:
    for rig in rig_for(tmp_path, token=None):
        rig.alarm(A_FREEZE, FRIDGE, "freeze", 4, NOW - 10 * MIN)
        r = rig.client.post(f"/v1/alarms/{A_FREEZE}/ack", json={"by": "Li Na", "comment": "checked"}, headers=AUTH)
        assert (r.status_code, r.json()["reason"]) == (403, "ack_disabled")
        assert "VAXLEDGER_ORACLE_API_TOKEN" in r.json()["detail"]
        assert rig.book.get(A_FREEZE).acked_at_ms is None
        assert rig.client.get("/v1/alarms").status_code == 200


# --- the whole path ----------------------------------------------------------------------------------------------


def test_a_freeze_ingested_over_http_shows_on_the_board_and_is_acknowledged(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    registry = Registry([DeviceEntry("probe-a", FRIDGE, "fridge", public_bytes(key).hex(), CLINIC)])
    clock = [NOW]
    with Store(tmp_path / "oracle.db") as store:
        book = AlarmBook(store, TierPolicy.load(DEFAULT_TIERS_PATH))
        rules = RuleSet.load()
        ingestor = Ingestor(
            store,
            ReadingValidator(registry.validator_devices(), clock=lambda: clock[0]),
            rules,
            book,
            registry,
            clock=lambda: clock[0],
        )
        source = QuerySource(store, book, lambda: registry, rules, SecretStr(TOKEN), clock=lambda: clock[0])
        client = TestClient(create_app(ingestor, queries=source))
        readings = [Reading("probe-a", FRIDGE, s, NOW - (90 - 5 * s) * MIN, -8) for s in range(19)]  # 90 min at -0.8
        posted = client.post("/v1/readings", json=[message_fields(r, sign(key, r)) for r in readings])
        assert posted.json()["accepted"] == 19

        [entry] = client.get("/v1/equipment").json()
        assert (entry["status"], entry["last_temp_c"]) == ("alarm", -0.8)
        [alarm] = entry["open_alarms"]
        assert (alarm["kind"], alarm["tier"]) == ("freeze", "cdc")

        r = client.post(f"/v1/alarms/{alarm['alarm_id']}/ack", json={"by": "Li Na", "comment": "moved"}, headers=AUTH)
        assert r.status_code == 200
        assert book.escalate(NOW + 2 * HOUR) == []


def test_the_running_daemon_serves_the_read_api(tmp_path: Path) -> None:
    devices.save(REGISTRY, tmp_path / "devices.json")
    no_chain = {
        "VAXLEDGER_ORACLE_MQTT_PORT": "0",
        "VAXLEDGER_ORACLE_RPC_URL": f"http://127.0.0.1:{free_port()}",
        "VAXLEDGER_ORACLE_MANIFEST": str(tmp_path / "no-manifest.json"),  # the chain worker retries meanwhile
        "VAXLEDGER_ORACLE_API_TOKEN": TOKEN,
    }
    oracle = OracleProcess(tmp_path, no_chain).start()
    try:
        board = httpx.get(oracle.url + "/v1/equipment").json()
        assert [(e["equipment"], e["status"]) for e in board] == [
            (FRIDGE, "no_data"),
            (VAN, "no_data"),
            (FREEZER, "no_data"),
        ]
        r = httpx.post(oracle.url + f"/v1/alarms/{A_FREEZE}/ack", json={"by": "Li Na", "comment": "checked"})
        assert (r.status_code, r.json()["reason"]) == (401, "missing_token")
        r = httpx.post(
            oracle.url + f"/v1/alarms/{A_FREEZE}/ack", json={"by": "Li Na", "comment": "checked"}, headers=AUTH
        )
        assert (r.status_code, r.json()["reason"]) == (404, "unknown_alarm")
    finally:
        assert oracle.stop() == 0, oracle.log_tail()


def test_the_openapi_contract(rig: Rig) -> None:
    spec = rig.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/equipment",
        "/v1/equipment/{equipment}/readings",
        "/v1/equipment/{equipment}/record",
        "/v1/alarms",
        "/v1/alarms/{alarm_id}",
    ):
        assert "200" in paths[path]["get"]["responses"]
    ack = paths["/v1/alarms/{alarm_id}/ack"]["post"]
    assert ack["security"] == [{"HTTPBearer": []}]
    assert {"200", "401", "403", "404", "409", "422"} <= set(ack["responses"])
    record = paths["/v1/equipment/{equipment}/record"]["get"]["responses"]
    assert record["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RecordOut"}
    assert record["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProblemOut"}
    assert "ack_disabled" in spec["components"]["schemas"]["ProblemReason"]["enum"]
