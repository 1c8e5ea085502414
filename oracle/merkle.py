"""A Merkle tree over reading leaves that OpenZeppelin's MerkleProof verifies on chain.

Pairs are hashed sorted, keccak256(min(a, b) ++ max(a, b)), as MerkleProof's
commutative `_hashPair` does, so a proof is just the sibling hashes from the leaf
up: no left/right flags. Leaves are already double-hashed (oracle.reading.leaf),
so a 64-byte inner node can never pass for a leaf.

Leaves stay in the order they are given: the oracle passes a batch's readings in
the order it received them (per device, by `seq`), and leaf i is reading i. The
tree is built level by level, pairing neighbours; an odd node out at the end of a
level is carried up unchanged (and contributes no sibling to proofs through it).
A single leaf is its own root, with an empty proof. Duplicate leaves are allowed.

All functions are pure; levels are returned as new tuples, never mutated."""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import keccak

Levels = tuple[tuple[bytes, ...], ...]


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative `_hashPair`: keccak256 of the two hashes, smaller first."""
    return keccak(a + b) if a < b else keccak(b + a)


def _check_leaves(leaves: Sequence[bytes]) -> None:
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes) or len(leaf) != 32:
            raise ValueError(f"leaf {i} is not 32 bytes")


def build(leaves: Sequence[bytes]) -> Levels:
    """Every level of the tree, leaves first and the root (alone) last."""
    _check_leaves(leaves)
    levels = [tuple(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = tuple(hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2))
        levels.append(parents + level[-1:] if len(level) % 2 else parents)
    return tuple(levels)


def root(leaves: Sequence[bytes]) -> bytes:
    """The root over `leaves`, in their order."""
    return build(leaves)[-1][0]


def proof_from_levels(levels: Levels, index: int) -> list[bytes]:
    """The sibling hashes of leaf `index`, from the bottom up, in a tree from `build`."""
    if not 0 <= index < len(levels[0]):
        raise IndexError(f"leaf index {index} out of range for {len(levels[0])} leaves")
    proof = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index //= 2
    return proof


def proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The proof that `leaves[index]` is in the tree over `leaves` (build once and use
    `proof_from_levels` when proving many leaves of one batch)."""
    return proof_from_levels(build(leaves), index)


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """MerkleProof.verify in Python: folds the proof into the leaf and compares with `root`."""
    computed = leaf
    for sibling in proof:
        computed = hash_pair(computed, sibling)
    return computed == root
