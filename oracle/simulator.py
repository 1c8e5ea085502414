"""Simulated cold-chain sensors: fridges, freezers, cold rooms, vehicles and cold boxes.

The thermal model is first order: the monitored mass relaxes exponentially toward a
target (the compressor's cold side while it runs, the ambient air while it rests),
integrated exactly over 15 s steps of *simulated* time. A thermostat with slightly
jittered cut-in/cut-out points switches the compressor, which gives the familiar
saw-tooth. Door openings heat the air near the probe quickly (a spike of a few
degrees) that falls back within minutes. Everything random comes from
random.Random seeded by (seed, device, equipment): the same seed gives the same
readings and, as Ed25519 signatures are deterministic and the demo keys are derived
from the seed, the same signatures. Nothing reads the wall clock except the live
publisher's pacing.

Faults (`Fault`), each active from `at_s` for `duration_s` (or for ever):
  power_cut  compressor off: warms toward ambient with the cabinet's tau_off (hours)
  freezing   thermostat stuck: drifts below 0 °C toward FREEZE_TARGET_C (-3 °C)
  dead       the sensor stops reporting (time and physics go on; seq resumes if it comes back)
  drift      the probe reads `value` °C per day more (default +1 °C/day) the longer it lasts

MQTT: topic `vaxledger/readings/<equipment>`, QoS 1, JSON payload
{"device", "equipment", "seq", "ts" (ms), "temp_c" (one decimal), "battery", "door", "sig"
(base64 Ed25519 signature over reading.signing_bytes)}.

CLI:
    python -m oracle.simulator --port 1883 --equipment 5,6=freezer,7=vehicle --fault 6:power_cut@2h --speed 60
Fault syntax: EQUIPMENT:KIND@START[+DURATION][=VALUE], times as a number with s, m, h or d
(`6:power_cut@2h+4h` is a four-hour cut two simulated hours in; `7:drift@1d=0.5` drifts 0.5 °C/day).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import heapq
import math
import random
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from oracle.csvlog import COLUMNS, CsvLog, open_csv
from oracle.identity import public_bytes, sign
from oracle.reading import NO_BATTERY, Reading, deci_celsius
from oracle.validate import Rejection, encode_message, message_fields

TOPIC_PREFIX = "vaxledger/readings/"
DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: simulations never read the clock
DEFAULT_INTERVAL_S = 300  # WHO 30-day recorders log at least every 10 minutes
STEP_S = 15
FREEZE_TARGET_C = -3.0
FREEZE_TAU_S = 5400.0
CSV_COLUMNS = COLUMNS
FAULT_KINDS = ("power_cut", "freezing", "dead", "drift")


@dataclass(frozen=True)
class Profile:
    """Thermal parameters of one kind of equipment (temperatures °C, times s)."""

    kind: str
    low: float
    """Thermostat cut-out: the compressor stops here (jittered ±jitter per cycle)."""
    high: float
    """Thermostat cut-in: the compressor starts here."""
    cold: float
    """What the running compressor pulls the mass toward."""
    tau_on: float
    tau_off: float
    """Time constant toward ambient with the compressor off (also a power cut's)."""
    ambient: float = 25.0
    ambient_swing: float = 1.0
    """Half the day/night ambient swing (peak at 15:00 UTC of the simulated day)."""
    door_per_hour: float = 0.3
    door_s: tuple[int, int] = (30, 150)
    door_rise_s: float = 480.0
    door_recover_s: float = 180.0
    jitter: float = 0.2
    noise: float = 0.05
    compressor: bool = True
    holdover_h: float = 0.0
    """Cold boxes: hours of ice at the profile's ambient."""


PROFILES: dict[str, Profile] = {
    # Cycle ~26 min off (3 -> 6 °C toward 25 °C, tau 3 h) + ~10 min on: ~36 min.
    "fridge": Profile("fridge", low=3.0, high=6.0, cold=-10.0, tau_on=2900, tau_off=10800),
    # -22..-18 °C, ~30 min off + ~15 min on; a power cut reaches 0 °C in ~3.3 h.
    "freezer": Profile(
        "freezer", low=-22.0, high=-18.0, cold=-35.0, tau_on=3360, tau_off=20000, door_per_hour=0.1, noise=0.1
    ),
    # Walk-in cold room: big mass, 3.5..5.5 °C, frequent but damped door openings.
    "cold_room": Profile(
        "cold_room", low=3.5, high=5.5, cold=-5.0, tau_on=4000, tau_off=21600, door_per_hour=1.0, door_rise_s=900
    ),
    # Refrigerated vehicle on a transport leg: hot, swinging ambient; a reefer failure is a power cut.
    "vehicle": Profile(
        "vehicle",
        low=3.0,
        high=6.0,
        cold=-8.0,
        tau_on=1800,
        tau_off=5400,
        ambient=32.0,
        ambient_swing=6.0,
        door_per_hour=0.1,
    ),
    # Passive cold box with conditioned ice packs: +2 °C creeping to +5 °C while ice lasts, then warms.
    "cold_box": Profile(
        "cold_box",
        low=2.0,
        high=5.0,
        cold=2.0,
        tau_on=3600,
        tau_off=14400,
        ambient=30.0,
        ambient_swing=4.0,
        door_per_hour=0.05,
        compressor=False,
        holdover_h=48.0,
    ),
}


@dataclass(frozen=True)
class Fault:
    kind: str
    at_s: float
    duration_s: float | None = None
    value: float | None = None
    """drift: °C per day (default 1.0)."""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(FAULT_KINDS)}")

    def active(self, t: float) -> bool:
        return t >= self.at_s and (self.duration_s is None or t < self.at_s + self.duration_s)


class ThermalModel:
    """The equipment's temperature in simulated time t (seconds since the start)."""

    def __init__(self, profile: Profile, rng: random.Random, start_ms: int = DEFAULT_START_MS) -> None:
        self.p = profile
        self.rng = rng
        self.start_ms = start_ms
        self.t = 0
        self.mass = rng.uniform(profile.low, profile.high)
        self.excess = 0.0  # air near the probe above the mass, from door openings
        self.compressor_on = rng.random() < 0.3
        self.cut_out = profile.low + rng.uniform(-profile.jitter, profile.jitter)
        self.cut_in = profile.high + rng.uniform(-profile.jitter, profile.jitter)
        self.door_until = -1
        self.next_door = self._next_door(0)
        self.door_seen = False
        self.ice0 = max(profile.ambient - profile.cold, 1.0) * profile.holdover_h * 3600
        self.ice = self.ice0

    def _next_door(self, after: float) -> float:
        if self.p.door_per_hour <= 0:
            return math.inf
        return after + self.rng.expovariate(self.p.door_per_hour / 3600)

    def ambient(self, t: float) -> float:
        day_s = ((self.start_ms // 1000 + t) % 86400) / 86400
        return self.p.ambient + self.p.ambient_swing * math.sin(2 * math.pi * (day_s - 9 / 24))

    def door_open(self, t: float) -> bool:
        return t < self.door_until

    def advance(self, seconds: int, faults: Iterable[Fault] = ()) -> None:
        faults = tuple(faults)
        end = self.t + seconds
        while self.t < end:
            dt = min(STEP_S, end - self.t)
            self._step(dt, [f.kind for f in faults if f.active(self.t)])
            self.t += dt

    def _step(self, dt: int, active: list[str]) -> None:
        p, t = self.p, self.t
        amb = self.ambient(t)
        if t >= self.next_door:
            self.door_until = t + self.rng.randint(*p.door_s)
            self.next_door = self._next_door(self.door_until)
        door = self.door_open(t)
        self.door_seen = self.door_seen or door

        if "freezing" in active:
            target, tau = FREEZE_TARGET_C, FREEZE_TAU_S
        elif not p.compressor:
            if self.ice > 0:
                self.ice -= max(amb - self.mass, 0.0) * dt
                target, tau = p.cold + (p.high - p.cold) * (1 - max(self.ice, 0.0) / self.ice0), p.tau_on
            else:
                target, tau = amb, p.tau_off
        else:
            if "power_cut" in active:
                self.compressor_on = False
            elif self.compressor_on and self.mass <= self.cut_out:
                self.compressor_on = False
                self.cut_out = p.low + self.rng.uniform(-p.jitter, p.jitter)
            elif not self.compressor_on and self.mass >= self.cut_in:
                self.compressor_on = True
                self.cut_in = p.high + self.rng.uniform(-p.jitter, p.jitter)
            target, tau = (p.cold, p.tau_on) if self.compressor_on else (amb, p.tau_off)
        self.mass = target + (self.mass - target) * math.exp(-dt / tau)
        if door:
            room = amb - self.mass
            self.excess = room + (self.excess - room) * math.exp(-dt / p.door_rise_s)
        else:
            self.excess *= math.exp(-dt / p.door_recover_s)

    def probe(self, faults: Iterable[Fault] = ()) -> float:
        """What the probe reads now: mass, door air, drift and noise."""
        value = self.mass + self.excess + self.rng.gauss(0.0, self.p.noise)
        for f in faults:
            if f.kind == "drift" and f.active(self.t):
                rate = 1.0 if f.value is None else f.value
                value += rate * (self.t - f.at_s) / 86400
        return value


def demo_key(seed: int | str, device: str) -> Ed25519PrivateKey:
    """A key derived from the seed: reproducible simulations only, never a real device's key."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"vaxledger-sim:{seed}:{device}".encode()).digest())


class SimulatedSensor:
    """A logger on one piece of equipment: every `interval_s` of simulated time it samples,
    signs and returns a (Reading, signature) pair (or None while it is dead)."""

    def __init__(
        self,
        device: str,
        equipment: int,
        kind: str = "fridge",
        *,
        seed: int | str = 0,
        start_ms: int = DEFAULT_START_MS,
        interval_s: int = DEFAULT_INTERVAL_S,
        faults: Iterable[Fault] = (),
        key: Ed25519PrivateKey | None = None,
        profile: Profile | None = None,
        report_battery: bool = True,
        first_seq: int = 0,
    ) -> None:
        if interval_s < 1:
            raise ValueError("interval_s must be at least 1 s")
        self.device = device
        self.equipment = equipment
        self.profile = profile or PROFILES[kind]
        self.interval_s = int(interval_s)
        self.faults = tuple(faults)
        self.key = key or demo_key(seed, device)
        self.report_battery = report_battery
        self.seq = first_seq
        self.model = ThermalModel(self.profile, random.Random(f"{seed}:{device}:{equipment}"), start_ms)

    @property
    def public_key(self) -> bytes:
        return public_bytes(self.key)

    @property
    def t(self) -> int:
        """Simulated seconds since the start: when the next sample is taken."""
        return self.model.t

    def battery(self) -> int:
        if not self.report_battery:
            return NO_BATTERY
        return max(0, 100 - self.model.t // (3 * 86400))  # about 1 % per 3 days

    def step(self) -> tuple[Reading, bytes] | None:
        """Sample now, then advance one interval. None when the sensor is dead at this instant."""
        m = self.model
        dead = any(f.kind == "dead" and f.active(m.t) for f in self.faults)
        out = None
        if not dead:
            temp = m.probe(self.faults)
            reading = Reading(
                device=self.device,
                equipment=self.equipment,
                seq=self.seq,
                ts_ms=m.start_ms + m.t * 1000,
                temp_dc=deci_celsius(temp),
                battery=self.battery(),
                door_open=m.door_seen or m.door_open(m.t),
            )
            self.seq += 1
            out = (reading, sign(self.key, reading))
        self._end_interval()
        return out

    def skip_to(self, ts_ms: int) -> None:
        """Live the samples before `ts_ms` without reporting them (the platform was down): the physics and
        the random draws go exactly as if they had been taken, so the next reading follows the last one
        published before the outage."""
        m = self.model
        while m.start_ms + m.t * 1000 < ts_ms:
            if not any(f.kind == "dead" and f.active(m.t) for f in self.faults):
                m.probe(self.faults)
            self._end_interval()

    def _end_interval(self) -> None:
        self.model.door_seen = False  # the door flag covers the interval since the previous sample
        self.model.advance(self.interval_s, self.faults)

    def readings(self, duration_s: float | None = None) -> Iterator[tuple[Reading, bytes]]:
        """Samples taken in the next `duration_s` simulated seconds (for ever when None)."""
        end = None if duration_s is None else self.model.t + duration_s
        while end is None or self.model.t < end:
            out = self.step()
            if out is not None:
                yield out

    def run(self, duration_s: float) -> list[tuple[Reading, bytes]]:
        return list(self.readings(duration_s))


def timeline(sensors: Sequence[SimulatedSensor], duration_s: float | None = None) -> Iterator[tuple[Reading, bytes]]:
    """The sensors' readings in time order over the next `duration_s` simulated seconds (for ever when None),
    stepping whichever sensor is due next: a dead sensor's time goes on without it blocking the others
    (merging the sensors' own streams would wait for ever on a sensor that never reports again)."""
    ends = [None if duration_s is None else s.t + duration_s for s in sensors]
    due = [(s.model.start_ms + s.t * 1000, s.equipment, s.device, i) for i, s in enumerate(sensors)]
    heapq.heapify(due)
    while due:
        _, _, _, i = heapq.heappop(due)
        sensor, end = sensors[i], ends[i]
        if end is not None and sensor.t >= end:
            continue
        out = sensor.step()
        heapq.heappush(due, (sensor.model.start_ms + sensor.t * 1000, sensor.equipment, sensor.device, i))
        if out is not None:
            yield out


def merged(streams: Iterable[Iterable[tuple[Reading, bytes]]]) -> Iterator[tuple[Reading, bytes]]:
    """Several sensors' readings in timestamp order (ties by equipment)."""
    return heapq.merge(*streams, key=lambda pair: (pair[0].ts_ms, pair[0].equipment, pair[0].device))


# --- wire format -------------------------------------------------------------------------------


def topic_for(equipment: int) -> str:
    return f"{TOPIC_PREFIX}{equipment}"


# --- logger memory as CSV ----------------------------------------------------------------------


def write_csv(target: Path | str | IO[str], rows: Iterable[tuple[Reading, bytes]]) -> int:
    """A logger's memory as CSV (columns CSV_COLUMNS, door 0/1, temp_c one decimal). Returns the row count."""
    if isinstance(target, (str, Path)):
        with open(target, "w", newline="") as f:
            return write_csv(f, rows)
    writer = csv.writer(target)
    writer.writerow(CSV_COLUMNS)
    n = 0
    for reading, sig in rows:
        m = message_fields(reading, sig)
        writer.writerow(
            [
                *(m[c] for c in CSV_COLUMNS[:4]),
                f"{reading.temp_dc / 10:.1f}",
                m["battery"],
                int(reading.door_open),
                m["sig"],
            ]
        )
        n += 1
    return n


def read_csv(source: Path | str | IO[str]) -> list[tuple[Reading, bytes]]:
    """All rows of a logger's CSV, strictly: a ValueError names the first bad row's line
    (`csvlog.CsvLog` is the row-tolerant parser this wraps)."""
    if isinstance(source, (str, Path)):
        with open_csv(source) as f:
            return read_csv(f)
    rows = []
    for item in CsvLog(source):
        if isinstance(item, Rejection):
            raise ValueError(item.message)
        rows.append(item)
    return rows


# --- MQTT publisher ----------------------------------------------------------------------------


class PublishError(RuntimeError):
    pass


class Publisher:
    """Publishes readings to `vaxledger/readings/<equipment>` with QoS 1 (paho-mqtt 2.x)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 1883, *, client_id: str = "", timeout: float = 10.0, qos: int = 1
    ) -> None:
        import paho.mqtt.client as mqtt

        self.host, self.port, self.timeout, self.qos = host, port, timeout, qos
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(100)
        self._connected = threading.Event()
        self._reason: object = None
        self.client.on_connect = self._on_connect
        self.published = 0

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self._reason = reason_code
        if not reason_code.is_failure:
            self._connected.set()

    def connect(self) -> Publisher:
        self.client.connect(self.host, self.port)
        self.client.loop_start()
        if not self._connected.wait(self.timeout):
            self.close()
            raise PublishError(
                f"no MQTT connection to {self.host}:{self.port} within {self.timeout:g} s ({self._reason})"
            )
        return self

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Publisher:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def publish(self, reading: Reading, signature: bytes):
        info = self.client.publish(topic_for(reading.equipment), encode_message(reading, signature), qos=self.qos)
        if info.rc not in (0, 4):  # success, or queued while reconnecting (MQTT_ERR_NO_CONN)
            raise PublishError(f"publish failed: rc={info.rc}")
        self.published += 1
        return info

    def _wait(self, info) -> None:
        info.wait_for_publish(self.timeout)
        if not info.is_published():
            raise PublishError(f"broker did not acknowledge a reading within {self.timeout:g} s")

    def publish_fast(self, readings: Iterable[tuple[Reading, bytes]], window: int = 500) -> int:
        """As fast as the broker acknowledges them, at most `window` unacknowledged. Returns the count."""
        pending: deque = deque()
        n = 0
        for reading, sig in readings:
            pending.append(self.publish(reading, sig))
            n += 1
            if len(pending) >= window:
                self._wait(pending.popleft())
        while pending:
            self._wait(pending.popleft())
        return n

    def publish_live(
        self,
        readings: Iterable[tuple[Reading, bytes]],
        speed: float = 60.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        origin_ms: int | None = None,
    ) -> int:
        """Paced: simulated time runs `speed` times faster than real time from `origin_ms` (default: the
        first reading's time), so a resumed sensor's next sample is not sent before it is taken."""
        n, origin = 0, None if origin_ms is None else (origin_ms, clock())
        for reading, sig in readings:
            if origin is None:
                origin = (reading.ts_ms, clock())
            due = origin[1] + (reading.ts_ms - origin[0]) / 1000 / speed
            delay = due - clock()
            if delay > 0:
                sleep(delay)
            self.publish(reading, sig)
            n += 1
        return n


# --- CLI ---------------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_FAULT = re.compile(r"(\d+):(\w+)@([\d.]+[smhd])(?:\+([\d.]+[smhd]))?(?:=(-?[\d.]+))?")


def parse_duration(text: str) -> float:
    m = _DURATION.fullmatch(text.strip())
    if not m:
        raise ValueError(f"bad duration {text!r}: a number with s, m, h or d, e.g. 90m or 2h")
    return float(m[1]) * _UNITS[m[2]]


def parse_fault(text: str) -> tuple[int, Fault]:
    """`EQUIPMENT:KIND@START[+DURATION][=VALUE]`, e.g. `6:power_cut@2h+4h` or `7:drift@1d=0.5`."""
    m = _FAULT.fullmatch(text.strip())
    if not m:
        raise ValueError(f"bad fault {text!r}: EQUIPMENT:KIND@START[+DURATION][=VALUE], e.g. 6:power_cut@2h")
    duration = parse_duration(m[4]) if m[4] else None
    return int(m[1]), Fault(m[2], parse_duration(m[3]), duration, float(m[5]) if m[5] else None)


def parse_equipment(text: str) -> list[tuple[int, str]]:
    """`5,6=freezer,7=vehicle`: ids, each with an optional kind (default fridge)."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        ident, _, kind = item.partition("=")
        kind = kind or "fridge"
        if kind not in PROFILES:
            raise ValueError(f"unknown kind {kind!r}; one of {', '.join(PROFILES)}")
        out.append((int(ident), kind))
    return out


def build_sensors(
    equipment: list[tuple[int, str]],
    faults: Iterable[tuple[int, Fault]] = (),
    *,
    seed: int | str = 0,
    start_ms: int = DEFAULT_START_MS,
    interval_s: int = DEFAULT_INTERVAL_S,
) -> list[SimulatedSensor]:
    faults = list(faults)
    unknown = {e for e, _ in faults} - {e for e, _ in equipment}
    if unknown:
        raise ValueError(f"faults for equipment not simulated: {sorted(unknown)}")
    return [
        SimulatedSensor(
            f"sim-{eq}",
            eq,
            kind,
            seed=seed,
            start_ms=start_ms,
            interval_s=interval_s,
            faults=[f for e, f in faults if e == eq],
        )
        for eq, kind in equipment
    ]


def registry_equipment(path: Path) -> list[tuple[int, str]]:
    """The equipment of a device registry (oracle.devices), each simulated by its kind's model
    (a cold box by the fridge model)."""
    from oracle import devices

    kinds = devices.load(path).equipment
    return [(eq, p.kind if p.kind in PROFILES else "fridge") for eq, p in sorted(kinds.items())]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m oracle.simulator", description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--equipment", default="1", help="ids with optional kinds: 5,6=freezer,7=vehicle")
    ap.add_argument("--devices", type=Path, help="simulate every equipment of this device registry instead")
    ap.add_argument("--fault", action="append", default=[], help="EQUIPMENT:KIND@START[+DURATION][=VALUE]")
    ap.add_argument("--speed", type=float, default=60.0, help="live mode: simulated seconds per real second")
    ap.add_argument("--fast", action="store_true", help="publish as fast as the broker takes them")
    ap.add_argument("--hours", type=float, help="simulated hours (default: 24 with --fast/--csv, else for ever)")
    ap.add_argument("--backfill", help="live mode: first publish this much of the past at once (e.g. 6h), then go on")
    ap.add_argument("--interval", default="5m", help="sampling interval (default 5m)")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--start-ms", type=int, help="first timestamp (default: now in live mode, 2026-01-01 otherwise)")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="live mode: the physics run unreported from --start-ms to now (a restart), then go on live",
    )
    ap.add_argument("--csv", type=Path, help="write the loggers' memory to this CSV instead of publishing")
    args = ap.parse_args(argv)
    try:
        equipment = registry_equipment(args.devices) if args.devices else parse_equipment(args.equipment)
        faults = [parse_fault(f) for f in args.fault]
        interval = int(parse_duration(args.interval))
        backfill_s = parse_duration(args.backfill) if args.backfill else 0.0
    except ValueError as exc:
        ap.error(str(exc))
    live = not (args.fast or args.csv)
    if args.resume and not (live and args.start_ms is not None and not backfill_s):
        ap.error("--resume needs live mode and --start-ms, without --backfill")
    now_ms = int(time.time() * 1000)
    if args.start_ms is not None:
        start_ms = args.start_ms
    else:
        start_ms = now_ms - int(backfill_s * 1000) if live else DEFAULT_START_MS
    hours = args.hours if args.hours is not None else (None if live else 24.0)
    sensors = build_sensors(equipment, faults, seed=args.seed, start_ms=start_ms, interval_s=interval)
    if args.resume:
        for s in sensors:
            s.skip_to(now_ms)
    if live:
        # Sequence numbers from the clock: a restarted live simulator continues above its last run's.
        for s in sensors:
            s.seq = (now_ms if args.resume else start_ms) // 1000
    for s in sensors:
        print(f"{s.device} equipment={s.equipment} kind={s.profile.kind} pubkey={s.public_key.hex()}", file=sys.stderr)
    duration = None if hours is None else hours * 3600
    if args.csv:
        stream = timeline(sensors, duration)
        print(f"wrote {write_csv(args.csv, stream)} readings to {args.csv}", file=sys.stderr)
        return 0
    with Publisher(args.host, args.port, client_id=f"vaxledger-sim-{args.seed}") as pub:
        try:
            if live and backfill_s:
                past = pub.publish_fast(timeline(sensors, backfill_s))
                print(f"published {past} readings of the past {args.backfill}; now live", file=sys.stderr)
            stream = timeline(sensors, duration)
            n = (
                pub.publish_fast(stream)
                if args.fast
                else pub.publish_live(stream, args.speed, origin_ms=now_ms if args.resume else None)
            )
        except KeyboardInterrupt:
            n = pub.published
    print(f"published {n} readings to {args.host}:{args.port}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
