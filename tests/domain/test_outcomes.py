"""Response, remission and pain relief (domain.md section 6), with hand-worked numbers."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapp.domain.outcomes import (
    CourseOutcome,
    course_outcome,
    is_remission,
    is_response,
    pain_relief,
    percent_change,
)
from kapp.domain.protocol import Protocol

P = Protocol()


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (20, 10, -50.0),
        (20, 11, -45.0),
        (20, 25, 25.0),
        (8, 8, 0.0),
        (10, 0, -100.0),
        (0, 5, None),
        (None, 5, None),
        (20, None, None),
    ],
)
def test_percent_change(
    baseline: float | None, latest: float | None, expected: float | None
) -> None:
    result = percent_change(baseline, latest)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (20, 10, True),  # -50 %: exactly the cut-off counts
        (20, 11, False),  # -45 %
        (20, 0, True),
        (27, 13, True),  # -51.9 %
        (27, 14, False),  # -48.1 %
        (20, 25, False),  # worse
        (None, 10, None),
        (0, 0, None),  # no symptoms at baseline: response cannot be judged
        (20, None, None),
    ],
)
def test_is_response(baseline: float | None, latest: float | None, expected: bool | None) -> None:
    assert is_response(baseline, latest, P) is expected


def test_response_fraction_comes_from_protocol() -> None:
    strict = replace(P, response_fall_fraction=0.6)
    assert is_response(20, 10, strict) is False
    assert is_response(20, 8, strict) is True


@pytest.mark.parametrize(
    ("code", "total", "expected"),
    [
        ("phq9", 4, True),
        ("phq9", 5, False),
        ("phq9", 0, True),
        ("madrs", 10, True),
        ("madrs", 11, False),
        ("qids_sr16", 5, True),
        ("qids_sr16", 6, False),
        ("gad7", 2, None),
        ("pain_nrs", 0, None),
        ("cadss", 0, None),
        ("phq9", None, None),
    ],
)
def test_is_remission(code: str, total: float | None, expected: bool | None) -> None:
    assert is_remission(code, total, P) is expected


def test_remission_cut_offs_come_from_protocol() -> None:
    custom = replace(P, remission_madrs_at_or_below=12, remission_phq9_below=10)
    assert is_remission("madrs", 12, custom) is True
    assert is_remission("phq9", 9, custom) is True


@pytest.mark.parametrize(
    ("baseline", "latest", "expected"),
    [
        (10, 7, True),  # -30 %: exactly the cut-off
        (10, 8, False),  # -20 %
        (7, 5, False),  # -28.6 %
        (7, 4, True),  # -42.9 %
        (0, 0, None),
        (None, 3, None),
    ],
)
def test_pain_relief(baseline: float | None, latest: float | None, expected: bool | None) -> None:
    assert pain_relief(baseline, latest, P) is expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, "20"])
def test_bad_scores_raise(bad: object) -> None:
    with pytest.raises(ValueError):
        percent_change(bad, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        is_remission("phq9", bad, P)  # type: ignore[arg-type]


def test_course_outcome_phq9() -> None:
    assert course_outcome("phq9", 20, 4, P) == CourseOutcome(
        instrument_code="phq9",
        baseline=20,
        latest=4,
        percent_change=pytest.approx(-80.0),  # type: ignore[arg-type]
        response=True,
        remission=True,
    )


def test_course_outcome_pain_uses_pain_relief() -> None:
    outcome = course_outcome("pain_nrs", 8, 5, P)  # -37.5 %: relief, though not a 50 % fall
    assert outcome.response is True
    assert outcome.remission is None
    assert course_outcome("phq9", 8, 5, P).response is False


def test_course_outcome_without_baseline() -> None:
    outcome = course_outcome("madrs", None, 9, P)
    assert (outcome.percent_change, outcome.response, outcome.remission) == (None, None, True)


@given(st.integers(1, 60), st.integers(0, 60))
def test_response_agrees_with_percent_change(baseline: int, latest: int) -> None:
    change = percent_change(baseline, latest)
    assert change is not None
    assert is_response(baseline, latest, P) is (change <= -50 or math.isclose(change, -50))
