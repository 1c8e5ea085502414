"""Chain nodes and contracts for the tests/chain modules: each module launches
its own Anvil on a free port (an orphan on 8545 must never serve a test) and
deploys from Brownie's build artifacts."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint

from chain.dev import ANVIL_HISTORY, DEV_HARDFORK
from devnet.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"


class AnvilNode:
    """An Anvil this test owns: start, stop, and start again on the same port."""

    def __init__(self, *extra: str, base_fee: int = 0, port: int | None = None, hardfork: str = DEV_HARDFORK) -> None:
        self.hardfork = hardfork
        self.port = port or free_port()
        self.base_fee = base_fee
        self.extra = extra
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AnvilNode:
        assert ANVIL.exists(), "npm ci installs anvil"
        errors = tempfile.TemporaryFile()  # noqa: SIM115 (the node's stderr for as long as it runs)
        self.process = subprocess.Popen(
            [
                str(ANVIL),
                "--port",
                str(self.port),
                "--block-base-fee-per-gas",
                str(self.base_fee),
                "--silent",
                "--hardfork",
                self.hardfork,
                *ANVIL_HISTORY,
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,  # a few lines under --silent: why it would not start (a state file it cannot load)
        )
        probe = Web3(Web3.HTTPProvider(self.url, exception_retry_configuration=None))
        for _ in range(100):
            if probe.is_connected():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        errors.seek(0)
        raise RuntimeError(f"anvil did not start on {self.url}: {errors.read().decode(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def funded_account(w3: Web3) -> LocalAccount:
    """A fresh key (so each test has its own nonces), with some ETH."""
    account: LocalAccount = Account.create()
    w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [account.address, hex(10**21)])
    return account


def artifact(name: str) -> dict[str, Any]:
    path = ROOT / "build" / "contracts" / f"{name}.json"
    if not path.exists():
        subprocess.run([str(ROOT / ".venv" / "bin" / "brownie"), "compile"], cwd=ROOT, check=True, capture_output=True)
    return json.loads(path.read_text())


def deploy(w3: Web3, name: str, *args: Any, sender: Any) -> Any:
    """Deploys `name` from Brownie's build through a chain.sender.TxSender."""
    a = artifact(name)
    receipt = sender.send(w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"]).constructor(*args))
    return w3.eth.contract(address=receipt["contractAddress"], abi=a["abi"])
