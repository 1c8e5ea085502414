"""kill -9 at random points under load, many times: the crash-recovery benchmark.

    make bench-faults        (python -m bench.faults [--automine 30] [--interval 25])

Two runs of tests/faults/harness.py, each on a fresh chain, broker, oracle and backend: on automine the
oracle and the backend are killed; on interval mining (a block a second, four confirmations) the chain
node is killed too. Every kill is a SIGKILL at a random moment under load (readings streaming in over
MQTT, doses posted over HTTP by four clients), followed by a restart.

Prints a table and writes bench/results/faults.json: crash_points_tried, readings_lost, duplicate_posts
(windows anchored or doses recorded twice), orphan_rows (rows claiming a chain write the chain does not
have, and differences between the backend's view and the chain)."""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from oracle.broker import running_broker
from tests.faults.harness import FaultRun, dump, summary

RESULTS = Path(__file__).parent / "results" / "faults.json"
TARGETS = {"crash_points_tried": ">= 50", "readings_lost": 0, "duplicate_posts": 0, "orphan_rows": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--automine", type=int, default=30, help="crash points with automine")
    parser.add_argument("--interval", type=int, default=25, help="crash points with interval mining")
    args = parser.parse_args()
    outcomes = []
    for interval, crashes in ((False, args.automine), (True, args.interval)):
        with tempfile.TemporaryDirectory(prefix="vaxledger-faults-") as tmp, running_broker() as broker:
            run = FaultRun(Path(tmp), broker, interval=interval, seed=20261130 + crashes)
            try:
                outcomes.append(run.run(crashes))
            finally:
                run.close()
            if run.errors:
                print(f"client errors in the {outcomes[-1].mode} run: {run.errors[:3]}")
    result = summary(outcomes) | {"targets": TARGETS, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    dump(RESULTS, result)
    print(f"\n{'metric':<20} {'value':>8} {'target':>8}")
    for name, target in TARGETS.items():
        print(f"{name:<20} {result[name]:>8} {target!s:>8}")
    for o in outcomes:
        print(
            f"  {o.mode}: {o.crash_points_tried} kills {dict(o.kills)}, {o.readings_stored} readings stored, "
            f"{o.doses_on_chain} doses, {o.windows_anchored} windows, {o.seconds:.0f} s"
        )
    print(f"\nwritten to {RESULTS.relative_to(Path(__file__).parent.parent)}")


if __name__ == "__main__":
    main()
