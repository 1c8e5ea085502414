"""Session-wide test setup.

pytest-brownie launches the local chain when contract tests are collected.
Brownie's port is always 8545, where an orphaned node from an earlier run
would silently serve this one; each session takes a free port of its own
instead, and Brownie stops the node it launched at the end. Brownie's
receipt polling is corrected as in scripts/run.py (scripts/brownie_fixes.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chain.dev import ANVIL_HISTORY, DEV_HARDFORK
from devnet.ports import free_port

ROOT = Path(__file__).resolve().parent.parent

# What the Makefile exports, for a developer running pytest directly.
os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solcx"))
if str(ROOT / "node_modules" / ".bin") not in os.environ["PATH"].split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        from brownie._config import CONFIG
    except ImportError:  # brownie plugin disabled (-p no:pytest-brownie)
        return
    from scripts.brownie_fixes import tolerate_receipt_lag

    tolerate_receipt_lag()
    development = CONFIG.networks.get("development")
    if development is not None:
        development["cmd_settings"]["port"] = free_port()
        development["cmd_settings"]["evm_version"] = DEV_HARDFORK
        if development.get("cmd", "").split(" ")[0] == "anvil":  # Brownie has no setting for it
            development["cmd"] = " ".join(("anvil", *ANVIL_HISTORY))
