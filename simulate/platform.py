"""The platform under simulation, as real processes on loopback, each on a port of its own and stopped at the
end: a fresh Anvil whose clock starts on the warm-up day, the three contracts, mosquitto, the oracle daemon
(`python -m oracle run`), the backend (`python -m backend serve` over a fresh SQLite file or a throwaway
PostgreSQL). Built as tests/faults/harness.py builds them, from the same helpers (devnet.backend_proc). The
oracle starts last (its device registry names the district's equipment, made through the backend), on a port
chosen first so the backend knows where to ask for trip records."""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text

from chain.client import connect
from chain.dev import ORACLE_INDEX, dev_account
from chain.manifest import Manifest
from devnet.backend_proc import BackendProcess
from devnet.ports import free_port
from oracle import broker as mqtt
from tests.backend.platform import deploy_platform
from tests.chain.nodes import AnvilNode
from tests.oracle.daemon_proc import OracleProcess

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "simulate-pass-1"
PLATFORM_LOGINS = (("admin", "admin"), ("regulator", "regulator"))
TOKEN_TTL_S = 86_400
"""Access tokens live a day: the default 15 minutes is wall time, which a replay compresses; clients would
refresh at a rate that says nothing about the district."""


class Platform:
    """Everything started, in order; `close` stops it all in reverse order, whatever failed."""

    def __init__(self, workdir: Path, *, genesis: int, database: str, workers: int) -> None:
        self.workdir = workdir
        self.stack = contextlib.ExitStack()
        self.oracle_token = secrets.token_urlsafe(24)
        try:
            # Anvil's clock starts at the warm-up day; simulate/clock.py moves it hour by hour from there.
            self.node = AnvilNode("--timestamp", str(genesis))
            self.node.start()
            self.stack.callback(self.node.stop)
            self.w3 = connect(self.node.url)
            self.manifest: Manifest = deploy_platform(self.node.url, workdir / "manifest.json")
            self.broker = mqtt.start_broker(workdir / "mqtt")
            self.stack.callback(self.broker.stop)
            self.oracle_port = free_port()
            self.database_url = self._database(database)
            self.backend = BackendProcess(
                workdir,
                self.node.url,
                label="sim",
                database_url=self.database_url,
                oracle_url=f"http://127.0.0.1:{self.oracle_port}",
                oracle_api_token=self.oracle_token,
                workers=str(workers),
                lock_dir=str(workdir / "locks"),
                access_token_ttl_s=str(TOKEN_TTL_S),
            )
            for role, login in PLATFORM_LOGINS:
                self.backend.create_user(role, login, PASSWORD)
            self.stack.callback(self.backend.stop)
            self.backend.start()
            self.oracle: OracleProcess | None = None
        except BaseException:
            self.stack.close()
            raise

    def _database(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.workdir / 'backend.db'}"
        from devnet.postgres import running_postgres

        return self.stack.enter_context(running_postgres())

    def start_oracle(self, devices: Path) -> OracleProcess:
        """The oracle daemon, once the device registry names every piece of equipment."""
        env = {
            "VAXLEDGER_ORACLE_RPC_URL": self.node.url,
            "VAXLEDGER_ORACLE_MANIFEST": str(self.workdir / "manifest.json"),
            "VAXLEDGER_ORACLE_KEY": bytes(dev_account(ORACLE_INDEX).key).hex(),
            "VAXLEDGER_ORACLE_MQTT_PORT": str(self.broker.port),
            "VAXLEDGER_ORACLE_MQTT_CLIENT_ID": f"oracle-{self.workdir.name}",
            "VAXLEDGER_ORACLE_DEVICES": str(devices),
            "VAXLEDGER_ORACLE_API_TOKEN": self.oracle_token,
            # A fridge's hour is 12 readings at 5 min: cut a batch at 12, as an hourly window would hold it. The
            # daemon's own schedule runs on wall time; every 10 min it also cuts what is left (a dead sensor's).
            "VAXLEDGER_ORACLE_ANCHOR_MAX_READINGS": "12",
            "VAXLEDGER_ORACLE_ANCHOR_EVERY_S": "600",
            "VAXLEDGER_ORACLE_TICK_S": "1",
        }
        oracle = OracleProcess(self.workdir, env | {"VAXLEDGER_ORACLE_HTTP_PORT": str(self.oracle_port)})
        oracle.http_port, oracle.url = self.oracle_port, f"http://127.0.0.1:{self.oracle_port}"
        oracle.start(timeout=60)
        self.stack.callback(oracle.stop)
        self.oracle = oracle
        return oracle

    def pids(self) -> dict[str, int]:
        found = {
            "anvil": self.node.process.pid,
            "backend": self.backend.process.pid,
            "mosquitto": self.broker.process.pid,
        }
        if self.oracle is not None and self.oracle.process is not None:
            found["oracle"] = self.oracle.process.pid
        return found

    def database_bytes(self) -> int:
        """The database's size on disk: the SQLite file with its write-ahead log, or pg_database_size."""
        if self.database_url.startswith("sqlite"):
            path = Path(self.database_url.removeprefix("sqlite:///"))
            return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as c:
                return int(c.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
        finally:
            engine.dispose()

    def database_tables(self) -> dict[str, int]:
        """Bytes per table, its indexes included: SQLite's dbstat (pages in use, the WAL's included, free pages
        not), or PostgreSQL's pg_total_relation_size."""
        if self.database_url.startswith("sqlite"):
            path = self.database_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                rows = db.execute(
                    "SELECT s.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name "
                    "GROUP BY s.tbl_name"
                ).fetchall()
            return {name: int(size) for name, size in rows}
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as c:
                rows = c.execute(text("SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables")).all()
            return {name: int(size) for name, size in rows}
        finally:
            engine.dispose()

    def close(self) -> None:
        self.stack.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and every descendant alive now (Linux /proc); 0 once it is gone."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                ppid = int(_stat(int(entry.name))[1])
                children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(current)
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        todo += children.get(current, [])
    return total


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): fields from `state` on."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
