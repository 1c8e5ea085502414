"""Deploys the ledger, the appointments contract and the cold-chain log, grants the platform roles
and writes the deployment manifest that backend/ and oracle/ read.

    brownie run scripts/deploy.py --network development

On the local chain the admin is the node's first account, the regulator the
second and the oracle the third. On a real network set VAXLEDGER_DEPLOYER_KEY
(and VAXLEDGER_REGULATOR / VAXLEDGER_ORACLE addresses) instead."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from brownie import Appointments, ColdChainLog, VaccineLedger, accounts, chain, network

from chain import manifest as manifest_mod


@dataclass
class Deployment:
    ledger: Any
    appointments: Any
    admin: Any
    regulator: Any
    oracle: Any
    cold_chain: Any = None
    """The ColdChainLog; None when a deployment is rebuilt from a manifest without one."""


def deploy(admin: Any, regulator: Any, oracle: Any) -> Deployment:
    """Deploys and wires the three contracts and grants the two platform-wide roles; the
    cold-chain log holds the ledger's oracle role too, to quarantine on an excursion."""
    ledger = VaccineLedger.deploy(admin, {"from": admin})
    appointments = Appointments.deploy(ledger, {"from": admin})
    ledger.setAppointments(appointments, {"from": admin})
    ledger.grantRole(ledger.REGULATOR_ROLE(), regulator, {"from": admin})
    ledger.grantRole(ledger.ORACLE_ROLE(), oracle, {"from": admin})
    cold_chain = ColdChainLog.deploy(ledger, {"from": admin})
    ledger.grantRole(ledger.ORACLE_ROLE(), cold_chain, {"from": admin})
    return Deployment(ledger, appointments, admin, regulator, oracle, cold_chain)


def build_manifest(d: Deployment) -> manifest_mod.Manifest:
    contracts = {}
    deployed = (("VaccineLedger", d.ledger), ("Appointments", d.appointments), ("ColdChainLog", d.cold_chain))
    for name, contract in deployed:
        if contract is None:
            continue
        block = contract.tx.block_number if contract.tx else chain.height
        contracts[name] = manifest_mod.ContractInfo(address=contract.address, abi=contract.abi, block=block)
    roles = {
        "admin": [str(d.admin)],
        "regulator": [str(d.regulator)],
        "oracle": [str(d.oracle)] + ([str(d.cold_chain.address)] if d.cold_chain is not None else []),
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
    print(f"ColdChainLog  {d.cold_chain.address}")
    print(f"manifest written to {path} (chain {chain.id}, network {network.show_active()})")
