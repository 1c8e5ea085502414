"""Bodies of the verification routes, and the answers' shapes for the API documentation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.api.schemas import U32, Strict
from backend.verification.verify import ROSTER_MAX

Token = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]


class ConsentIn(Strict):
    school_id: Uuid | None = Field(None, description="The school account (GET /v1/schools); none: any school")
    valid_until: date | None = Field(
        None, description="Last day the consent holds (China time); required, and limited, for any school"
    )
    clinic_id: U32 | None = Field(
        None, description="Where catch-up referrals go; else the clinic of the child's latest dose"
    )


class ApiKeyIn(Strict):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class VerifyIn(Strict):
    token: Token = Field(description="The token from the guardian's QR code (VX1-...)")


class RosterIn(Strict):
    tokens: list[Token] = Field(min_length=1, max_length=ROSTER_MAX)


class RevokeKeyIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MissingOut(BaseModel):
    series: str
    dose: int


class AttestationOut(BaseModel):
    id: str
    kind: Literal["single", "roster"]
    key_id: str
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data: hash with encode_typed_data(full_message=...)")
    signature: str
    compact: str | None = Field(description="A single child's attestation as QR text (VXA1|...)")
    qr_svg: str | None = Field(description="Where the QR code of a single child's attestation is")


class ResultOut(BaseModel):
    status: Literal["complete", "not_complete", "not_verifiable"]
    missing: list[MissingOut]
    edition: str | None
    evaluated_on: date | None


class VerifyOut(ResultOut):
    attestation: AttestationOut | None


class RosterOut(BaseModel):
    count: int
    results: list[ResultOut] = Field(description="In the order of the tokens sent")
    attestation: AttestationOut | None = Field(description="One signature over the verifiable results")
