"""Clinic staff: receive a delivery after seeing its trip's temperature record (and see one refused when the
trip was too warm), find today's appointment, and have a dose from a quarantined fridge refused on screen
in the interlock's words; record a dose from good stock, report an adverse event, look at the stock."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.backend.live import live_stack
from tests.backend.stack import Stack
from tests.frontend.browser import visit
from tests.frontend.district import bracketed, slot

QUARANTINE_REFUSAL = "该设备中的疫苗因温度异常已被隔离，请勿使用"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with live_stack(tmp_path_factory.mktemp("clinic")) as (stack, base):
        yield stack, base


def test_a_nurse_receives_a_delivery_and_a_too_warm_one_is_refused(
    platform: tuple[Stack, str], browser: Browser
) -> None:
    stack, base = platform
    lot = stack.lot(doses=100)
    stack.receive("warehouse", stack.ship("maker", lot, stack.maker_room, stack.cdc, 100), stack.cdc_room)
    good = stack.ship("warehouse", lot, stack.cdc_room, stack.clinic, 30)

    with visit(browser, base) as v:
        v.sign_in("nurse")
        page = v.nav("到货验收")
        incoming = page.locator("li.card", has_text=f"发货单 #{good}")
        incoming.get_by_role("button", name="查看温度记录并验收").click()
        panel = page.locator("section.card", has_text="运输全程温度记录")
        expect(panel.get_by_text("运输全程温度记录完整且在范围内")).to_be_visible()
        expect(panel.get_by_text("4.1 °C – 6.3 °C")).to_be_visible()
        panel.get_by_label("入库到").select_option(label="FRIDGE2 · 冰箱")
        v.shot("clinic-receive")
        panel.get_by_role("button", name="验收入库").click()
        expect(panel.get_by_text("已验收入库 30 剂。")).to_be_visible()

        stack.oracle.records[stack.van] = {"max_c": 12.4}  # the van warmed up on this trip
        warm = stack.ship("warehouse", lot, stack.cdc_room, stack.clinic, 10)
        page.reload()
        page.locator("li.card", has_text=f"发货单 #{warm}").get_by_role("button", name="查看温度记录并验收").click()
        panel = page.locator("section.card", has_text="运输全程温度记录")
        expect(panel.get_by_text("最高温度 12.4 °C 超过 8.0 °C")).to_be_visible()
        panel.get_by_role("button", name="拒收").click()
        expect(panel.get_by_text("已拒收，并已记录在区块链上。")).to_be_visible()
        v.shot("clinic-receive-refused")
        stack.oracle.records.pop(stack.van)

    shipments = {s["id"]: s for s in stack.staff["nurse"].ok("get", "/v1/staff/shipments?direction=incoming")}
    assert (shipments[good]["status"], shipments[good]["accepted"]) == ("received", 30)
    assert shipments[warm]["status"] == "refused"


def test_a_dose_from_a_quarantined_fridge_is_refused_on_screen(platform: tuple[Stack, str], browser: Browser) -> None:
    stack, base = platform
    lot = stack.stocked_lot(doses=40, to_clinic=10)  # into the clinic's FRIDGE
    parent, family = stack.citizen(children=1)
    parent.ok("post", "/v1/appointments", {"slot_id": slot(stack, 2), "person_id": family["children"][0]})
    stack.staff["cdc"].ok("post", f"/v1/cdc/equipment/{stack.fridge}/quarantine", {"note": "thermostat fault"})

    with visit(browser, base) as v:
        v.sign_in("nurse")
        page = v.page
        expect(page.get_by_role("heading", name="今日预约", level=1)).to_be_visible()
        row = page.locator("tr", has_text="孩子0")
        expect(row.get_by_text("已预约")).to_be_visible()
        v.shot("clinic-appointments")
        row.get_by_role("link", name="登记接种").click()

        expect(page.get_by_text("受种者：孩子0")).to_be_visible()
        code = page.get_by_role("textbox", name="追溯码")
        expect(code).to_be_focused()  # ready for the scanner
        code.type(bracketed(stack, lot))
        code.press("Enter")  # as a scanner ends its code
        refusal = page.get_by_role("alert").filter(has_text=QUARANTINE_REFUSAL)
        expect(refusal).to_be_visible()
        expect(refusal).to_contain_text("stock_in_quarantine")
        v.shot("clinic-dose-refused")

        page.get_by_role("button", name="English").click()
        expect(page.get_by_role("heading", name="Record a dose", level=1)).to_be_visible()
        page.get_by_role("button", name="中文").click()

        v.nav("库存")
        fridge = page.locator(f"section.card[data-equipment='{stack.fridge}']")
        expect(fridge.get_by_text("温度异常")).to_be_visible()
        # all ten doses quarantined (a whole cell: a lot number may contain "10" too)
        expect(fridge.locator("td").filter(has_text=re.compile(r"^\s*10\s*$"))).to_have_count(1)
        v.shot("clinic-stock")


def test_a_dose_is_recorded_by_scan_and_an_adverse_event_reported(
    platform: tuple[Stack, str], browser: Browser
) -> None:
    stack, base = platform
    lot = stack.stocked_lot(doses=40, to_clinic=10, fridge="fridge2")
    code = bracketed(stack, lot)

    with visit(browser, base) as v:
        v.sign_in("nurse")
        page = v.nav("接种登记")
        walk_in = page.get_by_role("form", name="现场登记")
        walk_in.get_by_label("姓名").fill("周大海")
        walk_in.get_by_label("出生日期").fill("1985-07-09")
        walk_in.get_by_label("男").check()
        walk_in.get_by_role("button", name="登记受种者").click()
        expect(page.get_by_text("受种者：周大海")).to_be_visible()
        scan = page.get_by_role("textbox", name="追溯码")
        scan.type(code)
        scan.press("Enter")
        expect(page.get_by_text("已登记第 1 剂。")).to_be_visible()
        expect(scan).to_have_value("")  # cleared for the next vial
        v.shot("clinic-dose-recorded")

        scan.type(code)  # the same unit again: used up
        scan.press("Enter")
        expect(page.get_by_role("alert")).to_be_visible()

        page = v.nav("不良反应报告")
        page.get_by_role("textbox", name="追溯码").fill(code)
        page.get_by_label("分类").select_option(label="一般反应")
        page.get_by_label("严重程度").select_option(label="非严重")
        page.get_by_label("发生时间").fill("2026-01-05T10:30")
        page.get_by_label("临床描述").fill("接种部位红肿，直径 2 cm")
        page.get_by_role("button", name="提交报告").click()
        expect(page.get_by_text("报告已提交，请在 48 小时内报告区疾控中心。")).to_be_visible()
        v.shot("clinic-aefi")
