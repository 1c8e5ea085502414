"""The production broker (python -m devnet.mqtt_tls) under a real mosquitto: TLS only, a login per device,
each device confined to its own equipment's topic, and the oracle's client (oracle.mqtt with its
mqtt_username / mqtt_password / mqtt_tls_ca settings) receiving what the devices publish."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from cryptography import x509

from devnet.mqtt_tls import BrokerConfigError, BrokerFiles, BrokerSpec, generate, hash_password
from oracle.broker import Broker
from oracle.devices import DeviceEntry, Registry
from oracle.identity import new_device_key, public_bytes, sign
from oracle.ingest import IngestResult, Item
from oracle.mqtt import Subscriber
from oracle.reading import Reading
from oracle.simulator import topic_for
from oracle.validate import Rejection, encode_message
from tests.production.tls_broker import Client, running_tls_broker

NOT_AUTHORIZED = 135  # MQTT 5 reason code
KEYS = {"probe-7": new_device_key(), "probe-9": new_device_key()}
REGISTRY = Registry(
    [
        DeviceEntry("probe-7", 7, "fridge", public_bytes(KEYS["probe-7"]).hex()),
        DeviceEntry("probe-9", 9, "freezer", public_bytes(KEYS["probe-9"]).hex()),
    ]
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, BrokerFiles]]:
    with running_tls_broker(tmp_path_factory.mktemp("tls"), REGISTRY) as running:
        yield running


class RecordingSink:
    """Stands in for the oracle's store: keeps what the subscriber hands over."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.arrived = threading.Condition()

    def ingest(self, items: Sequence[Item], source: str) -> IngestResult:
        with self.arrived:
            self.items.extend(items)
            self.arrived.notify_all()
        return IngestResult(accepted=len(items))

    def wait_for(self, count: int, timeout: float = 10) -> list[Item]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.items) >= count, timeout), f"{len(self.items)} of {count}"
            return list(self.items)


def message(device: str, equipment: int, seq: int) -> bytes:
    reading = Reading(device, equipment, seq, int(time.time() * 1000), 45)
    return encode_message(reading, sign(KEYS[device], reading))


def connected(broker: Broker, files: BrokerFiles, user: str, password: str | None = None) -> Client:
    client = Client(broker, files.ca_cert, user, password or files.passwords[user]).connect()
    assert client.connack is not None and not client.connack.is_failure, client.connack
    return client


def test_an_oracle_the_broker_turns_away_says_why_and_is_never_counted_as_subscribed(
    tls: tuple[Broker, BrokerFiles],
) -> None:
    broker, files = tls
    oracle = Subscriber(  # the oracle's login with a stale password
        RecordingSink(),
        host=broker.host,
        port=broker.port,
        topic="vaxledger/readings/#",
        client_id=f"misconfigured-{uuid.uuid4().hex[:8]}",
        username="vaxledger-oracle",
        password="not-" + files.passwords["vaxledger-oracle"],
        tls_ca=files.ca_cert,
    ).start()
    try:
        deadline = time.monotonic() + 10
        while oracle.refusal is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert oracle.refusal is not None and "connection refused" in oracle.refusal, oracle.refusal
        assert not oracle.connected.is_set()  # /v1/status says so, instead of waiting for readings that never come
    finally:
        oracle.stop()


def test_devices_reach_the_oracle_only_through_their_own_topic(tls: tuple[Broker, BrokerFiles]) -> None:
    broker, files = tls
    credentials = json.loads(files.credentials.read_text())
    sink = RecordingSink()
    oracle = Subscriber(
        sink,
        host=broker.host,
        port=broker.port,
        topic="vaxledger/readings/#",
        client_id=f"oracle-{uuid.uuid4().hex[:8]}",
        username=credentials["oracle"]["username"],
        password=credentials["oracle"]["password"],
        tls_ca=files.ca_cert,
        linger_ms=0,
    ).start()
    fridge = connected(broker, files, "probe-7", credentials["devices"]["probe-7"]["password"])
    freezer = connected(broker, files, "probe-9")
    try:
        assert oracle.connected.wait(10)
        freezer.client.subscribe("vaxledger/readings/#", qos=1)  # a device may not read others' readings

        assert fridge.publish(topic_for(7), message("probe-7", 7, 1)).value == 0
        [first] = sink.wait_for(1)
        assert not isinstance(first, Rejection) and first[0].equipment == 7 and first[0].device == "probe-7"

        # The fridge's login speaking for the freezer: the broker refuses it before anyone sees it.
        assert fridge.publish(topic_for(9), message("probe-7", 9, 2)).value == NOT_AUTHORIZED
        # Nor may the oracle's login publish: a stolen oracle password cannot forge readings.
        oracle_login = connected(broker, files, credentials["oracle"]["username"], credentials["oracle"]["password"])
        assert oracle_login.publish(topic_for(7), message("probe-7", 7, 3)).value == NOT_AUTHORIZED
        oracle_login.close()

        assert fridge.publish(topic_for(7), message("probe-7", 7, 4)).value == 0  # a marker behind them
        items = sink.wait_for(2)
        assert [(i[0].equipment, i[0].seq) for i in items if not isinstance(i, Rejection)] == [(7, 1), (7, 4)]
        time.sleep(0.3)  # the freezer's subscription would have had the marker by now
        assert freezer.messages == []
    finally:
        fridge.close()
        freezer.close()
        oracle.stop()


def test_a_wrong_password_no_login_or_no_tls_gets_nowhere(tls: tuple[Broker, BrokerFiles]) -> None:
    broker, files = tls
    for user, password in (("probe-7", "not-the-password"), ("stranger", files.passwords["probe-7"])):
        client = Client(broker, files.ca_cert, user, password).connect()
        assert client.connack is not None and client.connack.is_failure, (user, client.connack)
        client.close()
    anonymous = Client(broker, files.ca_cert, None, None).connect()
    assert anonymous.connack is not None and anonymous.connack.is_failure
    anonymous.close()
    plain = Client(broker, None, "probe-7", files.passwords["probe-7"]).connect(timeout=2)
    assert plain.connack is None  # the only listener speaks TLS: a plain MQTT connect gets no answer
    plain.close()


def test_the_broker_certificate_is_for_the_names_given_and_signed_by_the_ca(
    tls: tuple[Broker, BrokerFiles], tmp_path: Path
) -> None:
    _, files = tls
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1"}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert files.server_key.stat().st_mode & 0o077 == 0 and files.credentials.stat().st_mode & 0o077 == 0


def test_running_it_again_keeps_passwords_and_certificates_and_follows_the_registry(tmp_path: Path) -> None:
    spec = BrokerSpec(persistence_dir=None)
    first = generate(tmp_path, REGISTRY, spec)
    cert = first.server_cert.read_bytes()
    fewer = Registry([REGISTRY.devices["probe-7"], DeviceEntry("probe-11", 11, "fridge", "11" * 32)])
    second = generate(tmp_path, fewer, spec)
    assert second.passwords["probe-7"] == first.passwords["probe-7"]
    assert second.passwords[spec.oracle_user] == first.passwords[spec.oracle_user]
    assert "probe-9" not in second.passwords and "probe-11" in second.passwords
    assert second.server_cert.read_bytes() == cert
    acl = second.acl.read_text()
    assert "user probe-11\ntopic write vaxledger/readings/11" in acl and "probe-9" not in acl
    conf = second.conf.read_text()
    assert "allow_anonymous false" in conf and "listener 8883\n" in conf and "persistence false" in conf


def test_device_ids_that_cannot_be_logins_are_refused(tmp_path: Path) -> None:
    odd = Registry([DeviceEntry("fridge 1", 7, "fridge", "11" * 32)])
    with pytest.raises(BrokerConfigError, match="cannot be a broker login"):
        generate(tmp_path, odd, BrokerSpec())


def test_password_hashes_are_mosquitto_passwd_s_format() -> None:
    # What mosquitto_passwd 2.0.11 wrote for the password "s3cret": the same salt gives the same hash.
    line = (
        "$7$101$dJTIIsEkHjC+zKBV$pYf/36670H+0grlc+Ds29OzgnsuimBad7jehUT1Ybhgl9aGzQZ889E1JGg49AecKkrVR8LO8YCLk+3Kh/"
        "9qTSg=="
    )
    salt = base64.b64decode(line.split("$")[3])
    assert hash_password("s3cret", salt=salt) == line
