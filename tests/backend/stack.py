"""A running backend for the API tests: its own Anvil, the three contracts deployed from Brownie's build,
a fresh SQLite database, a fake cold-chain oracle, and a small district put on chain through the API
itself (facilities, equipment, products, staff accounts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from backend.app import create_app
from backend.core.config import BackendSettings
from backend.core.envelope import Keyring
from backend.runtime import Runtime
from backend.services import accounts
from tests.backend.platform import GTIN_HEPB, GTIN_MMR, FakeOracle, deploy_platform
from tests.chain.nodes import AnvilNode

PASSWORD = "test-pass-1"


def settings_for(node_url: str, workdir: Path, oracle_url: str, **overrides: Any) -> BackendSettings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{workdir / 'backend.db'}",
        "rpc_url": node_url,
        "manifest": workdir / "manifest.json",
        "master_keys": Keyring.generate_text("test1"),
        "oracle_url": oracle_url,
        "log_json": False,
        "indexer_poll_s": 0.05,
    }
    return BackendSettings(**{**values, **overrides})


@dataclass
class Api:
    """A TestClient speaking as one account."""

    client: TestClient
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers, **kw)

    def ok(self, method: str, path: str, json: Any = None, status: int | None = None) -> Any:
        response = getattr(self, method)(path, json=json) if method == "post" else getattr(self, method)(path)
        expected = status or (201 if response.status_code == 201 else 200)
        assert response.status_code == expected, f"{method.upper()} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


@dataclass
class Stack:
    node: AnvilNode
    rt: Runtime
    client: TestClient
    oracle: FakeOracle
    workdir: Path
    ids: dict[str, int] = field(default_factory=dict)
    staff: dict[str, Api] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        ids = self.__dict__.get("ids", {})
        if name in ids:
            return ids[name]
        raise AttributeError(name)

    def anonymous(self) -> Api:
        return Api(self.client)

    def login(self, login: str, password: str = PASSWORD) -> Api:
        response = self.client.post("/v1/auth/login", json={"login": login, "password": password})
        assert response.status_code == 200, response.text
        return Api(self.client, {"Authorization": f"Bearer {response.json()['access_token']}"})

    def citizen(self, *, children: int = 0, sex: str = "F") -> tuple[Api, dict[str, Any]]:
        """A new citizen with `children` dependents; returns the API and {"self": id, "children": [ids]}."""
        phone = "139" + str(uuid.uuid4().int)[:8]
        r = self.client.post(
            "/v1/auth/register",
            json={"phone": phone, "password": PASSWORD, "name": "测试市民", "birth_date": "1990-05-01", "sex": sex},
        )
        assert r.status_code == 201, r.text
        api = Api(self.client, {"Authorization": f"Bearer {r.json()['access_token']}"})
        me = api.ok("get", "/v1/me")
        kids = []
        for i in range(children):
            born = (date.today() - timedelta(days=200 + i)).isoformat()
            kid = api.ok("post", "/v1/me/family", {"name": f"孩子{i}", "birth_date": born, "sex": "M"})
            kids.append(kid["id"])
        return api, {"self": me["person"]["id"], "children": kids, "phone": phone}

    # supply-chain steps through the API, each by the account that may do it

    def lot(self, number: str | None = None, doses: int = 100, *, product: str = "hepb", release: bool = True) -> int:
        number = number or f"L{uuid.uuid4().hex[:10].upper()}"
        body = {
            "product_id": self.ids[product],
            "lot_number": number,
            "expiry": (date.today() + timedelta(days=365)).isoformat(),
            "doses": doses,
            "equipment_id": self.maker_room,
        }
        lot_id = self.staff["maker"].ok("post", "/v1/staff/lots", body)["lot_id"]
        if release:
            self.staff["regulator"].ok("post", f"/v1/regulator/lots/{lot_id}/release", {"document": f"cert {number}"})
        return lot_id

    def ship(self, who: str, lot: int, source: int, to_facility: int, quantity: int) -> int:
        body = {
            "lot_id": lot,
            "from_equipment_id": source,
            "vehicle_id": self.van,
            "to_facility_id": to_facility,
            "quantity": quantity,
        }
        return self.staff[who].ok("post", "/v1/staff/shipments", body)["shipment_id"]

    def receive(self, who: str, shipment: int, equipment: int) -> dict[str, Any]:
        return self.staff[who].ok("post", f"/v1/staff/shipments/{shipment}/receive", {"equipment_id": equipment})

    def stocked_lot(
        self, doses: int = 100, to_clinic: int = 20, *, clinic: str = "nurse", fridge: str = "fridge"
    ) -> int:
        """A released lot at the CDC with `to_clinic` doses delivered into the clinic's fridge."""
        lot = self.lot(doses=doses)
        shipment = self.ship("maker", lot, self.maker_room, self.cdc, doses)
        self.receive("warehouse", shipment, self.cdc_room)
        facility = self.clinic if clinic == "nurse" else self.clinic2
        shipment = self.ship("warehouse", lot, self.cdc_room, facility, to_clinic)
        self.receive(clinic, shipment, self.ids[fridge])
        return lot


@contextmanager
def running_stack(workdir: Path, *, node: AnvilNode | None = None, **overrides: Any) -> Iterator[Stack]:
    """`node`: a running chain node of the caller's (who stops it) instead of a fresh Anvil; `overrides` are
    backend settings (rpc_url among them, to reach the node through something else)."""
    oracle = FakeOracle()
    own = node is None
    chain = AnvilNode().start() if node is None else node
    try:
        deploy_platform(chain.url, workdir / "manifest.json")
        settings = settings_for(chain.url, workdir, oracle.url, **overrides)
        rt = Runtime(settings)
        with TestClient(create_app(settings, rt)) as client:
            stack = Stack(chain, rt, client, oracle, workdir)
            build_district(stack)
            yield stack
    finally:
        if own:
            chain.stop()
        oracle.close()


def build_district(stack: Stack) -> None:
    rt = stack.rt
    with rt.db.session() as s:
        accounts.new_user(rt, s, role="admin", login="admin", password=PASSWORD, display_name="Admin")
        accounts.new_user(rt, s, role="regulator", login="regulator", password=PASSWORD, display_name="Regulator")
        accounts.new_user(rt, s, role="school", login="school", password=PASSWORD, display_name="School")
    admin = stack.login("admin")
    stack.staff["admin"] = admin
    stack.staff["regulator"] = stack.login("regulator")

    def facility(name: str, kind: str) -> int:
        fid = admin.ok("post", "/v1/admin/facilities", {"kind": kind, "name": name, "area_code": "440604010"})[
            "facility_id"
        ]
        stack.ids[name] = fid
        return fid

    def equipment(name: str, fid: int, kind: str) -> None:
        body = {"kind": kind, "label": name.upper()}
        stack.ids[name] = admin.ok("post", f"/v1/admin/facilities/{fid}/equipment", body)["equipment_id"]

    maker = facility("maker", "manufacturer")
    cdc = facility("cdc", "warehouse")
    clinic = facility("clinic", "clinic")
    clinic2 = facility("clinic2", "clinic")
    equipment("maker_room", maker, "cold_room")
    equipment("cdc_room", cdc, "cold_room")
    equipment("van", cdc, "vehicle")
    equipment("fridge", clinic, "fridge")
    equipment("fridge2", clinic, "fridge")
    equipment("fridge_b", clinic2, "fridge")
    for login, role, fid in (
        ("maker", "manufacturer", maker),
        ("warehouse", "warehouse", cdc),
        ("cdc", "cdc", cdc),
        ("nurse", "clinic", clinic),
        ("nurse2", "clinic", clinic2),
    ):
        admin.ok(
            "post",
            "/v1/admin/users",
            {"role": role, "login": login, "password": PASSWORD, "display_name": login.title(), "facility_id": fid},
        )
        stack.staff[login] = stack.login(login)
    regulator = stack.staff["regulator"]
    for key, vtype, gtin, prefix in (("hepb", "HepB", GTIN_HEPB, "7300011"), ("mmr", "MMR", GTIN_MMR, "7300077")):
        body = {
            "manufacturer_id": maker,
            "vaccine_type": vtype,
            "doses_per_unit": 1,
            "name": f"{vtype} vaccine",
            "gtin": gtin,
            "trace_prefix": prefix,
        }
        stack.ids[key] = regulator.ok("post", "/v1/regulator/products", body)["product_id"]
