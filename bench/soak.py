"""A bounded soak: the whole platform under steady mixed traffic for minutes, watching for leaks and lag.

    make bench-soak        (python -m bench.soak [--minutes 10])

The platform of tests/faults/harness.py (Anvil, mosquitto, the oracle daemon, the backend as its own
process), without kills (so Anvil keeps no state file: rewriting it whole every second costs more as the
chain grows, and would show as growing latency of every request), under this mix at once, each paced to
its rate:
  - readings: signed readings of four fridges over MQTT, RATES["readings"] a second;
  - doses: nurses recording doses from ten-dose vials, each with an Idempotency-Key;
  - reads: the site list, lot provenance, a citizen's doses with their provenance;
  - schools: single-token verifications against consented children.
Every request's status and latency is kept per minute; the backend's resident memory and the indexer's
lag are sampled every 10 s. Nothing is asserted: `bench/results/soak.json` and the table say what
happened (requests, errors_5xx, rss_growth_mb from the second minute to the last, p99_ms, and per
minute p99, overall and per kind, to show lag does not grow)."""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from oracle.broker import running_broker
from oracle.simulator import Publisher, SimulatedSensor, merged
from tests.backend.platform import gs1
from tests.faults.harness import GTIN_BOPV, PASSWORD, Api, FaultRun

RESULTS = Path(__file__).parent / "results" / "soak.json"
TARGETS = {"errors_5xx": 0, "rss_growth_mb": "<= 50"}
RATES = {"readings": 40, "doses": 15, "sites": 60, "provenance": 15, "family": 5, "verify": 40}
"""Per second. Well inside each issue's target, all at once on two cores for the whole soak."""
SAMPLE_S = 10


class Soak:
    def __init__(self, run: FaultRun, minutes: float) -> None:
        self.run = run
        self.seconds = minutes * 60
        self.stop = threading.Event()
        self.started = 0.0
        self.samples: dict[int, list[tuple[str, int, float]]] = collections.defaultdict(list)
        self.lock = threading.Lock()
        self.memory: list[tuple[float, float]] = []
        self.lag: list[tuple[float, int | None]] = []
        self.url = run.backend.url

    def note(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples[int((time.monotonic() - self.started) // 60)].append((kind, status, seconds))

    def paced(self, kind: str, rate: float, act: Any) -> threading.Thread:
        """A thread calling act() `rate` times a second (as close as it can), noting each answer."""

        def loop() -> None:
            http = httpx.Client(base_url=self.url, timeout=60)
            period, due = 1.0 / rate, time.monotonic()
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    status = act(http)
                except httpx.HTTPError:
                    status = 599
                self.note(kind, status, time.perf_counter() - started)
                due += period
                time.sleep(max(0.0, due - time.monotonic()))

        return threading.Thread(target=loop, name=f"soak-{kind}", daemon=True)

    # --- the mix ---------------------------------------------------------------------------------------------

    def readings(self) -> threading.Thread:
        start_ms = time.time_ns() // 1_000_000 - int(self.seconds * RATES["readings"] / 4 * 60_000) - 86_400_000
        # the registered devices (same ids and keys as tests/faults/harness.py registers), nothing sent yet
        sensors = [
            SimulatedSensor(f"probe-{eq}", eq, "fridge", start_ms=start_ms, interval_s=60, seed=eq)
            for eq in self.run.equipment
        ]
        readings = list(merged(s.run(int(self.seconds * RATES["readings"] / len(sensors) * 60 + 600)) for s in sensors))

        def loop() -> None:
            with Publisher(port=self.run.broker.port, client_id=f"soak-{uuid.uuid4().hex[:6]}") as pub:
                for i in range(0, len(readings), RATES["readings"]):
                    if self.stop.is_set():
                        return
                    pub.publish_fast(readings[i : i + RATES["readings"]])
                    time.sleep(1.0)

        return threading.Thread(target=loop, name="soak-readings", daemon=True)

    def threads(self) -> list[threading.Thread]:
        nurse = self.run.nurse.http.headers["Authorization"]
        persons = self.run.persons
        counter = iter(range(10**9))
        lot = self.run.lot
        family, school_key, tokens = self._verification_set_up()

        def dose(http: httpx.Client) -> int:
            n = next(counter)
            code = gs1(GTIN_BOPV, self.run.lot_number, f"S{n // 10:06d}")
            body = {"code": code, "person_id": persons[n % len(persons)]}
            headers = {"Authorization": nurse, "Idempotency-Key": uuid.uuid4().hex}
            return http.post("/v1/staff/doses", json=body, headers=headers).status_code

        def sites(http: httpx.Client) -> int:
            return http.get("/v1/sites").status_code

        def provenance(http: httpx.Client) -> int:
            return http.get(f"/v1/lots/{lot}/provenance").status_code

        def doses_of_family(http: httpx.Client) -> int:
            citizen, person = family
            return http.get(f"/v1/me/family/{person}/doses", headers={"Authorization": citizen}).status_code

        def verify(http: httpx.Client) -> int:
            token = tokens[next(counter) % len(tokens)]
            return http.post("/v1/verify", json={"token": token}, headers={"X-Api-Key": school_key}).status_code

        acts = {"doses": dose, "sites": sites, "provenance": provenance, "family": doses_of_family, "verify": verify}
        workers = {"doses": 3, "sites": 2}  # doses wait for the chain: several at once keep the rate
        out = [self.readings()]
        for kind, act in acts.items():
            n = workers.get(kind, 1)
            out += [self.paced(kind, RATES[kind] / n, act) for _ in range(n)]
        return out

    def _verification_set_up(self) -> tuple[tuple[str, str], str, list[str]]:
        admin = Api(self.url, "admin")
        login = "soak-school"
        school = admin.ok("post", "/v1/admin/users", {"role": "school", "login": login, "password": PASSWORD})
        school_api = Api(self.url, login)
        key = school_api.ok("post", "/v1/school/api-keys", {"label": "soak"})["key"]
        phone = "138" + str(uuid.uuid4().int)[:8]
        http = httpx.Client(base_url=self.url, timeout=60)
        r = http.post(
            "/v1/auth/register",
            json={"phone": phone, "password": PASSWORD, "name": "家长", "birth_date": "1990-01-01", "sex": "F"},
        )
        r.raise_for_status()
        citizen = f"Bearer {r.json()['access_token']}"
        tokens = []
        child = ""
        for i in range(20):
            born = (datetime.now(UTC) - timedelta(days=365 * 6 + i)).date().isoformat()
            child = http.post(
                "/v1/me/family",
                json={"name": f"学生{i}", "birth_date": born, "sex": "M"},
                headers={"Authorization": citizen},
            ).json()["id"]
            grant = http.post(
                f"/v1/me/family/{child}/consents",
                json={"school_id": school["user_id"]},
                headers={"Authorization": citizen},
            ).json()
            tokens.append(grant["token"])
        return (citizen, child), key, tokens

    # --- watching ------------------------------------------------------------------------------------------

    def watch(self) -> None:
        process = psutil.Process(self.run.backend.process.pid)  # type: ignore[union-attr]
        while not self.stop.wait(SAMPLE_S):
            elapsed = time.monotonic() - self.started
            rss = process.memory_info().rss / 2**20
            self.memory.append((elapsed, rss))
            try:
                ready = httpx.get(self.url + "/readyz", timeout=5).json()
                self.lag.append((elapsed, ready["checks"]["indexer"]["lag_blocks"]))
            except (httpx.HTTPError, ValueError, KeyError):
                self.lag.append((elapsed, None))

    def go(self) -> dict[str, Any]:
        workers = self.threads()
        self.started = time.monotonic()
        watcher = threading.Thread(target=self.watch, daemon=True)
        for t in [*workers, watcher]:
            t.start()
        deadline = self.started + self.seconds
        live = sys.stdout.isatty()
        while time.monotonic() < deadline:
            time.sleep(1 if live else SAMPLE_S)
            done = time.monotonic() - self.started
            print(f"\r  soak {done:5.0f} / {self.seconds:.0f} s", end="" if live else "\n", flush=True)
        print()
        self.stop.set()
        for t in [*workers, watcher]:
            t.join(timeout=90)
        return self.result()

    def result(self) -> dict[str, Any]:
        everything = [s for minute in self.samples.values() for s in minute]
        minutes = []
        for minute in sorted(self.samples):
            kinds: dict[str, list[float]] = collections.defaultdict(list)
            for kind, _, s in self.samples[minute]:
                kinds[kind].append(s)
            minutes.append(
                {
                    "minute": minute + 1,
                    "requests": len(self.samples[minute]),
                    "errors_5xx": sum(1 for _, status, _ in self.samples[minute] if status >= 500),
                    "p99_ms": p99_ms([s for _, _, s in self.samples[minute]]),
                    "p99_ms_by_kind": {k: p99_ms(v) for k, v in sorted(kinds.items())},
                }
            )
        settled = [rss for at, rss in self.memory if at >= 60] or [rss for _, rss in self.memory]
        by_kind: dict[str, list[float]] = collections.defaultdict(list)
        for kind, _, s in everything:
            by_kind[kind].append(s)
        return {
            "requests": len(everything),
            "errors_5xx": sum(1 for _, status, _ in everything if status >= 500),
            "rss_growth_mb": round(settled[-1] - settled[0], 1) if settled else None,
            "p99_ms": p99_ms([s for _, _, s in everything]),
            "targets": TARGETS,
            "detail": {
                "minutes_run": round(self.seconds / 60, 1),
                "rates_per_s": RATES,
                "by_kind": {
                    k: {
                        "requests": len(v),
                        "p50_ms": round(1000 * statistics.median(v), 1),
                        "p99_ms": p99_ms(v),
                    }
                    for k, v in sorted(by_kind.items())
                },
                "status_counts": dict(collections.Counter(status for _, status, _ in everything)),
                "per_minute": minutes,
                "backend_rss_mb": [(round(at), round(rss, 1)) for at, rss in self.memory],
                "indexer_lag_blocks": [(round(at), lag) for at, lag in self.lag],
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        }


def p99_ms(seconds: list[float]) -> float | None:
    ordered = sorted(seconds)
    return round(1000 * ordered[int(len(ordered) * 0.99)], 1) if ordered else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vaxledger-soak-") as tmp, running_broker() as broker:
        run = FaultRun(Path(tmp), broker, interval=False, seed=1, durable_chain=False)  # nothing is killed
        try:
            result = Soak(run, args.minutes).go()
        finally:
            run.close()
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{'metric':<16} {'value':>10} {'target':>10}")
    for name in ("requests", "errors_5xx", "rss_growth_mb", "p99_ms"):
        print(f"{name:<16} {result[name]!s:>10} {TARGETS.get(name, '')!s:>10}")
    per_minute = result["detail"]["per_minute"]
    kinds = sorted(result["detail"]["by_kind"])
    print("\nper minute: requests, 5xx, p99 ms of all and of each kind")
    print(f"{'minute':>6} {'requests':>9} {'5xx':>4} {'p99':>7} " + " ".join(f"{k:>10}" for k in kinds))
    for m in per_minute:
        by_kind = " ".join(f"{m['p99_ms_by_kind'].get(k)!s:>10}" for k in kinds)
        print(f"{m['minute']:>6} {m['requests']:>9} {m['errors_5xx']:>4} {m['p99_ms']!s:>7} {by_kind}")
    print(f"\nwritten to {RESULTS.relative_to(Path(__file__).parent.parent)}")


if __name__ == "__main__":
    main()
