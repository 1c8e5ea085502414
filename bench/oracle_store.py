"""Throughput of the oracle store's append(): readings per second, sustained.

    .venv/bin/python bench/oracle_store.py [--total 200000] [--batch 100 250 500] [--synchronous NORMAL FULL]

Appends signed-size readings (64-byte signatures) from 20 devices in batches, each batch one transaction,
into a fresh file per configuration, and prints readings/s. A benchmark, not a test: nothing is asserted.
The target is >= 5,000 readings/s on the 2-core build machine."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oracle.reading import Reading
from oracle.store import Store

DEVICES = 20


def run(total: int, batch: int, synchronous: str, directory: Path) -> float:
    path = directory / f"bench-{synchronous}-{batch}.db"
    sig = bytes(range(64))
    seqs = [0] * DEVICES
    with Store(path, synchronous=synchronous) as store:  # type: ignore[arg-type]
        done = 0
        start = time.perf_counter()
        while done < total:
            items = []
            for i in range(min(batch, total - done)):
                d = (done + i) % DEVICES
                seqs[d] += 1
                s = seqs[d]
                items.append((Reading(f"dev-{d:03}", 100 + d, s, 1_700_000_000_000 + s * 60_000, 40 + s % 9), sig))
            store.append(items)
            done += len(items)
        elapsed = time.perf_counter() - start
        assert store.count() == total
    return total / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=200_000)
    ap.add_argument("--batch", type=int, nargs="+", default=[100, 250, 500])
    ap.add_argument("--synchronous", nargs="+", default=["NORMAL", "FULL"], choices=["NORMAL", "FULL"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as tmp:
        print(f"{'synchronous':<12}{'batch':>7}{'readings/s':>14}")
        for sync in args.synchronous:
            for b in args.batch:
                print(f"{sync:<12}{b:>7}{run(args.total, b, sync, Path(tmp)):>14,.0f}", flush=True)


if __name__ == "__main__":
    main()
