"""The district being simulated: its facilities (scripts/data/chancheng.json, the file `make up` seeds) and how
it works over a year (simulate/data/chancheng-workload.json). Pure data: nothing here touches a process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DISTRICT = ROOT / "scripts" / "data" / "chancheng.json"
WORKLOAD = Path(__file__).parent / "data" / "chancheng-workload.json"


@dataclass(frozen=True)
class Product:
    type: str
    maker: str
    doses_per_unit: int
    self_paid: bool
    range_dc: tuple[int, int]
    name: str
    gtin: str
    trace_prefix: str
    lot_doses: int


@dataclass(frozen=True)
class Site:
    index: int
    """Position in the full district file: what seeds its randomness, so a subset plans the same sites alike."""
    kind: str
    name: str
    area: str
    equipment: tuple[tuple[str, str], ...]
    stock: tuple[str, ...]
    slots: tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    raw: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


@dataclass(frozen=True)
class Shape:
    about: str
    area: str
    warehouse: dict[str, Any]
    manufacturers: tuple[dict[str, str], ...]
    products: dict[str, Product]
    sites: tuple[Site, ...]
    all_sites: tuple[Site, ...]
    """Every site of the district file: per-site demand is its share of the whole district's, whatever subset
    runs."""
    workload: Workload

    def site_weight(self, site: Site, product: str) -> float:
        """The site's share of the district's doses of `product`."""
        weights = self.workload["site_kind_weights"]
        total = sum(weights[s.kind] for s in self.all_sites if product in s.stock)
        return weights[site.kind] / total if product in site.stock and total else 0.0

    def annual_doses(self, product: str) -> float:
        """The whole district's doses of `product` a year."""
        p = self.products[product]
        group = "self_paid" if p.self_paid else "programme"
        weights = self.workload["product_weights"][group]
        return self.workload["doses_per_year"][group] * weights.get(product, 0) / sum(weights.values())


def load(district: Path = DISTRICT, workload: Path = WORKLOAD, sites: int | None = None) -> Shape:
    """The district, with `sites` of its sites (each kind keeps its share, at least one of each) or all."""
    data = json.loads(district.read_text())
    products = {
        p["type"]: Product(
            p["type"],
            p["maker"],
            p["doses_per_unit"],
            p["self_paid"],
            (p["range"][0], p["range"][1]),
            p["name"],
            p["gtin"],
            p["trace_prefix"],
            p["lot_doses"],
        )
        for p in data["products"]
    }
    kinds = data["site_kinds"]
    everything = tuple(
        Site(
            i,
            s["kind"],
            s["name"],
            s["area"],
            tuple((k, label) for k, label in kinds[s["kind"]]["equipment"]),
            tuple(kinds[s["kind"]]["stock"]),
            tuple(kinds[s["kind"]]["slots"]),
        )
        for i, s in enumerate(data["sites"])
    )
    return Shape(
        data["about"],
        data["area"],
        data["warehouse"],
        tuple(data["manufacturers"]),
        products,
        subset(everything, sites),
        everything,
        Workload(json.loads(workload.read_text())),
    )


def subset(sites: tuple[Site, ...], n: int | None) -> tuple[Site, ...]:
    """`n` sites keeping each kind's share of the district (rounded, at least one of each kind)."""
    if n is None or n >= len(sites):
        return sites
    by_kind: dict[str, list[Site]] = {}
    for s in sites:
        by_kind.setdefault(s.kind, []).append(s)
    if n < len(by_kind):
        raise ValueError(f"--sites must be at least {len(by_kind)}: one site of each kind")
    keep = {kind: max(1, round(len(group) * n / len(sites))) for kind, group in by_kind.items()}
    while sum(keep.values()) > n:  # rounding up every kind can overshoot: trim the largest
        keep[max(keep, key=lambda k: keep[k])] -= 1
    chosen = [s for kind, group in by_kind.items() for s in group[: keep[kind]]]
    return tuple(sorted(chosen, key=lambda s: s.index))
