"""One way to open a Web3 connection to the chain: HTTP, with the PoA middleware
when the chain needs it (Besu QBFT/IBFT and Clique put more than 32 bytes in a
block's extraData, which web3 refuses without `ExtraDataToPOAMiddleware`)."""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import logging
import select
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from web3 import HTTPProvider, Web3
from web3.exceptions import ProviderConnectionError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chain.errors import ChainUnavailable, RpcError

log = logging.getLogger(__name__)
T = TypeVar("T")

POA_MIDDLEWARE_NAME = "extradata_to_poa"
MAX_PLAIN_EXTRA_DATA = 32  # bytes; the yellow paper's limit, exceeded by PoA consensus


CONNECTION_ERRORS = (OSError, ProviderConnectionError)


def read(what: str, fn: Callable[[], T]) -> T:
    """A chain read whose node may be down: ChainUnavailable (saying what was being read), not a
    transport exception, so callers handle one error for "try again later"."""
    try:
        return fn()
    except CONNECTION_ERRORS as exc:
        raise ChainUnavailable(f"the chain node did not answer while {what}: {exc}") from exc


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    """One raw JSON-RPC call: the node's result as it sent it (hex strings), without web3's formatters,
    which cost more CPU than the call itself on a hot path (the indexer)."""
    try:
        response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    except CONNECTION_ERRORS as exc:
        raise ChainUnavailable(f"the chain node did not answer {method}: {exc}") from exc
    return _result(method, response)


def rpc_batch(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """Raw calls in one JSON-RPC batch request; results in order. A node that refuses batches (or a
    provider that cannot send them) is asked one call at a time."""
    if len(calls) <= 1:
        return [rpc(w3, method, *params) for method, params in calls]
    try:
        responses = w3.provider.make_batch_request(calls)  # type: ignore[attr-defined, arg-type]
    except CONNECTION_ERRORS as exc:
        raise ChainUnavailable(f"the chain node did not answer a batch of {len(calls)}: {exc}") from exc
    except (AttributeError, NotImplementedError, ValueError):
        return [rpc(w3, method, *params) for method, params in calls]
    if not isinstance(responses, list) or len(responses) != len(calls):
        return [rpc(w3, method, *params) for method, params in calls]
    return [_result(method, r) for (method, _), r in zip(calls, responses, strict=True)]


def _result(method: str, response: Any) -> Any:
    if response.get("error"):
        raise RpcError(method, response["error"])
    return response.get("result")


def connect(rpc_url: str, *, poa: bool | None = None, timeout_s: float = 10) -> Web3:
    """A Web3 on `rpc_url`, checked to answer.

    poa=True injects the PoA middleware, False never does, None (default) decides
    from the latest block's extraData. Raises ChainUnavailable naming the URL when
    the node does not answer."""
    # chain.sender retries with backoff; web3's own silent retries would multiply the wait.
    w3 = Web3(KeepAliveProvider(rpc_url, timeout_s))
    # Addresses here are never ENS names, and chain.sender sets every field itself (chain id included):
    # these two middlewares only cost CPU on every call, several milliseconds a transaction.
    for name in ("ens_name_to_address", "validation"):
        w3.middleware_onion.remove(name)
    return configure(w3, poa=poa, where=rpc_url)


class KeepAliveProvider(HTTPProvider):
    """web3's HTTP provider over http.client with one kept-alive connection per thread. `requests` costs
    about 0.3 ms of CPU a call, three times the call itself to a node on loopback, and a custodial backend
    makes several calls a transaction. Failures are OSErrors, as requests' were (HTTP errors included)."""

    def __init__(self, rpc_url: str, timeout_s: float) -> None:
        super().__init__(rpc_url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None)
        self._timeout_s = timeout_s
        self._local = threading.local()
        self._ids = itertools.count()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self._ids)}
        return json.loads(self._post(json.dumps(body).encode()))

    def make_batch_request(self, batch: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse] | RPCResponse:
        body = [{"jsonrpc": "2.0", "method": m, "params": p, "id": next(self._ids)} for m, p in batch]
        answer = json.loads(self._post(json.dumps(body).encode()))
        return sorted(answer, key=lambda r: r.get("id", 0)) if isinstance(answer, list) else answer

    def _post(self, body: bytes) -> bytes:
        conn = self._connection()
        try:
            conn.request("POST", self._local.path, body, self._local.headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._local.conn = None
            if isinstance(exc, OSError):
                raise
            raise ConnectionError(f"{self.endpoint_uri}: {exc!r}") from exc
        if response.status >= 400:
            conn.close()
            self._local.conn = None
            raise ConnectionError(f"{self.endpoint_uri} answered HTTP {response.status}: {data[:200]!r}")
        return data

    def _connection(self) -> http.client.HTTPConnection:
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.uri == self.endpoint_uri and not _closed_by_peer(conn):
            return conn
        if conn is not None:
            conn.close()
        url = urlsplit(str(self.endpoint_uri))
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        local.conn = kind(url.hostname or "127.0.0.1", url.port, timeout=self._timeout_s)
        local.uri = self.endpoint_uri
        local.path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        local.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if url.username is not None:
            credentials = f"{unquote(url.username)}:{unquote(url.password or '')}".encode()
            local.headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
        return local.conn


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """A kept-alive connection the node closed while idle reads as ready (EOF): open a new one rather than
    send on it and lose the call."""
    if conn.sock is None:
        return False  # not connected yet: connects on the next request
    readable, _, _ = select.select([conn.sock], [], [], 0)
    return bool(readable)


def configure(w3: Web3, *, poa: bool | None = None, where: str | None = None) -> Web3:
    """Applies PoA detection to an existing Web3 (any provider); see `connect`."""
    where = where or _endpoint(w3)
    if poa is None:
        poa = needs_poa(w3, where=where)
    else:
        _latest_block_raw(w3, where)  # still check that the node answers
    if poa:
        inject_poa(w3)
    return w3


def needs_poa(w3: Web3, *, where: str | None = None) -> bool:
    """True when the latest block's extraData is longer than 32 bytes."""
    block = _latest_block_raw(w3, where or _endpoint(w3))
    extra = str(block.get("extraData") or "0x")
    return (len(extra) - 2) // 2 > MAX_PLAIN_EXTRA_DATA


def inject_poa(w3: Web3) -> None:
    """Adds ExtraDataToPOAMiddleware at the innermost layer (idempotent)."""
    if POA_MIDDLEWARE_NAME not in w3.middleware_onion:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, name=POA_MIDDLEWARE_NAME, layer=0)


def has_poa(w3: Web3) -> bool:
    return POA_MIDDLEWARE_NAME in w3.middleware_onion


def _latest_block_raw(w3: Web3, where: str) -> dict[str, Any]:
    """The latest block as the node sent it: read past web3's formatters, which
    would reject long extraData before we could look at it."""
    try:
        response = w3.provider.make_request("eth_getBlockByNumber", ["latest", False])  # type: ignore[arg-type]
    except OSError as exc:  # requests' ConnectionError / Timeout are OSErrors
        raise ChainUnavailable(f"the chain node at {where} does not answer: {exc}") from exc
    if "error" in response or not isinstance(response.get("result"), dict):
        raise ChainUnavailable(f"the chain node at {where} did not return its latest block: {response.get('error')}")
    return dict(response["result"])


def _endpoint(w3: Web3) -> str:
    provider: BaseProvider = w3.provider
    return str(getattr(provider, "endpoint_uri", None) or type(provider).__name__)
