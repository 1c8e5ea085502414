"""What the run costs, measured exactly where it can be:

- gas: every transaction's receipt (`gasUsed`), named by the function its call data selects, read in JSON-RPC
  batches of blocks (eth_getBlockByNumber with transactions, eth_getBlockReceipts);
- chain history: the bytes of each transaction's call data and of its receipts' event data and topics;
- chain state: Anvil's anvil_dumpState, unpacked: the storage slots each contract holds (× 32 bytes of value;
  the trie's keys and nodes are a client's overhead on top), and the dump's own size (gzip, history included);
- the database: the SQLite file with its WAL, or pg_database_size (simulate/platform.py)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from eth_utils import function_abi_to_4byte_selector
from web3 import Web3

from chain.client import rpc, rpc_batch
from chain.manifest import Manifest

BATCH_BLOCKS = 200
SLOT_BYTES = 32
CATEGORY = {
    "recordDose (walk-in)": "care",
    "recordDose (booked)": "care",
    "book": "care",
    "cancel": "care",
    "reportAdverseEvent": "care",
    "anchorWindow": "cold_chain",
    "reportExcursion": "cold_chain",
    "closeExcursion": "cold_chain",
}
"""Transactions that scale with doses (care) and with equipment-hours (cold chain); everything else is the
supply chain, which scales with sites (deliveries follow a site's reorder cadence) and lots."""
CATEGORIES = ("care", "supply", "cold_chain")
COLD_CHAIN_TABLES = ("reading_batches",)
"""The backend's tables that grow with equipment-hours (a row per anchored batch), not with doses."""


def category(op: str) -> str:
    return CATEGORY.get(op, "supply")


@dataclass
class OpGas:
    count: int = 0
    gas: int = 0
    min: int = 0
    max: int = 0
    calldata_bytes: int = 0
    log_bytes: int = 0

    def add(self, gas: int, calldata: int, logs: int) -> None:
        self.min = gas if self.count == 0 else min(self.min, gas)
        self.max = max(self.max, gas)
        self.count += 1
        self.gas += gas
        self.calldata_bytes += calldata
        self.log_bytes += logs

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "gas_total": self.gas,
            "gas_mean": round(self.gas / self.count) if self.count else 0,
            "gas_min": self.min,
            "gas_max": self.max,
            "calldata_bytes": self.calldata_bytes,
            "log_bytes": self.log_bytes,
        }


@dataclass
class GasTally:
    ops: dict[str, OpGas] = field(default_factory=dict)
    blocks: int = 0

    def add(self, op: str, gas: int, calldata: int, logs: int) -> None:
        self.ops.setdefault(op, OpGas()).add(gas, calldata, logs)

    @property
    def txs(self) -> int:
        return sum(o.count for o in self.ops.values())

    @property
    def gas(self) -> int:
        return sum(o.gas for o in self.ops.values())

    def by_category(self) -> dict[str, dict[str, int]]:
        out = {c: {"txs": 0, "gas": 0, "history_bytes": 0} for c in CATEGORIES}
        for op, o in self.ops.items():
            out[category(op)]["txs"] += o.count
            out[category(op)]["gas"] += o.gas
            out[category(op)]["history_bytes"] += o.calldata_bytes + o.log_bytes
        return out

    def history_bytes(self) -> int:
        return sum(o.calldata_bytes + o.log_bytes for o in self.ops.values())

    def merge(self, other: GasTally) -> None:
        self.blocks += other.blocks
        for op, o in other.ops.items():
            mine = self.ops.setdefault(op, OpGas())
            mine.min = o.min if mine.count == 0 else min(mine.min, o.min)
            mine.max = max(mine.max, o.max)
            mine.count += o.count
            mine.gas += o.gas
            mine.calldata_bytes += o.calldata_bytes
            mine.log_bytes += o.log_bytes


class GasScanner:
    """Names each transaction by the function it calls on the deployed contracts."""

    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.names: dict[tuple[str, bytes], str] = {}
        for info in manifest.contracts.values():
            for item in info.abi:
                if item.get("type") == "function":
                    self.names[(info.address.lower(), function_abi_to_4byte_selector(item))] = item["name"]
        self.record_dose = next(s for (_, s), n in self.names.items() if n == "recordDose")

    def scan(self, first: int, last: int) -> GasTally:
        """Blocks first..last inclusive."""
        tally = GasTally()
        for block, receipts in self._blocks(first, last):
            tally.blocks += 1
            by_hash = {r["transactionHash"]: r for r in receipts}
            for tx in block["transactions"]:
                receipt = by_hash[tx["hash"]]
                data = bytes.fromhex(tx["input"][2:])
                logs = sum(len(log["data"]) // 2 - 1 + 32 * len(log["topics"]) for log in receipt["logs"])
                tally.add(self._name(tx, data), int(receipt["gasUsed"], 16), len(data), logs)
        return tally

    def _blocks(self, first: int, last: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        for start in range(first, last + 1, BATCH_BLOCKS):
            numbers = [hex(n) for n in range(start, min(last, start + BATCH_BLOCKS - 1) + 1)]
            calls = [("eth_getBlockByNumber", [n, True]) for n in numbers]
            calls += [("eth_getBlockReceipts", [n]) for n in numbers]
            results = rpc_batch(self.w3, calls)
            yield from zip(results[: len(numbers)], results[len(numbers) :], strict=True)

    def _name(self, tx: dict[str, Any], data: bytes) -> str:
        if not tx.get("to"):
            return "deploy"
        name = self.names.get((tx["to"].lower(), data[:4]), "other")
        if name == "recordDose":
            # recordDose(person, lot, equipment, unitHash, booking): a booking id other than 0 completes one
            booked = int.from_bytes(data[4 + 4 * 32 : 4 + 5 * 32], "big") != 0
            return "recordDose (booked)" if booked else "recordDose (walk-in)"
        return name


def block_number(w3: Web3) -> int:
    return int(rpc(w3, "eth_blockNumber"), 16)


@dataclass(frozen=True)
class StateSize:
    slots: dict[str, int]
    """Storage slots per deployed contract (by name)."""
    all_slots: int
    """Every account's, the platform's contracts and the custodial wallets' none."""
    accounts: int
    dump_bytes: int
    """anvil_dumpState's answer (gzip JSON): state and the blocks and transactions Anvil keeps."""

    @property
    def bytes(self) -> int:
        return self.all_slots * SLOT_BYTES

    def as_dict(self) -> dict[str, Any]:
        return {
            "slots": self.slots,
            "all_slots": self.all_slots,
            "slot_bytes": self.bytes,
            "accounts": self.accounts,
            "dump_bytes": self.dump_bytes,
        }


def state_size(w3: Web3, manifest: Manifest) -> StateSize:
    raw = bytes.fromhex(rpc(w3, "anvil_dumpState")[2:])
    dump = json.loads(gzip.decompress(raw))
    accounts = {address.lower(): a for address, a in dump["accounts"].items()}
    slots = {
        name: len(accounts.get(info.address.lower(), {}).get("storage") or {})
        for name, info in manifest.contracts.items()
    }
    total = sum(len(a.get("storage") or {}) for a in accounts.values())
    return StateSize(slots, total, len(accounts), len(raw))


def growth(before: StateSize, after: StateSize) -> dict[str, Any]:
    per_contract = Counter(after.slots)
    per_contract.subtract(before.slots)
    return {
        "slots": dict(per_contract),
        "all_slots": after.all_slots - before.all_slots,
        "slot_bytes": (after.all_slots - before.all_slots) * SLOT_BYTES,
        "accounts": after.accounts - before.accounts,
        "dump_bytes": after.dump_bytes - before.dump_bytes,
    }
