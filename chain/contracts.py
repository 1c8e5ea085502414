"""The deployed contracts as web3 objects, and their custom errors, from the manifest."""

from __future__ import annotations

from web3 import Web3
from web3.contract import Contract

from chain.errors import ErrorTable
from chain.manifest import Manifest, ManifestError


def contracts_from_manifest(w3: Web3, manifest: Manifest, *, check_chain: bool = True) -> dict[str, Contract]:
    """name → Contract at the manifest's address. With check_chain, refuses a node
    on another chain than the one the manifest was deployed to."""
    if check_chain and (actual := w3.eth.chain_id) != manifest.chain_id:
        raise ManifestError(
            f"the manifest is for chain {manifest.chain_id} but the node is on chain {actual}: "
            "point at the right node or redeploy"
        )
    return {
        name: w3.eth.contract(address=Web3.to_checksum_address(info.address), abi=info.abi)
        for name, info in manifest.contracts.items()
    }


def errors_from_manifest(manifest: Manifest) -> ErrorTable:
    """Every custom error of every deployed contract, for `chain.errors.decode_revert`."""
    return ErrorTable.from_abis(info.abi for info in manifest.contracts.values())
