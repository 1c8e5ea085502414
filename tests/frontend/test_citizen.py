"""A citizen, on a phone-sized screen: signs up, adds a child, finds a site with the vaccine and books a
slot, moves the booking, and once the clinic has given the dose sees it with its provenance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.backend.live import live_stack
from tests.backend.stack import Stack
from tests.frontend.browser import visit
from tests.frontend.district import give, slot

PHONE = "13912345678"
PHONE_SIZE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with live_stack(tmp_path_factory.mktemp("citizen")) as (stack, base):
        yield stack, base


def test_a_citizen_books_and_later_sees_the_dose_with_its_provenance(
    platform: tuple[Stack, str], browser: Browser, tmp_path: Path
) -> None:
    stack, base = platform
    lot = stack.stocked_lot(doses=50, to_clinic=20)
    first, later = slot(stack, 60), slot(stack, 180)

    with visit(browser, base, **PHONE_SIZE) as v:
        page = v.open("/login")
        v.shot("login")
        signup = page.get_by_role("form", name="市民注册")
        signup.get_by_label("手机号").fill(PHONE)
        signup.get_by_label("密码").fill("citizen-pass-1")
        signup.get_by_label("姓名").fill("陈静")
        signup.get_by_label("出生日期").fill("1991-04-02")
        signup.get_by_label("女").check()
        signup.get_by_role("button", name="注册并登录").click()

        expect(page.get_by_role("heading", name="家庭成员", level=1)).to_be_visible()
        page.get_by_label("姓名").fill("陈小雨")
        page.get_by_label("出生日期").fill("2026-02-01")
        page.get_by_label("男").check()
        page.get_by_role("button", name="添加", exact=True).click()
        expect(page.get_by_text("已添加 陈小雨")).to_be_visible()
        expect(page.get_by_role("heading", name="陈小雨（孩子）")).to_be_visible()
        v.shot("citizen-family")

        v.nav("预约接种")
        page.get_by_label("为谁预约").select_option(label="陈小雨（孩子）")
        page.get_by_label("疫苗").select_option(label="HepB vaccine")
        site = page.locator(f"li.site[data-site='{stack.clinic}']")
        expect(site.get_by_text("HepB vaccine 20", exact=True)).to_be_visible()
        v.shot("citizen-sites")
        site.get_by_role("button", name="预约").first.click()
        expect(site.get_by_text("已为 陈小雨 预约 clinic")).to_be_visible()

        v.nav("我的预约")
        booking = page.locator("li.booking").first
        expect(booking.get_by_text("已预约")).to_be_visible()
        expect(booking.get_by_text("受种者：陈小雨")).to_be_visible()
        booking.get_by_role("button", name="改约").click()
        booking.locator("button.slot").first.click()
        expect(page.get_by_text("已改约到")).to_be_visible()
        v.shot("citizen-bookings")

        [booked] = [b for b in stack.staff["nurse"].ok("get", "/v1/staff/appointments") if b["status"] == "booked"]
        assert booked["person_name"] == "陈小雨"
        assert first != later  # the booking moved to the later slot: the nurse's list knows only that one
        give(stack, lot, booking_id=booked["booking_id"])

        v.nav("接种记录")
        dose = page.locator("li.dose")
        expect(dose.get_by_text("HepB vaccine 第 1 剂")).to_be_visible()
        # made, released, then the maker's cold room, the van to the CDC, its cold room, the van to the clinic,
        # its fridge, and given there
        steps = dose.locator("ol.timeline > li")
        expect(steps).to_have_count(8)
        for kind, count in (("manufactured", 1), ("batch_released", 1), ("storage", 3), ("transport", 2)):
            expect(dose.locator(f"li.step.{kind}")).to_have_count(count)
        expect(dose.locator("li.step.transport").first).to_contain_text("从 MAKER_ROOM · maker 运往 CDC_ROOM · cdc")
        expect(dose.get_by_text("由 maker 生产")).to_be_visible()
        expect(dose.get_by_text("在 clinic 接种")).to_be_visible()
        v.shot("citizen-records")

        page.get_by_role("button", name="English").click()
        expect(dose.get_by_text("Given at clinic")).to_be_visible()
        v.shot("citizen-records-en")
        page.get_by_role("button", name="中文").click()

        v.nav("待接种")
        expect(page.get_by_role("heading", name="一年内应接种")).to_be_visible()
        expect(page.locator("li.reminder").first).to_be_visible()
        v.shot("citizen-due")
