"""The static-analysis settings keep their promises (`make slither`: slither.config.json,
contracts/SECURITY.md).

- Every inline suppression in contracts/ has a reason on the line above it, and every detector
  suppressed or excluded is accounted for in contracts/SECURITY.md.
- The one detector excluded in the config, shadowing-local, is excluded for a reason that must
  stay true: each of its findings is a parameter or local named after a view function (`lot`,
  `equipment`, ...), which cannot be mistaken for it (calling a number does not compile). A local
  that shadows a state variable, an event or a function that writes is still a failure here.

Slither compiles the three deployed contracts itself, through the solcjs shim (.solcx/), so this
does not depend on Brownie's build."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
SECURITY = CONTRACTS / "SECURITY.md"
CONFIG = ROOT / "slither.config.json"
SOLC = ROOT / ".solcx" / "solc-v0.8.28"
DEPLOYED = ("VaccineLedger.sol", "Appointments.sol", "ColdChainLog.sol")
DISABLE = re.compile(r"^\s*//\s*slither-disable-(?:next-line|start|end)\s+([\w,-]+)")


def suppressions() -> list[tuple[Path, int, list[str], str]]:
    """(file, line number, detectors, the line above) for every slither-disable comment."""
    found = []
    for path in sorted(CONTRACTS.rglob("*.sol")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            match = DISABLE.match(line)
            if match:
                found.append((path, i + 1, match.group(1).split(","), lines[i - 1] if i else ""))
    return found


def test_every_suppression_says_why() -> None:
    found = suppressions()
    assert found, "no suppression found: is the pattern still right?"
    for path, line, _detectors, above in found:
        reason = above.strip().removeprefix("//").strip()
        where = f"{path.relative_to(ROOT)}:{line}"
        assert above.strip().startswith("//") and reason and not DISABLE.match(above), f"{where}: no reason above"


def test_every_suppressed_or_excluded_detector_is_in_security_md() -> None:
    documented = SECURITY.read_text()
    detectors = {d for _p, _l, ds, _a in suppressions() for d in ds}
    excluded = json.loads(CONFIG.read_text()).get("detectors_to_exclude", "")
    detectors |= {d.strip() for d in excluded.split(",") if d.strip()}
    missing = sorted(d for d in detectors if f"`{d}`" not in documented)
    assert not missing, f"contracts/SECURITY.md does not account for {missing}"


@pytest.fixture(scope="module")
def analysis(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Slither over the three deployed contracts, compiled together in one run of the shim (the
    imports resolve from the working directory, the repository root, as the shim's do)."""
    from slither import Slither

    entry = tmp_path_factory.mktemp("slither") / "Deployed.sol"
    imports = "".join(f'import "contracts/{name}";\n' for name in DEPLOYED)
    entry.write_text(f"// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.28;\n{imports}")
    return Slither(
        str(entry),
        solc=str(SOLC),
        solc_remaps="@openzeppelin=node_modules/@openzeppelin",
        compile_force_framework="solc",
    )


def test_shadowing_local_finds_only_names_of_view_functions(analysis: Any) -> None:
    from slither.detectors.shadowing.local import LocalShadowing

    views = {(c.name, f.name) for c in analysis.contracts for f in c.functions if f.view or f.pure}
    analysis.register_detector(LocalShadowing)
    wrong, seen = [], 0
    for result in (r for rs in analysis.run_detectors() for r in rs):
        if "node_modules" in result["elements"][0]["source_mapping"]["filename_relative"]:
            continue
        seen += 1
        for shadowed in result["elements"][1:]:
            parent = shadowed.get("type_specific_fields", {}).get("parent", {}).get("name")
            if shadowed["type"] != "function" or (parent, shadowed["name"]) not in views:
                wrong.append(result["description"].splitlines()[0])
    assert seen, "the detector found nothing: the reason for excluding it is gone, so drop the exclusion"
    assert not wrong, "locals shadowing more than a view function:\n" + "\n".join(wrong)
