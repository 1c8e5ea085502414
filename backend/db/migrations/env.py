"""Alembic's environment: runs migrations on the connection the caller hands over
(backend.db.engine.Database.migrate), or on `sqlalchemy.url` from the command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from backend.db import models  # noqa: F401 (registers every table)
from backend.db.base import Base

config = context.config
target = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _migrate(conn)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    # batch mode: SQLite alters tables by copying them
    context.configure(connection=connection, target_metadata=target, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
