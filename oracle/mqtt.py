"""MQTT in: readings from `vaxledger/readings/<equipment>`, acknowledged only once stored.

The subscription is QoS 1 on a persistent session (clean_session off, fixed
client id) with manual acknowledgement: the broker keeps every reading it
has not seen a PUBACK for — while the oracle is down, restarting, or
retrying a store that refused a write — and delivers it again. A reading
delivered twice is recognised by the ingest path as a duplicate.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from oracle.ingest import Item, Sink
from oracle.simulator import TOPIC_PREFIX
from oracle.validate import Reason, Rejection, parse_message

log = logging.getLogger(__name__)


def topic_equipment(topic: str) -> int | None:
    tail = topic.removeprefix(TOPIC_PREFIX)
    return int(tail) if tail != topic and tail.isdigit() else None


def parse(msg: Any) -> Item:
    """A message to an ingest item; a reading published on another equipment's topic is refused."""
    parsed = parse_message(msg.payload)
    if isinstance(parsed, Rejection):
        return parsed
    equipment = topic_equipment(msg.topic)
    if equipment != parsed[0].equipment:
        return Rejection(
            Reason.WRONG_EQUIPMENT, f"reading for equipment {parsed[0].equipment} published on topic {msg.topic!r}"
        )
    return parsed


class Subscriber:
    def __init__(
        self,
        sink: Sink,
        *,
        host: str,
        port: int,
        topic: str,
        client_id: str,
        batch: int = 500,
        linger_ms: int = 50,
        username: str | None = None,
        password: str | None = None,
        tls_ca: Path | None = None,
        retry_max_s: float = 30,
    ) -> None:
        self.sink = sink
        self.host, self.port, self.topic = host, port, topic
        self.batch = batch
        self.linger_s = linger_ms / 1000
        self.retry_max_s = retry_max_s
        self.connected = threading.Event()
        self.refusal: str | None = None  # the broker's last "no" (to the login or the subscription), for /v1/status
        self.received = 0
        self.acked = 0
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        if username:
            self.client.username_pw_set(username, password)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- lifecycle

    def start(self) -> Subscriber:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)
        self._worker.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Finish (store and ack) what was received, then disconnect."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho callbacks (network thread)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self.refusal = f"connection refused: {reason_code}"
            log.error("MQTT broker %s:%d refused the connection: %s", self.host, self.port, reason_code)
            return
        client.subscribe(self.topic, qos=1)
        log.info("MQTT connected to %s:%d, subscribing to %s", self.host, self.port, self.topic)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        # Connected counts from the broker's SUBACK: until then, a reading published on a first (not yet
        # persistent) session would find no subscription and be dropped.
        if any(code.is_failure for code in reason_codes):
            self.refusal = f"subscription to {self.topic} refused: {', '.join(map(str, reason_codes))}"
            log.error("MQTT broker %s:%d: %s", self.host, self.port, self.refusal)
            return
        self.refusal = None
        self.connected.set()
        log.info("MQTT subscribed to %s", self.topic)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, props: Any) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT connection lost (%s): reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: Any) -> None:
        self._inbox.put(msg)

    # -- worker

    def _work(self) -> None:
        while True:
            messages = self._take()
            if not messages:
                if self._stop.is_set():
                    return
                continue
            self._ingest(messages)

    def _take(self) -> list[Any]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        messages = [first]
        deadline = time.monotonic() + self.linger_s
        while len(messages) < self.batch:
            try:
                messages.append(self._inbox.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    messages.append(self._inbox.get(timeout=left))
                except queue.Empty:
                    break
        return messages

    def _ingest(self, messages: Sequence[Any]) -> None:
        items = [parse(m) for m in messages]
        self.received += len(messages)
        delay = 0.5
        while True:
            try:
                self.sink.ingest(items, "mqtt")
                break
            except Exception:
                # Not acknowledged: the broker keeps them. Retry in place so the order is kept.
                log.exception("could not store %d readings; retrying in %.1f s", len(items), delay)
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
        for m in messages:
            self.client.ack(m.mid, m.qos)
        self.acked += len(messages)
