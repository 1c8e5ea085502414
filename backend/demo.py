"""The demo district's backend side, for `make up` on the development chain: a custodial wallet admitted
for every facility, the products' pack codes, and one account per role (printed when the platform is up).

Idempotent: run at every start; what exists is kept. Refused on any chain but the development chain,
because the demo accounts share one published password."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from backend.db.models import chainview as cv
from backend.db.models.offchain import ProductMeta, User
from backend.runtime import Runtime
from backend.services import accounts, persons, provision
from backend.services.writes import Actor
from chain.dev import DEV_CHAIN_ID

log = logging.getLogger(__name__)

DEMO_PASSWORD = "vaxledger-demo-1"
SEED_DATA = Path(__file__).resolve().parent.parent / "scripts" / "data" / "chancheng.json"
SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class DemoAccount:
    login: str
    role: str
    what: str


def bootstrap(rt: Runtime, seed_data: Path = SEED_DATA, wait_s: float = 120) -> list[DemoAccount]:
    ledger = rt.ledgers.get()
    if ledger.chain_id != DEV_CHAIN_ID:
        raise SystemExit(f"the demo accounts are for the development chain only (this is chain {ledger.chain_id})")
    _wait_indexed(rt, wait_s)
    with rt.db.session() as s:
        facilities = s.scalars(select(cv.Facility).order_by(cv.Facility.id)).all()
    for facility in facilities:
        with rt.db.session() as s:
            provision.admit_facility_wallet(rt, s, facility.id, SYSTEM)
    _product_codes(rt, seed_data)
    return _accounts(rt, facilities)


def _wait_indexed(rt: Runtime, wait_s: float) -> None:
    head = rt.ledgers.get().w3.eth.block_number
    if not rt.wait_indexed(head, wait_s):
        raise SystemExit(f"the indexer did not reach block {head} within {wait_s:g} s: {rt.indexer.last_error}")


def _product_codes(rt: Runtime, seed_data: Path) -> None:
    data = json.loads(seed_data.read_text())
    codes = {p["type"]: (p.get("gtin"), p.get("trace_prefix")) for p in data["products"]}
    with rt.db.session() as s:
        for product in s.scalars(select(cv.Product)):
            gtin, prefix = codes.get(product.vaccine_type, (None, None))
            if (gtin or prefix) and s.get(ProductMeta, product.id) is None:
                s.add(ProductMeta(product_id=product.id, gtin=gtin, trace_prefix=prefix))


def _accounts(rt: Runtime, facilities: list[cv.Facility]) -> list[DemoAccount]:
    warehouse = next(f for f in facilities if f.kind == "warehouse")
    makers = [f for f in facilities if f.kind == "manufacturer"]
    clinics = [f for f in facilities if f.kind == "clinic"]
    wanted = [
        ("admin", "admin", None, "平台管理员 platform admin"),
        ("regulator", "regulator", None, "药监 regulator"),
        ("cdc", "cdc", warehouse, "疾控中心 CDC officer"),
        ("warehouse", "warehouse", warehouse, "疾控冷库 CDC warehouse"),
        ("school", "school", None, "学校 school verifier"),
        *[(f"maker{i}", "manufacturer", f, f.name) for i, f in enumerate(makers, 1)],
        *[(f"clinic{f.id}", "clinic", f, f.name) for f in clinics],
    ]
    made: list[DemoAccount] = []
    for login, role, facility, what in wanted:
        with rt.db.session() as s:
            key = accounts.login_key(rt, login)
            if s.scalars(select(User.id).where(User.login_index == key)).first() is None:
                accounts.new_user(
                    rt,
                    s,
                    role=role,
                    login=login,
                    password=DEMO_PASSWORD,
                    display_name=what,
                    facility_id=facility.id if facility else None,
                )
        made.append(DemoAccount(login, role, what))
    made.append(_citizen(rt))
    return made


def _citizen(rt: Runtime) -> DemoAccount:
    phone = "13800138000"
    with rt.db.session() as s:
        key = accounts.login_key(rt, phone)
        user = s.scalars(select(User).where(User.login_index == key)).first()
        if user is None:
            user = persons.register_citizen(
                rt,
                s,
                phone=phone,
                password=DEMO_PASSWORD,
                name="李娜",
                birth_date=date(1992, 3, 14),
                sex="F",
                id_number=None,
            )
            s.flush()
            today = date.fromtimestamp(time.time())
            persons.add_dependent(
                rt, s, user, name="王小明", birth_date=date(today.year - 1, today.month, 1), sex="M", id_number=None
            )
    return DemoAccount(phone, "citizen", "市民（含一名孩子）citizen with a child")


def describe(made: list[DemoAccount]) -> str:
    shown = [a for a in made if a.role != "clinic"][:8] + [a for a in made if a.role == "clinic"][:3]
    lines = [f"    {a.login:<14} {a.role:<13} {a.what}" for a in shown]
    clinics = sum(1 for a in made if a.role == "clinic")
    lines.append(f"    ... and clinic<N> for each of the {clinics} sites; every password: {DEMO_PASSWORD}")
    lines.append("    each role's pages are at the web address above; the citizen's are made for a phone")
    return "\n".join(lines)
