"""The regulator: releases a lot awaiting batch release, recalls a lot from which a dose was given and sees
the count and the list of affected doses, audits the recalled lot's whole history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.backend.live import live_stack
from tests.backend.stack import Stack
from tests.frontend.browser import visit
from tests.frontend.district import give, lot_number


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with live_stack(tmp_path_factory.mktemp("regulator")) as (stack, base):
        yield stack, base


def test_the_regulator_releases_recalls_and_audits_a_lot(platform: tuple[Stack, str], browser: Browser) -> None:
    stack, base = platform
    waiting = stack.lot(doses=500, release=False)
    given = stack.stocked_lot(doses=30, to_clinic=10)
    _, family = stack.citizen(children=1)
    give(stack, given, person_id=family["children"][0])
    number = lot_number(stack, given)

    with visit(browser, base) as v:
        v.sign_in("regulator")
        page = v.page
        card = page.locator(f"li.card[data-lot='{waiting}']")
        expect(card.get_by_text("待批签发")).to_be_visible()
        card.get_by_label("批签发证明").fill("粤批签 2026-0042：检验合格")
        v.shot("regulator-release")
        card.get_by_role("button", name="批签发").click()
        expect(card.get_by_text(f"批号 {lot_number(stack, waiting)} 已批签发。")).to_be_visible()

        page = v.nav("召回")
        page.get_by_label("批号").fill(number)
        page.get_by_role("button", name="查询").click()
        card = page.locator(f"li.card[data-lot='{given}']")
        card.get_by_label("召回通知").fill("质量抽检不合格，立即召回")
        card.get_by_role("button", name="召回").click()
        page.get_by_role("dialog").get_by_role("button", name="召回").click()
        expect(card.get_by_text(f"批号 {number} 已召回，已接种 1 剂。")).to_be_visible()
        expect(page.get_by_text("共 1 剂，其中 1 剂可联系到受种者，0 剂的个人信息已删除。")).to_be_visible()
        expect(page.get_by_role("table", name="受影响的接种").get_by_text("孩子0")).to_be_visible()
        v.shot("regulator-recall")

        page = v.nav("批次审计")
        page.get_by_label("批号").fill(number)
        page.get_by_role("button", name="查询").click()
        page.get_by_role("link", name=number).click()
        expect(page.get_by_role("heading", name=f"批次审计：#{given}")).to_be_visible()
        expect(page.get_by_text("生产 30 = 在库 29 + 在途 0 + 已接种 1 + 报废 0")).to_be_visible()
        expect(page.get_by_text("账目平衡。")).to_be_visible()
        expect(page.get_by_role("table", name="链上事件").get_by_text("LotRecalled")).to_be_visible()
        v.shot("regulator-audit")
