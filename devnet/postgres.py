"""A throwaway PostgreSQL server from Debian's package, on a free loopback port, for tests and benchmarks
that must run against the production database.

PostgreSQL refuses to run as root; as root, the cluster is made and run as the `postgres` user the Debian
package creates."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devnet.ports import HOST, free_port

DATABASE = "vaxledger"


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl, newest version first; None when PostgreSQL is not installed."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextmanager
def running_postgres() -> Iterator[str]:
    """Starts a fresh cluster and yields a SQLAlchemy URL to an empty database; removes it all after."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql): run tools/setup-system.sh")
    root = Path(tempfile.mkdtemp(prefix="vaxledger-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    try:
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", "vaxledger", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-h {HOST} -p {port} -k {sockets} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
            ),
            check=True,
            capture_output=True,
        )
        _create_database(bin_dir, port)
        yield f"postgresql+psycopg://vaxledger@{HOST}:{port}/{DATABASE}"
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _create_database(bin_dir: Path, port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        done = subprocess.run(
            [str(bin_dir / "createdb"), "-h", HOST, "-p", str(port), "-U", "vaxledger", DATABASE], capture_output=True
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"createdb failed: {done.stderr.decode().strip()}")
        time.sleep(0.2)
