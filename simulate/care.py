"""The clinics' and families' work through the API: guardians sign up, book, move and cancel appointments;
nurses record doses from scanned GS1 codes (walk-ins registered at the counter, or the booking named); clinics
report adverse events; guardians consent and a school verifies a roster of children for school entry.

A dose the site cannot give (no stock it can use) is counted as turned away, not sent: a nurse does not scan
a vial she does not have. A refusal by the platform is counted by its reason and the site's stock is re-read."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from simulate.api import Api, Refused, Session
from simulate.clock import CHINA
from simulate.plan import Booking, Dose
from simulate.platform import PASSWORD
from simulate.supply import Action, read_stock
from simulate.world import Family, World

GS = "\x1d"
ADULT_VACCINES = ("RABV", "FLU")
ROSTER_MAX = 2_000


def _rng(w: World, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (w.planner.seed, *parts)))


def _birth(rng: random.Random, start: date, adult: bool) -> str:
    days = rng.randint(20 * 365, 70 * 365) if adult else rng.randint(30, 7 * 365)
    return (start - timedelta(days=days)).isoformat()


# --- families -----------------------------------------------------------------------------------------------


def family(w: World, api: Api, rng: random.Random) -> Family:
    """A guardian with one child: someone already signed up, or (the workload's share) a new sign-up."""
    with w.lock:
        if w.families and rng.random() >= w.shape.workload["persons"]["family_new_share"]:
            fam = rng.choice(w.families)
        else:
            fam = Family(len(w.families))
            w.families.append(fam)
    with fam.lock:
        if fam.session is None:
            _sign_up(w, api, fam, rng)
    return fam


def _sign_up(w: World, api: Api, fam: Family, rng: random.Random) -> None:
    phone = f"139{fam.key:08d}"
    body = {
        "phone": phone,
        "password": PASSWORD,
        "name": f"家长{fam.key}",
        "birth_date": _birth(rng, w.planner.start, adult=True),
        "sex": rng.choice("FM"),
    }
    token = api.call(None, "sign_up", "post", "/v1/auth/register", body)["access_token"]
    session = Session(phone, PASSWORD, token)
    fam.guardian = api.call(session, "me", "get", "/v1/me")["person"]["id"]
    child = {"name": f"孩子{fam.key}", "birth_date": _birth(rng, w.planner.start, adult=False), "sex": rng.choice("FM")}
    fam.child = api.call(session, "add_child", "post", "/v1/me/family", child)["id"]
    fam.session = session


# --- appointments -------------------------------------------------------------------------------------------


def booking_actions(w: World, api: Api, day: int, hour: int) -> tuple[list[Action], list[Action]]:
    """(bookings made this hour, moves and cancellations this hour): the second list runs after the first."""
    made: list[Action] = []
    changed: list[Action] = []
    for b in w.planner.bookings_made(day):
        if b.booked == (day, hour):
            made.append(("book", lambda b=b: _book(w, api, b)))
        if b.moved == (day, hour):
            changed.append(("reschedule", lambda b=b: _move(w, api, b)))
        if b.cancelled == (day, hour):
            changed.append(("cancel_booking", lambda b=b: _cancel(w, api, b.key)))
    return made, changed


def _book(w: World, api: Api, b: Booking) -> None:
    fam = family(w, api, _rng(w, "book", b.key))
    slot = w.slots.get((b.site, b.product, b.day, b.first_half))
    if slot is None:
        with w.lock:
            w.counts["bookings_without_slot"] += 1
        return
    person = fam.guardian if b.product in ADULT_VACCINES else fam.child
    assert fam.session is not None
    try:
        answer = api.call(fam.session, "book", "post", "/v1/appointments", {"slot_id": slot, "person_id": person})
    except Refused:
        return  # counted under its reason; the person comes as a walk-in on the day
    with w.lock:
        w.bookings[b.key] = (answer["booking_id"], fam)
        w.reserved[(b.site, b.product)] += 1


def _move(w: World, api: Api, b: Booking) -> None:
    with w.lock:
        held = w.bookings.get(b.key)
        slot = w.slots.get((b.site, b.product, b.day, b.half))
    if held is None or slot is None:
        return
    booking, fam = held
    assert fam.session is not None
    try:
        answer = api.call(
            fam.session, "reschedule", "post", f"/v1/appointments/{booking}/reschedule", {"slot_id": slot}
        )
    except Refused:
        return  # the backend books the old slot again when the new one refuses
    with w.lock:
        w.bookings[b.key] = (answer["booking_id"], fam)


def _cancel(w: World, api: Api, key: str) -> None:
    with w.lock:
        held = w.bookings.pop(key, None)
    if held is None:
        return
    booking, fam = held
    assert fam.session is not None
    site, product = key.split(":")[1:3]
    try:
        api.call(fam.session, "cancel_booking", "delete", f"/v1/appointments/{booking}")
    except Refused:
        return
    with w.lock:
        w.reserved[(int(site), product)] -= 1


# --- doses --------------------------------------------------------------------------------------------------


def dose_actions(w: World, api: Api, day: int, hour: int) -> list[Action]:
    doses = [d for d in w.planner.day(day).doses if d.hour == hour and d.site in w.sites]
    return [("dose", lambda d=d, i=i: _dose(w, api, d, day, hour, i)) for i, d in enumerate(doses)]


def _code(w: World, site: int, lot_id: int) -> str:
    """The scanned GS1 DataMatrix of the unit the dose comes from: a multi-dose vial is used up before the next
    is opened."""
    lot = w.lots[lot_id]
    product = w.shape.products[lot.product]
    with w.lock:
        serial, used = w.vials.get((site, lot_id), ("", product.doses_per_unit))
        if used >= product.doses_per_unit:
            serial, used = f"S{w.next_serial():010d}", 0
        w.vials[(site, lot_id)] = (serial, used + 1)
    return f"]d201{product.gtin}17{lot.expiry:%y%m%d}10{lot.number}{GS}21{serial}"


def _dose(w: World, api: Api, d: Dose, day: int, hour: int, i: int) -> None:
    site = w.sites[d.site]
    with w.lock:
        held = w.bookings.pop(d.booking, None) if d.booking else None
        lots = w.usable_lots(site.id, d.product, w.planner.date_of(day))
        if not lots:
            w.counts["doses_turned_away_no_stock"] += 1
        else:
            w.stock[(site.id, lots[0].id)] -= 1
    if not lots:
        if held is not None:
            _cancel_held(w, api, d, held)
        return
    lot = lots[0]
    code = _code(w, d.site, lot.id)
    if held is not None:
        op, body = "record_dose_booked", {"code": code, "booking_id": held[0]}
    else:
        op, body = "record_dose", {"code": code, "person_id": _walk_in(w, api, d, day, hour, i)}
    try:
        answer = api.call(site.staff, op, "post", "/v1/staff/doses", body)
    except Refused:
        with w.lock:
            w.stock[(site.id, lot.id)] += 1
        read_stock(w, api, site)
        if held is not None:
            _cancel_held(w, api, d, held)
        return
    with w.lock:
        w.counts["doses_given"] += 1
        w.doses_by_lot[lot.id] += 1
        w.given_today.setdefault(d.site, []).append((code, answer["dose_number"]))
        if held is not None:
            w.reserved[(d.site, d.product)] -= 1


def _cancel_held(w: World, api: Api, d: Dose, held: tuple[int, Family]) -> None:
    """No dose for the booking today: the guardian cancels it (no API marks a booking missed), freeing its dose."""
    assert d.booking is not None
    with w.lock:
        w.bookings[d.booking] = held
    _cancel(w, api, d.booking)


def _walk_in(w: World, api: Api, d: Dose, day: int, hour: int, i: int) -> str:
    rng = _rng(w, "walk-in", day, hour, d.site, i)
    with w.lock:
        pool = w.walk_ins.setdefault(d.site, [])
        if pool and rng.random() >= w.shape.workload["persons"]["walk_in_new_share"]:
            return rng.choice(pool)
    body = {
        "name": f"受种者{w.next_serial()}",
        "birth_date": _birth(rng, w.planner.start, adult=d.product in ADULT_VACCINES),
        "sex": rng.choice("FM"),
    }
    person = api.call(w.sites[d.site].staff, "register_person", "post", "/v1/staff/persons", body)["id"]
    with w.lock:
        pool.append(person)
    return person


def aefi_actions(w: World, api: Api, day: int) -> list[Action]:
    """The day's adverse-event reports, each against a dose given that day at the site."""
    out: list[Action] = []
    for site, n in sorted(w.planner.day(day).aefi.items()):
        given = w.given_today.get(site, [])
        rng = _rng(w, "aefi", day, site)
        for code, number in rng.sample(given, min(n, len(given))):
            out.append(("report_aefi", _aefi(w, api, site, code, number, day)))
    return out


def _aefi(w: World, api: Api, site: int, code: str, number: int, day: int) -> Callable[[], None]:
    def act() -> None:
        body = {
            "code": code,
            "dose_number": number,
            "category": "reaction_common",
            "severity": "non_serious",
            "onset": datetime.fromtimestamp(w.period.at(day, 17), CHINA).isoformat(),
            "report": {"symptom": "接种部位红肿，体温 37.8 °C"},
        }
        api.call(w.sites[site].staff, "report_aefi", "post", "/v1/staff/adverse-events", body)

    return act


# --- school entry -------------------------------------------------------------------------------------------


def roster_families(w: World, api: Api, day: int) -> tuple[list[Action], Callable[[], list[Action]]]:
    """(consents to grant first, then the school's roster): the children a school checks today, each of whose
    guardians consents for that school (once)."""
    school = w.schools[day % len(w.schools)]
    rng = _rng(w, "roster", day)
    chosen: list[Family] = []
    consents: list[Action] = []
    for k in range(w.planner.day(day).roster):

        def consent(k: int = k) -> None:
            fam = family(w, api, _rng(w, "roster-family", day, k))
            with fam.lock:
                if school.id not in fam.tokens:
                    assert fam.session is not None
                    path = f"/v1/me/family/{fam.child}/consents"
                    fam.tokens[school.id] = api.call(fam.session, "consent", "post", path, {"school_id": school.id})[
                        "token"
                    ]
            with w.lock:
                if fam not in chosen:
                    chosen.append(fam)

        consents.append(("consent", consent))

    def rosters() -> list[Action]:
        tokens = [fam.tokens[school.id] for fam in chosen if school.id in fam.tokens]
        rng.shuffle(tokens)
        return [
            ("verify_roster", lambda part=tokens[i : i + ROSTER_MAX]: _verify(w, api, school.key, part))
            for i in range(0, len(tokens), ROSTER_MAX)
        ]

    return consents, rosters


def _verify(w: World, api: Api, key: str, tokens: list[str]) -> None:
    answer = api.call(None, "verify_roster", "post", "/v1/verify/roster", {"tokens": tokens}, {"X-Api-Key": key})
    with w.lock:
        w.counts["children_checked"] += len(tokens)
        for result in answer["results"]:
            w.counts[f"children_{result['status']}"] += 1
