"""Short-lived access tokens (JWT, HS256, signed with a key the backend keeps sealed) and rotating
refresh tokens (random, stored only as a hash; a refresh token used twice revokes the whole family)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
ISSUER = "vaxledger"


class TokenError(Exception):
    """The token is missing, malformed, forged or expired; `reason` says which, for the client."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    role: str
    facility_id: int | None
    version: int
    expires_at: int


class TokenSigner:
    def __init__(self, key: bytes, ttl_s: int) -> None:
        self._key = key
        self.ttl_s = ttl_s

    def __repr__(self) -> str:
        return f"TokenSigner(ttl_s={self.ttl_s})"

    def issue(self, user_id: str, role: str, facility_id: int | None, version: int, now: int | None = None) -> str:
        now = int(time.time()) if now is None else now
        claims = {"iss": ISSUER, "sub": user_id, "role": role, "ver": version, "iat": now, "exp": now + self.ttl_s}
        if facility_id is not None:
            claims["fac"] = facility_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub", "iss"]}
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token_expired", "the access token has expired: refresh it or log in again") from None
        except jwt.InvalidTokenError:
            raise TokenError("token_invalid", "the access token is not valid") from None
        return AccessClaims(
            user_id=str(claims["sub"]),
            role=str(claims.get("role", "")),
            facility_id=claims.get("fac"),
            version=int(claims.get("ver", 0)),
            expires_at=int(claims["exp"]),
        )


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, its hash for the database)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
