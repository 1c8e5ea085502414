"""The Merkle tree of oracle/merkle.py: every proof verifies, nothing tampered does, and the
hashing is OpenZeppelin's (sorted pairs, the double-hashed leaf of oracle.reading)."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import strategies as st
from hypothesis.core import given  # not the chain-isolating wrapper pytest-brownie puts on hypothesis.given

from oracle import merkle
from oracle.reading import Reading, leaf


def leaves_of(n: int, salt: str = "") -> list[bytes]:
    return [keccak(text=f"leaf-{salt}{i}") for i in range(n)]


def flip(b: bytes, bit: int = 0) -> bytes:
    return bytes([b[0] ^ (1 << bit), *b[1:]])


@pytest.mark.parametrize("n", range(1, 18))
def test_every_index_verifies(n: int) -> None:
    leaves = leaves_of(n)
    levels = merkle.build(leaves)
    root = merkle.root(leaves)
    assert levels[-1] == (root,)
    for i, lf in enumerate(leaves):
        proof = merkle.proof(leaves, i)
        assert proof == merkle.proof_from_levels(levels, i)
        assert len(proof) <= (n - 1).bit_length()
        assert merkle.verify(proof, root, lf), (n, i)


@pytest.mark.parametrize("n", range(1, 18))
def test_tampered_leaf_proof_or_root_fails(n: int) -> None:
    leaves = leaves_of(n)
    root = merkle.root(leaves)
    for i, lf in enumerate(leaves):
        proof = merkle.proof(leaves, i)
        assert not merkle.verify(proof, root, flip(lf))
        assert not merkle.verify(proof, flip(root), lf)
        for j in range(len(proof)):
            bad = [*proof[:j], flip(proof[j], 3), *proof[j + 1 :]]
            assert not merkle.verify(bad, root, lf)
        if proof:
            assert not merkle.verify(proof[:-1], root, lf)
        if n > 1:
            other = (i + 1) % n
            assert not merkle.verify(proof, root, leaves[other]) or leaves[other] == lf


def test_single_leaf_is_its_own_root_with_an_empty_proof() -> None:
    (lf,) = leaves_of(1)
    assert merkle.root([lf]) == lf
    assert merkle.proof([lf], 0) == []
    assert merkle.verify([], lf, lf)


def test_pairs_are_hashed_sorted_as_openzeppelin_does() -> None:
    a, b = sorted(leaves_of(2))
    assert merkle.hash_pair(a, b) == merkle.hash_pair(b, a) == keccak(a + b)
    assert merkle.root([b, a]) == merkle.root([a, b]) == keccak(a + b)


def test_odd_node_is_carried_up_unchanged() -> None:
    a, b, c = leaves_of(3)
    assert merkle.root([a, b, c]) == merkle.hash_pair(merkle.hash_pair(a, b), c)
    assert merkle.proof([a, b, c], 2) == [merkle.hash_pair(a, b)]


def test_leaf_order_is_kept() -> None:
    leaves = leaves_of(5)
    assert merkle.build(leaves)[0] == tuple(leaves)
    assert merkle.root(leaves) != merkle.root([leaves[4], *leaves[:4]])


def test_reading_leaves() -> None:
    batch = [Reading("fridge-07", 12, seq, 1_763_700_000_000 + seq * 60_000, 45) for seq in range(9)]
    leaves = [leaf(r) for r in batch]
    root = merkle.root(leaves)
    assert all(merkle.verify(merkle.proof(leaves, i), root, leaves[i]) for i in range(len(batch)))
    warmer = Reading("fridge-07", 12, 4, batch[4].ts_ms, 46)
    assert not merkle.verify(merkle.proof(leaves, 4), root, leaf(warmer))


@pytest.mark.parametrize("bad", [[], [b"\0" * 31], [b"\0" * 32, b"\0" * 33]])
def test_rejects_no_leaves_and_wrong_sizes(bad: list[bytes]) -> None:
    with pytest.raises(ValueError):
        merkle.build(bad)


@pytest.mark.parametrize("index", [-1, 3])
def test_proof_index_out_of_range(index: int) -> None:
    with pytest.raises(IndexError):
        merkle.proof(leaves_of(3), index)


@given(
    leaves=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=64),
    data=st.data(),
)
def test_property_every_leaf_proves_and_a_stranger_does_not(leaves: list[bytes], data: st.DataObject) -> None:
    levels = merkle.build(leaves)
    root = levels[-1][0]
    i = data.draw(st.integers(min_value=0, max_value=len(leaves) - 1), label="index")
    proof = merkle.proof_from_levels(levels, i)
    assert merkle.verify(proof, root, leaves[i])
    stranger = data.draw(st.binary(min_size=32, max_size=32).filter(lambda b: b not in leaves), label="stranger")
    assert not merkle.verify(proof, root, stranger)
