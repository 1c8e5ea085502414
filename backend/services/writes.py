"""Where an API call becomes a transaction: every write a user asks for goes through `ChainWriter.send`.

1. The sender estimates first: a refusal there (a named contract error) means nothing was signed or sent;
   an audit row (who, which facility, what, on what) is committed as "refused" and the caller gets the
   refusal in words (ledger/reasons.py).
2. The transaction is signed with the actor's custodial key; before it is broadcast, the audit row is
   committed as "pending" with its hash, so that after a crash the chain can always be asked about it.
3. When mined, the row becomes "done" with its block (or "refused" if it reverted in its block), and the
   request waits briefly for the indexer to reach that block, so the caller reads its own write.

A node that stops answering after the transaction may have left leaves the row "pending" with the hash:
`reconcile` settles such rows from their receipts later. No database row ever claims a write the chain
does not have: the tables that describe the chain are written by the indexer alone."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from web3.exceptions import MismatchedABI, TransactionNotFound, Web3ValidationError
from web3.types import TxReceipt

from backend.db.models.offchain import AuditEntry, User
from backend.errors import ApiError
from backend.ledger.gateway import Ledger
from backend.ledger.reasons import refusal
from chain.errors import ChainError, ChainRevert, ChainUnavailable, TxRejected

if TYPE_CHECKING:
    from backend.runtime import Runtime

log = logging.getLogger(__name__)


STALE_PENDING_S = 60
"""An attempt logged this long ago that never signed anything belongs to a process that stopped."""


@dataclass
class IdempotencyScope:
    """A request's Idempotency-Key; each write the request makes gets its own key under it, in order, so a
    retried request maps its writes onto the first attempt's."""

    key: str
    writes: int = 0


idempotency: ContextVar[IdempotencyScope | None] = ContextVar("idempotency", default=None)


def _next_key(action: str) -> str | None:
    scope = idempotency.get()
    if scope is None:
        return None
    scope.writes += 1
    return f"{scope.key}:{scope.writes}:{action}"[:120]


@dataclass(frozen=True)
class Actor:
    """Who is acting: the authenticated user, their role and the facility they act for."""

    user_id: str | None
    role: str
    facility_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.role, user.facility_id)


def tx_hash(receipt: TxReceipt) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


def chain_unavailable(what: str) -> ApiError:
    return ApiError(
        503,
        "chain_unavailable",
        f"the ledger node is not answering ({what}); nothing was recorded, try again shortly",
        "区块链节点暂时无法访问，本次操作未记录，请稍后重试",
        headers={"Retry-After": "5"},
    )


def outcome_unknown(sent: str) -> ApiError:
    return ApiError(
        503,
        "outcome_unknown",
        f"the transaction {sent} was sent but its outcome is not known yet; retry with the same Idempotency-Key",
        f"交易 {sent} 已发送，结果暂未确认，请稍后用同一幂等键重试",
        detail={"tx_hash": sent},
        headers={"Retry-After": "5"},
    )


def in_progress() -> ApiError:
    return ApiError(
        409,
        "in_progress",
        "a request with this Idempotency-Key is being processed; retry shortly",
        "相同幂等键的请求正在处理，请稍后重试",
        headers={"Retry-After": "2"},
    )


def refused(revert: ChainRevert) -> ApiError:
    r = refusal(revert)
    return ApiError(r.status, r.reason, r.message_en, r.message_zh, detail={"chain_error": r.chain_error})


class ChainWriter:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def send(
        self,
        actor: Actor,
        action: str,
        target: str,
        account: LocalAccount,
        build: Callable[[Ledger], Any],
    ) -> tuple[Ledger, TxReceipt]:
        """Sends `build(ledger)` (a contract function call) signed by `account`; returns the receipt.

        Under an idempotency key (the request's Idempotency-Key header: `idempotency`), a write already
        done answers with its receipt instead of being sent again, and one whose outcome is still unknown
        is looked up on chain first: a client retrying after a timeout or a crash never writes twice."""
        try:
            ledger = self.rt.ledgers.get()
        except ChainUnavailable as exc:
            raise chain_unavailable(str(exc)) from exc
        key = _next_key(action) if actor.user_id else None
        entry_id: int | None = None
        if key is not None:
            replayed, entry_id = self._replay(ledger, actor, key)
            if replayed is not None:
                return ledger, replayed

        def record(status: str, tx_hash: str | None = None, detail: str | None = None) -> None:
            # The row is written when there is something to say: signed (its hash, before the broadcast, so
            # after a crash the chain can be asked), or refused or failed before anything was signed.
            nonlocal entry_id
            if entry_id is None:
                entry_id = self._audit(actor, action, target, key, status=status, tx_hash=tx_hash, detail=detail)
            else:
                self._settle(entry_id, status, tx_hash=tx_hash, detail=detail)

        try:
            call = build(ledger)
        except (MismatchedABI, Web3ValidationError, OverflowError) as exc:
            # a value the contract's types cannot hold (a date before 1970, a number past uint40): the
            # routes bound what they can, this catches what slips through
            raise ApiError(
                422, "invalid_value", f"a value does not fit the ledger's fields: {exc}"[:300], "数值超出账本字段的范围"
            ) from exc
        sender = ledger.sender(account)
        try:
            pending = sender.submit(call, on_signed=lambda p: record("pending", p.hash))
        except ChainRevert as revert:
            record("refused", detail=revert.message)
            self.rt.metrics.chain_writes.labels(action, "refused").inc()
            raise refused(revert) from revert
        except (ChainUnavailable, TxRejected) as exc:
            tx_hash = getattr(exc, "tx_hash", None)
            record("pending" if tx_hash else "failed", tx_hash, str(exc))
            self.rt.metrics.chain_writes.labels(action, "unavailable").inc()
            raise chain_unavailable("sending") from exc
        assert entry_id is not None  # recorded when signed
        try:
            receipt = sender.wait(pending)
        except ChainRevert as revert:
            self._settle(entry_id, "refused", tx_hash=pending.hash, detail=revert.message)
            self.rt.metrics.chain_writes.labels(action, "refused").inc()
            raise refused(revert) from revert
        except ChainError as exc:
            self.rt.metrics.chain_writes.labels(action, "unknown").inc()
            raise outcome_unknown(pending.hash) from exc
        return ledger, self._done(entry_id, action, receipt)

    def _done(self, entry_id: int, action: str, receipt: TxReceipt) -> TxReceipt:
        block = int(receipt["blockNumber"])
        self._settle(entry_id, "done", tx_hash=tx_hash(receipt), block=block)
        self.rt.metrics.chain_writes.labels(action, "done").inc()
        if self.rt.settings.write_wait_indexed_s > 0:
            self.rt.wait_indexed(block, self.rt.settings.write_wait_indexed_s)
        return receipt

    def _replay(self, ledger: Ledger, actor: Actor, key: str) -> tuple[TxReceipt | None, int | None]:
        """(the receipt of the write this key already made, or None; the audit row to reuse, if any)."""
        with self.rt.db.sessions() as s:
            entry = s.scalars(
                select(AuditEntry).where(AuditEntry.user_id == actor.user_id, AuditEntry.idempotency_key == key)
            ).first()
        if entry is None:
            return None, None
        if entry.status in ("refused", "failed"):
            return None, self._reopen(entry.id)  # nothing was written: a new attempt is safe
        if entry.tx_hash is None:
            if time.time() - entry.at < STALE_PENDING_S:
                raise in_progress()
            return None, self._reopen(entry.id)  # its process stopped before signing anything
        try:
            receipt = ledger.w3.eth.get_transaction_receipt(entry.tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            receipt = None
        except OSError as exc:
            raise chain_unavailable("looking up an earlier attempt") from exc
        if receipt is None:
            try:
                ledger.w3.eth.get_transaction(entry.tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return None, self._reopen(entry.id)  # signed, never taken in: its bytes are gone with the process
            raise outcome_unknown(entry.tx_hash)  # still in the pool: ask again once it is mined
        if receipt["status"] == 0:
            return None, self._reopen(entry.id)  # it reverted: nothing was written, try again
        return self._done(entry.id, entry.action, receipt), entry.id

    def _reopen(self, entry_id: int) -> int:
        with self.rt.db.engine.begin() as conn:
            conn.execute(
                update(AuditEntry)
                .where(AuditEntry.id == entry_id)
                .values(status="pending", tx_hash=None, block=None, at=int(time.time()))
            )
        return entry_id

    def _audit(
        self,
        actor: Actor,
        action: str,
        target: str,
        key: str | None,
        *,
        status: str,
        tx_hash: str | None = None,
        detail: str | None = None,
    ) -> int:
        # Core statements on a connection of their own: two of these a write, on the hot path
        try:
            with self.rt.db.engine.begin() as conn:
                return conn.execute(
                    insert(AuditEntry)
                    .values(
                        at=int(time.time()),
                        user_id=actor.user_id,
                        role=actor.role,
                        facility_id=actor.facility_id,
                        action=action,
                        target=target[:120],
                        status=status,
                        tx_hash=tx_hash,
                        detail=detail[:500] if detail else None,
                        idempotency_key=key,
                    )
                    .returning(AuditEntry.id)
                ).scalar_one()
        except IntegrityError:
            raise in_progress() from None  # the same key, at the same moment, from another request

    def _settle(
        self,
        entry_id: int,
        status: str,
        *,
        tx_hash: str | None = None,
        block: int | None = None,
        detail: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "block": block}
        if tx_hash:
            values["tx_hash"] = tx_hash
        if detail:
            values["detail"] = detail[:500]
        with self.rt.db.engine.begin() as conn:
            conn.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**values))

    def reconcile(self) -> int:
        """Settles "pending" audit rows whose transaction's outcome is now known; returns how many."""
        ledger = self.rt.ledgers.get()
        settled = 0
        with self.rt.db.session() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.status == "pending")).all()
            for entry in rows:
                if entry.tx_hash is None:
                    entry.status, entry.detail = "failed", "never sent (the process stopped before sending)"
                    settled += 1
                    continue
                try:
                    receipt = ledger.w3.eth.get_transaction_receipt(entry.tx_hash)  # type: ignore[arg-type]
                except TransactionNotFound:
                    continue
                entry.status = "done" if receipt["status"] == 1 else "refused"
                entry.block = int(receipt["blockNumber"])
                settled += 1
        return settled
