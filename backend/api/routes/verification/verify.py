"""Schools verify: one token or a roster, refer a not-complete child for catch-up, fetch an attestation
and its QR code. Public: the verifier keys and the revocation list, for checking attestations offline.

Authentication: `X-Api-Key` (a school API key) or a school user's bearer token."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from backend.api.deps import RuntimeDep, SessionDep
from backend.api.errors import responses
from backend.api.routes.verification.deps import SchoolCaller, blocking
from backend.api.routes.verification.schemas import RosterIn, RosterOut, VerifyIn, VerifyOut
from backend.errors import ApiError
from backend.runtime import Runtime
from backend.verification import messages, qr, recalls, referrals, verifier_keys
from backend.verification.service import service
from backend.verification.verify import stored, verify_one, verify_roster

router = APIRouter(prefix="/v1/verify", tags=["verification"])
AUTH = responses(401, 403, 422)
AttestationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("", responses={200: {"model": VerifyOut}, **AUTH}, response_class=Response)
async def verify(body: VerifyIn, caller: SchoolCaller, request: Request) -> Response:
    """Complete or not, the missing doses, the schedule edition and the date, with a signed attestation.
    A token that gives your school nothing (unknown, revoked, expired, another school's) is answered
    `not_verifiable`, the same for every reason."""
    rt: Runtime = request.app.state.runtime
    body_bytes = await blocking(rt, lambda: verify_one(rt, caller, body.token))
    return Response(body_bytes, media_type="application/json")


@router.post("/roster", response_model=RosterOut, responses=AUTH)
def roster(body: RosterIn, caller: SchoolCaller, rt: RuntimeDep) -> dict[str, Any]:
    """Up to 2,000 tokens in one call: each result in request order, and one attestation signed over all
    the verifiable ones (entries placed by their index in the request)."""
    return verify_roster(rt, caller, body.tokens)


@router.post("/referrals", status_code=201, responses=responses(401, 403, 404, 409, 422))
def refer(body: VerifyIn, caller: SchoolCaller, rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """Sends the child's missing doses to the clinic that will catch them up (which clinic is not said).
    Asking again while the referral is open updates it."""
    return referrals.refer(rt, s, caller, body.token)


@router.get("/attestations/{attestation_id}", responses=responses(401, 403, 404))
def attestation(attestation_id: AttestationId, caller: SchoolCaller, s: SessionDep) -> dict[str, Any]:
    """An attestation your school obtained, and whether it has been revoked since."""
    return stored(s, caller, attestation_id)


@router.get(
    "/attestations/{attestation_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **responses(401, 403, 404, 409)},
)
def attestation_qr(attestation_id: AttestationId, caller: SchoolCaller, s: SessionDep) -> Response:
    """A single child's attestation as a QR code of its compact text (see GET /v1/verify/keys)."""
    found = stored(s, caller, attestation_id)
    if found["compact"] is None:
        raise ApiError(
            409, "roster_attestation", "a roster attestation is too large for a QR code", "名册证明无法生成二维码"
        )
    return Response(qr.svg(found["compact"]), media_type="image/svg+xml")


@router.get("/keys")
def keys(rt: RuntimeDep, s: SessionDep) -> dict[str, Any]:
    """The verifier keys (active, retired, revoked) and how to check an attestation offline: rebuild its
    typed data (from the answer, or from the QR text `VXA1|id|subject|complete|missing|edition|evaluatedOn|
    issuedAt|expiresAt|keyId|chainId|signature`, hex without 0x) with these types and domain, recover the
    signer with eth_account, and accept it if it is the listed key `keyId`, that key is not revoked and
    signed it before `signs_until`, the attestation has not expired and is not on /v1/verify/revocations."""
    service(rt).keys.current()  # the first key exists before anyone needs to check against it
    return {
        "domain": messages.domain(messages.ATTESTATION_DOMAIN, service(rt).chain_id),
        "types": {"single": messages.ATTESTATION_TYPES, "roster": messages.ROSTER_TYPES},
        "primary_types": {"single": "SchoolEntryAttestation", "roster": "SchoolEntryRoster"},
        "compact_fields": [
            "VXA1",
            "id",
            "subject",
            "complete",
            "missing",
            "edition",
            "evaluatedOn",
            "issuedAt",
            "expiresAt",
            "keyId",
            "chainId",
            "signature",
        ],
        "keys": verifier_keys.published(s),
    }


@router.get("/revocations")
def revocations(s: SessionDep) -> dict[str, Any]:
    """Attestations revoked before their expiry (a lot that counted in them was recalled), and revoked
    verifier keys (nothing they signed holds)."""
    return recalls.revocations(s, int(time.time()))
