"""Run a real Mosquitto broker for the platform and the tests.

The embedded broker listens on 127.0.0.1 only and allows anonymous clients:
it is for development, demos and tests on one machine. Production runs the
broker with TLS and per-device credentials (username/password or client
certificates plus an ACL limiting each device to its own topics); a later
change adds that configuration. Readings are signed by the devices
(oracle.identity) either way, so the broker is never trusted with their content.

    with running_broker() as broker:
        client.connect(broker.host, broker.port)
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devnet.ports import HOST, accepts, free_port, port_is_free

INSTALL_HINT = "install Debian's broker with `apt-get install mosquitto` (the project's setup does this)"


class BrokerError(RuntimeError):
    """The broker could not be found, started or stopped."""


def find_mosquitto() -> str:
    """The mosquitto executable: on PATH, else Debian's /usr/sbin/mosquitto (not on a normal user's PATH)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BrokerError(f"mosquitto not found on PATH or in /usr/sbin; {INSTALL_HINT}")
    return found


def write_config(
    path: Path, port: int, *, persistence_dir: Path | None = None, extra: Sequence[str] = (), host: str = HOST
) -> Path:
    """Write a mosquitto.conf: one listener on host:port, anonymous access (embedded default only),
    persistence off or into `persistence_dir`, log to stderr; `extra` lines are appended verbatim."""
    lines = [
        "# Written by oracle.broker: embedded development/test broker.",
        "# Production uses TLS listeners and per-device credentials instead of allow_anonymous.",
        f"listener {port} {host}",
        "allow_anonymous true",
        # Without a limit a slow subscriber could lose QoS 1 readings (the default is 1000 queued).
        "max_queued_messages 0",
        # The oracle acknowledges a batch of readings after one COMMIT; mosquitto's default of 20
        # unacknowledged messages per client would cap each batch at 20.
        "max_inflight_messages 1000",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "log_timestamp true",
    ]
    if persistence_dir is None:
        lines.append("persistence false")
    else:
        persistence_dir.mkdir(parents=True, exist_ok=True)
        lines += ["persistence true", f"persistence_location {persistence_dir.resolve()}/"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # As root mosquitto would switch to user "mosquitto", which cannot write our workdir.
        lines.append(f"user {getpass.getuser()}")
    lines += list(extra)
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Broker:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    config_path: Path
    log_path: Path
    _log: object = field(repr=False, default=None)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the broker, kill it if it does not exit within `timeout` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()  # type: ignore[attr-defined]
            self._log = None


def start_broker(
    workdir: Path,
    port: int | None = None,
    *,
    persistence_dir: Path | None = None,
    extra_config: Sequence[str] = (),
    timeout: float = 10.0,
    host: str = HOST,
) -> Broker:
    """Start mosquitto with a config in `workdir` and return once its port accepts connections.
    Raises BrokerError, with the tail of the broker's log, if it exits or does not listen in time."""
    executable = find_mosquitto()
    port = free_port(host) if port is None else port
    # Checked first: with the port taken by someone else, a connect test would succeed against them.
    if not port_is_free(port, host):
        raise BrokerError(f"cannot start mosquitto: {host}:{port} is already in use")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = write_config(
        workdir / "mosquitto.conf", port, persistence_dir=persistence_dir, extra=extra_config, host=host
    )
    log_path = workdir / "mosquitto.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [executable, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    broker = Broker(host, port, process, config, log_path, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            broker.stop()
            raise BrokerError(
                f"mosquitto exited with code {process.returncode} before listening on {host}:{port}; "
                f"log ({log_path}):\n{broker.log_tail()}"
            )
        if accepts(port, host):
            return broker
        if time.monotonic() > deadline:
            broker.stop()
            raise BrokerError(
                f"mosquitto did not listen on {host}:{port} within {timeout:g} s; "
                f"log ({log_path}):\n{broker.log_tail()}"
            )
        time.sleep(0.05)


@contextlib.contextmanager
def running_broker(
    port: int | None = None,
    workdir: Path | str | None = None,
    *,
    persistence_dir: Path | None = None,
    extra_config: Sequence[str] = (),
    timeout: float = 10.0,
) -> Iterator[Broker]:
    """A running broker on 127.0.0.1 (`port`, or a free one) for the body of the `with`; stopped after.
    Config and log go to `workdir` (a temporary directory, removed after, when not given)."""
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="mosquitto-"))
        broker = start_broker(
            Path(workdir), port, persistence_dir=persistence_dir, extra_config=extra_config, timeout=timeout
        )
        stack.callback(broker.stop)
        yield broker
