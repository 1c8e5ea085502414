"""python -m backend — the API server and its operator commands.

    python -m backend serve                 the API on VAXLEDGER_BACKEND_HOST:PORT (docs at /docs)
    python -m backend demo                  admit the demo district's facility wallets, make one account per
                                            role, print them (development chain only)
    python -m backend create-user --role ROLE --login NAME [--facility ID] [--name TEXT]
                                            an account (the password from $VAXLEDGER_NEW_PASSWORD, else asked)
    python -m backend migrate               bring the database schema up to date
    python -m backend rotate-keys           rewrap every sealed value under the first master key
    python -m backend reconcile             settle audit rows left pending by a crash

Settings: VAXLEDGER_BACKEND_* (backend/core/config.py), or --env-file FILE.
Exit codes: 0 done, 2 bad settings or an unreachable service."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from pydantic import ValidationError

from backend.core import logs
from backend.core.config import BackendSettings
from backend.core.envelope import KeyringError

log = logging.getLogger("backend")


def _settings(args: argparse.Namespace) -> BackendSettings:
    if args.env_file:
        return BackendSettings(_env_file=args.env_file)  # type: ignore[call-arg]
    return BackendSettings()


def cmd_serve(args: argparse.Namespace, settings: BackendSettings) -> int:
    import uvicorn

    from backend.app import create_app
    from backend.runtime import Runtime

    print(f"backend on http://{settings.host}:{settings.port} (API docs at /docs)", flush=True)
    options = {"host": settings.host, "port": settings.port, "log_level": "warning", "access_log": False}
    if settings.workers == 1:
        uvicorn.run(create_app(settings, Runtime(settings)), **options)
        return 0
    # Several workers: this process keeps the one indexer; each worker builds its app from the environment.
    indexer = Runtime(settings)
    indexer.start()
    os.environ.update(_as_environment(settings) | {"VAXLEDGER_BACKEND_INDEXER": "false"})
    try:
        uvicorn.run("backend.app:app_from_environment", factory=True, workers=settings.workers, **options)
    finally:
        indexer.stop()
    return 0


def _as_environment(settings: BackendSettings) -> dict[str, str]:
    """The settings as VAXLEDGER_BACKEND_* variables, for worker processes (an --env-file included)."""
    out = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        out[f"VAXLEDGER_BACKEND_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def cmd_demo(args: argparse.Namespace, settings: BackendSettings) -> int:
    from backend import demo
    from backend.runtime import Runtime

    runtime = Runtime(settings)
    runtime.start()
    try:
        made = demo.bootstrap(runtime)
    finally:
        runtime.stop()
    print(f"demo accounts (开发演示账号):\n{demo.describe(made)}", flush=True)
    return 0


def cmd_create_user(args: argparse.Namespace, settings: BackendSettings) -> int:
    import getpass
    import os

    from backend.errors import ApiError
    from backend.runtime import Runtime
    from backend.services import accounts

    password = os.environ.get("VAXLEDGER_NEW_PASSWORD") or getpass.getpass(f"password for {args.login}: ")
    runtime = Runtime(settings)
    runtime.start_database()
    try:
        with runtime.db.session() as s:
            user = accounts.new_user(
                runtime,
                s,
                role=args.role,
                login=args.login,
                password=password,
                display_name=args.name,
                facility_id=args.facility,
            )
    except ApiError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 1
    print(f"created {user.role} {args.login} ({user.id})")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: BackendSettings) -> int:
    from backend.db.engine import Database

    db = Database(settings.database_url)
    db.migrate()
    print(f"database at the latest schema: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_rotate_keys(args: argparse.Namespace, settings: BackendSettings) -> int:
    from backend.keys import rotate
    from backend.runtime import Runtime

    runtime = Runtime(settings)
    runtime.db.migrate()
    counts = rotate(runtime)
    print("rewrapped under key " + runtime.keyring.current_id + ": " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def cmd_reconcile(args: argparse.Namespace, settings: BackendSettings) -> int:
    from backend.runtime import Runtime

    runtime = Runtime(settings)
    runtime.db.migrate()
    print(f"settled {runtime.writer.reconcile()} pending audit rows")
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "demo": cmd_demo,
    "create-user": cmd_create_user,
    "migrate": cmd_migrate,
    "rotate-keys": cmd_rotate_keys,
    "reconcile": cmd_reconcile,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", help="read VAXLEDGER_BACKEND_* settings from this file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the API")
    create = sub.add_parser("create-user", help="make an account (staff accounts need --facility)")
    create.add_argument("--role", required=True)
    create.add_argument("--login", required=True)
    create.add_argument("--facility", type=int)
    create.add_argument("--name")
    for name in ("demo", "migrate", "rotate-keys", "reconcile"):
        sub.add_parser(name)
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as exc:
        print(f"bad settings: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_json)
    try:
        return COMMANDS[args.command](args, settings)
    except KeyringError as exc:
        print(f"master keys: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
