"""Device identity: each sensor holds an Ed25519 key and signs every reading
(`reading.signing_bytes`); the oracle knows each device's public key."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from oracle.reading import Reading, signing_bytes


def new_device_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The 32 raw bytes of the device's public key, as registered with the oracle."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(key: Ed25519PrivateKey, reading: Reading) -> bytes:
    return key.sign(signing_bytes(reading))


def verify(public_key: bytes, reading: Reading, signature: bytes) -> bool:
    """True when `signature` is the device's signature over this reading."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, signing_bytes(reading))
    except (InvalidSignature, ValueError):
        return False
    return True
