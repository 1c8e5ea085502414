"""Deploying as docs/production.md says (python -m scripts.run scripts.deploy --rpc-url ... with the platform's
own keys) to a Besu-like node (QBFT extraData, 2 s blocks, a chain id of its own), then starting the backend in
its production shape on that deployment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3 import Web3
from web3.types import RPCEndpoint

from backend.app import create_app
from backend.core.config import BackendSettings
from backend.core.envelope import Keyring
from backend.runtime import Runtime
from chain import manifest as manifest_mod
from chain.client import connect
from chain.contracts import contracts_from_manifest
from tests.chain.nodes import AnvilNode
from tests.oracle.daemon_proc import wait_for
from tests.production.besu_like import besu_like

ROOT = Path(__file__).resolve().parents[2]
CHAIN_ID = 440699
DEPLOYMENTS = ROOT / "build" / "deployments"


@pytest.fixture()
def brownie_records() -> Iterator[None]:
    """Brownie files a live network's deployments under build/deployments/<chain id>: leave none behind."""
    map_path = DEPLOYMENTS / "map.json"
    before = map_path.read_text() if map_path.exists() else None
    yield
    shutil.rmtree(DEPLOYMENTS / str(CHAIN_ID), ignore_errors=True)
    if before is None:
        map_path.unlink(missing_ok=True)
    else:
        map_path.write_text(before)


@pytest.mark.usefixtures("brownie_records")
def test_the_platform_deploys_to_a_qbft_like_node_and_the_backend_runs_on_it(tmp_path: Path) -> None:
    deployer, regulator, oracle = Account.create(), Account.create(), Account.create()
    with AnvilNode("--block-time", "2", "--chain-id", str(CHAIN_ID)) as anvil, besu_like(anvil.url) as node:
        # Brownie offers the priority fee the node suggests: 1 gwei on Anvil, 0 on a free-gas Besu.
        Web3(Web3.HTTPProvider(anvil.url)).provider.make_request(
            RPCEndpoint("anvil_setBalance"), [deployer.address, hex(10**20)]
        )
        manifest_path = tmp_path / "manifest.json"
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(ROOT / "node_modules" / ".bin"), os.environ["PATH"]]),
            "VAXLEDGER_DEPLOYER_KEY": deployer.key.hex(),
            "VAXLEDGER_REGULATOR": regulator.address,
            "VAXLEDGER_ORACLE": oracle.address,
            "VAXLEDGER_MANIFEST": str(manifest_path),
        }
        deploy = subprocess.run(
            [sys.executable, "-m", "scripts.run", "scripts.deploy", "--rpc-url", node.url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert deploy.returncode == 0, deploy.stderr[-3000:]
        assert "Traceback" not in deploy.stderr, deploy.stderr[-3000:]
        manifest = manifest_mod.load(manifest_path)
        assert manifest.chain_id == CHAIN_ID
        ledger = contracts_from_manifest(connect(node.url), manifest)["VaccineLedger"]
        roles = ledger.functions
        assert roles.hasRole(roles.DEFAULT_ADMIN_ROLE().call(), deployer.address).call()
        assert roles.hasRole(roles.REGULATOR_ROLE().call(), regulator.address).call()
        assert roles.hasRole(roles.ORACLE_ROLE().call(), oracle.address).call()
        assert json.loads(manifest_path.read_text())["roles"]["oracle"][0] == oracle.address

        settings = BackendSettings(
            database_url=f"sqlite:///{tmp_path / 'backend.db'}",
            rpc_url=node.url,
            manifest=manifest_path,
            admin_key=deployer.key.hex(),
            regulator_key=regulator.key.hex(),
            master_keys=Keyring.generate_text("prod1"),
            log_json=False,
        )
        with TestClient(create_app(settings, Runtime(settings))) as client:
            ready = wait_for(lambda: client.get("/readyz").json()["ready"], 20, "the backend never got ready")
            checks = client.get("/readyz").json()["checks"]
            assert ready and checks["chain"]["chain_id"] == CHAIN_ID and checks["indexer"]["block"] >= 0
