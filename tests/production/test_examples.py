"""docs/examples: the production env files are settings the backend and the oracle accept, with placeholders
where secrets go; the PostgreSQL set-up, migration and backup that docs/production.md gives work on a real
server (Debian's package, started for this module)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from backend.core.config import BackendSettings
from devnet.postgres import binaries, running_postgres
from oracle.config import OracleSettings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"


def entries(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def is_placeholder(value: str) -> bool:
    return value.startswith("<") and value.endswith(">")


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in os.environ:
        if name.startswith(("VAXLEDGER_BACKEND_", "VAXLEDGER_ORACLE_")):
            monkeypatch.delenv(name)


def test_the_backend_example_is_a_production_setting_with_no_secret_in_it() -> None:
    path = EXAMPLES / "backend.env"
    settings = BackendSettings(_env_file=path)  # type: ignore[call-arg]  # an unknown name would be refused
    assert settings.database_url.startswith("postgresql+psycopg://") and not settings.is_sqlite
    assert settings.rpc_url == "http://127.0.0.1:8545" and settings.confirmations == 0
    assert settings.workers > 1 and settings.manifest is not None
    values = entries(path)
    for name in ("ADMIN_KEY", "REGULATOR_KEY", "ORACLE_API_TOKEN"):
        assert is_placeholder(values[f"VAXLEDGER_BACKEND_{name}"]), name
    assert all(is_placeholder(part) for part in values["VAXLEDGER_BACKEND_MASTER_KEYS"].split(":"))
    assert is_placeholder(make_url(settings.database_url).password or "")


def test_the_oracle_example_is_a_production_setting_with_no_secret_in_it() -> None:
    path = EXAMPLES / "oracle.env"
    settings = OracleSettings(_env_file=path)  # type: ignore[call-arg]
    assert settings.synchronous == "FULL" and settings.mqtt_port == 8883 and settings.mqtt_tls_ca is not None
    assert settings.mqtt_username == "vaxledger-oracle" and settings.confirmations == 0
    values = entries(path)
    for name in ("KEY", "MQTT_PASSWORD", "API_TOKEN"):
        assert is_placeholder(values[f"VAXLEDGER_ORACLE_{name}"]), name


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (tools/setup-system.sh installs it)")
    with running_postgres() as url:
        yield url


def test_the_documented_postgres_setup_migrates_and_backs_up(server: str, tmp_path: Path) -> None:
    admin = make_url(server)
    psql = [str(binaries() / "psql"), "-h", str(admin.host), "-p", str(admin.port), "-U", str(admin.username)]
    setup = [
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        "backend_password=test-password",
        "-f",
        str(EXAMPLES / "postgres-setup.sql"),
    ]
    done = subprocess.run(
        [*psql, "-d", str(admin.database), *setup],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr

    # The example's URL, pointed at this server (no TLS on a test server), used as the docs say.
    example = make_url(entries(EXAMPLES / "backend.env")["VAXLEDGER_BACKEND_DATABASE_URL"])
    url = example.set(host=admin.host, port=admin.port, password="test-password", query={})
    env_file = tmp_path / "backend.env"
    text = (EXAMPLES / "backend.env").read_text()
    env_file.write_text(
        "\n".join(
            f"VAXLEDGER_BACKEND_DATABASE_URL={url.render_as_string(hide_password=False)}"
            if line.startswith("VAXLEDGER_BACKEND_DATABASE_URL=")
            else line
            for line in text.splitlines()
        )
    )
    migrate = subprocess.run(
        [sys.executable, "-m", "backend", "--env-file", str(env_file), "migrate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "latest schema" in migrate.stdout and "vaxledger_backend" in migrate.stdout

    dump = tmp_path / "backend.dump"
    pg_dump = [str(binaries() / "pg_dump"), "-h", str(admin.host), "-p", str(admin.port), "-U", "vaxledger_backend"]
    backup = subprocess.run(
        [*pg_dump, "--format=custom", "--file", str(dump), "vaxledger_backend"], capture_output=True
    )
    assert backup.returncode == 0, backup.stderr
    listing = subprocess.run([str(binaries() / "pg_restore"), "--list", str(dump)], capture_output=True, text=True)
    assert "alembic_version" in listing.stdout
