"""Instrument files and scoring (domain.md sections 5 and 6)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapp.domain.errors import ValidationError
from kapp.domain.instruments import (
    Instrument,
    InstrumentFileError,
    load_instrument,
    load_instruments,
    parse_instrument,
    score,
    score_problems,
)

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "instruments"
BUNDLED = load_instruments(RESOURCES)

EXPECTED = {
    # code: (number of items, lowest total, highest total)
    "phq9": (9, 0, 27),
    "gad7": (7, 0, 21),
    "madrs": (10, 0, 60),
    "qids_sr16": (16, 0, 27),
    "pain_nrs": (1, 0, 10),
    "moaas": (1, 0, 5),
    "cadss": (23, 0, 92),
    "cadss6": (6, 0, 24),
}


def all_at(instrument: Instrument, which: str) -> dict[int, int]:
    pick = min if which == "min" else max
    return {item.number: pick(item.scores) for item in instrument.items}


# -- Bundled files -------------------------------------------------------------------------


def test_every_bundled_file_loads() -> None:
    files = sorted(RESOURCES.glob("*.json"))
    assert {load_instrument(path).code for path in files} == set(EXPECTED)
    assert set(BUNDLED) == set(EXPECTED)
    for path in files:
        assert path.stem == load_instrument(path).code


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_min_and_max_totals(code: str) -> None:
    instrument = BUNDLED[code]
    count, low, high = EXPECTED[code]
    assert len(instrument.items) == count
    assert (instrument.min_total, instrument.max_total) == (low, high)
    assert score(instrument, all_at(instrument, "min")).total == low
    assert score(instrument, all_at(instrument, "max")).total == high


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_labels_are_short_and_licence_is_stated(code: str) -> None:
    instrument = BUNDLED[code]
    assert instrument.licence and instrument.description
    for item in instrument.items:
        assert len(item.label) <= 60
        assert item.text is None  # bundled files carry no full item wording


def band_cases() -> list[tuple[str, int, str]]:
    spec = {
        "phq9": [
            (0, 4, "Minimal"),
            (5, 9, "Mild"),
            (10, 14, "Moderate"),
            (15, 19, "Moderately severe"),
            (20, 27, "Severe"),
        ],
        "gad7": [(0, 4, "Minimal"), (5, 9, "Mild"), (10, 14, "Moderate"), (15, 21, "Severe")],
        "madrs": [(0, 6, "Normal"), (7, 19, "Mild"), (20, 34, "Moderate"), (35, 60, "Severe")],
        "qids_sr16": [
            (0, 5, "None"),
            (6, 10, "Mild"),
            (11, 15, "Moderate"),
            (16, 20, "Severe"),
            (21, 27, "Very severe"),
        ],
        "pain_nrs": [(0, 0, "No pain"), (1, 3, "Mild"), (4, 6, "Moderate"), (7, 10, "Severe")],
    }
    cases = []
    for code, bands in spec.items():
        for low, high, label in bands:
            cases += [(code, low, label), (code, high, label)]
    return cases


@pytest.mark.parametrize(("code", "total", "label"), band_cases())
def test_band_boundaries(code: str, total: int, label: str) -> None:
    assert BUNDLED[code].band_for(total) == label


@pytest.mark.parametrize(
    ("code", "total", "label"),
    [
        ("phq9", 12, "Moderate"),
        ("madrs", 35, "Severe"),
        ("gad7", 15, "Severe"),
    ],
)
def test_band_through_score(code: str, total: int, label: str) -> None:
    instrument = BUNDLED[code]
    answers: dict[int, int] = {}
    left = total
    for item in instrument.items:
        answers[item.number] = min(left, max(item.scores))
        left -= answers[item.number]
    result = score(instrument, answers)
    assert (result.total, result.band) == (total, label)


def test_instruments_without_bands() -> None:
    for code in ("moaas", "cadss", "cadss6"):
        assert score(BUNDLED[code], all_at(BUNDLED[code], "max")).band is None


def test_moaas_has_a_label_for_each_level() -> None:
    (item,) = BUNDLED["moaas"].items
    assert item.scores == (0, 1, 2, 3, 4, 5)
    assert all(option.label for option in item.options)


def test_cadss6_keeps_full_scale_item_numbers() -> None:
    assert BUNDLED["cadss6"].item_numbers == (1, 2, 6, 7, 15, 22)
    for number in BUNDLED["cadss6"].item_numbers:
        assert BUNDLED["cadss6"].item(number).label == BUNDLED["cadss"].item(number).label


# -- PHQ-9 item 9 --------------------------------------------------------------------------


def test_phq9_item9_flag_with_low_total() -> None:
    answers = {n: 0 for n in range(1, 10)} | {9: 1}
    result = score(BUNDLED["phq9"], answers)
    assert result.total == 1
    assert result.band == "Minimal"
    assert result.flags == ("item9_positive",)
    assert result.flag_messages == (
        "Item 9 (thoughts of self-harm) is positive: same-day follow-up needed, whatever the total",
    )


def test_phq9_no_flag_when_item9_is_zero() -> None:
    answers = {n: 3 for n in range(1, 9)} | {9: 0}
    result = score(BUNDLED["phq9"], answers)
    assert (result.total, result.band, result.flags) == (24, "Severe", ())


# -- QIDS-SR16 domains ---------------------------------------------------------------------


def test_qids_domain_rule_hand_worked() -> None:
    answers = {
        1: 2,
        2: 1,
        3: 0,
        4: 3,  # sleep: highest is 3
        5: 2,  # sad mood: 2
        6: 1,
        7: 0,
        8: 2,
        9: 0,  # appetite/weight: highest is 2
        10: 1,  # concentration: 1
        11: 0,  # view of self: 0
        12: 1,  # thoughts of death: 1
        13: 2,  # interest: 2
        14: 1,  # energy: 1
        15: 1,
        16: 3,  # psychomotor: highest is 3
    }
    # 3 + 2 + 2 + 1 + 0 + 1 + 2 + 1 + 3 = 15; a plain sum would give 20.
    result = score(BUNDLED["qids_sr16"], answers)
    assert result.total == 15
    assert result.band == "Moderate"
    assert sum(answers.values()) == 20


def test_qids_domains_cover_items_once() -> None:
    domains = BUNDLED["qids_sr16"].domains
    assert [d.items for d in domains] == [
        (1, 2, 3, 4),
        (5,),
        (6, 7, 8, 9),
        (10,),
        (11,),
        (12,),
        (13,),
        (14,),
        (15, 16),
    ]


@given(st.lists(st.integers(0, 3), min_size=16, max_size=16))
def test_qids_total_in_range_and_at_most_plain_sum(values: list[int]) -> None:
    answers = dict(enumerate(values, start=1))
    result = score(BUNDLED["qids_sr16"], answers)
    assert 0 <= result.total <= 27
    assert result.total <= sum(values)
    assert result.band is not None


# -- Answer problems -----------------------------------------------------------------------


def test_score_problems_missing_unknown_and_impossible() -> None:
    phq9 = BUNDLED["phq9"]
    answers = {n: 1 for n in range(1, 9)} | {3: 4, 12: 1}  # 9 missing, 3 impossible, 12 unknown
    errors = score_problems(phq9, answers)
    assert [e.field for e in errors] == ["item_12", "item_3", "item_9"]
    by_field = {e.field: e for e in errors}
    assert by_field["item_12"].message == "Item 12 is not part of PHQ-9"
    assert by_field["item_3"].message == "Item 3 (Sleep problems) must be from 0 to 3; got 4"
    assert by_field["item_3"].allowed == "0-3"
    assert by_field["item_9"].message.startswith("Item 9 (Thoughts of death or self-harm)")
    assert "has no answer" in by_field["item_9"].message


@pytest.mark.parametrize("bad", [True, 1.0, "1", None, -1])
def test_answers_must_be_option_scores(bad: object) -> None:
    answers = {n: 0 for n in range(1, 10)} | {1: bad}
    errors = score_problems(BUNDLED["phq9"], answers)  # type: ignore[arg-type]
    assert [e.field for e in errors] == ["item_1"]


def test_score_raises_with_problems() -> None:
    with pytest.raises(ValidationError) as caught:
        score(BUNDLED["gad7"], {1: 1})
    assert len(caught.value.errors) == 6


def test_complete_answers_have_no_problems() -> None:
    for instrument in BUNDLED.values():
        assert score_problems(instrument, all_at(instrument, "max")) == []


def test_score_carries_code_and_version() -> None:
    result = score(BUNDLED["gad7"], all_at(BUNDLED["gad7"], "min"))
    assert (result.instrument_code, result.version) == ("gad7", BUNDLED["gad7"].version)
    assert result.subscales == {}


# -- Files written by a clinic -------------------------------------------------------------


def minimal() -> dict[str, Any]:
    return {
        "format": 1,
        "code": "demo",
        "name": "Demo",
        "version": "1",
        "description": "A test instrument.",
        "licence": "Test only.",
        "options": [{"score": 0, "label": "No"}, {"score": 1, "label": "Yes"}],
        "items": [
            {"number": 1, "label": "A"},
            {"number": 2, "label": "B"},
            {"number": 3, "label": "C", "text": "Full licensed wording of C."},
        ],
        "scoring": "sum",
        "range": {"min": 0, "max": 3},
        "bands": [{"min": 0, "max": 1, "label": "Low"}, {"min": 2, "max": 3, "label": "High"}],
        "flags": [{"code": "total_high", "at_least": 3, "message": "All yes."}],
        "subscales": [{"code": "ab", "label": "A and B", "items": [1, 2]}],
    }


def test_minimal_file_with_subscale_text_and_total_flag(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    instrument = load_instrument(path)
    assert instrument.item(3).text == "Full licensed wording of C."
    result = score(instrument, {1: 1, 2: 1, 3: 1})
    assert result.subscales == {"ab": 2}
    assert result.flags == ("total_high",)
    assert result.band == "High"
    assert score(instrument, {1: 1, 2: 0, 3: 1}).flags == ()


def test_item_specific_options_override_shared() -> None:
    data = minimal()
    data["items"][2]["options"] = [{"score": 0, "label": "No"}, {"score": 5, "label": "Yes"}]
    data["range"]["max"] = 7
    data["bands"][1]["max"] = 7
    instrument = parse_instrument(data)
    assert instrument.item(3).scores == (0, 5)
    (error,) = score_problems(instrument, {1: 1, 2: 1, 3: 1})
    assert error.message == "Item 3 (C) must be one of 0, 5; got 1"
    assert error.allowed == "0, 5"
    assert score(instrument, {1: 1, 2: 1, 3: 5}).total == 7


DELETE = object()


def broken(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """A copy of ``minimal()`` with one value changed (or deleted) at ``path``."""
    data = copy.deepcopy(minimal())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("code",), DELETE, "missing code"),
        (("band",), [], "unknown key band"),
        (("format",), 2, "newer kapp"),
        (("code",), "Demo Scale", "lower-case"),
        (("range", "max"), 4, "says 0-4 but the items and scoring give 0-3"),
        (("items", 1, "number"), 1, "rising order"),
        (("items", 0, "number"), 0, "must be 1 or more"),
        (("options",), DELETE, "has no answer options"),
        (("options", 1, "score"), 0, "same score"),
        (("options", 1, "score"), True, "whole number"),
        (("options", 1, "score"), 1.5, "whole number"),
        (("items",), [], "non-empty list"),
        (("items", 0, "label"), "", "non-empty text"),
        (("scoring",), "mean", '"sum" or "domains"'),
        (("scoring",), "domains", "required"),
        (("domains",), [{"code": "x", "label": "X", "items": [1]}], "only used with"),
        (("bands", 1, "min"), 3, "should start at 2"),
        (("bands", 1, "max"), 2, "must end at the top"),
        (("bands", 0, "min"), 1, "should start at 0"),
        (("bands", 0, "min"), 2, "min 2 is above max 1"),
        (("flags", 0, "item"), 9, "unknown item 9"),
        (("subscales", 0, "items"), [1, 1], "twice"),
        (("subscales", 0, "items"), [4], "unknown item 4"),
        (("flags",), {}, "must be a list"),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    with pytest.raises(InstrumentFileError, match=r"demo\.json") as caught:
        parse_instrument(broken(path, value), "demo.json")
    assert expected in str(caught.value)


def test_domain_files_must_cover_every_item_once() -> None:
    data = minimal()
    data["scoring"] = "domains"
    data["domains"] = [{"code": "x", "label": "X", "items": [1, 2]}]
    with pytest.raises(InstrumentFileError, match="item 3 is in no domain"):
        parse_instrument(data)
    data["domains"].append({"code": "y", "label": "Y", "items": [2, 3]})
    with pytest.raises(InstrumentFileError, match="two domains"):
        parse_instrument(data)


def test_not_json_and_unreadable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InstrumentFileError, match=r"bad.json: is not valid JSON \(line 1"):
        load_instrument(bad)
    with pytest.raises(InstrumentFileError, match="cannot be read"):
        load_instrument(tmp_path / "missing.json")
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InstrumentFileError, match="not UTF-8"):
        load_instrument(bad)
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(InstrumentFileError, match="must be an object"):
        load_instrument(bad)


def test_duplicate_codes_in_a_directory(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(minimal()), encoding="utf-8")
    expected = r"b\.json: code 'demo' is already used by a\.json"
    with pytest.raises(InstrumentFileError, match=expected):
        load_instruments(tmp_path)


def test_licensed_file_replaces_nothing_silently(tmp_path: Path) -> None:
    # A clinic's own directory loads alone; only json files count.
    (tmp_path / "demo.json").write_text(json.dumps(minimal()), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an instrument", encoding="utf-8")
    assert list(load_instruments(tmp_path)) == ["demo"]
