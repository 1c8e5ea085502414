"""Puts the district's structure on the platform through the backend's API, as its operator would: facilities
(each with a custodial wallet), their equipment, one staff account each, the CDC officer, the products, schools
with API keys. Stock comes later, through the simulated warm-up day."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from simulate.api import Api, Session
from simulate.plan import Planner
from simulate.platform import PASSWORD
from simulate.shape import Shape
from simulate.world import Facility, School, World

T = TypeVar("T")
ROLE = {"warehouse": "warehouse", "manufacturer": "manufacturer", "clinic": "clinic"}


def build(api: Api, shape: Shape, planner: Planner, threads: int) -> World:
    admin = api.sign_in("admin", PASSWORD)
    regulator = api.sign_in("regulator", PASSWORD)
    pool = ThreadPoolExecutor(threads)

    def parallel(fn: Callable[..., T], items: list[Any]) -> list[T]:
        return list(pool.map(lambda args: fn(*args), items))

    def facility(kind: str, name: str, area: str, login: str, equipment: list[tuple[str, str]]) -> Facility:
        body = {"kind": kind, "name": name, "area_code": area}
        fid = api.call(admin, "register_facility", "post", "/v1/admin/facilities", body)["facility_id"]
        user = {"role": ROLE[kind], "login": login, "password": PASSWORD, "facility_id": fid}
        api.call(admin, "create_user", "post", "/v1/admin/users", user)
        made = Facility(fid, kind, name, api.sign_in(login, PASSWORD))
        for eq_kind, label in equipment:
            body = {"kind": eq_kind.lower(), "label": f"F{fid}-{label}"}
            eq = api.call(admin, "register_equipment", "post", f"/v1/admin/facilities/{fid}/equipment", body)
            made.equipment.append((eq["equipment_id"], eq_kind.lower()))
        return made

    try:
        wh = shape.warehouse
        cdc = facility("warehouse", wh["name"], wh["area"], "cdc-warehouse", [tuple(e) for e in wh["equipment"]])
        makers = dict(
            zip(
                [m["key"] for m in shape.manufacturers],
                parallel(
                    facility,
                    [
                        ("manufacturer", m["name"], shape.area, f"maker-{m['key']}", [("COLD_ROOM", "CR1")])
                        for m in shape.manufacturers
                    ],
                ),
                strict=True,
            )
        )
        built = parallel(
            facility, [("clinic", s.name, s.area, f"site-{s.index}", list(s.equipment)) for s in shape.sites]
        )
        sites = {}
        for site, made in zip(shape.sites, built, strict=True):
            made.kind, made.site = site.kind, site
            sites[site.index] = made
        officer = {"role": "cdc", "login": "cdc-officer", "password": PASSWORD, "facility_id": cdc.id}
        api.call(admin, "create_user", "post", "/v1/admin/users", officer)
        products = dict(
            parallel(
                lambda p: (p.type, _product(api, regulator, makers[p.maker].id, p)),
                [(p,) for p in shape.products.values()],
            )
        )
        schools = parallel(lambda i: _school(api, admin, i), [(i,) for i in range(shape.workload["school"]["schools"])])
    finally:
        pool.shutdown()
    return World(
        shape=shape,
        planner=planner,
        admin=admin,
        regulator=regulator,
        cdc_officer=api.sign_in("cdc-officer", PASSWORD),
        cdc=cdc,
        makers=makers,
        sites=sites,
        products=products,
        schools=schools,
        vans=[eq for eq, kind in cdc.equipment if kind == "vehicle"],
    )


def _product(api: Api, regulator: Session, maker: int, p: Any) -> int:
    body = {
        "manufacturer_id": maker,
        "vaccine_type": p.type,
        "doses_per_unit": p.doses_per_unit,
        "self_paid": p.self_paid,
        "min_temp_dc": p.range_dc[0],
        "max_temp_dc": p.range_dc[1],
        "name": p.name,
        "gtin": p.gtin,
        "trace_prefix": p.trace_prefix,
    }
    return api.call(regulator, "register_product", "post", "/v1/regulator/products", body)["product_id"]


def _school(api: Api, admin: Session, i: int) -> School:
    login = f"school-{i + 1}"
    body = {"role": "school", "login": login, "password": PASSWORD, "display_name": f"禅城区第{i + 1}小学"}
    school_id = api.call(admin, "create_user", "post", "/v1/admin/users", body)["user_id"]
    session = api.sign_in(login, PASSWORD)
    key = api.call(session, "create_api_key", "post", "/v1/school/api-keys", {"label": "入学查验"})["key"]
    return School(school_id, key)
