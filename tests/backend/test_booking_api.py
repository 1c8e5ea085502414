"""Sites with live stock, and citizens booking, rescheduling and cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.backend.stack import Stack, running_stack


def slot(stack: Stack, *, vaccine: str = "MMR", capacity: int = 2, days: int = 1, who: str = "nurse") -> int:
    start = (datetime.now(UTC) + timedelta(days=days)).isoformat()
    body = {"vaccine_type": vaccine, "start": start, "capacity": capacity}
    return stack.staff[who].ok("post", "/v1/staff/slots", body)["slot_id"]


def mmr_at_clinic(stack: Stack, doses: int) -> int:
    lot = stack.lot(product="mmr", doses=100)
    shipment = stack.ship("maker", lot, stack.maker_room, stack.cdc, 100)
    stack.receive("warehouse", shipment, stack.cdc_room)
    shipment = stack.ship("warehouse", lot, stack.cdc_room, stack.clinic, doses)
    stack.receive("nurse", shipment, stack.fridge)
    return lot


def site(stack: Stack, query: str = "") -> dict:
    sites = stack.anonymous().ok("get", f"/v1/sites{query}")
    return next(s for s in sites if s["id"] == stack.clinic)


def test_sites_show_bookable_stock_and_next_slots(stack: Stack) -> None:
    before = site(stack).get("stock", {}).get("MMR", 0)
    mmr_at_clinic(stack, 7)
    s_id = slot(stack, capacity=3)
    clinic = site(stack, "?vaccine=MMR")
    assert clinic["stock"]["MMR"] == before + 7
    assert s_id in [s["id"] for s in stack.anonymous().ok("get", f"/v1/sites/{stack.clinic}/slots?vaccine=MMR")]
    assert all(s["vaccine_type"] == "MMR" for s in clinic["next_slots"])
    assert stack.clinic2 not in [s["id"] for s in stack.anonymous().ok("get", "/v1/sites?vaccine=MMR")]
    assert stack.anonymous().ok("get", "/v1/sites?area=999") == []
    r = stack.anonymous().get("/v1/sites?area=44;drop")
    assert r.status_code == 422 and r.json()["error"]["reason"] == "invalid_request"


def test_a_booking_holds_a_dose_and_cancelling_frees_it(stack: Stack) -> None:
    mmr_at_clinic(stack, 3)
    s_id = slot(stack, capacity=5)
    citizen, fam = stack.citizen(children=1)
    bookable = site(stack)["stock"]["MMR"]
    booking = citizen.ok("post", "/v1/appointments", {"slot_id": s_id, "person_id": fam["children"][0]})
    assert site(stack)["stock"]["MMR"] == bookable - 1
    mine = citizen.ok("get", "/v1/appointments")
    assert mine[0]["booking_id"] == booking["booking_id"] and mine[0]["status"] == "booked"
    assert mine[0]["person_name"] == "孩子0" and mine[0]["site_id"] == stack.clinic
    citizen.ok("delete", f"/v1/appointments/{booking['booking_id']}")
    assert site(stack)["stock"]["MMR"] == bookable
    assert citizen.ok("get", "/v1/appointments")[0]["status"] == "cancelled"
    again = citizen.delete(f"/v1/appointments/{booking['booking_id']}")
    assert again.status_code == 409 and again.json()["error"]["reason"] == "booking_not_active"


def test_a_full_slot_is_refused(stack: Stack) -> None:
    mmr_at_clinic(stack, 5)
    s_id = slot(stack, capacity=1)
    first, fam1 = stack.citizen()
    second, fam2 = stack.citizen()
    first.ok("post", "/v1/appointments", {"slot_id": s_id, "person_id": fam1["self"]})
    r = second.post("/v1/appointments", {"slot_id": s_id, "person_id": fam2["self"]})
    assert r.status_code == 409 and r.json()["error"]["reason"] == "slot_full"
    assert r.json()["error"]["message_zh"] == "该时段已约满"


def test_nobody_books_for_a_stranger_or_cancels_theirs(stack: Stack) -> None:
    mmr_at_clinic(stack, 3)
    s_id = slot(stack, capacity=5)
    owner, fam = stack.citizen()
    other, _ = stack.citizen()
    r = other.post("/v1/appointments", {"slot_id": s_id, "person_id": fam["self"]})
    assert r.status_code == 404 and r.json()["error"]["reason"] == "unknown_person"
    booking = owner.ok("post", "/v1/appointments", {"slot_id": s_id, "person_id": fam["self"]})["booking_id"]
    r = other.delete(f"/v1/appointments/{booking}")
    assert r.status_code == 404 and r.json()["error"]["reason"] == "unknown_booking"
    owner.ok("delete", f"/v1/appointments/{booking}")


def test_reschedule_moves_the_booking(stack: Stack) -> None:
    mmr_at_clinic(stack, 3)
    first, later = slot(stack, capacity=2), slot(stack, capacity=2, days=3)
    citizen, fam = stack.citizen()
    booking = citizen.ok("post", "/v1/appointments", {"slot_id": first, "person_id": fam["self"]})["booking_id"]
    moved = citizen.ok("post", f"/v1/appointments/{booking}/reschedule", {"slot_id": later})
    assert moved["slot_id"] == later
    statuses = {b["booking_id"]: (b["status"], b["slot_id"]) for b in citizen.ok("get", "/v1/appointments")}
    assert statuses[booking] == ("cancelled", first)
    assert statuses[moved["booking_id"]] == ("booked", later)


def test_a_refused_reschedule_keeps_a_place(stack: Stack) -> None:
    mmr_at_clinic(stack, 3)
    first, full = slot(stack, capacity=2), slot(stack, capacity=1, days=4)
    taker, fam_t = stack.citizen()
    taker.ok("post", "/v1/appointments", {"slot_id": full, "person_id": fam_t["self"]})
    citizen, fam = stack.citizen()
    booking = citizen.ok("post", "/v1/appointments", {"slot_id": first, "person_id": fam["self"]})["booking_id"]
    r = citizen.post(f"/v1/appointments/{booking}/reschedule", {"slot_id": full})
    assert r.status_code == 409 and r.json()["error"]["reason"] == "slot_full"
    active = [b for b in citizen.ok("get", "/v1/appointments") if b["status"] == "booked"]
    assert [b["slot_id"] for b in active] == [first]


def test_staff_see_todays_appointments_with_names(stack: Stack) -> None:
    mmr_at_clinic(stack, 3)
    start = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    s_id = stack.staff["nurse"].ok("post", "/v1/staff/slots", {"vaccine_type": "MMR", "start": start, "capacity": 2})[
        "slot_id"
    ]
    citizen, fam = stack.citizen(children=1)
    booking = citizen.ok("post", "/v1/appointments", {"slot_id": s_id, "person_id": fam["children"][0]})["booking_id"]
    day = (datetime.now(UTC) + timedelta(minutes=30)).astimezone().date().isoformat()
    listed = stack.staff["nurse"].ok("get", f"/v1/staff/appointments?day={day}")
    listed += stack.staff["nurse"].ok("get", "/v1/staff/appointments")
    entry = next(a for a in listed if a["booking_id"] == booking)
    assert entry["person_name"] == "孩子0" and entry["status"] == "booked"
    assert all(a["booking_id"] != booking for a in stack.staff["nurse2"].ok("get", "/v1/staff/appointments"))


def test_a_no_show_is_marked_missed_once_the_slot_is_over(tmp_path: Path) -> None:
    # its own chain: moving the clock two days on would end every other test's future slots
    with running_stack(tmp_path) as own:
        mmr_at_clinic(own, 3)
        s_id = slot(own, capacity=2)
        citizen, fam = own.citizen()
        booking = citizen.ok("post", "/v1/appointments", {"slot_id": s_id, "person_id": fam["self"]})["booking_id"]
        early = own.staff["nurse"].post(f"/v1/staff/appointments/{booking}/missed")
        assert early.status_code == 409 and early.json()["error"]["reason"] == "slot_not_over"
        held = site(own)["stock"]["MMR"]
        w3 = own.rt.ledgers.get().w3
        w3.provider.make_request("evm_increaseTime", [2 * 86_400])  # the slot (tomorrow, three hours) is over
        w3.provider.make_request("evm_mine", [])
        assert own.staff["nurse2"].post(f"/v1/staff/appointments/{booking}/missed").status_code == 404
        own.staff["nurse"].ok("post", f"/v1/staff/appointments/{booking}/missed")
        assert citizen.ok("get", "/v1/appointments")[0]["status"] == "missed"
        assert site(own)["stock"]["MMR"] == held + 1
