"""chain.sender: nonces under concurrency and restarts, fees, reverts that send
nothing, node outages, idempotent re-sends, pipelining."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from chain.client import connect
from chain.enums import FacilityKind
from chain.errors import ChainRevert, ChainUnavailable, ErrorTable
from chain.sender import SenderPool, TxSender
from tests.chain.nodes import AnvilNode, artifact, deploy, funded_account

NO_AREA = b"\0" * 32
TABLE = ErrorTable.from_abis([artifact("VaccineLedger")["abi"]])


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    with AnvilNode() as anvil:
        yield anvil


@pytest.fixture()
def w3(node: AnvilNode) -> Web3:
    return connect(node.url)


@pytest.fixture()
def setup(w3: Web3) -> tuple[TxSender, Any]:
    """A fresh admin account with its own ledger, and a sender for it."""
    admin = funded_account(w3)
    sender = TxSender(w3, admin, errors=TABLE)
    return sender, deploy(w3, "VaccineLedger", admin.address, sender=sender)


def facility(ledger: Any, name: str = "Clinic") -> Any:
    return ledger.functions.registerFacility(FacilityKind.CLINIC, name, NO_AREA)


def nonce_of(w3: Web3, receipt: Any) -> int:
    return w3.eth.get_transaction(receipt["transactionHash"])["nonce"]


def test_fees_on_a_zero_base_fee_chain_are_eip1559_and_zero(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    tx = w3.eth.get_transaction(sender.send(facility(ledger))["transactionHash"])
    assert tx["type"] == 2
    assert tx["maxFeePerGas"] == 0 and tx["maxPriorityFeePerGas"] == 0


def test_fees_follow_the_chain_base_fee_and_legacy_chains() -> None:
    to = Account.create().address
    with AnvilNode(base_fee=10**9) as anvil:
        w3 = connect(anvil.url)
        tx = w3.eth.get_transaction(TxSender(w3, funded_account(w3)).send({"to": to, "value": 1})["transactionHash"])
        assert tx["type"] == 2 and tx["maxFeePerGas"] >= 2 * 10**9
    with AnvilNode(hardfork="berlin") as anvil:
        w3 = connect(anvil.url)
        tx = w3.eth.get_transaction(TxSender(w3, funded_account(w3)).send({"to": to, "value": 1})["transactionHash"])
        assert tx["type"] == 0 and "maxFeePerGas" not in tx


def test_a_reverting_call_raises_the_named_error_and_sends_nothing(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    before = w3.eth.get_transaction_count(sender.address, "pending")
    with pytest.raises(ChainRevert) as caught:
        sender.send(ledger.functions.registerFacility(FacilityKind.NONE, "x", NO_AREA))
    assert caught.value.name == "InvalidFacilityKind"
    stranger = Account.create().address
    with pytest.raises(ChainRevert, match=f"NotAMember\\(account={stranger}\\)"):
        sender.send(ledger.functions.removeMember(stranger))
    assert w3.eth.get_transaction_count(sender.address, "pending") == before
    assert nonce_of(w3, sender.send(facility(ledger))) == before  # no nonce was used up either


def test_a_mined_revert_is_decoded_by_replaying_it(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    with pytest.raises(ChainRevert) as caught:
        sender.send(ledger.functions.registerFacility(FacilityKind.NONE, "x", NO_AREA), gas=200_000)  # no estimate
    assert caught.value.name == "InvalidFacilityKind"
    assert caught.value.tx_hash is not None
    assert w3.eth.get_transaction_receipt(caught.value.tx_hash)["status"] == 0


def test_fifty_concurrent_sends_from_four_threads_get_consecutive_nonces(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    start = w3.eth.get_transaction_count(sender.address)
    with ThreadPoolExecutor(max_workers=4) as pool:
        receipts = list(pool.map(lambda i: sender.send(facility(ledger, f"Site {i}")), range(50)))
    assert all(r["status"] == 1 for r in receipts)
    assert sorted(nonce_of(w3, r) for r in receipts) == list(range(start, start + 50))
    assert ledger.functions.facilityCount().call() == 50


def test_a_new_sender_for_the_same_account_continues_at_the_right_nonce(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    last = nonce_of(w3, sender.send(facility(ledger)))
    restarted = TxSender(w3, sender._account)  # a new process: nothing carried over but the key
    assert nonce_of(w3, restarted.send(facility(ledger, "after restart"))) == last + 1
    # The old object is now behind; the node's "nonce too low" makes it re-sync and re-sign.
    # (A byte-identical intent would have the same hash as the restarted one's and count as sent.)
    assert nonce_of(w3, sender.send(facility(ledger, "stale sender"))) == last + 2


def test_send_many_paces_and_returns_receipts_in_order(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    start = w3.eth.get_transaction_count(sender.address)
    receipts = sender.send_many([facility(ledger, f"Site {i}") for i in range(40)], max_in_flight=5)
    assert len(receipts) == 40
    assert [nonce_of(w3, r) for r in receipts] == list(range(start, start + 40))
    assert ledger.functions.facilityCount().call() == 40


def test_send_many_stops_at_a_revert_and_says_how_far_it_got(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    calls = [facility(ledger, "a"), facility(ledger, "b"), ledger.functions.removeMember(Account.create().address)]
    with pytest.raises(ChainRevert) as caught:
        sender.send_many([*calls, facility(ledger, "never")], max_in_flight=2)
    assert caught.value.name == "NotAMember"
    assert any("2 of 4 calls were sent" in note for note in caught.value.__notes__)
    assert ledger.functions.facilityCount().call() == 2


def test_a_sender_pool_spreads_over_its_accounts(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    admin, ledger = setup
    others = [funded_account(w3) for _ in range(3)]
    role = ledger.functions.DEFAULT_ADMIN_ROLE().call()
    admin.send_many([ledger.functions.grantRole(role, a.address) for a in others])
    pool = SenderPool(w3, others, errors=TABLE)
    receipts = pool.send_many([facility(ledger, f"Site {i}") for i in range(9)], max_in_flight=2)
    assert [r["from"] for r in receipts] == [others[i % 3].address for i in range(9)]
    assert pool.send(facility(ledger))["from"] == others[0].address


def test_a_timed_out_send_is_resent_as_the_same_transaction(w3: Web3, setup: tuple[TxSender, Any]) -> None:
    sender, ledger = setup
    slow = TxSender(w3, sender._account, receipt_timeout_s=0.2, max_retries=10, errors=TABLE)
    start = w3.eth.get_transaction_count(sender.address)
    w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
    try:

        def mine_once_sent() -> None:  # counted from the broadcast, so a slow setup cannot mine an empty block
            deadline = time.monotonic() + 30
            while w3.eth.get_transaction_count(sender.address, "pending") == start and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.7)
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])

        miner = threading.Thread(target=mine_once_sent)
        miner.start()
        receipt = slow.send(facility(ledger))  # waits, re-broadcasts the same bytes ~3 times, then sees it mined
        miner.join()
    finally:
        w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
    block = w3.eth.get_block(receipt["blockNumber"])
    assert block["transactions"] == [receipt["transactionHash"]]
    assert w3.eth.get_transaction_count(sender.address) == start + 1


def test_an_outage_retries_then_raises_and_sends_work_after_the_node_returns(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    anvil = AnvilNode("--state", str(state)).start()
    try:
        w3 = connect(anvil.url)
        account = funded_account(w3)
        sender = TxSender(w3, account, max_retries=3, backoff_s=0.05)
        to = Account.create().address
        assert nonce_of(w3, sender.send({"to": to, "value": 1})) == 0

        anvil.stop()  # dumps the chain to the state file
        began = time.monotonic()
        with pytest.raises(ChainUnavailable, match=f"127.0.0.1:{anvil.port}.*4 tries"):
            sender.send({"to": to, "value": 1})
        assert time.monotonic() - began >= 0.05 + 0.1 + 0.2  # backed off 3 times, doubling

        anvil.start()  # same port, same chain
        assert nonce_of(w3, sender.send({"to": to, "value": 1})) == 1

        anvil.stop()  # down again, and back while the sender is still retrying
        restart = threading.Timer(0.3, anvil.start)
        restart.start()
        patient = TxSender(w3, account, max_retries=8, backoff_s=0.1)
        receipt = patient.send({"to": to, "value": 1})
        restart.join()
        assert nonce_of(w3, receipt) == 2
        assert w3.eth.get_balance(to) == 3
    finally:
        anvil.stop()


class LosesAnswers(HTTPProvider):
    """The node takes the transaction but the answer is lost, `lose` times (then the receipt too)."""

    def __init__(self, url: str, lose: int) -> None:
        super().__init__(url, exception_retry_configuration=None)
        self.lose = {"eth_sendRawTransaction": lose, "eth_getTransactionReceipt": lose}

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        response = super().make_request(method, params)
        if self.lose.get(method, 0) > 0:
            self.lose[method] -= 1
            raise requests.ConnectionError(f"lost the answer to {method}")
        return response


def test_a_lost_answer_is_retried_with_the_same_bytes_and_sends_once(node: AnvilNode, w3: Web3) -> None:
    account = funded_account(w3)
    flaky = Web3(LosesAnswers(node.url, lose=2))
    to = Account.create().address
    receipt = TxSender(flaky, account, backoff_s=0.01).send({"to": to, "value": 5})
    assert receipt["status"] == 1
    assert w3.eth.get_transaction_count(account.address) == 1
    assert w3.eth.get_balance(to) == 5


def test_the_hash_is_known_before_the_broadcast(node: AnvilNode, w3: Web3) -> None:
    """A caller that records the hash in on_signed can ask the chain after a crash: even a send whose
    answer is lost was announced first."""
    account = funded_account(w3)
    flaky = Web3(LosesAnswers(node.url, lose=1))
    announced: list[str] = []
    sender = TxSender(flaky, account, backoff_s=0.01)
    pending = sender.submit({"to": Account.create().address, "value": 1}, on_signed=lambda p: announced.append(p.hash))
    assert announced == [pending.hash]
    receipt = sender.wait(pending)
    assert "0x" + bytes(receipt["transactionHash"]).hex() == announced[0]
