"""School-entry verification under load, over HTTP on loopback.

    make bench-verify        (python -m bench.verify [--seconds 10])

A fresh Anvil with the contracts, and the real server (`python -m backend serve`: WORKERS uvicorn workers, one
per core as bench-api runs it, with the indexer in their parent process, SQLite). The district's products (one
per vaccine type of the schedule) and a lot of each go on chain through the API. Children of
primary-school-entry age (6 to 7 years) get a realistic dose history from the schedule's own rules, most
complete, some missing a dose; their dose records are written straight into the indexed `doses` table (about
20 doses a child: putting 100,000 doses on chain would take longer than the whole bench, and verification
reads only that table). Each child has a guardian's signed consent for the school, made through the same
service the API uses.

1. roster_2000_s: one POST /v1/verify/roster of 2,000 tokens whose children nobody has verified yet (no
   cache helps), timed from the request to the whole answer. Then the same roster again, for comparison
   (cached evaluations if it reaches the worker that made them: each worker caches its own).
2. first_verify_rps: `wrk` (Debian's package, a second process) walks 2,000 other children's tokens in
   order, each thread its own half, for FIRST_S seconds with the school's API key: every request is a
   child's first verification of the day (evaluated, signed, stored). Then every child of the pool is
   verified once more, unmeasured, so that step 3 only repeats.
3. verify_rps: `wrk` cycles POST /v1/verify over the same 2,000 tokens, CONNECTIONS connections for
   --seconds: a school checking its pupils again. Each request is a real verification (consent checked,
   dose records' fingerprint read, audit row written); the signed answer is reused while the child's
   record is unchanged.
4. coverage_s: the CDC's coverage report over the same children (GET /v1/cdc/coverage: each registered
   child opened and evaluated); then again unchanged, and after one more dose of one child.

Prints a table and writes bench/results/verify.json. Nothing here is asserted: see the tests."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import sqlite3
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from backend.db.models import chainview as cv
from backend.runtime import Runtime
from backend.schedule import edition_for
from backend.services import accounts, persons
from backend.services.supply import CHINA
from backend.verification import consents, schools
from bench.backend import PASSWORD, ROOT, Client, scratch
from devnet.backend_proc import BackendProcess
from devnet.ports import free_port
from tests.backend.platform import deploy_platform
from tests.chain.nodes import AnvilNode

RESULTS = Path(__file__).parent / "results" / "verify.json"
TARGETS = {"verify_rps": 1_000, "roster_2000_s": 2.0}
ROSTER = 2_000
POOL = 2_000
CHILDREN_PER_GUARDIAN = 50
MISSING_SHARE = 0.15
CONNECTIONS = 32
WRK_THREADS = 2
WORKERS = 2
FIRST_S = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="how long wrk runs")
    args = parser.parse_args()
    results = run(args.seconds)
    table(results)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


# --- the platform ---------------------------------------------------------------------------------------------


def lots_on_chain(url: str) -> dict[str, tuple[int, int]]:
    """vaccine type -> (lot id, clinic id): a product and a lot of each type of the schedule, and a clinic."""
    admin, regulator = Client(url, "admin"), Client(url, "regulator")
    maker = admin.call("post", "/v1/admin/facilities", {"kind": "manufacturer", "name": "Maker", "area_code": "440604"})
    clinic = admin.call("post", "/v1/admin/facilities", {"kind": "clinic", "name": "Clinic", "area_code": "440604"})
    room = admin.call(
        "post", f"/v1/admin/facilities/{maker['facility_id']}/equipment", {"kind": "cold_room", "label": "M"}
    )
    body = {"role": "manufacturer", "login": "maker", "password": PASSWORD, "facility_id": maker["facility_id"]}
    admin.call("post", "/v1/admin/users", body)
    staff = Client(url, "maker")
    expiry = (date.today() + timedelta(days=400)).isoformat()
    out = {}
    for vaccine in sorted({v for s in edition_for(date.today()).series for a in s.alternatives for v in a.vaccines}):
        product = regulator.call(
            "post",
            "/v1/regulator/products",
            {"manufacturer_id": maker["facility_id"], "vaccine_type": vaccine, "doses_per_unit": 1, "name": vaccine},
        )["product_id"]
        lot = staff.call(
            "post",
            "/v1/staff/lots",
            {
                "product_id": product,
                "lot_number": f"B{vaccine.replace('-', '')}",
                "expiry": expiry,
                "doses": 1_000_000,
                "equipment_id": room["equipment_id"],
            },
        )["lot_id"]
        out[vaccine] = (lot, clinic["facility_id"])
    return out


def history(birth: date, today: date, rng: random.Random) -> list[tuple[str, date]]:
    """Doses as a diligent clinic gives them: each at its minimum age (or interval) plus up to two weeks."""
    doses = []
    for series in edition_for(today).series:
        previous: date | None = None
        for rule in series.alternatives[0].doses:
            when = rule.min_age.after(birth)
            if previous is not None and rule.min_interval is not None:
                when = max(when, rule.min_interval.after(previous))
            when += timedelta(days=rng.randint(0, 14))
            if when >= today or (series.sex is not None and series.sex != "M"):
                break
            doses.append((rule.vaccines[0], when))
            previous = when
    if rng.random() < MISSING_SHARE:
        doses.pop(rng.randrange(len(doses)))
    return doses


def children(rt: Runtime, school_id: str, lots: dict[str, tuple[int, int]], count: int) -> list[str]:
    """`count` children with guardians, dose records and consents for the school; returns their tokens."""
    rng = random.Random(count)
    today = datetime.now(CHINA).date()
    tokens = []
    with rt.db.session() as s:
        guardian = None
        for i in range(count):
            if i % CHILDREN_PER_GUARDIAN == 0:
                phone = "136" + f"{rng.randrange(10**8):08d}"
                guardian = persons.register_citizen(
                    rt,
                    s,
                    phone=phone,
                    password=PASSWORD,
                    name="家长",
                    birth_date=date(1990, 1, 1),
                    sex="F",
                    id_number=None,
                )
                s.flush()
            assert guardian is not None
            birth = today - timedelta(days=rng.randint(6 * 365 + 2, 7 * 365 - 2))
            child = persons.add_dependent(rt, s, guardian, name=f"学生{i}", birth_date=birth, sex="M", id_number=None)
            for vaccine, given in history(birth, today, rng):
                lot, clinic = lots[vaccine]
                s.add(
                    cv.Dose(
                        unit_hash="0x" + secrets.token_hex(32),
                        dose_number=1,
                        person=child.pseudonym,
                        lot_id=lot,
                        facility_id=clinic,
                        equipment_id=0,
                        at=int(datetime.combine(given, datetime.min.time(), CHINA).timestamp()) + 36_000,
                        tx_hash="0x" + secrets.token_hex(32),
                        block=0,  # no place on chain: verification never traces a dose's path
                        log_index=0,
                    )
                )
            granted = consents.grant(rt, s, guardian, child, school_id=school_id, valid_until=None, clinic_id=None)
            tokens.append(granted["token"])
    return tokens


# --- load ----------------------------------------------------------------------------------------------------------


def wrk_script(tokens: list[str], key: str, *, walk: bool) -> str:
    """POST /v1/verify over `tokens`: cycling, or (walk) each thread once through its own share in order."""
    bodies = ",\n".join(json.dumps(json.dumps({"token": t})) for t in tokens)
    return f"""
bodies = {{{bodies}}}
walk = {"true" if walk else "false"}
threads = 0
setup = function(thread)
  thread:set("index", threads)
  threads = threads + 1
end
init = function(args)
  share = math.floor(#bodies / {WRK_THREADS})
  counter = walk and index * share or index
end
request = function()
  counter = counter + 1
  return wrk.format("POST", "/v1/verify",
    {{["Content-Type"] = "application/json", ["X-Api-Key"] = "{key}"}}, bodies[((counter - 1) % #bodies) + 1])
end
"""


def wrk(url: str, script: str, seconds: float, workdir: Path) -> dict[str, Any]:
    path = workdir / "verify.lua"
    path.write_text(script)
    args = ["wrk", "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{max(1, round(seconds))}s", "--latency"]
    args += ["-s", str(path)]
    out = subprocess.run([*args, url + "/v1/verify"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert found and total, out
    return {
        "rps": float(found.group(1)),
        "requests": int(total.group(1)),
        "p50_ms": _ms(out, "50%"),
        "p99_ms": _ms(out, "99%"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _ms(out: str, percentile: str) -> float:
    found = re.search(rf"\s{percentile}\s+([\d.]+)(\w+)", out)
    assert found, out
    return float(found.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[found.group(2)]


def coverage(url: str, database: Path) -> tuple[int, list[float]]:
    """The CDC's coverage report three times: every registered child evaluated; again (kept while nothing
    changed); after one more dose for one child (only that child evaluated again). Returns (children,
    [seconds of each])."""
    client = Client(url, "regulator")
    took = []
    for step in range(3):
        if step == 2:
            with sqlite3.connect(database) as db:
                db.execute(
                    "INSERT INTO doses SELECT ?, dose_number, person, lot_id, facility_id, equipment_id, booking_id, "
                    "at + 86400, tx_hash, block, log_index FROM doses LIMIT 1",
                    ("0x" + secrets.token_hex(32),),
                )
        started = time.perf_counter()
        children = client.call("get", "/v1/cdc/coverage")["children"]
        took.append(time.perf_counter() - started)
    return children, took


def roster(url: str, key: str, tokens: list[str]) -> tuple[float, dict[str, int], bool]:
    http = httpx.Client(base_url=url, timeout=120, headers={"X-Api-Key": key})
    started = time.perf_counter()
    r = http.post("/v1/verify/roster", json={"tokens": tokens})
    elapsed = time.perf_counter() - started
    r.raise_for_status()
    answer = r.json()
    statuses = [x["status"] for x in answer["results"]]
    return elapsed, {s: statuses.count(s) for s in set(statuses)}, answer["attestation"] is not None


def verify_each(url: str, key: str, tokens: list[str]) -> None:
    """Every token verified once more, so that the next run only repeats checks (those the first run
    reached are answered from the cache already)."""
    http = httpx.Client(base_url=url, timeout=60, headers={"X-Api-Key": key})
    for token in tokens:
        http.post("/v1/verify", json={"token": token}).raise_for_status()


# --- the run ---------------------------------------------------------------------------------------------------------


def run(seconds: float) -> dict[str, Any]:
    with scratch("vaxledger-bench-verify-") as workdir:
        node = AnvilNode().start()
        server = None
        try:
            deploy_platform(node.url, workdir / "manifest.json")
            server = BackendProcess(
                workdir,
                node.url,
                label="bench",
                oracle_url=f"http://127.0.0.1:{free_port()}",
                workers=str(WORKERS),
                lock_dir=str(workdir / "locks"),
            )
            rt = server.runtime()  # the children are written in bulk, in-process, before the server starts
            rt.start()
            with rt.db.session() as s:
                for role in ("admin", "regulator"):
                    accounts.new_user(rt, s, role=role, login=role, password=PASSWORD)
                school = accounts.new_user(
                    rt, s, role="school", login="school", password=PASSWORD, display_name="实验小学"
                )
                school_id = school.id
                key = schools.create_key(s, school, "bench")["key"]
            server.start()
            lots = lots_on_chain(server.url)
            made = time.perf_counter()
            tokens = children(rt, school_id, lots, ROSTER + POOL)
            setup_s = time.perf_counter() - made
            with rt.db.engine.connect() as db:
                # The setup's bulk write is copied into the database file now, not during a measured request.
                db.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            rt.stop()
            cold_roster, roster_statuses, signed = roster(server.url, key, tokens[:ROSTER])
            warm_roster, _, _ = roster(server.url, key, tokens[:ROSTER])
            pool = tokens[ROSTER:]
            first = wrk(server.url, wrk_script(pool, key, walk=True), FIRST_S, workdir)
            verify_each(server.url, key, pool)
            load = wrk(server.url, wrk_script(pool, key, walk=False), seconds, workdir)
            covered, coverage_s = coverage(server.url, workdir / "backend.db")
        finally:
            if server is not None:
                server.stop()
            node.stop()
    return {
        "verify_rps": round(load["rps"]),
        "roster_2000_s": round(cold_roster, 3),
        "first_verify_rps": round(first["rps"]),
        "coverage_s": round(coverage_s[0], 3),
        "targets": TARGETS,
        "detail": {
            "verify": load | {"connections": CONNECTIONS, "children": POOL, "seconds": seconds},
            "roster": {
                "children": ROSTER,
                "uncached_s": round(cold_roster, 3),
                "cached_s": round(warm_roster, 3),
                "statuses": roster_statuses,
                "signed": signed,
            },
            "first_verify": first | {"seconds": FIRST_S, "all_first": first["requests"] <= POOL},
            "coverage": {
                "children": covered,
                "uncached_s": round(coverage_s[0], 3),
                "cached_s": round(coverage_s[1], 3),
                "after_a_dose_s": round(coverage_s[2], 3),
            },
            "setup_s": round(setup_s, 1),
            "machine": f"{os.cpu_count()} cores; backend: {WORKERS} uvicorn workers and the indexer's process on "
            "SQLite; chain: Anvil (automine)",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }


def table(results: dict[str, Any]) -> None:
    d = results["detail"]
    v, r, f, c = d["verify"], d["roster"], d["first_verify"], d["coverage"]
    rows = [
        (
            "verify_rps",
            results["verify_rps"],
            ">= 1,000",
            f"repeat checks: wrk, {v['connections']} connections, {v['children']} children, {v['requests']} "
            f"requests; p50 {v['p50_ms']:.1f} ms, p99 {v['p99_ms']:.1f} ms; non-2xx {v['non_2xx']}",
        ),
        ("roster_2000_s", results["roster_2000_s"], "<= 2", f"uncached; cached {r['cached_s']} s; {r['statuses']}"),
        (
            "first_verify_rps",
            results["first_verify_rps"],
            "",
            f"each child's first check (evaluated, signed): {f['requests']} requests; p50 {f['p50_ms']:.1f} ms, "
            f"p99 {f['p99_ms']:.1f} ms; non-2xx {f['non_2xx']}",
        ),
        (
            "coverage_s",
            results["coverage_s"],
            "",
            f"the CDC's coverage report, {c['children']} children evaluated; unchanged {c['cached_s']} s; "
            f"after a dose {c['after_a_dose_s']} s",
        ),
    ]
    print(f"\n{'metric':<18} {'value':>8} {'target':>9}  measured as")
    for name, value, target, how in rows:
        print(f"{name:<18} {value:>8} {target:>9}  {how}")


if __name__ == "__main__":
    main()
