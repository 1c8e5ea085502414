"""Several processes sending from one key through FileLocks: every transaction is mined, none replaced
by another with its nonce (Anvil counts a transaction as pending only once mined, so the node's count
alone would hand two senders the same nonce)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eth_account import Account
from web3 import Web3

from chain.locks import FileLocks
from tests.chain.nodes import AnvilNode, funded_account

ROOT = Path(__file__).resolve().parents[2]
PER_PROCESS = 40
THREADS = 4

SENDER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from eth_account import Account
from chain.client import connect
from chain.locks import FileLocks
from chain.sender import TxSender

url, key, locks, to, count, threads = sys.argv[1:7]
sender = TxSender(connect(url), Account.from_key(key), shared_lock=FileLocks(Path(locks)), receipt_timeout_s=10)
with ThreadPoolExecutor(int(threads)) as pool:
    receipts = list(pool.map(lambda _: sender.send({"to": to, "value": 1}), range(int(count))))
print(sum(r["status"] for r in receipts))
"""


def test_two_processes_share_a_key_without_losing_a_transaction(tmp_path: Path) -> None:
    with AnvilNode() as node:
        w3 = Web3(Web3.HTTPProvider(node.url))
        account = funded_account(w3)
        to = Account.create().address
        args = [node.url, account.key.hex(), str(tmp_path / "locks"), to, str(PER_PROCESS), str(THREADS)]
        workers = [
            subprocess.Popen([sys.executable, "-c", SENDER, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [w.communicate(timeout=120)[0].strip() for w in workers]
        assert [w.returncode for w in workers] == [0, 0]
        assert outputs == [str(PER_PROCESS), str(PER_PROCESS)]
        assert w3.eth.get_transaction_count(account.address) == 2 * PER_PROCESS
        assert w3.eth.get_balance(to) == 2 * PER_PROCESS


def test_the_note_survives_between_holders(tmp_path: Path) -> None:
    locks = FileLocks(tmp_path)
    with locks("0xAbC") as note:
        assert note.get() is None
        note.set(17)
    with FileLocks(tmp_path)("0xabc") as note:  # another process's view of the same file
        assert note.get() == 17
        note.set(None)
        assert note.get() is None
