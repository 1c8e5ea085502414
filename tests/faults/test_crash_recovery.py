"""kill -9 at random points under load, bounded: the oracle and the backend on automine, and all three
(chain node included) on interval mining with two confirmations. `make bench-faults` runs the same with
many more crash points (tests/faults/harness.py says what is counted)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oracle.broker import Broker, running_broker
from tests.faults.harness import FaultRun


@pytest.fixture
def broker() -> Iterator[Broker]:
    with running_broker() as b:
        yield b


@pytest.mark.parametrize(("interval", "crashes"), [(False, 4), (True, 4)], ids=["automine", "interval"])
def test_nothing_lost_nothing_twice_nothing_claimed(
    tmp_path: Path, broker: Broker, interval: bool, crashes: int
) -> None:
    run = FaultRun(tmp_path, broker, interval=interval, seed=7 + crashes)
    try:
        outcome = run.run(crashes)
    finally:
        run.close()
    print(outcome.as_dict())
    assert outcome.crash_points_tried == crashes
    assert outcome.readings_published > 0 and outcome.doses_acknowledged > 0
    assert outcome.readings_lost == 0
    assert outcome.duplicate_posts == 0
    assert outcome.acknowledged_but_missing == 0
    assert outcome.orphan_rows == 0, outcome.view_differences
    assert run.errors == []
