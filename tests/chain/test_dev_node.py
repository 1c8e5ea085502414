"""The local chain as the tests, the benchmarks and `make up` start it (tests/chain/nodes.py, launcher):
recent block states readable, and nothing spilled to disk however long it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3
from web3.exceptions import Web3RPCError

from chain.client import connect
from tests.chain.nodes import AnvilNode

SPILL = Path.home() / ".foundry" / "anvil" / "tmp"
TRANSFERS = 700  # past Anvil's in-memory history, which by default spills each older state to SPILL


def spilled() -> set[str]:
    return {p.name for p in SPILL.iterdir()} if SPILL.exists() else set()


def test_a_long_run_keeps_recent_states_and_writes_none_to_disk() -> None:
    before = spilled()
    with AnvilNode() as node:
        w3 = connect(node.url)
        sender, payee = w3.eth.accounts[0], Web3.to_checksum_address("0x" + "ab" * 20)
        for _ in range(TRANSFERS):
            w3.eth.send_transaction({"from": sender, "to": payee, "value": 1})
        head = w3.eth.block_number
        assert w3.eth.get_balance(payee, head - 200) == TRANSFERS - 200  # a state 200 blocks back
        with pytest.raises(Web3RPCError, match="BlockOutOfRange"):  # an old one is refused, not invented
            w3.eth.get_balance(payee, head - 600)
    assert spilled() == before


def test_a_node_that_cannot_start_says_why(tmp_path: Path) -> None:
    torn = tmp_path / "state.json"
    torn.write_text('{"block": {"number": "0x1"')  # a state file cut short, as a kill -9 mid-write leaves it
    with pytest.raises(RuntimeError, match="failed to parse json"):
        AnvilNode("--state", str(torn)).start()
