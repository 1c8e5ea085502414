"""Proving one reading against its anchored batch — for anyone, not only the oracle.

The oracle (or whoever holds its store) exports a proof file: the reading's
fields, its signature, its batch's header (equipment, time range, count,
extremes, root), the window the batch was anchored in, and two Merkle paths:
reading to batch root, batch header to the window's root. Anyone can then check
it with nothing but the file and a chain node: the leaf is recomputed from the
fields (so the file cannot claim another temperature than the one anchored),
both paths are checked against the root stored on chain, and the chain's own
`verifyReading` is asked too. The device signature is checked when the
device's public key is given.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from oracle import identity, merkle
from oracle.anchoring import header, header_leaf
from oracle.reading import Reading, leaf
from oracle.store import BatchStatus, Store

FORMAT = "vaxledger.reading-proof/2"
HEADER_FIELDS = ("batch_id", "equipment", "first_ts", "last_ts", "count", "min_temp_dc", "max_temp_dc", "merkle_root")


class ProofError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ReadingProof:
    reading: Reading
    signature: bytes
    window_id: bytes
    header: tuple
    """ColdChainLog.BatchHeader of the reading's batch."""
    header_proof: tuple[bytes, ...]
    proof: tuple[bytes, ...]
    """The reading's path to the batch's root (header[7])."""

    @property
    def leaf(self) -> bytes:
        return leaf(self.reading)

    def to_json(self) -> dict[str, Any]:
        r = self.reading
        return {
            "format": FORMAT,
            "reading": {
                "device": r.device,
                "equipment": r.equipment,
                "seq": r.seq,
                "ts": r.ts_ms,
                "temp_dc": r.temp_dc,
                "battery": r.battery,
                "door": r.door_open,
            },
            "signature": base64.b64encode(self.signature).decode(),
            "window_id": "0x" + self.window_id.hex(),
            "batch": {
                k: "0x" + v.hex() if isinstance(v, bytes) else v
                for k, v in zip(HEADER_FIELDS, self.header, strict=True)
            },
            "batch_proof": ["0x" + p.hex() for p in self.header_proof],
            "leaf": "0x" + self.leaf.hex(),
            "proof": ["0x" + p.hex() for p in self.proof],
        }

    @classmethod
    def from_json(cls, data: Any) -> ReadingProof:
        try:
            if data["format"] != FORMAT:
                raise ProofError(f"not a reading proof ({data['format']!r}, expected {FORMAT!r})")
            f = data["reading"]
            reading = Reading(
                str(f["device"]),
                int(f["equipment"]),
                int(f["seq"]),
                int(f["ts"]),
                int(f["temp_dc"]),
                int(f["battery"]),
                bool(f["door"]),
            )
            b = data["batch"]
            batch = (
                _bytes32(b["batch_id"]),
                *(int(b[k]) for k in HEADER_FIELDS[1:7]),
                _bytes32(b["merkle_root"]),
            )
            return cls(
                reading,
                base64.b64decode(data["signature"], validate=True),
                _bytes32(data["window_id"]),
                batch,
                tuple(_bytes32(p) for p in data["batch_proof"]),
                tuple(_bytes32(p) for p in data["proof"]),
            )
        except ProofError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofError(f"malformed proof file: {exc!r}") from None


def _bytes32(text: str) -> bytes:
    raw = bytes.fromhex(str(text).removeprefix("0x"))
    if len(raw) != 32:
        raise ProofError(f"expected 32 bytes of hex, got {len(raw)}")
    return raw


def prove(store: Store, device: str, seq: int) -> ReadingProof:
    """The proof of a stored reading; ProofError if it is unknown or not yet anchored."""
    stored = store.get(device, seq)
    if stored is None:
        raise ProofError(f"no reading {device!r}#{seq} in the store")
    if stored.batch_id is None:
        raise ProofError(f"reading {device!r}#{seq} is not in a batch yet (batches are cut every few minutes)")
    batch = store.batch(stored.batch_id)
    assert batch is not None
    if batch.status is not BatchStatus.CONFIRMED or batch.window_id is None:
        raise ProofError(f"batch {batch.batch_id} of {device!r}#{seq} is {batch.status.value}, not yet on chain")
    rows = store.readings_of_batch(stored.batch_id)
    index = next(i for i, r in enumerate(rows) if r.id == stored.id)
    reading_path = merkle.proof([leaf(r.reading) for r in rows], index)
    batches = store.batches_of_window(batch.window_id)
    position = next(i for i, b in enumerate(batches) if b.batch_id == batch.batch_id)
    header_path = merkle.proof([header_leaf(header(b)) for b in batches], position)
    return ReadingProof(
        stored.reading,
        stored.signature,
        _bytes32(batch.window_id),
        header(batch),
        tuple(header_path),
        tuple(reading_path),
    )


@dataclass(frozen=True, slots=True)
class Verification:
    anchored: bool
    """The window has a root on chain."""
    path_matches_root: bool
    """Checked here: the reading's path reaches its batch's root, and the batch header's path reaches the
    window's root on chain."""
    chain_says: bool
    """ColdChainLog.verifyReading's own answer."""
    signature_ok: bool | None
    """The device signature over the fields (None: no public key given)."""

    @property
    def ok(self) -> bool:
        return self.anchored and self.path_matches_root and self.chain_says and self.signature_ok is not False


def verify(cold_chain: Contract, p: ReadingProof, device_public_key: bytes | None = None) -> Verification:
    root = cold_chain.functions.windowRoot(p.window_id).call()
    anchored = root != b"\x00" * 32
    paths = merkle.verify(list(p.proof), p.header[7], p.leaf) and merkle.verify(
        list(p.header_proof), root, header_leaf(p.header)
    )
    return Verification(
        anchored=anchored,
        path_matches_root=anchored and paths,
        chain_says=cold_chain.functions.verifyReading(
            p.window_id, p.header, list(p.header_proof), p.leaf, list(p.proof)
        ).call(),
        signature_ok=None if device_public_key is None else identity.verify(device_public_key, p.reading, p.signature),
    )
