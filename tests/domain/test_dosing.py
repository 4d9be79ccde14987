"""Dose arithmetic, dose checks and the pump history (worked examples: domain.md section 2)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapp.domain.dosing import (
    KG_PER_LB,
    Delivery,
    PumpEvent,
    continuous_rate_ml_per_h,
    delivered,
    dose_mg,
    dose_outside_protocol,
    dose_plan_problems,
    mg_per_kg_per_h,
    micrograms_per_kg_per_min,
    plan_iv_dose,
    pump_event_problems,
    rate_ml_per_h,
    to_kg,
    volume_ml,
)
from kapp.domain.enums import Drug, InfusionEventKind, Route, WeightUnit
from kapp.domain.protocol import Protocol

P = Protocol()
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
K = InfusionEventKind


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# -- Worked examples -----------------------------------------------------------------------


def test_dose_80kg_half_mg_per_kg_is_40mg() -> None:
    assert dose_mg(0.5, 80) == pytest.approx(40)


def test_40mg_at_1mg_per_ml_over_40min_is_60ml_per_h() -> None:
    assert rate_ml_per_h(40, 1, 40) == pytest.approx(60)


def test_40mg_in_100ml_bag_over_40min_is_150ml_per_h() -> None:
    assert volume_ml(40, 0.4) == pytest.approx(100)
    assert rate_ml_per_h(40, 0.4, 40) == pytest.approx(150)


def test_continuous_pain_infusion() -> None:
    rate = continuous_rate_ml_per_h(0.35, 70, 1)
    assert rate == pytest.approx(24.5)
    assert rate * 4 * 1 == pytest.approx(98)  # mg over 4 h at 1 mg/mL


def test_half_mg_per_kg_over_40min_rates() -> None:
    assert mg_per_kg_per_h(0.5, 40) == pytest.approx(0.75)
    assert micrograms_per_kg_per_min(0.5, 40) == pytest.approx(12.5)


def test_plan_iv_dose_standard() -> None:
    plan = plan_iv_dose(weight_kg=80, mg_per_kg=0.5, concentration_mg_per_ml=0.4, duration_min=40)
    assert plan.dose_mg == pytest.approx(40)
    assert plan.volume_ml == pytest.approx(100)
    assert plan.rate_ml_per_h == pytest.approx(150)
    assert plan.mg_per_kg_per_h == pytest.approx(0.75)
    assert plan.micrograms_per_kg_per_min == pytest.approx(12.5)
    assert (plan.weight_kg, plan.mg_per_kg, plan.duration_min) == (80, 0.5, 40)


def test_plan_slow_infusion_over_100min() -> None:
    plan = plan_iv_dose(weight_kg=80, mg_per_kg=0.5, concentration_mg_per_ml=1, duration_min=100)
    assert plan.rate_ml_per_h == pytest.approx(24)


def test_plan_is_frozen() -> None:
    plan = plan_iv_dose(weight_kg=80, mg_per_kg=0.5, concentration_mg_per_ml=1, duration_min=40)
    with pytest.raises(AttributeError):
        plan.dose_mg = 1  # type: ignore[misc]


# -- Units and bad arguments ---------------------------------------------------------------


def test_pounds_to_kg() -> None:
    assert to_kg(1, WeightUnit.LB) == KG_PER_LB == 0.45359237
    assert to_kg(176.37, WeightUnit.LB) == pytest.approx(80, abs=0.01)
    assert to_kg(80, WeightUnit.KG) == 80


@pytest.mark.parametrize("bad", [math.nan, math.inf, True, "80"])
def test_to_kg_refuses_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError):
        to_kg(bad, WeightUnit.KG)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, None])
def test_arithmetic_refuses_bad_values(bad: object) -> None:
    with pytest.raises(ValueError):
        rate_ml_per_h(40, 1, bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        dose_mg(bad, 80)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        volume_ml(40, bad)  # type: ignore[arg-type]


@given(
    weight=st.floats(20, 350),
    per_kg=st.floats(0.05, 2),
    conc=st.floats(0.1, 50),
    minutes=st.floats(5, 480),
)
def test_plan_round_trips(weight: float, per_kg: float, conc: float, minutes: float) -> None:
    plan = plan_iv_dose(
        weight_kg=weight, mg_per_kg=per_kg, concentration_mg_per_ml=conc, duration_min=minutes
    )
    # The pump rate for the planned time gives back the planned dose.
    assert plan.rate_ml_per_h * minutes / 60 * conc == pytest.approx(plan.dose_mg)
    assert plan.mg_per_kg_per_h * weight * minutes / 60 == pytest.approx(plan.dose_mg)
    assert plan.micrograms_per_kg_per_min * 60 / 1000 == pytest.approx(plan.mg_per_kg_per_h)


# -- Hard dose errors ----------------------------------------------------------------------


def iv_problems(**overrides: object) -> list:
    args: dict[str, object] = {
        "route": Route.IV,
        "drug": Drug.KETAMINE,
        "weight_kg": 80,
        "mg_per_kg": 0.5,
        "dose_mg": 40,
        "concentration_mg_per_ml": 1,
        "duration_min": 40,
        "protocol": P,
    }
    args.update(overrides)
    return dose_plan_problems(**args)  # type: ignore[arg-type]


def test_standard_iv_plan_has_no_problems() -> None:
    assert iv_problems() == []


@pytest.mark.parametrize(
    "field", ["weight_kg", "mg_per_kg", "dose_mg", "concentration_mg_per_ml", "duration_min"]
)
@pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf, True, "40"])
def test_each_field_refuses_bad_values(field: str, bad: object) -> None:
    errors = iv_problems(**{field: bad})
    assert field in {e.field for e in errors}


@pytest.mark.parametrize(
    "field", ["weight_kg", "mg_per_kg", "dose_mg", "concentration_mg_per_ml", "duration_min"]
)
def test_iv_requires_every_field(field: str) -> None:
    errors = iv_problems(**{field: None})
    assert [e.field for e in errors] == [field]
    assert "is required for IV doses" in errors[0].message


def test_weight_out_of_plausible_range() -> None:
    errors = iv_problems(weight_kg=12, dose_mg=6)
    assert [e.field for e in errors] == ["weight_kg"]
    assert errors[0].message == "Weight must be between 20 and 350 kg; got 12"
    assert errors[0].allowed == "20-350 kg"


def test_iv_concentration_above_protocol_limit() -> None:
    errors = iv_problems(concentration_mg_per_ml=100)
    assert [e.field for e in errors] == ["concentration_mg_per_ml"]
    assert errors[0].message == (
        "Concentration 100 mg/mL is above the highest allowed for IV of 50 mg/mL: dilute it first"
    )
    assert iv_problems(concentration_mg_per_ml=50) == []


def test_iv_concentration_limit_comes_from_protocol() -> None:
    strict = replace(P, iv_max_concentration_mg_per_ml=10)
    assert [e.field for e in iv_problems(concentration_mg_per_ml=20, protocol=strict)] == [
        "concentration_mg_per_ml"
    ]


def test_im_may_use_concentrated_vial() -> None:
    errors = iv_problems(route=Route.IM, concentration_mg_per_ml=100, duration_min=None)
    assert errors == []


def test_dose_inconsistent_with_weight() -> None:
    errors = iv_problems(dose_mg=50)
    assert [e.field for e in errors] == ["dose_mg"]
    assert errors[0].message.startswith("Dose 50 mg does not match 0.5 mg/kg x 80 kg = 40 mg")


def test_dose_rounding_is_tolerated() -> None:
    # 0.5 mg/kg x 73.4 kg = 36.7 mg, given as 37 mg.
    assert iv_problems(weight_kg=73.4, dose_mg=37) == []
    # mg/kg rounded to two places: 37 mg / 73.4 kg = 0.504 -> 0.50.
    assert iv_problems(weight_kg=73.4, mg_per_kg=0.50, dose_mg=37) == []
    assert iv_problems(weight_kg=73.4, dose_mg=38) != []


def test_esketamine_needs_no_weight_or_pump_settings() -> None:
    errors = dose_plan_problems(
        route=Route.INTRANASAL,
        drug=Drug.ESKETAMINE,
        weight_kg=None,
        mg_per_kg=None,
        dose_mg=56,
        concentration_mg_per_ml=None,
        duration_min=None,
        protocol=P,
    )
    assert errors == []


def test_esketamine_weight_still_checked_when_given() -> None:
    errors = dose_plan_problems(
        route=Route.INTRANASAL,
        drug=Drug.ESKETAMINE,
        weight_kg=1000,
        mg_per_kg=None,
        dose_mg=56,
        concentration_mg_per_ml=None,
        duration_min=None,
        protocol=P,
    )
    assert [e.field for e in errors] == ["weight_kg"]


def test_dose_always_required() -> None:
    errors = iv_problems(route=Route.ORAL, dose_mg=None, mg_per_kg=None)
    assert [e.field for e in errors] == ["dose_mg"]


# -- Outside protocol (soft) ---------------------------------------------------------------


@pytest.mark.parametrize("route", [Route.IV, Route.IM])
@pytest.mark.parametrize(
    ("per_kg", "outside"),
    [(0.1, False), (1.0, False), (0.5, False), (0.09, True), (1.01, True), (2, True)],
)
def test_ketamine_mg_per_kg_range(route: Route, per_kg: float, outside: bool) -> None:
    errors = dose_outside_protocol(
        route=route, drug=Drug.KETAMINE, mg_per_kg=per_kg, dose_mg=None, protocol=P
    )
    assert bool(errors) is outside
    if outside:
        assert errors[0].field == "mg_per_kg"
        assert errors[0].allowed == "0.1-1 mg/kg"
        assert "second clinician" in errors[0].message


def test_ketamine_range_comes_from_protocol() -> None:
    wide = replace(P, iv_max_dose_mg_per_kg=1.5)
    assert (
        dose_outside_protocol(
            route=Route.IV, drug=Drug.KETAMINE, mg_per_kg=1.2, dose_mg=None, protocol=wide
        )
        == []
    )


@pytest.mark.parametrize(
    ("dose", "fields"),
    [
        (56, []),
        (84, []),
        (28, ["dose_mg"]),
        (112, ["dose_mg"]),
        (60, ["dose_mg"]),
        (70, ["dose_mg"]),  # in range but 2.5 devices
        (30, ["dose_mg", "dose_mg"]),
    ],
)
def test_esketamine_dose_rules(dose: float, fields: list[str]) -> None:
    errors = dose_outside_protocol(
        route=Route.INTRANASAL, drug=Drug.ESKETAMINE, mg_per_kg=None, dose_mg=dose, protocol=P
    )
    assert [e.field for e in errors] == fields


def test_esketamine_device_message() -> None:
    errors = dose_outside_protocol(
        route=Route.INTRANASAL, drug=Drug.ESKETAMINE, mg_per_kg=None, dose_mg=70, protocol=P
    )
    assert errors[0].message == "Esketamine dose 70 mg is not a whole number of 28 mg devices"


def test_oral_ketamine_has_no_protocol_range() -> None:
    assert (
        dose_outside_protocol(
            route=Route.ORAL, drug=Drug.KETAMINE, mg_per_kg=3, dose_mg=200, protocol=P
        )
        == []
    )


# -- Pump events ---------------------------------------------------------------------------


def ev(kind: InfusionEventKind, minutes: float, rate: float | None = None) -> PumpEvent:
    return PumpEvent(kind, at(minutes), rate)


HISTORY = [
    ev(K.START, 0, 60),
    ev(K.PAUSE, 10),
    ev(K.RESUME, 15, 60),
    ev(K.RATE_CHANGE, 25, 30),
    ev(K.STOP, 45),
]


def test_valid_history_has_no_problems() -> None:
    for index, event in enumerate(HISTORY):
        assert pump_event_problems(HISTORY[:index], event) == []


@pytest.mark.parametrize(
    ("previous", "new"),
    [
        ([], ev(K.PAUSE, 0)),
        ([], ev(K.RESUME, 0, 60)),
        ([], ev(K.RATE_CHANGE, 0, 60)),
        ([], ev(K.STOP, 0)),
        (HISTORY[:1], ev(K.START, 1, 60)),
        (HISTORY[:1], ev(K.RESUME, 1, 60)),
        (HISTORY[:2], ev(K.PAUSE, 11)),
        (HISTORY[:2], ev(K.RATE_CHANGE, 11, 30)),
        (HISTORY, ev(K.STOP, 50)),
        (HISTORY, ev(K.START, 50, 60)),
        (HISTORY, ev(K.RESUME, 50, 60)),
    ],
)
def test_impossible_sequences(previous: list[PumpEvent], new: PumpEvent) -> None:
    errors = pump_event_problems(previous, new)
    assert [e.field for e in errors] == ["kind"]


def test_nothing_after_stop_message() -> None:
    errors = pump_event_problems(HISTORY, ev(K.PAUSE, 50))
    assert "already stopped" in errors[0].message


def test_stop_while_paused_is_allowed() -> None:
    assert pump_event_problems(HISTORY[:2], ev(K.STOP, 12)) == []


@pytest.mark.parametrize("kind", [K.START, K.RESUME, K.RATE_CHANGE])
@pytest.mark.parametrize("rate", [None, 0, -10, math.nan, math.inf, True])
def test_rate_needed_and_positive(kind: InfusionEventKind, rate: object) -> None:
    previous = {K.START: [], K.RESUME: HISTORY[:2], K.RATE_CHANGE: HISTORY[:1]}[kind]
    errors = pump_event_problems(previous, PumpEvent(kind, at(20), rate))  # type: ignore[arg-type]
    assert [e.field for e in errors] == ["rate_ml_per_h"]


def test_time_must_not_go_backwards() -> None:
    errors = pump_event_problems(HISTORY[:1], ev(K.PAUSE, -1))
    assert [e.field for e in errors] == ["at"]
    assert pump_event_problems(HISTORY[:1], ev(K.PAUSE, 0)) == []  # same minute is fine


def test_time_must_be_aware() -> None:
    naive = PumpEvent(K.START, datetime(2026, 1, 5, 9, 0), 60)
    assert [e.field for e in pump_event_problems([], naive)] == ["at"]


# -- Delivered dose ------------------------------------------------------------------------


def test_delivered_with_pause_and_rate_change() -> None:
    # 0-10 min at 60 mL/h = 10 mL; paused 10-15; 15-25 at 60 = 10 mL; 25-45 at 30 = 10 mL.
    result = delivered(HISTORY, 1.0, until=at(120))
    assert result == Delivery(
        volume_ml=pytest.approx(30),  # type: ignore[arg-type]
        dose_mg=pytest.approx(30),  # type: ignore[arg-type]
        state="stopped",
        current_rate_ml_per_h=None,
        started_at=at(0),
        running_minutes=pytest.approx(40),  # type: ignore[arg-type]
    )


def test_delivered_concentration_scales_dose() -> None:
    result = delivered(HISTORY, 0.4, until=at(45))
    assert result.volume_ml == pytest.approx(30)
    assert result.dose_mg == pytest.approx(12)


@pytest.mark.parametrize(
    ("minutes", "volume", "state", "rate", "running"),
    [
        (-5, 0, "not_started", None, 0),
        (0, 0, "running", 60, 0),
        (5, 5, "running", 60, 5),
        (12, 10, "paused", None, 10),
        (20, 15, "running", 60, 15),
        (35, 25, "running", 30, 30),
        (45, 30, "stopped", None, 40),
    ],
)
def test_delivered_so_far(
    minutes: float, volume: float, state: str, rate: float | None, running: float
) -> None:
    result = delivered(HISTORY, 1.0, until=at(minutes))
    assert result.volume_ml == pytest.approx(volume)
    assert result.state == state
    assert result.current_rate_ml_per_h == rate
    assert result.running_minutes == pytest.approx(running)


def test_standard_infusion_delivers_planned_dose() -> None:
    plan = plan_iv_dose(weight_kg=80, mg_per_kg=0.5, concentration_mg_per_ml=1, duration_min=40)
    events = [ev(K.START, 0, plan.rate_ml_per_h), ev(K.STOP, 40)]
    assert delivered(events, 1.0, until=at(60)).dose_mg == pytest.approx(40)


def test_delivered_refuses_impossible_history() -> None:
    with pytest.raises(ValueError, match="only be recorded while paused"):
        delivered([ev(K.START, 0, 60), ev(K.RESUME, 5, 60)], 1.0, until=at(10))


def test_delivered_refuses_naive_until_and_bad_concentration() -> None:
    with pytest.raises(ValueError):
        delivered(HISTORY, 1.0, until=datetime(2026, 1, 5, 10, 0))
    with pytest.raises(ValueError):
        delivered(HISTORY, 0, until=at(60))


@given(segments=st.lists(st.tuples(st.floats(0.5, 120), st.floats(1, 999)), min_size=1, max_size=8))
def test_delivered_is_sum_of_segments(segments: list[tuple[float, float]]) -> None:
    events = []
    clock = 0.0
    expected = 0.0
    for index, (minutes, rate) in enumerate(segments):
        kind = K.START if index == 0 else K.RATE_CHANGE
        events.append(ev(kind, clock, rate))
        clock += minutes
        expected += rate * minutes / 60
    events.append(ev(K.STOP, clock))
    result = delivered(events, 2.0, until=at(clock + 60))
    assert result.volume_ml == pytest.approx(expected, rel=1e-6)
    assert result.dose_mg == pytest.approx(expected * 2, rel=1e-6)
    assert result.running_minutes == pytest.approx(clock, rel=1e-6)
