"""Fixtures for the oracle tests that need a chain or a broker: each test module gets its own
Anvil and its own mosquitto on free ports, stopped when the module ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oracle.broker import Broker, running_broker
from tests.chain.nodes import AnvilNode


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    with AnvilNode() as anvil:
        yield anvil


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    with running_broker() as b:
        yield b
