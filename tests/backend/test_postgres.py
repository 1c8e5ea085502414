"""The production database: migrations match the models on SQLite and PostgreSQL, and the platform's main
path runs on a real PostgreSQL server (Debian's package, started for this module)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event

from backend.db import models  # noqa: F401 (every table)
from backend.db.base import Base
from backend.db.engine import Database
from backend.indexer.check import differences
from backend.services.queries import custody_events
from devnet.postgres import running_postgres
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import Stack, running_stack


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with running_postgres() as url:
        yield url


def unmigrated_differences(url: str) -> list[object]:
    Database(url).migrate()
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    return diff


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    assert unmigrated_differences(f"sqlite:///{tmp_path / 'm.db'}") == []


def test_migrations_match_the_models_on_postgres(postgres_url: str) -> None:
    assert unmigrated_differences(postgres_url) == []


def custody_plan(url: str) -> str:
    """How the database reads a lot's custody events: the statement and parameters the backend sends,
    explained by the database's query planner."""
    Database(url).migrate()
    engine = create_engine(url)
    sent: list[tuple[str, object]] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: sent.append((sql, params)))
    with engine.connect() as conn:
        conn.execute(custody_events(7)).all()
        ((sql, params),) = sent
        if url.startswith("sqlite"):
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask whether the index applies
            rows = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
    engine.dispose()
    return " ".join(str(row[-1]) for row in rows)


def test_a_lots_custody_is_read_without_its_doses_on_sqlite(tmp_path: Path) -> None:
    assert "ix_chain_events_lot_custody" in custody_plan(f"sqlite:///{tmp_path / 'm.db'}")


def test_a_lots_custody_is_read_without_its_doses_on_postgres(postgres_url: str) -> None:
    assert "ix_chain_events_lot_custody" in custody_plan(postgres_url)


def test_the_platform_runs_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    with running_stack(tmp_path, database_url=postgres_url) as stack:
        run_main_path(stack)


def run_main_path(stack: Stack) -> None:
    lot = stack.stocked_lot(doses=50, to_clinic=10)
    citizen, fam = stack.citizen(children=1)
    with stack.rt.db.sessions() as s:
        from backend.db.models import chainview as cv

        number = s.get(cv.Lot, lot).lot_number
    code = gs1(GTIN_HEPB, number, uuid.uuid4().hex[:8])
    stack.staff["nurse"].ok("post", "/v1/staff/doses", {"code": code, "person_id": fam["children"][0]})
    (dose,) = citizen.ok("get", f"/v1/me/family/{fam['children'][0]}/doses")
    assert dose["lot"]["lot_id"] == lot and dose["path_complete"]
    assert stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")["balance"]["administered"] == 1
    assert stack.rt.indexer.wait_for(stack.rt.ledgers.get().w3.eth.block_number, 60)
    assert differences(stack.rt) == []
    assert stack.client.post("/v1/auth/login", json={"login": fam["phone"], "password": "nope-1234"}).status_code == 401
