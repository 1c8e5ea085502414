"""A real Mosquitto broker: start, carry 1,000 simulated readings, stop."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import defaultdict

import paho.mqtt.client as mqtt
import pytest

from devnet.ports import port_is_free
from oracle.broker import BrokerError, find_mosquitto, running_broker
from oracle.identity import verify
from oracle.simulator import Publisher, build_sensors, merged, parse_equipment, parse_fault
from oracle.validate import encode_message, parse_message

try:
    find_mosquitto()
except BrokerError as exc:  # pragma: no cover - the project's setup installs it
    pytest.skip(str(exc), allow_module_level=True)


class Subscriber:
    def __init__(self, host: str, port: int, topic: str = "vaxledger/readings/#") -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="test-sub")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, client, userdata, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload))

    def wait_for(self, n: int, timeout: float) -> list[tuple[str, bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    break
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_thousand_readings_through_a_real_broker(tmp_path):
    sensors = build_sensors(parse_equipment("5,6=freezer,7=vehicle"), [parse_fault("6:power_cut@2h")], seed=42)
    keys = {s.device: s.public_key for s in sensors}
    sent = list(itertools.islice(merged(s.readings() for s in sensors), 1000))
    with running_broker(workdir=tmp_path) as broker:
        assert broker.running and broker.host == "127.0.0.1"
        port = broker.port
        sub = Subscriber(broker.host, broker.port)
        try:
            with Publisher(broker.host, broker.port, client_id="test-pub") as pub:
                assert pub.publish_fast(sent) == 1000
            got = sub.wait_for(1000, timeout=20)
        finally:
            sub.close()
        process = broker.process
    assert process.poll() is not None
    assert port_is_free(port)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    config = (tmp_path / "mosquitto.conf").read_text().splitlines()
    assert [line for line in config if line.startswith("listener")] == [f"listener {port} 127.0.0.1"]

    assert len(got) == 1000
    by_topic: dict[str, list[bytes]] = defaultdict(list)
    for topic, data in got:
        by_topic[topic].append(data)
    expected: dict[str, list[bytes]] = defaultdict(list)
    for reading, sig in sent:
        expected[f"vaxledger/readings/{reading.equipment}"].append(encode_message(reading, sig))
    assert by_topic == expected  # intact and in order per topic
    for topic, items in by_topic.items():
        for data in items:
            reading, sig = parse_message(data)
            assert topic.endswith(f"/{reading.equipment}")
            assert verify(keys[reading.device], reading, sig)


def test_live_mode_paces_by_speed():
    sensors = build_sensors([(5, "fridge")], seed=1, interval_s=60)
    sent = list(itertools.islice(sensors[0].readings(), 4))  # 3 simulated minutes apart from first to last
    with running_broker() as broker:
        sub = Subscriber(broker.host, broker.port)
        try:
            with Publisher(broker.host, broker.port) as pub:
                t0 = time.monotonic()
                pub.publish_live(sent, speed=600)  # 180 s / 600 = 0.3 s
                elapsed = time.monotonic() - t0
            assert len(sub.wait_for(4, timeout=10)) == 4
        finally:
            sub.close()
    assert 0.25 <= elapsed < 3


def test_port_already_bound_gives_clear_error(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with (
            pytest.raises(BrokerError, match=rf"127\.0\.0\.1:{port} is already in use"),
            running_broker(port, tmp_path),
        ):
            pass


def test_broker_that_exits_reports_its_log(tmp_path):
    with (
        pytest.raises(BrokerError, match=r"(?s)exited with code.*no_such_option"),
        running_broker(workdir=tmp_path, extra_config=["no_such_option 1"]),
    ):
        pass


def test_find_mosquitto_explains_how_to_install(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda *a, **k: None)
    with pytest.raises(BrokerError, match="apt-get install mosquitto"):
        find_mosquitto()
