"""python -m oracle — the cold-chain oracle daemon and its operator commands.

    python -m oracle run                       the daemon (settings: VAXLEDGER_ORACLE_* or --env-file)
    python -m oracle status                    readings, batches, chain writes and alarms in the store
    python -m oracle alarms list [--all]       open or unacknowledged alarms, with their tier
    python -m oracle alarms show ID            one alarm and its history
    python -m oracle alarms ack ID --by NAME --comment TEXT
    python -m oracle prove-reading DEVICE SEQ [--out FILE]
    python -m oracle verify-reading FILE [--public-key HEX]
    python -m oracle devices list | add ... | remove DEVICE | demo [--seed S]

Exit codes: 0 done, 1 refused or not verified, 2 bad usage or unreachable service.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from oracle.config import OracleSettings

log = logging.getLogger("oracle")


def _settings(args: argparse.Namespace) -> OracleSettings:
    if getattr(args, "env_file", None):
        return OracleSettings(_env_file=args.env_file)  # type: ignore[call-arg]
    return OracleSettings()


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


def _store(settings: OracleSettings):
    from oracle.store import Store

    if not settings.store.exists():
        raise SystemExit(f"no oracle store at {settings.store}: has the daemon run here? (VAXLEDGER_ORACLE_STORE)")
    return Store(settings.store)


# --- run --------------------------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from oracle.alarms import AlarmError
    from oracle.daemon import Daemon
    from oracle.devices import RegistryError
    from oracle.store import StoreError

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("web3").setLevel(logging.WARNING)
    logging.getLogger("chain.sender").setLevel(logging.WARNING)
    try:
        daemon = Daemon(_settings(args))
    except (RegistryError, StoreError, AlarmError, OSError, ValueError) as exc:  # bad files or settings: say which
        print(f"oracle: {exc}", file=sys.stderr)
        return 2
    daemon.run_forever()
    return 0


# --- status and alarms ------------------------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    from oracle.alarms import AlarmBook, TierPolicy

    settings = _settings(args)
    with _store(settings) as store:
        book = AlarmBook(store, TierPolicy.load(settings.tiers))
        print(f"readings stored       {store.count():>10,}")
        print(f"  waiting for a batch {store.count(anchored=False):>10,}")
        for kind, counts in (("batches", store.batch_counts()), ("windows", store.window_counts())):
            for status, n in counts.items():
                print(f"{kind} {status:<13} {n:>10,}")
        print(f"chain writes pending  {len(store.pending(limit=100_000)):>10,}")
        print(f"alarms open           {len(book.alarms(open_only=True)):>10,}")
        print(f"alarms unacknowledged {len(book.alarms(unacked_only=True)):>10,}")
    return 0


def _alarm_line(a) -> str:
    temp = f"{a.min_dc / 10:.1f}..{a.max_dc / 10:.1f} °C" if a.min_dc is not None else ""
    state = "open" if a.is_open else f"closed {_when(a.closed_at_ms)}"
    ack = f"ack by {a.acked_by}" if a.acked_by else "UNACKNOWLEDGED"
    return (
        f"{a.alarm_id[:14]}  [{a.tier:<9}] sev {a.severity} {a.kind:<28} equipment {a.equipment:<5} "
        f"since {_when(a.opened_at_ms)}  {state:<22} {temp:<16} {ack}"
    )


def cmd_alarms(args: argparse.Namespace) -> int:
    from oracle.alarms import AlarmBook, AlarmError, TierPolicy

    settings = _settings(args)
    with _store(settings) as store:
        book = AlarmBook(store, TierPolicy.load(settings.tiers))
        try:
            if args.action == "list":
                rows = book.alarms(tier=args.tier)
                if not args.all:
                    rows = [a for a in rows if a.is_open or a.acked_at_ms is None]
                if args.json:
                    print(json.dumps([a.to_dict() for a in rows], indent=1, ensure_ascii=False))
                elif not rows:
                    print("no alarms" if args.all else "no open or unacknowledged alarms")
                for a in [] if args.json else rows:
                    print(_alarm_line(a))
            elif args.action == "show":
                a = book.get(args.id)
                print(json.dumps(a.to_dict(), indent=1, ensure_ascii=False))
                for e in book.history(a.alarm_id):
                    who = f" by {e.actor}" if e.actor else ""
                    tier = f" [{e.tier}]" if e.tier else ""
                    print(f"{_when(e.at_ms)} {e.action}{tier}{who}: {e.detail}")
            else:
                a = book.acknowledge(args.id, args.by, args.comment, time.time_ns() // 1_000_000)
                print(f"acknowledged {a.alarm_id} by {a.acked_by}: {a.ack_comment}")
        except AlarmError as exc:
            print(f"oracle alarms: {exc}", file=sys.stderr)
            return 1
    return 0


# --- proofs -----------------------------------------------------------------------------------------------------------


def cmd_prove(args: argparse.Namespace) -> int:
    from oracle.proof import ProofError, prove

    with _store(_settings(args)) as store:
        try:
            p = prove(store, args.device, args.seq)
        except ProofError as exc:
            print(f"oracle prove-reading: {exc}", file=sys.stderr)
            return 1
    text = json.dumps(p.to_json(), indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"proof of {args.device}#{args.seq} written to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from chain import manifest as manifest_mod
    from chain.client import connect
    from chain.contracts import contracts_from_manifest
    from chain.errors import ChainError
    from oracle.proof import ProofError, ReadingProof, verify

    settings = _settings(args)
    try:
        p = ReadingProof.from_json(json.loads(Path(args.file).read_text()))
        key = bytes.fromhex(args.public_key.removeprefix("0x")) if args.public_key else None
        manifest = manifest_mod.load(args.manifest or settings.manifest)
        w3 = connect(args.rpc_url or settings.rpc_url)
        cold_chain = contracts_from_manifest(w3, manifest)["ColdChainLog"]
        result = verify(cold_chain, p, key)
    except (OSError, ValueError, ProofError, ChainError, manifest_mod.ManifestError) as exc:
        print(f"oracle verify-reading: {exc}", file=sys.stderr)
        return 2
    r = p.reading
    print(f"reading   {r.device}#{r.seq} equipment {r.equipment} at {_when(r.ts_ms)}: {r.temp_dc / 10:.1f} °C")
    print(f"batch     0x{p.header[0].hex()}: {p.header[4]} readings of equipment {p.header[1]}")
    print(f"window    0x{p.window_id.hex()} {'anchored' if result.anchored else 'NOT ANCHORED'}")
    print(f"path      {'reaches the anchored root' if result.path_matches_root else 'DOES NOT reach the root'}")
    print(f"contract  verifyReading = {result.chain_says}")
    if result.signature_ok is not None:
        print(f"signature {'valid for the given device key' if result.signature_ok else 'INVALID'}")
    print("VERIFIED" if result.ok else "NOT VERIFIED")
    return 0 if result.ok else 1


# --- devices ----------------------------------------------------------------------------------------------------------


def cmd_devices(args: argparse.Namespace) -> int:
    from oracle import devices

    settings = _settings(args)
    path = settings.devices
    try:
        if args.action == "demo":
            registry = demo_registry(settings, args.seed)
            devices.save(registry, path)
            print(f"{len(registry.devices)} demo devices written to {path}")
            return 0
        registry = devices.load(path) if path.exists() or args.action != "add" else devices.Registry()
        if args.action == "list":
            for e in registry.devices.values():
                extra = f" {e.transport}" if e.transport else ""
                print(f"{e.device:<24} equipment {e.equipment:<6} {e.kind}{extra:<7} facility {e.facility}")
            return 0
        if args.action == "add":
            entries = [x for x in registry.devices.values() if x.device != args.device]
            entry = devices.DeviceEntry(
                args.device, args.equipment, args.kind, args.public_key, args.facility, args.transport
            )
            registry = devices.Registry([*entries, entry])
        else:
            if args.device not in registry.devices:
                print(f"oracle devices: no device {args.device!r}", file=sys.stderr)
                return 1
            registry = devices.Registry(x for x in registry.devices.values() if x.device != args.device)
        devices.save(registry, path)
        print(f"{path}: {len(registry.devices)} devices")
    except devices.RegistryError as exc:
        print(f"oracle devices: {exc}", file=sys.stderr)
        return 1
    return 0


def demo_registry(settings: OracleSettings, seed: str):
    """One simulated sensor per piece of equipment on the ledger, keys derived from the seed."""
    from chain import manifest as manifest_mod
    from chain.client import connect
    from chain.contracts import contracts_from_manifest
    from chain.enums import EquipmentKind
    from oracle.daemon import CHAIN_KINDS
    from oracle.devices import DEFAULT_TRANSPORT, DeviceEntry, Registry
    from oracle.identity import public_bytes
    from oracle.simulator import demo_key

    manifest = manifest_mod.load(settings.manifest)
    ledger = contracts_from_manifest(connect(settings.rpc_url), manifest)["VaccineLedger"]
    entries = []
    for eq in range(1, ledger.functions.equipmentCount().call() + 1):
        facility, kind = ledger.functions.equipment(eq).call()[:2]
        name = CHAIN_KINDS[EquipmentKind(kind)]
        device = f"sim-{eq}"
        entries.append(
            DeviceEntry(
                device,
                eq,
                name,
                public_bytes(demo_key(seed, device)).hex(),
                facility,
                DEFAULT_TRANSPORT if name == "vehicle" else None,
            )
        )
    return Registry(entries)


# --- parser -----------------------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m oracle", description=__doc__.split("\n\n")[0])
    ap.add_argument("--env-file", help="read VAXLEDGER_ORACLE_* settings from this file")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--verbose", action="store_true")
    run.set_defaults(fn=cmd_run)

    sub.add_parser("status", help="what the store holds").set_defaults(fn=cmd_status)

    alarms = sub.add_parser("alarms", help="list, show and acknowledge alarms")
    asub = alarms.add_subparsers(dest="action", required=True)
    ls = asub.add_parser("list")
    ls.add_argument("--all", action="store_true", help="also closed and acknowledged alarms")
    ls.add_argument("--tier", choices=("site", "cdc", "regulator"))
    ls.add_argument("--json", action="store_true")
    show = asub.add_parser("show")
    show.add_argument("id", help="alarm id or its first characters")
    ack = asub.add_parser("ack")
    ack.add_argument("id", help="alarm id or its first characters")
    ack.add_argument("--by", required=True, help="who acknowledges")
    ack.add_argument("--comment", required=True, help="what was checked or done (required)")
    alarms.set_defaults(fn=cmd_alarms)

    prove = sub.add_parser("prove-reading", help="export the Merkle proof of one anchored reading")
    prove.add_argument("device")
    prove.add_argument("seq", type=int)
    prove.add_argument("--out", help="write the proof here instead of stdout")
    prove.set_defaults(fn=cmd_prove)

    verify = sub.add_parser("verify-reading", help="check a proof file against the chain")
    verify.add_argument("file")
    verify.add_argument("--public-key", help="the device's Ed25519 public key (hex) to check its signature too")
    verify.add_argument("--rpc-url")
    verify.add_argument("--manifest")
    verify.set_defaults(fn=cmd_verify)

    dev = sub.add_parser("devices", help="the device registry")
    dsub = dev.add_subparsers(dest="action", required=True)
    dsub.add_parser("list")
    add = dsub.add_parser("add")
    add.add_argument("--device", required=True)
    add.add_argument("--equipment", type=int, required=True)
    add.add_argument("--kind", required=True, choices=("fridge", "freezer", "cold_room", "cold_box", "vehicle"))
    add.add_argument("--public-key", required=True, help="Ed25519 public key, hex")
    add.add_argument("--facility", type=int)
    add.add_argument("--transport", choices=("type1", "type2"), help="vehicles: WHO shipping indicator type")
    rm = dsub.add_parser("remove")
    rm.add_argument("device")
    demo = dsub.add_parser("demo", help="a simulated sensor for every equipment on the ledger")
    demo.add_argument("--seed", default="0")
    dev.set_defaults(fn=cmd_devices)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
