"""A Besu-like JSON-RPC endpoint for the tests (no Besu can be installed here): Anvil behind a small proxy
that answers where Besu QBFT differs from Anvil.

- Every block carries QBFT extraData (vanity, four validators, no vote, round 0, three seals): longer than
  32 bytes, so a client that does not apply the PoA middleware fails on the first block it reads.
- `legacy_fees`: blocks carry no baseFeePerGas, as on a Besu chain whose genesis predates London; clients
  must then send legacy (gasPrice) transactions. Start Anvil with --disable-min-priority-fee so that its
  eth_gasPrice is 0, as a free-gas Besu node's is.
- `max_pending_per_sender`: eth_sendRawTransaction refuses, in Besu's words, a transaction whose nonce is that
  many or more ahead of its sender's mined count (Besu's per-sender pool limit:
  tx-pool-max-future-by-sender, or tx-pool-limit-by-account-percentage of the pool).

Anvil's interval mining (--block-time) supplies QBFT's rhythm; its zero base fee QBFT's zeroBaseFee."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import rlp
from eth_account import Account
from web3 import Web3
from web3.types import RPCEndpoint

from devnet.ports import HOST, free_port

TOO_DISTANT = "Transaction nonce is too distant from current sender nonce"  # Besu's RpcErrorType wording
VALIDATORS = [bytes([i]) * 20 for i in range(1, 5)]
QBFT_EXTRA_DATA = "0x" + rlp.encode([bytes(32), VALIDATORS, [], b"", [bytes(65)] * 3]).hex()
BLOCK_METHODS = {"eth_getBlockByNumber", "eth_getBlockByHash"}


def nonce_and_sender(raw_hex: str) -> tuple[int, str]:
    raw = bytes.fromhex(raw_hex.removeprefix("0x"))
    # A legacy transaction is an RLP list; a typed one (EIP-2718) is its type byte, then a list whose first
    # item is the chain id.
    fields = rlp.decode(raw) if raw[0] >= 0xC0 else rlp.decode(raw[1:])[1:]
    return int.from_bytes(fields[0], "big"), Account.recover_transaction(raw)


class BesuLikeNode:
    def __init__(self, upstream: str, *, legacy_fees: bool = False, max_pending_per_sender: int | None = None) -> None:
        self.upstream = upstream
        self.legacy_fees = legacy_fees
        self.max_pending_per_sender = max_pending_per_sender
        self.refused = 0
        self.accepted = 0
        self._send_lock = threading.Lock()
        self._local = threading.local()
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as web3's session expects

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if isinstance(request, list):
                    answer: Any = [node.answer(r) for r in request]
                else:
                    answer = node.answer(request)
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="besu-like", daemon=True)

    def start(self) -> BesuLikeNode:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _forward(self, request: dict[str, Any]) -> dict[str, Any]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return dict(session.post(self.upstream, json=request, timeout=30).json())

    def _call(self, method: str, *params: Any) -> Any:
        return self._forward({"jsonrpc": "2.0", "id": 0, "method": method, "params": list(params)})["result"]

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        method = request.get("method")
        if method == "eth_sendRawTransaction" and self.max_pending_per_sender is not None:
            with self._send_lock:  # check and forward as one step, as a node's pool does
                nonce, sender = nonce_and_sender(request["params"][0])
                mined = int(self._call("eth_getTransactionCount", sender, "latest"), 16)
                if nonce - mined >= self.max_pending_per_sender:
                    self.refused += 1
                    return {
                        "jsonrpc": "2.0",
                        "id": request.get("id"),
                        "error": {"code": -32000, "message": TOO_DISTANT},
                    }
                response = self._forward(request)
                self.accepted += "result" in response
                return response
        response = self._forward(request)
        block = response.get("result")
        if method in BLOCK_METHODS and isinstance(block, dict):
            block["extraData"] = QBFT_EXTRA_DATA
            if self.legacy_fees:
                block.pop("baseFeePerGas", None)
        return response


@contextmanager
def besu_like(upstream: str, **options: Any) -> Iterator[BesuLikeNode]:
    node = BesuLikeNode(upstream, **options).start()
    try:
        yield node
    finally:
        node.close()


def instant_mining(w3: Web3) -> None:
    """Mine each transaction at once: for setting a test's world up quickly on a node that mines on a clock."""
    w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])


def interval_mining(w3: Web3, seconds: int) -> None:
    """A block every `seconds`, as QBFT's block period, whatever is pending (automine off)."""
    w3.provider.make_request(RPCEndpoint("evm_setIntervalMining"), [seconds])
