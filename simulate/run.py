"""One simulation, hour by simulated hour: the chain's clock moved to the hour, the loggers' readings of the
hour just past published and stored by the oracle (with any excursion on chain), then the hour's work through the
backend in phases (supply, bookings, doses, school checks), each phase's calls on the worker threads at once.
A warm-up day stocks the district first; measurement starts at the first simulated midnight."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from oracle.simulator import Fault as LoggerFault
from simulate import care, supply
from simulate.api import Api, Recorder, Refused
from simulate.checks import run_checks
from simulate.clock import WARMUP, ChainClock, Period, default_start
from simulate.district import build
from simulate.measure import GasScanner, GasTally, StateSize, block_number, state_size
from simulate.plan import Planner
from simulate.platform import Platform, cpu_seconds
from simulate.sensors import ColdChain, Logger, registry
from simulate.shape import DISTRICT, WORKLOAD, Shape, load
from simulate.supply import Action
from simulate.world import World

MAX_ERRORS = 50
DOSES = "doses"
STATE_CHECKPOINTS = 12
DUMP_MAX_BLOCKS = 100_000
"""anvil_dumpState carries every block and transaction: past this many blocks its answer (and the memory to
unpack it) grows too large, so the state is measured up to the last checkpoint below it."""
SETTLE_S = 120


@dataclass(frozen=True)
class Settings:
    days: int = 365
    scale: float = 1.0
    sites: int | None = None
    seed: str = "chancheng"
    start: date | None = None
    database: str = "sqlite"
    threads: int = 16
    workers: int = 2
    out: Path = Path("var/simulate/latest")
    district: Path = DISTRICT
    workload: Path = WORKLOAD
    progress: bool = True


@dataclass
class DayRecord:
    day: int
    date: str
    first_block: int
    started: float
    counts: Counter[str]
    published: int
    cpu: dict[str, float]


@dataclass
class Baseline:
    block: int
    wall: float
    state: StateSize
    db_bytes: int
    db_tables: dict[str, int]
    cpu: dict[str, float]
    published: int
    publish_s: float
    store_s: float


class Simulation:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.shape: Shape = load(settings.district, settings.workload, settings.sites)
        start = settings.start or default_start(settings.days)
        self.period = Period(start, settings.days)
        self.period.check_in_past()
        self.planner = Planner(self.shape, start=start, days=settings.days, scale=settings.scale, seed=settings.seed)
        self.recalls = self.planner.recalls()
        self.faults = self.planner.faults()
        self.errors: list[str] = []
        self.days: list[dict[str, Any]] = []
        self.tally = GasTally()
        self.states: list[dict[str, Any]] = []
        self.last_state: StateSize | None = None
        self.state_doses = 0
        self.late_hours = 0
        self.end_cpu: dict[str, float] = {}
        self.oracle_status: dict[str, Any] = {}
        self.warmup_counts: dict[str, int] = {}
        self.dose_phase_s = 0.0
        self.dose_phase_cpu = 0.0
        self.dose_phase_doses = 0

    # --- the run -------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Runs the simulation and returns everything the report needs (simulate/report.py shapes it)."""
        workdir = self.s.out / "platform"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        began = time.perf_counter()
        platform = Platform(workdir, genesis=self.period.at(WARMUP), database=self.s.database, workers=self.s.workers)
        setup = Recorder()
        api = Api(platform.backend.url, setup, self.s.threads + 8)
        try:
            world = build(api, self.shape, self.planner, self.s.threads)
            loggers = self._loggers(world)
            oracle = platform.start_oracle(registry(loggers, self.s.seed, workdir / "devices.json"))
            cold = ColdChain(
                loggers,
                self._logger_faults(world),
                self.s.seed,
                self.period.at(WARMUP) * 1000,
                platform.broker.port,
                oracle,
            )
            set_up_s = time.perf_counter() - began
            try:
                measured = Recorder()
                baseline = self._loop(platform, world, api, cold, measured)
            finally:
                cold.stop()
            end_wall = time.perf_counter()
            return self._result(platform, world, cold, baseline, measured, setup, set_up_s, end_wall, len(loggers))
        finally:
            api.close()
            platform.close()

    def _loggers(self, w: World) -> list[Logger]:
        facilities = [w.cdc, *w.makers.values(), *w.sites.values()]
        return [Logger(f"logger-{eq}", eq, kind, f.id) for f in facilities for eq, kind in f.equipment]

    def _logger_faults(self, w: World) -> dict[int, list[LoggerFault]]:
        """The plan's faults on each site's first storage equipment, in the loggers' time (from the warm-up)."""
        out: dict[int, list[LoggerFault]] = {}
        for f in self.faults:
            site = w.sites.get(f.site)
            if site is None:
                continue
            equipment = site.storage()[0]
            w.faulty[equipment] = f.kind
            at = (24 + f.start_h) * 3600
            out.setdefault(equipment, []).append(LoggerFault(f.kind, at, f.duration_h * 3600))
        return out

    def _loop(self, platform: Platform, w: World, api: Api, cold: ColdChain, measured: Recorder) -> Baseline:
        clock = ChainClock(platform.w3)
        scanner = GasScanner(platform.w3, platform.manifest)
        checkpoint_every = max(1, -(-self.s.days // STATE_CHECKPOINTS))
        baseline: Baseline | None = None
        record: DayRecord | None = None
        bar = tqdm(total=self.period.total_hours, unit="h", desc="simulated hours", disable=not self.s.progress)
        with ThreadPoolExecutor(self.s.threads) as pool:
            for day, hour in self.period.hours():
                clock.jump(self.period.at(day, hour))
                cold.publish_until(self.period.at(day, hour) * 1000)
                if hour == 0 and record is not None:
                    self._close_day(record, platform, scanner, cold, w, (record.day + 1) % checkpoint_every == 0)
                if (day, hour) == (0, 0):
                    api.recorder = measured
                    baseline = self._baseline(platform, cold)
                    self.warmup_counts = dict(w.counts)
                if hour == 0 and day >= 0:
                    w.given_today.clear()
                    record = DayRecord(
                        day,
                        self.planner.date_of(day).isoformat(),
                        block_number(platform.w3) + 1,
                        time.perf_counter(),
                        Counter(w.counts),
                        cold.published,
                        self._cpu(platform, cold),
                    )
                for name, phase in self._phases(w, api, day, hour):
                    if name == DOSES and day >= 0:
                        self._dose_phase(pool, phase(), platform, w)
                    else:
                        self._run(pool, phase())
                bar.update(1)
                bar.set_postfix(day=day, doses=w.counts["doses_given"], readings=cold.published, refresh=False)
            clock.jump(self.period.at(self.s.days))
            cold.publish_until(self.period.at(self.s.days) * 1000)
            self._settle(cold)
            # Before the checks: the oracle judges silence by the wall clock, and the checks take a while.
            self.oracle_status = cold.oracle.status()
            assert record is not None and baseline is not None
            self._close_day(record, platform, scanner, cold, w, True)
            self.end_cpu = self._cpu(platform, cold)
        bar.close()
        self.late_hours = clock.late_hours
        return baseline

    def _phases(self, w: World, api: Api, day: int, hour: int) -> list[tuple[str, Callable[[], list[Action]]]]:
        """The hour's work in order, by name; each phase's actions are made when it starts, from what the phases
        before it left (a lot registered and released at 00:00 of the warm-up ships in the next phase)."""
        h = supply.hour_index(day, hour)
        work = self.shape.workload
        phases: list[tuple[str, Callable[[], list[Action]]]] = []
        if hour == 7:
            phases.append(("stock", lambda: supply.refresh(w, api)))

        def first() -> list[Action]:
            actions = supply.receipts(w, api, h) + supply.releases(w, api, h)
            for r in self.recalls:
                if (r.day, r.hour) == (day, hour):
                    actions += supply.recall(w, api, r)
            if day >= 0 and hour in work["cdc_rounds"]:
                actions += supply.cdc_round(w, api)
            return actions

        if day >= 0:
            phases.append(("quarantine", lambda: supply.quarantine_watch(w, api)))
        phases.append(("supply", first))
        if (day, hour) == (WARMUP, 0) or hour == work["supply"]["refill_hour"]:
            phases.append(("lots", lambda: supply.resupply(w, api, day, hour)))
        phases.append(("to the CDC", lambda: supply.maker_deliveries(w, api, h)))
        if hour == work["supply"]["refill_hour"]:
            phases.append(("refills", lambda: supply.refills(w, api, day, hour)))
        if hour == 17:
            phases.append(("slots", lambda: supply.slots(w, api, supply.slot_days(w, day))))
        if day < 0:
            return phases
        made, changed = care.booking_actions(w, api, day, hour)
        phases += [("bookings", lambda: made), ("booking changes", lambda: changed)]
        phases.append((DOSES, lambda: care.dose_actions(w, api, day, hour)))
        if hour == work["school"]["check_hour"]:
            consents, rosters = care.roster_families(w, api, day)
            phases += [("consents", lambda: consents), ("rosters", rosters)]
        if hour == 18:
            phases.append(("adverse events", lambda: care.aefi_actions(w, api, day)))
        return phases

    def _run(self, pool: ThreadPoolExecutor, actions: list[Action]) -> None:
        futures = [(op, pool.submit(fn)) for op, fn in actions]
        for op, future in futures:
            exc = future.exception()
            if exc is None or isinstance(exc, Refused):
                continue  # a refusal is counted by the recorder under its reason
            self.errors.append(f"{op}: {type(exc).__name__}: {exc}")
            tqdm.write(f"error in {op}: {type(exc).__name__}: {exc}")
            if len(self.errors) > MAX_ERRORS:
                raise RuntimeError(f"more than {MAX_ERRORS} unexpected errors; the first: {self.errors[0]}")

    def _dose_phase(self, pool: ThreadPoolExecutor, actions: list[Action], platform: Platform, w: World) -> None:
        """The doses of an hour, with the backend's CPU around them: CPU per dose without the rest of the day's
        requests (the indexer's polling in those seconds is still in it)."""
        if not actions:
            return
        before, given = cpu_seconds(platform.backend.process.pid), w.counts["doses_given"]
        started = time.perf_counter()
        self._run(pool, actions)
        self.dose_phase_s += time.perf_counter() - started
        self.dose_phase_cpu += cpu_seconds(platform.backend.process.pid) - before
        self.dose_phase_doses += w.counts["doses_given"] - given

    def _settle(self, cold: ColdChain) -> None:
        """The oracle's last batches and windows on chain (readings of a partial batch may stay waiting)."""
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            s = cold.oracle.status()
            b, w = s["batches"], s["windows"]
            if b["built"] == b["posted"] == w["built"] == w["posted"] == 0 and s["chain_writes_pending"] == 0:
                return
            time.sleep(0.2)

    # --- measurement -------------------------------------------------------------------------------------

    def _cpu(self, platform: Platform, cold: ColdChain) -> dict[str, float]:
        pids = platform.pids() | {"loggers": cold.process.pid or 0}
        return {name: cpu_seconds(pid) for name, pid in pids.items()} | {"simulator": time.process_time()}

    def _baseline(self, platform: Platform, cold: ColdChain) -> Baseline:
        state = state_size(platform.w3, platform.manifest)
        self.states.append({"day": 0, "at": "start"} | state.as_dict())
        return Baseline(
            block_number(platform.w3),
            time.perf_counter(),
            state,
            platform.database_bytes(),
            platform.database_tables(),
            self._cpu(platform, cold),
            cold.published,
            cold.publish_s,
            cold.store_s,
        )

    def _close_day(
        self, r: DayRecord, platform: Platform, scanner: GasScanner, cold: ColdChain, w: World, checkpoint: bool
    ) -> None:
        last = block_number(platform.w3)
        tally = scanner.scan(r.first_block, last)
        self.tally.merge(tally)
        counts = Counter(w.counts)
        counts.subtract(r.counts)
        cpu = self._cpu(platform, cold)
        self.days.append(
            {
                "day": r.day,
                "date": r.date,
                "wall_s": round(time.perf_counter() - r.started, 2),
                "blocks": [r.first_block, last],
                "txs": tally.txs,
                "gas": tally.gas,
                "gas_by_category": tally.by_category(),
                "gas_by_op": {op: o.gas for op, o in sorted(tally.ops.items())},
                "history_bytes": tally.history_bytes(),
                "readings": cold.published - r.published,
                "db_bytes": platform.database_bytes(),
                "counts": {k: v for k, v in sorted(counts.items()) if v},
                "cpu_s": {k: round(v - r.cpu.get(k, 0.0), 2) for k, v in cpu.items()},
            }
        )
        if checkpoint and last <= DUMP_MAX_BLOCKS:
            self.last_state = state_size(platform.w3, platform.manifest)
            self.state_doses = sum(d["counts"].get("doses_given", 0) for d in self.days)
            self.states.append({"day": r.day + 1, "at": "end of day"} | self.last_state.as_dict())

    def _result(
        self,
        platform: Platform,
        w: World,
        cold: ColdChain,
        baseline: Baseline,
        measured: Recorder,
        setup: Recorder,
        set_up_s: float,
        end_wall: float,
        loggers: int,
    ) -> dict[str, Any]:
        doses = sum(d["counts"].get("doses_given", 0) for d in self.days)
        checks = run_checks(platform, doses, baseline.block + 1)
        cpu = self.end_cpu
        return {
            "settings": self.s,
            "shape": self.shape,
            "period": self.period,
            "faults": self.faults,
            "recalls": self.recalls,
            "set_up_s": set_up_s,
            "wall_s": end_wall - baseline.wall,
            "days": self.days,
            "tally": self.tally,
            "state_start": baseline.state,
            "state_end": self.last_state or baseline.state,
            "state_doses": self.state_doses,
            "state_checkpoints": self.states,
            "db_start": baseline.db_bytes,
            "db_end": platform.database_bytes(),
            "db_tables_start": baseline.db_tables,
            "db_tables_end": platform.database_tables(),
            "cpu_s": {k: v - baseline.cpu.get(k, 0.0) for k, v in cpu.items()},
            "dose_phases": {
                "seconds": self.dose_phase_s,
                "backend_cpu_s": self.dose_phase_cpu,
                "doses": self.dose_phase_doses,
            },
            "readings": cold.published - baseline.published,
            "readings_publish_s": cold.publish_s - baseline.publish_s,
            "readings_store_s": cold.store_s - baseline.store_s,
            "oracle_status": self.oracle_status,
            "slow_oracle_hours": cold.slow_hours,
            "late_hours": self.late_hours,
            "latency": measured.summary(),
            "setup_latency": setup.summary(),
            "counts": dict(sum((Counter(d["counts"]) for d in self.days), Counter())),
            "warmup_counts": self.warmup_counts,
            "loggers": loggers,
            "families": len(w.families),
            "walk_ins": sum(len(v) for v in w.walk_ins.values()),
            "lots": len(w.lots),
            "errors": self.errors,
            "checks": checks,
            "database": platform.database_url.split(":")[0].split("+")[0],
        }


def simulate(settings: Settings) -> dict[str, Any]:
    return Simulation(settings).run()
