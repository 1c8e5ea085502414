"""The database: SQLAlchemy engine and sessions (engine.py), models (models/), Alembic migrations."""
