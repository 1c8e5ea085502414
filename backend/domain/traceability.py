"""Traceability codes on a vaccine's minimum packaging unit: parse a scan, or refuse it with a reason.

The law (Vaccine Administration Law art. 10, 46) wants every vial or syringe traceable, so a dose is
recorded against the code on the unit itself. Two families of code reach a clinic's scanner:

GS1 element strings, from a GS1 DataMatrix (or GS1-128 / GS1 QR). Each field is an application
identifier (AI) followed by its data: 01 GTIN (14 digits, mod-10 check digit), 17 expiry and 11
production date (YYMMDD; a day of 00 means the month's last day), 10 batch and 21 serial (1-20
characters of GS1's 82-character set), 30 count (1-8 digits). Fixed-length fields simply end; a
variable-length one ends at a GS character (0x1D, the FNC1 separator) or at the end of the data.
A scanner may prefix the symbology identifier `]d2`, `]C1` or `]Q3`. Printed under the symbol is
the same data with each AI in parentheses, `(01)06901234567892(17)271231(10)A123(21)0001`, which
a nurse may type in when the symbol will not scan. A unit code needs 01 and 21 (a GTIN alone names
a product, not a pack), and for vaccines also 10 and 17. Other AIs are refused: the platform does
not know what they would mean for a dose.

China's 20-digit drug traceability code: 20 digits, the first 7 identifying the product. The older
electronic supervision code has the same 20-digit layout and starts with 8; both are accepted and
told apart by that first digit.

A unit's identity (`canonical`, hashed by `unit_hash` for the chain) is GTIN + serial for GS1, the
20 digits otherwise: batch and expiry describe the unit, so they stay out of it, and the same pack
scanned in any form hashes the same. The parser only checks that a code is well-formed: whether it
has expired, is recalled or was ever received is for the caller to decide.

Which parser a scan goes to, in order: a symbology identifier decides; a leading "(" is the
bracketed form; 20 digits are a China code; other all-digit text is a GS1 string only when it starts
with 01 and a GTIN whose check digit holds (a bare GTIN scan), else a wrong length; 20 characters
without a GS that do not start like a GS1 string are a mistyped China code; everything else is a GS1
element string. Positions in messages count characters from 1, after surrounding whitespace.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from eth_utils import keccak

__all__ = ["REASONS", "CodeError", "CodeKind", "UnitCode", "gtin_check_digit", "parse", "unit_hash"]

GS = "\x1d"
# Every CodeError.reason this module raises: a client may key its own wording on them.
REASONS = frozenset(
    {
        "empty",
        "control_character",
        "unsupported_symbology",
        "unrecognised_format",
        "bad_parentheses",
        "wrong_length",
        "bad_character",
        "unknown_ai",
        "truncated_field",
        "too_long_field",
        "empty_field",
        "non_numeric_field",
        "bad_gtin_check_digit",
        "bad_expiry_date",
        "bad_production_date",
        "duplicate_ai",
        "missing_gtin",
        "missing_serial",
        "missing_batch",
        "missing_expiry",
    }
)
UNIT_HASH_DOMAIN = b"vaxledger:unit:v1:"

_DIGITS = frozenset("0123456789")
# GS1 General Specifications, "GS1 AI encodable character set 82".
_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# Every character str.isspace() knows except FS/GS/RS/US, which are data separators, not padding.
_SURROUNDING_SPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_GS1_SYMBOLOGIES = frozenset({"]d2", "]C1", "]Q3"})  # DataMatrix, Code 128, QR: each "with FNC1 first"
# The same symbologies without FNC1: what a 20-digit code printed as Code 128, DataMatrix or QR reads as.
_PLAIN_SYMBOLOGIES = frozenset({"]C0", "]d1", "]Q1"})
_CN_LENGTH = 20
_CN_PRODUCT_DIGITS = 7
# What a nurse gets by scanning the carton's linear barcode (EAN-8, UPC-A, EAN-13) or typing its GTIN-14.
_GTIN_LENGTHS = frozenset({8, 12, 13, 14})
# An AI in parentheses; values that contain such a pattern cannot be written in this form.
_BRACKETED_AI = re.compile(r"\((\d{2,4})\)")


class CodeKind(StrEnum):
    GS1 = "gs1"
    CN_TRACE = "cn_trace"
    CN_ESC = "cn_esc"


@dataclass(frozen=True, slots=True)
class UnitCode:
    kind: CodeKind
    canonical: str
    gtin: str | None
    expiry: date | None
    batch: str | None
    serial: str | None
    product_code: str | None
    # AI 11 and AI 30 when the pack carries them: validated, kept, and never part of the identity.
    production_date: date | None = None
    count: int | None = None


class CodeError(ValueError):
    """A scan that is not a usable unit code. `reason` is stable and machine-readable; the messages are
    for the person holding the scanner and name the field and what was expected."""

    def __init__(
        self, reason: str, message_zh: str, message_en: str, *, position: int | None = None, ai: str | None = None
    ) -> None:
        super().__init__(reason, message_zh, message_en)
        self.reason = reason
        self.message_zh = message_zh
        self.message_en = message_en
        self.position = position  # 1-based, in the scan without surrounding whitespace
        self.ai = ai

    def __str__(self) -> str:
        return self.message_en

    def __reduce__(self) -> tuple[Any, ...]:
        # The keyword-only attributes would be lost by BaseException's default, which replays args only.
        return type(self), (self.reason, self.message_zh, self.message_en), {"position": self.position, "ai": self.ai}


@dataclass(frozen=True, slots=True)
class _Ai:
    ai: str
    numeric: bool
    fixed: bool
    length: int  # the exact length when fixed, else the maximum
    name_en: str
    name_zh: str

    @property
    def label_en(self) -> str:
        return f"AI ({self.ai}) {self.name_en}"

    @property
    def label_zh(self) -> str:
        return f"AI ({self.ai}) {self.name_zh}"


_AIS: dict[str, _Ai] = {
    a.ai: a
    for a in (
        _Ai("01", numeric=True, fixed=True, length=14, name_en="GTIN", name_zh="商品条码 GTIN"),
        _Ai("10", numeric=False, fixed=False, length=20, name_en="batch/lot", name_zh="批号"),
        _Ai("11", numeric=True, fixed=True, length=6, name_en="production date", name_zh="生产日期"),
        _Ai("17", numeric=True, fixed=True, length=6, name_en="expiry date", name_zh="有效期"),
        _Ai("21", numeric=False, fixed=False, length=20, name_en="serial number", name_zh="序列号"),
        _Ai("30", numeric=True, fixed=False, length=8, name_en="count", name_zh="数量"),
    )
}
_SUPPORTED_LIST = ", ".join(_AIS)
# In the order they are reported: without a product nothing else matters, and a serial is what makes a unit.
_REQUIRED = (("01", "missing_gtin"), ("21", "missing_serial"), ("10", "missing_batch"), ("17", "missing_expiry"))

# How many digits an AI has, by its first two (GS1 Barcode Syntax Dictionary); only used to name an
# unsupported AI in full. Prefixes not listed are not assigned to any AI.
_AI_LENGTH_BY_PREFIX: dict[str, int] = {
    **dict.fromkeys(("00", "01", "02", "03", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22"), 2),
    **dict.fromkeys(("23", "24", "25", "40", "41", "42", "71"), 3),
    **dict.fromkeys(("31", "32", "33", "34", "35", "36", "39", "43", "70", "72", "80", "81", "82"), 4),
    **dict.fromkeys(("30", "37", *(str(n) for n in range(90, 100))), 2),
}


def gtin_check_digit(body13: str) -> int:
    """The GS1 mod-10 check digit of a GTIN-14 without its last digit (13 ASCII digits)."""
    if len(body13) != 13 or not _all_digits(body13):
        raise ValueError(f"a GTIN-14 body is 13 digits, got {body13!r}")
    return _check_digit(body13)


def unit_hash(code: UnitCode) -> bytes:
    """The unit's 32-byte identifier on chain: keccak256 over a versioned domain tag and the canonical text."""
    return keccak(UNIT_HASH_DOMAIN + code.canonical.encode("utf-8"))


def parse(raw: str, *, today: date | None = None) -> UnitCode:
    """Parse one scan. `today` anchors the century of two-digit years (GS1's sliding window)."""
    if not isinstance(raw, str):
        raise TypeError(f"parse() takes the scanned text as str, not {type(raw).__name__}")
    text = raw.strip(_SURROUNDING_SPACE)
    if not text:
        raise CodeError("empty", "扫描结果为空，请重新扫描", "the scan is empty: scan the code again")
    _reject_control_characters(text)
    today = today or date.today()

    if text.startswith("]"):
        symbology = text[:3]
        if symbology in _GS1_SYMBOLOGIES:
            return _parse_element_string(text, 3, today, surely_gs1=True)
        if symbology in _PLAIN_SYMBOLOGIES:
            return _parse_cn(text, 3)
        raise CodeError(
            "unsupported_symbology",
            f"不支持的条码类型标识 {symbology}：只接受 GS1 数据矩阵码（]d2、]C1、]Q3）或 20 位药品追溯码",
            f"unsupported symbology identifier {symbology}: only GS1 codes (]d2, ]C1, ]Q3) "
            "or a 20-digit drug traceability code are accepted",
            position=1,
        )
    if text.startswith("("):
        return _parse_bracketed(text, today)
    if _all_digits(text):
        if len(text) == _CN_LENGTH:
            return _parse_cn(text, 0)
        if _starts_like_gs1(text):
            return _parse_element_string(text, 0, today, surely_gs1=True)
        raise _wrong_length(text)
    if len(text) == _CN_LENGTH and GS not in text and not _starts_like_gs1(text):
        return _parse_cn(text, 0)
    return _parse_element_string(text, 0, today, surely_gs1=GS in text)


# --- China 20-digit codes ------------------------------------------------------------------------


def _parse_cn(text: str, start: int) -> UnitCode:
    digits = text[start:]
    if not digits:
        raise CodeError(
            "empty", "只有条码类型标识，没有内容，请重新扫描", "only a symbology identifier, no data: scan again"
        )
    for i, ch in enumerate(digits):
        if ch not in _DIGITS:
            pos = start + i + 1
            raise CodeError(
                "bad_character",
                f"药品追溯码第 {pos} 个字符是 {_show(ch)}，应为数字（追溯码是 20 位数字）",
                f"character {pos} of the traceability code is {_show(ch)}; it must be a digit (the code is 20 digits)",
                position=pos,
            )
    if len(digits) != _CN_LENGTH:
        raise _wrong_length(digits)
    kind = CodeKind.CN_ESC if digits.startswith("8") else CodeKind.CN_TRACE
    return UnitCode(
        kind=kind,
        canonical=f"cn:{digits}",
        gtin=None,
        expiry=None,
        batch=None,
        # The 13 digits after the product part are serial and check digits in a split this module
        # cannot confirm from a published standard, so the serial is not guessed.
        serial=None,
        product_code=digits[:_CN_PRODUCT_DIGITS],
    )


def _wrong_length(digits: str) -> CodeError:
    n = len(digits)
    hint_zh = hint_en = ""
    if n in _GTIN_LENGTHS and _check_digit(digits[:-1]) == int(digits[-1]):
        # The commonest slip: the carton's EAN barcode instead of the unit's own code.
        hint_zh = (
            "。这像是商品条码（EAN/GTIN），只能识别产品，不能识别最小包装单元；请扫描疫苗最小包装上的追溯码或二维码"
        )
        hint_en = (
            ". It looks like a product barcode (EAN/GTIN), which names the product, not the unit: "
            "scan the traceability code or 2D code on the vial or syringe"
        )
    return CodeError(
        "wrong_length",
        f"码有 {n} 位数字，药品追溯码应为 20 位{hint_zh}",
        f"the code has {n} digits; a drug traceability code has 20{hint_en}",
    )


# --- GS1 ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    spec: _Ai
    value: str
    position: int  # 1-based position of the value's first character
    ended_by_data_end: bool


def _parse_element_string(text: str, start: int, today: date, *, surely_gs1: bool) -> UnitCode:
    fields: list[_Field] = []
    pos = start
    n = len(text)
    first = True
    while pos < n:
        # A GS where an AI is due is harmless: FNC1 in first position, after a fixed-length field,
        # or after the last field. Encoders differ; the data does not.
        if text[pos] == GS:
            surely_gs1 = True
            pos += 1
            continue
        spec = _read_ai(text, pos, surely_gs1=surely_gs1 or not first)
        first = False
        value_start = pos + len(spec.ai)
        if spec.fixed:
            end = value_start + spec.length
            value = text[value_start:end]
            if GS in value or len(value) < spec.length:
                raise _truncated(spec, len(value.split(GS, 1)[0]), value_start + 1)
            ended = False  # a fixed-length field cannot run into the next one
        else:
            gs_at = text.find(GS, value_start)
            end = n if gs_at == -1 else gs_at
            value = text[value_start:end]
            ended = gs_at == -1
        fields.append(_Field(spec, value, value_start + 1, ended))
        pos = end
    if not fields:
        raise CodeError(
            "empty", "只有条码类型标识或分隔符，没有内容，请重新扫描", "no data, only separators: scan again"
        )
    return _build_gs1(fields, today, gs_seen=GS in text[start:])


def _read_ai(text: str, pos: int, *, surely_gs1: bool) -> _Ai:
    ai = text[pos : pos + 2]
    spec = _AIS.get(ai)
    if spec is not None:
        return spec
    if not surely_gs1:
        # Nothing says GS1 yet and the start is no AI we read: say what would have been accepted.
        raise CodeError(
            "unrecognised_format",
            f"无法识别的码（{len(text)} 个字符）：应为 GS1 数据矩阵码（以 01 开头）或 20 位药品追溯码",
            f"unrecognised code ({len(text)} characters): expected a GS1 DataMatrix code (starting with AI 01) "
            "or a 20-digit drug traceability code",
            position=pos + 1,
        )
    if len(ai) < 2 and _all_digits(ai):
        raise CodeError(
            "truncated_field",
            f"码在第 {pos + 1} 个字符处中断：应用标识符（AI）不完整",
            f"the code ends in the middle of an application identifier at character {pos + 1}",
            position=pos + 1,
        )
    for i, ch in enumerate(ai):
        if ch not in _DIGITS:
            at = pos + i + 1
            raise CodeError(
                "unknown_ai",
                f"第 {at} 个字符处应为应用标识符（AI，数字），实际为 {_show(ch)}；可能是分隔符 GS 丢失或位置错误",
                f"an application identifier (digits) was expected at character {at}, found {_show(ch)}; "
                "a GS separator may be missing or misplaced",
                position=at,
            )
    named = _name_unknown_ai(text, pos)
    raise CodeError(
        "unknown_ai",
        f"第 {pos + 1} 个字符处的应用标识符 ({named}) 不受支持；本平台只读取 AI {_SUPPORTED_LIST}",
        f"application identifier ({named}) at character {pos + 1} is not supported; "
        f"this platform reads AIs {_SUPPORTED_LIST}",
        position=pos + 1,
        ai=named,
    )


def _name_unknown_ai(text: str, pos: int) -> str:
    prefix = text[pos : pos + 2]
    length = _AI_LENGTH_BY_PREFIX.get(prefix, 2)
    candidate = text[pos : pos + length]
    return candidate if len(candidate) == length and _all_digits(candidate) else prefix


def _parse_bracketed(text: str, today: date) -> UnitCode:
    gs_at = text.find(GS)
    if gs_at != -1:
        raise CodeError(
            "bad_character",
            f"第 {gs_at + 1} 个字符是分隔符 GS；带括号的人工识读格式中不应出现 GS",
            f"character {gs_at + 1} is a GS separator, which the bracketed human-readable form does not use",
            position=gs_at + 1,
        )
    tokens = list(_BRACKETED_AI.finditer(text))
    if not tokens or tokens[0].start() != 0:
        raise CodeError(
            "bad_parentheses",
            "带括号的格式应以括号中的应用标识符开头，例如 (01)06901234567892(17)271231(10)A123(21)0001",
            "the bracketed form must start with an application identifier in parentheses, "
            "e.g. (01)06901234567892(17)271231(10)A123(21)0001",
            position=1,
        )
    fields: list[_Field] = []
    for i, token in enumerate(tokens):
        ai = token.group(1)
        spec = _AIS.get(ai)
        if spec is None:
            raise CodeError(
                "unknown_ai",
                f"第 {token.start() + 1} 个字符处的应用标识符 ({ai}) 不受支持；本平台只读取 AI {_SUPPORTED_LIST}",
                f"application identifier ({ai}) at character {token.start() + 1} is not supported; "
                f"this platform reads AIs {_SUPPORTED_LIST}",
                position=token.start() + 1,
                ai=ai,
            )
        end = tokens[i + 1].start() if i + 1 < len(tokens) else len(text)
        raw_value = text[token.end() : end]
        # People copy the printed line with spaces between fields; a space is never data (not in set 82).
        value = raw_value.strip(" ")
        value_start = token.end() + (len(raw_value) - len(raw_value.lstrip(" ")))
        if spec.fixed and len(value) < spec.length:
            raise _truncated(spec, len(value), value_start + 1)
        fields.append(_Field(spec, value, value_start + 1, ended_by_data_end=False))
    return _build_gs1(fields, today, gs_seen=True)


def _build_gs1(fields: list[_Field], today: date, *, gs_seen: bool) -> UnitCode:
    seen: dict[str, _Field] = {}
    values: dict[str, Any] = {}
    for field in fields:
        spec = field.spec
        earlier = seen.get(spec.ai)
        if earlier is not None:
            differ_zh = "，且两次的值不同" if earlier.value != field.value else ""
            differ_en = ", with different values" if earlier.value != field.value else ""
            raise CodeError(
                "duplicate_ai",
                f"{spec.label_zh} 出现了两次（第 {earlier.position} 和第 {field.position} 个字符处）{differ_zh}",
                f"{spec.label_en} appears twice (at characters {earlier.position} and {field.position}){differ_en}",
                position=field.position,
                ai=spec.ai,
            )
        seen[spec.ai] = field
        values[spec.ai] = _check_value(field, today)

    for ai, reason in _REQUIRED:
        if ai not in seen:
            raise _missing(ai, reason, fields, values.get("01"), gs_seen=gs_seen)

    gtin, serial = values["01"], values["21"]
    return UnitCode(
        kind=CodeKind.GS1,
        canonical=f"gs1:{gtin}:{serial}",
        gtin=gtin,
        expiry=values["17"],
        batch=values["10"],
        serial=serial,
        product_code=gtin,
        production_date=values.get("11"),
        count=values.get("30"),
    )


def _check_value(field: _Field, today: date) -> Any:
    spec, value = field.spec, field.value
    if not value:
        raise CodeError(
            "empty_field",
            f"{spec.label_zh} 没有内容",
            f"{spec.label_en} is empty",
            position=field.position,
            ai=spec.ai,
        )
    if len(value) > spec.length:
        if spec.fixed:
            expect_zh, expect_en = f"应为 {spec.length} 位", f"{spec.length} expected"
        else:
            expect_zh, expect_en = f"最多 {spec.length} 个", f"at most {spec.length} allowed"
        hint_zh = hint_en = ""
        if field.ended_by_data_end:
            hint_zh = "；可能是扫码枪丢失了分隔符 GS，使该字段与后面的字段连在了一起"
            hint_en = "; the scanner may have dropped a GS separator, running this field into the next"
        raise CodeError(
            "too_long_field",
            f"{spec.label_zh} 有 {len(value)} 个字符，{expect_zh}{hint_zh}",
            f"{spec.label_en} has {len(value)} characters, {expect_en}{hint_en}",
            position=field.position,
            ai=spec.ai,
        )
    allowed = _DIGITS if spec.numeric else _CSET82
    for i, ch in enumerate(value):
        if ch not in allowed:
            pos = field.position + i
            if spec.numeric:
                raise CodeError(
                    "non_numeric_field",
                    f"{spec.label_zh} 的第 {i + 1} 位（第 {pos} 个字符）是 {_show(ch)}，该字段只能是数字",
                    f"{spec.label_en}: character {i + 1} (character {pos} of the code) is {_show(ch)}; "
                    "this field is digits only",
                    position=pos,
                    ai=spec.ai,
                )
            raise CodeError(
                "bad_character",
                f"{spec.label_zh} 的第 {i + 1} 位（第 {pos} 个字符）是 {_show(ch)}，不在 GS1 允许的字符集内",
                f"{spec.label_en}: character {i + 1} (character {pos} of the code) is {_show(ch)}, "
                "which is not in the GS1 character set (letters, digits and !\"%&'()*+,-./:;<=>?_)",
                position=pos,
                ai=spec.ai,
            )
    if spec.ai == "01":
        expected = _check_digit(value[:13])
        if expected != int(value[13]):
            raise CodeError(
                "bad_gtin_check_digit",
                f"GTIN {value} 的校验位是 {value[13]}，按 GS1 校验算法应为 {expected}；码可能被误读或输错",
                f"GTIN {value} ends in check digit {value[13]} but the GS1 check digit is {expected}; "
                "the code was misread or mistyped",
                position=field.position + 13,
                ai=spec.ai,
            )
        return value
    if spec.ai in ("11", "17"):
        return _yymmdd(field, today)
    if spec.ai == "30":
        return int(value)
    return value


def _yymmdd(field: _Field, today: date) -> date:
    spec, value = field.spec, field.value
    reason = "bad_expiry_date" if spec.ai == "17" else "bad_production_date"
    yy, mm, dd = int(value[0:2]), int(value[2:4]), int(value[4:6])
    if not 1 <= mm <= 12:
        raise CodeError(
            reason,
            f"{spec.label_zh} {value}（YYMMDD）中的月份 {value[2:4]} 无效，应为 01-12",
            f"{spec.label_en} {value} (YYMMDD) has month {value[2:4]}; it must be 01-12",
            position=field.position + 2,
            ai=spec.ai,
        )
    year = _century(yy, today)
    last_day = calendar.monthrange(year, mm)[1]
    if dd == 0:
        # GS1: a day of 00 means the day is not given; for an expiry that is the end of the month. AI 11
        # is read the same way so that one rule covers both (no dose decision rests on its day).
        return date(year, mm, last_day)
    if dd > last_day:
        raise CodeError(
            reason,
            f"{spec.label_zh} {value}（YYMMDD）无效：{year} 年 {mm} 月只有 {last_day} 天，没有 {dd} 日",
            f"{spec.label_en} {value} (YYMMDD) is not a date: {year}-{mm:02d} has {last_day} days, not {dd}",
            position=field.position + 4,
            ai=spec.ai,
        )
    return date(year, mm, dd)


def _century(yy: int, today: date) -> int:
    """GS1 General Specifications, "determination of century": a two-digit year lies from 49 years
    before to 50 years after the current year."""
    current = today.year % 100
    century = today.year - current
    diff = yy - current
    if diff >= 51:
        century -= 100
    elif diff <= -50:
        century += 100
    return century + yy


def _truncated(spec: _Ai, got: int, position: int) -> CodeError:
    return CodeError(
        "truncated_field",
        f"{spec.label_zh} 不完整：只有 {got} 位，应为 {spec.length} 位",
        f"{spec.label_en} is cut short: {got} of {spec.length} characters",
        position=position,
        ai=spec.ai,
    )


def _missing(ai: str, reason: str, fields: list[_Field], gtin: str | None, *, gs_seen: bool) -> CodeError:
    spec = _AIS[ai]
    if ai == "21" and gtin is not None:
        why_zh = f"GTIN {gtin} 只能识别产品，不能识别最小包装单元"
        why_en = f"GTIN {gtin} names a product, not a single unit"
    elif ai == "01":
        why_zh, why_en = "无法确定是哪种产品", "the product cannot be identified"
    else:
        why_zh, why_en = "疫苗的最小包装码必须包含此项", "a vaccine unit code must carry it"
    hint_zh = hint_en = ""
    if not gs_seen and any(not f.spec.fixed and ai in f.value for f in fields):
        # Keyboard-wedge scanners often drop GS; the AI is then swallowed by the preceding field.
        hint_zh = "。扫描结果中没有分隔符 GS，请检查扫码枪是否设置为输出 GS（FNC1）"
        hint_en = ". The scan has no GS separators: check that the scanner is set to transmit GS (FNC1)"
    return CodeError(
        reason,
        f"缺少 {spec.label_zh}：{why_zh}；请扫描疫苗最小包装（瓶/支）上的二维码{hint_zh}",
        f"{spec.label_en} is missing: {why_en}; scan the 2D code on the vial or syringe{hint_en}",
        ai=ai,
    )


# --- shared helpers ---------------------------------------------------------------------------------


def _reject_control_characters(text: str) -> None:
    for i, ch in enumerate(text):
        if ch != GS and unicodedata.category(ch) == "Cc":
            raise CodeError(
                "control_character",
                f"第 {i + 1} 个字符是控制字符 {_show(ch)}；只允许分隔符 GS (U+001D)",
                f"character {i + 1} is the control character {_show(ch)}; only the GS separator (U+001D) may appear",
                position=i + 1,
            )


def _starts_like_gs1(text: str) -> bool:
    """AI 01 and a GTIN whose check digit holds: a prefix a China code or a typo rarely has by chance."""
    body = text[2:15]
    return text.startswith("01") and len(text) >= 16 and _all_digits(text[2:16]) and _check_digit(body) == int(text[15])


def _check_digit(body: str) -> int:
    # Weights 3,1,3,... from the rightmost digit of the body, for every GTIN length.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _all_digits(s: str) -> bool:
    # Not str.isdigit(): that accepts superscripts and other scripts' digits, which int() may not.
    return all(ch in _DIGITS for ch in s)


def _show(ch: str) -> str:
    if ch == GS:
        return "GS (U+001D)"
    if ch.isprintable():
        # The code point tells a Cyrillic 'О' from a Latin 'O', or a space from nothing, to whoever reads it.
        return f"'{ch}'" if ch.isascii() and ch != " " else f"'{ch}' (U+{ord(ch):04X})"
    return f"U+{ord(ch):04X}"
