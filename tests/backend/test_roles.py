"""Every route that needs a role refuses every other role (403 wrong_role) before doing anything, and
admits its own. A new route must be classified here, or this test fails."""

from __future__ import annotations

import re

import pytest

from tests.backend.stack import Api, Stack

ALL = {"citizen", "clinic", "warehouse", "cdc", "manufacturer", "regulator", "school", "admin"}
STAFF = {"clinic", "warehouse", "cdc", "manufacturer"}
PUBLIC = {"public"}
SIGNED_IN = {"signed_in"}

# (method, path pattern) -> roles admitted; PUBLIC needs no token; SIGNED_IN any role
RULES: list[tuple[str, str, set[str]]] = [
    ("*", r"^/(healthz|readyz|metrics)$", PUBLIC),
    ("*", r"^/v1/auth/(register|login|refresh)$", PUBLIC),
    ("POST", r"^/v1/auth/logout$", SIGNED_IN),
    ("GET", r"^/v1/me$", SIGNED_IN),
    ("*", r"^/v1/me/", {"citizen"}),
    ("*", r"^/v1/appointments", {"citizen"}),
    ("GET", r"^/v1/(sites|products|lots|facilities)", PUBLIC),
    ("POST", r"^/v1/staff/lots$", {"manufacturer"}),
    ("*", r"^/v1/staff/(equipment|stock|shipments)$|^/v1/staff/stock/", STAFF),
    ("*", r"^/v1/staff/shipments/\{shipment_id\}/", {"clinic", "warehouse", "cdc"}),
    ("*", r"^/v1/staff/(slots|appointments|persons|doses|adverse-events)", {"clinic"}),
    ("*", r"^/v1/cdc/", {"cdc", "regulator"}),
    ("POST", r"^/v1/regulator/lots/\{lot_id\}/recall$", {"regulator", "manufacturer"}),
    ("*", r"^/v1/regulator/", {"regulator"}),
    ("*", r"^/v1/admin/", {"admin"}),
    ("GET", r"^/v1/schools$", SIGNED_IN),
    ("GET", r"^/v1/verify/(keys|revocations)$", PUBLIC),
    ("*", r"^/v1/verify", {"school"}),
    ("*", r"^/v1/school/", {"school"}),
    ("GET", r"^/v1/staff/referrals$", {"clinic"}),
]


def admitted(method: str, path: str) -> set[str]:
    for rule_method, pattern, roles in RULES:
        if rule_method in ("*", method) and re.search(pattern, path):
            return roles
    raise AssertionError(f"{method} {path} is not classified in tests/backend/test_roles.py RULES")


def routes(stack: Stack) -> list[tuple[str, str]]:
    paths = stack.client.app.openapi()["paths"]
    found = [(method.upper(), path) for path, ops in paths.items() for method in ops]
    assert len(found) > 40
    return found


@pytest.fixture(scope="module")
def as_role(stack: Stack) -> dict[str, Api]:
    citizen, _ = stack.citizen()
    return {
        "citizen": citizen,
        "clinic": stack.staff["nurse"],
        "warehouse": stack.staff["warehouse"],
        "cdc": stack.staff["cdc"],
        "manufacturer": stack.staff["maker"],
        "regulator": stack.staff["regulator"],
        "admin": stack.staff["admin"],
        "school": stack.login("school"),
    }


def call(api: Api, method: str, path: str) -> object:
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    return api.client.request(method, concrete, headers=api.headers, json={})


def test_every_route_is_classified(stack: Stack) -> None:
    for method, path in routes(stack):
        admitted(method, path)


def test_other_roles_are_refused(stack: Stack, as_role: dict[str, Api]) -> None:
    checked = 0
    for method, path in routes(stack):
        roles = admitted(method, path)
        if roles & (PUBLIC | SIGNED_IN):
            continue
        for role in sorted(ALL - roles):
            r = call(as_role[role], method, path)
            assert r.status_code == 403, f"{role} on {method} {path}: {r.status_code} {r.text}"
            assert r.json()["error"]["reason"] == "wrong_role"
            checked += 1
        for role in roles:
            r = call(as_role[role], method, path)
            assert not (r.status_code == 403 and r.json()["error"]["reason"] == "wrong_role"), f"{role} {method} {path}"
    assert checked > 100


def test_protected_routes_need_a_token(stack: Stack) -> None:
    anonymous = stack.anonymous()
    for method, path in routes(stack):
        if admitted(method, path) & PUBLIC:
            continue
        r = call(anonymous, method, path)
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"
        assert r.json()["error"]["reason"] == "not_authenticated"
