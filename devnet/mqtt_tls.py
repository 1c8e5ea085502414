"""The production cold-chain broker: Mosquitto with TLS only, one login per device, and an ACL that lets
each device publish only to its own equipment's topic and the oracle read them all.

    python -m devnet.mqtt_tls --out /etc/mosquitto/vaxledger --devices var/oracle/devices.json \\
        --server-name mqtt.cdc.example --server-name 10.1.0.5

writes into --out: mosquitto.conf, passwd (PBKDF2-SHA512, mosquitto_passwd's own format), acl,
credentials.json (the devices' and the oracle's passwords, for provisioning; owner-only) and tls/ (a CA and
the broker's certificate, unless they are already there: drop the district's own in first to use them).
Running it again after devices.json changed keeps every existing password and certificate, gives new
devices theirs and drops the logins of devices no longer registered.

The broker never has to be trusted with the readings' content (each is signed by its device); the logins and
the ACL keep devices from speaking for equipment that is not theirs and strangers from filling the queue."""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from oracle.devices import Registry, RegistryError, load
from oracle.simulator import TOPIC_PREFIX

DEFAULT_PORT = 8883
DEFAULT_ORACLE_USER = "vaxledger-oracle"
PBKDF2_ITERATIONS = 101
"""mosquitto_passwd's own count. The passwords are 32 random characters: no iteration count makes them
easier or harder to guess, and a low one keeps the broker's CPU free when a district's sensors reconnect at
once after a network outage."""
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
"""What can stand in mosquitto's password and ACL files as it is (no ':', no spaces)."""


class BrokerConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BrokerSpec:
    port: int = DEFAULT_PORT
    bind: str | None = None
    """The listener's address; None listens on every interface (devices are on the district's network)."""
    server_names: tuple[str, ...] = ("localhost", "127.0.0.1")
    """Names and addresses the broker's certificate is valid for: what devices and the oracle connect to."""
    oracle_user: str = DEFAULT_ORACLE_USER
    persistence_dir: Path | None = Path("/var/lib/mosquitto/")
    """Where mosquitto keeps the oracle's unacknowledged readings across restarts; None: in memory only."""
    run_as: str | None = None
    """mosquitto's `user` directive; None keeps its default (started as root, it drops to "mosquitto")."""
    install_dir: Path | None = None
    """Where these files will be on the broker host, as mosquitto.conf names them; None: --out itself."""
    cert_days: int = 825


@dataclass(frozen=True)
class BrokerFiles:
    conf: Path
    passwd: Path
    acl: Path
    credentials: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    passwords: dict[str, str] = field(repr=False)
    """username → password, the oracle's included."""


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A mosquitto 2 password-file hash: $7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>."""
    salt = secrets.token_bytes(12) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls(folder: Path, server_names: Sequence[str], days: int) -> None:
    """A CA of the district's own and the broker's certificate signed by it, valid for `server_names`."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vaxledger cold-chain CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=10 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    alt_names: list[x509.GeneralName] = []
    for name in server_names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_names[0])]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    _write_private(folder / "ca.key", _key_pem(ca_key))
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_private(folder / "server.key", _key_pem(server_key))
    (folder / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))


def render_conf(spec: BrokerSpec, where: Path) -> str:
    """mosquitto.conf naming the files under `where` (the folder as installed on the broker host)."""
    listener = f"listener {spec.port}" + (f" {spec.bind}" if spec.bind else "")
    lines = [
        "# vaxledger cold-chain broker (written by python -m devnet.mqtt_tls): TLS only, one login per device,",
        "# each device may publish only to its own equipment's topic; the oracle reads them all.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {where / 'passwd'}",
        f"acl_file {where / 'acl'}",
        "",
        listener,
        f"cafile {where / 'tls' / 'ca.crt'}",
        f"certfile {where / 'tls' / 'server.crt'}",
        f"keyfile {where / 'tls' / 'server.key'}",
        "tls_version tlsv1.2",
        "",
        "# The oracle acknowledges a committed batch at once; the default of 20 unacknowledged messages per",
        "# client would cap every batch at 20. Its persistent session's queue is never cut short: a reading",
        "# dropped here would be a gap in a fridge's record.",
        "max_inflight_messages 1000",
        "max_queued_messages 0",
    ]
    if spec.persistence_dir is None:
        lines.append("persistence false")
    else:
        lines += [
            "persistence true",
            f"persistence_location {str(spec.persistence_dir).rstrip('/')}/",
            "# Save the queue every minute rather than every 30 (the default): less to lose in a power cut.",
            "autosave_interval 60",
        ]
    if spec.run_as:
        lines.append(f"user {spec.run_as}")
    lines += [
        "",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "log_timestamp true",
        "connection_messages true",
    ]
    return "\n".join(lines) + "\n"


def render_acl(registry: Registry, oracle_user: str) -> str:
    lines = [
        "# Who may do what (python -m devnet.mqtt_tls); anything not granted here is refused.",
        f"user {oracle_user}",
        f"topic read {TOPIC_PREFIX}#",
    ]
    for entry in sorted(registry.devices.values(), key=lambda e: e.device):
        lines += ["", f"user {entry.device}", f"topic write {TOPIC_PREFIX}{entry.equipment}"]
    return "\n".join(lines) + "\n"


def generate(out: Path, registry: Registry, spec: BrokerSpec) -> BrokerFiles:
    """Writes the broker's files under `out` (see the module docstring)."""
    users = [spec.oracle_user, *registry.devices]
    for user in users:
        if not USERNAME.match(user):
            raise BrokerConfigError(
                f"{user!r} cannot be a broker login: use letters, digits and . _ @ - (at most 64), no spaces or ':'"
            )
    if spec.oracle_user in registry.devices:
        raise BrokerConfigError(f"the oracle's login {spec.oracle_user!r} is also a device id")
    if not spec.server_names:
        raise BrokerConfigError("name at least one host the broker is reached at (--server-name)")
    out.mkdir(parents=True, exist_ok=True)
    credentials_path = out / "credentials.json"
    known: dict[str, str] = {}
    if credentials_path.exists():
        old = json.loads(credentials_path.read_text())
        known = {old["oracle"]["username"]: old["oracle"]["password"]}
        known.update({name: d["password"] for name, d in old["devices"].items()})
    passwords = {user: known.get(user) or secrets.token_urlsafe(24) for user in users}
    credentials = {
        "oracle": {"username": spec.oracle_user, "password": passwords[spec.oracle_user]},
        "devices": {
            name: {"password": passwords[name], "topic": f"{TOPIC_PREFIX}{e.equipment}"}
            for name, e in sorted(registry.devices.items())
        },
    }
    _write_private(credentials_path, (json.dumps(credentials, indent=1) + "\n").encode())
    passwd = "".join(f"{user}:{hash_password(passwords[user])}\n" for user in users)
    _write_private(out / "passwd", passwd.encode())
    (out / "acl").write_text(render_acl(registry, spec.oracle_user))
    tls = out / "tls"
    if not all((tls / name).exists() for name in ("ca.crt", "server.crt", "server.key")):
        make_tls(tls, spec.server_names, spec.cert_days)
    where = spec.install_dir or out.resolve()
    (out / "mosquitto.conf").write_text(render_conf(spec, where))
    return BrokerFiles(
        out / "mosquitto.conf",
        out / "passwd",
        out / "acl",
        credentials_path,
        tls / "ca.crt",
        tls / "server.crt",
        tls / "server.key",
        passwords,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devnet.mqtt_tls", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--devices", type=Path, required=True, help="the oracle's device registry (devices.json)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--bind", help="listen on this address only (default: every interface)")
    parser.add_argument(
        "--server-name", action="append", default=[], help="a DNS name or IP the broker is reached at (repeat)"
    )
    parser.add_argument("--oracle-user", default=DEFAULT_ORACLE_USER)
    parser.add_argument("--persistence-dir", type=Path, default=Path("/var/lib/mosquitto/"))
    parser.add_argument("--install-dir", type=Path, help="where --out's files will be on the broker host")
    args = parser.parse_args(argv)
    spec = BrokerSpec(
        port=args.port,
        bind=args.bind,
        server_names=tuple(args.server_name) or BrokerSpec.server_names,
        oracle_user=args.oracle_user,
        persistence_dir=args.persistence_dir,
        install_dir=args.install_dir,
    )
    try:
        files = generate(args.out, load(args.devices), spec)
    except (BrokerConfigError, RegistryError, OSError) as exc:
        print(f"python -m devnet.mqtt_tls: {exc}", file=sys.stderr)
        return 2
    where = spec.install_dir or args.out.resolve()
    print(f"broker files for {len(files.passwords) - 1} devices written to {args.out}")
    print(f"devices' passwords: {files.credentials} (hand each device its own; keep the file private)")
    print("oracle settings:")
    print(f"  VAXLEDGER_ORACLE_MQTT_HOST={spec.server_names[0]}")
    print(f"  VAXLEDGER_ORACLE_MQTT_PORT={spec.port}")
    print(f"  VAXLEDGER_ORACLE_MQTT_USERNAME={spec.oracle_user}")
    print(f"  VAXLEDGER_ORACLE_MQTT_PASSWORD=<oracle.password in {files.credentials.name}>")
    print(f"  VAXLEDGER_ORACLE_MQTT_TLS_CA={where / 'tls' / 'ca.crt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
