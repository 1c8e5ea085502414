"""Accept or reject an incoming reading, with a machine-readable reason.

The oracle knows each device's registered Ed25519 public key and the equipment
it is bound to, and remembers per device the last accepted (seq, ts_ms, temp_dc)
— restorable from the store after a restart (`ReadingValidator.restore`).

Checks, in order (the first failing one is the reason):

1. unknown device, device bound to other equipment;
2. missing / malformed (not 64 bytes) / wrong signature — authentication comes
   before everything else, so forged junk is counted as forged, not as e.g. a
   bad battery value;
3. replay: seq <= the last accepted seq of the device (equal is a replay);
4. clock far in the future: ts_ms > oracle clock + `max_future_ms` (10 min;
   exactly 10 min ahead is still accepted);
5. out of order: ts_ms < last accepted ts_ms - `reorder_tolerance_ms` (5 min;
   exactly 5 min earlier is still accepted);
6. physically impossible temperature: temp_dc outside -900..600 (both ends
   accepted); battery outside 0..100 unless 255 (not reported);
7. impossible rate of change against the device's previous accepted reading.

Late uploads (a logger's memory sent as CSV / a burst after an outage): the
age of a reading relative to the oracle's clock is deliberately NOT limited —
a logger that was offline for a week uploads a week of old readings and they
are all genuine. What is checked is the order *within a device's stream*: the
upload must be sent in seq order (the CSV sorted by seq), each reading's seq
above the last accepted one. Its timestamp may go back by at most the
tolerance relative to the previous accepted reading (a logger that resyncs
its clock, or interleaves a buffered record after a live one, moves back by
seconds, not hours); a timestamp that jumps back further means a reset clock
or a spliced log and is rejected. Readings of a logger memory that were
already delivered live are replays by seq and are rejected as REPLAY, which
is harmless (the store already holds them): the daemon may count them but
need not alarm on them.

Rate of change: |Δtemp| may not exceed `max_rate_dc_per_min` × |Δt| / 1 min
plus `rate_slack_dc` (default 1.0 °C). The slack absorbs sensor jitter and
quantisation between readings taken close together (a 0.2 °C flicker two
seconds apart is 6 °C/min, a genuine door opening is not impossible); set it
to 0 for a pure rate check. The comparison is done in integers, so the edge is
exact: at the default 10 °C/min and 1.0 °C slack, 11.0 °C in one minute is
accepted and 11.1 °C is rejected.

Nothing here raises on bad input: `validate`, `parse_message` and
`validate_message` return a result.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from nacl.signing import VerifyKey

from oracle.identity import verifier
from oracle.reading import NO_BATTERY, Reading, deci_celsius, signing_bytes

MINUTE_MS = 60_000
DEFAULT_REORDER_TOLERANCE_MS = 5 * MINUTE_MS
DEFAULT_MAX_FUTURE_MS = 10 * MINUTE_MS
MIN_TEMP_DC = -900
MAX_TEMP_DC = 600
DEFAULT_MAX_RATE_DC_PER_MIN = 100  # 10.0 °C per minute
DEFAULT_RATE_SLACK_DC = 10  # 1.0 °C
SIGNATURE_LEN = 64
PARALLEL_MIN = 64
"""Below this many readings a thread pool costs more than it saves."""
_VERIFIERS = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1), thread_name_prefix="verify")

_UINT32 = 2**32 - 1
_UINT64 = 2**64 - 1
_INT16_MIN, _INT16_MAX = -(2**15), 2**15 - 1
_MAX_DEVICE_BYTES = 2**16 - 1


class Reason(StrEnum):
    """Why a reading was rejected. The values are stable: the daemon exports them as metric labels."""

    MALFORMED_JSON = "malformed_json"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    FIELD_OUT_OF_RANGE = "field_out_of_range"
    UNKNOWN_DEVICE = "unknown_device"
    WRONG_EQUIPMENT = "wrong_equipment"
    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    BAD_SIGNATURE = "bad_signature"
    REPLAY = "replay"
    OUT_OF_ORDER = "out_of_order"
    FUTURE_TIMESTAMP = "future_timestamp"
    IMPOSSIBLE_TEMPERATURE = "impossible_temperature"
    IMPOSSIBLE_RATE = "impossible_rate"
    BAD_BATTERY = "bad_battery"
    INTERNAL_ERROR = "internal_error"
    """Should never happen: an unexpected exception while validating, caught so the daemon keeps running."""


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    message: str

    @property
    def ok(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of validating one reading: accepted (`reason` is None) or rejected with a reason."""

    reason: Reason | None
    message: str
    reading: Reading | None = None
    signature: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


@dataclass(frozen=True, slots=True)
class Device:
    public_key: bytes
    equipment: int


class LastAccepted(Protocol):
    """What the validator remembers per device (`store.LastAccepted` satisfies it)."""

    @property
    def seq(self) -> int: ...
    @property
    def ts_ms(self) -> int: ...
    @property
    def temp_dc(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class DeviceState:
    seq: int
    ts_ms: int
    temp_dc: int | None = None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class ReadingValidator:
    """Stateful validator for the readings of registered devices.

    `validate` updates the device's last accepted (seq, ts, temp) when it accepts, so readings validated one
    after another see each other; after a restart call `restore(store.last_accepted())` before validating."""

    def __init__(
        self,
        devices: Mapping[str, Device] | None = None,
        *,
        reorder_tolerance_ms: int = DEFAULT_REORDER_TOLERANCE_MS,
        max_future_ms: int = DEFAULT_MAX_FUTURE_MS,
        max_rate_dc_per_min: int = DEFAULT_MAX_RATE_DC_PER_MIN,
        rate_slack_dc: int = DEFAULT_RATE_SLACK_DC,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.reorder_tolerance_ms = reorder_tolerance_ms
        self.max_future_ms = max_future_ms
        self.max_rate_dc_per_min = max_rate_dc_per_min
        self.rate_slack_dc = rate_slack_dc
        self.clock = clock
        self._devices: dict[str, Device] = {}
        self._keys: dict[str, VerifyKey] = {}
        self._last: dict[str, DeviceState] = {}
        self.counts: Counter[Reason] = Counter({r: 0 for r in Reason})
        """Rejections per reason (every reason present, starting at 0)."""
        self.accepted = 0
        for name, dev in (devices or {}).items():
            self.register(name, dev.public_key, dev.equipment)

    # --- registry and state -------------------------------------------------------------------------------------

    def register(self, device: str, public_key: bytes, equipment: int) -> None:
        """Register (or re-register, e.g. after a key rotation or a move) a device. Raises ValueError on a bad key."""
        self._keys[device] = verifier(public_key)
        self._devices[device] = Device(bytes(public_key), equipment)

    def set_devices(self, devices: Mapping[str, Device]) -> None:
        """Replace the registry (keys rotated, sensors added or retired); remembered order state is kept."""
        keys = {name: verifier(d.public_key) for name, d in devices.items()}
        self._keys = keys
        self._devices = {name: Device(bytes(d.public_key), d.equipment) for name, d in devices.items()}

    def unregister(self, device: str) -> None:
        self._devices.pop(device, None)
        self._keys.pop(device, None)

    def restore(self, last: Mapping[str, LastAccepted]) -> None:
        """Replace the remembered per-device state, e.g. with `store.last_accepted()` after a restart."""
        self._last = {d: DeviceState(s.seq, s.ts_ms, s.temp_dc) for d, s in last.items()}

    def last_accepted(self, device: str) -> DeviceState | None:
        return self._last.get(device)

    def reset_counts(self) -> None:
        self.counts = Counter({r: 0 for r in Reason})
        self.accepted = 0

    # --- validation ---------------------------------------------------------------------------------------------

    def validate(
        self, reading: Reading, signature: bytes | None, now_ms: int | None = None, *, signed: bool | None = None
    ) -> Verdict:
        """Accept or reject one reading; never raises. Accepting updates the device's last accepted state.
        `signed` is the signature check's outcome when it was done already (`validate_all`)."""
        try:
            rejection = self._check(reading, signature, now_ms, signed)
        except Exception as exc:  # never raise on bad input
            rejection = Rejection(Reason.INTERNAL_ERROR, f"unexpected error while validating: {exc!r}")
        if rejection is not None:
            self.counts[rejection.reason] += 1
            return Verdict(rejection.reason, rejection.message, reading, signature)
        self._last[reading.device] = DeviceState(reading.seq, reading.ts_ms, reading.temp_dc)
        self.accepted += 1
        return Verdict(None, "accepted", reading, signature)

    def validate_message(self, payload: bytes, now_ms: int | None = None) -> Verdict:
        """Parse a wire message and validate it; parse failures are counted like any other rejection."""
        parsed = parse_message(payload)
        if isinstance(parsed, Rejection):
            self.counts[parsed.reason] += 1
            return Verdict(parsed.reason, parsed.message)
        return self.validate(*parsed, now_ms=now_ms)

    def validate_all(self, items: Iterable[tuple[Reading, bytes | None]], now_ms: int | None = None) -> list[Verdict]:
        """validate() each in order, with the signatures checked first on all cores: libsodium releases the
        interpreter lock, and the signature is most of a reading's cost."""
        items = list(items)
        signed = self._signatures(items)
        return [self.validate(r, s, now_ms, signed=ok) for (r, s), ok in zip(items, signed, strict=True)]

    def _signatures(self, items: list[tuple[Reading, bytes | None]]) -> list[bool | None]:
        if len(items) < PARALLEL_MIN:
            return [None] * len(items)
        n = _VERIFIERS._max_workers
        size = -(-len(items) // n)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        return [ok for part in _VERIFIERS.map(self._verify_chunk, chunks) for ok in part]

    def _verify_chunk(self, items: list[tuple[Reading, bytes | None]]) -> list[bool | None]:
        return [self._verify(r, s) for r, s in items]

    def _verify(self, r: Reading, signature: bytes | None) -> bool | None:
        """True/False when the signature could be checked; None leaves the reading to _check's order."""
        key = self._keys.get(r.device) if isinstance(r, Reading) and isinstance(r.device, str) else None
        if key is None or not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_LEN:
            return None
        try:
            key.verify(signing_bytes(r), bytes(signature))
        except Exception:  # BadSignatureError, or fields that cannot even be signed
            return False
        return True

    def _check(self, r: Reading, signature: bytes | None, now_ms: int | None, signed: bool | None) -> Rejection | None:
        if not isinstance(r, Reading):
            return Rejection(Reason.WRONG_TYPE, f"expected a Reading, got {type(r).__name__}")
        dev = self._devices.get(r.device) if isinstance(r.device, str) else None
        if dev is None:
            return Rejection(Reason.UNKNOWN_DEVICE, f"device {r.device!r} is not registered")
        if r.equipment != dev.equipment:
            return Rejection(
                Reason.WRONG_EQUIPMENT,
                f"device {r.device!r} is bound to equipment {dev.equipment}, reading claims {r.equipment!r}",
            )
        if signature is None or (isinstance(signature, bytes | bytearray) and len(signature) == 0):
            return Rejection(Reason.MISSING_SIGNATURE, f"reading {r.device!r}#{r.seq} carries no signature")
        if not isinstance(signature, bytes | bytearray):
            return Rejection(Reason.MALFORMED_SIGNATURE, f"signature must be bytes, got {type(signature).__name__}")
        if len(signature) != SIGNATURE_LEN:
            return Rejection(
                Reason.MALFORMED_SIGNATURE, f"signature must be {SIGNATURE_LEN} bytes, got {len(signature)}"
            )
        if signed is None:
            signed = self._verify(r, signature)
        if not signed:
            return Rejection(Reason.BAD_SIGNATURE, f"signature does not verify for device {r.device!r} seq {r.seq}")

        last = self._last.get(r.device)
        if last is not None and r.seq <= last.seq:
            return Rejection(Reason.REPLAY, f"seq {r.seq} <= last accepted seq {last.seq} of device {r.device!r}")
        now = self.clock() if now_ms is None else now_ms
        if r.ts_ms > now + self.max_future_ms:
            return Rejection(
                Reason.FUTURE_TIMESTAMP,
                f"ts {r.ts_ms} is {r.ts_ms - now} ms ahead of the oracle clock (max {self.max_future_ms} ms)",
            )
        if last is not None and r.ts_ms < last.ts_ms - self.reorder_tolerance_ms:
            return Rejection(
                Reason.OUT_OF_ORDER,
                f"ts {r.ts_ms} is {last.ts_ms - r.ts_ms} ms before the last accepted ts {last.ts_ms} "
                f"(tolerance {self.reorder_tolerance_ms} ms)",
            )
        if not MIN_TEMP_DC <= r.temp_dc <= MAX_TEMP_DC:
            return Rejection(
                Reason.IMPOSSIBLE_TEMPERATURE,
                f"temperature {r.temp_dc / 10} °C outside {MIN_TEMP_DC / 10}..{MAX_TEMP_DC / 10} °C",
            )
        if r.battery != NO_BATTERY and not 0 <= r.battery <= 100:
            return Rejection(Reason.BAD_BATTERY, f"battery {r.battery} outside 0..100 (255 = not reported)")
        if last is not None and last.temp_dc is not None:
            delta = abs(r.temp_dc - last.temp_dc)
            dt = abs(r.ts_ms - last.ts_ms)
            # |Δ| <= rate * dt / 60000 + slack, in integers: (|Δ| - slack) * 60000 <= rate * dt
            if (delta - self.rate_slack_dc) * MINUTE_MS > self.max_rate_dc_per_min * dt:
                return Rejection(
                    Reason.IMPOSSIBLE_RATE,
                    f"temperature moved {delta / 10} °C in {dt / 1000} s "
                    f"(max {self.max_rate_dc_per_min / 10} °C/min + {self.rate_slack_dc / 10} °C)",
                )
        return None


# --- wire format ----------------------------------------------------------------------------------------------------

_REQUIRED = ("device", "equipment", "seq", "ts", "temp_c", "sig")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_message(payload: bytes) -> tuple[Reading, bytes] | Rejection:
    """Parse the JSON wire format into (Reading, signature), or return a Rejection; never raises.

    {"device": str, "equipment": int, "seq": int, "ts": int (ms), "temp_c": number, "battery": int (optional),
     "door": bool (optional), "sig": base64 string}

    temp_c is converted with `reading.deci_celsius`. Fields that cannot be represented in the signed layout
    (equipment > uint32, seq/ts > uint64, temperature beyond int16 tenths, battery beyond 0..255) are rejected
    here; whether the values are plausible (battery 0..100, -90..+60 °C) is the validator's business."""
    try:
        return _parse(payload)
    except Exception as exc:  # defensive: _parse is meant to cover every case itself
        return Rejection(Reason.MALFORMED_JSON, f"cannot parse message: {exc!r}")


def _parse(payload: bytes) -> tuple[Reading, bytes] | Rejection:
    if not isinstance(payload, bytes | bytearray | memoryview):
        return Rejection(Reason.MALFORMED_JSON, f"payload must be bytes, got {type(payload).__name__}")
    try:
        msg = json.loads(bytes(payload))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return Rejection(Reason.MALFORMED_JSON, f"not JSON: {exc}")
    if not isinstance(msg, dict):
        return Rejection(Reason.MALFORMED_JSON, f"message must be a JSON object, got {type(msg).__name__}")
    return parse_fields(msg)


def parse_fields(msg: dict[str, Any]) -> tuple[Reading, bytes] | Rejection:
    """The wire fields (JSON-typed values) to (Reading, signature), or a Rejection; the one
    parser for MQTT, HTTP and CSV input alike."""
    missing = [f for f in _REQUIRED if f not in msg]
    if missing:
        return Rejection(Reason.MISSING_FIELD, f"missing field(s): {', '.join(missing)}")

    device, equipment, seq, ts, temp_c, sig = (msg[f] for f in _REQUIRED)
    battery = msg.get("battery", NO_BATTERY)
    door = msg.get("door", False)
    for name, value, ok in (
        ("device", device, isinstance(device, str)),
        ("equipment", equipment, _is_int(equipment)),
        ("seq", seq, _is_int(seq)),
        ("ts", ts, _is_int(ts)),
        ("temp_c", temp_c, isinstance(temp_c, int | float) and not isinstance(temp_c, bool)),
        ("battery", battery, _is_int(battery)),
        ("door", door, isinstance(door, bool)),
        ("sig", sig, isinstance(sig, str)),
    ):
        if not ok:
            return Rejection(Reason.WRONG_TYPE, f"field {name!r} has wrong type {type(value).__name__}")

    try:
        device_len = len(device.encode("utf-8"))
    except UnicodeEncodeError:
        return Rejection(Reason.WRONG_TYPE, "field 'device' is not valid UTF-8 text")
    if not 0 < device_len <= _MAX_DEVICE_BYTES:
        return Rejection(Reason.FIELD_OUT_OF_RANGE, f"device id must be 1..{_MAX_DEVICE_BYTES} bytes")
    if not 0 <= equipment <= _UINT32:
        return Rejection(Reason.FIELD_OUT_OF_RANGE, f"equipment {equipment} outside uint32")
    if not 0 <= seq <= _UINT64:
        return Rejection(Reason.FIELD_OUT_OF_RANGE, f"seq {seq} outside uint64")
    if not 0 <= ts <= _UINT64:
        return Rejection(Reason.FIELD_OUT_OF_RANGE, f"ts {ts} outside uint64")
    if not 0 <= battery <= 255:
        return Rejection(Reason.BAD_BATTERY, f"battery {battery} outside 0..100 (255 = not reported)")
    if (isinstance(temp_c, float) and not math.isfinite(temp_c)) or abs(temp_c) > 1e6:
        return Rejection(Reason.IMPOSSIBLE_TEMPERATURE, f"temperature {temp_c!r} °C is not a plausible number")
    temp_dc = deci_celsius(float(temp_c))
    if not _INT16_MIN <= temp_dc <= _INT16_MAX:
        return Rejection(Reason.IMPOSSIBLE_TEMPERATURE, f"temperature {temp_c!r} °C does not fit the signed layout")

    if not sig:
        return Rejection(Reason.MISSING_SIGNATURE, "field 'sig' is empty")
    try:
        signature = base64.b64decode(sig.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return Rejection(Reason.MALFORMED_SIGNATURE, "field 'sig' is not valid base64")

    return Reading(device, equipment, seq, ts, temp_dc, battery, door), signature


def message_fields(reading: Reading, signature: bytes) -> dict[str, Any]:
    """The wire fields of a signed reading (temp_c: n/10 has a one-decimal shortest repr)."""
    return {
        "device": reading.device,
        "equipment": reading.equipment,
        "seq": reading.seq,
        "ts": reading.ts_ms,
        "temp_c": reading.temp_dc / 10,
        "battery": reading.battery,
        "door": reading.door_open,
        "sig": base64.b64encode(signature).decode("ascii"),
    }


def encode_message(reading: Reading, signature: bytes) -> bytes:
    """The wire form of a signed reading, as a device (or a simulator) sends it."""
    return json.dumps(message_fields(reading, signature), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
