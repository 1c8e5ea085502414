"""Where an intent becomes a mined transaction: sign locally, pick the nonce,
price the gas, send, wait, retry — one way for backend/, oracle/ and scripts/.

Semantics, in short:

- Nothing half-done: the gas estimate runs first; a revert there raises
  `ChainRevert` (the contract's named error) before a nonce is taken or
  anything is signed or sent.
- Nonces: one lock per sender. The first send (of this object, so of this
  process) reads `eth_getTransactionCount(address, "pending")`; later sends
  count up locally, so threads can send concurrently. Processes that share a
  key pass `shared_lock` (e.g. `chain.locks.FileLocks`): each send then holds
  it while it takes the larger of the node's count and the note the last
  holder left, signs and broadcasts. A node answer of "nonce
  too low" / "replacement transaction underpriced" re-reads the count and
  re-signs; "already known" means our own signed transaction is in the pool.
  Any failure after a nonce was taken makes the next send re-read the count, so
  a nonce the node never saw is reused rather than leaving a gap. One key
  should have one sender (per process); a second process using the same key
  works (it is re-synced by the node's answers) but costs retries.
- One intent, one transaction: a signed transaction is only ever re-sent byte
  for byte (same nonce, same payload, same hash). Before a nonce is replaced,
  and before a timed-out transaction is re-sent, the sender checks whether that
  hash is already pooled or mined. (Signing is deterministic, so two
  byte-identical intents at the same nonce are one transaction.) Errors
  raised after signing carry `tx_hash` when the transaction may be out there.
- Retries: connection errors and timeouts back off exponentially
  (backoff_s, 2×backoff_s, ...) up to max_retries, then raise ChainUnavailable.
  A receipt not seen within receipt_timeout_s re-broadcasts the same bytes,
  also up to max_retries, then raises TxTimeout (a ChainUnavailable) carrying
  the hash, which may still be mined later.
- Fees follow the chain: EIP-1559 fields when the latest block has
  baseFeePerGas (all zero when the base fee is zero), else legacy gasPrice;
  read at most once a second (`FeeQuote`, which senders on one chain can share).
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt

from chain.errors import ChainRevert, ChainUnavailable, ErrorTable, RpcError, TxRejected, as_revert
from chain.locks import NonceNote

log = logging.getLogger(__name__)

T = TypeVar("T")

# What nodes answer to eth_sendRawTransaction (geth, Anvil, Besu wordings; "_" read as " ").
# Besu's (RpcErrorType, 22.x-25.x): a sender over its pool limit gets "Transaction nonce is too distant from
# current sender nonce" (22.10 wrote "... it too distant ..."); a node still syncing answers "Transaction pool
# not enabled. (Either txpool explicitly disabled, or node not yet in sync)." or "Initial sync is still in
# progress": all of them pass once blocks are mined or the node caught up.
_OURS_ALREADY = ("already known", "already imported", "known transaction", "transaction already known")
_NONCE_TAKEN = ("nonce too low", "replacement transaction underpriced", "replacement underpriced")
_TRY_LATER = (
    "too distant",
    "pool is full",
    "txpool is full",
    "pool full",
    "exceeds the limit",
    "try again",
    "transaction pool not enabled",
    "initial sync is still in progress",
)

DEFAULT_MAX_IN_FLIGHT = 4  # Besu's legacy pool keeps about 0.1% of 4096 txs per sender by default
MAX_BACKOFF_S = 30.0


class TxTimeout(ChainUnavailable):
    """A sent transaction was not mined in time; it may still be. `tx_hash` says which."""

    def __init__(self, message: str, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash: str | None = tx_hash


@dataclass
class PendingTx:
    """A signed, broadcast transaction: what `wait` needs to see it through."""

    tx: dict[str, Any]  # unsigned fields, nonce included
    raw: bytes
    hash: str

    @property
    def nonce(self) -> int:
        return int(self.tx["nonce"])


class FeeQuote:
    """The fee fields for the next transactions, read from the chain at most once per `ttl_s` and shared
    by every sender on that chain: EIP-1559 fields when the latest block has a base fee (all zero when the
    base fee is zero), else a legacy gas price. A quote a second old is good enough: the max fee offered is
    twice the base fee, which survives six full blocks of base-fee growth."""

    def __init__(self, w3: Web3, ttl_s: float = 1.0) -> None:
        self.w3 = w3
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._quote: dict[str, int] | None = None
        self._at = 0.0

    def fields(self, read: Callable[[Callable[[], Any], str], Any]) -> dict[str, int]:
        with self._lock:
            if self._quote is not None and time.monotonic() - self._at < self.ttl_s:
                return dict(self._quote)
        quote = self._read(read)
        with self._lock:
            self._quote, self._at = quote, time.monotonic()
        return dict(quote)

    def _read(self, read: Callable[[Callable[[], Any], str], Any]) -> dict[str, int]:
        latest = read(lambda: self.w3.eth.get_block("latest"), "reading the latest block")
        if latest.get("baseFeePerGas") is None:
            return {"gasPrice": read(lambda: self.w3.eth.gas_price, "reading the gas price")}
        base = int(latest.get("baseFeePerGas") or 0)
        if base == 0:  # free-gas private chain
            return {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0}
        tip = read(lambda: self.w3.eth.max_priority_fee, "reading the priority fee")
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}


class TxSender:
    """Sends transactions from one local account (see the module docstring)."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        chain_id: int | None = None,
        gas_multiplier: float = 1.2,
        max_retries: int = 5,
        backoff_s: float = 0.5,
        confirmations: int = 0,
        receipt_timeout_s: float = 60,
        poll_s: float = 0.05,
        errors: ErrorTable | None = None,
        fees: FeeQuote | None = None,
        shared_lock: Callable[[str], AbstractContextManager[NonceNote]] | None = None,
    ) -> None:
        self.w3 = w3
        self._account = account
        self.address = account.address
        self._chain_id = chain_id
        self.gas_multiplier = gas_multiplier
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.confirmations = confirmations
        self.receipt_timeout_s = receipt_timeout_s
        self.poll_s = poll_s
        self.errors = errors or ErrorTable()
        self._lock = threading.Lock()
        self._nonce: int | None = None  # next nonce to use; None: read it from the node
        self._fees = fees or FeeQuote(w3)
        self._shared_lock = shared_lock

    def __repr__(self) -> str:  # never the key
        return f"TxSender({self.address})"

    # ---- public -----------------------------------------------------------------

    def send(self, call: Any, *, value: int = 0, gas: int | None = None) -> TxReceipt:
        """Estimate, sign, send and wait for `call` (a ContractFunction, a
        ContractConstructor, or a tx dict with to/data/value[/gas]).
        Raises ChainRevert (nothing sent, or mined with status 0), ChainUnavailable,
        TxTimeout or TxRejected."""
        return self.wait(self.submit(call, value=value, gas=gas))

    def submit(
        self,
        call: Any,
        *,
        value: int = 0,
        gas: int | None = None,
        on_signed: Callable[[PendingTx], None] | None = None,
    ) -> PendingTx:
        """Estimate, sign and broadcast without waiting; `wait` finishes it. `on_signed` is told of every
        signed transaction before it is broadcast (a caller that records the hash first can always tell,
        after a crash, whether its intent reached the chain)."""
        tx = self._prepare(call, value=value, gas=gas)
        with self._lock, (self._shared_lock or _no_lock)(self.address) as note:
            if self._shared_lock is not None:
                # other processes send from this key too: the node's count, or what the last of them left
                self._nonce = max(self._pending_count(), note.get() or 0)
            try:
                pending = self._broadcast_new(tx, on_signed)
            except BaseException:
                self._nonce = None  # the node may not have this nonce: re-read rather than leave a gap
                note.set(None)
                raise
            self._nonce = pending.nonce + 1
            note.set(self._nonce)
        log.info("sent %s nonce %d from %s", pending.hash, pending.nonce, self.address)
        return pending

    def wait(self, pending: PendingTx) -> TxReceipt:
        """The receipt, `confirmations` blocks deep; ChainRevert if it reverted."""
        receipt = self._await_receipt(pending)
        if receipt["status"] == 0:
            raise self._revert_of(pending, receipt)
        return receipt

    def send_many(self, calls: Iterable[Any], *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> list[TxReceipt]:
        """Sends calls with consecutive nonces, at most `max_in_flight` unmined at once
        (a per-sender pool limit), and returns their receipts in order.

        Gas is estimated against the latest state, so calls that depend on an
        earlier call in the same batch need `send` in turn (or tx dicts with gas).
        On the first failure no further call is sent; those already sent are
        waited for, and the error is raised with a note saying how far it got."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        calls = list(calls)
        receipts: list[TxReceipt] = []
        in_flight: deque[PendingTx] = deque()
        submitted = 0
        try:
            for call in calls:
                while len(in_flight) >= max_in_flight:
                    receipts.append(self.wait(in_flight.popleft()))
                in_flight.append(self.submit(call))
                submitted += 1
            while in_flight:
                receipts.append(self.wait(in_flight.popleft()))
        except Exception as exc:
            for pending in in_flight:
                try:
                    self.wait(pending)
                except Exception as later:
                    exc.add_note(f"send_many: tx {pending.hash} also failed: {later}")
            exc.add_note(
                f"send_many: {submitted} of {len(calls)} calls were sent (the first {submitted}, each waited for); "
                "the rest were not sent"
            )
            raise
        return receipts

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._retrying(lambda: self.w3.eth.chain_id, "reading the chain id")
        return self._chain_id

    def resync(self) -> int:
        """Forgets the local nonce; returns the node's pending count."""
        with self._lock:
            self._nonce = self._pending_count()
            return self._nonce

    # ---- preparing ----------------------------------------------------------------

    def _prepare(self, call: Any, *, value: int, gas: int | None) -> dict[str, Any]:
        """to/data/value/gas/fees/chainId; the estimate raises ChainRevert before anything is signed."""
        if isinstance(call, dict):
            tx = {k: call[k] for k in ("to", "data", "value", "gas") if k in call}
        elif getattr(call, "address", None) and hasattr(call, "_encode_transaction_data"):
            # a contract function: its calldata alone (build_transaction's formatters cost a millisecond)
            tx = {"to": call.address, "data": call._encode_transaction_data(), "value": value}
        else:
            placeholder = {"from": self.address, "value": value, "gas": 1, "chainId": 1, "gasPrice": 0}
            built = call.build_transaction(placeholder)  # all defaults given: no RPC
            tx = {k: built[k] for k in ("to", "data") if k in built}
            tx["value"] = value
        tx.setdefault("value", 0)
        if gas is not None:
            tx["gas"] = gas
        if "gas" not in tx:
            tx["gas"] = self._estimate(tx)
        tx["chainId"] = self.chain_id
        tx.update(self._fees.fields(self._retrying))
        return tx

    def _estimate(self, tx: dict[str, Any]) -> int:
        params: dict[str, Any] = {"from": self.address, "value": hex(tx.get("value", 0))}
        if tx.get("to"):
            params["to"] = tx["to"]
        if tx.get("data"):
            data = tx["data"]
            params["data"] = data if isinstance(data, str) else "0x" + bytes(data).hex()
        try:
            estimate = self._retrying(lambda: int(self._raw("eth_estimateGas", [params]), 16), "estimating gas")
        except RpcError as exc:
            revert = as_revert(exc, self.errors)
            if revert is not None:
                raise revert from exc
            raise TxRejected(f"the node would not estimate a transaction from {self.address}: {exc}") from exc
        return math.ceil(estimate * self.gas_multiplier)

    def _raw(self, method: str, params: list[Any]) -> Any:
        """A JSON-RPC call past web3's formatters (a hot path: every send estimates and broadcasts).
        Connection errors propagate as OSError, for `_retrying`."""
        response = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        error = response.get("error")
        if error:
            raise RpcError(method, error)
        return response.get("result")

    # ---- nonces and broadcasting (under self._lock) -------------------------------------

    def _pending_count(self) -> int:
        return self._retrying(
            lambda: int(self._raw("eth_getTransactionCount", [self.address, "pending"]), 16),
            "reading the account nonce",
        )

    def _sign(self, tx: dict[str, Any], nonce: int) -> PendingTx:
        fields = {**tx, "nonce": nonce}
        signed = self._account.sign_transaction(fields)
        return PendingTx(tx=fields, raw=bytes(signed.raw_transaction), hash="0x" + bytes(signed.hash).hex())

    def _broadcast_new(self, tx: dict[str, Any], on_signed: Callable[[PendingTx], None] | None) -> PendingTx:
        if self._nonce is None:
            self._nonce = self._pending_count()
        pending = self._sign(tx, self._nonce)
        if on_signed is not None:
            on_signed(pending)
        attempt = 0
        while True:
            try:
                self._raw("eth_sendRawTransaction", ["0x" + pending.raw.hex()])
                return pending
            except OSError as exc:  # unreachable / timed out: the same bytes again
                try:
                    attempt = self._backoff(attempt, exc, f"sending tx nonce {pending.nonce}")
                except ChainUnavailable as down:
                    down.tx_hash = pending.hash
                    down.add_note(f"tx {pending.hash} may have reached the node: check it before sending again")
                    raise
                continue
            except Exception as exc:
                reason = _reason(exc)
                if _matches(reason, _OURS_ALREADY):
                    return pending  # an earlier try of these very bytes got in
                if _matches(reason, _NONCE_TAKEN):
                    if self._is_known(pending.hash):
                        return pending  # ours, taken in (or mined) before the answer got lost
                    attempt = self._count(attempt, exc, f"nonce {pending.nonce} is taken")
                    fresh = self._pending_count()
                    log.info(
                        "nonce %d of %s is taken (%s); re-signing at %d", pending.nonce, self.address, reason, fresh
                    )
                    pending = self._sign(tx, max(fresh, pending.nonce + 1))
                    if on_signed is not None:
                        on_signed(pending)
                    continue
                if _matches(reason, _TRY_LATER):
                    attempt = self._backoff(attempt, exc, f"sending tx nonce {pending.nonce} ({reason})")
                    continue
                revert = as_revert(exc, self.errors) if "revert" in reason else None
                if revert is not None:
                    raise revert from exc
                raise TxRejected(f"the node refused tx nonce {pending.nonce} from {self.address}: {reason}") from exc

    def _is_known(self, tx_hash: str) -> bool:
        try:
            self._retrying(lambda: self.w3.eth.get_transaction(tx_hash), "looking up a tx")  # type: ignore[arg-type]
            return True
        except TransactionNotFound:
            return False

    # ---- waiting ----------------------------------------------------------------

    def _await_receipt(self, pending: PendingTx) -> TxReceipt:
        attempt = 0  # connection failures
        rebroadcasts = 0
        deadline = time.monotonic() + self.receipt_timeout_s
        while True:
            try:
                receipt = self._receipt(pending.hash)
                if receipt is not None:
                    confirmed = self._confirm(receipt)
                    if confirmed is not None:
                        return confirmed
                    continue  # reorged out: wait for it again
            except OSError as exc:
                attempt = self._backoff(attempt, exc, f"waiting for tx {pending.hash}")
                continue
            if time.monotonic() < deadline:
                time.sleep(self.poll_s)
                continue
            # Timed out and (just checked) not mined: re-send the same bytes, never new ones.
            rebroadcasts += 1
            if rebroadcasts > self.max_retries:
                raise TxTimeout(
                    f"tx {pending.hash} (nonce {pending.nonce} from {self.address}) not mined after "
                    f"{rebroadcasts} waits of {self.receipt_timeout_s}s; it may still be mined",
                    pending.hash,
                )
            log.warning("tx %s not mined in %ss; re-broadcasting the same bytes", pending.hash, self.receipt_timeout_s)
            self._rebroadcast(pending)
            deadline = time.monotonic() + self.receipt_timeout_s

    def _receipt(self, tx_hash: str) -> TxReceipt | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    def _rebroadcast(self, pending: PendingTx) -> None:
        try:
            self.w3.eth.send_raw_transaction(pending.raw)
        except OSError as exc:
            log.warning("re-broadcast of %s failed: %s", pending.hash, exc)
        except Exception as exc:
            reason = _reason(exc)
            if _matches(reason, _OURS_ALREADY):
                return
            if (
                _matches(reason, _NONCE_TAKEN)
                and self._receipt(pending.hash) is None
                and not self._is_known(pending.hash)
            ):
                with self._lock:
                    self._nonce = None
                raise TxRejected(
                    f"nonce {pending.nonce} of {self.address} was used by another transaction; "
                    f"tx {pending.hash} was not executed"
                ) from exc
            log.warning("re-broadcast of %s refused: %s", pending.hash, reason)

    def _confirm(self, receipt: TxReceipt) -> TxReceipt | None:
        """Waits for `confirmations` blocks on top, then re-reads the receipt (None if reorged out)."""
        if self.confirmations <= 0:
            return receipt
        target = receipt["blockNumber"] + self.confirmations
        while self._retrying(lambda: self.w3.eth.block_number, "reading the block number") < target:
            time.sleep(self.poll_s)
        return self._retrying(lambda: self._receipt(receipt["transactionHash"]), "re-reading a receipt")

    def _revert_of(self, pending: PendingTx, receipt: TxReceipt) -> ChainRevert:
        """Why a mined tx failed: replay it with eth_call at its block, then at the block before."""
        call = {"from": self.address, "gas": pending.tx["gas"], "value": pending.tx.get("value", 0)}
        call.update({k: pending.tx[k] for k in ("to", "data") if k in pending.tx})
        block = receipt["blockNumber"]
        for at in (block, block - 1):
            try:
                self._retrying(lambda at=at: self.w3.eth.call(call, block_identifier=at), "replaying a failed tx")  # type: ignore[arg-type, misc]
            except ChainUnavailable:
                break
            except Exception as exc:
                revert = as_revert(exc, self.errors)
                if revert is not None:
                    revert.tx_hash = pending.hash
                    return revert
                if "gas" in _reason(exc):
                    return ChainRevert("OutOfGas", (), "ran out of gas", tx_hash=pending.hash)
        return ChainRevert(
            "Reverted", (), "reverted in its block (replaying it does not say why)", tx_hash=pending.hash
        )

    # ---- retry helpers ----------------------------------------------------------------

    def _retrying(self, read: Callable[[], T], what: str) -> T:
        attempt = 0
        while True:
            try:
                return read()
            except OSError as exc:
                attempt = self._backoff(attempt, exc, what)

    def _backoff(self, attempt: int, exc: BaseException, what: str) -> int:
        """Sleeps before try attempt+2; raises ChainUnavailable when the tries are used up."""
        if attempt >= self.max_retries:
            raise ChainUnavailable(
                f"{what}: the node at {_endpoint(self.w3)} did not answer after {attempt + 1} tries ({exc})"
            ) from exc
        delay = min(self.backoff_s * 2**attempt, MAX_BACKOFF_S)
        log.warning("%s failed (%s); retrying in %.2fs", what, type(exc).__name__, delay)
        time.sleep(delay)
        return attempt + 1

    def _count(self, attempt: int, exc: BaseException, what: str) -> int:
        if attempt >= self.max_retries:
            raise TxRejected(f"{what}: gave up after {attempt + 1} tries ({_reason(exc)})") from exc
        return attempt + 1


class SenderPool:
    """Spreads sends round-robin over several accounts (Besu limits the pool per
    sender). Every account needs the roles its calls need."""

    def __init__(self, w3: Web3, accounts: Sequence[LocalAccount], **sender_options: Any) -> None:
        if not accounts:
            raise ValueError("a SenderPool needs at least one account")
        self.senders = [TxSender(w3, account, **sender_options) for account in accounts]
        self._turn = itertools.cycle(self.senders)
        self._lock = threading.Lock()

    def next_sender(self) -> TxSender:
        with self._lock:
            return next(self._turn)

    def send(self, call: Any, *, value: int = 0, gas: int | None = None) -> TxReceipt:
        return self.next_sender().send(call, value=value, gas=gas)

    def send_many(self, calls: Iterable[Any], *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> list[TxReceipt]:
        """Call i goes to sender i mod n, each sender pipelined; receipts in call order."""
        calls = list(calls)
        n = len(self.senders)
        shares = [calls[i::n] for i in range(n)]
        with ThreadPoolExecutor(max_workers=n) as pool:
            futures = [
                pool.submit(s.send_many, share, max_in_flight=max_in_flight)
                for s, share in zip(self.senders, shares, strict=True)
            ]
            results = [f.result() for f in futures]
        return [results[i % n][i // n] for i in range(len(calls))]


@contextmanager
def _no_lock(_: str) -> Iterator[NonceNote]:
    yield NonceNote()


def _reason(exc: BaseException) -> str:
    text = str(exc)
    rpc = getattr(exc, "rpc_response", None)
    if isinstance(rpc, dict) and isinstance(rpc.get("error"), dict):
        text = str(rpc["error"].get("message") or text)
    return text.lower().replace("_", " ")


def _matches(reason: str, phrases: Sequence[str]) -> bool:
    return any(p in reason for p in phrases)


def _endpoint(w3: Web3) -> str:
    return str(getattr(w3.provider, "endpoint_uri", None) or type(w3.provider).__name__)
