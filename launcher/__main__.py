"""`make up`: the local chain, the deployment and the demo district, the cold chain and the backend,
kept running.

    python -m launcher            (Ctrl-C stops everything)

The chain is Anvil with its state kept in var/chain/, written when it stops,
so a restart resumes the same chain and the deployment is reused. (Periodic
dumps are off: under load they made Brownie's receipt polling misreport mined
transactions as dropped.) After a hard kill the chain starts empty and the
next start deploys and seeds again; `make clean-state` starts afresh. Settings (environment):
VAXLEDGER_CHAIN_PORT (8545), VAXLEDGER_STATE_DIR (var), VAXLEDGER_MQTT_PORT (18830),
VAXLEDGER_ORACLE_HTTP_PORT (8547), VAXLEDGER_BACKEND_PORT (8000)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from chain.dev import ANVIL_HISTORY, DEV_HARDFORK
from chain.dev import DEV_CHAIN_ID as CHAIN_ID
from devnet.ports import port_is_free
from launcher.backend import Backend
from launcher.coldchain import ColdChain

ROOT = Path(__file__).resolve().parent.parent


def rpc(url: str, method: str, params: list | None = None) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["result"]


def start_chain(port: int, state_dir: Path) -> subprocess.Popen[bytes]:
    if not port_is_free(port):
        sys.exit(
            f"port {port} is already in use (an earlier node still running?): stop it, "
            f"or choose another port with VAXLEDGER_CHAIN_PORT"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    log = open(state_dir / "anvil.log", "ab")  # noqa: SIM115 (lives as long as the node)
    node = subprocess.Popen(
        [
            "anvil",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(CHAIN_ID),
            "--block-base-fee-per-gas",
            "0",
            "--hardfork",
            DEV_HARDFORK,
            "--gas-limit",
            "30000000",
            *ANVIL_HISTORY,
            "--state",
            str(state_dir / "state.json"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if node.poll() is not None:
            sys.exit(f"anvil exited with {node.returncode}: see {state_dir / 'anvil.log'}")
        try:
            rpc(url, "eth_chainId")
            return node
        except OSError:
            time.sleep(0.1)
    node.terminate()
    sys.exit(f"anvil did not answer on {url} within 10 s")


def deployed(url: str, manifest: Path) -> bool:
    """True when the manifest names a ledger that has code on this chain."""
    try:
        data = json.loads(manifest.read_text())
        code = rpc(url, "eth_getCode", [data["contracts"]["VaccineLedger"]["address"], "latest"])
    except (OSError, KeyError, ValueError):
        return False
    return int(data["chain_id"]) == CHAIN_ID and code not in ("0x", "0x0", None)


def brownie_step(module: str, port: int, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "scripts.run", module, "--port", str(port)], cwd=ROOT, env=env, check=True)


def main() -> None:
    port = int(os.environ.get("VAXLEDGER_CHAIN_PORT", "8545"))
    state = ROOT / os.environ.get("VAXLEDGER_STATE_DIR", "var")
    manifest = state / "manifest.json"
    env = {**os.environ, "VAXLEDGER_MANIFEST": str(manifest)}
    url = f"http://127.0.0.1:{port}"

    node = start_chain(port, state / "chain")
    cold_chain: ColdChain | None = None
    backend: Backend | None = None
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failure = None
    try:
        resumed = deployed(url, manifest)
        if resumed:
            print(f"chain resumed from {state / 'chain'}; deployment in {manifest} reused")
        else:
            brownie_step("scripts.deploy", port, env)
            brownie_step("scripts.seed", port, env)
        token = secrets.token_urlsafe(24)  # the oracle's API token, shared with the backend for this run
        cold_chain = ColdChain(state, url, manifest, token, fresh_deployment=not resumed)
        cold_chain.start()
        backend = Backend(state, url, manifest, cold_chain.url, token, fresh=not resumed)
        backend.start()
        print(
            f"\nvaxledger is up.\n  chain     {url} (chain id {CHAIN_ID})\n  manifest  {manifest}\n"
            f"{cold_chain.describe()}\n{backend.describe()}\nCtrl-C stops it."
        )
        while not stopping and node.poll() is None and not (failure := cold_chain.failed() or backend.failed()):
            time.sleep(0.5)
    finally:
        if backend is not None:
            backend.stop()
        if cold_chain is not None:
            cold_chain.stop()
        if node.poll() is None:
            node.send_signal(signal.SIGINT)  # anvil writes its state on the way out
            node.wait(timeout=30)
    if failure:
        sys.exit(failure)
    if not stopping:
        sys.exit(f"the chain stopped unexpectedly (exit {node.returncode}): see {state / 'chain' / 'anvil.log'}")


if __name__ == "__main__":
    main()
