"""The deployment manifest: what scripts/ writes and backend/ and oracle/ read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chain import manifest
from chain.manifest import ContractInfo, Manifest, ManifestError

ABI = [{"type": "function", "name": "facilityCount", "inputs": [], "outputs": [{"type": "uint32"}]}]


def sample() -> Manifest:
    return Manifest(
        chain_id=31337,
        contracts={
            "VaccineLedger": ContractInfo(address="0x" + "11" * 20, abi=ABI, block=7),
            "Appointments": ContractInfo(address="0x" + "22" * 20, abi=[], block=9),
        },
        roles={"regulator": ["0x" + "33" * 20]},
    )


def test_round_trip(tmp_path: Path) -> None:
    target = manifest.save(sample(), tmp_path / "m.json")
    assert manifest.load(target) == sample()


def test_start_block_is_the_earliest_deployment() -> None:
    assert sample().start_block == 7


def test_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(manifest.ENV_VAR, str(tmp_path / "env.json"))
    manifest.save(sample())
    assert (tmp_path / "env.json").exists()
    assert manifest.load().chain_id == 31337


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    manifest.save(sample(), tmp_path / "m.json")
    manifest.save(sample(), tmp_path / "m.json")
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_missing_manifest_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="make up"):
        manifest.load(tmp_path / "absent.json")


def test_corrupt_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        manifest.load(tmp_path / "m.json")


def test_other_schema_is_refused(tmp_path: Path) -> None:
    data = sample().to_json() | {"schema": 99}
    (tmp_path / "m.json").write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="redeploy"):
        manifest.load(tmp_path / "m.json")


def test_unknown_contract_names_the_known_ones() -> None:
    with pytest.raises(ManifestError, match="Appointments, VaccineLedger"):
        sample().contract("ColdChain")
