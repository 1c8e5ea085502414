"""Session-wide test setup.

pytest-brownie launches the local chain when contract tests are collected.
Brownie's port is always 8545, where an orphaned node from an earlier run
would silently serve this one; each session takes a free port of its own
instead, and Brownie stops the node it launched at the end."""

from __future__ import annotations

import pytest

from scripts.run import free_port


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        from brownie._config import CONFIG
    except ImportError:  # brownie plugin disabled (-p no:pytest-brownie)
        return
    development = CONFIG.networks.get("development")
    if development is not None:
        development["cmd_settings"]["port"] = free_port()
