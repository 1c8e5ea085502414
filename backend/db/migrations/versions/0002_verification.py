"""School-entry verification: consent grants, school API keys, verifier keys, attestations and the lots
that counted in them, the audit of verifications, catch-up referrals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 03:16:17.881581
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifier_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifier_keys")),
        sa.UniqueConstraint("address", name=op.f("uq_verifier_keys_address")),
    )
    op.create_table(
        "consent_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("granted_by", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=True),
        sa.Column("clinic_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("typed_data", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_consent_grants_granted_by_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_consent_grants_person_id_persons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["users.id"], name=op.f("fk_consent_grants_school_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_grants")),
        sa.UniqueConstraint("subject", name=op.f("uq_consent_grants_subject")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_consent_grants_token_hash")),
    )
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_grants_granted_by"), ["granted_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_grants_person_id"), ["person_id"], unique=False)

    op.create_table(
        "school_api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["users.id"], name=op.f("fk_school_api_keys_school_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_school_api_keys_key_hash")),
    )
    with op.batch_alter_table("school_api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_api_keys_school_id"), ["school_id"], unique=False)

    op.create_table(
        "attestations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("edition", sa.String(length=40), nullable=False),
        sa.Column("evaluated_on", sa.String(length=10), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("typed_data", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["consent_grants.id"],
            name=op.f("fk_attestations_grant_id_consent_grants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
    )
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestations_revoked_at"), ["revoked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_attestations_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attestations_school_id"), ["school_id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=True),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("edition", sa.String(length=40), nullable=False),
        sa.Column("evaluated_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["consent_grants.id"], name=op.f("fk_referrals_grant_id_consent_grants"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_referrals_person_id_persons"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_facility_status", ["facility_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_person_id"), ["person_id"], unique=False)

    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.String(length=36), nullable=False),
        sa.Column("api_key_id", sa.String(length=36), nullable=True),
        sa.Column("grant_id", sa.String(length=36), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=24), nullable=True),
        sa.Column("attestation_id", sa.String(length=32), nullable=True),
        sa.Column("roster", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["consent_grants.id"],
            name=op.f("fk_verifications_grant_id_consent_grants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_verifications_person_id_persons"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index("ix_verifications_person_at", ["person_id", "at"], unique=False)
        batch_op.create_index("ix_verifications_school_at", ["school_id", "at"], unique=False)

    op.create_table(
        "attestation_lots",
        sa.Column("attestation_id", sa.String(length=32), nullable=False),
        sa.Column("lot_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["attestation_id"],
            ["attestations.id"],
            name=op.f("fk_attestation_lots_attestation_id_attestations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attestation_id", "lot_id", name=op.f("pk_attestation_lots")),
    )
    with op.batch_alter_table("attestation_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestation_lots_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attestation_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_lots_lot_id"))

    op.drop_table("attestation_lots")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_verifications_school_at")
        batch_op.drop_index("ix_verifications_person_at")

    op.drop_table("verifications")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_person_id"))
        batch_op.drop_index("ix_referrals_facility_status")

    op.drop_table("referrals")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_school_id"))
        batch_op.drop_index(batch_op.f("ix_attestations_grant_id"))
        batch_op.drop_index(batch_op.f("ix_attestations_revoked_at"))

    op.drop_table("attestations")
    with op.batch_alter_table("school_api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_api_keys_school_id"))

    op.drop_table("school_api_keys")
    with op.batch_alter_table("consent_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_grants_person_id"))
        batch_op.drop_index(batch_op.f("ix_consent_grants_granted_by"))

    op.drop_table("consent_grants")
    op.drop_table("verifier_keys")
