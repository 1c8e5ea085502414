"""Every model, so that `Base.metadata` knows all tables (Alembic, tests)."""

from backend.db.models import chainview, offchain, verification

__all__ = ["chainview", "offchain", "verification"]
