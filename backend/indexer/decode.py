"""Raw logs into named events, and an anchoring transaction's input into its batch headers.

Events are looked up by (contract address, topic0) over every event of the deployment's ABIs, so one
eth_getLogs over the three contracts yields everything the projections need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data

from chain.manifest import Manifest


@dataclass(frozen=True, slots=True)
class Event:
    contract: str
    name: str
    args: dict[str, Any]
    """Bytes as 0x-hex strings, addresses checksummed, numbers as ints."""
    block: int
    log_index: int
    tx_hash: str


class EventDecoder:
    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.addresses = [to_checksum_address(c.address) for c in manifest.contracts.values()]
        self._by_topic: dict[tuple[str, bytes], tuple[str, dict[str, Any]]] = {}
        for name, info in manifest.contracts.items():
            address = to_checksum_address(info.address).lower()
            for entry in info.abi:
                if entry.get("type") == "event" and not entry.get("anonymous"):
                    self._by_topic[(address, bytes(event_abi_to_log_topic(entry)))] = (name, entry)

    def decode(self, raw: dict[str, Any]) -> Event | None:
        """The event of a log as eth_getLogs returns it (hex strings), or None for a log of no known event
        (another contract's, a future ABI's)."""
        log = {
            "address": to_checksum_address(raw["address"]),
            "topics": [HexBytes(t) for t in raw["topics"]],
            "data": HexBytes(raw["data"]),
            "blockNumber": int(raw["blockNumber"], 16),
            "blockHash": HexBytes(raw["blockHash"]),
            "logIndex": int(raw["logIndex"], 16),
            "transactionIndex": int(raw["transactionIndex"], 16),
            "transactionHash": HexBytes(raw["transactionHash"]),
        }
        topics = log["topics"]
        if not topics:
            return None
        key = (str(log["address"]).lower(), bytes(HexBytes(topics[0])))
        found = self._by_topic.get(key)
        if found is None:
            return None
        contract, abi = found
        data = get_event_data(self.w3.codec, abi, log)
        return Event(
            contract=contract,
            name=str(data["event"]),
            args={k: _plain(v) for k, v in data["args"].items()},
            block=int(log["blockNumber"]),
            log_index=int(log["logIndex"]),
            tx_hash=_hex(log["transactionHash"]),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


@dataclass(frozen=True, slots=True)
class BatchHeader:
    batch_id: str
    equipment: int
    first_ts_ms: int
    last_ts_ms: int
    count: int
    min_temp_dc: int
    max_temp_dc: int
    merkle_root: str


def window_headers(cold_chain: Any, tx_input: bytes | str) -> tuple[str, list[BatchHeader]]:
    """(window id, headers) from an anchorWindow transaction's input."""
    fn, params = cold_chain.decode_function_input(tx_input)
    if fn.fn_name != "anchorWindow":
        raise ValueError(f"expected anchorWindow, the transaction calls {fn.fn_name}")
    headers = []
    for h in params["batches"]:
        values = h if isinstance(h, tuple | list) else tuple(h.values())
        batch_id, equipment, first, last, count, lo, hi, root = values
        headers.append(BatchHeader(_plain(batch_id), equipment, first, last, count, lo, hi, _plain(root)))
    return _plain(params["windowId"]), headers
