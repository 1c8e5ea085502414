"""chain.client: connecting, PoA detection, a clear error when the node is away."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from web3 import Web3
from web3.exceptions import ExtraDataLengthError
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chain.client import KeepAliveProvider, configure, connect, has_poa, needs_poa
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


class _Node(http.server.BaseHTTPRequestHandler):
    """A JSON-RPC node that answers eth_chainId, says who it saw, and misbehaves on request."""

    protocol_version = "HTTP/1.1"  # keep-alive
    connections: ClassVar[set[int]] = set()
    authorizations: ClassVar[list[str | None]] = []

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).connections.add(self.client_address[1])
        type(self).authorizations.append(self.headers.get("Authorization"))
        if request["method"] == "fail":
            self._send(502, b"bad gateway")
            return
        self._send(200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x7a69"}).encode())
        if request["method"] == "hang_up":
            self.close_connection = True  # an idle keep-alive connection the node closes

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    hung_up = threading.Event()  # set once the node has closed a connection on its side

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        type(self).hung_up.set()


@pytest.fixture
def node() -> Iterator[str]:
    _Node.connections.clear()
    _Node.authorizations.clear()
    _Server.hung_up.clear()
    server = _Server(("127.0.0.1", 0), _Node)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://user:p%40ss@127.0.0.1:{server.server_address[1]}/rpc"
    server.shutdown()
    server.server_close()


def test_calls_share_one_kept_alive_connection_and_survive_the_node_closing_it(node: str) -> None:
    provider = KeepAliveProvider(node, timeout_s=5)
    for _ in range(5):
        assert provider.make_request(RPCEndpoint("eth_chainId"), [])["result"] == "0x7a69"
    assert len(_Node.connections) == 1
    provider.make_request(RPCEndpoint("hang_up"), [])
    assert _Server.hung_up.wait(10)
    assert provider.make_request(RPCEndpoint("eth_chainId"), [])["result"] == "0x7a69"  # not lost on the dead one
    assert len(_Node.connections) == 2
    assert set(_Node.authorizations) == {"Basic " + base64.b64encode(b"user:p@ss").decode()}


def test_an_http_error_is_a_connection_error_callers_retry(node: str) -> None:
    provider = KeepAliveProvider(node, timeout_s=5)
    with pytest.raises(OSError, match="HTTP 502"):
        provider.make_request(RPCEndpoint("fail"), [])
    assert provider.make_request(RPCEndpoint("eth_chainId"), [])["result"] == "0x7a69"  # a new connection
