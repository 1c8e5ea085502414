"""The backend's main write path on a Besu-like chain (tests/production/besu_like.py): a block every 2 s as
on the generated QBFT network, a zero base fee, QBFT extraData with the PoA middleware forced on (poa=True),
and a node that holds one pending transaction per sender, turning the rest away as Besu's per-sender pool
limit does (at its tightest: any two doses of one clinic in one block meet it)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from web3 import Web3

from backend.db.models import chainview as cv
from backend.indexer.check import differences
from chain.client import has_poa
from tests.backend.platform import GTIN_HEPB, gs1
from tests.backend.stack import running_stack
from tests.chain.nodes import AnvilNode
from tests.production.besu_like import besu_like, instant_mining, interval_mining

BLOCK_S = 2


def test_doses_recorded_through_the_api_on_two_second_blocks(tmp_path: Path) -> None:
    with AnvilNode("--block-time", str(BLOCK_S)) as anvil, besu_like(anvil.url, max_pending_per_sender=1) as node:
        direct = Web3(Web3.HTTPProvider(anvil.url))
        instant_mining(direct)  # the district is set up at once; everything below waits for real blocks
        with running_stack(tmp_path, node=anvil, rpc_url=node.url, poa=True) as stack:
            w3 = stack.rt.ledgers.get().w3
            assert has_poa(w3) and len(w3.eth.get_block("latest")["proofOfAuthorityData"]) > 32
            interval_mining(direct, BLOCK_S)

            began, first_block = time.monotonic(), direct.eth.block_number
            lot = stack.stocked_lot(doses=20, to_clinic=10)  # register, release, ship, receive, ship, receive
            assert direct.eth.block_number - first_block >= 6 and time.monotonic() - began >= 5 * BLOCK_S * 0.8
            with stack.rt.db.session() as s:
                number = s.get(cv.Lot, lot).lot_number
            parent, family = stack.citizen(children=1)
            people = [family["children"][0], *(stack.citizen()[1]["self"] for _ in range(2))]

            def dose(person: str) -> int:
                code = gs1(GTIN_HEPB, number, uuid.uuid4().hex[:10].upper())
                return stack.staff["nurse"].post("/v1/staff/doses", {"code": code, "person_id": person}).status_code

            # A queue at the clinic: one wallet, three doses. The chain holds its next block until the node has
            # turned one away, so the per-sender limit is met however slowly the requests arrive.
            interval_mining(direct, 0)
            with ThreadPoolExecutor(max_workers=3) as pool:
                answers = pool.map(dose, people)
                deadline = time.monotonic() + 30
                while node.refused == 0 and time.monotonic() < deadline:
                    time.sleep(0.05)
                interval_mining(direct, BLOCK_S)
                assert list(answers) == [201] * 3
            assert node.refused > 0  # the node's per-sender limit was met, and waited out

            (record,) = parent.ok("get", f"/v1/me/family/{family['children'][0]}/doses")
            assert record["lot"]["lot_id"] == lot and record["path_complete"]
            balance = stack.anonymous().ok("get", f"/v1/lots/{lot}/provenance")["balance"]
            assert balance["administered"] == 3
            assert stack.rt.ledgers.get().ledger.functions.stockOf(lot, stack.fridge).call()[0] == 7
            assert stack.rt.indexer.wait_for(direct.eth.block_number, 60)
            assert differences(stack.rt) == []  # the indexed view agrees with the chain
