"""Operations: liveness, readiness (chain, database, indexer lag) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from backend.api.deps import RuntimeDep

router = APIRouter(tags=["operations"])

MAX_LAG_BLOCKS = 50
"""Readiness fails when the indexer is further behind than this (reads would be stale)."""


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: chain and database reachable, indexer caught up")
def readyz(rt: RuntimeDep) -> Any:
    checks: dict[str, Any] = {}
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    head = None
    try:
        ledger = rt.ledgers.get()
        head = ledger.w3.eth.block_number
        checks["chain"] = {"status": "ok", "head": head, "chain_id": ledger.chain_id}
    except Exception as exc:
        checks["chain"] = {"status": f"error: {type(exc).__name__}: {exc}"[:300]}
    block = rt.indexed_block() if checks["database"] == "ok" else -1
    lag = None if head is None or block < 0 else max(head - rt.settings.confirmations - block, 0)
    here = rt.settings.indexer
    checks["indexer"] = {
        "in_this_process": here,
        "block": block,
        "lag_blocks": lag,
        "halted": rt.indexer.halted if here else None,
        "last_error": rt.indexer.last_error if here else None,
    }
    ready = (
        checks["database"] == "ok"
        and checks["chain"]["status"] == "ok"
        and checks["indexer"]["halted"] is None
        and lag is not None
        and lag <= MAX_LAG_BLOCKS
    )
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
