"""The browser suite: the frontend is built from its sources once per session, and one headless Chromium
serves every test; each test module runs its own platform (tests.backend.live.py) and stops it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.frontend.browser import CHROMIUM, CHROMIUM_ARGS, build_frontend


@pytest.fixture(scope="session")
def built() -> None:
    build_frontend()


@pytest.fixture(scope="session")
def browser(built: None) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium (requirements/system.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
