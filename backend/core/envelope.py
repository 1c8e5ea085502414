"""Envelope encryption for what the database must keep secret: custodial keys and personal data.

Every value gets its own data key (AES-256-GCM); the data key is stored beside the value, wrapped by a
master key from configuration. Rotating the master key rewraps the data keys (a few bytes each) without
touching the values. Each value is bound to a context (which table, column and row it belongs to) as
associated data, so a ciphertext copied into another row or column does not decrypt.

A sealed blob: version (1) | key-id length (1) | key id | wrap nonce (12) | wrapped data key (48)
| nonce (12) | ciphertext with tag."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
WRAPPED_BYTES = KEY_BYTES + 16


class KeyringError(Exception):
    """The master keys are missing or malformed, or a value does not decrypt under them."""


class Keyring:
    """Master keys by id; the first seals, any of them opens."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise KeyringError("no master key")
        for key_id, key in keys:
            if not key_id or len(key_id.encode()) > 255 or not key_id.isascii() or ":" in key_id or "," in key_id:
                raise KeyringError(f"master key id {key_id!r} must be 1..255 ASCII characters without ':' or ','")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"master key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")
        self._keys = dict(keys)
        if len(self._keys) != len(keys):
            raise KeyringError("master key ids must be distinct")
        self.current_id = keys[0][0]

    def __repr__(self) -> str:  # never the keys
        return f"Keyring(current={self.current_id!r}, ids={list(self._keys)})"

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """ "id:base64,id:base64" (first is current)."""
        keys = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key_id, sep, encoded = part.partition(":")
            if not sep:
                raise KeyringError("each master key is written id:base64")
            try:
                keys.append((key_id.strip(), base64.b64decode(encoded.strip(), validate=True)))
            except binascii.Error:
                raise KeyringError(f"master key {key_id.strip()!r} is not valid base64") from None
        return cls(keys)

    @staticmethod
    def generate_text(key_id: str = "k1") -> str:
        return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"

    @classmethod
    def from_file(cls, path: Path, *, create: bool) -> Keyring:
        """The keys in `path`; a new file with one fresh key when missing and `create` (mode 0600)."""
        if not path.exists():
            if not create:
                raise KeyringError(
                    f"no master keys: set VAXLEDGER_BACKEND_MASTER_KEYS or provide {path} "
                    "(one is generated only on the development chain)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(cls.generate_text() + "\n")
        return cls.parse(path.read_text())

    def seal(self, plaintext: bytes, context: str) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        body = AESGCM(data_key).encrypt(nonce, plaintext, _aad(context))
        return self._wrap(self.current_id, data_key, context) + nonce + body

    def open(self, blob: bytes, context: str) -> bytes:
        key_id, data_key, rest = self._unwrap(blob, context)
        nonce, body = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
        try:
            return AESGCM(data_key).decrypt(nonce, body, _aad(context))
        except InvalidTag:
            raise KeyringError(f"a value sealed under key {key_id!r} does not open in context {context!r}") from None

    def seal_text(self, text: str, context: str) -> bytes:
        return self.seal(text.encode(), context)

    def open_text(self, blob: bytes, context: str) -> str:
        return self.open(blob, context).decode()

    def key_id_of(self, blob: bytes) -> str:
        return _parse_header(blob)[0]

    def rewrap(self, blob: bytes, context: str) -> bytes:
        """The same value with its data key wrapped by the current master key."""
        key_id, data_key, rest = self._unwrap(blob, context)
        if key_id == self.current_id:
            return blob
        return self._wrap(self.current_id, data_key, context) + rest

    def _wrap(self, key_id: str, data_key: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        wrapped = AESGCM(self._keys[key_id]).encrypt(nonce, data_key, _aad("data-key:" + context))
        kid = key_id.encode()
        return bytes([VERSION, len(kid)]) + kid + nonce + wrapped

    def _unwrap(self, blob: bytes, context: str) -> tuple[str, bytes, bytes]:
        key_id, offset = _parse_header(blob)
        master = self._keys.get(key_id)
        if master is None:
            raise KeyringError(f"value sealed under master key {key_id!r}, which is not configured")
        nonce = blob[offset : offset + NONCE_BYTES]
        wrapped = blob[offset + NONCE_BYTES : offset + NONCE_BYTES + WRAPPED_BYTES]
        try:
            data_key = AESGCM(master).decrypt(nonce, wrapped, _aad("data-key:" + context))
        except InvalidTag:
            raise KeyringError(f"a data key under {key_id!r} does not open in context {context!r}") from None
        return key_id, data_key, blob[offset + NONCE_BYTES + WRAPPED_BYTES :]


def _parse_header(blob: bytes) -> tuple[str, int]:
    if len(blob) < 2 or blob[0] != VERSION:
        raise KeyringError("not a sealed value (unknown version)")
    end = 2 + blob[1]
    if len(blob) < end + NONCE_BYTES + WRAPPED_BYTES + NONCE_BYTES + 16:
        raise KeyringError("sealed value is truncated")
    return blob[2:end].decode("ascii"), end


def _aad(context: str) -> bytes:
    return b"vaxledger:v1:" + context.encode()


def blind_index(key: bytes, purpose: str, value: str) -> str:
    """A keyed hash to look a secret value up by equality (a phone number at login, an ID number for
    duplicates) without storing it in clear. Keyed, so the low-entropy value cannot be brute-forced from
    the database alone; it never goes on chain."""
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
