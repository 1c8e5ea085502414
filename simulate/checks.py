"""Whether the run left the platform consistent, asked of the chain itself after the last hour:

1. doses: the doses the report counts (answered 201 by the backend) = DoseRecorded events in the measured blocks;
2. conservation, per lot: held (available + quarantined, in every equipment) + in transit + administered +
   written off = produced, with administered and written off summed from the events;
3. the backend's view = the chain (backend/indexer/check.py `differences`, at the indexer's block)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3

from backend.indexer.check import differences
from chain.client import rpc
from chain.manifest import Manifest
from simulate.platform import Platform

LOG_CHUNK = 5_000


def event_logs(w3: Web3, manifest: Manifest, contract: str, event: str, first: int, last: int) -> list[dict[str, Any]]:
    info = manifest.contract(contract)
    abi = next(i for i in info.abi if i.get("type") == "event" and i["name"] == event)
    topic = "0x" + event_abi_to_log_topic(abi).hex()
    out: list[dict[str, Any]] = []
    for start in range(first, last + 1, LOG_CHUNK):
        end = min(last, start + LOG_CHUNK - 1)
        query = {"address": info.address, "topics": [topic], "fromBlock": hex(start), "toBlock": hex(end)}
        out += rpc(w3, "eth_getLogs", query)
    return out


def _word(hex_data: str, index: int) -> int:
    return int(hex_data[2 + 64 * index : 2 + 64 * (index + 1)], 16)


def conservation(w3: Web3, manifest: Manifest) -> list[str]:
    """Lots whose doses are not all accounted for (empty when every lot balances)."""
    first, last = manifest.start_block, int(rpc(w3, "eth_blockNumber"), 16)
    info = manifest.contract("VaccineLedger")
    ledger = w3.eth.contract(address=info.address, abi=info.abi)
    fn = ledger.functions
    administered = Counter(
        int(log["topics"][2], 16) for log in event_logs(w3, manifest, "VaccineLedger", "DoseRecorded", first, last)
    )
    written_off: Counter[int] = Counter()
    for log in event_logs(w3, manifest, "VaccineLedger", "WrittenOff", first, last):
        written_off[int(log["topics"][1], 16)] += _word(log["data"], 0)
    in_transit: Counter[int] = Counter()
    for shipment in range(1, fn.shipmentCount().call(block_identifier=last) + 1):
        s = fn.shipment(shipment).call(block_identifier=last)
        in_transit[s[0]] += s[4]
    equipment = range(1, fn.equipmentCount().call(block_identifier=last) + 1)
    found = []
    for lot in range(1, fn.lotCount().call(block_identifier=last) + 1):
        produced = fn.lot(lot).call(block_identifier=last)[6]
        held = 0
        for eq in equipment:
            available, quarantined, _ = fn.stockOf(lot, eq).call(block_identifier=last)
            held += available + quarantined
        total = held + in_transit[lot] + administered[lot] + written_off[lot]
        if total != produced:
            found.append(
                f"lot {lot}: held {held} + in transit {in_transit[lot]} + administered {administered[lot]} + "
                f"written off {written_off[lot]} = {total}, produced {produced}"
            )
    return found


def run_checks(platform: Platform, doses_reported: int, first_block: int) -> dict[str, Any]:
    w3, manifest = platform.w3, platform.manifest
    last = int(rpc(w3, "eth_blockNumber"), 16)
    events = len(event_logs(w3, manifest, "VaccineLedger", "DoseRecorded", first_block, last))
    rt = platform.backend.runtime()
    rt.start_database()
    try:
        if not rt.wait_indexed(last, 120):
            view = [f"the indexer did not reach block {last} within 120 s"]
        else:
            view = differences(rt)
    finally:
        rt.stop()
    unbalanced = conservation(w3, manifest)
    return {
        "doses_reported": doses_reported,
        "dose_events": events,
        "doses_match": doses_reported == events,
        "lots_unbalanced": unbalanced,
        "conservation_holds": not unbalanced,
        "view_differences": view[:20],
        "view_matches_chain": not view,
        "block": last,
    }
