"""The oracle daemon: transports in, store, rules, alarms, chain out.

Threads, and why each is separate:

- MQTT (paho's network thread + one ingest worker): batches messages so one
  COMMIT and one validation pass cover hundreds of readings.
- HTTP (uvicorn): ingest from gateways and logger uploads, same ingest path; and the read API (board,
  charts, records, alarms), each read on a read-only connection of its own (Store.snapshot) so it never
  holds the ingest writer.
- chain worker: anchoring and excursion writes. The chain may be down for
  hours; ingest never waits for it — everything it must write is already
  durable in the store (batches, outbox) and goes out when the node is back.
- ticker: silence, abandoned sensors, alarm escalation, registry reloads.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from chain import manifest as manifest_mod
from chain.client import connect
from chain.contracts import contracts_from_manifest, errors_from_manifest
from chain.enums import EquipmentKind
from chain.sender import TxSender
from oracle import devices
from oracle.alarms import AlarmBook, TierPolicy
from oracle.anchoring import Anchorer, Batcher
from oracle.config import OracleSettings
from oracle.excursions import ExcursionPoster
from oracle.holdings import Holdings
from oracle.ingest import Ingestor
from oracle.mqtt import Subscriber
from oracle.rules import RuleSet
from oracle.store import Store
from oracle.validate import ReadingValidator

log = logging.getLogger("oracle")

CHAIN_KINDS = {
    EquipmentKind.FRIDGE: "fridge",
    EquipmentKind.FREEZER: "freezer",
    EquipmentKind.COLD_ROOM: "cold_room",
    EquipmentKind.VEHICLE: "vehicle",
    EquipmentKind.COLD_BOX: "cold_box",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class ChainLink:
    w3: Web3
    ledger: Any
    cold_chain: Any
    sender: TxSender
    anchorer: Anchorer
    poster: ExcursionPoster


class Daemon:
    def __init__(self, settings: OracleSettings) -> None:
        self.settings = settings
        settings.store.parent.mkdir(parents=True, exist_ok=True)
        self.store = Store(settings.store, synchronous=settings.synchronous)
        self.registry = devices.load(settings.devices)
        self._registry_mtime = settings.devices.stat().st_mtime_ns
        self.alarms = AlarmBook(self.store, TierPolicy.load(settings.tiers), facility_of=self._facility_of)
        self._wake = threading.Event()
        self.ingestor = Ingestor(
            self.store,
            ReadingValidator(self.registry.validator_devices()),
            RuleSet.load(settings.rules),
            self.alarms,
            self.registry,
            on_chain_work=self._wake.set,
            abandon_after_ms=settings.abandon_after_min * 60_000,
        )
        self.batcher = Batcher(
            self.store, every_ms=int(settings.anchor_every_s * 1000), max_readings=settings.anchor_max_readings
        )
        self.link: ChainLink | None = None
        self.chain_error: str | None = None
        self.anchored_gas = 0
        self.anchored_readings = 0
        self.anchored_batches = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.subscriber: Subscriber | None = None
        self._http: Any = None

    # -- lifecycle

    def start(self) -> Daemon:
        s = self.settings
        if s.mqtt_port:
            self.subscriber = Subscriber(
                self.ingestor,
                host=s.mqtt_host,
                port=s.mqtt_port,
                topic=s.mqtt_topic,
                client_id=s.mqtt_client_id,
                batch=s.ingest_batch,
                linger_ms=s.ingest_linger_ms,
                username=s.mqtt_username,
                password=s.mqtt_password.get_secret_value() if s.mqtt_password else None,
                tls_ca=s.mqtt_tls_ca,
            ).start()
        if s.http_port:
            self._start_http()
        self._spawn(self._chain_loop, "chain")
        self._spawn(self._tick_loop, "ticker")
        log.info(
            "oracle running: %d devices on %d equipment, store %s, rules %s",
            len(self.registry.devices),
            len(self.registry.equipment),
            s.store,
            self.ingestor.detector.ruleset.version,
        )
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.subscriber is not None:
            self.subscriber.stop()
        if self._http is not None:
            self._http.should_exit = True
        for t in self._threads:
            t.join(timeout=30)
        self.ingestor.flush()
        self.store.close()
        log.info("oracle stopped")

    def run_forever(self) -> None:
        def stop(*_: object) -> None:
            self._stop.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _start_http(self) -> None:
        import uvicorn

        from oracle.http import create_app
        from oracle.http_queries import QuerySource

        queries = QuerySource(
            self.store,
            self.alarms,
            registry=lambda: self.registry,
            rules=self.ingestor.detector.ruleset,
            api_token=self.settings.api_token,
            clock=now_ms,
        )
        app = create_app(self.ingestor, status=self.status, queries=queries)
        config = uvicorn.Config(
            app, host=self.settings.http_host, port=self.settings.http_port, log_level="warning", lifespan="off"
        )
        self._http = uvicorn.Server(config)
        self._spawn(self._http.run, "http")

    # -- chain

    def _connect(self) -> ChainLink:
        s = self.settings
        manifest = manifest_mod.load(s.manifest)
        w3 = connect(s.rpc_url, poa=s.poa)
        contracts = contracts_from_manifest(w3, manifest)
        sender = TxSender(
            w3,
            s.account(manifest.chain_id),
            errors=errors_from_manifest(manifest),
            confirmations=s.confirmations,
            receipt_timeout_s=s.receipt_timeout_s,
        )
        ledger, cold_chain = contracts["VaccineLedger"], contracts["ColdChainLog"]
        holdings = Holdings(w3, ledger, manifest.start_block)
        holdings.sync()  # index the chain's history now, not in the middle of the first excursion
        link = ChainLink(
            w3,
            ledger,
            cold_chain,
            sender,
            Anchorer(self.store, cold_chain, sender, start_block=manifest.start_block),
            ExcursionPoster(
                self.store, cold_chain, holdings, sender, retry_min_s=s.retry_min_s, retry_max_s=s.retry_max_s
            ),
        )
        self._check_registry(ledger)
        log.info("chain %s (id %d): oracle account %s", s.rpc_url, manifest.chain_id, sender.address)
        return link

    def _check_registry(self, ledger: Any) -> None:
        """The registry's kinds drive the rules; a kind the ledger disagrees with would judge a freezer by
        fridge rules. Said loudly, not fatal: the ledger may lag a registration."""
        for eq, profile in self.registry.equipment.items():
            kind = CHAIN_KINDS.get(EquipmentKind(ledger.functions.equipment(eq).call()[1]))
            if kind != profile.kind:
                log.error("device registry says equipment %d is a %s, the ledger says %s", eq, profile.kind, kind)

    def _chain_loop(self) -> None:
        delay = self.settings.retry_min_s
        while not self._stop.is_set():
            try:
                self.batcher.cut_due()
                if self.link is None:
                    self.link = self._connect()
                self.link.poster.post_pending()
                stats = self.link.anchorer.post_pending()
                self.anchored_gas += stats.gas_used
                self.anchored_readings += stats.readings
                self.anchored_batches += stats.batches
                self.chain_error = None
                delay = self.settings.retry_min_s
            except Exception as exc:  # a daemon thread must outlive any node trouble
                self.chain_error = f"{type(exc).__name__}: {exc}"
                log.warning("chain work failed (%s); retrying in %.0f s", self.chain_error, delay)
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.settings.retry_max_s)
                continue
            self._wake.wait(timeout=1.0)
            self._wake.clear()

    def _end_finished_legs(self, link: ChainLink) -> None:
        for vehicle in self.ingestor.watched_vehicles():
            if link.ledger.functions.equipment(vehicle).call()[4] == 0:  # openItems: nothing aboard
                for event in self.ingestor.end_leg(vehicle):
                    log.info("vehicle %d: leg over, %s alarm closed", vehicle, event.kind)

    # -- ticker

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.settings.tick_s):
            try:
                self.ingestor.tick()
                for alarm in self.alarms.escalate(now_ms()):
                    level = logging.CRITICAL if alarm.tier == "regulator" else logging.ERROR
                    log.log(
                        level,
                        "ALARM %s escalated to %s: %s at equipment %d unacknowledged",
                        alarm.alarm_id[:12],
                        alarm.tier,
                        alarm.kind,
                        alarm.equipment,
                    )
                self._reload_registry()
                if self.link is not None and self.chain_error is None:
                    self._end_finished_legs(self.link)
            except Exception:  # the chain may be down: the next tick tries again
                log.exception("tick failed; next tick in %.0f s", self.settings.tick_s)

    def _reload_registry(self) -> None:
        try:
            mtime = self.settings.devices.stat().st_mtime_ns
            if mtime == self._registry_mtime:
                return
            registry = devices.load(self.settings.devices)
        except (OSError, devices.RegistryError) as exc:
            log.error("device registry not reloaded, keeping the previous one: %s", exc)
            return
        self._registry_mtime = mtime
        self.registry = registry
        self.ingestor.set_registry(registry)
        log.info("device registry reloaded: %d devices", len(registry.devices))

    def _facility_of(self, equipment: int) -> int | None:
        profile = self.registry.equipment.get(equipment)
        return profile.facility if profile else None

    # -- status

    def status(self) -> dict[str, Any]:
        c = self.ingestor.counters
        return {
            "readings": {
                "accepted": c.accepted,
                "duplicates": c.duplicates,
                "refused": dict(c.refused),
                "unjudged": c.unjudged,
                "stored": self.store.last_reading_id(),  # rows are never deleted: the last id is the count
                "waiting_to_anchor": self.store.count(anchored=False),
            },
            "batches": self.store.batch_counts(),
            "windows": self.store.window_counts(),
            "anchoring": {
                "gas_used": self.anchored_gas,
                "batches": self.anchored_batches,
                "readings": self.anchored_readings,
                "gas_per_reading": round(self.anchored_gas / self.anchored_readings, 1)
                if self.anchored_readings
                else None,
            },
            "chain_writes_pending": self.store.pending_count(),
            "alarms": {
                "open": len(self.alarms.alarms(open_only=True)),
                "unacknowledged": len(self.alarms.alarms(unacked_only=True)),
            },
            "chain": {"connected": self.link is not None and self.chain_error is None, "error": self.chain_error},
            "mqtt": {
                "connected": bool(self.subscriber and self.subscriber.connected.is_set()),
                "refused": self.subscriber.refusal if self.subscriber else None,
            },
        }
