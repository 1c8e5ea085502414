"""Every model, so that `Base.metadata` knows all tables (Alembic, tests)."""

from backend.db.models import chainview, offchain

__all__ = ["chainview", "offchain"]
