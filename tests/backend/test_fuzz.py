"""API fuzzing: schemathesis, from its own venv, against the OpenAPI schema of a running backend (real
uvicorn on loopback), once as every role and once signed out. No answer may be a 5xx, and every 4xx must
carry a reason (tests/backend/fuzz_hooks.py). Bounded: a few examples per operation and role
(VAXLEDGER_FUZZ_EXAMPLES raises it for a deeper run)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.live import live_stack
from tests.backend.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
FUZZER = ROOT / ".venv-fuzz" / "bin" / "schemathesis"
EXAMPLES = int(os.environ.get("VAXLEDGER_FUZZ_EXAMPLES", "4"))
ROLES = ["anonymous", "citizen", "clinic", "warehouse", "cdc", "manufacturer", "regulator", "school", "admin"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str, dict[str, str]]]:
    with live_stack(tmp_path_factory.mktemp("fuzz")) as (stack, url):
        stack.stocked_lot()
        citizen, _ = stack.citizen(children=1)
        logins = {
            "clinic": "nurse",
            "warehouse": "warehouse",
            "cdc": "cdc",
            "manufacturer": "maker",
            "regulator": "regulator",
            "admin": "admin",
        }
        tokens = {role: stack.staff[login].headers["Authorization"] for role, login in logins.items()}
        tokens["citizen"] = citizen.headers["Authorization"]
        tokens["school"] = stack.login("school").headers["Authorization"]
        yield stack, url, tokens


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_and_every_refusal_has_a_reason(
    server: tuple[Stack, str, dict[str, str]], role: str, tmp_path: Path
) -> None:
    assert FUZZER.exists(), "make setup builds .venv-fuzz from requirements/fuzz.txt"
    _, url, tokens = server
    args = [
        str(FUZZER),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error,error_has_reason",
        "--max-examples",
        str(EXAMPLES),
        "--exclude-path",
        "/v1/auth/logout",  # would end the session the rest of the run needs
        "--workers",
        "2",
        "--no-color",
        "--seed",
        "20261130",
    ]
    if role in tokens:
        args += ["-H", f"Authorization: {tokens[role]}"]
    env = os.environ | {"SCHEMATHESIS_HOOKS": "tests.backend.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    # its own folder: schemathesis leaves a .schemathesis/ cache where it runs
    run = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = run.stdout[run.stdout.find("FAILURES") :] if "FAILURES" in run.stdout else run.stdout[-1500:]
    assert run.returncode == 0, f"as {role}:\n{report[:8000]}\n{run.stderr[-2000:]}"
