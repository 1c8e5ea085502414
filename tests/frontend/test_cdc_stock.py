"""A CDC officer's stock work: release part of a fridge's quarantined stock after review and dispose of
the rest, ship doses from the CDC's cold room to a clinic, look at the district's stock and coverage."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.backend.live import live_stack
from tests.backend.stack import Stack
from tests.frontend.browser import visit


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with live_stack(tmp_path_factory.mktemp("cdc-stock")) as (stack, base):
        yield stack, base


def test_a_cdc_officer_decides_on_quarantined_stock_and_ships(platform: tuple[Stack, str], browser: Browser) -> None:
    stack, base = platform
    lot = stack.stocked_lot(doses=60, to_clinic=12)
    stack.staff["cdc"].ok("post", f"/v1/cdc/equipment/{stack.fridge}/quarantine", {"note": "door left open"})

    with visit(browser, base) as v:
        v.sign_in("cdc")
        page = v.nav("隔离库存")
        row = page.locator(f"tr[data-lot='{lot}'][data-equipment='{stack.fridge}']")
        expect(row.get_by_text("12", exact=True)).to_be_visible()
        v.shot("cdc-quarantine")
        row.get_by_label("剂次").fill("4")
        row.get_by_role("button", name="解除隔离").click()
        page.get_by_role("dialog").get_by_role("button", name="确定").click()
        expect(page.get_by_role("alert")).to_contain_text("该设备正处于温度异常中")  # the fridge first
        row.get_by_role("button", name="设备恢复使用").click()
        page.get_by_role("dialog").get_by_role("button", name="确定").click()
        expect(page.get_by_text("设备已恢复使用。")).to_be_visible()
        row = page.locator(f"tr[data-lot='{lot}'][data-equipment='{stack.fridge}']")
        row.get_by_label("剂次").fill("4")
        row.get_by_role("button", name="解除隔离").click()
        page.get_by_role("dialog").get_by_role("button", name="确定").click()
        expect(page.get_by_text("已解除隔离。")).to_be_visible()
        row = page.locator(f"tr[data-lot='{lot}'][data-equipment='{stack.fridge}']")
        expect(row.get_by_text("8", exact=True)).to_be_visible()
        row.get_by_label("报废原因").select_option(label="温度异常")
        row.get_by_role("button", name="报废处置").click()
        page.get_by_role("dialog").get_by_role("button", name="确定").click()
        expect(page.get_by_text("没有隔离中的库存。")).to_be_visible()

        page = v.nav("发货")
        page.get_by_label("收货单位").select_option(label="clinic2")
        page.get_by_label("剂次").fill("5")
        page.get_by_role("button", name="发货", exact=True).click()
        expect(page.get_by_text("已发货，发货单")).to_be_visible()
        expect(page.locator("tr", has_text="clinic2")).to_be_visible()
        v.shot("cdc-ship")

        page = v.nav("全区库存")
        expect(page.get_by_role("table", name="各疫苗合计")).to_be_visible()
        v.shot("cdc-district-stock")

        stack.citizen(children=1)  # 200 days old, no dose: overdue for HepB
        page = v.nav("接种率")
        hepb = page.locator("tr[data-series='hepb']")
        expect(hepb.locator("td[data-label='逾期或漏种']")).to_have_text("1")
        expect(page.get_by_role("table", name="各年龄组")).to_contain_text("0 岁")
        v.shot("cdc-coverage")

    stock = {(s["equipment_id"], s["lot_id"]): s for s in stack.staff["nurse"].ok("get", "/v1/staff/stock")}
    assert (stock[stack.fridge, lot]["available"], stock[stack.fridge, lot]["quarantined"]) == (4, 0)
