"""The solcjs-backed `solc` that py-solc-x, Brownie and Slither call as if it were native."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOLC = ROOT / ".solcx" / "solc-v0.8.28"

LIB = (
    "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n"
    "library Twice { function times(uint x) internal pure returns (uint) { return 2 * x; } }\n"
)
MAIN = (
    '// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\nimport {Twice} from "lib/Twice.sol";\n'
    "contract Main { function run(uint x) external pure returns (uint) { return Twice.times(x); } }\n"
)


def solc(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SOLC), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture()
def sources(tmp_path: Path) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "Twice.sol").write_text(LIB)
    (tmp_path / "Main.sol").write_text(MAIN)
    return tmp_path


def test_version_reads_like_the_native_compiler() -> None:
    out = solc("--version")
    assert out.returncode == 0
    assert out.stdout.splitlines()[-1] == "Version: 0.8.28+commit.7893614a.Linux.g++"


def test_standard_json_resolves_imports_from_allowed_paths(sources: Path) -> None:
    request = {
        "language": "Solidity",
        "sources": {"Main.sol": {"content": MAIN}},
        "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}},
    }
    out = solc("--standard-json", "--allow-paths", str(sources), stdin=json.dumps(request))
    result = json.loads(out.stdout)
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"], result.get("errors")
    assert result["contracts"]["Main.sol"]["Main"]["evm"]["bytecode"]["object"]
    assert "lib/Twice.sol" in result["sources"]


def test_standard_json_reports_a_missing_import(tmp_path: Path) -> None:
    request = {"language": "Solidity", "sources": {"Main.sol": {"content": MAIN}}, "settings": {}}
    result = json.loads(solc("--standard-json", stdin=json.dumps(request), cwd=tmp_path).stdout)
    assert any("lib/Twice.sol" in e["message"] for e in result["errors"])


def test_combined_json_for_slither(sources: Path) -> None:
    out = solc("--combined-json", "abi,bin,bin-runtime,srcmap,ast", "Main.sol", cwd=sources)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    main = result["contracts"]["Main.sol:Main"]
    assert main["abi"][0]["name"] == "run"
    assert main["bin"] and main["bin-runtime"]
    assert result["sources"]["Main.sol"]["AST"]["nodeType"] == "SourceUnit"
    assert result["version"].startswith("0.8.28")


def test_combined_json_as_slither_sends_it_with_a_remapping(sources: Path) -> None:
    """Slither's single-file mode (`slither contracts/X.sol`, slither.config.json's solc_remaps and
    solc_args): the remapping comes first as a bare argument, then the file, the fields, the
    compiler settings and crytic-compile's own --allow-paths."""
    (sources / "Remapped.sol").write_text(MAIN.replace('"lib/Twice.sol"', '"@twice/Twice.sol"'))
    fields = "abi,ast,bin,bin-runtime,srcmap,srcmap-runtime,userdoc,devdoc,hashes"
    out = solc(
        "@twice=lib",
        "Remapped.sol",
        "--combined-json",
        fields,
        "--evm-version",
        "shanghai",
        "--optimize",
        "--optimize-runs",
        "200",
        "--allow-paths",
        f".,{sources}",
        cwd=sources,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result["contracts"]) == {"Remapped.sol:Main", "lib/Twice.sol:Twice"}
    assert result["contracts"]["Remapped.sol:Main"]["hashes"] == {"run(uint256)": "a444f5e9"}
    assert result["sourceList"] == ["Remapped.sol", "lib/Twice.sol"]


def test_unknown_option_is_refused() -> None:
    out = solc("--gas")
    assert out.returncode != 0
    assert "unsupported option --gas" in out.stderr
