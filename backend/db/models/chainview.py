"""The chain as the indexer has read it: every event (`chain_events`, unique per block and log index)
and the tables projected from them for queries. Nothing here is written by anything but the indexer
(indexer/projections.py); deleting these tables and re-indexing from the deployment block rebuilds them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base
from backend.db.models.offchain import ADDRESS, HASH


class ChainCursor(Base):
    """How far the indexer has read, and on which deployment."""

    __tablename__ = "chain_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    ledger_address: Mapped[str] = mapped_column(ADDRESS)
    block: Mapped[int] = mapped_column(BigInteger)
    """The last block whose events are all applied."""
    block_hash: Mapped[str] = mapped_column(HASH)
    updated_at: Mapped[int] = mapped_column(BigInteger)


PER_DOSE_EVENTS = ("DoseRecorded", "AdverseEventReported")
"""A busy lot has thousands of these: its custody history is told from the others."""
NOT_PER_DOSE = "name NOT IN ({})".format(", ".join(f"'{name}'" for name in PER_DOSE_EVENTS))
"""Literal SQL, written the same in the index and in the queries: SQLite and PostgreSQL use a partial index
only for a query whose condition they can match to the index's, and a bound parameter never matches."""


class ChainEvent(Base):
    __tablename__ = "chain_events"
    __table_args__ = (
        Index("ix_chain_events_lot", "lot_id", "block", "log_index"),
        Index(
            "ix_chain_events_lot_custody",
            "lot_id",
            "block",
            "log_index",
            sqlite_where=text(NOT_PER_DOSE),
            postgresql_where=text(NOT_PER_DOSE),
        ),
        Index("ix_chain_events_shipment", "shipment_id"),
        Index("ix_chain_events_equipment", "equipment_id", "block"),
        Index("ix_chain_events_name", "name", "block"),
    )

    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tx_hash: Mapped[str] = mapped_column(HASH)
    contract: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(40))
    args: Mapped[str] = mapped_column(Text)
    """The event's arguments as JSON (bytes as 0x hex)."""
    at: Mapped[int] = mapped_column(BigInteger)
    """The block's timestamp, seconds."""
    lot_id: Mapped[int | None] = mapped_column(Integer)
    equipment_id: Mapped[int | None] = mapped_column(Integer)
    facility_id: Mapped[int | None] = mapped_column(Integer)
    shipment_id: Mapped[int | None] = mapped_column(BigInteger)


class Facility(Base):
    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    area_code: Mapped[str] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean)


class Equipment(Base):
    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    facility_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean)
    under_excursion: Mapped[bool] = mapped_column(Boolean, default=False)


class Member(Base):
    __tablename__ = "members"

    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    facility_id: Mapped[int] = mapped_column(Integer, index=True)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    manufacturer_id: Mapped[int] = mapped_column(Integer)
    vaccine_type: Mapped[str] = mapped_column(String(8), index=True)
    doses_per_unit: Mapped[int] = mapped_column(Integer)
    self_paid: Mapped[bool] = mapped_column(Boolean)
    min_temp_dc: Mapped[int] = mapped_column(Integer)
    max_temp_dc: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))


class Lot(Base):
    __tablename__ = "lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    lot_number: Mapped[str] = mapped_column(String(32), index=True)
    expiry: Mapped[int] = mapped_column(BigInteger)
    doses: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # registered | released | recalled
    registered_at: Mapped[int] = mapped_column(BigInteger)
    released_at: Mapped[int | None] = mapped_column(BigInteger)
    certificate_hash: Mapped[str | None] = mapped_column(HASH)
    recalled_at: Mapped[int | None] = mapped_column(BigInteger)
    recall_notice_hash: Mapped[str | None] = mapped_column(HASH)


class Stock(Base):
    """Doses of a lot in a piece of storage equipment; the row goes when both counts reach zero."""

    __tablename__ = "stock"

    lot_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    equipment_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, index=True)
    facility_id: Mapped[int] = mapped_column(Integer, index=True)
    available: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    lot_id: Mapped[int] = mapped_column(Integer, index=True)
    from_facility_id: Mapped[int] = mapped_column(Integer, index=True)
    from_equipment_id: Mapped[int] = mapped_column(Integer)
    to_facility_id: Mapped[int] = mapped_column(Integer, index=True)
    vehicle_id: Mapped[int] = mapped_column(Integer, index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # in_transit | received | refused
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    shipped_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)
    accepted: Mapped[int | None] = mapped_column(BigInteger)
    received_equipment_id: Mapped[int | None] = mapped_column(Integer)
    refuse_reason: Mapped[str | None] = mapped_column(String(16))


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_site_type_start", "site_id", "vaccine_type", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    site_id: Mapped[int] = mapped_column(Integer)
    vaccine_type: Mapped[str] = mapped_column(String(8))
    start: Mapped[int] = mapped_column(BigInteger, index=True)
    duration: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    slot_id: Mapped[int] = mapped_column(Integer, index=True)
    site_id: Mapped[int] = mapped_column(Integer, index=True)
    vaccine_type: Mapped[str] = mapped_column(String(8))
    booker: Mapped[str] = mapped_column(ADDRESS, index=True)
    person: Mapped[str] = mapped_column(HASH, index=True)
    status: Mapped[str] = mapped_column(String(16))  # booked | completed | cancelled | missed
    booked_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Dose(Base):
    __tablename__ = "doses"

    unit_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    dose_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    person: Mapped[str] = mapped_column(HASH, index=True)
    lot_id: Mapped[int] = mapped_column(Integer, index=True)
    facility_id: Mapped[int] = mapped_column(Integer)
    equipment_id: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(HASH)
    block: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    """Its place in the chain: a dose's path is traced back from here (domain/provenance.py)."""


class LotStay(Base):
    """A lot in a piece of storage equipment, from the event that brought its first doses there to the one
    that took the last away (open while doses remain). Kept by the indexer as stock comes and goes, so a
    lot's storage history does not need its thousands of dose events read back."""

    __tablename__ = "lot_stays"
    __table_args__ = (Index("ix_lot_stays_lot", "lot_id", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lot_id: Mapped[int] = mapped_column(Integer)
    equipment_id: Mapped[int] = mapped_column(Integer)
    since: Mapped[int] = mapped_column(BigInteger)
    until: Mapped[int | None] = mapped_column(BigInteger)


class Excursion(Base):
    __tablename__ = "excursions"

    id: Mapped[str] = mapped_column(HASH, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[int] = mapped_column(Integer)
    severity: Mapped[int] = mapped_column(Integer)
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    ended_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    min_temp_dc: Mapped[int | None] = mapped_column(Integer)
    max_temp_dc: Mapped[int | None] = mapped_column(Integer)
    reported_at: Mapped[int] = mapped_column(BigInteger)


class ReadingBatch(Base):
    """A batch header of an anchored window, read from the anchoring transaction's input."""

    __tablename__ = "reading_batches"
    __table_args__ = (Index("ix_reading_batches_equipment_time", "equipment_id", "first_ts_ms"),)

    window_id: Mapped[str] = mapped_column(HASH, primary_key=True)
    batch_id: Mapped[str] = mapped_column(HASH, primary_key=True)
    """Not unique on its own: the contract does not check batch ids across windows."""
    equipment_id: Mapped[int] = mapped_column(Integer)
    first_ts_ms: Mapped[int] = mapped_column(BigInteger)
    last_ts_ms: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)
    min_temp_dc: Mapped[int] = mapped_column(Integer)
    max_temp_dc: Mapped[int] = mapped_column(Integer)
    merkle_root: Mapped[str] = mapped_column(HASH)
    block: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(HASH)
