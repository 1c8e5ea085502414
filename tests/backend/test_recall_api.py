"""A recall: doses stop at once, every affected family is notified, the CDC gets the list of people to
reach (and the reading is audited), and a person deleted before is no longer linkable."""

from __future__ import annotations

import uuid

from backend.db.models import chainview as cv
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import Stack


def give(stack: Stack, lot: int, person: str) -> None:
    with stack.rt.db.sessions() as s:
        number = s.get(cv.Lot, lot).lot_number
    code = gs1(GTIN_HEPB, number, uuid.uuid4().hex[:10])
    stack.staff["nurse"].ok("post", "/v1/staff/doses", {"code": code, "person_id": person})


def test_recall_notifies_the_affected_and_lists_whom_to_reach(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=10)
    parent, fam = stack.citizen(children=1)
    adult, fam_adult = stack.citizen()
    bystander, fam_other = stack.citizen()
    give(stack, lot, fam["children"][0])
    give(stack, lot, fam_adult["self"])
    other_lot = stack.stocked_lot(to_clinic=5)
    give(stack, other_lot, fam_other["self"])

    result = stack.staff["regulator"].ok("post", f"/v1/regulator/lots/{lot}/recall", {"document": "sterility failure"})
    assert result["doses_given"] == 2

    (notice,) = parent.ok("get", "/v1/me/notifications")
    assert notice["kind"] == "recall" and notice["person_id"] == fam["children"][0] and not notice["read"]
    assert "召回" in notice["message_zh"]
    assert len(adult.ok("get", "/v1/me/notifications")) == 1
    assert bystander.ok("get", "/v1/me/notifications") == []
    parent.ok("post", f"/v1/me/notifications/{notice['id']}/read", status=204)
    assert parent.ok("get", "/v1/me/notifications")[0]["read"] is True
    assert bystander.post(f"/v1/me/notifications/{notice['id']}/read").status_code == 404

    listing = stack.staff["cdc"].ok("get", f"/v1/cdc/recalls/{lot}/recipients")
    assert listing["doses"] == 2 and listing["reachable"] == 2
    by_name = {r["name"]: r for r in listing["recipients"]}
    assert by_name["孩子0"]["guardian_phones"] == [fam["phone"]]
    assert by_name["测试市民"]["phone"] == fam_adult["phone"]
    audit = stack.staff["admin"].ok("get", "/v1/admin/audit?action=read_recall_recipients")
    assert audit[0]["target"] == f"lot {lot}" and audit[0]["role"] == "cdc"


def test_a_deleted_person_is_no_longer_linkable(stack: Stack) -> None:
    lot = stack.stocked_lot(to_clinic=5)
    parent, fam = stack.citizen(children=1)
    child = fam["children"][0]
    give(stack, lot, child)
    parent.ok("delete", f"/v1/me/family/{child}", status=204)
    stack.staff["regulator"].ok("post", f"/v1/regulator/lots/{lot}/recall", {"document": "label error"})
    listing = stack.staff["cdc"].ok("get", f"/v1/cdc/recalls/{lot}/recipients")
    assert listing["doses"] == 1 and listing["unlinked"] == 1
    assert listing["recipients"][0]["person_id"] is None and "name" not in listing["recipients"][0]
    assert parent.ok("get", "/v1/me/notifications") == []


def test_a_manufacturer_recalls_only_its_own_lots(stack: Stack) -> None:
    lot = stack.lot()
    stack.staff["maker"].ok("post", f"/v1/regulator/lots/{lot}/recall", {"document": "0x" + "11" * 32})
    with stack.rt.db.sessions() as s:
        assert s.get(cv.Lot, lot).status == "recalled"
    again = stack.staff["maker"].post(f"/v1/regulator/lots/{lot}/recall", {"document": "again"})
    assert again.status_code == 409 and again.json()["error"]["reason"] == "lot_under_recall"
