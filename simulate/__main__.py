"""python -m simulate (or ./vaxledger simulate): replay a district's workload through the real contracts, oracle
and backend, and write a capacity report.

    python -m simulate                          a Chancheng-shaped year (hours on this machine)
    python -m simulate --days 2 --scale 0.05    two days at 5 % of the volumes (what `make bench-sim` runs)
    python -m simulate --days 7 --database postgres

Writes report.json and report.html to --out (default var/simulate/<UTC time>/), the processes' logs and files in
its platform/ folder. Every process runs on loopback ports of its own and is stopped at the end."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from simulate import page, report
from simulate.run import Settings, simulate
from simulate.shape import DISTRICT, WORKLOAD

ROOT = Path(__file__).resolve().parent.parent


def parse(argv: list[str] | None = None) -> Settings:
    ap = argparse.ArgumentParser(
        prog="python -m simulate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--days", type=int, default=365, help="simulated days (default 365)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the volumes: doses, bookings, lots, checks")
    ap.add_argument("--sites", type=int, help="run this many of the district's sites (each kind keeps its share)")
    ap.add_argument("--seed", default="chancheng", help="the same seed plans the same workload")
    ap.add_argument(
        "--start",
        type=date.fromisoformat,
        help="first simulated day, YYYY-MM-DD (default: so the period ends yesterday; it must lie in the past)",
    )
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--threads", type=int, default=16, help="client threads calling the backend at once")
    ap.add_argument("--workers", type=int, default=2, help="backend API processes")
    ap.add_argument("--out", type=Path, help="report folder (default var/simulate/<UTC time>)")
    ap.add_argument("--district", type=Path, default=DISTRICT, help="district file (scripts/data/chancheng.json)")
    ap.add_argument("--workload", type=Path, default=WORKLOAD, help="workload assumptions file")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if args.days < 1 or args.scale <= 0 or args.threads < 1:
        ap.error("--days and --threads must be at least 1 and --scale above 0")
    out = args.out or ROOT / "var" / "simulate" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Settings(
        days=args.days,
        scale=args.scale,
        sites=args.sites,
        seed=args.seed,
        start=args.start,
        database=args.database,
        threads=args.threads,
        workers=args.workers,
        out=out,
        district=args.district,
        workload=args.workload,
        progress=not args.quiet,
    )


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse(argv)
        result = simulate(settings)
    except ValueError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    data = report.build(result)
    json_path = report.write(data, settings.out)
    html_path = page.write(data, settings.out)
    summary(data)
    print(f"\nreport: {html_path}\n        {json_path}")
    return 0 if all(data["checks"][k] for k in ("doses_match", "conservation_holds", "view_matches_chain")) else 1


def summary(data: dict) -> None:
    t, g, c = data["throughput"], data["gas"], data["checks"]
    rows = [
        ("doses", t["doses"]),
        ("doses_per_s", t["doses_per_s"]),
        ("tx_per_s", t["tx_per_s"]),
        ("readings_per_s", t["readings_per_s"]),
        ("gas_per_dose", g["gas_per_dose"]),
        ("state_bytes_per_dose", data["chain_state"]["state_bytes_per_dose"]),
        ("db_bytes_per_dose", data["database"]["db_bytes_per_dose"]),
        ("checks", "pass" if c["doses_match"] and c["conservation_holds"] and c["view_matches_chain"] else "FAIL"),
    ]
    for s in data["extrapolation"]["scenarios"]:
        rows.append((f"first to run out ({s['scenario']['name']})", s["first_to_run_out"]))
    for name, value in rows:
        print(f"{name:<36} {value}")


if __name__ == "__main__":
    sys.exit(main())
