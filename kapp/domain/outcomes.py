"""Progress over a course: change from baseline, response, remission, pain relief.

Definitions follow ``shared/docs/domain.md`` section 6, with every cut-off taken from the
clinic's ``Protocol``. "Not known" (None) is kept apart from "no": a course without a
baseline score has not failed to respond, it simply cannot be judged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from kapp.domain.protocol import Protocol

PAIN_NRS = "pain_nrs"


def _check(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} score must be a finite number; got {value!r}")
    return float(value)


def percent_change(baseline: float | None, latest: float | None) -> float | None:
    """Change from baseline in percent (negative = the score fell), or None when it
    cannot be computed (no baseline, a baseline of 0, or no latest score)."""
    base, last = _check("Baseline", baseline), _check("Latest", latest)
    if base is None or last is None or base == 0:
        return None
    return (last - base) / base * 100


def _fell_by(baseline: float | None, latest: float | None, fraction: float) -> bool | None:
    base, last = _check("Baseline", baseline), _check("Latest", latest)
    if base is None or last is None or base <= 0:
        return None
    fall = (base - last) / base
    # isclose: 20 -> 10 is exactly a 50% fall and must count, whatever the float rounding.
    return fall >= fraction or math.isclose(fall, fraction, rel_tol=1e-9, abs_tol=1e-12)


def is_response(baseline: float | None, latest: float | None, protocol: Protocol) -> bool | None:
    """True when the score fell by at least ``response_fall_fraction`` of baseline
    (50% by default); None without a usable baseline (missing or 0)."""
    return _fell_by(baseline, latest, protocol.response_fall_fraction)


def pain_relief(baseline: float | None, latest: float | None, protocol: Protocol) -> bool | None:
    """True when pain fell by at least ``pain_relief_fall_fraction`` (30% by default)."""
    return _fell_by(baseline, latest, protocol.pain_relief_fall_fraction)


_REMISSION: dict[str, Callable[[float, Protocol], bool]] = {
    "phq9": lambda total, p: total < p.remission_phq9_below,
    "madrs": lambda total, p: total <= p.remission_madrs_at_or_below,
    "qids_sr16": lambda total, p: total <= p.remission_qids_at_or_below,
}


def is_remission(instrument_code: str, total: float | None, protocol: Protocol) -> bool | None:
    """Whether a total counts as remission; None for instruments without a remission rule
    (anxiety, pain, dissociation) or when there is no total."""
    rule = _REMISSION.get(instrument_code)
    value = _check("Total", total)
    if rule is None or value is None:
        return None
    return rule(value, protocol)


@dataclass(frozen=True, slots=True)
class CourseOutcome:
    """How one instrument moved over a course, ready for a chart or a report."""

    instrument_code: str
    baseline: float | None
    latest: float | None
    percent_change: float | None
    response: bool | None
    remission: bool | None


def course_outcome(
    instrument_code: str, baseline: float | None, latest: float | None, protocol: Protocol
) -> CourseOutcome:
    """The outcome of a course for one instrument.

    For the pain scale, "response" means meaningful pain relief, which has its own,
    smaller cut-off; everything else uses the depression response rule.
    """
    if instrument_code == PAIN_NRS:
        response = pain_relief(baseline, latest, protocol)
    else:
        response = is_response(baseline, latest, protocol)
    return CourseOutcome(
        instrument_code=instrument_code,
        baseline=baseline,
        latest=latest,
        percent_change=percent_change(baseline, latest),
        response=response,
        remission=is_remission(instrument_code, latest, protocol),
    )
