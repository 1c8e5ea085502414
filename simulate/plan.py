"""What the district does each simulated day, drawn from the workload's assumptions with seeded randomness:
doses per site, product and hour; which are booked (and when the booking was made, moved or cancelled); the
slots clinics publish for them; adverse-event reports; school-entry rosters; cold-chain faults and recalls.

Pure: each day's draws come from a Random seeded by (seed, day, site, product), so a day's plan is the same
whichever days are asked for first and whatever subset of sites runs. What the platform answers (stock, refusals)
is the driver's business, not the plan's."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from simulate.shape import Shape, Site

AM, PM = 0, 1
FAULT_KINDS = ("freezing", "power_cut", "dead")


@dataclass(frozen=True)
class Booking:
    key: str
    site: int
    product: str
    day: int
    """The day of the slot (and of the dose, unless cancelled)."""
    half: int
    """The slot it ends in: AM or PM."""
    booked: tuple[int, int]
    """(day, hour) the booking is made."""
    first_half: int
    """The slot first booked: differs from `half` when the booking is moved."""
    moved: tuple[int, int] | None = None
    cancelled: tuple[int, int] | None = None


@dataclass(frozen=True)
class Dose:
    site: int
    product: str
    hour: int
    booking: str | None = None


@dataclass
class DayPlan:
    day: int
    doses: list[Dose] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    aefi: dict[int, int] = field(default_factory=dict)
    """Adverse-event reports per site, filed at the end of the day."""
    roster: int = 0
    """Children a school checks that day."""

    def slot_capacity(self) -> dict[tuple[int, str, int], int]:
        """(site, product, half) -> places to publish: every booking that ever holds one, plus one spare."""
        need: dict[tuple[int, str, int], int] = {}
        for b in self.bookings:
            for half in {b.first_half, b.half}:
                key = (b.site, b.product, half)
                need[key] = need.get(key, 0) + 1
        return {k: v + 1 for k, v in need.items()}


@dataclass(frozen=True)
class Fault:
    kind: str
    site: int
    start_h: int
    """Hours from the start of the measured period."""
    duration_h: int


@dataclass(frozen=True)
class Recall:
    day: int
    hour: int
    product: str


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # the normal approximation is within a percent here, and O(1)
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _normalised(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    return [v / mean for v in values]


class Planner:
    def __init__(self, shape: Shape, *, start: date, days: int, scale: float, seed: str) -> None:
        self.shape = shape
        self.start = start
        self.days = days
        self.scale = scale
        self.seed = seed
        w = shape.workload
        self.weekday = _normalised(w["weekday_factors"])
        self.months = {p: _normalised(f) for p, f in w["month_factors"].items()}
        self.school_months = _normalised(w["school"]["month_factors"])
        self.sites = {s.index: s for s in shape.sites}
        self.day = lru_cache(maxsize=16)(self._day)

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=day)

    def mean_daily(self, site: Site, product: str, day: int) -> float:
        """Expected doses of `product` at `site` on `day`, after weekday and seasonal factors."""
        d = self.date_of(day)
        month = self.months.get(product, [1.0] * 12)[d.month - 1]
        base = self.shape.annual_doses(product) * self.shape.site_weight(site, product) / 365
        return base * self.scale * self.weekday[d.weekday()] * month

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.seed, *parts)))

    def _day(self, day: int) -> DayPlan:
        plan = DayPlan(day)
        w = self.shape.workload
        booking = w["booking"]
        for site in self.sites.values():
            hours = w["hour_weights"].get(site.kind, w["hour_weights"]["default"])
            hour_list, hour_weights = [int(h) for h in hours], list(hours.values())
            given = 0
            for product in site.stock:
                rng = self._rng(day, site.index, product)
                n = poisson(rng, self.mean_daily(site, product, day))
                given += n
                for i in range(n):
                    if product in site.slots and rng.random() < booking["share"]:
                        b = self._booking(rng, site, product, day, f"{day}:{site.index}:{product}:{i}", moved_ok=True)
                        plan.bookings.append(b)
                        start, end = booking["slot_hours"][b.half]
                        plan.doses.append(Dose(site.index, product, rng.randrange(start, end), b.key))
                        if rng.random() < booking["cancel_share"] / (1 - booking["cancel_share"]):
                            key = f"{day}:{site.index}:{product}:{i}:c"
                            plan.bookings.append(self._booking(rng, site, product, day, key, cancel=True))
                    else:
                        plan.doses.append(Dose(site.index, product, rng.choices(hour_list, hour_weights)[0]))
            rng = self._rng(day, site.index, "aefi")
            reports = poisson(rng, given * w["aefi_per_100k_doses"] / 100_000)
            if reports:
                plan.aefi[site.index] = reports
        d = self.date_of(day)
        mean = w["school"]["checks_per_year"] / 365 * self.school_months[d.month - 1] * self.scale
        plan.roster = max(1, poisson(self._rng(day, "school"), mean))
        return plan

    def _booking(
        self,
        rng: random.Random,
        site: Site,
        product: str,
        day: int,
        key: str,
        *,
        moved_ok: bool = False,
        cancel: bool = False,
    ) -> Booking:
        low, high = self.shape.workload["booking"]["lead_days"]
        book_day = max(0, day - rng.randint(low, high))
        booked = (book_day, rng.randint(7, 21)) if book_day < day else (day, 7)
        half = rng.choice((AM, PM))
        later = self._later(rng, booked, day)
        if cancel:
            return Booking(key, site.index, product, day, half, booked, half, cancelled=later)
        if moved_ok and rng.random() < self.shape.workload["booking"]["reschedule_share"]:
            return Booking(key, site.index, product, day, half, booked, 1 - half, moved=later)
        return Booking(key, site.index, product, day, half, booked, half)

    @staticmethod
    def _later(rng: random.Random, booked: tuple[int, int], day: int) -> tuple[int, int]:
        """A moment after `booked` and before the slots of `day` open (both are taken in hour order, and a
        change runs after the bookings of its hour)."""
        book_day, book_hour = booked
        if book_day >= day:
            return (day, 7)
        when = rng.randint(book_day, day - 1)
        return (when, rng.randint(book_hour, 21) if when == book_day else rng.randint(7, 21))

    def bookings_made(self, day: int) -> list[Booking]:
        """Bookings whose booking, move or cancellation falls on `day` (for slots up to the lead time ahead)."""
        high = self.shape.workload["booking"]["lead_days"][1]
        out = []
        for target in range(day, min(day + high + 1, self.days)):
            for b in self.day(target).bookings:
                if day in (b.booked[0], (b.moved or (-1,))[0], (b.cancelled or (-1,))[0]):
                    out.append(b)
        return out

    def faults(self) -> list[Fault]:
        """Cold-chain faults of the period, on distinct sites' first storage equipment: each kind at its yearly
        rate, and at least once in any run, so every path (quarantine, disposal, release, silence) runs."""
        w = self.shape.workload
        rng = self._rng("faults")
        hours = self.days * 24
        sites = [s.index for s in self.shape.sites]
        rng.shuffle(sites)
        out: list[Fault] = []
        for kind in FAULT_KINDS:
            duration = w["fault_hours"][kind]
            count = max(1, round(w["faults_per_year"][kind] * self.days / 365))
            for _ in range(count):
                latest = max(0, hours - duration - 2)
                out.append(Fault(kind, sites[len(out) % len(sites)], rng.randint(0, latest), duration))
        return sorted(out, key=lambda f: f.start_h)

    def recalls(self) -> list[Recall]:
        """Recalls at the yearly rate, at least one in any run; the product weighted by its volume."""
        rng = self._rng("recalls")
        products = sorted(self.shape.products)
        weights = [self.shape.annual_doses(p) for p in products]
        count = max(1, round(self.shape.workload["recalls_per_year"] * self.days / 365))
        return sorted(
            (Recall(rng.randrange(self.days), 10, rng.choices(products, weights)[0]) for _ in range(count)),
            key=lambda r: r.day,
        )
