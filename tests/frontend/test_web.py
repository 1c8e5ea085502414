"""The backend serves the built frontend at / beside the API: the page with its security headers, assets
named after their content and cached for good, the API's docs and schema untouched; and the frontend's
pure logic passes its own tests (Node's test runner)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.core.config import BackendSettings
from backend.core.envelope import Keyring
from tests.frontend.browser import ROOT


@pytest.fixture(scope="module")
def client(built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app without its runtime started: serving pages needs no chain."""
    workdir = tmp_path_factory.mktemp("web")
    settings = BackendSettings(database_url=f"sqlite:///{workdir / 'b.db'}", master_keys=Keyring.generate_text("t"))
    yield TestClient(create_app(settings))


def test_the_page_is_served_at_the_root_with_its_assets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-cache"
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert len(assets) == 2
    for path in assets:
        asset = client.get(path)
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    assert client.get("/assets/nothing-here.js").json()["error"]["reason"] == "not_found"
    assert client.get("/assets/..%2Fbackend.db").status_code in (404, 422)


def test_the_api_docs_and_schema_stay_as_they_were(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/assets") for p in paths)
    assert "/v1/facilities" in paths


def test_nothing_is_fetched_from_elsewhere(built: None) -> None:
    """No script, style or font from a CDN: the bundle names no other origin to load from."""
    dist = ROOT / "frontend" / "dist"
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", (dist / "index.html").read_text())
    for css in (dist / "assets").glob("*.css"):
        assert not re.search(r"@import|url\((['\"]?)(https?:)?//", css.read_text())


def test_the_frontend_logic_passes_its_own_tests() -> None:
    run = subprocess.run(["node", "--test", "frontend/tests/"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
