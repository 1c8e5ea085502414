"""Master-key rotation: every sealed value's data key is rewrapped under the first master key, so the
old key can then be dropped from the configuration. The values themselves are not re-encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from backend.db.models.offchain import AefiReport, AppSecret, Person, User, Wallet
from backend.db.models.verification import ConsentGrant, VerifierKey
from backend.runtime import Runtime

# (model, primary key attribute, sealed columns): each column's context is "<table>.<column>:<pk>"
SEALED: list[tuple[Any, str, tuple[str, ...]]] = [
    (Wallet, "address", ("key_enc",)),
    (User, "id", ("login_enc", "display_name_enc")),
    (Person, "id", ("name_enc", "birth_date_enc", "sex_enc", "id_number_enc", "phone_enc")),
    (AefiReport, "id", ("body_enc",)),
    (ConsentGrant, "id", ("token_enc",)),
    (VerifierKey, "id", ("key_enc",)),
]


def rotate(rt: Runtime) -> dict[str, int]:
    counts: dict[str, int] = {}
    keyring = rt.keyring
    with rt.db.session() as s:
        for model, pk, columns in SEALED:
            changed = 0
            for row in s.scalars(select(model)):
                for column, context in _contexts(model, row, pk, columns):
                    blob = getattr(row, column)
                    if blob is not None and keyring.key_id_of(blob) != keyring.current_id:
                        setattr(row, column, keyring.rewrap(blob, context))
                        changed += 1
            counts[model.__tablename__] = changed
        secrets = 0
        for secret in s.scalars(select(AppSecret)):
            context = f"app_secrets:{secret.name}"
            if keyring.key_id_of(secret.value_enc) != keyring.current_id:
                secret.value_enc = keyring.rewrap(secret.value_enc, context)
                secrets += 1
        counts["app_secrets"] = secrets
    return counts


def _contexts(model: Any, row: Any, pk: str, columns: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    for column in columns:
        yield column, f"{model.__tablename__}.{column}:{getattr(row, pk)}"
