"""How the chain says no: revert data decoded into a named error.

The contracts refuse with custom errors (`NotHeld(uint32 lot, uint32 equipment)`);
this module turns the raw revert bytes into `ChainRevert` with the error's
name, decoded arguments and a readable message ("NotHeld(lot=3, equipment=7)").
`ErrorTable.from_abis` builds the selector table from ABIs (for the deployed
contracts: `chain.contracts.errors_from_manifest`); `Error(string)` and
`Panic(uint256)` are always known. `revert_data` pulls the bytes out of
whatever web3 raised."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3.exceptions import ContractLogicError

ERROR_SELECTOR = function_signature_to_4byte_selector("Error(string)")
PANIC_SELECTOR = function_signature_to_4byte_selector("Panic(uint256)")

PANIC_MEANINGS = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory (allocation too large)",
    0x51: "call to an uninitialised internal function",
}


class ChainError(Exception):
    """Base of the errors this package raises."""


class ChainUnavailable(ChainError):
    """The node did not answer (down, unreachable, or too slow) after the retries allowed.

    `tx_hash` is set when a transaction had already been signed and may have
    reached the node: look it up before sending the same intent again."""

    tx_hash: str | None = None


class RpcError(ChainError):
    """The node answered a JSON-RPC request with an error; `rpc_response` keeps it (its `data` may hold
    revert bytes)."""

    def __init__(self, method: str, error: Any) -> None:
        message = error.get("message", error) if isinstance(error, Mapping) else error
        super().__init__(f"{method}: {message}", error if isinstance(error, Mapping) else {})
        self.rpc_response = {"error": error}


class TxRejected(ChainError):
    """The node refused to take a signed transaction into its pool for a reason retrying will not fix."""


class ChainRevert(ChainError):
    """A call or transaction reverted; `name`/`args` say which rule it broke.

    `args` holds the decoded error arguments (so `str()` is `message`, not the tuple).
    `tx_hash` is set when the revert came from a mined transaction (status 0)."""

    def __init__(
        self,
        name: str,
        args: tuple[Any, ...] = (),
        message: str | None = None,
        *,
        data: bytes = b"",
        tx_hash: str | None = None,
    ) -> None:
        super().__init__(message or name)
        self.name = name
        self.args = tuple(args)
        self.message = message or name
        self.data = data
        self.tx_hash = tx_hash

    @property
    def selector(self) -> bytes:
        return self.data[:4]

    def __str__(self) -> str:
        return self.message if not self.tx_hash else f"{self.message} (tx {self.tx_hash})"

    def __repr__(self) -> str:
        return f"ChainRevert({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_revert, (self.name, self.args, self.message, self.data, self.tx_hash))


def _rebuild_revert(name: str, args: tuple[Any, ...], message: str, data: bytes, tx_hash: str | None) -> ChainRevert:
    return ChainRevert(name, args, message, data=data, tx_hash=tx_hash)


@dataclass(frozen=True)
class ErrorSpec:
    name: str
    types: tuple[str, ...]
    arg_names: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.types)})"


def _canonical_type(param: Mapping[str, Any]) -> str:
    """`tuple` parameters become `(t1,t2)` (with any array suffix), as in the selector."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


class ErrorTable:
    """Selector → custom error, built from ABIs; decodes revert data."""

    def __init__(self, specs: Iterable[ErrorSpec] = ()) -> None:
        self._by_selector: dict[bytes, ErrorSpec] = {}
        for spec in specs:
            self._by_selector[function_signature_to_4byte_selector(spec.signature)] = spec

    @classmethod
    def from_abis(cls, abis: Iterable[Iterable[Mapping[str, Any]]]) -> ErrorTable:
        specs = [
            ErrorSpec(
                name=entry["name"],
                types=tuple(_canonical_type(p) for p in entry.get("inputs", [])),
                arg_names=tuple(p.get("name") or f"arg{i}" for i, p in enumerate(entry.get("inputs", []))),
            )
            for abi in abis
            for entry in abi
            if entry.get("type") == "error"
        ]
        return cls(specs)

    def __len__(self) -> int:
        return len(self._by_selector)

    def __contains__(self, name: str) -> bool:
        return any(spec.name == name for spec in self._by_selector.values())

    def decode(self, data: bytes | str) -> ChainRevert:
        return decode_revert(data, self)

    def lookup(self, selector: bytes) -> ErrorSpec | None:
        return self._by_selector.get(selector)


def decode_revert(data: bytes | str, errors: ErrorTable | None = None) -> ChainRevert:
    """Revert data → `ChainRevert`. Custom errors need `errors` (the contracts' ABIs);
    `Error(string)` and `Panic(uint256)` decode without it."""
    raw = _as_bytes(data)
    if not raw:
        return ChainRevert("Reverted", (), "reverted without a reason", data=raw)
    selector, body = raw[:4], raw[4:]
    try:
        if selector == ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], body)
            return ChainRevert("Error", (reason,), f"Error({reason!r})", data=raw)
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            meaning = PANIC_MEANINGS.get(code, "unknown panic code")
            return ChainRevert("Panic", (code,), f"Panic(0x{code:02x}: {meaning})", data=raw)
        spec = errors.lookup(selector) if errors else None
        if spec is not None:
            values = tuple(_friendly(t, v) for t, v in zip(spec.types, abi_decode(list(spec.types), body), strict=True))
            shown = ", ".join(f"{n}={_show(v)}" for n, v in zip(spec.arg_names, values, strict=True))
            return ChainRevert(spec.name, values, f"{spec.name}({shown})", data=raw)
    except (DecodingError, ValueError) as exc:
        return ChainRevert("Undecodable", (raw,), f"revert data 0x{raw.hex()} does not decode: {exc}", data=raw)
    return ChainRevert(
        "UnknownError",
        (raw,),
        f"unknown custom error 0x{selector.hex()} (not in the ABIs given; data 0x{raw.hex()})",
        data=raw,
    )


def _as_bytes(data: bytes | str) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    text = data.strip()
    if text.startswith("Reverted "):  # Ganache prefixes the hex
        text = text[len("Reverted ") :]
    return bytes.fromhex(text[2:] if text[:2].lower() == "0x" else text)


def _friendly(kind: str, value: Any) -> Any:
    if kind == "address":
        return to_checksum_address(value)
    if kind == "address[]":
        return tuple(to_checksum_address(v) for v in value)
    return value


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and not value.startswith("0x"):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def revert_data(exc: BaseException | Mapping[str, Any]) -> bytes | None:
    """The revert bytes in a web3 exception (ContractCustomError, ContractLogicError
    and ContractPanicError carry `.data`; Web3RPCError carries the RPC error) or in a
    raw JSON-RPC error dict from eth_call / eth_estimateGas; None when there are none."""
    found = _find_hex(exc)
    if found is None and isinstance(exc, BaseException):
        for attr in ("data", "rpc_response"):
            found = _find_hex(getattr(exc, attr, None))
            if found is not None:
                break
        if found is None:
            for arg in exc.args:
                found = _find_hex(arg) if isinstance(arg, Mapping) else None
                if found is not None:
                    break
        if found is None and exc.__cause__ is not None:
            return revert_data(exc.__cause__)
    if found is None:
        return None
    try:
        return _as_bytes(found)
    except ValueError:
        return None


def as_revert(exc: BaseException, errors: ErrorTable | None = None) -> ChainRevert | None:
    """`ChainRevert` for an exception that means "the EVM reverted" (with or without
    data), else None (a connection error, a refused transaction...)."""
    if isinstance(exc, ChainRevert):
        return exc
    data = revert_data(exc)
    if data is not None:
        return decode_revert(data, errors)
    if isinstance(exc, ContractLogicError) or "revert" in str(exc).lower():
        return ChainRevert("Reverted", (), f"reverted without revert data ({exc})")
    return None


def _find_hex(value: Any, depth: int = 0) -> str | None:
    """Revert hex in an RPC error shape: "0x..", {"data": ..}, {"error": {"data": ..}},
    Ganache's {"<txhash>": {"return": ..}}."""
    if depth > 4 or value is None or isinstance(value, BaseException):
        return None
    if isinstance(value, str):
        text = value.removeprefix("Reverted ")
        if text[:2].lower() == "0x" and (len(text) == 2 or len(text) >= 10) and _is_hex(text[2:]):
            return text
        return None
    if isinstance(value, Mapping):
        for key in ("data", "error", "return", "result"):
            if key in value:
                found = _find_hex(value[key], depth + 1)
                if found is not None:
                    return found
        for nested in value.values():
            if isinstance(nested, Mapping):
                found = _find_hex(nested, depth + 1)
                if found is not None:
                    return found
    return None


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)
