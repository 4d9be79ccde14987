"""Vital signs: typing-error checks, alarms during a session, pre-dose and discharge rules.

Plausibility and alarms are different questions. A heart rate of 1200 is a typing error
and is refused; a heart rate of 130 is real and raises an alert the nurse must answer.
Every limit comes from the clinic's ``Protocol`` so that an administrator can change it.
"""

from __future__ import annotations

import math
import operator
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from kapp.domain.enums import AlertSeverity
from kapp.domain.errors import FieldError
from kapp.domain.protocol import Protocol

#: Field name used when the problem is with the reading as a whole (nothing entered).
WHOLE_READING = "vitals"


def fmt(value: float) -> str:
    """A number as a nurse would write it: ``120`` not ``120.0``, ``36.8`` not ``36.80``."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def is_number(value: Any) -> bool:
    """True for a finite int or float; bool is refused although Python counts it as int."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def number_problem(field: str, label: str, value: Any, allowed: str) -> FieldError | None:
    """The error for a value that is not a usable number, or None if it is one.

    Strings are refused too: text must pass through ``parse_number`` at the screen, so a
    stray ``"12O"`` never reaches the clinical rules.
    """
    if is_number(value):
        return None
    if not isinstance(value, bool) and isinstance(value, int | float):
        got = "not a number" if math.isnan(value) else "an infinite value"
        return FieldError(field, f"{label} must be a finite number; got {got}", allowed)
    return FieldError(field, f"{label} must be a number; got {value!r}", allowed)


def range_problem(
    field: str, label: str, value: Any, low: float, high: float, unit: str
) -> FieldError | None:
    """The error for a value that is not a number in ``[low, high]``, or None."""
    allowed = f"{fmt(low)}-{fmt(high)} {unit}"
    problem = number_problem(field, label, value, allowed)
    if problem is not None:
        return problem
    if not low <= value <= high:
        return FieldError(
            field,
            f"{label} must be between {fmt(low)} and {fmt(high)} {unit}; got {fmt(value)}",
            allowed,
        )
    return None


@dataclass(frozen=True, slots=True)
class VitalsInput:
    """One set of vital signs as typed or received; any value may be missing."""

    hr: float | None = None
    systolic: float | None = None
    diastolic: float | None = None
    spo2: float | None = None
    rr: float | None = None
    temperature_c: float | None = None
    etco2_mmhg: float | None = None


@dataclass(frozen=True, slots=True)
class _Spec:
    label: str
    unit: str
    low_key: str
    high_key: str


_SPECS: dict[str, _Spec] = {
    "hr": _Spec("Heart rate", "/min", "plausible_hr_min", "plausible_hr_max"),
    "systolic": _Spec("Systolic", "mmHg", "plausible_systolic_min", "plausible_systolic_max"),
    "diastolic": _Spec("Diastolic", "mmHg", "plausible_diastolic_min", "plausible_diastolic_max"),
    "spo2": _Spec("SpO2", "%", "plausible_spo2_min", "plausible_spo2_max"),
    "rr": _Spec("Respiratory rate", "/min", "plausible_rr_min", "plausible_rr_max"),
    "temperature_c": _Spec("Temperature", "°C", "plausible_temp_min_c", "plausible_temp_max_c"),
    "etco2_mmhg": _Spec("End-tidal CO2", "mmHg", "plausible_etco2_min", "plausible_etco2_max"),
}


def _c_to_f(celsius: float) -> float:
    return celsius * 9 / 5 + 32


def _fahrenheit_hint(value: float, protocol: Protocol) -> FieldError | None:
    """A temperature that would be plausible in °F was probably typed in °F.

    It is never converted silently: the nurse may have meant something else, and a
    wrong guess would be recorded as a measured value.
    """
    low_f = _c_to_f(protocol.plausible_temp_min_c)
    high_f = _c_to_f(protocol.plausible_temp_max_c)
    if not low_f <= value <= high_f:
        return None
    low, high = protocol.plausible_temp_min_c, protocol.plausible_temp_max_c
    return FieldError(
        "temperature_c",
        f"Temperature {fmt(value)} looks like Fahrenheit; enter it in °C "
        f"(between {fmt(low)} and {fmt(high)} °C)",
        f"{fmt(low)}-{fmt(high)} °C",
    )


def vitals_problems(v: VitalsInput, protocol: Protocol) -> list[FieldError]:
    """Typing errors in one set of vitals; an empty list means the set can be saved.

    Systolic and diastolic must come together because a lone half of a blood pressure
    cannot be charted, alarmed on or exported as a blood-pressure panel.
    """
    errors: list[FieldError] = []
    values = {name: getattr(v, name) for name in _SPECS}
    if all(value is None for value in values.values()):
        return [FieldError(WHOLE_READING, "Enter at least one vital sign")]
    valid: dict[str, float] = {}
    for name, spec in _SPECS.items():
        value = values[name]
        if value is None:
            continue
        low, high = getattr(protocol, spec.low_key), getattr(protocol, spec.high_key)
        problem = range_problem(name, spec.label, value, low, high, spec.unit)
        if problem is not None and name == "temperature_c" and is_number(value):
            problem = _fahrenheit_hint(value, protocol) or problem
        if problem is None:
            valid[name] = value
        else:
            errors.append(problem)
    systolic, diastolic = values["systolic"], values["diastolic"]
    if systolic is not None and diastolic is None:
        errors.append(
            FieldError("diastolic", "Diastolic is missing: enter systolic and diastolic together")
        )
    if diastolic is not None and systolic is None:
        errors.append(
            FieldError("systolic", "Systolic is missing: enter systolic and diastolic together")
        )
    if "systolic" in valid and "diastolic" in valid and valid["diastolic"] >= valid["systolic"]:
        errors.append(
            FieldError(
                "diastolic",
                f"Diastolic ({fmt(valid['diastolic'])}) must be lower than "
                f"systolic ({fmt(valid['systolic'])})",
                f"below {fmt(valid['systolic'])} mmHg",
            )
        )
    return errors


def weight_problems(weight_kg: Any, protocol: Protocol, field: str = "weight") -> list[FieldError]:
    """Typing errors in a body weight in kilograms (convert pounds first with ``to_kg``)."""
    problem = range_problem(
        field,
        "Weight",
        weight_kg,
        protocol.plausible_weight_min_kg,
        protocol.plausible_weight_max_kg,
        "kg",
    )
    return [] if problem is None else [problem]


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def parse_number(text: str) -> float | None:
    """A number typed by a person, or None for an empty field.

    Accepts a decimal comma (``36,8``) and full-width digits from Asian keyboards, since
    nurses type what their keyboard gives them. Refuses anything else, including
    ``nan``, ``inf`` and thousands separators, rather than guess.

    Raises:
        ValueError: the text is not a plain number; the message can be shown as is.
    """
    cleaned = unicodedata.normalize("NFKC", text).strip().replace("\u2212", "-")
    if not cleaned:
        return None
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.fullmatch(cleaned):
        raise ValueError(
            f"{text.strip()!r} is not a number; type digits with a decimal point or comma, "
            "for example 36.8"
        )
    return float(cleaned)


def mean_arterial_pressure(systolic: float, diastolic: float) -> float:
    """Mean arterial pressure by the usual estimate: diastolic plus a third of the pulse
    pressure (monitors that measure it directly send their own value)."""
    return diastolic + (systolic - diastolic) / 3


@dataclass(frozen=True, slots=True)
class AlertFinding:
    """One rule that a reading broke, with the numbers needed to explain it."""

    rule: str
    field: str
    value: float
    threshold: float
    severity: AlertSeverity
    message: str


def _usable(value: Any) -> float | None:
    return value if is_number(value) else None


@dataclass(frozen=True, slots=True)
class _SessionRule:
    rule: str
    field: str
    label: str
    unit: str
    level: str  # the protocol setting that holds the alert level
    relation: str  # in words, for the alert's message
    sign: str  # the same, short, for a line that lists several alerts

    def broken_by(self, value: float, level: float) -> bool:
        return _BROKEN_BY[self.sign](value, level)


_BROKEN_BY = {"≥": operator.ge, "≤": operator.le, "<": operator.lt}


_SESSION_RULES = (
    _SessionRule("systolic_high", "systolic", "Systolic", "mmHg",
                 "alert_systolic_at_or_above", "at or above", "≥"),
    _SessionRule("diastolic_high", "diastolic", "Diastolic", "mmHg",
                 "alert_diastolic_at_or_above", "at or above", "≥"),
    _SessionRule("hr_high", "hr", "Heart rate", "/min", "alert_hr_at_or_above",
                 "at or above", "≥"),
    _SessionRule("hr_low", "hr", "Heart rate", "/min", "alert_hr_at_or_below",
                 "at or below", "≤"),
    _SessionRule("spo2_low", "spo2", "SpO2", "%", "alert_spo2_below", "below", "<"),
    _SessionRule("rr_low", "rr", "Respiratory rate", "/min", "alert_rr_below", "below", "<"),
)


def session_alerts(v: VitalsInput, protocol: Protocol) -> list[AlertFinding]:
    """Alarms for a reading taken during the session.

    Values that are missing or not numbers are skipped: ``vitals_problems`` refuses those
    before a reading is saved, and an alarm must never crash on a half-filled reading.
    """
    findings: list[AlertFinding] = []
    for r in _SESSION_RULES:
        value, level = _usable(getattr(v, r.field)), getattr(protocol, r.level)
        if value is not None and r.broken_by(value, level):
            message = (f"{r.label} {fmt(value)} {r.unit} is {r.relation} the alert level of "
                       f"{fmt(level)} {r.unit}")
            findings.append(
                AlertFinding(r.rule, r.field, value, level, AlertSeverity.ALERT, message))
    return findings


def alert_brief(rule: str, value: float | None, threshold: float | None) -> str | None:
    """An alert in a few words, for a line that lists all a reading raised ("Systolic
    196 mmHg (≥ 180)"); None for a rule with no short form (say its message instead)."""
    found = next((r for r in _SESSION_RULES if r.rule == rule), None)
    if found is None or value is None or threshold is None:
        return None
    return f"{found.label} {fmt(value)} {found.unit} ({found.sign} {fmt(threshold)})"


def predose_findings(v: VitalsInput, protocol: Protocol) -> list[AlertFinding]:
    """Blood pressure before dosing: HOLD (do not start) or WARN (consider delaying).

    "Above" is strictly greater, as in the esketamine label's wording. When any part of
    the pressure is at HOLD, warnings are not listed: the answer is already "do not start".
    """
    systolic, diastolic = _usable(v.systolic), _usable(v.diastolic)
    if systolic is not None and diastolic is not None:
        bp = f"Blood pressure {fmt(systolic)}/{fmt(diastolic)} mmHg"
    elif systolic is not None:
        bp = f"Systolic {fmt(systolic)} mmHg"
    elif diastolic is not None:
        bp = f"Diastolic {fmt(diastolic)} mmHg"
    else:
        return []
    p = protocol
    levels = [
        (
            AlertSeverity.HOLD,
            "hold",
            p.predose_hold_systolic,
            p.predose_hold_diastolic,
            "do not start",
        ),
        (
            AlertSeverity.WARN,
            "warn",
            p.predose_warn_systolic,
            p.predose_warn_diastolic,
            "consider delaying the dose",
        ),
    ]
    for severity, word, sys_limit, dia_limit, advice in levels:
        level_name = "hold level" if severity is AlertSeverity.HOLD else "warning level"
        if systolic is not None and diastolic is not None:
            limit_text = f"{fmt(sys_limit)}/{fmt(dia_limit)}"
        elif systolic is not None:
            limit_text = f"{fmt(sys_limit)} mmHg"
        else:
            limit_text = f"{fmt(dia_limit)} mmHg"
        message = f"{bp} is above the {level_name} of {limit_text}: {advice}"
        findings = [
            AlertFinding(f"predose_{field}_{word}", field, value, limit, severity, message)
            for field, value, limit in (
                ("systolic", systolic, sys_limit),
                ("diastolic", diastolic, dia_limit),
            )
            if value is not None and value > limit
        ]
        if findings:
            return findings
    return []


def discharge_problems(latest: VitalsInput, baseline: VitalsInput, protocol: Protocol) -> list[str]:
    """Why the latest vitals are not yet near the pre-dose baseline; empty means they are.

    Blood pressure only counts when it is too high (a pressure below baseline is not what
    ketamine does, and is judged by the nurse); heart rate counts both ways. A missing
    value is a reason too, since "near baseline" cannot be shown without it.
    """
    p = protocol
    reasons: list[str] = []
    for field, label, margin in (
        ("systolic", "Systolic", p.discharge_systolic_margin_mmhg),
        ("diastolic", "Diastolic", p.discharge_diastolic_margin_mmhg),
    ):
        now, base = _usable(getattr(latest, field)), _usable(getattr(baseline, field))
        if base is None:
            reasons.append(f"No baseline {field} recorded to compare with")
        elif now is None:
            reasons.append(f"{label} not measured in the latest vitals")
        elif now > base + margin:
            reasons.append(
                f"{label} {fmt(now)} mmHg is more than {fmt(margin)} mmHg above "
                f"the baseline of {fmt(base)} mmHg"
            )
    now, base = _usable(latest.hr), _usable(baseline.hr)
    margin = p.discharge_hr_margin_bpm
    if base is None:
        reasons.append("No baseline heart rate recorded to compare with")
    elif now is None:
        reasons.append("Heart rate not measured in the latest vitals")
    elif abs(now - base) > margin:
        reasons.append(
            f"Heart rate {fmt(now)} /min is more than {fmt(margin)} /min away from "
            f"the baseline of {fmt(base)} /min"
        )
    spo2 = _usable(latest.spo2)
    if spo2 is None:
        reasons.append("SpO2 not measured in the latest vitals")
    elif spo2 < p.discharge_min_spo2:
        reasons.append(
            f"SpO2 {fmt(spo2)} % is below the discharge level of {fmt(p.discharge_min_spo2)} %"
        )
    return reasons
