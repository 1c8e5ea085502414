"""Checks of the personal data a person gives (pure functions): the resident identity card number
(GB 11643-1999: 17 digits of region, birth date and sequence, then an ISO 7064 MOD 11-2 check character;
the sequence's last digit is odd for men), a mainland mobile number, a name, a birth date.

Each check raises `InvalidIdentity` with a machine-readable reason and messages in Chinese and English."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
MAX_AGE_YEARS = 130


class InvalidIdentity(ValueError):
    def __init__(self, field: str, reason: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.field = field
        self.reason = reason
        self.message_zh = message_zh
        self.message_en = message_en


def id_check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalize_id_number(raw: str, birth_date: date | None = None, sex: str | None = None) -> str:
    """The 18-character number, upper-cased; checked for its check character, its birth date and (when
    given) agreement with `birth_date` and `sex`."""
    value = raw.strip().upper()
    if len(value) != 18:
        raise InvalidIdentity(
            "id_number",
            "id_number_length",
            f"身份证号应为18位，实际为{len(value)}位",
            f"an ID number has 18 characters, not {len(value)}",
        )
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdentity(
            "id_number",
            "id_number_characters",
            "身份证号前17位应为数字，最后一位为数字或X",
            "an ID number is 17 digits then a digit or X",
        )
    expected = id_check_character(value[:17])
    if value[17] != expected:
        raise InvalidIdentity(
            "id_number",
            "id_number_check",
            f"身份证号校验位不正确（应为 {expected}），请核对",
            f"the ID number's check character is wrong (expected {expected}): check the number",
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdentity(
            "id_number",
            "id_number_birth_date",
            "身份证号中的出生日期无效",
            "the birth date inside the ID number is not a date",
        ) from None
    if birth_date is not None and born != birth_date:
        raise InvalidIdentity(
            "id_number", "id_number_mismatch", "身份证号与出生日期不一致", "the ID number does not match the birth date"
        )
    if sex is not None and ("M" if int(value[16]) % 2 else "F") != sex:
        raise InvalidIdentity(
            "id_number", "id_number_mismatch", "身份证号与性别不一致", "the ID number does not match the sex"
        )
    return value


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"[\s-]", "", raw.strip())
    digits = digits.removeprefix("+86")
    if not _MOBILE.match(digits):
        raise InvalidIdentity(
            "phone",
            "phone_invalid",
            "请输入11位手机号码（1开头）",
            "give an 11-digit mainland mobile number starting with 1",
        )
    return digits


def normalize_name(raw: str) -> str:
    name = unicodedata.normalize("NFC", raw).strip()
    if not 1 <= len(name) <= 50 or any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidIdentity("name", "name_invalid", "姓名应为1至50个字符", "a name has 1 to 50 printable characters")
    return name


def check_birth_date(born: date, today: date) -> date:
    if born > today:
        raise InvalidIdentity(
            "birth_date", "birth_date_future", "出生日期不能晚于今天", "the birth date is in the future"
        )
    if today.year - born.year > MAX_AGE_YEARS:
        raise InvalidIdentity(
            "birth_date", "birth_date_too_old", "出生日期不合理", "the birth date is implausibly long ago"
        )
    return born


def check_sex(raw: str) -> str:
    value = raw.strip().upper()
    if value not in ("F", "M"):
        raise InvalidIdentity("sex", "sex_invalid", "性别应为 F（女）或 M（男）", "sex is F or M")
    return value
