"""A partial index of each lot's custody events (all but its doses and adverse events), so a lot's
provenance reads its few custody steps without stepping over its thousands of doses.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As in backend/db/models/chainview.py at this revision (a migration does not follow later models).
NOT_PER_DOSE = "name NOT IN ('DoseRecorded', 'AdverseEventReported')"


def upgrade() -> None:
    op.create_index(
        "ix_chain_events_lot_custody",
        "chain_events",
        ["lot_id", "block", "log_index"],
        sqlite_where=sa.text(NOT_PER_DOSE),
        postgresql_where=sa.text(NOT_PER_DOSE),
    )


def downgrade() -> None:
    op.drop_index("ix_chain_events_lot_custody", table_name="chain_events")
