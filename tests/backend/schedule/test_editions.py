"""The schedule editions as data: what the shipped files say, and how a broken file is refused."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend.schedule.editions import (
    DATA_DIR,
    VACCINE_CODES,
    Duration,
    Edition,
    EditionError,
    NoEditionError,
    edition_for,
    editions,
    load_edition,
    load_editions,
)

D = date.fromisoformat


def raw(edition_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / f"{edition_id}.json").read_text(encoding="utf-8"))
    return data


def doses(edition_id: str, series_id: str, alternative: str | None = None) -> list[tuple[str, Duration]]:
    """(vaccine, minimum age) per dose, as loaded."""
    series = next(s for s in edition_for_id(edition_id).series if s.id == series_id)
    alt = series.alternatives[0] if alternative is None else series.alternative(alternative)
    assert alt is not None
    return [(rule.vaccines[0], rule.min_age) for rule in alt.doses]


def edition_for_id(edition_id: str) -> Edition:
    return next(e for e in editions() if e.id == edition_id)


def m(n: int) -> Duration:
    return Duration(n, "months")


def y(n: int) -> Duration:
    return Duration(n, "years")


# ---------------------------------------------------------------- choosing an edition


def test_two_editions_oldest_first() -> None:
    assert [(e.id, e.effective_from) for e in editions()] == [
        ("cn-nip-2021", D("2021-01-01")),
        ("cn-nip-2025", D("2025-01-01")),
    ]


@pytest.mark.parametrize(
    ("on", "edition_id"),
    [
        ("2021-01-01", "cn-nip-2021"),
        ("2024-06-30", "cn-nip-2021"),
        ("2024-12-31", "cn-nip-2021"),
        ("2025-01-01", "cn-nip-2025"),
        ("2025-11-10", "cn-nip-2025"),
        ("2031-01-01", "cn-nip-2025"),
    ],
)
def test_edition_in_force(on: str, edition_id: str) -> None:
    assert edition_for(D(on)).id == edition_id


def test_no_edition_before_the_first() -> None:
    with pytest.raises(NoEditionError, match="2020-12-31"):
        edition_for(D("2020-12-31"))


# ---------------------------------------------------------------- what the files say


def test_series_of_each_edition() -> None:
    common = ["hepb", "bcg", "polio", "dtp", "mmr", "je", "mpsv-a", "mpsv-ac", "hepa"]
    assert [s.id for s in edition_for_id("cn-nip-2021").series] == common
    assert [s.id for s in edition_for_id("cn-nip-2025").series] == [*common, "hpv"]


def test_dtp_line_changes_in_2025() -> None:
    dtap = [("DTaP", m(3)), ("DTaP", m(4)), ("DTaP", m(5)), ("DTaP", m(18))]
    assert doses("cn-nip-2021", "dtp") == [*dtap, ("DT", y(6))]
    dtap = [("DTaP", m(2)), ("DTaP", m(4)), ("DTaP", m(6)), ("DTaP", m(18))]
    assert doses("cn-nip-2025", "dtp") == [*dtap, ("DTaP", y(6))]


@pytest.mark.parametrize("edition_id", ["cn-nip-2021", "cn-nip-2025"])
def test_lines_common_to_both_editions(edition_id: str) -> None:
    assert doses(edition_id, "hepb") == [("HepB", Duration(0, "days")), ("HepB", m(1)), ("HepB", m(6))]
    assert doses(edition_id, "bcg") == [("BCG", Duration(0, "days"))]
    assert doses(edition_id, "polio") == [("IPV", m(2)), ("IPV", m(3)), ("bOPV", m(4)), ("bOPV", y(4))]
    assert doses(edition_id, "mmr") == [("MMR", m(8)), ("MMR", m(18))]
    assert doses(edition_id, "je", "JE-L") == [("JE-L", m(8)), ("JE-L", y(2))]
    assert doses(edition_id, "je", "JE-I") == [("JE-I", m(8)), ("JE-I", m(8)), ("JE-I", y(2)), ("JE-I", y(6))]
    assert doses(edition_id, "mpsv-a") == [("MPSV-A", m(6)), ("MPSV-A", m(9))]
    assert doses(edition_id, "mpsv-ac") == [("MPSV-AC", y(3)), ("MPSV-AC", y(6))]
    assert doses(edition_id, "hepa", "HepA-L") == [("HepA-L", m(18))]
    assert doses(edition_id, "hepa", "HepA-I") == [("HepA-I", m(18)), ("HepA-I", y(2))]


@pytest.mark.parametrize("edition_id", ["cn-nip-2021", "cn-nip-2025"])
def test_intervals_and_limits_from_the_domain_notes(edition_id: str) -> None:
    e = edition_for_id(edition_id)
    by_id = {s.id: s for s in e.series}
    hepb = by_id["hepb"].alternatives[0].doses
    assert [r.min_interval for r in hepb] == [None, Duration(28, "days"), Duration(60, "days")]
    assert hepb[2].before == m(12)
    polio = by_id["polio"].alternatives[0].doses
    assert [r.min_interval for r in polio] == [None, *[Duration(28, "days")] * 3]
    assert (polio[2].before, polio[3].before) == (m(12), y(5))
    bcg = by_id["bcg"]
    assert (bcg.alternatives[0].doses[0].before, bcg.alternatives[0].doses[0].requires_tb_test_from) == (m(3), m(3))
    assert bcg.not_given_from == y(4)
    assert by_id["je"].alternative("JE-I").doses[1].min_interval == Duration(7, "days")  # type: ignore[union-attr]
    assert by_id["mpsv-a"].alternatives[0].doses[1].min_interval == m(3)
    assert by_id["mpsv-ac"].alternatives[0].doses[1].min_interval == y(3)
    assert by_id["hepa"].alternative("HepA-I").doses[1].min_interval == m(6)  # type: ignore[union-attr]
    assert e.catch_up_before == y(18)


def test_hpv_for_girls_from_its_own_start_date() -> None:
    hpv = edition_for_id("cn-nip-2025").series_by_id("hpv")
    assert hpv is not None
    assert (hpv.sex, hpv.start) == ("F", D("2025-11-10"))
    assert [(r.vaccines, r.min_age) for r in hpv.alternatives[0].doses] == [(("HPV",), y(13)), (("HPV",), y(13))]
    assert edition_for_id("cn-nip-2021").series_by_id("hpv") is None


def test_vaccine_codes_fit_the_chain() -> None:
    used = {code for e in editions() for s in e.series for a in s.alternatives for code in a.vaccines}
    assert used == VACCINE_CODES
    for code in used:  # the chain stores a type as bytes8: ASCII, 1 to 8 bytes, no NUL
        assert code.isascii() and 1 <= len(code) <= 8 and "\0" not in code


# What DOMAIN.md states for a dose; every other value must carry a note saying it is an assumption.
GIVEN_BEFORE = {("hepb", 3), ("bcg", 1), ("polio", 3), ("polio", 4)}
GIVEN_INTERVAL = {("hepb", 2), ("hepb", 3), ("polio", 2), ("polio", 3), ("polio", 4), ("je", 2), ("mpsv-a", 2)}
GIVEN_INTERVAL |= {("mpsv-ac", 2), ("hepa", 2)}


def raw_doses(series: dict[str, Any]) -> list[dict[str, Any]]:
    alternatives = series.get("alternatives", [series])
    return [dose for alternative in alternatives for dose in alternative["doses"]]


@pytest.mark.parametrize("edition_id", ["cn-nip-2021", "cn-nip-2025"])
def test_every_value_not_in_the_domain_notes_says_so(edition_id: str) -> None:
    data = raw(edition_id)
    for key in ("grace_days", "effective_from"):
        assert f"{key}_note" in data
    for series in data["series"]:
        for dose in raw_doses(series):
            where = (series["id"], dose["dose"])
            if where not in GIVEN_BEFORE:
                assert "assumption" in dose.get("before_note", ""), where
            if dose["min_interval"] is not None and where not in GIVEN_INTERVAL:
                assert "assumption" in dose.get("min_interval_note", ""), where
    hpv = next((s for s in data["series"] if s["id"] == "hpv"), None)
    assert hpv is None or "assumption" in hpv["born_on_or_after_note"]


def test_durations_are_calendar_arithmetic() -> None:
    assert m(1).after(D("2024-01-31")) == D("2024-02-29")
    assert m(3).after(D("2023-11-30")) == D("2024-02-29")
    assert y(1).after(D("2024-02-29")) == D("2025-02-28")
    assert y(4).after(D("2024-02-29")) == D("2028-02-29")
    assert Duration(28, "days").after(D("2024-02-10")) == D("2024-03-09")


# ---------------------------------------------------------------- broken files


def write(directory: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = directory / (name or f"{data['id']}.json")
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def hepb_dose(data: dict[str, Any], n: int) -> dict[str, Any]:
    return data["series"][0]["doses"][n - 1]  # type: ignore[no-any-return]


def drop_title(d: dict[str, Any]) -> None:
    del d["title"]


def misspell_before(d: dict[str, Any]) -> None:
    hepb_dose(d, 2)["befor"] = hepb_dose(d, 2).pop("before")


def bad_unit(d: dict[str, Any]) -> None:
    hepb_dose(d, 2)["min_age"] = {"weeks": 4}


def two_units(d: dict[str, Any]) -> None:
    hepb_dose(d, 2)["min_age"] = {"months": 1, "days": 2}


def negative_age(d: dict[str, Any]) -> None:
    hepb_dose(d, 2)["min_age"] = {"months": -1}


def unknown_vaccine(d: dict[str, Any]) -> None:
    hepb_dose(d, 2)["vaccines"] = ["HepB-10ug"]


def dose_numbers_out_of_order(d: dict[str, Any]) -> None:
    hepb_dose(d, 2)["dose"] = 3


def interval_on_first_dose(d: dict[str, Any]) -> None:
    hepb_dose(d, 1)["min_interval"] = {"days": 28}


def no_interval_on_later_dose(d: dict[str, Any]) -> None:
    hepb_dose(d, 3)["min_interval"] = None


def before_not_after_min_age(d: dict[str, Any]) -> None:
    hepb_dose(d, 3)["before"] = {"months": 6}


def bad_date(d: dict[str, Any]) -> None:
    d["effective_from"] = "2021-02-30"


def note_not_text(d: dict[str, Any]) -> None:
    d["note"] = 3


def vaccine_in_two_series(d: dict[str, Any]) -> None:
    d["series"][1]["doses"][0]["vaccines"] = ["HepB"]


def both_doses_and_alternatives(d: dict[str, Any]) -> None:
    d["series"][0]["alternatives"] = [{"id": "x", "doses": d["series"][0]["doses"]}]


def bad_sex(d: dict[str, Any]) -> None:
    d["series"][0]["sex"] = "girls"


def no_series(d: dict[str, Any]) -> None:
    d["series"] = []


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (drop_title, r"cn-nip-2021\.json: missing field\(s\) title"),
        (misspell_before, r"series\[0\]\.doses\[1\]: unknown field 'befor'"),
        (bad_unit, r"series\[0\]\.doses\[1\]\.min_age: expected one of"),
        (two_units, r"doses\[1\]\.min_age: expected one of"),
        (negative_age, r"doses\[1\]\.min_age\.months: expected a whole number >= 0"),
        (unknown_vaccine, r"doses\[1\]\.vaccines\[0\]: unknown vaccine type 'HepB-10ug'"),
        (dose_numbers_out_of_order, r"doses\[1\]\.dose: expected 2"),
        (interval_on_first_dose, r"doses\[0\]\.min_interval: required for every dose but the first"),
        (no_interval_on_later_dose, r"doses\[2\]\.min_interval: required for every dose but the first"),
        (before_not_after_min_age, r"doses\[2\]\.before: must be later than min_age"),
        (bad_date, r"effective_from: expected a date YYYY-MM-DD, got '2021-02-30'"),
        (note_not_text, r"\.note: a note must be a string"),
        (vaccine_in_two_series, r"vaccine HepB is in both hepb/hepb and bcg/bcg"),
        (both_doses_and_alternatives, r"series\[0\]: needs exactly one of doses and alternatives"),
        (bad_sex, r"series\[0\]\.sex: expected \"F\" or \"M\""),
        (no_series, r"series: expected a non-empty list"),
    ],
)
def test_a_malformed_edition_is_refused_with_the_field_named(tmp_path: Path, damage: Any, message: str) -> None:
    data = raw("cn-nip-2021")
    damage(data)
    with pytest.raises(EditionError, match=message):
        load_edition(write(tmp_path, data))


def test_unreadable_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cn-nip-2021.json"
    path.write_text('{"id": "cn-nip-2021",', encoding="utf-8")
    with pytest.raises(EditionError, match=r"cn-nip-2021\.json: cannot be read as JSON"):
        load_edition(path)


def test_file_name_must_match_the_id(tmp_path: Path) -> None:
    with pytest.raises(EditionError, match="does not match the file name"):
        load_edition(write(tmp_path, raw("cn-nip-2021"), "cn-nip-2022.json"))


def test_editions_are_checked_together(tmp_path: Path) -> None:
    write(tmp_path, raw("cn-nip-2021"))
    later = raw("cn-nip-2025")
    later["effective_from"] = "2021-01-01"
    write(tmp_path, later)
    with pytest.raises(EditionError, match="two editions share an effective_from"):
        load_editions(tmp_path)


def test_a_vaccine_may_not_move_between_series_across_editions(tmp_path: Path) -> None:
    write(tmp_path, raw("cn-nip-2021"))
    later = raw("cn-nip-2025")
    dtp = next(s for s in later["series"] if s["id"] == "dtp")
    dtp["id"] = "dtap"
    write(tmp_path, later)
    with pytest.raises(EditionError, match="vaccine DTaP is in dtap/dtap, but in dtp/dtp in cn-nip-2021"):
        load_editions(tmp_path)


def test_an_empty_directory_has_no_editions(tmp_path: Path) -> None:
    with pytest.raises(EditionError, match="no edition files"):
        load_editions(tmp_path)


def test_the_shipped_directory_loads() -> None:
    assert load_editions(DATA_DIR) == editions()
