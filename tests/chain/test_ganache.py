"""Ganache, the supported alternative to Anvil, runs the contracts as compiled (Shanghai)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.exceptions import ContractCustomError

from devnet.ports import free_port
from tests.chain.nodes import artifact

ROOT = Path(__file__).resolve().parents[2]
GANACHE = ROOT / "node_modules" / ".bin" / "ganache"


@pytest.fixture(scope="module")
def w3() -> Iterator[Web3]:
    assert GANACHE.exists() and shutil.which("node"), "npm ci installs ganache"
    port = free_port()
    node = subprocess.Popen(
        [
            str(GANACHE),
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--chain.hardfork",
            "shanghai",
            "--wallet.totalAccounts",
            "3",
            "--miner.defaultGasPrice",
            "0",
            "--logging.quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
    try:
        for _ in range(150):
            if web3.is_connected():
                break
            time.sleep(0.1)
        assert web3.is_connected(), "ganache did not start"
        yield web3
    finally:
        node.terminate()
        node.wait(timeout=30)


def deploy(w3: Web3, name: str, *args: Any) -> Any:
    a = artifact(name)
    contract = w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(
        contract.constructor(*args).transact({"from": w3.eth.accounts[0], "gas": 10_000_000})
    )
    assert receipt.status == 1
    return w3.eth.contract(address=receipt.contractAddress, abi=a["abi"])


def test_ledger_and_appointments_deploy_and_work_on_ganache(w3: Web3) -> None:
    admin = w3.eth.accounts[0]
    ledger = deploy(w3, "VaccineLedger", admin)
    appointments = deploy(w3, "Appointments", ledger.address)
    w3.eth.wait_for_transaction_receipt(
        ledger.functions.setAppointments(appointments.address).transact({"from": admin})
    )
    w3.eth.wait_for_transaction_receipt(
        ledger.functions.registerFacility(3, "Clinic", b"\0" * 32).transact({"from": admin})
    )
    assert ledger.functions.facilityCount().call() == 1
    assert ledger.functions.appointments().call() == appointments.address
    with pytest.raises(ContractCustomError):
        ledger.functions.registerFacility(0, "No kind", b"\0" * 32).call({"from": admin})
