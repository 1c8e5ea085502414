"""A Besu QBFT network for the district's organisations: one validator node per organisation.

`generate` writes, under one folder, a sub-folder per organisation with everything its node needs
(config.toml, genesis.json, static-nodes.json, permissions_config.toml) and the network's public summary
(network.json). Private keys never need to travel: an organisation that made its node key on its own
machine hands over only `key.pub`, and the generator works from that; for a trial on one machine it makes
the missing keys itself.

Besu option names and values were checked against the Besu documentation (besu-docs main branch, which
documents Besu 25.x: the CLI options reference, "Configure free gas networks", "Use local permissioning",
QBFT) and Besu's source (TransactionPoolOptions, RpcErrorType). They need Besu 24.1 or later: the
"sequenced" pool name arrived in 24.1, tx-pool-min-gas-price in 23.10.3. Besu refuses to start with options
of the other pool type, or with a price bump on a zero-base-fee chain, so neither is written."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eth_keys import keys
from eth_keys.exceptions import ValidationError
from eth_utils import is_address

from chain.dev import DEV_CHAIN_ID
from devnet.besu.qbft import DEFAULT_GAS_LIMIT, genesis

DEFAULT_VALIDATORS = ("cdc", "regulator", "manufacturers", "hospitals")
DEFAULT_CHAIN_ID = 440604
"""Chancheng's administrative code; anything but the development chain's 31337, on which every component
accepts Anvil's published keys."""
DEFAULT_P2P_PORT, DEFAULT_RPC_PORT, DEFAULT_METRICS_PORT = 30303, 8545, 9545
PORT_STEP = 10
"""Organisation i listens on each base port + 10·i: a trial of the whole network on one machine needs no
edits, and the steps skip the platform's own ports (the oracle's 8547)."""
PER_SENDER = 1024
"""Pending transactions one account may have in a node's pool. The backend signs for every facility with
one custodial key and paces itself (chain.sender keeps a few in flight per key), but a busy clinic's doses,
the oracle's backlog after an outage or a bulk registration by the operator all arrive from one sender;
Besu's defaults (5 in the sequenced pool, 200 in the layered one) would turn such bursts away."""
SEQUENCED_POOL_SIZE = 16 * PER_SENDER
TxPool = Literal["sequenced", "layered"]
ORG_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
KEY_FILE, PUBLIC_KEY_FILE = "key", "key.pub"
PERMISSIONS_FILE = "permissions_config.toml"


class NetworkError(ValueError):
    """Settings that would make a broken or unsafe network."""


@dataclass(frozen=True)
class Node:
    org: str
    public_key: bytes
    """64 bytes: the uncompressed secp256k1 point without its 0x04 prefix (the enode id)."""
    host: str
    p2p_port: int
    rpc_port: int
    metrics_port: int

    @property
    def address(self) -> str:
        """The validator's address: QBFT names validators by their node key's address."""
        return keys.PublicKey(self.public_key).to_checksum_address()

    @property
    def enode(self) -> str:
        return f"enode://{self.public_key.hex()}@{self.host}:{self.p2p_port}"


# ---- keys -----------------------------------------------------------------------------------------------


def new_node_key(folder: Path) -> bytes:
    """Writes a fresh node key to folder/key (readable by its owner only) and folder/key.pub, in Besu's own
    formats (0x hex); returns the public key."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            private = keys.PrivateKey(secrets.token_bytes(32))
            break
        except ValidationError:  # outside the curve's order: astronomically rare, draw again
            continue
    path = folder / KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(private.to_hex())
    public = private.public_key.to_bytes()
    (folder / PUBLIC_KEY_FILE).write_text("0x" + public.hex())
    return public


def node_public_key(folder: Path) -> bytes | None:
    """The public key of the node in `folder`: from its private key when it is here, else from key.pub
    (all an organisation that keeps its key at home hands over); None when there is neither."""
    key = folder / KEY_FILE
    if key.exists():
        try:
            return keys.PrivateKey(_hex_bytes(key.read_text(), 32, key)).public_key.to_bytes()
        except ValidationError as exc:
            raise NetworkError(f"{key}: not a secp256k1 private key ({exc})") from exc
    public = folder / PUBLIC_KEY_FILE
    if public.exists():
        raw = _hex_bytes(public.read_text(), 64, public)
        try:
            keys.PublicKey(raw)
        except ValidationError as exc:
            raise NetworkError(f"{public}: not a secp256k1 public key ({exc})") from exc
        return raw
    return None


def _hex_bytes(text: str, size: int, where: Path) -> bytes:
    try:
        raw = bytes.fromhex(text.strip().removeprefix("0x"))
    except ValueError:
        raise NetworkError(f"{where} is not hex") from None
    if len(raw) != size:
        raise NetworkError(f"{where} holds {len(raw)} bytes, expected {size}")
    return raw


# ---- configuration files ---------------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of printable text is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _toml_lines(settings: Sequence[tuple[str, Any] | str]) -> str:
    """key=value lines; a bare string is a comment line (an empty one a blank line)."""
    out = [
        (f"# {item}" if item else "") if isinstance(item, str) else f"{item[0]}={_toml(item[1])}" for item in settings
    ]
    return "\n".join(out) + "\n"


def tx_pool_settings(kind: TxPool, gas_limit: int) -> list[tuple[str, Any] | str]:
    """The pool options of one pool type (Besu refuses to start with options of the other type)."""
    if kind == "sequenced":
        return [
            "First in, first out, as Besu recommends for private networks: with free gas every transaction",
            "has the same price, so the layered pool's ordering by value buys nothing.",
            ("tx-pool", "sequenced"),
            ("tx-pool-max-size", SEQUENCED_POOL_SIZE),
            ("tx-pool-limit-by-account-percentage", PER_SENDER / SEQUENCED_POOL_SIZE),
        ]
    return [
        ("tx-pool", "layered"),
        ("tx-pool-max-future-by-sender", PER_SENDER),
        "Besu's advice for private networks: as many as fit in a block (the cheapest writes cost ~30,000 gas).",
        ("tx-pool-max-prioritized", gas_limit // 30_000),
    ]


def node_config(node: Node, *, tx_pool: TxPool, gas_limit: int, account_permissioning: bool) -> str:
    """The node's config.toml; its paths are relative to the node's folder, where Besu is started."""
    loopback = ipaddress.ip_address(node.host).is_loopback
    settings: list[tuple[str, Any] | str] = [
        f'Besu validator node of "{node.org}" (vaxledger QBFT network, written by python -m devnet.besu).',
        "Needs Besu 24.1 or later. Start it in this folder: besu --config-file=config.toml",
        ("data-path", "data"),
        ("genesis-file", "genesis.json"),
        ("node-private-key-file", KEY_FILE),
        ("sync-mode", "FULL"),
        ("logging", "INFO"),
        "The contracts' named errors (NotHeld, StockInQuarantine...) reach the backend and the oracle in",
        "eth_estimateGas and eth_call errors only with this on; without it every refusal is a bare revert.",
        ("revert-reason-enabled", True),
        "",
        "Peers: the other organisations' validators, by fixed address; nothing is discovered.",
        ("p2p-host", node.host),
        ("p2p-interface", node.host if loopback else "0.0.0.0"),
        ("p2p-port", node.p2p_port),
        ("discovery-enabled", False),
        ("static-nodes-file", "static-nodes.json"),
        ("permissions-nodes-config-file-enabled", True),
        ("permissions-nodes-config-file", PERMISSIONS_FILE),
        *_account_permissioning(account_permissioning),
        "",
        "JSON-RPC for this organisation's own services and operators only: loopback, never the network.",
        ("rpc-http-enabled", True),
        ("rpc-http-host", "127.0.0.1"),
        ("rpc-http-port", node.rpc_port),
        ("rpc-http-api", ["ETH", "NET", "WEB3", "TXPOOL", "QBFT", "PERM", "ADMIN"]),
        ("host-allowlist", ["localhost", "127.0.0.1"]),
        ("metrics-enabled", True),
        ("metrics-host", "127.0.0.1"),
        ("metrics-port", node.metrics_port),
        "",
        "Free gas: every node must accept and mine zero-priced transactions.",
        ("min-gas-price", 0),
        ("tx-pool-min-gas-price", 0),
        *tx_pool_settings(tx_pool, gas_limit),
    ]
    return _toml_lines(settings)


def _account_permissioning(enabled: bool) -> list[tuple[str, Any] | str]:
    if enabled:
        return [
            ("permissions-accounts-config-file-enabled", True),
            ("permissions-accounts-config-file", PERMISSIONS_FILE),
        ]
    return [
        "No account permissioning: the backend makes a custodial wallet for every citizen and facility at run",
        "time, which a file allowlist would refuse until every organisation's node listed it (docs/production.md).",
        ("permissions-accounts-config-file-enabled", False),
    ]


def permissions_config(nodes: Sequence[Node], accounts: Mapping[str, str]) -> str:
    """The same file for every node: who may peer, and who may send where account permissioning is on."""
    lines: list[tuple[str, Any] | str] = [
        "Nodes allowed to connect: the network's validators.",
        ("nodes-allowlist", [n.enode for n in nodes]),
        "Accounts allowed to send, enforced only by nodes started with permissions-accounts-config-file-enabled:",
        ", ".join(f"{name} {address}" for name, address in accounts.items()) or "(no platform accounts given)",
        ("accounts-allowlist", [a.lower() for a in accounts.values()]),
    ]
    return _toml_lines(lines)


# ---- the network ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSpec:
    orgs: tuple[str, ...] = DEFAULT_VALIDATORS
    chain_id: int = DEFAULT_CHAIN_ID
    block_period_s: int = 2
    gas_limit: int = DEFAULT_GAS_LIMIT
    hosts: Mapping[str, str] | None = None
    """Each organisation's node address as its peers reach it (an IP: enode URLs in allowlists must be);
    127.0.0.1 for those not given, for a trial of the whole network on one machine."""
    p2p_port: int = DEFAULT_P2P_PORT
    rpc_port: int = DEFAULT_RPC_PORT
    metrics_port: int = DEFAULT_METRICS_PORT
    """Organisation i (in `orgs` order) gets each base port + PORT_STEP·i."""
    tx_pool: TxPool = "sequenced"
    accounts: Mapping[str, str] | None = None
    """The platform's sending accounts by name (admin, regulator, oracle): listed in the accounts allowlist."""
    account_permissioning: bool = False

    def check(self) -> None:
        if not self.orgs:
            raise NetworkError("name at least one validator organisation")
        for org in self.orgs:
            if not ORG_NAME.match(org):
                raise NetworkError(f"organisation name {org!r}: lower-case letters, digits and '-', up to 32")
        if len(set(self.orgs)) != len(self.orgs):
            raise NetworkError("an organisation is listed twice")
        if self.chain_id == DEV_CHAIN_ID:
            raise NetworkError(f"chain id {DEV_CHAIN_ID} is the development chain's, where Anvil's keys are accepted")
        for org, host in (self.hosts or {}).items():
            if org not in self.orgs:
                raise NetworkError(f"a host is given for {org!r}, which is not a validator")
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise NetworkError(f"host of {org!r} must be an IP address, got {host!r}") from None
        if self.hosts and set(self.hosts) != set(self.orgs):
            # A node left on loopback could never be reached from the others' machines.
            missing = ", ".join(o for o in self.orgs if o not in self.hosts)
            raise NetworkError(f"give every organisation's host or none (missing: {missing})")
        for name, address in (self.accounts or {}).items():
            if not is_address(address):
                raise NetworkError(f"account {name!r}: {address!r} is not an address")
        if self.account_permissioning and not self.accounts:
            raise NetworkError("account permissioning with no account listed would refuse every transaction")
        top = PORT_STEP * (len(self.orgs) - 1)
        for port in (self.p2p_port, self.rpc_port, self.metrics_port):
            if not (port > 0 and port + top <= 65535):
                raise NetworkError(f"port {port} (+{top}) is out of range")


def generate(out: Path, spec: NetworkSpec, *, force: bool = False) -> list[Node]:
    """Writes the network under `out` (see the module docstring) and returns its nodes. Keys already in an
    organisation's folder are kept. A genesis.json already there is replaced only with `force`: a new genesis
    is a new chain, and nodes started on the old one would not follow it."""
    spec.check()
    out.mkdir(parents=True, exist_ok=True)
    genesis_path = out / "genesis.json"
    if genesis_path.exists() and not force:
        raise NetworkError(f"{genesis_path} exists: a new genesis starts a new chain (use --force to replace it)")
    nodes = []
    for i, org in enumerate(spec.orgs):
        folder = out / org
        public = node_public_key(folder) or new_node_key(folder)
        host = (spec.hosts or {}).get(org, "127.0.0.1")
        step = PORT_STEP * i
        nodes.append(Node(org, public, host, spec.p2p_port + step, spec.rpc_port + step, spec.metrics_port + step))
    chain = genesis(
        spec.chain_id, [n.address for n in nodes], block_period_s=spec.block_period_s, gas_limit=spec.gas_limit
    )
    genesis_text = json.dumps(chain, indent=2) + "\n"
    accounts = dict(spec.accounts or {})
    permissions = permissions_config(nodes, accounts)
    genesis_path.write_text(genesis_text)
    for node in nodes:
        folder = out / node.org
        (folder / "genesis.json").write_text(genesis_text)
        (folder / PERMISSIONS_FILE).write_text(permissions)
        peers = [n.enode for n in nodes if n is not node]
        (folder / "static-nodes.json").write_text(json.dumps(peers, indent=2) + "\n")
        config = node_config(
            node, tx_pool=spec.tx_pool, gas_limit=spec.gas_limit, account_permissioning=spec.account_permissioning
        )
        (folder / "config.toml").write_text(config)
    summary = {
        "chain_id": spec.chain_id,
        "block_period_s": spec.block_period_s,
        "gas_limit": spec.gas_limit,
        "tx_pool": spec.tx_pool,
        "account_permissioning": spec.account_permissioning,
        "accounts": accounts,
        "validators": [
            {
                "org": n.org,
                "address": n.address,
                "enode": n.enode,
                "rpc": f"http://127.0.0.1:{n.rpc_port}",
                "metrics": f"http://127.0.0.1:{n.metrics_port}/metrics",
            }
            for n in nodes
        ],
    }
    (out / "network.json").write_text(json.dumps(summary, indent=2) + "\n")
    return nodes
