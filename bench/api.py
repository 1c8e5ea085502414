"""The backend under load, over HTTP on loopback: doses recorded end to end, lot provenance latency, and
the site list's throughput.

    make bench-api        (python -m bench.api [--seconds 20])

Builds a fresh Anvil, deploys the contracts, and runs the real server (`python -m backend serve`: WORKERS
uvicorn workers with the indexer in their parent process, SQLite) with a stand-in for the oracle's trip
records. A district goes on chain through the API: a maker, the CDC, CLINICS clinics each stocked with one
lot, walk-in persons. Then:

1. doses_per_s: THREADS threads in a second process post doses (a fresh GS1 code each, spread over the
   clinics) for SECONDS; a dose counts when the answer says it was mined (201). Rate = doses / wall time.
2. provenance_p99_ms: `wrk` (Debian's package) with a Lua script cycling GET /v1/lots/{id}/provenance
   over every lot for PROBE_S; the lots carry the doses of step 1 (each thousands of events). The first
   request of each lot after a change computes it; later ones are cached until the lot changes again.
   The uncached cost is measured as well (`provenance_uncached_ms`: each lot's first request after the
   dose load changed it).
3. sites_rps: `wrk` on GET /v1/sites (47-site answers for a full district; here CLINICS sites) for PROBE_S.

Prints a table and writes bench/results/api.json. Nothing here is asserted: see the tests."""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.backend import PASSWORD, ROOT, Client, scratch
from devnet.backend_proc import BackendProcess
from tests.backend.platform import GS, GTIN_HEPB, FakeOracle, deploy_platform
from tests.chain.nodes import AnvilNode

RESULTS = Path(__file__).parent / "results" / "api.json"
TARGETS = {"doses_per_s": 100, "provenance_p99_ms": 100, "sites_rps": 1_000}
WORKERS = 2
"""API processes (`python -m backend serve` keeps the indexer in its parent process)."""
CLINICS = 8
THREADS = 32
PROBE_S = 10
DOSES_PER_CLINIC = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="how long the dose load runs")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the second process: a JSON plan
    args = parser.parse_args()
    if args.load:
        print(json.dumps(dose_load(json.loads(args.load))))
        return
    results = run(args.seconds)
    table(results)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


# --- the platform --------------------------------------------------------------------------------------------


def start_server(workdir: Path, rpc_url: str, oracle_url: str) -> BackendProcess:
    """`python -m backend serve` on a free port, with its own database and keys."""
    proc = BackendProcess(
        workdir, rpc_url, label="bench", oracle_url=oracle_url, workers=str(WORKERS), lock_dir=str(workdir / "locks")
    )
    for role in ("admin", "regulator"):
        proc.create_user(role, role, PASSWORD)
    return proc.start()


def district(url: str) -> dict[str, Any]:
    """Facilities, equipment, staff, a product, and one lot per clinic delivered through the CDC."""
    admin, regulator = Client(url, "admin"), Client(url, "regulator")

    def facility(kind: str, name: str) -> int:
        return admin.call("post", "/v1/admin/facilities", {"kind": kind, "name": name, "area_code": "440604"})[
            "facility_id"
        ]

    def equipment(fid: int, kind: str, label: str) -> int:
        return admin.call("post", f"/v1/admin/facilities/{fid}/equipment", {"kind": kind, "label": label})[
            "equipment_id"
        ]

    def staff(role: str, login: str, fid: int) -> Client:
        body = {"role": role, "login": login, "password": PASSWORD, "facility_id": fid}
        admin.call("post", "/v1/admin/users", body)
        return Client(url, login)

    maker, cdc = facility("manufacturer", "Maker"), facility("warehouse", "CDC")
    maker_room, cdc_room, van = (
        equipment(maker, "cold_room", "M"),
        equipment(cdc, "cold_room", "C"),
        equipment(cdc, "vehicle", "V"),
    )
    maker_staff, cdc_staff = staff("manufacturer", "maker", maker), staff("warehouse", "cdc", cdc)
    product = regulator.call(
        "post",
        "/v1/regulator/products",
        {"manufacturer_id": maker, "vaccine_type": "HepB", "doses_per_unit": 1, "name": "HepB", "gtin": GTIN_HEPB},
    )["product_id"]
    expiry = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    clinics = []
    for i in range(CLINICS):
        clinic = facility("clinic", f"Clinic {i + 1}")
        fridge = equipment(clinic, "fridge", f"F{i + 1}")
        nurse = staff("clinic", f"nurse{i + 1}", clinic)
        number = f"BENCH{i + 1:02d}"
        body = {
            "product_id": product,
            "lot_number": number,
            "expiry": expiry,
            "doses": DOSES_PER_CLINIC,
            "equipment_id": maker_room,
        }
        lot = maker_staff.call("post", "/v1/staff/lots", body)["lot_id"]
        regulator.call("post", f"/v1/regulator/lots/{lot}/release", {"document": f"cert {number}"})
        for who, source, to, into in ((maker_staff, maker_room, cdc, cdc_room), (cdc_staff, cdc_room, clinic, fridge)):
            body = {
                "lot_id": lot,
                "from_equipment_id": source,
                "vehicle_id": van,
                "to_facility_id": to,
                "quantity": DOSES_PER_CLINIC,
            }
            shipment = who.call("post", "/v1/staff/shipments", body)["shipment_id"]
            receiver = cdc_staff if who is maker_staff else nurse
            receiver.call("post", f"/v1/staff/shipments/{shipment}/receive", {"equipment_id": into})
        persons = [
            nurse.call("post", "/v1/staff/persons", {"name": f"受种者{i}-{j}", "birth_date": "2020-01-01", "sex": "F"})[
                "id"
            ]
            for j in range(10)
        ]
        token = nurse.http.headers["Authorization"]
        clinics.append({"lot": lot, "number": number, "token": token, "persons": persons})
    return {"clinics": clinics, "lots": [c["lot"] for c in clinics]}


# --- 1. doses, from a second process ----------------------------------------------------------------------------


def dose_load(plan: dict[str, Any]) -> dict[str, Any]:
    """THREADS threads, each on one clinic, posting doses until the deadline; returns counts and latencies."""
    deadline = time.monotonic() + plan["seconds"]

    def worker(index: int) -> tuple[int, int, list[float], list[float]]:
        clinic = plan["clinics"][index % len(plan["clinics"])]
        # a connection per dose, as many nurses' devices would open: kept-alive connections from a few threads
        # would stay with whichever worker accepted them, and one worker could be left with most of the load
        http = httpx.Client(
            base_url=plan["url"],
            timeout=60,
            headers={"Authorization": clinic["token"], "Connection": "close"},
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        done = failed = 0
        latencies = []
        finished = []
        while time.monotonic() < deadline:
            code = f"]d201{GTIN_HEPB}17301231" + f"10{clinic['number']}{GS}21{uuid.uuid4().hex[:16]}"
            person = clinic["persons"][done % len(clinic["persons"])]
            started = time.perf_counter()
            r = http.post("/v1/staff/doses", json={"code": code, "person_id": person})
            latencies.append(time.perf_counter() - started)
            if r.status_code == 201:
                done += 1
                finished.append(time.monotonic())
            else:
                failed += 1
        return done, failed, latencies, finished

    started = time.monotonic()
    with ThreadPoolExecutor(plan["threads"]) as pool:
        results = list(pool.map(worker, range(plan["threads"])))
    elapsed = time.monotonic() - started
    latencies = sorted(lat for _, _, lats, _ in results for lat in lats)
    per_10s = collections.Counter(int((t - started) // 10) for *_, ends in results for t in ends)
    return {
        "doses": sum(r[0] for r in results),
        "failed": sum(r[1] for r in results),
        "seconds": elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None,
        "per_10s": [per_10s[i] / 10 for i in sorted(per_10s)],
    }


# --- 2 and 3. reads with wrk ------------------------------------------------------------------------------------


def wrk(url: str, path_script: str | None, connections: int, seconds: int, workdir: Path) -> dict[str, float]:
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if path_script:
        script = workdir / "paths.lua"
        script.write_text(path_script)
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "non_2xx": int(errors.group(1)) if errors else 0}


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group(0)), re.sub(r"[\d.]", "", text)
    return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def cycling(paths: list[str]) -> str:
    listed = ", ".join(f'"{p}"' for p in paths)
    return f"""
paths = {{{listed}}}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
"""


def uncached_provenance(url: str, lots: list[int]) -> list[float]:
    """The first request for each lot after the dose load changed it (nothing cached yet), in ms."""
    http = httpx.Client(base_url=url, timeout=60)
    times = []
    for lot in lots:
        started = time.perf_counter()
        if http.get(f"/v1/lots/{lot}/provenance").status_code != 200:
            raise RuntimeError(f"provenance of lot {lot} failed")
        times.append(1000 * (time.perf_counter() - started))
    return times


# --- the run -------------------------------------------------------------------------------------------------------


def run(seconds: float) -> dict[str, Any]:
    with scratch("vaxledger-bench-api-") as workdir:
        oracle = FakeOracle()
        node = AnvilNode().start()
        server = None
        try:
            deploy_platform(node.url, workdir / "manifest.json")
            server = start_server(workdir, node.url, oracle.url)
            built = district(server.url)
            plan = {"url": server.url, "threads": THREADS, "seconds": seconds, "clinics": built["clinics"]}
            load = subprocess.run(
                [sys.executable, "-m", "bench.api", "--load", json.dumps(plan)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            doses = json.loads(load.stdout)
            cold = uncached_provenance(server.url, built["lots"])
            paths = [f"/v1/lots/{lot}/provenance" for lot in built["lots"]]
            provenance = wrk(server.url, cycling(paths), 8, PROBE_S, workdir)
            sites = wrk(server.url + "/v1/sites", None, 32, PROBE_S, workdir)
            events = doses["doses"] // len(built["lots"])
        finally:
            if server is not None:
                server.stop()
            node.stop()
            oracle.close()
    return {
        "doses_per_s": round(doses["doses"] / doses["seconds"], 1),
        "provenance_p99_ms": round(provenance["p99_ms"], 2),
        "sites_rps": round(sites["rps"]),
        "targets": TARGETS,
        "detail": {
            "doses": doses | {"threads": THREADS, "clinics": CLINICS},
            "provenance": provenance | {"lots": len(built["lots"]), "doses_per_lot": events, "connections": 8},
            "provenance_uncached_ms": {"median": round(statistics.median(cold), 1), "max": round(max(cold), 1)},
            "sites": sites | {"connections": 32, "sites": CLINICS},
            "machine": f"{os.cpu_count()} cores; backend: {WORKERS} uvicorn workers and the indexer's process on "
            "SQLite; chain: Anvil (automine)",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    }


def table(results: dict[str, Any]) -> None:
    d = results["detail"]
    p, cold = d["provenance"], d["provenance_uncached_ms"]
    rows = [
        (
            "doses_per_s",
            results["doses_per_s"],
            ">= 100",
            f"{d['doses']['doses']} doses in {d['doses']['seconds']:.1f} s, "
            f"{d['doses']['failed']} refused; p50 {d['doses']['p50_ms']:.0f} ms, p99 {d['doses']['p99_ms']:.0f} ms",
        ),
        (
            "provenance_p99_ms",
            results["provenance_p99_ms"],
            "<= 100",
            f"{p['rps']:.0f} req/s over {p['lots']} lots of ~{p['doses_per_lot']} doses; "
            f"uncached: median {cold['median']} ms, max {cold['max']} ms",
        ),
        ("sites_rps", results["sites_rps"], ">= 1,000", f"p99 {d['sites']['p99_ms']:.1f} ms, 32 connections"),
    ]
    print(f"\n{'metric':<20} {'value':>10} {'target':>10}  measured as")
    for name, value, target, how in rows:
        print(f"{name:<20} {value:>10} {target:>10}  {how}")


if __name__ == "__main__":
    main()
