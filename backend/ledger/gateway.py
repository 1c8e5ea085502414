"""The deployed contracts as the backend sees them, and one transaction sender per signing account.

Connection is lazy: the API starts (and answers /healthz) with the node down; whatever needs the chain
gets `ChainUnavailable` until it answers. Senders are cached per address so that each custodial wallet
counts its nonces in one place (chain.sender); the cache is bounded, and a sender dropped from it simply
re-reads its nonce from the node next time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from backend.core.config import BackendSettings
from chain import manifest as manifest_mod
from chain.client import connect
from chain.contracts import contracts_from_manifest, errors_from_manifest
from chain.errors import ErrorTable
from chain.locks import FileLocks
from chain.sender import FeeQuote, TxSender

MAX_SENDERS = 4_096


class Ledger:
    """A connected view of one deployment: contracts, errors, platform accounts, senders."""

    def __init__(self, settings: BackendSettings) -> None:
        self.manifest = manifest_mod.load(settings.manifest)
        self.w3: Web3 = connect(settings.rpc_url, poa=settings.poa)
        contracts = contracts_from_manifest(self.w3, self.manifest)
        self.ledger: Contract = contracts["VaccineLedger"]
        self.appointments: Contract = contracts["Appointments"]
        self.cold_chain: Contract | None = contracts.get("ColdChainLog")
        self.contracts = contracts
        self.errors: ErrorTable = errors_from_manifest(self.manifest)
        self.chain_id = self.manifest.chain_id
        self.confirmations = settings.confirmations
        self.receipt_timeout_s = settings.receipt_timeout_s
        self.admin = settings.platform_account("admin", self.chain_id)
        self.regulator = settings.platform_account("regulator", self.chain_id)
        self.fees = FeeQuote(self.w3)
        self.shared_lock = FileLocks(settings.lock_dir) if settings.workers > 1 else None
        self._senders: OrderedDict[str, TxSender] = OrderedDict()
        self._lock = threading.Lock()

    def sender(self, account: LocalAccount) -> TxSender:
        with self._lock:
            sender = self._senders.get(account.address)
            if sender is None:
                sender = TxSender(
                    self.w3,
                    account,
                    chain_id=self.chain_id,
                    errors=self.errors,
                    confirmations=self.confirmations,
                    receipt_timeout_s=self.receipt_timeout_s,
                    fees=self.fees,
                    shared_lock=self.shared_lock,
                )
                self._senders[account.address] = sender
                if len(self._senders) > MAX_SENDERS:
                    self._senders.popitem(last=False)
            else:
                self._senders.move_to_end(account.address)
            return sender

    def events(self, contract: Contract, receipt: Any, name: str) -> list[dict[str, Any]]:
        """The decoded `name` events `contract` emitted in `receipt`."""
        from web3.logs import DISCARD

        return [dict(e["args"]) for e in getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)]


class LedgerProvider:
    """Connects on first use and keeps the connection; until the node answers, every use raises
    `ChainUnavailable` (or `ManifestError` when there is no deployment yet)."""

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self._ledger: Ledger | None = None
        self._lock = threading.Lock()

    def get(self) -> Ledger:
        ledger = self._ledger
        if ledger is not None:
            return ledger
        with self._lock:
            if self._ledger is None:
                self._ledger = Ledger(self.settings)
            return self._ledger

    @property
    def connected(self) -> bool:
        return self._ledger is not None
