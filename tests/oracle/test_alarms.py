"""Tiered alarms: the start tier by severity, escalation by unacknowledged time at its exact
minute, acknowledgement with a required comment, and the history of each alarm."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from oracle.alarms import AlarmBook, AlarmError, TierPolicy
from oracle.config import DEFAULT_TIERS_PATH
from oracle.reading import Reading
from oracle.rules import CLOSE, OPEN, AlarmEvent, ReadingRef
from oracle.store import Store

MIN = 60_000
T0 = 1_767_225_600_000


def event(kind: str, severity: int, action: str = OPEN, at: int = T0, opened: int = T0) -> AlarmEvent:
    ref = ReadingRef.of(Reading("d", 5, 1, opened, 90))
    return AlarmEvent(
        action=action,
        equipment=5,
        profile="fridge",
        kind=kind,
        severity=severity,
        at_ms=at,
        opened_at_ms=opened,
        closed_at_ms=at if action == CLOSE else None,
        trigger=ref,
        closed_by=None,
        exposure_ms=at - opened,
        min_dc=90,
        max_dc=120,
        rules_version="rules-v1",
    )


@pytest.fixture
def book(tmp_path: Path) -> AlarmBook:
    store = Store(tmp_path / "a.db")
    return AlarmBook(store, TierPolicy.load(DEFAULT_TIERS_PATH), facility_of=lambda eq: 40 + eq)


def raise_(book: AlarmBook, alarm_id: str, ev: AlarmEvent) -> None:
    with book.store.transaction() as db:
        book.record(db, alarm_id, ev, ev.at_ms)


@pytest.mark.parametrize(("severity", "tier"), [(1, "site"), (2, "site"), (3, "cdc"), (4, "cdc")])
def test_an_alarm_starts_at_the_tier_its_severity_names(book: AlarmBook, severity: int, tier: str) -> None:
    raise_(book, "a1" * 16, event("heat", severity))
    [alarm] = book.alarms()
    assert (alarm.tier, alarm.facility) == (tier, 45)


def test_heat_climbs_to_cdc_at_30_minutes_and_to_the_regulator_at_4_hours(book: AlarmBook) -> None:
    raise_(book, "b2" * 16, event("heat", 2))
    assert book.escalate(T0 + 30 * MIN - 1) == []
    [moved] = book.escalate(T0 + 30 * MIN)
    assert moved.tier == "cdc"
    assert book.escalate(T0 + 240 * MIN - 1) == []
    [moved] = book.escalate(T0 + 240 * MIN)
    assert moved.tier == "regulator"
    assert book.escalate(T0 + 10_000 * MIN) == []  # nothing above the regulator


def test_a_late_first_check_jumps_straight_to_the_tier_due(book: AlarmBook) -> None:
    raise_(book, "c3" * 16, event("heat", 2))
    [moved] = book.escalate(T0 + 300 * MIN)  # the daemon was down for five hours
    assert moved.tier == "regulator"
    assert [e.action for e in book.history("c3" * 16)] == ["raised", "escalated"]


def test_acknowledgement_needs_a_name_and_a_comment_and_stops_escalation(book: AlarmBook) -> None:
    raise_(book, "d4" * 16, event("freeze", 4))
    for by, comment in (("", "checked"), ("Nurse Li", ""), ("Nurse Li", "   ")):
        with pytest.raises(AlarmError):
            book.acknowledge("d4d4d4", by, comment, T0 + MIN)

    alarm = book.acknowledge("d4d4d4", "Nurse Li", "door was left open; stock moved to fridge 2", T0 + MIN)

    assert (alarm.acked_by, alarm.acked_at_ms) == ("Nurse Li", T0 + MIN)
    assert book.escalate(T0 + 600 * MIN) == []
    with pytest.raises(AlarmError, match="already acknowledged"):
        book.acknowledge("d4" * 16, "Dr Wang", "again", T0 + 2 * MIN)
    log = book.history("d4" * 16)
    assert [(e.action, e.actor) for e in log] == [("raised", None), ("acknowledged", "Nurse Li")]


def test_ids_are_matched_by_a_unique_prefix_only(book: AlarmBook) -> None:
    raise_(book, "e5aa00aa" + "0" * 56, event("heat", 2))
    raise_(book, "e5aa00bb" + "0" * 56, event("heat", 2, opened=T0 + 1))
    with pytest.raises(AlarmError, match="more than one"):
        book.get("e5aa00")
    with pytest.raises(AlarmError, match="at least"):
        book.get("e5")
    with pytest.raises(AlarmError, match="no alarm"):
        book.get("ffffff")
    assert book.get("E5AA00B").alarm_id.startswith("e5aa00bb")


def test_a_closed_silent_alarm_stops_escalating_but_a_closed_heat_alarm_does_not(book: AlarmBook) -> None:
    raise_(book, "f6" * 16, event("silent", 1))
    raise_(book, "f7" * 16, event("heat", 2))
    raise_(book, "f6" * 16, event("silent", 1, CLOSE, at=T0 + 10 * MIN))
    raise_(book, "f7" * 16, event("heat", 2, CLOSE, at=T0 + 10 * MIN))

    moved = book.escalate(T0 + 60 * MIN)

    assert [a.alarm_id for a in moved] == ["f7" * 16]  # quarantined stock still waits for a decision


def test_recording_is_idempotent(book: AlarmBook) -> None:
    raise_(book, "a7" * 16, event("heat", 2))
    raise_(book, "a7" * 16, event("heat", 2))
    raise_(book, "a7" * 16, event("heat", 2, CLOSE, at=T0 + MIN))
    raise_(book, "a7" * 16, event("heat", 2, CLOSE, at=T0 + 2 * MIN))
    assert [e.action for e in book.history("a7" * 16)] == ["raised", "closed"]
    assert book.get("a7" * 16).closed_at_ms == T0 + MIN


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(tiers=["site", "cdc"]), "tiers"),
        (lambda c: c["severity"]["2"].update(start="mayor"), "start tier"),
        (lambda c: c["severity"]["3"]["escalate_after_min"].update(site=5), "cannot escalate"),
        (lambda c: c["severity"]["2"]["escalate_after_min"].update(regulator=10), "sooner"),
        (lambda c: c["severity"]["2"]["escalate_after_min"].update(cdc=0), "positive"),
    ],
)
def test_a_bad_policy_is_refused_with_a_reason(edit, message: str) -> None:
    config = copy.deepcopy(json.loads(DEFAULT_TIERS_PATH.read_text()))
    edit(config)
    with pytest.raises(AlarmError, match=message):
        TierPolicy.from_config(config)
