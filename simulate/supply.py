"""The supply chain's work through the API: lots registered by the manufacturers when the CDC runs short,
batch release by the regulator, deliveries to the CDC and from it to the sites when a site's stock runs low,
receipts (the backend fetches the trip's record from the oracle and refuses a bad one on chain), the CDC's
rounds (alarms acknowledged, quarantined stock disposed of after a freeze or released after a heat alarm),
recalls and the write-offs that follow them, and the slots clinics publish ahead.

Each function returns the hour's actions, (operation, callable), which the driver runs on its threads; the
driver's picture of stock (world.py) is updated under its lock when the platform says yes."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from simulate.api import Api, Refused
from simulate.clock import CHINA, WARMUP
from simulate.plan import Recall
from simulate.world import Facility, Lot, Transit, World

Action = tuple[str, Callable[[], None]]


def hour_index(day: int, hour: int) -> int:
    """Hours since the warm-up day's midnight."""
    return (day - WARMUP) * 24 + hour


def _supply(w: World, key: str) -> int:
    return int(w.shape.workload["supply"][key])


def district_daily(w: World, product: str, day: int) -> float:
    """Expected doses of `product` a day over the simulated sites, around `day`."""
    sites = [f.site for f in w.sites.values() if f.site is not None]
    return sum(w.planner.mean_daily(s, product, max(day, 0)) for s in sites)


# --- lots -----------------------------------------------------------------------------------------------


def resupply(w: World, api: Api, day: int, hour: int) -> list[Action]:
    """A new lot of each product whose CDC stock and pipeline cover less than the reorder days."""
    out: list[Action] = []
    h = hour_index(day, hour)
    for product in sorted(w.products):
        daily = district_daily(w, product, day)
        if daily <= 0:
            continue
        with w.lock:
            pipeline = sum(
                lot.doses
                for lot in w.lots.values()
                if lot.product == product and lot.at_maker and lot.status != "recalled"
            )
            pipeline += w.in_transit(w.cdc.id, product)
        cover = w.available(w.cdc.id, product, w.planner.date_of(day)) + pipeline
        if cover < _supply(w, "cdc_reorder_days") * daily:
            out.append(("register_lot", _register(w, api, product, day, h, daily)))
    return out


def _register(w: World, api: Api, product: str, day: int, h: int, daily: float) -> Callable[[], None]:
    p = w.shape.products[product]
    unit = p.doses_per_unit
    wanted = max(p.lot_doses * w.planner.scale, 3 * _supply(w, "cdc_reorder_days") * daily)
    doses = max(unit, math.ceil(wanted / unit) * unit)
    on = w.planner.date_of(day)
    number = f"{re.sub('[^A-Z0-9]', '', product.upper())[:6]}{on:%y%m%d}{w.next_serial():04d}"
    maker = w.makers[p.maker]
    warmup = day == WARMUP

    def act() -> None:
        body = {
            "product_id": w.products[product],
            "lot_number": number,
            "expiry": (on + timedelta(days=_supply(w, "lot_shelf_days"))).isoformat(),
            "doses": doses,
            "equipment_id": maker.storage()[0],
        }
        lot_id = api.call(maker.staff, "register_lot", "post", "/v1/staff/lots", body)["lot_id"]
        lot = Lot(lot_id, product, number, on + timedelta(days=_supply(w, "lot_shelf_days")), doses)
        lot.release_due = h if warmup else h + _supply(w, "release_delay_hours")
        with w.lock:
            w.lots[lot_id] = lot
            w.stock[(maker.id, lot_id)] += doses
        if warmup:  # the district starts stocked: its first lots were released before the simulated year
            _release(w, api, lot)

    return act


def releases(w: World, api: Api, h: int) -> list[Action]:
    with w.lock:
        due = [lot for lot in w.lots.values() if lot.status == "registered" and lot.release_due <= h]
    return [("release_lot", lambda lot=lot: _release(w, api, lot)) for lot in due]


def _release(w: World, api: Api, lot: Lot) -> None:
    body = {"document": f"批签发证明 {lot.number}"}
    api.call(w.regulator, "release_lot", "post", f"/v1/regulator/lots/{lot.id}/release", body)
    lot.status = "released"


def maker_deliveries(w: World, api: Api, h: int) -> list[Action]:
    """Released lots leave the manufacturer for the CDC, whole."""
    out: list[Action] = []
    with w.lock:
        ready = [lot for lot in w.lots.values() if lot.status == "released" and lot.at_maker]
        for lot in ready:
            lot.at_maker = False
            w.stock[(w.makers[w.shape.products[lot.product].maker].id, lot.id)] -= lot.doses
    for lot in ready:
        maker = w.makers[w.shape.products[lot.product].maker]
        out.append(("ship", lambda lot=lot, maker=maker: _ship(w, api, maker, lot, w.cdc.id, lot.doses, h)))
    return out


def _ship(w: World, api: Api, source: Facility, lot: Lot, to: int, quantity: int, h: int) -> None:
    with w.lock:
        van = w.vans[w.next_serial() % len(w.vans)]
    body = {
        "lot_id": lot.id,
        "from_equipment_id": source.storage()[0],
        "vehicle_id": van,
        "to_facility_id": to,
        "quantity": quantity,
    }
    try:
        shipment = api.call(source.staff, "ship", "post", "/v1/staff/shipments", body)["shipment_id"]
    except Refused:
        with w.lock:
            w.stock[(source.id, lot.id)] += quantity  # not sent: the claim on the stock goes back
            w.counts["shipments_refused"] += 1
        return
    with w.lock:
        w.transits.append(Transit(shipment, lot.id, to, quantity, h + _supply(w, "trip_hours")))


# --- deliveries to the sites -----------------------------------------------------------------------------


def refills(w: World, api: Api, day: int, hour: int) -> list[Action]:
    """The CDC ships to each site whatever stock (less what bookings hold back) is below the reorder point,
    enough for the refill days; from its earliest-expiring lots."""
    out: list[Action] = []
    h = hour_index(day, hour)
    on = w.planner.date_of(max(day, 0))
    reorder, refill = _supply(w, "site_reorder_days"), _supply(w, "site_refill_days")
    for index, site in sorted(w.sites.items()):
        assert site.site is not None
        for product in site.site.stock:
            daily = sum(w.planner.mean_daily(site.site, product, max(day, 0) + k) for k in range(refill)) / refill
            with w.lock:
                have = w.available(site.id, product, on) + w.in_transit(site.id, product) - w.reserved[(index, product)]
                if have >= reorder * daily and have > 0:
                    continue
                unit = w.shape.products[product].doses_per_unit
                missing = max(unit, math.ceil((refill * daily - have) / unit) * unit)
                for lot in w.usable_lots(w.cdc.id, product, on):
                    take = min(missing, w.stock[(w.cdc.id, lot.id)] // unit * unit)
                    if take <= 0:
                        continue
                    w.stock[(w.cdc.id, lot.id)] -= take  # claimed now, so two sites never count the same doses
                    out.append(("ship", lambda lot=lot, take=take, to=site.id: _ship(w, api, w.cdc, lot, to, take, h)))
                    missing -= take
                    if missing <= 0:
                        break
                if missing > 0:
                    w.counts["refill_short_doses"] += missing
    return out


def receipts(w: World, api: Api, h: int) -> list[Action]:
    with w.lock:
        due = [t for t in w.transits if t.due <= h]
        for t in due:
            w.transits.remove(t)
    return [("receive", lambda t=t: _receive(w, api, t, h)) for t in due]


def _receive(w: World, api: Api, t: Transit, h: int) -> None:
    facility = w.facility(t.to)
    storage = facility.storage()
    # Shippers keep stock in their first cold room; a clinic with two fridges keeps self-paid vaccines apart.
    self_paid = w.shape.products[w.lots[t.lot].product].self_paid
    first = storage[-1] if self_paid and facility.site is not None else storage[0]
    for equipment in [first, *(e for e in storage if e != first)]:
        try:
            body = {"equipment_id": equipment}
            answer = api.call(facility.staff, "receive", "post", f"/v1/staff/shipments/{t.shipment}/receive", body)
        except Refused as exc:
            if exc.reason == "equipment_under_excursion":
                continue
            raise
        with w.lock:
            if answer["outcome"] == "received":
                w.stock[(t.to, t.lot)] += answer["accepted"]
                w.counts["deliveries_received"] += 1
            else:
                w.counts["deliveries_refused_on_receipt"] += 1
                w.counts["doses_refused_on_receipt"] += t.quantity
        return
    with w.lock:  # every fridge of the site is under an excursion: the van waits an hour
        w.transits.append(Transit(t.shipment, t.lot, t.to, t.quantity, h + 1))


# --- the morning's stock view, recalls, the CDC's rounds -----------------------------------------------------


def refresh(w: World, api: Api) -> list[Action]:
    """Every stocking facility reads its stock per lot (the driver's picture starts the day right); stock of a
    recalled lot is written off."""
    return [("stock_view", lambda f=f: read_stock(w, api, f)) for f in (w.cdc, *w.sites.values())]


def read_stock(w: World, api: Api, f: Facility) -> None:
    rows = api.call(f.staff, "stock_view", "get", "/v1/staff/stock")
    with w.lock:
        claimed = {key: 0 for key in w.stock if key[0] == f.id}
        for r in rows:
            claimed[(f.id, r["lot_id"])] = claimed.get((f.id, r["lot_id"]), 0) + r["available"]
        for key, n in claimed.items():
            w.stock[key] = n  # set, not Counter.update (which adds)
    for r in rows:
        if r["lot_status"] == "recalled" and r["available"] > 0:
            body = {
                "lot_id": r["lot_id"],
                "equipment_id": r["equipment_id"],
                "quantity": r["available"],
                "reason": "recalled",
            }
            api.call(f.staff, "write_off", "post", "/v1/staff/stock/write-off", body)
            with w.lock:
                w.stock[(f.id, r["lot_id"])] -= r["available"]
                w.counts["doses_written_off_recalled"] += r["available"]


def quarantine_watch(w: World, api: Api) -> list[Action]:
    """The CDC's board, polled each hour: a site whose stock the oracle has just quarantined re-reads its stock,
    as its nurses would after the alarm."""
    return [("quarantine_watch", lambda: _watch(w, api))]


def _watch(w: World, api: Api) -> None:
    listing = api.call(w.cdc_officer, "quarantine_list", "get", "/v1/cdc/quarantine")
    seen = {(e["facility_id"], e["equipment_id"], e["lot_id"], e["quarantined"]) for e in listing["stock"]}
    with w.lock:
        new, w.quarantine_seen = seen - w.quarantine_seen, seen
    for fid in sorted({entry[0] for entry in new}):
        read_stock(w, api, w.facility(fid))


def recall(w: World, api: Api, r: Recall) -> list[Action]:
    """The regulator recalls the product's most used lot; the CDC lists whom to reach; every holder writes off
    what it has of the lot at once."""
    with w.lock:
        lots = [lot for lot in w.lots.values() if lot.product == r.product and lot.status == "released"]
        if not lots:
            return []
        lot = max(lots, key=lambda lot: (w.doses_by_lot[lot.id], lot.id))
        holders = sorted({fid for (fid, lot_id), n in w.stock.items() if lot_id == lot.id and n > 0})

    def act() -> None:
        body = {"document": f"召回通知 {lot.number}"}
        api.call(w.regulator, "recall_lot", "post", f"/v1/regulator/lots/{lot.id}/recall", body)
        lot.status = "recalled"
        with w.lock:
            w.counts["recalls"] += 1
        api.call(w.cdc_officer, "recall_recipients", "get", f"/v1/cdc/recalls/{lot.id}/recipients")
        for fid in holders:
            facility = w.facility(fid)
            if facility.kind != "manufacturer":
                read_stock(w, api, facility)

    return [("recall_lot", act)]


def cdc_round(w: World, api: Api) -> list[Action]:
    return [("cdc_round", lambda: _cdc_round(w, api))]


def _cdc_round(w: World, api: Api) -> None:
    for alarm in api.call(w.cdc_officer, "alarms_list", "get", "/v1/cdc/alarms?state=unacked"):
        comment = f"已处理：{alarm['kind']}，已通知接种点检查设备"
        api.call(w.cdc_officer, "ack_alarm", "post", f"/v1/cdc/alarms/{alarm['alarm_id']}/ack", {"comment": comment})
    quarantine = api.call(w.cdc_officer, "quarantine_list", "get", "/v1/cdc/quarantine")
    for entry in quarantine["stock"]:
        if entry["under_excursion"]:
            continue  # decided once the equipment is back in range
        body = {"lot_id": entry["lot_id"], "equipment_id": entry["equipment_id"], "quantity": entry["quarantined"]}
        if w.faulty.get(entry["equipment_id"]) == "power_cut":
            # Heat: the vial monitors are read and the doses go back to use (an assumption of the simulation).
            api.call(w.cdc_officer, "release_stock", "post", "/v1/cdc/stock/release", body)
            with w.lock:
                w.stock[(entry["facility_id"], entry["lot_id"])] += entry["quarantined"]
        else:  # a freeze spoils adsorbed vaccines: disposed of, with the reason (art. 40)
            api.call(w.cdc_officer, "dispose_stock", "post", "/v1/cdc/stock/dispose", body | {"reason": "excursion"})
            with w.lock:
                w.counts["doses_disposed_after_excursion"] += entry["quarantined"]


# --- slots ------------------------------------------------------------------------------------------------


def slots(w: World, api: Api, days: list[int]) -> list[Action]:
    """Each clinic publishes the slots its bookings for `days` will need."""
    hours = w.shape.workload["booking"]["slot_hours"]
    out: list[Action] = []
    for day in days:
        for (index, product, half), capacity in sorted(w.planner.day(day).slot_capacity().items()):
            start, end = hours[half]
            when = datetime.fromtimestamp(w.period.at(day, start), CHINA)
            out.append(
                ("publish_slot", _publish(w, api, index, product, day, half, when, (end - start) * 60, capacity))
            )
    return out


def _publish(
    w: World, api: Api, index: int, product: str, day: int, half: int, when: datetime, minutes: int, capacity: int
) -> Callable[[], None]:
    def act() -> None:
        body = {"vaccine_type": product, "start": when.isoformat(), "duration_min": minutes, "capacity": capacity}
        slot = api.call(w.sites[index].staff, "publish_slot", "post", "/v1/staff/slots", body)["slot_id"]
        with w.lock:
            w.slots[(index, product, day, half)] = slot

    return act


def slot_days(w: World, day: int) -> list[int]:
    """The days whose slots are published today: the first week and a day at the warm-up, then one a day."""
    ahead = w.shape.workload["booking"]["publish_days_ahead"]
    if day == WARMUP:
        return list(range(min(ahead + 1, w.planner.days)))
    return [day + ahead + 1] if day + ahead + 1 < w.planner.days else []
