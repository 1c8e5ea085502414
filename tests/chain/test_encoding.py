"""Packing short codes into the contracts' fixed-size byte fields."""

import pytest

from chain.encoding import from_fixed, to_bytes8, to_bytes32


def test_round_trip() -> None:
    assert from_fixed(to_bytes8("MPSV-AC")) == "MPSV-AC"
    assert from_fixed("0x" + to_bytes32("HB2026001").hex()) == "HB2026001"


def test_right_padded_with_zero_bytes() -> None:
    assert to_bytes8("HepB") == b"HepB\0\0\0\0"


@pytest.mark.parametrize("bad", ["", "TOO-LONG-X", "HepB\0", "乙肝"])
def test_bad_codes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        to_bytes8(bad)


def test_foreign_bytes_read_without_failing() -> None:
    assert from_fixed(b"Hep\xffB\0\0\0") == "Hep\ufffdB"
