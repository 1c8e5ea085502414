"""Corrections to Brownie 1.22 behaviour that this project depends on, applied
by scripts/run.py and tests/conftest.py."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

from brownie import web3
from brownie.network import contract
from brownie.network.transaction import TransactionReceipt
from brownie.test import stateful
from web3.exceptions import TransactionNotFound

_RECEIPT_GRACE_S = 5.0
_POLL_S = 0.02


def tolerate_receipt_lag() -> None:
    """Stops Brownie declaring mined transactions "dropped".

    Brownie reads the sender's nonce, then the receipt, and calls a transaction
    dropped when the nonce has moved past it but no receipt exists. Under load
    Anvil shows exactly that for a moment: the nonce advances before the
    receipt is queryable. Waiting (briefly) for the receipt before Brownie's
    own check closes that window; a transaction that is really pending or
    dropped then goes through Brownie's usual handling."""
    if getattr(TransactionReceipt._await_confirmation, "_vaxledger_patched", False):
        return
    original = TransactionReceipt._await_confirmation

    def await_confirmation(self: TransactionReceipt, block_number: Any = None, required_confs: int = 1) -> None:
        deadline = time.monotonic() + _RECEIPT_GRACE_S
        while time.monotonic() < deadline:
            try:
                if web3.eth.get_transaction_receipt(self.txid) is not None:
                    break
            except TransactionNotFound:
                pass
            time.sleep(_POLL_S)
        original(self, block_number, required_confs)

    await_confirmation._vaxledger_patched = True  # type: ignore[attr-defined]
    TransactionReceipt._await_confirmation = await_confirmation


def no_deployment_database() -> None:
    """Stops Brownie filing live deployments in its own database (~/.brownie/deployments.db).

    eth-brownie 1.22.2's compiled brownie.network.state refuses a project contract's sources there
    ("dict object expected; got ...Sources"), in a background thread after every deployment to a live
    network, so a successful deployment ends in tracebacks. The deployment manifest (chain.manifest) is this
    project's record of what was deployed; Brownie's build/deployments files are still written."""

    def skip(deployed: Any, alias: Any = None) -> None:
        pass

    contract._add_deployment = skip  # type: ignore[assignment]


def working_state_machine(fixture_runner: Any) -> Any:
    """The `state_machine` fixture's runner, or the same runner from Brownie's pure-Python source.

    eth-brownie 1.22.2 ships brownie/test/stateful.py compiled by mypyc, where the @final
    `_BrownieStateMachine` gets an exact-type check on `self`: its __init__ rejects the subclass
    that `state_machine()` itself builds ("_BrownieStateMachine object expected; got
    ...BrownieStateMachine"), so no state machine can run. The .py source shipped beside the
    extension is the same code and works as plain Python; it is loaded under a private name."""
    if stateful.__file__.endswith(".py"):
        return fixture_runner
    spec = importlib.util.spec_from_file_location(
        "brownie.test._stateful_source", Path(stateful.__file__).with_name("stateful.py")
    )
    assert spec is not None and spec.loader is not None
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    source._BrownieStateMachine._capman = stateful._BrownieStateMachine._capman  # the fixture's spinner
    return source.state_machine
