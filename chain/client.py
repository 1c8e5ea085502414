"""One way to open a Web3 connection to the chain: HTTP, with the PoA middleware
when the chain needs it (Besu QBFT/IBFT and Clique put more than 32 bytes in a
block's extraData, which web3 refuses without `ExtraDataToPOAMiddleware`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import requests
import requests.adapters
import requests.utils
from web3 import Web3
from web3.exceptions import ProviderConnectionError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.base import BaseProvider

from chain.errors import ChainUnavailable, RpcError

log = logging.getLogger(__name__)
T = TypeVar("T")

POA_MIDDLEWARE_NAME = "extradata_to_poa"
MAX_PLAIN_EXTRA_DATA = 32  # bytes; the yellow paper's limit, exceeded by PoA consensus


CONNECTION_ERRORS = (OSError, ProviderConnectionError)  # requests' errors are OSErrors


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
    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": timeout_s}, session=_session(rpc_url), exception_retry_configuration=None
    )
    w3 = Web3(provider)
    # Addresses here are never ENS names, and chain.sender sets every field itself (chain id included):
    # these two middlewares only cost CPU on every call, several milliseconds a transaction.
    for name in ("ens_name_to_address", "validation"):
        w3.middleware_onion.remove(name)
    return configure(w3, poa=poa, where=rpc_url)


def _session(rpc_url: str) -> requests.Session:
    """An HTTP session for one node: the environment's proxy settings are read once, here, rather than on
    every request (requests re-reads os.environ each time, a millisecond a call), and the connection pool
    is as large as the number of threads that may call at once."""
    session = requests.Session()
    session.proxies = requests.utils.get_environ_proxies(rpc_url)
    session.trust_env = False
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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
