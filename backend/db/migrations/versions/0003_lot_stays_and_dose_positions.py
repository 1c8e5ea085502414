"""Lot stays and dose positions: two more projections of the chain, so a lot's storage history and a
dose's path no longer read the lot's every dose event back. The indexed view is emptied and the cursor
removed: the indexer rebuilds everything from the deployment block (the view is the chain's, and only
the chain's; nothing off chain refers to its rows by anything but chain ids).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHAIN_VIEW = (
    "chain_cursor",
    "chain_events",
    "facilities",
    "equipment",
    "members",
    "products",
    "lots",
    "stock",
    "shipments",
    "slots",
    "bookings",
    "doses",
    "excursions",
    "reading_batches",
)


def upgrade() -> None:
    for table in CHAIN_VIEW:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.create_table(
        "lot_stays",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.Column("until", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_stays")),
    )
    with op.batch_alter_table("lot_stays", schema=None) as batch_op:
        batch_op.create_index("ix_lot_stays_lot", ["lot_id", "since"], unique=False)
    with op.batch_alter_table("doses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("block", sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column("log_index", sa.Integer(), nullable=False))


def downgrade() -> None:
    for table in CHAIN_VIEW:
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("doses", schema=None) as batch_op:
        batch_op.drop_column("log_index")
        batch_op.drop_column("block")
    with op.batch_alter_table("lot_stays", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_stays_lot")
    op.drop_table("lot_stays")
