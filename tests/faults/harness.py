"""The whole platform under load while its processes are killed with SIGKILL at random points: the chain
node, the oracle daemon and the backend, each restarted after its kill. Shared by the bounded test
(tests/faults/test_crash_recovery.py) and `make bench-faults` (bench/faults.py).

What runs: Anvil with its state on disk (written every second, as a real node's database), mosquitto,
`python -m oracle run` taking signed readings over MQTT and anchoring them, `python -m backend serve`
taking doses over HTTP. Two clients drive them: a publisher of readings (QoS 1; the broker keeps what the
oracle has not acknowledged) and a nurse's client posting doses from ten-dose vials, each with its own
Idempotency-Key and retried until it gets a final answer, as a careful client does (several at once).

A chain node killed with SIGKILL loses the blocks made since its last write to disk, and every node
forgets its pool of unmined transactions when it restarts. Nothing confirmed may be lost, so a run that
kills the chain mines a block a second and makes the oracle and the backend wait for four confirmations
(a QBFT network is final at once; this is Anvil's stand-in), and what was lost unmined is sent again, the
same bytes, by the senders. A run on automine kills only the oracle and the backend.

Afterwards the run counts: readings published but not stored (lost), windows anchored or doses recorded
more than once (duplicates), and rows that claim a chain write the chain does not have (orphans:
audit rows marked done without a successful receipt, and any difference between the backend's view and
the chain)."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend.db.models import chainview as cv
from backend.db.models.offchain import AuditEntry
from backend.indexer.check import differences
from backend.runtime import Runtime
from chain.dev import ORACLE_INDEX, dev_account
from devnet.backend_proc import BackendProcess
from oracle import devices
from oracle.broker import Broker
from oracle.devices import DeviceEntry, Registry
from oracle.simulator import Publisher, SimulatedSensor, merged
from oracle.store import Store
from tests.backend.platform import FakeOracle, deploy_platform, gs1
from tests.chain.nodes import AnvilNode
from tests.oracle.daemon_proc import OracleProcess, wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "faults-pass-1"
GTIN_BOPV = "06901234000047"
SENSORS = 4
DOSES_PER_VIAL = 10
NURSES = 4
"""Dose clients posting at once (one intent each at a time, retried until final)."""
CONFIRMATIONS = 4
"""On interval mining: deeper than what a SIGKILL can take from Anvil (the blocks since its last write
to disk, a second or two)."""
RECEIPT_TIMEOUT_S = 5
"""A restarted node has forgotten its pool: unmined transactions are sent again after this long."""
HEALTHY = "/healthz"
"""The backend counts as up once it answers: /readyz may rightly say no while its indexer catches up after a kill."""
READING_INTERVAL_S = 60


@dataclass
class Outcome:
    mode: str
    crash_points_tried: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    readings_published: int = 0
    readings_stored: int = 0
    readings_lost: int = 0
    windows_anchored: int = 0
    duplicate_windows: int = 0
    doses_acknowledged: int = 0
    doses_on_chain: int = 0
    duplicate_doses: int = 0
    acknowledged_but_missing: int = 0
    orphan_rows: int = 0
    view_differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def duplicate_posts(self) -> int:
        return self.duplicate_windows + self.duplicate_doses

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "crash_points_tried": self.crash_points_tried,
            "kills": dict(self.kills),
            "readings_published": self.readings_published,
            "readings_stored": self.readings_stored,
            "readings_lost": self.readings_lost,
            "windows_anchored": self.windows_anchored,
            "doses_acknowledged": self.doses_acknowledged,
            "doses_on_chain": self.doses_on_chain,
            "duplicate_posts": self.duplicate_posts,
            "acknowledged_but_missing": self.acknowledged_but_missing,
            "orphan_rows": self.orphan_rows,
            "view_differences": self.view_differences[:10],
            "seconds": round(self.seconds, 1),
        }


class Chain:
    """Anvil whose state survives a SIGKILL up to its last second (`--state-interval 1`), unless not
    `durable`: Anvil rewrites its whole state file each time, a cost that grows with the chain (a real
    node's database does not), so a run that kills no node does without it."""

    def __init__(self, workdir: Path, *, durable: bool = True) -> None:
        state = ("--state", str(workdir / "anvil-state.json"), "--state-interval", "1") if durable else ()
        self.node = AnvilNode(*state)
        self.url = self.node.url
        self.interval = False

    def start(self) -> None:
        self.node.start()
        if self.interval:
            self.mine_every_second()

    def mine_every_second(self) -> None:
        """From now on a block a second, as on a QBFT network (the district is set up on automine first)."""
        self.interval = True
        probe = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "evm_setIntervalMining", "params": [1]})
        probe.raise_for_status()

    def kill(self) -> None:
        assert self.node.process is not None
        self.node.process.send_signal(signal.SIGKILL)
        self.node.process.wait(timeout=10)
        self.node.process = None

    def stop(self) -> None:
        self.node.stop()


def backend(workdir: Path, rpc_url: str, oracle_url: str) -> BackendProcess:
    """`python -m backend serve` over SQLite, killed and restarted like any process."""
    proc = BackendProcess(
        workdir,
        rpc_url,
        label="faults",
        oracle_url=oracle_url,
        confirmations="0",
        indexer_poll_s="0.1",
        receipt_timeout_s=str(RECEIPT_TIMEOUT_S),
    )
    for role in ("admin", "regulator"):
        proc.create_user(role, role, PASSWORD)
    return proc


class Api:
    def __init__(self, url: str, login: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60)
        self.login = login
        self._token()

    def _token(self) -> None:
        r = self.http.post("/v1/auth/login", json={"login": self.login, "password": PASSWORD})
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        response = self.http.request(method, path, json=body, headers=headers)
        if response.status_code == 401:
            self._token()
            response = self.http.request(method, path, json=body, headers=headers)
        return response

    def ok(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        """Retries until a final answer: the servers may be down mid-call (that is the point here)."""
        deadline = time.monotonic() + 120
        while True:
            try:
                r = self.call(method, path, body, key)
                if r.status_code < 300:
                    return r.json()
                if r.status_code not in (409, 502, 503) or (r.status_code == 409 and "in_progress" not in r.text):
                    raise AssertionError(f"{method} {path}: {r.status_code} {r.text}")
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: no final answer within 120 s")
            time.sleep(0.3)


class FaultRun:
    def __init__(self, workdir: Path, broker: Broker, *, interval: bool, seed: int, durable_chain: bool = True) -> None:
        self.workdir = workdir
        self.mode = f"interval mining, {CONFIRMATIONS} confirmations" if interval else "automine"
        self.interval = interval
        self.rng = random.Random(seed)
        self.fake_oracle = FakeOracle()  # the backend's trip records; the real oracle is the one under test
        self.chain = Chain(workdir, durable=durable_chain)
        self.chain.start()
        self.manifest = deploy_platform(self.chain.url, workdir / "manifest.json")
        self.backend = backend(workdir, self.chain.url, self.fake_oracle.url)
        self.backend.start(ready=HEALTHY, timeout=60)
        self.broker = broker
        self.equipment: list[int] = []
        self.lot_number = ""
        self.persons: list[str] = []
        self._district()
        confirmations = CONFIRMATIONS if interval else 0
        if interval:
            self.chain.mine_every_second()
            self.backend.stop()
            self.backend.settings["confirmations"] = str(confirmations)
            self.backend.start(ready=HEALTHY, timeout=60)
            self.nurse = Api(self.backend.url, "nurse")
        self.oracle = OracleProcess(workdir, self._oracle_env(confirmations))
        self.oracle.start()
        self.stop = threading.Event()
        self.published: dict[tuple[str, int], Any] = {}
        self.acknowledged: dict[str, dict[str, Any]] = {}
        self.errors: list[str] = []
        self._intents = itertools.count()
        self._intent_lock = threading.Lock()

    # --- the district, through the backend's API -------------------------------------------------------

    def _district(self) -> None:
        admin, regulator = Api(self.backend.url, "admin"), Api(self.backend.url, "regulator")

        def facility(kind: str, name: str) -> int:
            return admin.ok("post", "/v1/admin/facilities", {"kind": kind, "name": name, "area_code": "440604"})[
                "facility_id"
            ]

        def equipment(fid: int, kind: str) -> int:
            return admin.ok("post", f"/v1/admin/facilities/{fid}/equipment", {"kind": kind, "label": kind})[
                "equipment_id"
            ]

        maker, cdc, clinic = facility("manufacturer", "M"), facility("warehouse", "C"), facility("clinic", "K")
        room, cdc_room, van = equipment(maker, "cold_room"), equipment(cdc, "cold_room"), equipment(cdc, "vehicle")
        fridges = [equipment(clinic, "fridge") for _ in range(SENSORS)]
        self.equipment = fridges
        for role, login, fid in (
            ("manufacturer", "maker", maker),
            ("warehouse", "cdc", cdc),
            ("clinic", "nurse", clinic),
        ):
            body = {"role": role, "login": login, "password": PASSWORD, "facility_id": fid}
            admin.ok("post", "/v1/admin/users", body)
        maker_api, cdc_api = Api(self.backend.url, "maker"), Api(self.backend.url, "cdc")
        self.nurse = Api(self.backend.url, "nurse")
        body = {
            "manufacturer_id": maker,
            "vaccine_type": "bOPV",
            "doses_per_unit": 10,
            "name": "bOPV",
            "gtin": GTIN_BOPV,
            "min_temp_dc": -200,
        }
        product = regulator.ok("post", "/v1/regulator/products", body)["product_id"]
        self.lot_number = "FAULTS-1"
        lot = maker_api.ok(
            "post",
            "/v1/staff/lots",
            {
                "product_id": product,
                "lot_number": self.lot_number,
                "expiry": "2031-01-01",
                "doses": 50_000,
                "equipment_id": room,
            },
        )["lot_id"]
        regulator.ok("post", f"/v1/regulator/lots/{lot}/release", {"document": "cert"})
        for who, source, to, into, api in (
            (maker_api, room, cdc, cdc_room, cdc_api),
            (cdc_api, cdc_room, clinic, fridges[0], self.nurse),
        ):
            shipment = who.ok(
                "post",
                "/v1/staff/shipments",
                {
                    "lot_id": lot,
                    "from_equipment_id": source,
                    "vehicle_id": van,
                    "to_facility_id": to,
                    "quantity": 20_000,
                },
            )["shipment_id"]
            api.ok("post", f"/v1/staff/shipments/{shipment}/receive", {"equipment_id": into})
        self.lot = lot
        self.persons = [
            self.nurse.ok("post", "/v1/staff/persons", {"name": f"受种者{i}", "birth_date": "2021-01-01", "sex": "F"})[
                "id"
            ]
            for i in range(DOSES_PER_VIAL)
        ]

    def _oracle_env(self, confirmations: int) -> dict[str, str]:
        sensors = self._sensors()
        entries = [DeviceEntry(s.device, s.equipment, "fridge", s.public_key.hex(), None) for s in sensors]
        devices.save(Registry(entries), self.workdir / "devices.json")
        return {
            "VAXLEDGER_ORACLE_RPC_URL": self.chain.url,
            "VAXLEDGER_ORACLE_MANIFEST": str(self.workdir / "manifest.json"),
            "VAXLEDGER_ORACLE_KEY": bytes(dev_account(ORACLE_INDEX).key).hex(),
            "VAXLEDGER_ORACLE_MQTT_PORT": str(self.broker.port),
            "VAXLEDGER_ORACLE_MQTT_CLIENT_ID": f"oracle-{self.workdir.name}",
            "VAXLEDGER_ORACLE_ANCHOR_EVERY_S": "2",
            "VAXLEDGER_ORACLE_ANCHOR_MAX_READINGS": "60",
            "VAXLEDGER_ORACLE_CONFIRMATIONS": str(confirmations),
            "VAXLEDGER_ORACLE_RECEIPT_TIMEOUT_S": str(RECEIPT_TIMEOUT_S),
        }

    def _sensors(self) -> list[SimulatedSensor]:
        start_ms = time.time_ns() // 1_000_000 - 3 * 86_400_000
        return [
            SimulatedSensor(f"probe-{eq}", eq, "fridge", start_ms=start_ms, interval_s=READING_INTERVAL_S, seed=eq)
            for eq in self.equipment
        ]

    # --- load ---------------------------------------------------------------------------------------------

    def _publish(self) -> None:
        readings = list(merged(s.run(2 * 86_400) for s in self._sensors()))
        with Publisher(port=self.broker.port, client_id=f"faults-{uuid.uuid4().hex[:6]}") as pub:
            for i in range(0, len(readings), 40):
                if self.stop.is_set():
                    return
                chunk = readings[i : i + 40]
                pub.publish_fast(chunk)
                self.published.update({(r.device, r.seq): r for r, _ in chunk})
                time.sleep(0.2)

    def _dose(self) -> None:
        while not self.stop.is_set():
            with self._intent_lock:
                n = next(self._intents)
            key = uuid.uuid4().hex
            # ten doses a vial, each to another person: (vial, person) names the intent on chain
            code = gs1(GTIN_BOPV, self.lot_number, f"V{n // DOSES_PER_VIAL:05d}")
            body = {"code": code, "person_id": self.persons[n % DOSES_PER_VIAL]}
            try:
                self.acknowledged[key] = self.nurse.ok("post", "/v1/staff/doses", body, key=key)
            except AssertionError as exc:
                self.errors.append(str(exc))

    # --- the run --------------------------------------------------------------------------------------------

    def run(self, crashes: int, max_wait_s: float = 3.0) -> Outcome:
        started = time.monotonic()
        outcome = Outcome(self.mode)
        clients = [threading.Thread(target=self._publish)]
        clients += [threading.Thread(target=self._dose) for _ in range(NURSES)]
        for t in clients:
            t.start()
        victims = ["oracle", "backend"] + (["chain"] if self.interval else [])
        try:
            for _ in range(crashes):
                time.sleep(self.rng.uniform(0.2, max_wait_s))
                victim = self.rng.choice(victims)
                self._kill_and_restart(victim)
                outcome.kills[victim] += 1
                outcome.crash_points_tried += 1
        finally:
            self.stop.set()
            for t in clients:
                t.join(timeout=180)
        self._settle()
        self._count(outcome)
        outcome.seconds = time.monotonic() - started
        return outcome

    def _kill_and_restart(self, victim: str) -> None:
        if victim == "chain":
            self.chain.kill()
            time.sleep(self.rng.uniform(0, 0.5))
            self.chain.start()
        elif victim == "oracle":
            self.oracle.kill()
            self.oracle.start(timeout=60)
        else:
            self.backend.kill()
            self.backend.start(ready=HEALTHY, timeout=60)

    def _settle(self) -> None:
        def oracle_done() -> bool:
            s = self.oracle.status()
            b, w = s["batches"], s["windows"]
            return (
                s["readings"]["stored"] >= len(self.published)
                and s["readings"]["waiting_to_anchor"] == 0
                and b["built"] == b["posted"] == w["built"] == w["posted"] == 0
            )

        wait_for(oracle_done, 180, "the oracle did not settle", self.oracle.log_tail)

    def _count(self, outcome: Outcome) -> None:
        outcome.readings_published = len(self.published)
        with Store(self.workdir / "oracle.db") as store:
            stored = {(r[0], r[1]) for r in store.query("SELECT device, seq FROM readings")}
        outcome.readings_stored = len(stored)
        outcome.readings_lost = len(set(self.published) - stored)

        w3 = self.backend_runtime().ledgers.get().w3
        cold_chain = w3.eth.contract(
            address=self.manifest.contract("ColdChainLog").address, abi=self.manifest.contract("ColdChainLog").abi
        )
        anchored = Counter(
            "0x" + e["args"]["windowId"].hex() for e in cold_chain.events.WindowAnchored().get_logs(from_block=0)
        )
        outcome.windows_anchored = len(anchored)
        outcome.duplicate_windows = sum(n - 1 for n in anchored.values())

        ledger = w3.eth.contract(
            address=self.manifest.contract("VaccineLedger").address, abi=self.manifest.contract("VaccineLedger").abi
        )
        doses = ledger.events.DoseRecorded().get_logs(from_block=0)
        by_tx = {"0x" + bytes(e["transactionHash"]).hex() for e in doses}
        outcome.doses_on_chain = len(doses)
        outcome.doses_acknowledged = len(self.acknowledged)
        outcome.acknowledged_but_missing = sum(1 for a in self.acknowledged.values() if a["tx_hash"] not in by_tx)
        # one intent, one dose: a retry that wrote again would give the same vial twice to the same person
        per_intent = Counter((bytes(e["args"]["unitHash"]), bytes(e["args"]["person"])) for e in doses)
        outcome.duplicate_doses = sum(n - 1 for n in per_intent.values())
        rt = self.backend_runtime()
        rt.start_database()
        assert rt.wait_indexed(w3.eth.block_number - (CONFIRMATIONS if self.interval else 0), 60)
        with rt.db.sessions() as s:
            done = s.scalars(select(AuditEntry).where(AuditEntry.status == "done")).all()
            orphans = 0
            for entry in done:
                receipt = w3.eth.get_transaction_receipt(entry.tx_hash)  # type: ignore[arg-type]
                if receipt is None or receipt["status"] != 1:
                    orphans += 1
            indexed_doses = s.query(cv.Dose).count()
        outcome.view_differences = differences(rt)
        outcome.orphan_rows = orphans + len(outcome.view_differences) + abs(indexed_doses - len(doses))

    def backend_runtime(self) -> Runtime:
        if not hasattr(self, "_rt"):
            self._rt = self.backend.runtime()
        return self._rt

    def close(self) -> None:
        self.stop.set()
        for stop in (self.oracle.stop, self.backend.stop, self.chain.stop, self.fake_oracle.close):
            with contextlib.suppress(Exception):  # tear-down goes on whatever one part did
                stop()


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "crash_points_tried": sum(o.crash_points_tried for o in outcomes),
        "readings_lost": sum(o.readings_lost for o in outcomes),
        "duplicate_posts": sum(o.duplicate_posts for o in outcomes),
        "orphan_rows": sum(o.orphan_rows for o in outcomes),
        "runs": [o.as_dict() for o in outcomes],
    }


def dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")
