"""Simulated time, and the chain's clock following it.

The simulated period is `days` whole days in China time, preceded by one warm-up day (the district stocked, not
measured), and it lies in the past: the oracle refuses readings from its own future (it judges by the wall
clock), so a replayed reading must be older than now. Each simulated hour the chain's clock is set to the hour's
start (Anvil's evm_setTime, never backwards); within the hour it runs at wall speed, so each transaction of the
hour carries a timestamp a few seconds into it. Expiry dates, slot times, shipment times and reading timestamps
therefore all live on the simulated calendar."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from web3 import Web3

from chain.client import rpc

CHINA = timezone(timedelta(hours=8))
HOUR = 3_600
DAY = 86_400
WARMUP = -1
"""The warm-up day's number: days count from the first measured day, 0."""


def default_start(days: int, today: date | None = None) -> date:
    """The first measured day when none is given: the period and its warm-up day end before today (China)."""
    today = today or datetime.now(CHINA).date()
    return today - timedelta(days=days + 1)


@dataclass(frozen=True)
class Period:
    start: date
    days: int

    def at(self, day: int, hour: int = 0) -> int:
        """Unix seconds of `hour`:00 China time on `day` (WARMUP for the warm-up day)."""
        midnight = datetime.combine(self.start, time(0), CHINA) + timedelta(days=day)
        return int(midnight.timestamp()) + hour * HOUR

    def hours(self) -> Iterator[tuple[int, int]]:
        """(day, hour) of every simulated hour, warm-up first."""
        for day in range(WARMUP, self.days):
            for hour in range(24):
                yield day, hour

    @property
    def total_hours(self) -> int:
        return (self.days + 1) * 24

    def check_in_past(self, now: datetime | None = None) -> None:
        end = datetime.fromtimestamp(self.at(self.days), UTC)
        if end > (now or datetime.now(UTC)):
            raise ValueError(
                f"the simulated period must end before now (the oracle refuses readings from its future): it ends "
                f"{end.isoformat()}; choose an earlier --start"
            )


class ChainClock:
    """Moves the chain's clock (Anvil) forward to simulated time."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.late_hours = 0
        """Hours whose start the chain had already passed (the previous hour took longer than an hour of wall
        time): their transactions carry later timestamps than simulated."""

    def latest(self) -> int:
        return int(rpc(self.w3, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def jump(self, to: int) -> None:
        """The chain's clock to `to`, with an empty block there: from now on the latest block's timestamp is
        the simulated time (the contracts' and the backend's "now"), and each simulated hour starts a new block
        range."""
        if self.latest() >= to:
            self.late_hours += 1
            return
        rpc(self.w3, "evm_setTime", to)
        rpc(self.w3, "evm_mine")
