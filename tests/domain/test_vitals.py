"""Vital signs: typing errors, alarms, pre-dose hold/warn, discharge (domain.md section 3)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapp.domain.enums import AlertSeverity
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import (
    AlertFinding,
    VitalsInput,
    discharge_problems,
    mean_arterial_pressure,
    parse_number,
    predose_findings,
    session_alerts,
    vitals_problems,
    weight_problems,
)

P = Protocol()
NORMAL = VitalsInput(
    hr=72, systolic=120, diastolic=80, spo2=98, rr=14, temperature_c=36.8, etco2_mmhg=38
)


def fields(errors: list) -> list[str]:
    return [e.field for e in errors]


# -- Plausibility --------------------------------------------------------------------------


def test_normal_vitals_have_no_problems() -> None:
    assert vitals_problems(NORMAL, P) == []


def test_empty_reading_is_refused() -> None:
    errors = vitals_problems(VitalsInput(), P)
    assert fields(errors) == ["vitals"]
    assert errors[0].message == "Enter at least one vital sign"


def test_single_value_is_enough() -> None:
    assert vitals_problems(VitalsInput(spo2=97), P) == []


def test_heart_rate_message_names_field_and_range() -> None:
    errors = vitals_problems(replace(NORMAL, hr=1200), P)
    assert fields(errors) == ["hr"]
    assert errors[0].message == "Heart rate must be between 20 and 250 /min; got 1200"
    assert errors[0].allowed == "20-250 /min"


@pytest.mark.parametrize(
    ("field", "low", "high", "label"),
    [
        ("hr", 20, 250, "Heart rate"),
        ("systolic", 50, 300, "Systolic"),
        ("diastolic", 20, 200, "Diastolic"),
        ("spo2", 50, 100, "SpO2"),
        ("rr", 4, 60, "Respiratory rate"),
        ("temperature_c", 30, 43, "Temperature"),
        ("etco2_mmhg", 5, 100, "End-tidal CO2"),
    ],
)
def test_plausible_limits_are_inclusive(field: str, low: float, high: float, label: str) -> None:
    # Keep diastolic below systolic so that only the field under test can fail.
    base = replace(NORMAL, systolic=300, diastolic=20)
    assert vitals_problems(replace(base, **{field: low}), P) == []
    assert vitals_problems(replace(base, **{field: high}), P) == []
    for bad in (low - 0.5, high + 0.5):
        errors = [e for e in vitals_problems(replace(base, **{field: bad}), P) if e.field == field]
        assert len(errors) == 1
        assert errors[0].message.startswith(f"{label} must be between")


@pytest.mark.parametrize("bad", [True, False, math.nan, math.inf, -math.inf, "72", [72]])
def test_non_numbers_refused(bad: object) -> None:
    errors = vitals_problems(replace(NORMAL, hr=bad), P)  # type: ignore[arg-type]
    assert fields(errors) == ["hr"]
    assert "must be a" in errors[0].message
    assert errors[0].allowed == "20-250 /min"


def test_limits_come_from_protocol() -> None:
    custom = replace(P, plausible_hr_max=300)
    assert vitals_problems(replace(NORMAL, hr=280), custom) == []


def test_diastolic_must_be_below_systolic() -> None:
    errors = vitals_problems(replace(NORMAL, systolic=110, diastolic=120), P)
    assert fields(errors) == ["diastolic"]
    assert errors[0].message == "Diastolic (120) must be lower than systolic (110)"
    assert fields(vitals_problems(replace(NORMAL, systolic=110, diastolic=110), P)) == ["diastolic"]


def test_systolic_and_diastolic_come_together() -> None:
    assert fields(vitals_problems(VitalsInput(systolic=120), P)) == ["diastolic"]
    assert fields(vitals_problems(VitalsInput(diastolic=80), P)) == ["systolic"]


@pytest.mark.parametrize("value", [86, 98.6, 101.3, 109.4])
def test_temperature_in_fahrenheit_is_pointed_out(value: float) -> None:
    errors = vitals_problems(replace(NORMAL, temperature_c=value), P)
    assert fields(errors) == ["temperature_c"]
    assert "looks like Fahrenheit" in errors[0].message
    assert errors[0].allowed == "30-43 °C"


@pytest.mark.parametrize("value", [50, 85, 115, 370])
def test_other_temperature_errors_are_plain(value: float) -> None:
    errors = vitals_problems(replace(NORMAL, temperature_c=value), P)
    assert errors[0].message == f"Temperature must be between 30 and 43 °C; got {value}"


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_never_crashes_and_accepts_only_plausible(value: float) -> None:
    errors = vitals_problems(VitalsInput(hr=value), P)
    assert (errors == []) == (math.isfinite(value) and 20 <= value <= 250)


# -- Weight --------------------------------------------------------------------------------


def test_weight_problems() -> None:
    assert weight_problems(80, P) == []
    assert weight_problems(20, P) == []
    assert weight_problems(350, P) == []
    errors = weight_problems(400, P, field="weight_kg")
    assert fields(errors) == ["weight_kg"]
    assert errors[0].message == "Weight must be between 20 and 350 kg; got 400"
    assert fields(weight_problems(True, P)) == ["weight"]
    assert fields(weight_problems(math.nan, P)) == ["weight"]


# -- Parsing typed numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("36.8", 36.8),
        (" 36,8 ", 36.8),
        ("120", 120.0),
        ("１２０", 120.0),
        ("３６，８", 36.8),
        ("３６．８", 36.8),
        (".5", 0.5),
        ("-3", -3.0),
        ("\u22123", -3.0),
        ("7.", 7.0),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_parse_empty_is_none(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "text", ["abc", "12O", "nan", "inf", "1,234.5", "1,2,3", "1e3", "--1", "120/80", "36 8"]
)
def test_parse_junk_raises(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_number(text)


# -- Mean arterial pressure ----------------------------------------------------------------


def test_mean_arterial_pressure() -> None:
    assert mean_arterial_pressure(120, 80) == pytest.approx(93.333, abs=0.001)
    assert mean_arterial_pressure(90, 60) == pytest.approx(70)


# -- Alarms during the session -------------------------------------------------------------


def rules(findings: list[AlertFinding]) -> list[str]:
    return [f.rule for f in findings]


def test_normal_vitals_raise_no_alert() -> None:
    assert session_alerts(NORMAL, P) == []


def test_systolic_alert_message() -> None:
    (finding,) = session_alerts(replace(NORMAL, systolic=182), P)
    assert finding == AlertFinding(
        "systolic_high",
        "systolic",
        182,
        180,
        AlertSeverity.ALERT,
        "Systolic 182 mmHg is at or above the alert level of 180 mmHg",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"systolic": 180}, ["systolic_high"]),
        ({"systolic": 179}, []),
        ({"diastolic": 110}, ["diastolic_high"]),
        ({"diastolic": 109}, []),
        ({"hr": 120}, ["hr_high"]),
        ({"hr": 119}, []),
        ({"hr": 50}, ["hr_low"]),
        ({"hr": 51}, []),
        ({"spo2": 91}, ["spo2_low"]),
        ({"spo2": 92}, []),
        ({"rr": 9}, ["rr_low"]),
        ({"rr": 10}, []),
        (
            {"systolic": 200, "diastolic": 120, "spo2": 88},
            ["systolic_high", "diastolic_high", "spo2_low"],
        ),
    ],
)
def test_alert_boundaries(change: dict[str, float], expected: list[str]) -> None:
    assert rules(session_alerts(replace(NORMAL, **change), P)) == expected


def test_alert_messages() -> None:
    findings = session_alerts(VitalsInput(hr=45, spo2=90, rr=8), P)
    assert [f.message for f in findings] == [
        "Heart rate 45 /min is at or below the alert level of 50 /min",
        "SpO2 90 % is below the alert level of 92 %",
        "Respiratory rate 8 /min is below the alert level of 10 /min",
    ]
    assert all(f.severity is AlertSeverity.ALERT for f in findings)


def test_alert_thresholds_come_from_protocol() -> None:
    custom = replace(P, alert_systolic_at_or_above=170)
    assert rules(session_alerts(replace(NORMAL, systolic=172), custom)) == ["systolic_high"]


def test_alerts_skip_missing_and_junk_values() -> None:
    assert session_alerts(VitalsInput(hr=math.nan, spo2=None), P) == []  # type: ignore[arg-type]


# -- Before dosing -------------------------------------------------------------------------


def test_predose_hold_message() -> None:
    (finding,) = predose_findings(VitalsInput(systolic=165, diastolic=95), P)
    assert finding.rule == "predose_systolic_hold"
    assert finding.severity is AlertSeverity.HOLD
    assert (finding.value, finding.threshold) == (165, 160)
    assert finding.message == (
        "Blood pressure 165/95 mmHg is above the hold level of 160/100: do not start"
    )


def test_predose_warn_message() -> None:
    (finding,) = predose_findings(VitalsInput(systolic=145, diastolic=85), P)
    assert finding.rule == "predose_systolic_warn"
    assert finding.severity is AlertSeverity.WARN
    assert finding.message == (
        "Blood pressure 145/85 mmHg is above the warning level of 140/90: "
        "consider delaying the dose"
    )


@pytest.mark.parametrize(
    ("bp", "expected"),
    [
        ((140, 90), []),  # "above" is strictly greater
        ((141, 90), ["predose_systolic_warn"]),
        ((140, 91), ["predose_diastolic_warn"]),
        ((150, 95), ["predose_systolic_warn", "predose_diastolic_warn"]),
        ((160, 100), ["predose_systolic_warn", "predose_diastolic_warn"]),
        ((161, 95), ["predose_systolic_hold"]),  # hold wins; the diastolic warning is not listed
        ((150, 101), ["predose_diastolic_hold"]),
        ((170, 105), ["predose_systolic_hold", "predose_diastolic_hold"]),
        ((120, 80), []),
    ],
)
def test_predose_levels(bp: tuple[float, float], expected: list[str]) -> None:
    systolic, diastolic = bp
    assert rules(predose_findings(VitalsInput(systolic=systolic, diastolic=diastolic), P)) == (
        expected
    )


def test_predose_without_blood_pressure() -> None:
    assert predose_findings(VitalsInput(hr=70), P) == []


def test_predose_systolic_only() -> None:
    (finding,) = predose_findings(VitalsInput(systolic=170), P)
    assert finding.message == "Systolic 170 mmHg is above the hold level of 160 mmHg: do not start"


def test_predose_thresholds_come_from_protocol() -> None:
    strict = replace(P, predose_warn_systolic=130)
    assert rules(predose_findings(VitalsInput(systolic=135, diastolic=80), strict)) == [
        "predose_systolic_warn"
    ]


# -- Discharge -----------------------------------------------------------------------------


BASELINE = VitalsInput(hr=70, systolic=130, diastolic=80, spo2=98)


def test_back_to_baseline() -> None:
    latest = VitalsInput(hr=90, systolic=150, diastolic=95, spo2=94)  # all at the margins
    assert discharge_problems(latest, BASELINE, P) == []


def test_not_yet_near_baseline() -> None:
    latest = VitalsInput(hr=49, systolic=151, diastolic=96, spo2=93)
    assert discharge_problems(latest, BASELINE, P) == [
        "Systolic 151 mmHg is more than 20 mmHg above the baseline of 130 mmHg",
        "Diastolic 96 mmHg is more than 15 mmHg above the baseline of 80 mmHg",
        "Heart rate 49 /min is more than 20 /min away from the baseline of 70 /min",
        "SpO2 93 % is below the discharge level of 94 %",
    ]


def test_low_pressure_is_not_a_discharge_reason() -> None:
    latest = VitalsInput(hr=70, systolic=100, diastolic=60, spo2=98)
    assert discharge_problems(latest, BASELINE, P) == []


def test_missing_values_are_reasons() -> None:
    reasons = discharge_problems(VitalsInput(), BASELINE, P)
    assert reasons == [
        "Systolic not measured in the latest vitals",
        "Diastolic not measured in the latest vitals",
        "Heart rate not measured in the latest vitals",
        "SpO2 not measured in the latest vitals",
    ]
    reasons = discharge_problems(BASELINE, VitalsInput(spo2=98), P)
    assert "No baseline systolic recorded to compare with" in reasons
    assert "No baseline heart rate recorded to compare with" in reasons


def test_discharge_margins_come_from_protocol() -> None:
    strict = replace(P, discharge_systolic_margin_mmhg=10)
    latest = VitalsInput(hr=70, systolic=145, diastolic=80, spo2=98)
    assert len(discharge_problems(latest, BASELINE, strict)) == 1
