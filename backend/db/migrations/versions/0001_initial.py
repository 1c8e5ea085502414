"""Initial schema: accounts, persons, wallets, sessions, audit, notifications, and the indexed chain view.

Revision ID: 0001
Revises:
Create Date: 2026-11-30 03:05:05.649749
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aefi_reports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("unit_hash", sa.String(length=66), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("report_hash", sa.String(length=66), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("reported_by", sa.String(length=36), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aefi_reports")),
        sa.UniqueConstraint("report_hash", name=op.f("uq_aefi_reports_report_hash")),
    )
    with op.batch_alter_table("aefi_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aefi_reports_unit_hash"), ["unit_hash"], unique=False)

    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value_enc", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secrets")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("role", sa.String(length=24), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("user_id", "idempotency_key", name=op.f("uq_audit_log_user_id")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_type", sa.String(length=8), nullable=False),
        sa.Column("booker", sa.String(length=42), nullable=False),
        sa.Column("person", sa.String(length=66), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_booker"), ["booker"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_person"), ["person"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "chain_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("ledger_address", sa.String(length=42), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_cursor")),
    )
    op.create_table(
        "chain_events",
        sa.Column("block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("contract", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("block", "log_index", name=op.f("pk_chain_events")),
    )
    with op.batch_alter_table("chain_events", schema=None) as batch_op:
        batch_op.create_index("ix_chain_events_equipment", ["equipment_id", "block"], unique=False)
        batch_op.create_index("ix_chain_events_lot", ["lot_id", "block", "log_index"], unique=False)
        batch_op.create_index("ix_chain_events_name", ["name", "block"], unique=False)
        batch_op.create_index("ix_chain_events_shipment", ["shipment_id"], unique=False)

    op.create_table(
        "doses",
        sa.Column("unit_hash", sa.String(length=66), nullable=False),
        sa.Column("dose_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("person", sa.String(length=66), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("unit_hash", "dose_number", name=op.f("pk_doses")),
    )
    with op.batch_alter_table("doses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_doses_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_doses_person"), ["person"], unique=False)

    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("under_excursion", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
    )
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_facility_id"), ["facility_id"], unique=False)

    op.create_table(
        "excursions",
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("min_temp_dc", sa.Integer(), nullable=True),
        sa.Column("max_temp_dc", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excursions")),
    )
    with op.batch_alter_table("excursions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_excursions_equipment_id"), ["equipment_id"], unique=False)

    op.create_table(
        "facilities",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_code", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
    )
    with op.batch_alter_table("facilities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_facilities_area_code"), ["area_code"], unique=False)

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_subject_at", ["subject", "at"], unique=False)

    op.create_table(
        "lots",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=32), nullable=False),
        sa.Column("expiry", sa.BigInteger(), nullable=False),
        sa.Column("doses", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_at", sa.BigInteger(), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.Column("certificate_hash", sa.String(length=66), nullable=True),
        sa.Column("recalled_at", sa.BigInteger(), nullable=True),
        sa.Column("recall_notice_hash", sa.String(length=66), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lots_lot_number"), ["lot_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_lots_product_id"), ["product_id"], unique=False)

    op.create_table(
        "members",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_facility_id"), ["facility_id"], unique=False)

    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pseudonym", sa.String(length=66), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("birth_date_enc", sa.LargeBinary(), nullable=False),
        sa.Column("sex_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_persons_id_number_index")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_persons_pseudonym")),
    )
    op.create_table(
        "product_meta",
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("trace_prefix", sa.String(length=7), nullable=True),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_meta")),
        sa.UniqueConstraint("gtin", name=op.f("uq_product_meta_gtin")),
        sa.UniqueConstraint("trace_prefix", name=op.f("uq_product_meta_trace_prefix")),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("manufacturer_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_type", sa.String(length=8), nullable=False),
        sa.Column("doses_per_unit", sa.Integer(), nullable=False),
        sa.Column("self_paid", sa.Boolean(), nullable=False),
        sa.Column("min_temp_dc", sa.Integer(), nullable=False),
        sa.Column("max_temp_dc", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_vaccine_type"), ["vaccine_type"], unique=False)

    op.create_table(
        "reading_batches",
        sa.Column("window_id", sa.String(length=66), nullable=False),
        sa.Column("batch_id", sa.String(length=66), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("first_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min_temp_dc", sa.Integer(), nullable=False),
        sa.Column("max_temp_dc", sa.Integer(), nullable=False),
        sa.Column("merkle_root", sa.String(length=66), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("window_id", "batch_id", name=op.f("pk_reading_batches")),
    )
    with op.batch_alter_table("reading_batches", schema=None) as batch_op:
        batch_op.create_index("ix_reading_batches_equipment_time", ["equipment_id", "first_ts_ms"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("from_facility_id", sa.Integer(), nullable=False),
        sa.Column("from_equipment_id", sa.Integer(), nullable=False),
        sa.Column("to_facility_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("shipped_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.Column("accepted", sa.BigInteger(), nullable=True),
        sa.Column("received_equipment_id", sa.Integer(), nullable=True),
        sa.Column("refuse_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_from_facility_id"), ["from_facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_lot_id"), ["lot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_to_facility_id"), ["to_facility_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_vehicle_id"), ["vehicle_id"], unique=False)

    op.create_table(
        "slots",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("vaccine_type", sa.String(length=8), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
    )
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.create_index("ix_slots_site_type_start", ["site_id", "vaccine_type", "start"], unique=False)
        batch_op.create_index(batch_op.f("ix_slots_start"), ["start"], unique=False)

    op.create_table(
        "stock",
        sa.Column("lot_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("equipment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("lot_id", "equipment_id", name=op.f("pk_stock")),
    )
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_equipment_id"), ["equipment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_facility_id"), ["facility_id"], unique=False)

    op.create_table(
        "wallets",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("admitted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_wallets")),
        sa.UniqueConstraint("owner_kind", "owner_id", name=op.f("uq_wallets_owner_kind")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("login_index", sa.String(length=64), nullable=False),
        sa.Column("login_enc", sa.LargeBinary(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("display_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("facility_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_users_person_id_persons"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login_index", name=op.f("uq_users_login_index")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_facility_id"), ["facility_id"], unique=False)

    op.create_table(
        "guardianships",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_guardianships_person_id_persons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_guardianships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "person_id", name=op.f("pk_guardianships")),
    )
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guardianships_person_id"), ["person_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("read_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_notifications_person_id_persons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "kind", "ref", "person_id", name=op.f("uq_notifications_user_id")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_tokens_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_user_id"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("guardianships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guardianships_person_id"))

    op.drop_table("guardianships")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_facility_id"))

    op.drop_table("users")
    op.drop_table("wallets")
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_facility_id"))
        batch_op.drop_index(batch_op.f("ix_stock_equipment_id"))

    op.drop_table("stock")
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slots_start"))
        batch_op.drop_index("ix_slots_site_type_start")

    op.drop_table("slots")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_vehicle_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_to_facility_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_lot_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_from_facility_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("reading_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_reading_batches_equipment_time")

    op.drop_table("reading_batches")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_vaccine_type"))

    op.drop_table("products")
    op.drop_table("product_meta")
    op.drop_table("persons")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_facility_id"))

    op.drop_table("members")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lots_product_id"))
        batch_op.drop_index(batch_op.f("ix_lots_lot_number"))

    op.drop_table("lots")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_subject_at")

    op.drop_table("login_attempts")
    with op.batch_alter_table("facilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_facilities_area_code"))

    op.drop_table("facilities")
    with op.batch_alter_table("excursions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_excursions_equipment_id"))

    op.drop_table("excursions")
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_facility_id"))

    op.drop_table("equipment")
    with op.batch_alter_table("doses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doses_person"))
        batch_op.drop_index(batch_op.f("ix_doses_lot_id"))

    op.drop_table("doses")
    with op.batch_alter_table("chain_events", schema=None) as batch_op:
        batch_op.drop_index("ix_chain_events_shipment")
        batch_op.drop_index("ix_chain_events_name")
        batch_op.drop_index("ix_chain_events_lot")
        batch_op.drop_index("ix_chain_events_equipment")

    op.drop_table("chain_events")
    op.drop_table("chain_cursor")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_slot_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_site_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_person"))
        batch_op.drop_index(batch_op.f("ix_bookings_booker"))

    op.drop_table("bookings")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("app_secrets")
    with op.batch_alter_table("aefi_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aefi_reports_unit_hash"))

    op.drop_table("aefi_reports")
