"""The reading validator: every rejection at its exact edge, state and restore, and the wire format."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.core import given  # not the chain-isolating wrapper pytest-brownie puts on hypothesis.given

from oracle.identity import new_device_key, public_bytes, sign, verify
from oracle.reading import NO_BATTERY, Reading
from oracle.store import Store
from oracle.validate import (
    Device,
    ReadingValidator,
    Reason,
    Rejection,
    encode_message,
    parse_message,
)

NOW = 1_763_700_000_000
MIN = 60_000
KEY = new_device_key()
OTHER_KEY = new_device_key()
DEVICE = "fridge-07"
EQUIPMENT = 12


def reading(**kw: object) -> Reading:
    fields = {"device": DEVICE, "equipment": EQUIPMENT, "seq": 1, "ts_ms": NOW, "temp_dc": 45} | kw
    return Reading(**fields)  # type: ignore[arg-type]


def signed(**kw: object) -> tuple[Reading, bytes]:
    r = reading(**kw)
    return r, sign(KEY, r)


@pytest.fixture
def v() -> ReadingValidator:
    return ReadingValidator({DEVICE: Device(public_bytes(KEY), EQUIPMENT)}, clock=lambda: NOW)


def check(v: ReadingValidator, **kw: object) -> Reason | None:
    return v.validate(*signed(**kw)).reason


def primed(v: ReadingValidator, seq: int = 10, ts_ms: int = NOW, temp_dc: int = 45) -> ReadingValidator:
    assert check(v, seq=seq, ts_ms=ts_ms, temp_dc=temp_dc) is None
    return v


# --- identity ---------------------------------------------------------------------------------------------------


def test_accepts_a_good_reading(v: ReadingValidator) -> None:
    verdict = v.validate(*signed())
    assert verdict.ok and verdict.reason is None
    assert v.accepted == 1 and sum(v.counts.values()) == 0


def test_unknown_device(v: ReadingValidator) -> None:
    r = reading(device="fridge-99")
    verdict = v.validate(r, sign(KEY, r))
    assert verdict.reason is Reason.UNKNOWN_DEVICE and "fridge-99" in verdict.message
    assert v.counts[Reason.UNKNOWN_DEVICE] == 1


def test_device_bound_to_other_equipment(v: ReadingValidator) -> None:
    assert check(v, equipment=13) is Reason.WRONG_EQUIPMENT


def test_missing_signature(v: ReadingValidator) -> None:
    assert v.validate(reading(), None).reason is Reason.MISSING_SIGNATURE
    assert v.validate(reading(), b"").reason is Reason.MISSING_SIGNATURE


@pytest.mark.parametrize("sig", [b"\x00" * 63, b"\x00" * 65, "not bytes", 12])
def test_malformed_signature(v: ReadingValidator, sig: object) -> None:
    assert v.validate(reading(), sig).reason is Reason.MALFORMED_SIGNATURE  # type: ignore[arg-type]


def test_wrong_signature(v: ReadingValidator) -> None:
    r = reading()
    assert v.validate(r, sign(OTHER_KEY, r)).reason is Reason.BAD_SIGNATURE
    tampered = reading(temp_dc=46)
    assert v.validate(tampered, sign(KEY, r)).reason is Reason.BAD_SIGNATURE


def test_unsignable_fields_are_a_bad_signature_not_an_exception(v: ReadingValidator) -> None:
    # temp_dc beyond int16 cannot be packed: such a reading cannot carry a valid signature
    assert v.validate(reading(temp_dc=40_000), b"\x01" * 64).reason is Reason.BAD_SIGNATURE


def test_garbage_never_raises(v: ReadingValidator) -> None:
    assert v.validate(None, b"x" * 64).reason is Reason.WRONG_TYPE  # type: ignore[arg-type]
    assert v.validate(reading(device=5), b"x" * 64).reason is Reason.UNKNOWN_DEVICE  # type: ignore[arg-type]


# --- sequence and time ------------------------------------------------------------------------------------------


def test_replay_equal_and_lower_seq(v: ReadingValidator) -> None:
    primed(v, seq=10)
    assert check(v, seq=10) is Reason.REPLAY
    assert check(v, seq=9) is Reason.REPLAY
    assert check(v, seq=11) is None


def test_out_of_order_tolerance_edge(v: ReadingValidator) -> None:
    primed(v, seq=10, ts_ms=NOW)
    tol = v.reorder_tolerance_ms
    assert tol == 5 * MIN
    assert check(v, seq=11, ts_ms=NOW - tol - 1) is Reason.OUT_OF_ORDER
    assert check(v, seq=11, ts_ms=NOW - tol) is None  # exactly at the tolerance: a late batched record


def test_out_of_order_tolerance_is_configurable() -> None:
    v = ReadingValidator({DEVICE: Device(public_bytes(KEY), EQUIPMENT)}, reorder_tolerance_ms=1000, clock=lambda: NOW)
    primed(v, seq=1, ts_ms=NOW)
    assert check(v, seq=2, ts_ms=NOW - 1001) is Reason.OUT_OF_ORDER
    assert check(v, seq=2, ts_ms=NOW - 1000) is None


def test_old_backlog_upload_in_seq_order_is_accepted(v: ReadingValidator) -> None:
    """A logger's memory uploaded days later, in seq order, with 10-minute spacing: all genuine."""
    start = NOW - 3 * 24 * 3600_000
    verdicts = [v.validate(*signed(seq=s, ts_ms=start + s * 10 * MIN)) for s in range(1, 50)]
    assert all(x.ok for x in verdicts)


def test_future_clock_edge(v: ReadingValidator) -> None:
    assert check(v, seq=1, ts_ms=NOW + 10 * MIN + 1) is Reason.FUTURE_TIMESTAMP
    assert check(v, seq=1, ts_ms=NOW + 10 * MIN) is None


def test_future_uses_explicit_now(v: ReadingValidator) -> None:
    r, s = signed(ts_ms=NOW + 10 * MIN)
    assert v.validate(r, s, now_ms=NOW - 1).reason is Reason.FUTURE_TIMESTAMP


# --- physics ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temp_dc", "reason"),
    [(600, None), (601, Reason.IMPOSSIBLE_TEMPERATURE), (-900, None), (-901, Reason.IMPOSSIBLE_TEMPERATURE)],
)
def test_temperature_edges(v: ReadingValidator, temp_dc: int, reason: Reason | None) -> None:
    assert check(v, temp_dc=temp_dc) is reason


@pytest.mark.parametrize(
    ("battery", "reason"),
    [(0, None), (100, None), (101, Reason.BAD_BATTERY), (254, Reason.BAD_BATTERY), (NO_BATTERY, None)],
)
def test_battery_edges(v: ReadingValidator, battery: int, reason: Reason | None) -> None:
    assert check(v, battery=battery) is reason


def test_rate_of_change_edge(v: ReadingValidator) -> None:
    # default: 10 °C/min + 1.0 °C slack -> 11.0 °C in one minute is the most allowed
    primed(v, seq=10, ts_ms=NOW - MIN, temp_dc=0)
    assert check(v, seq=11, ts_ms=NOW, temp_dc=111) is Reason.IMPOSSIBLE_RATE
    assert check(v, seq=11, ts_ms=NOW, temp_dc=-111) is Reason.IMPOSSIBLE_RATE
    assert check(v, seq=11, ts_ms=NOW, temp_dc=110) is None


def test_rate_of_change_configurable_pure_rate() -> None:
    v = ReadingValidator(
        {DEVICE: Device(public_bytes(KEY), EQUIPMENT)}, max_rate_dc_per_min=50, rate_slack_dc=0, clock=lambda: NOW
    )
    primed(v, seq=1, ts_ms=NOW - 30_000, temp_dc=0)
    # 5 °C/min over 30 s = 2.5 °C
    assert check(v, seq=2, ts_ms=NOW, temp_dc=26) is Reason.IMPOSSIBLE_RATE
    assert check(v, seq=2, ts_ms=NOW, temp_dc=25) is None
    # same timestamp: no change at all is allowed without slack
    assert check(v, seq=3, ts_ms=NOW, temp_dc=26) is Reason.IMPOSSIBLE_RATE
    assert check(v, seq=3, ts_ms=NOW, temp_dc=25) is None


def test_rate_with_older_timestamp_uses_the_gap(v: ReadingValidator) -> None:
    primed(v, seq=10, ts_ms=NOW, temp_dc=0)
    assert check(v, seq=11, ts_ms=NOW - MIN, temp_dc=110) is None


# --- state ------------------------------------------------------------------------------------------------------


def test_accepted_updates_last_state_rejected_does_not(v: ReadingValidator) -> None:
    primed(v, seq=10, ts_ms=NOW - MIN, temp_dc=40)
    assert check(v, seq=11, temp_dc=601) is Reason.IMPOSSIBLE_TEMPERATURE
    state = v.last_accepted(DEVICE)
    assert (state.seq, state.ts_ms, state.temp_dc) == (10, NOW - MIN, 40)
    assert check(v, seq=12, temp_dc=41) is None
    state = v.last_accepted(DEVICE)
    assert (state.seq, state.ts_ms, state.temp_dc) == (12, NOW, 41)


def test_counters_per_reason(v: ReadingValidator) -> None:
    primed(v, seq=5)
    for _ in range(3):
        check(v, seq=5)
    check(v, temp_dc=700, seq=6)
    v.validate_message(b"{")
    assert v.counts[Reason.REPLAY] == 3
    assert v.counts[Reason.IMPOSSIBLE_TEMPERATURE] == 1
    assert v.counts[Reason.MALFORMED_JSON] == 1
    assert v.accepted == 1
    assert set(v.counts) == set(Reason)


def test_restore_from_store_gives_same_decisions(tmp_path: Path) -> None:
    devices = {DEVICE: Device(public_bytes(KEY), EQUIPMENT)}
    live = ReadingValidator(devices, clock=lambda: NOW)
    accepted = [
        x
        for x in (signed(seq=s, ts_ms=NOW - (20 - s) * MIN, temp_dc=40 + s) for s in range(1, 20))
        if live.validate(*x).ok
    ]
    with Store(tmp_path / "o.db") as store:
        store.append(accepted)
    with Store(tmp_path / "o.db") as store:
        restored = ReadingValidator(devices, clock=lambda: NOW)
        restored.restore(store.last_accepted())
    probes = [
        (signed(seq=19, ts_ms=NOW), Reason.REPLAY),
        (signed(seq=18, ts_ms=NOW), Reason.REPLAY),
        (signed(seq=20, ts_ms=NOW - 6 * MIN - 1), Reason.OUT_OF_ORDER),
        (signed(seq=20, ts_ms=NOW, temp_dc=59 + 111), Reason.IMPOSSIBLE_RATE),
        (signed(seq=20, ts_ms=NOW, temp_dc=59 + 110), None),
        (signed(seq=21, ts_ms=NOW - 5 * MIN, temp_dc=169), None),
        (signed(seq=22, ts_ms=NOW + 10 * MIN + 1), Reason.FUTURE_TIMESTAMP),
    ]
    fresh = ReadingValidator(devices, clock=lambda: NOW)
    for probe, expected in probes:
        a, b = live.validate(*probe), restored.validate(*probe)
        assert a.reason is b.reason is expected, probe
    assert [fresh.validate(*p).reason for p, _ in probes[:2]] == [None, Reason.REPLAY]  # without restore: different


# --- wire format ------------------------------------------------------------------------------------------------


def message(**kw: object) -> bytes:
    r, s = signed()
    msg = json.loads(encode_message(r, s))
    for k, val in kw.items():
        if val is ...:
            del msg[k]
        else:
            msg[k] = val
    return json.dumps(msg).encode()


def test_round_trip_encode_parse_verify(v: ReadingValidator) -> None:
    for r in [reading(), reading(temp_dc=-5, battery=87, door_open=True), reading(temp_dc=-900), reading(temp_dc=600)]:
        s = sign(KEY, r)
        parsed = parse_message(encode_message(r, s))
        assert not isinstance(parsed, Rejection)
        assert parsed == (r, s)
        assert verify(public_bytes(KEY), *parsed)
    assert v.validate_message(encode_message(*signed(seq=99))).ok


def test_round_trip_every_representable_temperature() -> None:
    sig = b"\x00" * 64
    for t in range(-2000, 2001):
        parsed = parse_message(encode_message(reading(temp_dc=t), sig))
        assert not isinstance(parsed, Rejection) and parsed[0].temp_dc == t


def test_optional_fields_default() -> None:
    parsed = parse_message(message(battery=..., door=...))
    assert not isinstance(parsed, Rejection)
    assert parsed[0].battery == NO_BATTERY and parsed[0].door_open is False


def test_temp_c_converted_with_deci_celsius() -> None:
    parsed = parse_message(message(temp_c=-0.05))
    assert not isinstance(parsed, Rejection) and parsed[0].temp_dc == -1
    parsed = parse_message(message(temp_c=4))
    assert not isinstance(parsed, Rejection) and parsed[0].temp_dc == 40


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", Reason.MALFORMED_JSON),
        (b"{", Reason.MALFORMED_JSON),
        (b"\xff\xfe", Reason.MALFORMED_JSON),
        (b"[1, 2]", Reason.MALFORMED_JSON),
        (b'"text"', Reason.MALFORMED_JSON),
        (b"null", Reason.MALFORMED_JSON),
        (b"[" * 100_000, Reason.MALFORMED_JSON),
    ],
)
def test_parse_malformed_json(payload: bytes, reason: Reason) -> None:
    result = parse_message(payload)
    assert isinstance(result, Rejection) and result.reason is reason and result.message


@pytest.mark.parametrize("field", ["device", "equipment", "seq", "ts", "temp_c", "sig"])
def test_parse_missing_field(field: str) -> None:
    result = parse_message(message(**{field: ...}))
    assert isinstance(result, Rejection) and result.reason is Reason.MISSING_FIELD and field in result.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("device", 7),
        ("device", None),
        ("equipment", "12"),
        ("equipment", 12.0),
        ("equipment", True),
        ("seq", 1.5),
        ("seq", None),
        ("ts", "1763700000000"),
        ("temp_c", "4.5"),
        ("temp_c", True),
        ("temp_c", None),
        ("battery", 50.0),
        ("battery", "50"),
        ("door", 1),
        ("door", "true"),
        ("sig", 123),
        ("sig", None),
        ("device", "\ud800"),
    ],
)
def test_parse_wrong_type(field: str, value: object) -> None:
    result = parse_message(message(**{field: value}))
    assert isinstance(result, Rejection) and result.reason is Reason.WRONG_TYPE


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("equipment", -1, Reason.FIELD_OUT_OF_RANGE),
        ("equipment", 2**32, Reason.FIELD_OUT_OF_RANGE),
        ("seq", -1, Reason.FIELD_OUT_OF_RANGE),
        ("seq", 2**64, Reason.FIELD_OUT_OF_RANGE),
        ("ts", -1, Reason.FIELD_OUT_OF_RANGE),
        ("device", "", Reason.FIELD_OUT_OF_RANGE),
        ("battery", -1, Reason.BAD_BATTERY),
        ("battery", 256, Reason.BAD_BATTERY),
        ("temp_c", 1e308 * 10, Reason.IMPOSSIBLE_TEMPERATURE),
        ("temp_c", 10**400, Reason.IMPOSSIBLE_TEMPERATURE),
        ("temp_c", 5000.0, Reason.IMPOSSIBLE_TEMPERATURE),
        ("sig", "", Reason.MISSING_SIGNATURE),
        ("sig", "not base64!", Reason.MALFORMED_SIGNATURE),
        ("sig", "é", Reason.MALFORMED_SIGNATURE),
    ],
)
def test_parse_out_of_range(field: str, value: object, reason: Reason) -> None:
    result = parse_message(message(**{field: value}))
    assert isinstance(result, Rejection) and result.reason is reason


def test_parse_nan_and_infinity() -> None:
    for token in (b"NaN", b"Infinity", b"-Infinity"):
        payload = message().replace(b'"temp_c": 4.5', b'"temp_c": ' + token)
        assert token in payload
        result = parse_message(payload)
        assert isinstance(result, Rejection) and result.reason is Reason.IMPOSSIBLE_TEMPERATURE


def test_short_signature_parses_then_fails_validation(v: ReadingValidator) -> None:
    payload = message(sig=base64.b64encode(b"\x01" * 10).decode())
    assert v.validate_message(payload).reason is Reason.MALFORMED_SIGNATURE


def test_validate_message_counts_parse_failures(v: ReadingValidator) -> None:
    v.validate_message(message(seq=...))
    assert v.counts[Reason.MISSING_FIELD] == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_parse_message_never_raises_on_bytes(payload: bytes) -> None:
    result = parse_message(payload)
    assert isinstance(result, Rejection | tuple)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            k: json_values | st.integers()
            for k in ("device", "equipment", "seq", "ts", "temp_c", "battery", "door", "sig")
        },
    )
)
def test_parse_and_validate_never_raise_on_json_objects(msg: dict) -> None:
    payload = json.dumps(msg).encode()
    result = parse_message(payload)
    assert isinstance(result, Rejection | tuple)
    v = ReadingValidator({DEVICE: Device(public_bytes(KEY), EQUIPMENT)}, clock=lambda: NOW)
    assert v.validate_message(payload).reason is not None


def test_a_large_batch_checked_on_all_cores_gets_the_verdicts_one_by_one_would() -> None:
    """validate_all checks signatures in parallel; the verdicts, their order and the counts must not change."""
    items: list[tuple[Reading, bytes | None]] = []
    for seq in range(1, 301):
        r, sig = signed(seq=seq, ts_ms=NOW - (300 - seq) * 1_000)
        if seq % 7 == 0:
            sig = sign(OTHER_KEY, r)  # forged
        elif seq % 11 == 0:
            sig = None
        elif seq % 13 == 0:
            r = reading(seq=seq - 1, ts_ms=r.ts_ms)  # a replay, signed but by the wrong content
        items.append((r, sig))
    items.append(signed(device="stranger", seq=1))

    def fresh() -> ReadingValidator:
        return ReadingValidator({DEVICE: Device(public_bytes(KEY), EQUIPMENT)}, clock=lambda: NOW)

    one_by_one, batched = fresh(), fresh()
    expected = [one_by_one.validate(r, s).reason for r, s in items]
    assert [x.reason for x in batched.validate_all(items)] == expected
    assert batched.counts == one_by_one.counts and batched.accepted == one_by_one.accepted > 200
    assert {Reason.BAD_SIGNATURE, Reason.MISSING_SIGNATURE, Reason.UNKNOWN_DEVICE} <= set(expected)
