"""Runs a Brownie script module against a node this process owns or names.

    python -m scripts.run scripts.deploy                 # launch Anvil on a free port
    python -m scripts.run scripts.deploy --port 8545     # attach to (or launch on) 8545
    python -m scripts.run scripts.seed --rpc-url URL     # any JSON-RPC node (Besu...)

`brownie run` always uses port 8545, where an orphaned node from an earlier
run would silently serve this one; choosing the port here avoids that."""

from __future__ import annotations

import argparse
import importlib
import threading
import warnings
from pathlib import Path

import brownie
from brownie import network
from brownie._config import CONFIG
from brownie.network.contract import ContractConstructor, ContractTx

from chain.client import connect
from chain.dev import ANVIL_HISTORY, DEV_HARDFORK
from devnet.ports import free_port
from scripts.brownie_fixes import no_deployment_database, tolerate_receipt_lag

ROOT = Path(__file__).resolve().parent.parent
RPC_NETWORK = "vaxledger-rpc"


def open_session(*, port: int | None = None, rpc_url: str | None = None, verbose: bool = False) -> None:
    """Loads the project (compiling if needed) and connects Brownie."""
    project = brownie.project.load(ROOT, name="VaxledgerProject")
    tolerate_receipt_lag()
    if not verbose:
        _quiet_brownie()
    project.load_config()
    project._add_to_main_namespace()  # what `brownie run` does: `from brownie import VaccineLedger`
    if rpc_url:
        no_deployment_database()
        # Brownie files a live network's deployments under build/deployments/<chainid> and refuses to connect
        # to one whose chain id it is not told.
        chain_id = connect(rpc_url).eth.chain_id
        CONFIG.networks[RPC_NETWORK] = {
            "id": RPC_NETWORK,
            "name": "vaxledger JSON-RPC",
            "host": rpc_url,
            "chainid": str(chain_id),
        }
        network.connect(RPC_NETWORK)
    else:
        CONFIG.networks["development"]["cmd_settings"]["port"] = port or free_port()
        CONFIG.networks["development"]["cmd_settings"]["evm_version"] = DEV_HARDFORK
        if CONFIG.networks["development"].get("cmd", "").split(" ")[0] == "anvil":  # Brownie has no setting for it
            CONFIG.networks["development"]["cmd"] = " ".join(("anvil", *ANVIL_HISTORY))
        network.connect("development")


def _quiet_brownie() -> None:
    """Stops Brownie printing three lines per transaction.

    Its contract calls and deployments pass silent=False explicitly, so the
    documented CONFIG.argv["silent"] has no effect on them: change the defaults."""
    for method in (ContractTx.__call__, ContractTx.transact, ContractConstructor.__call__):
        method.__kwdefaults__["silent"] = True
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"brownie(\.|$)")
    warnings.filterwarnings("ignore", category=FutureWarning, module="threading")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module", help="dotted module with a main(), e.g. scripts.deploy")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, help="local node port (launched if nothing listens there)")
    where.add_argument("--rpc-url", help="JSON-RPC URL of a running node")
    parser.add_argument("--verbose", action="store_true", help="print every transaction")
    args = parser.parse_args()
    open_session(port=args.port, rpc_url=args.rpc_url, verbose=args.verbose)
    try:
        importlib.import_module(args.module).main()
    finally:
        # Brownie snapshots for its undo buffer in a thread after each transaction;
        # let the last one finish before the connection goes.
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join(timeout=10)
        network.disconnect(kill_rpc=True)


if __name__ == "__main__":
    main()
