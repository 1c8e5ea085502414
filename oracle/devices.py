"""The device registry: which sensor may speak for which equipment, with which key.

A JSON file the district maintains (devices.json). Each entry binds a device id
to its Ed25519 public key and to one piece of equipment, and says what kind of
equipment that is (and a vehicle's WHO shipping-indicator type), so the rules
can judge readings without asking the chain. The daemon checks the kinds
against the ledger at start and re-reads the file when it changes (a sensor
replaced, a key rotated).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from oracle.rules import STORAGE_KINDS, TRANSPORT_TYPES, VEHICLE
from oracle.validate import Device

FORMAT = 1
KINDS = (*STORAGE_KINDS, VEHICLE)
DEFAULT_TRANSPORT = "type2"
"""Type 2 (OPV, BCG, measles/MMR, ...) is the stricter indicator: a vehicle of unknown load is judged by it."""


class RegistryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    device: str
    equipment: int
    kind: str
    public_key: str
    """Hex, 32 bytes (Ed25519 raw)."""
    facility: int | None = None
    transport: str | None = None
    """Vehicles only: "type1" or "type2"."""

    def key_bytes(self) -> bytes:
        return bytes.fromhex(self.public_key.removeprefix("0x"))

    def as_device(self) -> Device:
        return Device(self.key_bytes(), self.equipment)


@dataclass(frozen=True, slots=True)
class EquipmentProfile:
    kind: str
    transport: str | None
    facility: int | None


class Registry:
    def __init__(self, entries: Iterable[DeviceEntry] = ()) -> None:
        self.devices: dict[str, DeviceEntry] = {}
        self.equipment: dict[int, EquipmentProfile] = {}
        for e in entries:
            self.add(e)

    def add(self, e: DeviceEntry) -> None:
        _check(e)
        if e.device in self.devices:
            raise RegistryError(f"device {e.device!r} is registered twice")
        profile = EquipmentProfile(e.kind, e.transport if e.kind == VEHICLE else None, e.facility)
        known = self.equipment.get(e.equipment)
        if known is not None and known != profile:
            raise RegistryError(
                f"device {e.device!r} describes equipment {e.equipment} as {profile}, another device as {known}"
            )
        self.devices[e.device] = e
        self.equipment[e.equipment] = profile

    def validator_devices(self) -> dict[str, Device]:
        return {name: e.as_device() for name, e in self.devices.items()}

    def to_json(self) -> dict[str, object]:
        return {"format": FORMAT, "devices": [_entry_json(e) for e in sorted(self.devices.values(), key=_order)]}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Registry:
        if data.get("format") != FORMAT:
            raise RegistryError(f"device registry format {data.get('format')!r} is not {FORMAT}")
        raw = data.get("devices")
        if not isinstance(raw, list):
            raise RegistryError("device registry: 'devices' must be a list")
        entries = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise RegistryError(f"device registry entry {i} is not an object")
            try:
                entries.append(DeviceEntry(**item))
            except TypeError as exc:
                raise RegistryError(f"device registry entry {i}: {exc}") from None
        return cls(entries)


def _order(e: DeviceEntry) -> tuple[int, str]:
    return (e.equipment, e.device)


def _entry_json(e: DeviceEntry) -> dict[str, object]:
    return {k: v for k, v in asdict(e).items() if v is not None}


def _check(e: DeviceEntry) -> None:
    where = f"device {e.device!r}"
    if not isinstance(e.device, str) or not e.device:
        raise RegistryError("a device needs a non-empty id")
    if not isinstance(e.equipment, int) or isinstance(e.equipment, bool) or not 0 < e.equipment < 2**32:
        raise RegistryError(f"{where}: equipment must be a ledger equipment id (1..2^32-1)")
    if e.kind not in KINDS:
        raise RegistryError(f"{where}: kind {e.kind!r} is not one of {', '.join(KINDS)}")
    if e.kind == VEHICLE and e.transport not in TRANSPORT_TYPES:
        raise RegistryError(f"{where}: a vehicle needs transport {' or '.join(TRANSPORT_TYPES)}")
    if e.kind != VEHICLE and e.transport is not None:
        raise RegistryError(f"{where}: only vehicles have a transport type")
    try:
        key = e.key_bytes()
    except (ValueError, AttributeError):
        raise RegistryError(f"{where}: public_key is not hex") from None
    if len(key) != 32:
        raise RegistryError(f"{where}: public_key must be 32 bytes (Ed25519), got {len(key)}")


def load(path: str | os.PathLike[str]) -> Registry:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RegistryError(f"no device registry at {path}: provision devices first") from None
    except ValueError as exc:
        raise RegistryError(f"device registry {path} is not JSON: {exc}") from None
    return Registry.from_json(data)


def save(registry: Registry, path: str | os.PathLike[str]) -> Path:
    """Atomically: the daemon may re-read the file at any moment."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".devices-")
    with os.fdopen(fd, "w") as f:
        json.dump(registry.to_json(), f, indent=1)
        f.write("\n")
    os.replace(tmp, target)
    return target
