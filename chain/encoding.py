"""How short text (vaccine type codes, lot numbers) is packed into the
fixed-size byte fields of the contracts, and back."""


def to_bytes8(text: str) -> bytes:
    return _pack(text, 8)


def to_bytes32(text: str) -> bytes:
    return _pack(text, 32)


def from_fixed(raw: bytes | str) -> str:
    """The text of a right-padded field; bytes that are not ASCII (written by some other client) become
    U+FFFD rather than an exception, so a reader of events never stops on them."""
    data = bytes.fromhex(raw[2:]) if isinstance(raw, str) else bytes(raw)
    return data.rstrip(b"\0").decode("ascii", errors="replace")


def _pack(text: str, size: int) -> bytes:
    data = text.encode("ascii")
    if not data or len(data) > size or b"\0" in data:
        raise ValueError(f"{text!r} must be 1..{size} ASCII characters")
    return data.ljust(size, b"\0")
