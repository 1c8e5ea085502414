"""The reading's units, the bytes a device signs, and the leaf that anchors it."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import strategies as st
from hypothesis.core import given  # not the chain-isolating wrapper pytest-brownie puts on hypothesis.given

from oracle.identity import new_device_key, public_bytes, sign, verify
from oracle.reading import Reading, deci_celsius, leaf, signing_bytes


def reading(**kw: object) -> Reading:
    fields = {"device": "fridge-07", "equipment": 12, "seq": 41, "ts_ms": 1_763_700_000_000, "temp_dc": 45} | kw
    return Reading(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("celsius", "tenths"),
    [(4.5, 45), (-0.5, -5), (8.0, 80), (8.1, 81), (-0.04, 0), (-0.05, -1), (0.05, 1), (-20.0, -200)],
)
def test_deci_celsius_rounds_halves_away_from_zero(celsius: float, tenths: int) -> None:
    assert deci_celsius(celsius) == tenths


def test_every_field_is_signed() -> None:
    base = signing_bytes(reading())
    for change in ({"device": "fridge-08"}, {"equipment": 13}, {"seq": 42}, {"ts_ms": 1}, {"temp_dc": 46},
                   {"battery": 80}, {"door_open": True}):  # fmt: skip
        assert signing_bytes(reading(**change)) != base, change


def test_signature_verifies_only_for_its_reading_and_key() -> None:
    key = new_device_key()
    r = reading()
    signature = sign(key, r)
    assert verify(public_bytes(key), r, signature)
    assert not verify(public_bytes(key), reading(temp_dc=46), signature)
    assert not verify(public_bytes(new_device_key()), r, signature)
    assert not verify(public_bytes(key), r, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not verify(b"short", r, signature)


def test_leaf_is_openzeppelins_double_hash_of_the_abi_encoding() -> None:
    r = reading(temp_dc=-5)
    inner = keccak(
        encode(
            ["uint32", "bytes32", "uint64", "uint64", "int16"],
            [12, keccak(text="fridge-07"), 41, 1_763_700_000_000, -5],
        )
    )
    assert leaf(r) == keccak(inner)
    assert leaf(r) != leaf(reading(temp_dc=-4))


@given(
    device=st.text(min_size=1, max_size=40),
    equipment=st.integers(0, 2**32 - 1),
    seq=st.integers(0, 2**64 - 1),
    ts_ms=st.integers(0, 2**64 - 1),
    temp_dc=st.integers(-(2**15), 2**15 - 1),
)
def test_the_hand_written_encoding_is_the_abi_encoding_for_every_value(
    device: str, equipment: int, seq: int, ts_ms: int, temp_dc: int
) -> None:
    r = Reading(device, equipment, seq, ts_ms, temp_dc)
    encoded = encode(
        ["uint32", "bytes32", "uint64", "uint64", "int16"],
        [equipment, keccak(text=device), seq, ts_ms, temp_dc],
    )
    assert leaf(r) == keccak(keccak(encoded))
