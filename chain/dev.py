"""The local development chain's public facts (Anvil's and Ganache's defaults).

Its mnemonic is published, so these accounts are for `make up` and tests only;
every component refuses them on any other chain id."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount

DEV_CHAIN_ID = 31337
DEV_HARDFORK = "shanghai"
"""The EVM the contracts are compiled for (brownie-config.yaml) and Besu QBFT networks run. Anvil
defaults to the latest hardfork, whose calldata floor (EIP-7623) would price the oracle's anchoring
windows unlike production."""
ANVIL_HISTORY = ("--prune-history", "256")
"""Anvil keeps the states of its last 256 blocks in memory and writes none to disk. By default it spills
older block states, whole, into ~/.foundry/anvil/tmp and never removes them (61 GB on one machine after
a day of test runs), and those writes made each transaction dearer as the state grew. Nothing here reads
state more than a few blocks old: confirmation depths are a handful of blocks, and the indexer reads logs."""
DEV_MNEMONIC = "test test test test test test test test test test test junk"
# scripts/deploy.py: account 0 deploys (admin), 1 is the regulator, 2 the oracle.
ADMIN_INDEX, REGULATOR_INDEX, ORACLE_INDEX = 0, 1, 2


def dev_account(index: int) -> LocalAccount:
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
