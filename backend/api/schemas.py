"""Request and response bodies. Bounds mirror the contracts' integer widths, so a value the chain could
not take is refused here with a field name rather than failing in the ABI encoder."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

U32 = Annotated[int, Field(ge=1, le=2**32 - 1)]
U64 = Annotated[int, Field(ge=1, le=2**64 - 1)]
Quantity = Annotated[int, Field(ge=1, le=2**32 - 1)]
IdPath = Annotated[int, Path(ge=1, le=2**32 - 1, description="An on-chain id")]
BigIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="An on-chain id")]
AlarmIdPath = Annotated[
    str, Path(min_length=1, max_length=80, pattern=r"^[0-9A-Za-z_.:-]+$", description="An alarm id")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=200)]
VaccineType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8, pattern=r"^[ -~]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts -------------------------------------------------------------------------------------------


class RegisterIn(Strict):
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    password: Password
    name: Text
    birth_date: date
    sex: Annotated[str, StringConstraints(pattern=r"^[FMfm]$")]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=18)] | None = None


class LoginIn(Strict):
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Password


class RefreshIn(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    user_id: str


class DependentIn(Strict):
    name: Text
    birth_date: date
    sex: Annotated[str, StringConstraints(pattern=r"^[FMfm]$")]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=18)] | None = None


class PersonOut(BaseModel):
    id: str
    name: str
    birth_date: date
    sex: str
    id_number_masked: str | None
    phone_masked: str | None
    relation: str | None = None


class MeOut(BaseModel):
    user_id: str
    role: str
    facility_id: int | None
    display_name: str | None
    person: PersonOut | None
    wallet: str | None


class KeystoreIn(Strict):
    account_password: Password
    keystore_password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


class StaffUserIn(Strict):
    role: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=24)]
    login: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    ]
    password: Password
    display_name: Text | None = None
    facility_id: U32 | None = None


class StaffPersonIn(Strict):
    """A walk-in registered at the clinic (no account of their own)."""

    name: Text
    birth_date: date
    sex: Annotated[str, StringConstraints(pattern=r"^[FMfm]$")]
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=18)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None


class LookupIn(Strict):
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=18)]


# --- supply ------------------------------------------------------------------------------------------------


class ProductIn(Strict):
    manufacturer_id: U32
    vaccine_type: VaccineType
    doses_per_unit: Annotated[int, Field(ge=1, le=255)]
    self_paid: bool = False
    min_temp_dc: Annotated[int, Field(ge=-32768, le=32767)] = 20
    max_temp_dc: Annotated[int, Field(ge=-32768, le=32767)] = 80
    name: Text
    gtin: Annotated[str, StringConstraints(pattern=r"^\d{14}$")] | None = None
    trace_prefix: Annotated[str, StringConstraints(pattern=r"^\d{7}$")] | None = None


class LotIn(Strict):
    product_id: U32
    lot_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[!-~]+$")
    ]
    expiry: date
    doses: Annotated[int, Field(ge=1, le=2**64 - 1)]
    equipment_id: U32


class DocumentIn(Strict):
    document: Annotated[str, StringConstraints(min_length=1, max_length=20_000)] = Field(
        description="The certificate or notice text, or its 0x-prefixed keccak256 hash"
    )


class ShipIn(Strict):
    lot_id: U32
    from_equipment_id: U32
    vehicle_id: U32
    to_facility_id: U32
    quantity: Quantity


class ReceiveIn(Strict):
    equipment_id: U32
    accepted: Quantity | None = Field(None, description="Doses accepted; all when omitted")
    reason: Annotated[str, StringConstraints(max_length=16)] | None = Field(
        None, description="Why the rest is written off (damaged, lost, ...) when not all is accepted"
    )


class RefuseIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=16)] = "refused"


class MoveIn(Strict):
    lot_id: U32
    from_equipment_id: U32
    to_equipment_id: U32
    quantity: Quantity


class WriteOffIn(Strict):
    lot_id: U32
    equipment_id: U32
    quantity: Quantity
    reason: Annotated[str, StringConstraints(min_length=1, max_length=16)]


class ReleaseStockIn(Strict):
    lot_id: U32
    equipment_id: U32
    quantity: Quantity


class QuarantineIn(Strict):
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class SlotIn(Strict):
    vaccine_type: VaccineType
    start: AwareDatetime
    duration_min: Annotated[int, Field(ge=5, le=24 * 60)] = 180
    capacity: Annotated[int, Field(ge=1, le=10_000)] = 20


class DoseIn(Strict):
    code: Code = Field(description="The unit's code as scanned: GS1 DataMatrix (]d2..., GS separators) or 20 digits")
    person_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    booking_id: U64 | None = None
    lot_id: U32 | None = Field(None, description="Needed only when the code does not name its batch")
    equipment_id: U32 | None = Field(None, description="Where the vial was taken from; found when omitted")


class AefiIn(Strict):
    code: Code
    dose_number: Annotated[int, Field(ge=1, le=255)] = 1
    category: Annotated[str, StringConstraints(max_length=24)]
    severity: Annotated[str, StringConstraints(max_length=16)]
    onset: datetime
    report: dict[str, Any] = Field(
        default_factory=dict, description="Clinical description; sealed, only its hash on chain"
    )


class BookIn(Strict):
    slot_id: U32
    person_id: Annotated[str, StringConstraints(max_length=36)]


class RescheduleIn(Strict):
    slot_id: U32


class FacilityIn(Strict):
    kind: Annotated[str, StringConstraints(pattern=r"^(manufacturer|warehouse|clinic)$")]
    name: Text
    area_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,32}$")]


class EquipmentIn(Strict):
    kind: Annotated[str, StringConstraints(pattern=r"^(fridge|freezer|cold_room|vehicle|cold_box)$")]
    label: Text


class AlarmAckIn(Strict):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class TxOut(BaseModel):
    tx_hash: str
