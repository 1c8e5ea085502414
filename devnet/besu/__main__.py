"""python -m devnet.besu: make a validator's node key, or write a Besu QBFT network's files.

    python -m devnet.besu keygen --out net/cdc          # on the organisation's own machine
    python -m devnet.besu generate --out net [--validators cdc,regulator,manufacturers,hospitals]
        [--block-period 2] [--chain-id 440604] [--host cdc=10.1.0.5 ...] [--account admin=0x... ...]

See docs/production.md for running the network across the organisations' machines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from eth_keys import keys

from devnet.besu.network import (
    DEFAULT_CHAIN_ID,
    DEFAULT_METRICS_PORT,
    DEFAULT_P2P_PORT,
    DEFAULT_RPC_PORT,
    DEFAULT_VALIDATORS,
    NetworkError,
    NetworkSpec,
    generate,
    new_node_key,
    node_public_key,
)
from devnet.besu.qbft import DEFAULT_GAS_LIMIT, QbftError


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, item = value.partition("=")
        if not sep or not name or not item:
            raise NetworkError(f"{what} {value!r}: expected NAME=VALUE")
        pairs[name] = item
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devnet.besu", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    keygen = commands.add_parser("keygen", help="make a node key in a folder (key stays, key.pub is shared)")
    keygen.add_argument("--out", type=Path, required=True, help="the organisation's node folder")

    gen = commands.add_parser("generate", help="write the network's genesis, node configs and allowlists")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--validators", default=",".join(DEFAULT_VALIDATORS), help="organisations, comma-separated")
    gen.add_argument("--block-period", type=int, default=2, help="seconds between blocks")
    gen.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    gen.add_argument("--gas-limit", type=int, default=DEFAULT_GAS_LIMIT, help="block gas limit")
    gen.add_argument("--host", action="append", default=[], metavar="ORG=IP", help="a node's address (127.0.0.1)")
    gen.add_argument("--p2p-port", type=int, default=DEFAULT_P2P_PORT, help="first organisation's; +10 each next")
    gen.add_argument("--rpc-port", type=int, default=DEFAULT_RPC_PORT, help="loopback JSON-RPC; +10 each next")
    gen.add_argument("--metrics-port", type=int, default=DEFAULT_METRICS_PORT, help="loopback metrics; +10 each")
    gen.add_argument("--tx-pool", choices=("sequenced", "layered"), default="sequenced")
    gen.add_argument(
        "--account", action="append", default=[], metavar="NAME=ADDRESS", help="a platform account to allowlist"
    )
    gen.add_argument(
        "--account-permissioning",
        action="store_true",
        help="nodes accept transactions only from the listed accounts (not with the backend's custodial wallets)",
    )
    gen.add_argument("--force", action="store_true", help="replace an existing genesis.json (a new chain)")
    args = parser.parse_args(argv)

    try:
        if args.command == "keygen":
            if node_public_key(args.out) is not None:
                raise NetworkError(f"{args.out} already holds a node key")
            public = new_node_key(args.out)
            address = keys.PublicKey(public).to_checksum_address()
            print(f"node key written to {args.out / 'key'} (keep it on this machine)")
            print(f"share {args.out / 'key.pub'}: public key 0x{public.hex()}, validator address {address}")
            return 0
        spec = NetworkSpec(
            orgs=tuple(o.strip() for o in args.validators.split(",") if o.strip()),
            chain_id=args.chain_id,
            block_period_s=args.block_period,
            gas_limit=args.gas_limit,
            hosts=_pairs(args.host, "--host"),
            p2p_port=args.p2p_port,
            rpc_port=args.rpc_port,
            metrics_port=args.metrics_port,
            tx_pool=args.tx_pool,
            accounts=_pairs(args.account, "--account"),
            account_permissioning=args.account_permissioning,
        )
        nodes = generate(args.out, spec, force=args.force)
    except (NetworkError, QbftError, OSError) as exc:
        print(f"python -m devnet.besu: {exc}", file=sys.stderr)
        return 2
    if len(nodes) < 4:
        print(f"warning: {len(nodes)} validators tolerate no faulty one; QBFT needs 4 for that", file=sys.stderr)
    print(f"QBFT network (chain {spec.chain_id}, {spec.block_period_s} s blocks) written to {args.out}:")
    for node in nodes:
        print(f"  {node.org:<16} {node.address}  p2p {node.host}:{node.p2p_port}  rpc 127.0.0.1:{node.rpc_port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
