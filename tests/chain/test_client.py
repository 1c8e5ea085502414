"""chain.client: connecting, PoA detection, a clear error when the node is away."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ExtraDataLengthError
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chain.client import configure, connect, has_poa, needs_poa
from chain.errors import ChainUnavailable
from devnet.ports import free_port
from tests.chain.nodes import AnvilNode


@pytest.fixture(scope="module")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


class CannedProvider(BaseProvider):
    """Answers like a Besu QBFT node: the latest block has 97 bytes of extraData."""

    EXTRA = "0x" + "f8" + "ab" * 96

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_getBlockByNumber":
            block = {"number": "0x5", "hash": "0x" + "12" * 32, "extraData": self.EXTRA, "gasLimit": "0x1c9c380"}
            return {"jsonrpc": "2.0", "id": 1, "result": block}
        if method == "eth_chainId":
            return {"jsonrpc": "2.0", "id": 1, "result": "0x539"}
        return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": f"{method} not canned"}}

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def test_anvil_has_short_extradata_so_no_poa_middleware(anvil: AnvilNode) -> None:
    w3 = connect(anvil.url)
    assert not needs_poa(w3)
    assert not has_poa(w3)
    assert w3.eth.chain_id == 31337


def test_poa_true_injects_the_middleware(anvil: AnvilNode) -> None:
    w3 = connect(anvil.url, poa=True)
    assert has_poa(w3)
    assert w3.eth.get_block("latest")["number"] >= 0


def test_long_extradata_is_detected_and_readable_with_the_middleware() -> None:
    w3 = configure(Web3(CannedProvider()))
    assert has_poa(w3)
    block = w3.eth.get_block("latest")
    assert len(block["proofOfAuthorityData"]) == 97
    assert "extraData" not in block


def test_without_the_middleware_web3_refuses_a_poa_block() -> None:
    w3 = configure(Web3(CannedProvider()), poa=False)
    assert not has_poa(w3)
    with pytest.raises(ExtraDataLengthError):
        w3.eth.get_block("latest")


def test_a_node_that_does_not_answer_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ChainUnavailable, match=url.replace(".", r"\.")):
        connect(url, timeout_s=2)
