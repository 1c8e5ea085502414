"""The platform without its HTTP client: a fake cold-chain oracle and the contracts deployed as
scripts/deploy.py deploys them. Shared by the backend tests and bench/api.py."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from chain.client import connect
from chain.dev import ADMIN_INDEX, ORACLE_INDEX, REGULATOR_INDEX, dev_account
from chain.manifest import ContractInfo, Manifest, save
from chain.sender import TxSender
from devnet.ports import free_port
from tests.chain.nodes import deploy

GTIN_HEPB = "06901234000016"
GTIN_MMR = "06901234000078"
GS = "\x1d"


def gs1(gtin: str, lot_number: str, serial: str, expiry: str = "301231") -> str:
    return f"]d201{gtin}17{expiry}10{lot_number}{GS}21{serial}"


class FakeOracle:
    """The oracle as the backend sees it: its record endpoint answers what a test says (a complete in-range
    record by default); it knows no equipment or alarm otherwise, and says so as the real one does."""

    def __init__(self) -> None:
        self.records: dict[int, dict[str, Any]] = {}
        self.down = False
        self.requests: list[str] = []
        oracle = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                oracle.requests.append(self.path)
                url = urlparse(self.path)
                parts = url.path.strip("/").split("/")
                if oracle.down:
                    self._send(503, {"detail": "down"})
                elif len(parts) == 4 and parts[:2] == ["v1", "equipment"] and parts[3] == "record":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    default = {"count": 6, "complete": True, "min_c": 4.1, "max_c": 6.3, "gaps": [], "alarms": []}
                    body = {**default, **oracle.records.get(int(parts[2]), {})}
                    self._send(
                        200,
                        {"equipment": int(parts[2]), "from_ms": int(q["from_ms"]), "to_ms": int(q["to_ms"]), **body},
                    )
                elif url.path in ("/v1/equipment", "/v1/alarms"):
                    self._send(200, [])
                else:
                    self._send(404, {"reason": "unknown_equipment", "detail": "no such equipment"})

            def do_POST(self) -> None:
                oracle.requests.append(self.path)
                self._send(404, {"reason": "unknown_alarm", "detail": "no such alarm"})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def deploy_platform(url: str, manifest_path: Path) -> Manifest:
    """The three contracts, wired as scripts/deploy.py wires them, with Anvil's accounts 0 (admin) and 1
    (regulator): the backend's development defaults."""
    w3 = connect(url)
    admin, regulator = dev_account(ADMIN_INDEX), dev_account(REGULATOR_INDEX)
    sender = TxSender(w3, admin)
    ledger = deploy(w3, "VaccineLedger", admin.address, sender=sender)
    start = w3.eth.block_number
    appointments = deploy(w3, "Appointments", ledger.address, sender=sender)
    sender.send(ledger.functions.setAppointments(appointments.address))
    sender.send(ledger.functions.grantRole(ledger.functions.REGULATOR_ROLE().call(), regulator.address))
    cold_chain = deploy(w3, "ColdChainLog", ledger.address, sender=sender)
    oracle_role = ledger.functions.ORACLE_ROLE().call()
    sender.send(ledger.functions.grantRole(oracle_role, cold_chain.address))
    sender.send(ledger.functions.grantRole(oracle_role, dev_account(ORACLE_INDEX).address))
    contracts = {
        name: ContractInfo(c.address, c.abi, start)
        for name, c in (("VaccineLedger", ledger), ("Appointments", appointments), ("ColdChainLog", cold_chain))
    }
    manifest = Manifest(w3.eth.chain_id, contracts, {"admin": [admin.address], "regulator": [regulator.address]})
    save(manifest, manifest_path)
    return manifest
