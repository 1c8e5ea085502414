"""One way to open a Web3 connection to the chain: HTTP, with the PoA middleware
when the chain needs it (Besu QBFT/IBFT and Clique put more than 32 bytes in a
block's extraData, which web3 refuses without `ExtraDataToPOAMiddleware`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from web3 import Web3
from web3.exceptions import ProviderConnectionError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.base import BaseProvider

from chain.errors import ChainUnavailable

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


def connect(rpc_url: str, *, poa: bool | None = None, timeout_s: float = 10) -> Web3:
    """A Web3 on `rpc_url`, checked to answer.

    poa=True injects the PoA middleware, False never does, None (default) decides
    from the latest block's extraData. Raises ChainUnavailable naming the URL when
    the node does not answer."""
    # chain.sender retries with backoff; web3's own silent retries would multiply the wait.
    provider = Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None)
    w3 = Web3(provider)
    return configure(w3, poa=poa, where=rpc_url)


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
