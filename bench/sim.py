"""A short district simulation through the real contracts, oracle and backend: what a dose costs end to end.

    make bench-sim        (python -m bench.sim [--days 2] [--scale 0.05])

Runs `python -m simulate` over the whole Chancheng district (47 sites, 64 pieces of equipment reporting every 5
minutes) for two simulated days at 5 % of its volumes, and writes bench/results/sim.json with the headline
figures; the full report (HTML and JSON) goes to var/simulate/bench/. Nothing here is asserted: see
tests/simulate/."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulate import page, report
from simulate.run import Settings, simulate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "sim.json"
OUT = ROOT / "var" / "simulate" / "bench"


def figures(data: dict[str, Any], settings: Settings, load: tuple[float, float, float]) -> dict[str, Any]:
    t, g, c = data["throughput"], data["gas"], data["checks"]
    dose = data["latency"].get("record_dose", {})
    return {
        "doses_per_s": t["doses_per_s"],
        "gas_per_dose": g["gas_per_dose"],
        "state_bytes_per_dose": data["chain_state"]["state_bytes_per_dose"],
        "db_bytes_per_dose": data["database"]["db_bytes_per_dose"],
        "tx_per_s": t["tx_per_s"],
        "readings_per_s": t["readings_per_s"],
        "doses_per_s_in_dose_phases": t["doses_per_s_in_dose_phases"],
        "gas_per_dose_all_in": g["gas_per_dose_all_in"],
        "history_bytes_per_dose": data["chain_state"]["history_bytes_per_dose"],
        "db_bytes_per_equipment_day": data["database"]["db_bytes_per_equipment_day"],
        "backend_cpu_ms_per_dose": data["cpu"]["backend_ms_per_dose"],
        "record_dose_p50_ms": dose.get("p50_ms"),
        "record_dose_p99_ms": dose.get("p99_ms"),
        "doses": t["doses"],
        "txs": t["txs"],
        "readings": t["readings"],
        "days": settings.days,
        "scale": settings.scale,
        "sites": data["run"]["sites"],
        "wall_s": data["run"]["wall_s"],
        "set_up_s": data["run"]["set_up_s"],
        "checks_pass": c["doses_match"] and c["conservation_holds"] and c["view_matches_chain"],
        "first_to_run_out": {s["scenario"]["name"]: s["first_to_run_out"] for s in data["extrapolation"]["scenarios"]},
        "report": str((OUT / "report.html").relative_to(ROOT)),
        "machine": f"{os.cpu_count()} cores; backend: {settings.workers} uvicorn workers on SQLite; chain: Anvil",
        "load_average_before": [round(x, 2) for x in load],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def table(r: dict[str, Any]) -> None:
    rows = [
        (
            "doses_per_s",
            r["doses_per_s"],
            f"{r['doses']:,} doses over {r['wall_s']:.0f} s of wall time, every hour's readings and waits included",
        ),
        ("gas_per_dose", r["gas_per_dose"], "mean gasUsed of the dose transactions (walk-in and booked)"),
        ("state_bytes_per_dose", r["state_bytes_per_dose"], "storage slots added (anvil_dumpState) × 32 / doses"),
        ("db_bytes_per_dose", r["db_bytes_per_dose"], "table growth but the cold chain's batches / doses"),
        ("tx_per_s", r["tx_per_s"], f"{r['txs']:,} transactions"),
        ("readings_per_s", r["readings_per_s"], f"{r['readings']:,} signed readings over MQTT, stored by the oracle"),
        ("doses_per_s_in_dose_phases", r["doses_per_s_in_dose_phases"], "only the hours' dose phases"),
        ("gas_per_dose_all_in", r["gas_per_dose_all_in"], "every transaction's gas / doses (anchoring included)"),
        ("backend_cpu_ms_per_dose", r["backend_cpu_ms_per_dose"], "backend CPU in the dose phases / doses"),
        ("record_dose_p50_ms", r["record_dose_p50_ms"], f"p99 {r['record_dose_p99_ms']} ms"),
    ]
    print(f"\n{'metric':<28} {'value':>12}  measured as")
    for name, value, how in rows:
        print(f"{name:<28} {value:>12}  {how}")
    print(f"\nchecks: {'pass' if r['checks_pass'] else 'FAIL'}; first to run out: {r['first_to_run_out']}")
    print(f"load average before the run: {r['load_average_before']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    settings = Settings(days=args.days, scale=args.scale, out=OUT, progress=sys.stderr.isatty())
    load = os.getloadavg()  # the machine is shared: what else ran shows in the figures
    data = report.build(simulate(settings))
    report.write(data, OUT)
    page.write(data, OUT)
    results = figures(data, settings, load)
    table(results)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}; the report: {results['report']}")


if __name__ == "__main__":
    main()
