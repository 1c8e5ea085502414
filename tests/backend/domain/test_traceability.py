"""The traceability-code parser: every refusal reason, the equivalence of the forms a scan can take,
GS1 dates and check digits, and property tests over arbitrary and generated codes."""

from __future__ import annotations

import calendar
import pickle
import re
from datetime import date

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.core import given  # not the chain-isolating wrapper pytest-brownie puts on hypothesis.given

from backend.domain.traceability import (
    REASONS,
    CodeError,
    CodeKind,
    UnitCode,
    gtin_check_digit,
    parse,
    unit_hash,
)

GS = "\x1d"
TODAY = date(2026, 6, 15)
GTIN = "06901234567892"  # 690 1234 56789 + check digit 2: the usual China example, valid
ELEMENT = f"01{GTIN}17271231" + f"10A123{GS}" + "210001"
BRACKETED = f"(01){GTIN}(17)271231(10)A123(21)0001"
EXPECTED = UnitCode(
    kind=CodeKind.GS1,
    canonical=f"gs1:{GTIN}:0001",
    gtin=GTIN,
    expiry=date(2027, 12, 31),
    batch="A123",
    serial="0001",
    product_code=GTIN,
)
# keccak256(b"vaxledger:unit:v1:gs1:06901234567892:0001"), pinned so a change of the hashing scheme shows.
EXPECTED_HASH = "26713c1309b375f03224e4bd31fa4cb4603eedf781b7543f0597d65d8e677fa0"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def p(raw: str) -> UnitCode:
    return parse(raw, today=TODAY)


def refusal(raw: str) -> CodeError:
    with pytest.raises(CodeError) as info:
        p(raw)
    return info.value


# --- check digits --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body13", "digit"),
    [
        ("0400638133393", 1),  # EAN-13 4006381333931 as a GTIN-14
        ("0690123456789", 2),  # 6901234567892
        ("0978030640615", 7),  # ISBN 978-0-306-40615-7
        ("0590123412345", 7),  # GS1's EAN-13 example 5901234123457
        ("0001234560001", 2),  # GS1's GTIN-14 example 00012345600012
        ("0000000000000", 0),
    ],
)
def test_gtin_check_digit_on_known_gtins(body13: str, digit: int) -> None:
    assert gtin_check_digit(body13) == digit
    gtin = body13 + str(digit)
    assert p(f"01{gtin}17271231" + f"10L{GS}" + "21S").gtin == gtin


@pytest.mark.parametrize("body", ["", "040063813339", "04006381333931", "040063813339a", "０４００６３８１３３３９３"])
def test_gtin_check_digit_wants_13_ascii_digits(body: str) -> None:
    with pytest.raises(ValueError, match="13 digits"):
        gtin_check_digit(body)


def test_every_wrong_check_digit_is_refused_naming_the_right_one() -> None:
    for wrong in "013456789":
        err = refusal(f"01{GTIN[:13]}{wrong}17271231" + f"10A{GS}" + "21S")
        assert err.reason == "bad_gtin_check_digit"
        assert err.ai == "01"
        assert err.position == 16
        assert f"check digit {wrong}" in err.message_en
        assert "the GS1 check digit is 2" in err.message_en
        assert "应为 2" in err.message_zh


# --- the forms of one unit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        ELEMENT,
        "]d2" + ELEMENT,
        "]C1" + ELEMENT,
        "]Q3" + ELEMENT,
        GS + ELEMENT,  # FNC1 in first position, as some scanners send it
        ELEMENT + GS,  # the optional GS after the last field
        f"01{GTIN}{GS}17271231{GS}10A123{GS}210001{GS}",  # GS after fixed-length fields too
        f"]d2210001{GS}10A123{GS}17271231" + f"01{GTIN}",  # another field order
        BRACKETED,
        f"(21)0001(10)A123(01){GTIN}(17)271231",
        f" (01) {GTIN} (17) 271231 (10) A123 (21) 0001 ",  # typed from the printed line
        f"\r\n  {ELEMENT}\t\n",
        f"\u3000{BRACKETED}\u3000",  # a full-width space from a Chinese input method
    ],
)
def test_every_form_of_one_unit_gives_the_same_unit_and_hash(raw: str) -> None:
    code = p(raw)
    assert code == EXPECTED
    assert unit_hash(code).hex() == EXPECTED_HASH


def test_unit_hash_is_keccak_over_the_tagged_canonical_text() -> None:
    digest = unit_hash(EXPECTED)
    assert len(digest) == 32
    assert digest == keccak(b"vaxledger:unit:v1:gs1:06901234567892:0001")


def test_batch_and_expiry_are_not_part_of_the_identity() -> None:
    other = p(f"(01){GTIN}(17)300630(10)B999(21)0001")
    assert other.batch == "B999"
    assert other.expiry == date(2030, 6, 30)
    assert other.canonical == EXPECTED.canonical
    assert unit_hash(other) == unit_hash(EXPECTED)


def test_serial_and_gtin_are_part_of_the_identity() -> None:
    assert unit_hash(p(f"(01){GTIN}(17)271231(10)A123(21)0002")) != unit_hash(EXPECTED)
    assert p("(01)04006381333931(17)271231(10)A123(21)0001").canonical == "gs1:04006381333931:0001"
    # Serials are case-sensitive in GS1; so is the identity.
    assert p(f"(01){GTIN}(17)271231(10)A(21)ab").canonical != p(f"(01){GTIN}(17)271231(10)A(21)AB").canonical


def test_production_date_and_count_are_read_and_kept_out_of_the_identity() -> None:
    code = p(f"01{GTIN}11250300" + "17271231" + f"3012{GS}10A123{GS}210001")
    assert code.production_date == date(2025, 3, 31)
    assert code.count == 12
    assert code.canonical == EXPECTED.canonical
    assert p(f"(01){GTIN}(11)250301(17)271231(10)A123(21)0001(30)00000007").count == 7


def test_a_batch_may_hold_parentheses_even_in_the_bracketed_form() -> None:
    assert p(f"(01){GTIN}(17)271231(10)A(1)B(21)X)").batch == "A(1)B"
    assert p(f"01{GTIN}17271231" + f"10(10){GS}21(21)").serial == "(21)"


# --- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yymmdd", "expected"),
    [
        ("271231", date(2027, 12, 31)),
        ("271200", date(2027, 12, 31)),
        ("271100", date(2027, 11, 30)),
        ("270200", date(2027, 2, 28)),
        ("280200", date(2028, 2, 29)),  # leap year
        ("280229", date(2028, 2, 29)),
        ("270101", date(2027, 1, 1)),
    ],
)
def test_expiry_day_00_means_the_last_day_of_the_month(yymmdd: str, expected: date) -> None:
    assert p(f"(01){GTIN}(17){yymmdd}(10)A(21)S").expiry == expected


@pytest.mark.parametrize(
    ("today", "yy", "year"),
    [
        (date(2026, 6, 15), "26", 2026),
        (date(2026, 6, 15), "76", 2076),  # 50 years ahead: still the future
        (date(2026, 6, 15), "77", 1977),  # 51 ahead would be too far: 49 years back
        (date(2026, 6, 15), "00", 2000),
        (date(2026, 6, 15), "99", 1999),
        (date(2049, 1, 1), "99", 2099),
        (date(2049, 1, 1), "00", 2000),
        (date(2050, 1, 1), "99", 2099),
        (date(2050, 1, 1), "00", 2100),  # 2000 would be 50 years back: one too many
        (date(2099, 12, 31), "49", 2149),
        (date(2099, 12, 31), "50", 2050),
    ],
)
def test_two_digit_years_follow_the_gs1_sliding_window(today: date, yy: str, year: int) -> None:
    code = parse(f"(01){GTIN}(17){yy}0615(10)A(21)S", today=today)
    assert code.expiry == date(year, 6, 15)


def test_february_29_depends_on_the_century_the_window_picks() -> None:
    assert parse(f"(01){GTIN}(17)000229(10)A(21)S", today=date(2026, 1, 1)).expiry == date(2000, 2, 29)
    # 2100 is not a leap year.
    with pytest.raises(CodeError) as info:
        parse(f"(01){GTIN}(17)000229(10)A(21)S", today=date(2060, 1, 1))
    assert info.value.reason == "bad_expiry_date"
    assert "2100-02 has 28 days" in info.value.message_en


def test_an_expired_unit_still_parses() -> None:
    # Whether an expired dose may be given is the caller's rule, not the code's syntax.
    assert p(f"(01){GTIN}(17)200101(10)A(21)S").expiry == date(2020, 1, 1)


# --- China 20-digit codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "product"),
    [
        ("81234567890123456789", CodeKind.CN_ESC, "8123456"),
        ("83007650000123456789", CodeKind.CN_ESC, "8300765"),
        ("12345670000000000001", CodeKind.CN_TRACE, "1234567"),
        ("01234567890123456789", CodeKind.CN_TRACE, "0123456"),  # starts with 01 but is 20 digits
        (" 99999990000000000000\n", CodeKind.CN_TRACE, "9999999"),
        ("]C012345670000000000001", CodeKind.CN_TRACE, "1234567"),
        ("]d181234567890123456789", CodeKind.CN_ESC, "8123456"),
    ],
)
def test_twenty_digit_codes(raw: str, kind: CodeKind, product: str) -> None:
    code = p(raw)
    digits = raw.strip()[-20:]
    assert code == UnitCode(
        kind=kind,
        canonical=f"cn:{digits}",
        gtin=None,
        expiry=None,
        batch=None,
        serial=None,
        product_code=product,
    )
    assert unit_hash(code) == keccak(b"vaxledger:unit:v1:cn:" + digits.encode())


def test_twenty_digit_hash_is_pinned() -> None:
    assert unit_hash(p("12345670000000000001")).hex() == keccak(b"vaxledger:unit:v1:cn:12345670000000000001").hex()
    assert len(unit_hash(p("12345670000000000001"))) == 32


# --- refusals ------------------------------------------------------------------------------------------

# (scan, reason, 1-based position or None, AI or None, a fragment of the English message, of the Chinese)
REFUSALS: list[tuple[str, str, int | None, str | None, str, str]] = [
    ("", "empty", None, None, "empty", "为空"),
    ("  \t\r\n ", "empty", None, None, "empty", "为空"),
    ("]d2", "empty", None, None, "no data", "没有内容"),
    (f"]d2{GS}{GS}", "empty", None, None, "no data", "没有内容"),
    ("]C0", "empty", None, None, "no data", "没有内容"),
    (f"01{GTIN}\x0017271231", "control_character", 17, None, "U+0000", "控制字符"),
    ("8123456789\n0123456789", "control_character", 11, None, "U+000A", "控制字符"),
    (f"]d2{ELEMENT}\x1e", "control_character", 41, None, "U+001E", "控制字符"),
    ("]e0" + ELEMENT, "unsupported_symbology", 1, None, "]e0", "]e0"),
    ("]X", "unsupported_symbology", 1, None, "]X", "]X"),
    ("hello world", "unrecognised_format", 1, None, "11 characters", "11 个字符"),
    ("\ufeff" + ELEMENT, "unknown_ai", 1, None, "found U+FEFF", "U+FEFF"),  # a GS says GS1; the BOM is no AI
    ("ABC", "unrecognised_format", 1, None, "20-digit", "20 位"),
    ("(A)123", "bad_parentheses", 1, None, "in parentheses", "括号"),
    (f"(01 {GTIN}", "bad_parentheses", 1, None, "(01)", "(01)"),
    ("x(01)", "unrecognised_format", 1, None, "5 characters", "5 个字符"),
    ("8123456789012345678", "wrong_length", None, None, "has 19 digits; a drug traceability code has 20", "19 位"),
    ("812345678901234567890", "wrong_length", None, None, "has 21 digits", "21 位"),
    ("4006381333931", "wrong_length", None, None, "product barcode", "商品条码"),
    ("]C01234", "wrong_length", None, None, "has 4 digits", "4 位"),
    ("8123456789O123456789", "bad_character", 11, None, "character 11", "'O'"),
    ("812345678901234567 9", "bad_character", 19, None, "' ' (U+0020)", "第 19 个字符"),
    ("]C0812345678901234567A9", "bad_character", 22, None, "'A'", "第 22 个字符"),
    (f"01{GTIN}17271231" + f"10A 1{GS}21S", "bad_character", 28, "10", "' ' (U+0020)", "批号"),
    (f"01{GTIN}17271231" + f"10A{GS}21S#1", "bad_character", 32, "21", "'#'", "序列号"),
    (f"(01){GTIN}(17)271231(10)A(21)S~", "bad_character", 39, "21", "'~'", "序列号"),
    (f"(01){GTIN}(17)271231(10)Ä(21)S", "bad_character", 33, "10", "U+00C4", "批号"),
    (f"(01){GTIN}{GS}(17)271231(10)A(21)S", "bad_character", 19, None, "GS separator", "GS"),
    (f"01{GTIN}17271231" + f"10A{GS}240X{GS}21S", "unknown_ai", 29, "240", "(240)", "(240)"),
    (f"]d2{GS}9212345", "unknown_ai", 5, "92", "(92)", "(92)"),
    (f"01{GTIN}7003202701011200", "unknown_ai", 17, "7003", "(7003)", "(7003)"),
    (f"(01){GTIN}(240)X(17)271231(10)A(21)S", "unknown_ai", 19, "240", "01, 10, 11, 17, 21, 30", "240"),
    (f"01{GTIN}17271231" + f"10A{GS}{GS}X21S", "unknown_ai", 30, None, "found 'X'", "'X'"),
    ("0106901234567", "wrong_length", None, None, "13 digits", "13 位"),  # all digits, GTIN cut short
    (f"]d201{GTIN[:10]}", "truncated_field", 6, "01", "10 of 14", "只有 10 位"),
    (f"01{GTIN}1727{GS}10A{GS}21S", "truncated_field", 19, "17", "2 of 6", "只有 2 位"),
    (f"]d201{GTIN}172712311" + f"0A{GS}21S{GS}1", "truncated_field", 36, None, "identifier at character 36", "AI"),
    (f"(01){GTIN[:13]}(17)271231(10)A(21)S", "truncated_field", 5, "01", "13 of 14", "13 位"),
    (f"(01){GTIN}(17)(10)A(21)S", "truncated_field", 23, "17", "0 of 6", "0 位"),
    (f"(01){GTIN}(17)271231(10){'A' * 21}(21)S", "too_long_field", 33, "10", "21 characters, at most 20", "21 个"),
    (f"01{GTIN}17271231" + f"10A{GS}21{'9' * 21}", "too_long_field", 31, "21", "dropped a GS", "分隔符 GS"),
    (f"(01){GTIN}0(17)271231(10)A(21)S", "too_long_field", 5, "01", "15 characters, 14 expected", "应为 14 位"),
    (f"01{GTIN}17271231" + f"30123456789{GS}10A{GS}21S", "too_long_field", 27, "30", "at most 8", "数量"),
    (f"01{GTIN}17271231" + f"10{GS}21S", "empty_field", 27, "10", "batch/lot is empty", "批号 没有内容"),
    (f"(01){GTIN}(17)271231(10)A(21)", "empty_field", 38, "21", "serial number is empty", "序列号"),
    (f"01{GTIN[:5]}A{GTIN[6:]}17271231" + f"10A{GS}21S", "non_numeric_field", 8, "01", "'A'", "只能是数字"),
    (f"01{GTIN}1727I231" + f"10A{GS}21S", "non_numeric_field", 21, "17", "'I'", "有效期"),
    (f"01{GTIN}17271231" + f"30x{GS}10A{GS}21S", "non_numeric_field", 27, "30", "digits only", "数量"),
    (f"01{GTIN[:13]}317271231" + f"10A{GS}21S", "bad_gtin_check_digit", 16, "01", "the GS1 check digit is 2", "应为 2"),
    ("(01)04006381333932(17)271231(10)A(21)S", "bad_gtin_check_digit", 18, "01", "check digit is 1", "应为 1"),
    (f"(01){GTIN}(17)271331(10)A(21)S", "bad_expiry_date", 25, "17", "month 13", "月份 13"),
    (f"(01){GTIN}(17)270031(10)A(21)S", "bad_expiry_date", 25, "17", "month 00", "月份 00"),
    (f"(01){GTIN}(17)270431(10)A(21)S", "bad_expiry_date", 27, "17", "2027-04 has 30 days, not 31", "4 月只有 30 天"),
    (f"(01){GTIN}(17)270229(10)A(21)S", "bad_expiry_date", 27, "17", "2027-02 has 28 days, not 29", "28 天"),
    (f"(01){GTIN}(11)251301(17)271231(10)A(21)S", "bad_production_date", 25, "11", "month 13", "生产日期"),
    (f"(01){GTIN}(17)271231(10)A(21)S(10)A", "duplicate_ai", 43, "10", "appears twice", "两次"),
    (f"(01){GTIN}(17)271231(10)A(21)S(10)B", "duplicate_ai", 43, "10", "with different values", "不同"),
    (f"01{GTIN}17271231" + f"01{GTIN}10A{GS}21S", "duplicate_ai", 27, "01", "GTIN appears twice", "两次"),
    ("10A123\x1d210001\x1d17271231", "missing_gtin", None, "01", "GTIN is missing", "缺少"),
    ("0106901234567892", "missing_serial", None, "21", "names a product, not a single unit", "不能识别最小包装"),
    (f"]d201{GTIN}17271231" + "10A123", "missing_serial", None, "21", "serial number is missing", "序列号"),
    (f"01{GTIN}17271231" + "10A123210001", "missing_serial", None, "21", "transmit GS", "FNC1"),
    (f"(01){GTIN}(17)271231(21)0001", "missing_batch", None, "10", "batch/lot is missing", "批号"),
    (f"01{GTIN}" + f"21S{GS}10A", "missing_expiry", None, "17", "expiry date is missing", "有效期"),
]


@pytest.mark.parametrize(("raw", "reason", "position", "ai", "en", "zh"), REFUSALS)
def test_refusals_name_the_reason_and_the_place(
    raw: str, reason: str, position: int | None, ai: str | None, en: str, zh: str
) -> None:
    err = refusal(raw)
    assert (err.reason, err.position, err.ai) == (reason, position, ai), err.message_en
    assert en in err.message_en
    assert zh in err.message_zh
    assert str(err) == err.message_en


def test_the_refusal_table_covers_every_reason() -> None:
    assert {row[1] for row in REFUSALS} == set(REASONS)


def test_code_error_is_a_value_error_and_survives_pickling() -> None:
    err = refusal(f"(01){GTIN}(17)271331(10)A(21)S")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.reason, copy.message_zh, copy.message_en, copy.position, copy.ai) == (
        err.reason,
        err.message_zh,
        err.message_en,
        err.position,
        err.ai,
    )


def test_parse_wants_text() -> None:
    with pytest.raises(TypeError):
        parse(b"81234567890123456789")  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REASON_SHAPE = re.compile(r"[a-z]+(_[a-z0-9]+)*")

# Characters that lead the parser down its many branches, rather than anywhere in Unicode.
SCANNER_ALPHABET = st.sampled_from([*"0123456789()]dCQ0A :#", GS, "\x1e", "\u3000", "Ä"])


def outcome_is_clean(raw: str) -> None:
    try:
        code = parse(raw, today=TODAY)
    except CodeError as err:
        assert err.reason in REASONS
        assert REASON_SHAPE.fullmatch(err.reason)
        assert err.message_en.strip()
        assert err.message_zh.strip()
        return
    assert isinstance(code, UnitCode)
    assert code.canonical.startswith(("gs1:", "cn:"))
    assert len(unit_hash(code)) == 32


@SETTINGS
@given(st.text())
def test_any_text_parses_or_is_refused_with_a_reason(raw: str) -> None:
    outcome_is_clean(raw)


@SETTINGS
@given(st.text(SCANNER_ALPHABET, max_size=60))
def test_scanner_like_text_parses_or_is_refused_with_a_reason(raw: str) -> None:
    outcome_is_clean(raw)


def last_day(d: date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]


# The century window around TODAY (2026): 1977 to 2076.
DATES = st.dates(min_value=date(1977, 1, 1), max_value=date(2076, 12, 31))
GS1_TEXT = st.text(st.sampled_from(CSET82), min_size=1, max_size=20)


@st.composite
def units(draw: st.DrawFn) -> UnitCode:
    body = draw(st.text(st.sampled_from("0123456789"), min_size=13, max_size=13))
    gtin = body + str(gtin_check_digit(body))
    serial = draw(GS1_TEXT)
    return UnitCode(
        kind=CodeKind.GS1,
        canonical=f"gs1:{gtin}:{serial}",
        gtin=gtin,
        expiry=draw(DATES),
        batch=draw(GS1_TEXT),
        serial=serial,
        product_code=gtin,
        production_date=draw(st.none() | DATES),
        count=draw(st.none() | st.integers(min_value=0, max_value=99_999_999)),
    )


def yymmdd(d: date, day_00: bool) -> str:
    return f"{d:%y%m}00" if day_00 and last_day(d) else f"{d:%y%m%d}"


def fields_of(unit: UnitCode, data: st.DataObject) -> list[tuple[str, str]]:
    assert unit.gtin and unit.expiry and unit.batch and unit.serial
    fields = [
        ("01", unit.gtin),
        ("17", yymmdd(unit.expiry, data.draw(st.booleans()))),
        ("10", unit.batch),
        ("21", unit.serial),
    ]
    if unit.production_date is not None:
        fields.append(("11", yymmdd(unit.production_date, data.draw(st.booleans()))))
    if unit.count is not None:
        fields.append(("30", str(unit.count).zfill(data.draw(st.integers(1, 8)))))
    return data.draw(st.permutations(fields))


def element_string(fields: list[tuple[str, str]], data: st.DataObject, symbology: str) -> str:
    out = [symbology]
    if data.draw(st.booleans()):
        out.append(GS)
    for i, (ai, value) in enumerate(fields):
        out.append(ai + value)
        variable = ai in ("10", "21", "30")
        last = i == len(fields) - 1
        if (variable and not last) or data.draw(st.booleans()):
            out.append(GS)
    return "".join(out)


def bracketed(fields: list[tuple[str, str]], data: st.DataObject) -> str:
    space = data.draw(st.sampled_from(["", " "]))
    return space.join(f"({ai}){space}{value}" for ai, value in fields)


BRACKETED_AI = re.compile(r"\(\d{2,4}\)")


@SETTINGS
@given(units(), st.data())
def test_generated_units_round_trip_in_every_form(unit: UnitCode, data: st.DataObject) -> None:
    fields = fields_of(unit, data)
    forms = [
        element_string(fields, data, "]d2"),
        element_string(fields, data, data.draw(st.sampled_from(["", "]C1", "]Q3"]))),
    ]
    # A value holding "(dd)" cannot be told from the next AI in the bracketed form.
    if not any(BRACKETED_AI.search(value) for _, value in fields):
        forms.append(bracketed(fields, data))
    for raw in forms:
        assert parse(raw, today=TODAY) == unit, repr(raw)
        assert unit_hash(parse(raw, today=TODAY)) == keccak(b"vaxledger:unit:v1:" + unit.canonical.encode())


@SETTINGS
@given(units(), st.data())
def test_a_damaged_valid_code_parses_or_is_refused_with_a_reason(unit: UnitCode, data: st.DataObject) -> None:
    raw = list(element_string(fields_of(unit, data), data, ""))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        edit = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        char = data.draw(SCANNER_ALPHABET)
        if edit == "insert":
            raw.insert(at, char)
        elif raw and at < len(raw):
            if edit == "delete":
                del raw[at]
            else:
                raw[at] = char
    outcome_is_clean("".join(raw))


@SETTINGS
@given(st.text(st.sampled_from("0123456789"), min_size=20, max_size=20), st.sampled_from(["", "]C0", "]d1", "]Q1"]))
def test_twenty_digit_codes_round_trip(digits: str, symbology: str) -> None:
    code = parse(symbology + digits, today=TODAY)
    assert code.kind is (CodeKind.CN_ESC if digits[0] == "8" else CodeKind.CN_TRACE)
    assert code.canonical == "cn:" + digits
    assert code.product_code == digits[:7]
    assert (code.gtin, code.serial, code.batch, code.expiry) == (None, None, None, None)
