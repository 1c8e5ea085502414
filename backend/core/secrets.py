"""Secrets the backend makes for itself on first start and keeps sealed in the database: the token
signing key and the blind-index key. Only the master keys come from configuration."""

from __future__ import annotations

import secrets as stdlib_secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.core.envelope import Keyring
from backend.db.models.offchain import AppSecret

TOKEN_KEY = "token-signing"
INDEX_KEY = "blind-index"


def load_or_create(session: Session, keyring: Keyring, name: str, size: int = 32) -> bytes:
    """The secret `name`; made (random) and committed if it does not exist yet. Two processes starting at
    once agree on one: the loser of the insert reads the winner's."""
    context = f"app_secrets:{name}"
    row = session.get(AppSecret, name)
    if row is None:
        session.add(AppSecret(name=name, value_enc=keyring.seal(stdlib_secrets.token_bytes(size), context)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        row = session.get(AppSecret, name)
        assert row is not None
    return keyring.open(row.value_enc, context)
