"""Deploys the ledger and the appointments contract, grants the platform roles
and writes the deployment manifest that backend/ and oracle/ read.

    brownie run scripts/deploy.py --network development

On the local chain the admin is the node's first account, the regulator the
second and the oracle the third. On a real network set VAXLEDGER_DEPLOYER_KEY
(and VAXLEDGER_REGULATOR / VAXLEDGER_ORACLE addresses) instead."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from brownie import Appointments, VaccineLedger, accounts, chain, network

from chain import manifest as manifest_mod

DEPLOYED = ("VaccineLedger", "Appointments")


@dataclass
class Deployment:
    ledger: Any
    appointments: Any
    admin: Any
    regulator: Any
    oracle: Any


def deploy(admin: Any, regulator: Any, oracle: Any) -> Deployment:
    """Deploys and wires both contracts and grants the two platform-wide roles."""
    ledger = VaccineLedger.deploy(admin, {"from": admin})
    appointments = Appointments.deploy(ledger, {"from": admin})
    ledger.setAppointments(appointments, {"from": admin})
    ledger.grantRole(ledger.REGULATOR_ROLE(), regulator, {"from": admin})
    ledger.grantRole(ledger.ORACLE_ROLE(), oracle, {"from": admin})
    return Deployment(ledger, appointments, admin, regulator, oracle)


def build_manifest(d: Deployment) -> manifest_mod.Manifest:
    contracts = {}
    for name, contract in (("VaccineLedger", d.ledger), ("Appointments", d.appointments)):
        block = contract.tx.block_number if contract.tx else chain.height
        contracts[name] = manifest_mod.ContractInfo(address=contract.address, abi=contract.abi, block=block)
    roles = {
        "admin": [str(d.admin)],
        "regulator": [str(d.regulator)],
        "oracle": [str(d.oracle)],
    }
    return manifest_mod.Manifest(chain_id=chain.id, contracts=contracts, roles=roles)


def _platform_accounts() -> tuple[Any, Any, Any]:
    key = os.environ.get("VAXLEDGER_DEPLOYER_KEY")
    if key:
        admin = accounts.add(key)
        return admin, os.environ["VAXLEDGER_REGULATOR"], os.environ["VAXLEDGER_ORACLE"]
    return accounts[0], accounts[1], accounts[2]


def main() -> None:
    d = deploy(*_platform_accounts())
    path = manifest_mod.save(build_manifest(d))
    print(f"VaccineLedger {d.ledger.address}\nAppointments  {d.appointments.address}")
    print(f"manifest written to {path} (chain {chain.id}, network {network.show_active()})")
