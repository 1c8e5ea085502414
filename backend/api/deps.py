"""What routes declare they need: the runtime, a database session, the signed-in user, a role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.core.tokens import TokenError
from backend.db.models.offchain import User
from backend.errors import ApiError
from backend.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /v1/auth/login")


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(rt: RuntimeDep) -> Iterator[Session]:
    with rt.db.session() as s:
        yield s


# "function": committed before the response is sent, so a client that has its answer reads its own write.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_user(
    rt: RuntimeDep, s: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    if credentials is None:
        raise ApiError(
            401,
            "not_authenticated",
            "sign in first: send Authorization: Bearer <access token>",
            "请先登录",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        claims = rt.signer.verify(credentials.credentials)
    except TokenError as exc:
        raise ApiError(
            401, exc.reason, str(exc), "登录已过期或无效，请重新登录", headers={"WWW-Authenticate": "Bearer"}
        ) from exc
    user = s.get(User, claims.user_id)
    if user is None or user.disabled or user.token_version != claims.version:
        raise ApiError(401, "token_revoked", "this session has ended: log in again", "登录已失效，请重新登录")
    return user


CurrentUser = Annotated[User, Depends(get_user)]


def require(*roles: str) -> Callable[[User], User]:
    """A dependency admitting only users with one of `roles`."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ApiError(
                403,
                "wrong_role",
                f"this needs one of the roles {', '.join(roles)}; you are {user.role}",
                "您的角色无权执行此操作",
            )
        return user

    return check
