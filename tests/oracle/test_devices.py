"""The device registry: what it accepts, what it refuses and why, and its file round trip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oracle import devices
from oracle.devices import DeviceEntry, Registry, RegistryError

KEY = "11" * 32


def test_a_registry_round_trips_through_its_file(tmp_path: Path) -> None:
    reg = Registry([DeviceEntry("v-1", 9, "vehicle", KEY, 2, "type1"), DeviceEntry("f-1", 3, "fridge", KEY, 4)])
    path = devices.save(reg, tmp_path / "d" / "devices.json")
    again = devices.load(path)
    assert again.devices == reg.devices
    assert again.equipment[9].transport == "type1" and again.equipment[3].kind == "fridge"
    assert [d["device"] for d in json.loads(path.read_text())["devices"]] == ["f-1", "v-1"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (DeviceEntry("", 1, "fridge", KEY), "non-empty"),
        (DeviceEntry("a", 0, "fridge", KEY), "equipment"),
        (DeviceEntry("a", 1, "toaster", KEY), "kind"),
        (DeviceEntry("a", 1, "vehicle", KEY), "transport"),
        (DeviceEntry("a", 1, "fridge", KEY, transport="type1"), "only vehicles"),
        (DeviceEntry("a", 1, "fridge", "zz"), "not hex"),
        (DeviceEntry("a", 1, "fridge", "11" * 31), "32 bytes"),
    ],
)
def test_bad_entries_are_refused_with_a_reason(entry: DeviceEntry, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        Registry([entry])


def test_two_devices_must_agree_on_their_equipment(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="another device"):
        Registry([DeviceEntry("a", 1, "fridge", KEY), DeviceEntry("b", 1, "freezer", KEY)])
    with pytest.raises(RegistryError, match="twice"):
        Registry([DeviceEntry("a", 1, "fridge", KEY), DeviceEntry("a", 2, "fridge", KEY)])


def test_a_missing_or_broken_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="provision"):
        devices.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(RegistryError, match="not JSON"):
        devices.load(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text('{"format": 0, "devices": []}')
    with pytest.raises(RegistryError, match="format"):
        devices.load(tmp_path / "old.json")


def test_the_daemon_refuses_to_start_without_a_registry_and_says_why(tmp_path: Path) -> None:
    env = os.environ | {
        "VAXLEDGER_ORACLE_DEVICES": str(tmp_path / "devices.json"),
        "VAXLEDGER_ORACLE_STORE": str(tmp_path / "oracle.db"),
    }
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-m", "oracle", "run"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and "provision devices first" in run.stderr and "Traceback" not in run.stderr
