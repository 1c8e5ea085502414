"""chain.errors: revert data → the contract's named error, from live reverts and hand-built payloads."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from chain.client import connect
from chain.contracts import contracts_from_manifest, errors_from_manifest
from chain.enums import FacilityKind
from chain.errors import (
    PANIC_SELECTOR,
    ChainRevert,
    ErrorTable,
    as_revert,
    decode_revert,
    revert_data,
)
from chain.manifest import ContractInfo, Manifest, ManifestError
from chain.sender import TxSender
from tests.chain.nodes import AnvilNode, artifact, deploy, funded_account

NO_AREA = b"\0" * 32


def selector(signature: str) -> bytes:
    return Web3.keccak(text=signature)[:4]


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Web3, Manifest, Any]]:
    with AnvilNode() as node:
        w3 = connect(node.url)
        admin = funded_account(w3)
        sender = TxSender(w3, admin)
        ledger = deploy(w3, "VaccineLedger", admin.address, sender=sender)
        manifest = Manifest(
            chain_id=w3.eth.chain_id,
            contracts={
                "VaccineLedger": ContractInfo(address=ledger.address, abi=artifact("VaccineLedger")["abi"], block=1)
            },
        )
        yield w3, manifest, admin


@pytest.fixture(scope="module")
def table(deployed: tuple[Web3, Manifest, Any]) -> ErrorTable:
    return errors_from_manifest(deployed[1])


def live_revert(call: Any, sender: str, table: ErrorTable) -> ChainRevert:
    with pytest.raises((ContractLogicError, Web3RPCError)) as caught:
        call.call({"from": sender})
    revert = as_revert(caught.value, table)
    assert revert is not None
    return revert


def test_a_custom_error_without_arguments_is_named(deployed: tuple[Web3, Manifest, Any], table: ErrorTable) -> None:
    w3, manifest, admin = deployed
    ledger = contracts_from_manifest(w3, manifest)["VaccineLedger"]
    revert = live_revert(ledger.functions.registerFacility(FacilityKind.NONE, "x", NO_AREA), admin.address, table)
    assert (revert.name, revert.args, revert.message) == ("InvalidFacilityKind", (), "InvalidFacilityKind()")


def test_a_custom_error_with_an_address_is_decoded(deployed: tuple[Web3, Manifest, Any], table: ErrorTable) -> None:
    w3, manifest, admin = deployed
    ledger = contracts_from_manifest(w3, manifest)["VaccineLedger"]
    stranger = Account.create().address
    revert = live_revert(ledger.functions.removeMember(stranger), admin.address, table)
    assert revert.name == "NotAMember"
    assert revert.args == (stranger,)
    assert revert.message == f"NotAMember(account={stranger})"
    assert str(revert) == revert.message


def test_two_arguments_read_by_name(table: ErrorTable) -> None:
    data = selector("NotHeld(uint32,uint32)") + encode(["uint32", "uint32"], [3, 7])
    revert = decode_revert(data, table)
    assert (revert.name, revert.args, revert.message) == ("NotHeld", (3, 7), "NotHeld(lot=3, equipment=7)")
    assert decode_revert("0x" + data.hex(), table).message == "NotHeld(lot=3, equipment=7)"


def test_panic_says_what_went_wrong() -> None:
    revert = decode_revert(PANIC_SELECTOR + encode(["uint256"], [0x11]))
    assert revert.name == "Panic"
    assert revert.args == (0x11,)
    assert "arithmetic overflow" in revert.message
    assert "division" in decode_revert(PANIC_SELECTOR + encode(["uint256"], [0x12])).message


def test_error_string_and_empty_revert() -> None:
    revert = decode_revert(selector("Error(string)") + encode(["string"], ["not allowed"]))
    assert (revert.name, revert.args) == ("Error", ("not allowed",))
    assert "not allowed" in revert.message
    assert decode_revert(b"").name == "Reverted"


def test_an_unknown_selector_is_reported_not_guessed(table: ErrorTable) -> None:
    revert = decode_revert(bytes.fromhex("deadbeef") + encode(["uint256"], [1]), table)
    assert revert.name == "UnknownError"
    assert "0xdeadbeef" in revert.message


def test_revert_data_from_every_shape_web3_and_nodes_use() -> None:
    data = selector("NotHeld(uint32,uint32)") + encode(["uint32", "uint32"], [3, 7])
    hexdata = "0x" + data.hex()
    shapes: list[Any] = [
        ContractCustomError(hexdata, data=hexdata),
        ContractLogicError("execution reverted", data={"message": "x", "data": hexdata}),
        Web3RPCError("execution reverted", rpc_response={"error": {"code": 3, "message": "x", "data": hexdata}}),
        {"code": 3, "message": "execution reverted", "data": hexdata},  # eth_call / eth_estimateGas error dict
        {"error": {"code": -32000, "data": {"0x" + "ab" * 32: {"error": "revert", "return": hexdata}}}},  # Ganache
        ContractLogicError("execution reverted", data="Reverted " + hexdata),
    ]
    for shape in shapes:
        assert revert_data(shape) == data, shape
    assert revert_data(ConnectionError("refused")) is None
    assert as_revert(ConnectionError("refused")) is None
    assert as_revert(ContractLogicError("execution reverted", data=None)).name == "Reverted"  # type: ignore[union-attr]


def test_errors_shared_by_several_contracts_appear_once() -> None:
    names = ["VaccineLedger", "Appointments", "ColdChainLog"]
    table = ErrorTable.from_abis(artifact(n)["abi"] for n in names)
    assert "ZeroAddress" in table and "SlotFull" in table and "WindowAlreadyAnchored" in table
    assert len(table) == len(
        {(e["name"], len(e["inputs"])) for n in names for e in artifact(n)["abi"] if e["type"] == "error"}
    )


def test_chain_revert_survives_pickling() -> None:
    revert = decode_revert(
        selector("NotHeld(uint32,uint32)") + encode(["uint32", "uint32"], [3, 7]),
        ErrorTable.from_abis([artifact("VaccineLedger")["abi"]]),
    )
    again = pickle.loads(pickle.dumps(revert))
    assert (again.name, again.args, again.message) == ("NotHeld", (3, 7), "NotHeld(lot=3, equipment=7)")


def test_a_manifest_for_another_chain_is_refused(deployed: tuple[Web3, Manifest, Any]) -> None:
    w3, manifest, _ = deployed
    other = Manifest(chain_id=1, contracts=manifest.contracts)
    with pytest.raises(ManifestError, match="chain 1"):
        contracts_from_manifest(w3, other)
