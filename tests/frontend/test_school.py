"""School-entry verification end to end: a guardian signs a consent for the school in the citizen's pages
and is shown its QR code; the school scans the token with two more into its roster, verifies the roster
and prints the result; the guardian then sees who verified the child."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.backend.live import live_stack
from tests.backend.stack import PASSWORD, Stack
from tests.frontend.browser import visit
from tests.frontend.district import give

SCHOOL_NAME = "School"  # build_district's school account


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with live_stack(tmp_path_factory.mktemp("school")) as (stack, base):
        yield stack, base


def test_a_school_verifies_a_roster(platform: tuple[Stack, str], browser: Browser) -> None:
    stack, base = platform
    lot = stack.stocked_lot(doses=30, to_clinic=10)
    parent, family = stack.citizen(children=1)
    child = family["children"][0]
    give(stack, lot, person_id=child)
    [school] = [s for s in parent.ok("get", "/v1/schools") if s["name"] == SCHOOL_NAME]
    other_parent, other = stack.citizen(children=1)
    other_token = other_parent.ok(
        "post", f"/v1/me/family/{other['children'][0]}/consents", {"school_id": school["id"]}
    )["token"]

    with visit(browser, base, width=390, height=844) as guardian:
        guardian.sign_in(family["phone"], PASSWORD)
        page = guardian.nav("入学查验")
        page.get_by_label("学校").select_option(label=SCHOOL_NAME)
        page.get_by_role("button", name="签署授权").click()
        expect(page.get_by_text("授权已签署。请向学校出示下面的二维码。")).to_be_visible()
        qr = page.get_by_role("img", name="孩子0 的入学查验二维码").first
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
        token = page.get_by_label("查验码").first.inner_text()
        assert token.startswith("VX1-")
        guardian.shot("citizen-school-qr")

    with visit(browser, base) as v:
        v.sign_in("school")
        page = v.page
        scan = page.get_by_label("扫码")
        for code in (token, other_token):
            scan.type(code)
            scan.press("Enter")  # as the scanner ends each code
        roster = page.get_by_label("名册（每行一名学生）")
        roster.fill(f"{roster.input_value()}转学生, VX1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")
        expect(page.get_by_text("名册中有 3 名学生")).to_be_visible()
        v.shot("school-roster")
        page.get_by_role("button", name="查验", exact=True).click()
        results = page.get_by_role("table", name="共 3 名学生")
        expect(results).to_be_visible()
        rows = results.locator("tbody tr")
        expect(rows.nth(0)).to_have_attribute("data-status", "not_complete")
        expect(rows.nth(0)).to_contain_text(re.compile(r"疫苗第 \d 剂|卡介苗第 1 剂"))  # what is missing, by name
        expect(rows.nth(1)).to_have_attribute("data-status", "not_complete")
        expect(rows.nth(2)).to_have_attribute("data-status", "not_verifiable")
        expect(rows.nth(2)).to_contain_text("转学生")  # the school's own label, kept in the page
        v.shot("school-verify")
        page.emulate_media(media="print")
        expect(page.get_by_role("button", name="查验", exact=True)).to_be_hidden()
        v.shot("school-print")

    with visit(browser, base, width=390, height=844) as guardian:
        guardian.sign_in(family["phone"], PASSWORD)
        page = guardian.nav("入学查验")
        checks = page.get_by_role("table", name="查验记录")
        expect(checks.get_by_text(SCHOOL_NAME)).to_be_visible()
        expect(checks.get_by_text("未完成")).to_be_visible()
        guardian.shot("citizen-school-checks")
