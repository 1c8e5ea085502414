"""One running backend (with its own chain and fake oracle) for all API tests of a session. Tests make
their own lots, persons and bookings, so they do not depend on each other's order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backend.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("backend")) as s:
        yield s
