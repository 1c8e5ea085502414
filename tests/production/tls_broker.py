"""The production broker configuration (devnet.mqtt_tls) run by a real mosquitto on a free loopback port, and
MQTT clients that log in to it as a device or as the oracle would."""

from __future__ import annotations

import getpass
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from devnet.mqtt_tls import BrokerFiles, BrokerSpec, generate
from devnet.ports import HOST, accepts, free_port
from oracle.broker import Broker, find_mosquitto
from oracle.devices import Registry


@contextmanager
def running_tls_broker(workdir: Path, registry: Registry) -> Iterator[tuple[Broker, BrokerFiles]]:
    spec = BrokerSpec(
        port=free_port(),
        bind=HOST,
        server_names=(HOST, "localhost"),
        persistence_dir=None,
        # As root mosquitto would switch to user "mosquitto", which cannot read a test's files.
        run_as=getpass.getuser() if os.geteuid() == 0 else None,
    )
    files = generate(workdir / "broker", registry, spec)
    log_path = workdir / "mosquitto.log"
    log = log_path.open("wb")
    process = subprocess.Popen([find_mosquitto(), "-c", str(files.conf)], stdout=log, stderr=subprocess.STDOUT)
    broker = Broker(HOST, spec.port, process, files.conf, log_path, log)
    try:
        deadline = time.monotonic() + 10
        while not accepts(spec.port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start with {files.conf}:\n{broker.log_tail()}")
            time.sleep(0.05)
        yield broker, files
    finally:
        broker.stop()


class Client:
    """An MQTT 5 client over TLS that records what the broker answers: the CONNACK, each PUBACK's reason, and
    the messages of its subscriptions."""

    def __init__(self, broker: Broker, ca: Path | None, username: str | None, password: str | None) -> None:
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, client_id=""
        )
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.broker = broker
        self.connack: Any = None
        self.answered = threading.Event()
        self.pubacks: dict[int, Any] = {}
        self.messages: list[Any] = []
        self._acked = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda client, userdata, msg: self.messages.append(msg)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self.connack = reason_code
        self.answered.set()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        with self._acked:
            self.pubacks[mid] = reason_code
            self._acked.notify_all()

    def connect(self, timeout: float = 5) -> Client:
        """Connects and waits for the broker's answer (connack stays None when the TLS handshake failed)."""
        try:
            self.client.connect(self.broker.host, self.broker.port)
        except (OSError, ssl.SSLError):
            return self
        self.client.loop_start()
        self.answered.wait(timeout)
        return self

    def publish(self, topic: str, payload: bytes, timeout: float = 5) -> Any:
        """Publishes at QoS 1 and returns the broker's PUBACK reason code."""
        mid = self.client.publish(topic, payload, qos=1).mid
        with self._acked:
            self._acked.wait_for(lambda: mid in self.pubacks, timeout)
        return self.pubacks.get(mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
