"""QBFT's genesis facts: the extraData that names the first validators, and the genesis file.

Besu reads a QBFT genesis block's extraData as RLP([32-byte vanity, [validator addresses], votes, round,
seals]); the genesis block has no vote, round 0 and no seals. Block-header validator selection is used, so
later validators are added and removed by the validators' votes (qbft_proposeValidatorVote), not by a
contract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth_utils import is_address, to_canonical_address, to_checksum_address

VANITY = bytes(32)
ISTANBUL_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The mixHash Besu expects in a BFT genesis block ("ctical byzantine fault tolerance")."""
EPOCH_LENGTH = 30_000
"""Blocks after which pending validator votes are discarded (Besu's documented default)."""
GENESIS_HARDFORK = "shanghai"
"""The newest fork active at genesis: the contracts' compile target (brownie-config.yaml, chain.dev)."""
DEFAULT_GAS_LIMIT = 100_000_000
"""About 1,400 doses (68,000 gas each) a block: near what a 4-validator QBFT network executes in a 2 s period
(Besu's published 750-1,200 tx/s), so a full block does not outlast its period."""


class QbftError(ValueError):
    """A genesis that Besu would refuse or misread."""


@dataclass(frozen=True)
class ExtraData:
    vanity: bytes
    validators: tuple[str, ...]
    """Checksummed addresses, in the order encoded."""
    votes: list[Any]
    round: int
    seals: list[Any]


def encode_extra_data(validators: Sequence[str]) -> str:
    """The genesis extraData (0x hex) naming `validators`, in the order given."""
    if not validators:
        raise QbftError("a QBFT network needs at least one validator")
    for address in validators:
        if not is_address(address):
            raise QbftError(f"{address!r} is not an address")
    if len({a.lower() for a in validators}) != len(validators):
        raise QbftError("a validator is listed twice")
    addresses = [to_canonical_address(a) for a in validators]
    return "0x" + rlp.encode([VANITY, addresses, [], b"", []]).hex()


def decode_extra_data(extra: str) -> ExtraData:
    """The fields of a QBFT extraData; QbftError when it is not one."""
    try:
        fields = rlp.decode(bytes.fromhex(extra.removeprefix("0x")))
    except (ValueError, rlp.DecodingError) as exc:
        raise QbftError(f"extraData is not RLP: {exc}") from exc
    if not isinstance(fields, list) or len(fields) != 5:
        raise QbftError("QBFT extraData is a list of 5 items: vanity, validators, votes, round, seals")
    vanity, validators, votes, round_, seals = fields
    if not isinstance(vanity, bytes) or len(vanity) != 32:
        raise QbftError("the vanity must be 32 bytes")
    if not isinstance(validators, list) or any(not isinstance(v, bytes) or len(v) != 20 for v in validators):
        raise QbftError("validators must be a list of 20-byte addresses")
    if not isinstance(round_, bytes):
        raise QbftError("the round must be an integer")
    return ExtraData(
        vanity,
        tuple(to_checksum_address(v) for v in validators),
        list(votes),
        int.from_bytes(round_, "big"),
        list(seals),
    )


def genesis(
    chain_id: int, validators: Sequence[str], *, block_period_s: int = 2, gas_limit: int = DEFAULT_GAS_LIMIT
) -> dict[str, Any]:
    """A Besu QBFT genesis: free gas (zero base fee), Shanghai from block 0, the validators in ascending
    order (as Besu's documentation lists them) in extraData, no pre-funded accounts."""
    if chain_id <= 0:
        raise QbftError("the chain id must be positive")
    if block_period_s < 1:
        raise QbftError("the block period is at least 1 s")
    ordered = sorted(validators, key=str.lower)  # equal-length hex: text order is numeric order
    return {
        "config": {
            "chainId": chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            f"{GENESIS_HARDFORK}Time": 0,
            # A base fee of 0 in every block: zero-priced transactions from wallets without a balance are valid.
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": block_period_s,
                "epochlength": EPOCH_LENGTH,
                # Besu's tuning advice starts the round timeout at twice the block period.
                "requesttimeoutseconds": 2 * block_period_s,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": ISTANBUL_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "extraData": encode_extra_data(ordered),
        "alloc": {},
    }
