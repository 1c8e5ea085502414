"""python -m devnet.besu: the QBFT network's files are what Besu reads, and say what the platform needs
(free gas, Shanghai, room per sender, loopback RPC, the validators' allowlists); keys stay with their owners."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from eth_keys import keys

from chain.dev import DEV_CHAIN_ID, DEV_HARDFORK, dev_account
from devnet.besu.__main__ import main
from devnet.besu.network import (
    DEFAULT_VALIDATORS,
    PER_SENDER,
    PERMISSIONS_FILE,
    NetworkError,
    NetworkSpec,
    generate,
)
from devnet.besu.qbft import GENESIS_HARDFORK, QbftError, decode_extra_data, encode_extra_data

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = {"admin": dev_account(0).address, "regulator": dev_account(1).address, "oracle": dev_account(2).address}
# Options of one pool type that Besu refuses alongside the other type (its TransactionPoolOptions).
SEQUENCED_ONLY = {"tx-pool-limit-by-account-percentage", "tx-pool-max-size", "tx-pool-retention-hours"}
LAYERED_ONLY = {"tx-pool-layer-max-capacity", "tx-pool-max-prioritized", "tx-pool-max-future-by-sender"}
ENODE = re.compile(r"^enode://([0-9a-f]{128})@([0-9.]+):(\d+)$")


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("net")
    generate(out, NetworkSpec(chain_id=20250, accounts=ACCOUNTS))
    return out


def toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def node_key(folder: Path) -> keys.PrivateKey:
    return keys.PrivateKey(bytes.fromhex((folder / "key").read_text().removeprefix("0x")))


def test_the_genesis_is_a_free_gas_shanghai_qbft_chain(net: Path) -> None:
    genesis = json.loads((net / "genesis.json").read_text())
    config = genesis["config"]
    assert config["chainId"] == 20250
    assert config["shanghaiTime"] == 0 and config["londonBlock"] == 0  # the contracts' EVM from block 0
    assert GENESIS_HARDFORK == DEV_HARDFORK
    assert yaml.safe_load((ROOT / "brownie-config.yaml").read_text())["compiler"]["evm_version"] == DEV_HARDFORK
    assert config["zeroBaseFee"] is True and genesis["baseFeePerGas"] == "0x0"
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 4}
    assert genesis["difficulty"] == "0x1" and genesis["alloc"] == {}
    assert int(genesis["gasLimit"], 16) >= 600_000  # a district's hourly anchoring window fits a block
    assert "contractSizeLimit" not in config  # the 24,576-byte limit the contracts are measured against


def test_the_extra_data_names_every_organisations_validator_and_nothing_else(net: Path) -> None:
    extra = decode_extra_data(json.loads((net / "genesis.json").read_text())["extraData"])
    addresses = [node_key(net / org).public_key.to_checksum_address() for org in DEFAULT_VALIDATORS]
    assert list(extra.validators) == sorted(addresses, key=str.lower)
    assert extra.vanity == bytes(32) and extra.votes == [] and extra.round == 0 and extra.seals == []


def test_the_extra_data_encoding_matches_besus_documented_example() -> None:
    # The four validators and their RLP from Besu's QBFT guide (`besu rlp encode --type=QBFT_EXTRA_DATA`).
    validators = [
        "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
        "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
        "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
        "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
    ]
    expected = (
        "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b11e43cba0"
        "cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab5e7f4061c6"
        "05820d3744227eed91ff8e2c8908c080c0"
    )
    assert encode_extra_data(validators) == expected
    with pytest.raises(QbftError):
        encode_extra_data([validators[0], validators[0]])
    with pytest.raises(QbftError):
        decode_extra_data("0x" + "00" * 40)


def test_enode_urls_are_the_node_keys_and_peers_are_the_other_organisations(net: Path) -> None:
    summary = json.loads((net / "network.json").read_text())
    by_org = {v["org"]: v for v in summary["validators"]}
    all_enodes = [v["enode"] for v in summary["validators"]]
    for org in DEFAULT_VALIDATORS:
        folder = net / org
        key = node_key(folder)
        node_id, host, port = ENODE.match(by_org[org]["enode"]).groups()  # type: ignore[union-attr]
        assert node_id == key.public_key.to_bytes().hex() and host == "127.0.0.1"
        assert (folder / "key.pub").read_text() == "0x" + node_id
        assert by_org[org]["address"] == key.public_key.to_checksum_address()
        assert int(port) == toml(folder / "config.toml")["p2p-port"]
        peers = json.loads((folder / "static-nodes.json").read_text())
        assert sorted(peers) == sorted(e for e in all_enodes if e != by_org[org]["enode"])
        assert (folder / "key").stat().st_mode & 0o077 == 0  # the node key is its owner's alone
    assert len({int(ENODE.match(e).group(3)) for e in all_enodes}) == 4  # type: ignore[union-attr]


def test_every_config_parses_and_says_what_the_platform_needs(net: Path) -> None:
    rpc_ports = set()
    for org in DEFAULT_VALIDATORS:
        folder = net / org
        config = toml(folder / "config.toml")
        for name in ("genesis-file", "node-private-key-file", "static-nodes-file", "permissions-nodes-config-file"):
            assert (folder / config[name]).is_file(), name  # relative to the folder Besu is started in
        assert json.loads((folder / "genesis.json").read_text()) == json.loads((net / "genesis.json").read_text())
        assert config["min-gas-price"] == 0 and config["tx-pool-min-gas-price"] == 0
        assert config["rpc-http-host"] == "127.0.0.1" and config["metrics-host"] == "127.0.0.1"
        assert {"ETH", "NET", "WEB3", "QBFT"} <= set(config["rpc-http-api"])
        assert config["discovery-enabled"] is False and config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is False
        assert config["revert-reason-enabled"] is True
        assert config["tx-pool"] == "sequenced" and not LAYERED_ONLY & config.keys()
        assert config["tx-pool-max-size"] * config["tx-pool-limit-by-account-percentage"] == PER_SENDER
        assert "tx-pool-price-bump" not in config  # Besu refuses a price bump on a zero-base-fee chain
        rpc_ports.add(config["rpc-http-port"])
    assert len(rpc_ports) == 4 and 8547 not in rpc_ports  # one machine can run them all beside the oracle


def test_the_layered_pool_gets_its_own_options_only(tmp_path: Path) -> None:
    generate(tmp_path, NetworkSpec(tx_pool="layered"))
    config = toml(tmp_path / "cdc" / "config.toml")
    assert config["tx-pool"] == "layered" and config["tx-pool-max-future-by-sender"] == PER_SENDER
    assert not SEQUENCED_ONLY & config.keys()


def test_permissioning_files_list_the_validators_and_the_platform_accounts(net: Path) -> None:
    enodes = [v["enode"] for v in json.loads((net / "network.json").read_text())["validators"]]
    texts = {(net / org / PERMISSIONS_FILE).read_text() for org in DEFAULT_VALIDATORS}
    assert len(texts) == 1  # every node has the same allowlists
    permissions = tomllib.loads(texts.pop())
    assert permissions["nodes-allowlist"] == enodes
    assert permissions["accounts-allowlist"] == [a.lower() for a in ACCOUNTS.values()]


def test_account_permissioning_is_a_choice_that_needs_accounts(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="refuse every transaction"):
        generate(tmp_path / "a", NetworkSpec(account_permissioning=True))
    generate(tmp_path / "b", NetworkSpec(account_permissioning=True, accounts={"admin": ACCOUNTS["admin"]}))
    config = toml(tmp_path / "b" / "cdc" / "config.toml")
    assert config["permissions-accounts-config-file-enabled"] is True
    assert config["permissions-accounts-config-file"] == PERMISSIONS_FILE


def test_an_organisation_that_keeps_its_key_hands_over_only_the_public_key(tmp_path: Path) -> None:
    home = tmp_path / "regulator-machine" / "regulator"
    assert main(["keygen", "--out", str(home)]) == 0
    (tmp_path / "net" / "regulator").mkdir(parents=True)
    (tmp_path / "net" / "regulator" / "key.pub").write_text((home / "key.pub").read_text())
    hosts = ["--validators", "cdc,regulator", "--host", "cdc=10.1.0.5", "--host", "regulator=10.2.0.7"]
    assert main(["generate", "--out", str(tmp_path / "net"), *hosts]) == 0
    assert not (tmp_path / "net" / "regulator" / "key").exists()
    regulator = node_key(home).public_key
    summary = json.loads((tmp_path / "net" / "network.json").read_text())
    [entry] = [v for v in summary["validators"] if v["org"] == "regulator"]
    assert entry["enode"] == f"enode://{regulator.to_bytes().hex()}@10.2.0.7:30313"
    extra = decode_extra_data(json.loads((tmp_path / "net" / "genesis.json").read_text())["extraData"])
    assert regulator.to_checksum_address() in extra.validators
    cdc = toml(tmp_path / "net" / "cdc" / "config.toml")
    assert cdc["p2p-host"] == "10.1.0.5" and cdc["p2p-interface"] == "0.0.0.0"

    # Run again (a port changed, say): the same keys, so the same validators; the genesis only with --force.
    before = (tmp_path / "net" / "genesis.json").read_text()
    assert main(["generate", "--out", str(tmp_path / "net"), *hosts]) == 2
    assert main(["generate", "--out", str(tmp_path / "net"), *hosts, "--rpc-port", "18545", "--force"]) == 0
    assert (tmp_path / "net" / "genesis.json").read_text() == before


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (NetworkSpec(chain_id=DEV_CHAIN_ID), "development chain"),
        (NetworkSpec(hosts={"cdc": "cdc.example"}), "IP address"),
        (NetworkSpec(hosts={"police": "10.0.0.1"}), "not a validator"),
        (NetworkSpec(hosts={"cdc": "10.0.0.1"}), "every organisation's host"),
        (NetworkSpec(orgs=("CDC",)), "organisation name"),
        (NetworkSpec(orgs=("cdc", "cdc")), "twice"),
        (NetworkSpec(accounts={"admin": "0x1234"}), "not an address"),
        (NetworkSpec(rpc_port=65530), "out of range"),
    ],
)
def test_unsafe_or_broken_settings_are_refused(tmp_path: Path, spec: NetworkSpec, reason: str) -> None:
    with pytest.raises(NetworkError, match=reason):
        generate(tmp_path, spec)
    assert not (tmp_path / "genesis.json").exists()
