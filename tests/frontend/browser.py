"""Debian's Chromium, headless, driven by Playwright (never its own browser builds): a page per test that
speaks Chinese in the district's time zone, keeps a record of what it asked for, and saves screenshots
under test-artifacts/frontend/."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import Browser, Page, expect

from tests.backend.stack import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts" / "frontend"
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)  # a write waits for its block, a page for the indexer


def build_frontend() -> None:
    subprocess.run(["node", "frontend/build.mjs"], cwd=ROOT, check=True, capture_output=True, timeout=120)


@dataclass
class Visit:
    """One browser context on one backend: the page, and every problem it met."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base}/#{path}")
        return self.page

    def nav(self, label: str) -> Page:
        self.page.get_by_role("navigation", name="主导航").get_by_role("link", name=label, exact=True).click()
        return self.page

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    def sign_in(self, login: str, password: str = PASSWORD) -> None:
        self.open("/login")
        form = self.page.get_by_role("form", name="登录")
        form.get_by_label("手机号或用户名").fill(login)
        form.get_by_label("密码").fill(password)
        form.get_by_role("button", name="登录").click()
        expect(self.page.get_by_role("navigation", name="主导航")).to_be_visible()


@contextmanager
def visit(browser: Browser, base: str, *, width: int = 1280, height: int = 900) -> Iterator[Visit]:
    """A fresh context (no session shared between roles). On leaving, the page must have raised no script
    error and asked nothing of any origin but the backend's (nothing from a CDN, no external font)."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    v = Visit(page, base)
    origin = urlparse(base).netloc
    page.on("pageerror", lambda error: v.errors.append(str(error)))
    page.on(
        "request",
        lambda request: (
            None
            if urlparse(request.url).scheme in ("data", "blob") or urlparse(request.url).netloc == origin
            else v.foreign.append(request.url)
        ),
    )
    try:
        yield v
    finally:
        context.close()
    assert not v.errors, f"script errors on the page: {v.errors}"
    assert not v.foreign, f"the page fetched from elsewhere: {v.foreign}"
