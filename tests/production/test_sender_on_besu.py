"""chain.sender against what a Besu QBFT node does differently from Anvil: refusals that mean "later" (a
sender over its pool limit, a node still syncing), blocks on a clock, PoA extraData, legacy fees on a
chain without a base fee, and free gas for wallets that hold nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from chain.client import connect, has_poa
from chain.errors import TxRejected
from chain.sender import TxSender
from tests.chain.nodes import AnvilNode
from tests.production.besu_like import TOO_DISTANT, besu_like

BLOCK_S = 2


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilNode]:
    """Mines a block every 2 s, as the generated QBFT network does, with a zero base fee."""
    with AnvilNode("--block-time", str(BLOCK_S)) as node:
        yield node


class RefusesFirst(HTTPProvider):
    """Answers eth_sendRawTransaction with `message` `times` times before passing it on."""

    def __init__(self, url: str, message: str, times: int) -> None:
        super().__init__(url, exception_retry_configuration=None)
        self.message, self.times = message, times

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_sendRawTransaction" and self.times > 0:
            self.times -= 1
            return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": self.message}}
        return super().make_request(method, params)


@pytest.mark.parametrize(
    "message",
    [
        TOO_DISTANT,
        "Transaction nonce it too distant from current sender nonce",  # Besu 22.10's spelling
        "Transaction pool not enabled. (Either txpool explicitly disabled, or node not yet in sync).",
        "Initial sync is still in progress",
    ],
)
def test_besus_try_later_answers_are_retried_and_the_transaction_sent_once(message: str) -> None:
    with AnvilNode() as node:
        w3 = Web3(RefusesFirst(node.url, message, times=2))
        wallet = Account.create()  # holds nothing: gas is free
        began = time.monotonic()
        receipt = TxSender(w3, wallet, backoff_s=0.05).send({"to": wallet.address, "value": 0})
        assert time.monotonic() - began >= 0.05 + 0.1  # backed off twice, doubling
        assert receipt["status"] == 1
        assert Web3(Web3.HTTPProvider(node.url)).eth.get_transaction_count(wallet.address) == 1


def test_a_sender_the_allowlist_refuses_is_told_at_once_and_nothing_is_sent() -> None:
    refusal = "Sender account not authorized to send transactions"  # Besu's answer under account permissioning
    with AnvilNode() as node:
        w3 = Web3(RefusesFirst(node.url, refusal, times=1))
        wallet = Account.create()
        began = time.monotonic()
        with pytest.raises(TxRejected, match="not authorized"):
            TxSender(w3, wallet, backoff_s=30).send({"to": wallet.address, "value": 0})
        assert time.monotonic() - began < 30  # no backing off for a refusal that waiting does not cure
        assert Web3(Web3.HTTPProvider(node.url)).eth.get_transaction_count(wallet.address, "pending") == 0


def test_a_burst_from_one_sender_is_paced_by_the_nodes_pending_limit(anvil: AnvilNode) -> None:
    with besu_like(anvil.url, max_pending_per_sender=3) as node:
        w3 = connect(node.url)
        assert has_poa(w3)  # found from the QBFT extraData, not configured
        wallet = Account.create()
        sender = TxSender(w3, wallet, backoff_s=0.25)
        start = w3.eth.get_transaction_count(wallet.address)
        receipts = sender.send_many([{"to": wallet.address, "value": 0, "gas": 21_000}] * 10, max_in_flight=8)
        assert node.refused > 0  # the node turned the burst away at its limit ...
        nonces = [w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts]
        assert nonces == list(range(start, start + 10))  # ... and every call was still sent once, in order
        per_block: dict[int, int] = {}
        for r in receipts:
            per_block[r["blockNumber"]] = per_block.get(r["blockNumber"], 0) + 1
        assert max(per_block.values()) <= 3 and len(per_block) >= 4


def test_concurrent_sends_from_one_wallet_wait_for_room_in_the_pool(anvil: AnvilNode) -> None:
    """Six requests for one clinic at once: the custodial wallet's sends queue at its nonce lock while the
    node refuses the ones beyond its limit, until blocks make room."""
    with besu_like(anvil.url, max_pending_per_sender=2) as node:
        w3 = connect(node.url, poa=True)
        wallet = Account.create()
        sender = TxSender(w3, wallet, backoff_s=0.25)
        with ThreadPoolExecutor(max_workers=6) as pool:
            receipts = list(pool.map(lambda _: sender.send({"to": wallet.address, "value": 0}), range(6)))
        assert all(r["status"] == 1 for r in receipts) and node.refused > 0
        assert w3.eth.get_transaction_count(wallet.address) == 6
        tx = w3.eth.get_transaction(receipts[0]["transactionHash"])
        assert tx["type"] == 2 and tx["maxFeePerGas"] == 0  # zero base fee: free, from a wallet holding nothing


def test_a_chain_without_a_base_fee_gets_legacy_transactions_at_price_zero() -> None:
    with AnvilNode("--disable-min-priority-fee") as anvil, besu_like(anvil.url, legacy_fees=True) as node:
        w3 = connect(node.url)
        assert "baseFeePerGas" not in w3.eth.get_block("latest") and has_poa(w3)
        wallet = Account.create()
        receipt = TxSender(w3, wallet).send({"to": wallet.address, "value": 0})
        tx = w3.eth.get_transaction(receipt["transactionHash"])
        assert tx["type"] == 0 and tx["gasPrice"] == 0


def test_confirmations_wait_for_blocks_on_top_on_a_clock(anvil: AnvilNode) -> None:
    with besu_like(anvil.url) as node:
        w3 = connect(node.url)
        wallet = Account.create()
        receipt = TxSender(w3, wallet, confirmations=1).send({"to": wallet.address, "value": 0})
        assert w3.eth.block_number >= receipt["blockNumber"] + 1
