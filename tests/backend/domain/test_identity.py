"""Checks of personal data given at sign-up."""

from __future__ import annotations

from datetime import date

import pytest

from backend.domain.identity import (
    InvalidIdentity,
    check_birth_date,
    id_check_character,
    normalize_id_number,
    normalize_name,
    normalize_phone,
)


def test_a_published_example_number_checks() -> None:
    # GB 11643-1999's worked example: 11010519491231002 -> check character X
    assert id_check_character("11010519491231002") == "X"
    assert normalize_id_number("11010519491231002x", date(1949, 12, 31), "F") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "born", "sex", "reason"),
    [
        ("1101051949123100", None, None, "id_number_length"),
        ("11010519491231002A", None, None, "id_number_characters"),
        ("110105194912310021", None, None, "id_number_check"),
        ("11010519491231002X", date(1949, 12, 30), None, "id_number_mismatch"),
        ("11010519491231002X", None, "M", "id_number_mismatch"),
    ],
)
def test_bad_numbers_get_a_reason(raw: str, born: date | None, sex: str | None, reason: str) -> None:
    with pytest.raises(InvalidIdentity) as caught:
        normalize_id_number(raw, born, sex)
    assert caught.value.reason == reason and caught.value.message_zh


def test_an_impossible_birth_date_inside_the_number_is_refused() -> None:
    first17 = "44060419990231123"  # 31 February
    with pytest.raises(InvalidIdentity, match="not a date"):
        normalize_id_number(first17 + id_check_character(first17))


def test_phones_names_and_birth_dates() -> None:
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    for bad in ("1380013800", "23800138000", "abc"):
        with pytest.raises(InvalidIdentity):
            normalize_phone(bad)
    assert normalize_name("  李娜 ") == "李娜"
    with pytest.raises(InvalidIdentity):
        normalize_name("bad\x00name")
    with pytest.raises(InvalidIdentity):
        check_birth_date(date(2030, 1, 1), date(2026, 1, 1))
