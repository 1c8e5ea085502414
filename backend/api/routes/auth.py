"""Sign-up for citizens, login, token refresh and logout."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from backend.api.deps import CurrentUser, RuntimeDep, SessionDep
from backend.api.errors import responses
from backend.api.schemas import LoginIn, RefreshIn, RegisterIn, TokenOut
from backend.services import accounts, persons

router = APIRouter(prefix="/v1/auth", tags=["accounts"])


@router.post("/register", status_code=201, response_model=TokenOut, responses=responses(409, 422))
def register(body: RegisterIn, rt: RuntimeDep, s: SessionDep) -> dict:
    """A citizen account: phone number and password, with the citizen's own person record. A custodial
    wallet is made for the account; the answer is a signed-in session."""
    user = persons.register_citizen(
        rt,
        s,
        phone=body.phone,
        password=body.password,
        name=body.name,
        birth_date=body.birth_date,
        sex=body.sex.upper(),
        id_number=body.id_number or None,
    )
    s.flush()
    return asdict(accounts.issue(rt, s, user, int(user.created_at)))


@router.post("/login", response_model=TokenOut, responses=responses(401, 429))
def login(body: LoginIn, request: Request, rt: RuntimeDep, s: SessionDep) -> dict:
    """Phone number (citizens) or user name (staff) and password. Repeated failures are refused for a while
    (429 with Retry-After)."""
    client = request.client.host if request.client else "unknown"
    return asdict(accounts.login(rt, s, body.login, body.password, client))


@router.post("/refresh", response_model=TokenOut, responses=responses(401))
def refresh(body: RefreshIn, rt: RuntimeDep, s: SessionDep) -> dict:
    """A new access token for a refresh token; the refresh token is spent and a new one given."""
    return asdict(accounts.refresh(rt, s, body.refresh_token))


@router.post("/logout", status_code=204, responses=responses(401))
def logout(user: CurrentUser, s: SessionDep) -> None:
    """Ends every session of the account."""
    accounts.logout(s, user)
