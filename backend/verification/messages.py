"""The EIP-712 messages of school-entry verification, and the compact text form a QR code carries.

Pure: no database, no keys. Three messages, each a full typed-data document ({types, primaryType, domain,
message}) that `eth_account.messages.encode_typed_data(full_message=...)` hashes:

- `SchoolEntryConsent` (domain "vaxledger consent"): a guardian lets one school, or any school until a
  date, verify one child. The child appears only as `subject`, 16 random bytes made for this grant.
- `SchoolEntryAttestation` (domain "vaxledger school-entry"): the platform's verifier key says that on
  `evaluatedOn`, by schedule `edition`, `subject` was complete or lacked the doses in `missing`.
- `SchoolEntryRoster` (same domain): one signature over a roster's results, each entry placed by its
  `index` in the request.

`missing` is written compactly: "series:dose" items joined by commas in schedule order ("hepb:1,mmr:2"),
empty when complete. Domains carry name, version and chainId only: nothing is verified on chain.

The compact form of an attestation, for QR codes (fields separated by "|", hex without 0x):

    VXA1|<id>|<subject>|<1 or 0>|<missing>|<edition>|<evaluatedOn>|<issuedAt>|<expiresAt>|<keyId>|<chainId>|<signature>

A verifier rebuilds the typed data from it with the published `ATTESTATION_TYPES` and domain
(GET /v1/verify/keys), recovers the signer and compares it with the key listed under `keyId`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

ATTESTATION_DOMAIN = "vaxledger school-entry"
CONSENT_DOMAIN = "vaxledger consent"
VERSION = "1"
COMPACT_PREFIX = "VXA1"
CONSENT_SCOPE = "school-entry verification: complete or not, and the missing doses"

_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
]
_RESULT_TAIL = [
    {"name": "edition", "type": "string"},
    {"name": "evaluatedOn", "type": "string"},
    {"name": "issuedAt", "type": "uint64"},
    {"name": "expiresAt", "type": "uint64"},
    {"name": "keyId", "type": "string"},
]
ATTESTATION_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN_TYPE,
    "SchoolEntryAttestation": [
        {"name": "id", "type": "bytes16"},
        {"name": "subject", "type": "bytes16"},
        {"name": "complete", "type": "bool"},
        {"name": "missing", "type": "string"},
        *_RESULT_TAIL,
    ],
}
ROSTER_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN_TYPE,
    "SchoolEntryRoster": [
        {"name": "id", "type": "bytes16"},
        {"name": "entries", "type": "RosterEntry[]"},
        *_RESULT_TAIL,
    ],
    "RosterEntry": [
        {"name": "index", "type": "uint16"},
        {"name": "subject", "type": "bytes16"},
        {"name": "complete", "type": "bool"},
        {"name": "missing", "type": "string"},
    ],
}
CONSENT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN_TYPE,
    "SchoolEntryConsent": [
        {"name": "grant", "type": "string"},
        {"name": "subject", "type": "bytes16"},
        {"name": "school", "type": "string"},
        {"name": "schoolName", "type": "string"},
        {"name": "scope", "type": "string"},
        {"name": "validFrom", "type": "uint64"},
        {"name": "validUntil", "type": "uint64"},
        {"name": "guardian", "type": "address"},
    ],
}


def domain(name: str, chain_id: int) -> dict[str, Any]:
    return {"name": name, "version": VERSION, "chainId": chain_id}


def missing_text(missing: Iterable[tuple[str, int]]) -> str:
    return ",".join(f"{series}:{dose}" for series, dose in missing)


@dataclass(frozen=True, slots=True)
class Result:
    """What an attestation says about one child."""

    subject: str
    """hex, 32 characters"""
    complete: bool
    missing: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """Who signs, for which day and edition, and for how long."""

    attestation_id: str
    """hex, 32 characters"""
    edition: str
    evaluated_on: str
    issued_at: int
    expires_at: int
    key_id: str
    chain_id: int


def _tail(issue: Issue) -> dict[str, Any]:
    return {
        "edition": issue.edition,
        "evaluatedOn": issue.evaluated_on,
        "issuedAt": issue.issued_at,
        "expiresAt": issue.expires_at,
        "keyId": issue.key_id,
    }


def attestation(issue: Issue, result: Result) -> dict[str, Any]:
    return {
        "types": ATTESTATION_TYPES,
        "primaryType": "SchoolEntryAttestation",
        "domain": domain(ATTESTATION_DOMAIN, issue.chain_id),
        "message": {
            "id": "0x" + issue.attestation_id,
            "subject": "0x" + result.subject,
            "complete": result.complete,
            "missing": missing_text(result.missing),
            **_tail(issue),
        },
    }


def roster(issue: Issue, entries: Sequence[tuple[int, Result]]) -> dict[str, Any]:
    """A roster's results as one message; `entries` are (position in the request, result)."""
    return {
        "types": ROSTER_TYPES,
        "primaryType": "SchoolEntryRoster",
        "domain": domain(ATTESTATION_DOMAIN, issue.chain_id),
        "message": {
            "id": "0x" + issue.attestation_id,
            "entries": [
                {
                    "index": index,
                    "subject": "0x" + r.subject,
                    "complete": r.complete,
                    "missing": missing_text(r.missing),
                }
                for index, r in entries
            ],
            **_tail(issue),
        },
    }


def consent(
    *,
    grant_id: str,
    subject: str,
    school_id: str | None,
    school_name: str,
    valid_from: int,
    valid_until: int | None,
    guardian: str,
    chain_id: int,
) -> dict[str, Any]:
    """A consent message; an empty `school` means any school, a `validUntil` of 0 means until revoked."""
    return {
        "types": CONSENT_TYPES,
        "primaryType": "SchoolEntryConsent",
        "domain": domain(CONSENT_DOMAIN, chain_id),
        "message": {
            "grant": grant_id,
            "subject": "0x" + subject,
            "school": school_id or "",
            "schoolName": school_name,
            "scope": CONSENT_SCOPE,
            "validFrom": valid_from,
            "validUntil": valid_until or 0,
            "guardian": guardian,
        },
    }


def compact(typed_data: dict[str, Any], signature: str) -> str:
    """The QR text of a single attestation."""
    m = typed_data["message"]
    fields = [
        COMPACT_PREFIX,
        m["id"][2:],
        m["subject"][2:],
        "1" if m["complete"] else "0",
        m["missing"],
        m["edition"],
        m["evaluatedOn"],
        str(m["issuedAt"]),
        str(m["expiresAt"]),
        m["keyId"],
        str(typed_data["domain"]["chainId"]),
        signature.removeprefix("0x"),
    ]
    return "|".join(fields)
