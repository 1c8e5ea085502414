"""Envelope encryption: values open only in their own context, under a configured key, and survive a
master-key rotation."""

from __future__ import annotations

import base64

import pytest

from backend.core.envelope import Keyring, KeyringError, blind_index


def ring(*ids: str) -> Keyring:
    return Keyring.parse(",".join(Keyring.generate_text(i) for i in ids))


def test_round_trip_and_fresh_ciphertexts() -> None:
    k = ring("a")
    one, two = k.seal(b"secret key", "wallets.key_enc:0x1"), k.seal(b"secret key", "wallets.key_enc:0x1")
    assert one != two  # a new data key and nonce each time
    assert b"secret key" not in one
    assert k.open(one, "wallets.key_enc:0x1") == b"secret key"


def test_a_value_moved_to_another_row_does_not_open() -> None:
    k = ring("a")
    blob = k.seal(b"13800138000", "persons.phone_enc:p1")
    with pytest.raises(KeyringError):
        k.open(blob, "persons.phone_enc:p2")
    with pytest.raises(KeyringError):
        k.open(blob, "persons.name_enc:p1")


def test_tampering_is_detected() -> None:
    k = ring("a")
    blob = bytearray(k.seal(b"value", "c"))
    blob[-1] ^= 1
    with pytest.raises(KeyringError):
        k.open(bytes(blob), "c")


def test_rotation_rewraps_without_the_old_key_later() -> None:
    old = ring("k1")
    blob = old.seal(b"private", "ctx")
    both = Keyring.parse(Keyring.generate_text("k2") + "," + _text(old, "k1"))
    assert both.key_id_of(blob) == "k1"
    rewrapped = both.rewrap(blob, "ctx")
    assert both.key_id_of(rewrapped) == "k2"
    only_new = Keyring([("k2", both._keys["k2"])])  # the old key dropped from configuration
    assert only_new.open(rewrapped, "ctx") == b"private"
    with pytest.raises(KeyringError, match="k1"):
        only_new.open(blob, "ctx")


def _text(k: Keyring, key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(k._keys[key_id]).decode()}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no master key"),
        ("k1", "id:base64"),
        ("k1:!!!", "base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32"),
    ],
)
def test_bad_key_configuration_is_refused_with_a_reason(text: str, problem: str) -> None:
    with pytest.raises(KeyringError, match=problem):
        Keyring.parse(text)


def test_key_file_is_created_only_when_allowed(tmp_path) -> None:
    path = tmp_path / "keys"
    with pytest.raises(KeyringError, match="VAXLEDGER_BACKEND_MASTER_KEYS"):
        Keyring.from_file(path, create=False)
    k = Keyring.from_file(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert Keyring.from_file(path, create=False).open(k.seal(b"x", "c"), "c") == b"x"


def test_repr_shows_no_key_material() -> None:
    k = ring("k1")
    assert base64.b64encode(k._keys["k1"]).decode() not in repr(k)


def test_blind_index_is_keyed() -> None:
    assert blind_index(b"a" * 32, "phone", "13800138000") == blind_index(b"a" * 32, "phone", "13800138000")
    assert blind_index(b"a" * 32, "phone", "13800138000") != blind_index(b"b" * 32, "phone", "13800138000")
    assert blind_index(b"a" * 32, "phone", "1") != blind_index(b"a" * 32, "id_number", "1")
