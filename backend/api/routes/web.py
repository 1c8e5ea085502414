"""The web frontend: frontend/ built into frontend/dist/ by `make setup` (frontend/build.mjs), served at /
with its assets under /assets/. Not part of the API: the API stays under /v1 and its docs at /docs.

The build names each asset after its content, so assets are cached for good and only index.html is
asked for again; the pages call the API on this origin alone, which the Content-Security-Policy holds
them to (no script, style, font or image from anywhere else)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from backend.errors import ApiError

DIST = Path(__file__).resolve().parents[3] / "frontend" / "dist"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # ECharts sizes its canvas and tooltip through element styles.
        "style-src 'self' 'unsafe-inline'",
        # QR codes are fetched with the session's token and shown from blob: URLs.
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}

NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>vaxledger</title>
<p>网页前端尚未构建：请运行 <code>make setup</code>。</p>
<p>The web frontend is not built: run <code>make setup</code>. The API is at <a href="/docs">/docs</a>.</p>"""

router = APIRouter(include_in_schema=False)
AssetName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+$", max_length=120)]


@router.get("/")
def index() -> Response:
    page = DIST / "index.html"
    if not page.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers={"Retry-After": "60"})
    return FileResponse(page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.get("/assets/{name}")
def asset(name: AssetName) -> Response:
    # The pattern admits no path separator, so the file is always one of dist/assets' own.
    path = DIST / "assets" / name
    if not path.is_file():
        raise ApiError(404, "not_found", f"no asset {name}", "找不到该文件")
    return FileResponse(path, headers=ASSET_HEADERS)
