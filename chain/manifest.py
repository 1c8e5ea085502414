"""The deployment manifest: which chain, which contracts at which addresses,
with which ABIs. scripts/deploy.py writes it; every other part reads it."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("var/manifest.json")
ENV_VAR = "VAXLEDGER_MANIFEST"
SCHEMA_VERSION = 1


class ManifestError(Exception):
    """The manifest is missing, unreadable or lacks a contract asked for."""


@dataclass(frozen=True)
class ContractInfo:
    address: str
    abi: list[dict[str, Any]]
    block: int


@dataclass(frozen=True)
class Manifest:
    chain_id: int
    contracts: dict[str, ContractInfo]
    roles: dict[str, list[str]] = field(default_factory=dict)

    def contract(self, name: str) -> ContractInfo:
        try:
            return self.contracts[name]
        except KeyError:
            known = ", ".join(sorted(self.contracts)) or "none"
            raise ManifestError(f"contract {name!r} is not in the manifest (it has: {known})") from None

    @property
    def start_block(self) -> int:
        """The first block an indexer needs to read."""
        return min((c.block for c in self.contracts.values()), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "chain_id": self.chain_id,
            "contracts": {
                name: {"address": c.address, "block": c.block, "abi": c.abi} for name, c in self.contracts.items()
            },
            "roles": self.roles,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        if data.get("schema") != SCHEMA_VERSION:
            raise ManifestError(f"manifest schema {data.get('schema')!r} is not {SCHEMA_VERSION}: redeploy")
        contracts = {
            name: ContractInfo(address=c["address"], abi=c["abi"], block=int(c["block"]))
            for name, c in data["contracts"].items()
        }
        return cls(chain_id=int(data["chain_id"]), contracts=contracts, roles=data.get("roles", {}))


def manifest_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The manifest's path: the argument, else $VAXLEDGER_MANIFEST, else var/manifest.json."""
    return Path(path or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(path: str | os.PathLike[str] | None = None) -> Manifest:
    target = manifest_path(path)
    try:
        data = json.loads(target.read_text())
    except FileNotFoundError:
        raise ManifestError(f"no deployment manifest at {target}: run `make up` or scripts/deploy.py first") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest {target} is not valid JSON: {exc}") from None
    return Manifest.from_json(data)


def save(manifest: Manifest, path: str | os.PathLike[str] | None = None) -> Path:
    """Writes atomically, so a reader never sees half a manifest."""
    target = manifest_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".manifest-")
    with os.fdopen(fd, "w") as fh:
        json.dump(manifest.to_json(), fh, indent=1)
    os.replace(tmp, target)
    return target
