"""A tiny simulation end to end (one day, six sites, 5 % of the volumes: about 30 s): the report's numbers agree
with the chain and the backend's database, the platform is left consistent, every kind of event ran, and the
HTML report stands alone."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from simulate import page, report
from simulate.page import SECTIONS
from simulate.run import Settings, simulate


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("simulate")
    data = report.build(simulate(Settings(days=1, scale=0.05, sites=6, seed="test", out=out, progress=False)))
    report.write(data, out)
    page.write(data, out)
    return data, out


def test_the_reported_doses_are_the_chains_and_the_databases(run: tuple[dict[str, Any], Path]) -> None:
    data, out = run
    doses = data["throughput"]["doses"]
    assert doses > 0 and not data["run"]["errors"]
    checks = data["checks"]
    assert checks["doses_match"] and checks["dose_events"] == doses
    ops = data["gas"]["per_operation"]
    assert sum(o["count"] for op, o in ops.items() if op.startswith("recordDose")) == doses
    with sqlite3.connect(f"file:{out / 'platform' / 'backend.db'}?mode=ro", uri=True) as db:
        assert db.execute("SELECT COUNT(*) FROM doses").fetchone()[0] == doses


def test_doses_are_conserved_per_lot_and_the_backend_sees_the_chain(run: tuple[dict[str, Any], Path]) -> None:
    checks = run[0]["checks"]
    assert checks["conservation_holds"], checks["lots_unbalanced"]
    assert checks["view_matches_chain"], checks["view_differences"]


def test_gas_adds_up_by_operation_by_category_and_by_day(run: tuple[dict[str, Any], Path]) -> None:
    gas = run[0]["gas"]
    total = gas["total"]
    assert total == sum(o["gas_total"] for o in gas["per_operation"].values())
    assert total == sum(c["gas"] for c in gas["by_category"].values())
    assert total == sum(d[c]["gas"] for d in gas["per_day"] for c in ("care", "supply", "cold_chain"))
    assert 60_000 < gas["gas_per_dose"] < 100_000


def test_every_kind_of_event_ran(run: tuple[dict[str, Any], Path]) -> None:
    data = run[0]
    ops = data["gas"]["per_operation"]
    assert {"anchorWindow", "reportExcursion", "recallLot", "writeOff"} <= set(ops)
    assert data["workload"]["counts"]["recalls"] == 1
    assert data["latency"]["verify_roster"]["outcomes"] == {"ok": 1}
    assert {"reportExcursion", "closeExcursion"} <= set(ops)
    assert data["throughput"]["readings"] == 24 * 12 * data["run"]["equipment_with_loggers"] - _dead_readings(data)
    assert data["chain_state"]["growth"]["all_slots"] > 0
    assert data["database"]["db_bytes_per_dose"] > 0


def _dead_readings(data: dict[str, Any]) -> int:
    """Readings the dead sensor did not send in the measured day (it dies at its planned hour)."""
    dead = [f for f in data["workload"]["faults"] if f["kind"] == "dead"]
    return sum(12 * (24 - f["start_h"]) for f in dead)


def test_the_html_report_stands_alone_with_every_section(run: tuple[dict[str, Any], Path]) -> None:
    data, out = run
    html = (out / "report.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(script|link|img|iframe|object)\b|\bsrc=|@import|url\(", html, re.I)
    for key, zh, en in SECTIONS:
        assert f"id='{key}'" in html and zh in html and en in html
    assert "<svg" in html
    assert json.loads((out / "report.json").read_text())["throughput"]["doses"] == data["throughput"]["doses"]
    assert "以下全部是外推，不是测量" in html
