"""Custodial wallets: every citizen account and every facility gets a key made here. The key is sealed
at rest (core/envelope.py) and never leaves the server except as an encrypted keystore its owner asks
for; the backend signs on the owner's behalf once the owner is authenticated. Gas is the platform's
concern: the chain is free-gas (zero base fee), so a wallet needs no balance."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.core.envelope import Keyring
from backend.db.models.offchain import Wallet

CACHE_SIZE = 4_096
KEYSTORE_MIN_PASSWORD = 8


class WalletError(Exception):
    pass


class Wallets:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._accounts: OrderedDict[str, LocalAccount] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, session: Session, owner_kind: str, owner_id: str) -> Wallet:
        account: LocalAccount = Account.create()
        wallet = Wallet(
            address=account.address,
            owner_kind=owner_kind,
            owner_id=owner_id,
            key_enc=self.keyring.seal(bytes(account.key), _context(account.address)),
            created_at=int(time.time()),
        )
        session.add(wallet)
        return wallet

    def of(self, session: Session, owner_kind: str, owner_id: str | int) -> Wallet | None:
        return session.scalars(
            select(Wallet).where(Wallet.owner_kind == owner_kind, Wallet.owner_id == str(owner_id))
        ).first()

    def account(self, session: Session, address: str) -> LocalAccount:
        """The signing account of a wallet (keys are kept decrypted in a bounded cache: signing needs them)."""
        with self._lock:
            cached = self._accounts.get(address)
            if cached is not None:
                self._accounts.move_to_end(address)
                return cached
        wallet = session.get(Wallet, address)
        if wallet is None:
            raise WalletError(f"no custodial wallet {address}")
        account: LocalAccount = Account.from_key(self.keyring.open(wallet.key_enc, _context(address)))
        with self._lock:
            self._accounts[address] = account
            if len(self._accounts) > CACHE_SIZE:
                self._accounts.popitem(last=False)
        return account

    def keystore(self, session: Session, address: str, password: str) -> dict[str, Any]:
        """The key as a Web3 Secret Storage (v3) keystore encrypted with `password` (scrypt)."""
        if len(password) < KEYSTORE_MIN_PASSWORD:
            raise WalletError(f"the keystore password must have at least {KEYSTORE_MIN_PASSWORD} characters")
        account = self.account(session, address)
        return Account.encrypt(account.key, password)

    def forget(self, address: str) -> None:
        with self._lock:
            self._accounts.pop(address, None)


def _context(address: str) -> str:
    return f"wallets.key_enc:{address}"
