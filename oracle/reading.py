"""A cold-chain reading: what a sensor sends, what the device signs, and the
leaf that anchors it on chain.

Temperatures are whole tenths of a degree Celsius (deci-°C) everywhere, as in
the contracts: 4.5 °C is 45, the freeze threshold -0.5 °C is -5. Time is
milliseconds since the Unix epoch, as the device's clock has it."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

from Crypto.Hash import keccak as _keccak

SIGNING_DOMAIN = b"vaxledger/reading/v1"
NO_BATTERY = 255


@dataclass(frozen=True, slots=True)
class Reading:
    device: str
    """The sensor's id (its key is registered under it)."""
    equipment: int
    """The on-chain id of the fridge, freezer, cold room, vehicle or cold box it watches."""
    seq: int
    """The device's own counter, one up per reading: replays and gaps show in it."""
    ts_ms: int
    temp_dc: int
    battery: int = NO_BATTERY
    """Percent, or 255 when the device does not report it."""
    door_open: bool = False

    @property
    def temp_c(self) -> float:
        return self.temp_dc / 10


def deci_celsius(temp_c: float) -> int:
    """°C as sent by a device (one decimal) to whole tenths, rounding halves away from zero."""
    scaled = abs(temp_c) * 10
    whole = int(scaled + 0.5 + 1e-9)
    return whole if temp_c >= 0 else -whole


def signing_bytes(r: Reading) -> bytes:
    """The exact bytes a device signs: fixed layout, so both sides agree without parsing."""
    device = r.device.encode("utf-8")
    return SIGNING_DOMAIN + struct.pack(
        f">H{len(device)}sIQQhB?", len(device), device, r.equipment, r.seq, r.ts_ms, r.temp_dc, r.battery, r.door_open
    )


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


@lru_cache(maxsize=65_536)
def device_key(device: str) -> bytes:
    """The 32-byte form of a device id used on chain."""
    return keccak256(device.encode("utf-8"))


_WORD = 1 << 256


def leaf(r: Reading) -> bytes:
    """The reading's Merkle leaf, hashed twice as OpenZeppelin's MerkleProof expects:
    keccak256(bytes.concat(keccak256(abi.encode(equipment, deviceKey, seq, tsMs, tempDc)))).

    The ABI encoding of these five static values is five 32-byte words, written here directly: every
    stored reading is hashed when its batch is cut, and eth_abi's general encoder took most of that time."""
    encoded = b"".join(
        (
            r.equipment.to_bytes(32, "big"),
            device_key(r.device),
            r.seq.to_bytes(32, "big"),
            r.ts_ms.to_bytes(32, "big"),
            (r.temp_dc % _WORD).to_bytes(32, "big"),  # int16 sign-extended to the word
        )
    )
    return keccak256(keccak256(encoded))
