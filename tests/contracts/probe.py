"""Calls made as any address, with the refusal decoded by name: for the role matrix and the attack
tests (tests/contracts/test_roles.py, test_attacks.py).

`probe` runs a function through eth_call rather than a transaction. Access rules read only
`msg.sender`, which eth_call sets like a transaction does, so the answer is the same; but nothing
is mined, no state changes, and a contract address (Appointments, ColdChainLog, the ledger) can be
the caller without impersonating it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from brownie import web3
from eth_utils import to_checksum_address

from chain.errors import ChainRevert, ErrorTable, decode_revert, revert_data

PANIC_OVERFLOW = 0x11
"""Solidity's Panic code for checked arithmetic that over- or underflowed."""


def error_table(*contracts: Any) -> ErrorTable:
    """Every custom error of the given contracts (the ledger's ABI includes OpenZeppelin's)."""
    return ErrorTable.from_abis(c.abi for c in contracts)


def probe(errors: ErrorTable, sender: Any, contract: Any, function: str, args: Iterable[Any]) -> ChainRevert | None:
    """`contract.function(*args)` as `sender` at the latest block: None when it would succeed,
    else the refusal (`.name`, `.args`). A revert without data is returned as "Reverted"."""
    data = getattr(contract, function).encode_input(*args)
    return probe_raw(errors, sender, contract.address, data)


def probe_raw(errors: ErrorTable, sender: Any, to: str, data: str) -> ChainRevert | None:
    """As `probe`, with calldata already encoded (e.g. deliberately malformed)."""
    request = {"from": address_of(sender), "to": to, "data": data}
    reply = web3.provider.make_request("eth_call", [request, "latest"])
    if "error" not in reply:
        return None
    raw = revert_data(reply)
    if raw is None:
        # A revert without data (e.g. the ABI decoder refusing calldata) may come with none at all.
        if "revert" not in str(reply["error"]).lower():
            raise AssertionError(f"eth_call failed, not by a revert: {reply}")
        raw = b""
    return decode_revert(raw, errors)


def address_of(who: Any) -> str:
    """A checksummed address from a Brownie account, a contract or an address string."""
    return to_checksum_address(str(getattr(who, "address", who)))


def shown(refusal: ChainRevert | None) -> str:
    """'ok' or the refusal as a test message shows it."""
    return "ok" if refusal is None else refusal.message
