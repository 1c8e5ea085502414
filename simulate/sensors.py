"""Every piece of equipment's logger, reporting every 5 minutes of simulated time over MQTT, signed, as the
oracle's simulator models them (oracle/simulator.py, its faults included).

The loggers run in a process of their own (the thermal model and the signatures are CPU work that would
otherwise share the driver's interpreter): asked for the readings up to an hour's end, it publishes them, answers
with their count, and computes the next hour's while the driver works. The driver then waits until the oracle
has stored them all and has written any excursion they caused to the chain."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from oracle import devices
from oracle.devices import DeviceEntry, Registry
from oracle.identity import public_bytes
from oracle.simulator import PROFILES, Fault, Publisher, SimulatedSensor, demo_key, timeline
from simulate.clock import CHINA, HOUR
from tests.oracle.daemon_proc import OracleProcess

INTERVAL_S = 300
ICE_HOUR = 7
"""Village points swap their cold boxes' ice packs every morning (the simulator's ice lasts two days)."""
HOUR_MS = HOUR * 1000
BOXED_VAN = replace(PROFILES["vehicle"], door_rise_s=1800.0)
"""A van's logger rides in the insulated shipping box with the vaccines (as WHO's shipping indicators do): a door
opening warms the box's air over half an hour, not the simulator's 8 minutes of the van's open air. With the
simulator's own van, a few percent of one-hour trips hold a 5-minute reading above +8 °C and the backend refuses
the whole delivery (see `open_van_refusal_share` and the report's gaps)."""
STORE_TIMEOUT_S = 300
CHAIN_WRITES_TIMEOUT_S = 60


@dataclass(frozen=True)
class Logger:
    device: str
    equipment: int
    kind: str
    facility: int


def registry(loggers: Sequence[Logger], seed: str, path: Path) -> Path:
    """The oracle's device registry for the loggers (keys derived from the seed: a simulation's, never a real
    device's)."""
    entries = [
        DeviceEntry(
            lg.device,
            lg.equipment,
            lg.kind,
            public_bytes(demo_key(seed, lg.device)).hex(),
            lg.facility,
            "type2" if lg.kind == "vehicle" else None,
        )
        for lg in loggers
    ]
    devices.save(Registry(entries), path)
    return path


def _generate(sensors: list[SimulatedSensor], until_ms: int) -> list[Any]:
    first = sensors[0].model
    if datetime.fromtimestamp((until_ms - HOUR_MS) / 1000, CHINA).hour == ICE_HOUR:
        for s in sensors:
            if s.profile.kind == "cold_box":
                s.model.ice = s.model.ice0
    duration = (until_ms - first.start_ms) / 1000 - first.t
    return list(timeline(sensors, duration))


def _serve(
    conn: Connection, loggers: list[Logger], faults: dict[int, list[Fault]], seed: str, start_ms: int, port: int
) -> None:
    sensors = [
        SimulatedSensor(
            lg.device,
            lg.equipment,
            lg.kind,
            seed=seed,
            start_ms=start_ms,
            interval_s=INTERVAL_S,
            faults=faults.get(lg.equipment, ()),
            profile=BOXED_VAN if lg.kind == "vehicle" else None,
        )
        for lg in loggers
    ]
    ready: tuple[int, list[Any]] | None = None
    with Publisher(port=port, client_id=f"simulate-loggers-{seed}", timeout=120) as pub:
        while (until_ms := conn.recv()) is not None:
            readings = ready[1] if ready and ready[0] == until_ms else _generate(sensors, until_ms)
            conn.send(pub.publish_fast(readings))
            ready = (until_ms + HOUR_MS, _generate(sensors, until_ms + HOUR_MS))


def open_van_refusal_share(days: int = 30, seed: str = "open-van") -> float:
    """The share of one-hour windows in which oracle/simulator.py's van (logger in the van's air) reports a reading
    above +8.0 °C: trips of that hour that the backend's judge_trip would refuse."""
    sensor = SimulatedSensor("open-van", 1, "vehicle", seed=seed, interval_s=INTERVAL_S)
    temps = [r.temp_dc for r, _ in sensor.run(days * 86_400)]
    per_hour = HOUR // INTERVAL_S
    hours = [temps[i : i + per_hour] for i in range(0, len(temps), per_hour)]
    return sum(1 for h in hours if max(h) > 80) / len(hours)


def _settled(status: dict[str, Any]) -> int:
    """Readings the oracle is done with: stored, or refused (a refusal is counted in its status, by reason)."""
    readings = status["readings"]
    return readings["stored"] + sum(readings["refused"].values())


class ColdChain:
    """The loggers' process, and the wait for the oracle after each hour's readings."""

    def __init__(
        self,
        loggers: list[Logger],
        faults: dict[int, list[Fault]],
        seed: str,
        start_ms: int,
        port: int,
        oracle: OracleProcess,
    ) -> None:
        self.oracle = oracle
        self.published = 0
        self.publish_s = 0.0
        self.store_s = 0.0
        self.slow_hours = 0
        """Hours after which the oracle's chain writes were still pending when the driver went on."""
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(child, loggers, faults, seed, start_ms, port), name="loggers", daemon=True
        )
        self.process.start()

    def publish_until(self, until_ms: int) -> int:
        started = time.perf_counter()
        self.conn.send(until_ms)
        n = self.conn.recv()
        published = time.perf_counter()
        self.published += n
        self.publish_s += published - started
        self._wait(lambda s: _settled(s) >= self.published, STORE_TIMEOUT_S, "store the readings")
        self.store_s += time.perf_counter() - published
        if not self._wait(lambda s: s["chain_writes_pending"] == 0, CHAIN_WRITES_TIMEOUT_S, None):
            self.slow_hours += 1
        return n

    def _wait(self, done: Any, timeout: float, what: str | None) -> bool:
        deadline = time.monotonic() + timeout
        while not done(self.oracle.status()):
            if time.monotonic() > deadline:
                if what is None:
                    return False
                raise RuntimeError(f"the oracle did not {what} within {timeout:g} s:\n{self.oracle.log_tail()}")
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # a pipe the process already closed
                self.conn.send(None)
            self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=10)
