"""Dose and pump arithmetic, dose checks against the protocol, and the pump's history.

The formulas are the ones in ``shared/docs/domain.md`` section 2. The delivered dose is
never typed: it is added up from the pump's start, pause, resume, rate-change and stop
events, so that what the record says was given is what the pump was set to give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from kapp.domain.enums import Drug, InfusionEventKind, Route, WeightUnit
from kapp.domain.errors import FieldError
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import fmt, is_number, number_problem, weight_problems

#: Kilograms in one pound, exact by the 1959 international definition (physics, not policy).
KG_PER_LB = 0.45359237

#: A typed dose may differ from mg/kg x weight by rounding: the dose to the nearest mg
#: (0.5 mg) plus mg/kg to two decimals (0.005 mg/kg x weight). Arithmetic, not policy.
DOSE_ROUNDING_MG = 0.5
MG_PER_KG_ROUNDING = 0.005

_WEIGHT_BASED_ROUTES = (Route.IV, Route.IM)


def _positive(name: str, value: float) -> float:
    if not is_number(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above 0; got {value!r}")
    return float(value)


def to_kg(value: float, unit: WeightUnit) -> float:
    """A weight in kilograms; the unit is always given, never guessed from the size."""
    if not is_number(value):
        raise ValueError(f"Weight must be a finite number; got {value!r}")
    if unit is WeightUnit.KG:
        return float(value)
    if unit is WeightUnit.LB:
        return value * KG_PER_LB
    raise ValueError(f"Unknown weight unit {unit!r}")


def dose_mg(mg_per_kg: float, weight_kg: float) -> float:
    """Dose in mg: 0.5 mg/kg x 80 kg = 40 mg."""
    return _positive("Dose per kg", mg_per_kg) * _positive("Weight", weight_kg)


def volume_ml(dose_mg: float, concentration_mg_per_ml: float) -> float:
    """Volume that holds the dose: 40 mg at 0.4 mg/mL = 100 mL."""
    return _positive("Dose", dose_mg) / _positive("Concentration", concentration_mg_per_ml)


def rate_ml_per_h(dose_mg: float, concentration_mg_per_ml: float, duration_min: float) -> float:
    """Pump rate to give a dose over a duration: 40 mg at 1 mg/mL over 40 min = 60 mL/h."""
    hours = _positive("Duration", duration_min) / 60
    return volume_ml(dose_mg, concentration_mg_per_ml) / hours


def continuous_rate_ml_per_h(
    mg_per_kg_per_h: float, weight_kg: float, concentration_mg_per_ml: float
) -> float:
    """Pump rate for a weight-based continuous infusion (pain protocols):
    0.35 mg/kg/h x 70 kg at 1 mg/mL = 24.5 mL/h."""
    mg_per_h = _positive("Dose rate", mg_per_kg_per_h) * _positive("Weight", weight_kg)
    return mg_per_h / _positive("Concentration", concentration_mg_per_ml)


def mg_per_kg_per_h(mg_per_kg: float, duration_min: float) -> float:
    """Dose rate per kg: 0.5 mg/kg over 40 min = 0.75 mg/kg/h."""
    return _positive("Dose per kg", mg_per_kg) / (_positive("Duration", duration_min) / 60)


def micrograms_per_kg_per_min(mg_per_kg: float, duration_min: float) -> float:
    """Dose rate in the unit some pumps use: 0.5 mg/kg over 40 min = 12.5 microgram/kg/min."""
    return _positive("Dose per kg", mg_per_kg) * 1000 / _positive("Duration", duration_min)


@dataclass(frozen=True, slots=True)
class DosePlan:
    """Everything a nurse sets on the pump for a weight-based IV dose, worked out once."""

    weight_kg: float
    mg_per_kg: float
    dose_mg: float
    concentration_mg_per_ml: float
    volume_ml: float
    duration_min: float
    rate_ml_per_h: float
    mg_per_kg_per_h: float
    micrograms_per_kg_per_min: float


def plan_iv_dose(
    *, weight_kg: float, mg_per_kg: float, concentration_mg_per_ml: float, duration_min: float
) -> DosePlan:
    """The full IV plan from the four numbers the prescriber chooses.

    Unrounded: rounding is for display, and a rounded value fed back into a later
    formula would drift.
    """
    dose = dose_mg(mg_per_kg, weight_kg)
    return DosePlan(
        weight_kg=float(weight_kg),
        mg_per_kg=float(mg_per_kg),
        dose_mg=dose,
        concentration_mg_per_ml=float(concentration_mg_per_ml),
        volume_ml=volume_ml(dose, concentration_mg_per_ml),
        duration_min=float(duration_min),
        rate_ml_per_h=rate_ml_per_h(dose, concentration_mg_per_ml, duration_min),
        mg_per_kg_per_h=mg_per_kg_per_h(mg_per_kg, duration_min),
        micrograms_per_kg_per_min=micrograms_per_kg_per_min(mg_per_kg, duration_min),
    )


def _route_name(route: Route) -> str:
    return route.value.upper() if route in _WEIGHT_BASED_ROUTES else route.value


def _positive_problem(field: str, label: str, value: Any, unit: str) -> FieldError | None:
    problem = number_problem(field, label, value, f"above 0 {unit}")
    if problem is None and value <= 0:
        return FieldError(
            field, f"{label} must be above 0 {unit}; got {fmt(value)}", f"above 0 {unit}"
        )
    return problem


def dose_plan_problems(
    *,
    route: Route,
    drug: Drug,
    weight_kg: float | None,
    mg_per_kg: float | None,
    dose_mg: float | None,
    concentration_mg_per_ml: float | None,
    duration_min: float | None,
    protocol: Protocol,
) -> list[FieldError]:
    """Hard errors in a planned dose: values that cannot be right, whoever signs them.

    IV and IM doses are weight-based, so weight and mg/kg are required there; an IV
    dose also needs the concentration and duration that set the pump. Other routes may
    leave them empty, but whatever is given is checked. A dose that is merely outside
    the protocol is not an error here: see ``dose_outside_protocol``.
    """
    del drug  # no drug-specific hard limits yet; kept so callers need not change later
    required = {
        "weight_kg": route in _WEIGHT_BASED_ROUTES,
        "mg_per_kg": route in _WEIGHT_BASED_ROUTES,
        "dose_mg": True,
        "concentration_mg_per_ml": route is Route.IV,
        "duration_min": route is Route.IV,
    }
    labels = {
        "weight_kg": ("Weight", "kg"),
        "mg_per_kg": ("Dose per kg", "mg/kg"),
        "dose_mg": ("Dose", "mg"),
        "concentration_mg_per_ml": ("Concentration", "mg/mL"),
        "duration_min": ("Infusion duration", "min"),
    }
    values = {
        "weight_kg": weight_kg,
        "mg_per_kg": mg_per_kg,
        "dose_mg": dose_mg,
        "concentration_mg_per_ml": concentration_mg_per_ml,
        "duration_min": duration_min,
    }
    errors: list[FieldError] = []
    good: dict[str, float] = {}
    for field, value in values.items():
        label, unit = labels[field]
        if value is None:
            if required[field]:
                message = f"{label} is required for {_route_name(route)} doses"
                errors.append(FieldError(field, message))
            continue
        if field == "weight_kg":
            problems = weight_problems(value, protocol, field="weight_kg")
        else:
            problem = _positive_problem(field, label, value, unit)
            problems = [] if problem is None else [problem]
        errors.extend(problems)
        if not problems:
            good[field] = float(value)
    conc = good.get("concentration_mg_per_ml")
    if route is Route.IV and conc is not None and conc > protocol.iv_max_concentration_mg_per_ml:
        limit = fmt(protocol.iv_max_concentration_mg_per_ml)
        errors.append(
            FieldError(
                "concentration_mg_per_ml",
                f"Concentration {fmt(conc)} mg/mL is above the highest allowed for IV "
                f"of {limit} mg/mL: dilute it first",
                f"up to {limit} mg/mL",
            )
        )
    if {"weight_kg", "mg_per_kg", "dose_mg"} <= good.keys():
        weight, per_kg, dose = good["weight_kg"], good["mg_per_kg"], good["dose_mg"]
        expected = per_kg * weight
        tolerance = DOSE_ROUNDING_MG + MG_PER_KG_ROUNDING * weight
        if abs(dose - expected) > tolerance:
            errors.append(
                FieldError(
                    "dose_mg",
                    f"Dose {fmt(dose)} mg does not match {fmt(per_kg)} mg/kg x {fmt(weight)} kg "
                    f"= {fmt(round(expected, 2))} mg; check the dose, the mg/kg and the weight",
                    f"{fmt(round(expected - tolerance, 2))}-{fmt(round(expected + tolerance, 2))}"
                    " mg",
                )
            )
    return errors


def dose_outside_protocol(
    *,
    route: Route,
    drug: Drug,
    mg_per_kg: float | None,
    dose_mg: float | None,
    protocol: Protocol,
) -> list[FieldError]:
    """Where a valid dose leaves the clinic's protocol; empty means within protocol.

    This is a soft check: such a dose may be given, but the service asks for a reason
    and a second clinician. Missing or invalid values are left to ``dose_plan_problems``.
    """
    p = protocol
    errors: list[FieldError] = []
    if drug is Drug.KETAMINE and route in _WEIGHT_BASED_ROUTES and is_number(mg_per_kg):
        low, high = p.iv_min_dose_mg_per_kg, p.iv_max_dose_mg_per_kg
        if not low <= mg_per_kg <= high:
            errors.append(
                FieldError(
                    "mg_per_kg",
                    f"Dose {fmt(mg_per_kg)} mg/kg is outside the protocol range of "
                    f"{fmt(low)}-{fmt(high)} mg/kg: give a reason and have a second "
                    "clinician confirm",
                    f"{fmt(low)}-{fmt(high)} mg/kg",
                )
            )
    if drug is Drug.ESKETAMINE and route is Route.INTRANASAL and is_number(dose_mg):
        low, high = p.esketamine_min_dose_mg, p.esketamine_max_dose_mg
        device = p.esketamine_device_mg
        allowed = f"{fmt(low)}-{fmt(high)} mg in {fmt(device)} mg devices"
        if not low <= dose_mg <= high:
            errors.append(
                FieldError(
                    "dose_mg",
                    f"Esketamine dose {fmt(dose_mg)} mg is outside the protocol range of "
                    f"{fmt(low)}-{fmt(high)} mg: give a reason and have a second clinician "
                    "confirm",
                    allowed,
                )
            )
        devices = dose_mg / device
        if not math.isclose(devices, round(devices), abs_tol=1e-9):
            errors.append(
                FieldError(
                    "dose_mg",
                    f"Esketamine dose {fmt(dose_mg)} mg is not a whole number of "
                    f"{fmt(device)} mg devices",
                    allowed,
                )
            )
    return errors


# -- The pump ------------------------------------------------------------------------------

PumpState = Literal["not_started", "running", "paused", "stopped"]

_NEEDS_RATE = (InfusionEventKind.START, InfusionEventKind.RESUME, InfusionEventKind.RATE_CHANGE)


@dataclass(frozen=True, slots=True)
class PumpEvent:
    """Something done to the pump, at a timezone-aware time.

    ``rate_ml_per_h`` is the rate from this event on; pause and stop ignore it.
    """

    kind: InfusionEventKind
    at: datetime
    rate_ml_per_h: float | None = None


_NEXT_STATE: dict[InfusionEventKind, PumpState] = {
    InfusionEventKind.START: "running",
    InfusionEventKind.RESUME: "running",
    InfusionEventKind.RATE_CHANGE: "running",
    InfusionEventKind.PAUSE: "paused",
    InfusionEventKind.STOP: "stopped",
}


def _state_after(events: Sequence[PumpEvent]) -> PumpState:
    state: PumpState = "not_started"
    for event in events:
        state = _NEXT_STATE[event.kind]
    return state


_ALLOWED_FROM: dict[InfusionEventKind, tuple[tuple[PumpState, ...], str]] = {
    InfusionEventKind.START: (("not_started",), "The infusion has already been started"),
    InfusionEventKind.PAUSE: (("running",), "A pause can only be recorded while running"),
    InfusionEventKind.RESUME: (("paused",), "A resume can only be recorded while paused"),
    InfusionEventKind.RATE_CHANGE: (
        ("running",),
        "A rate change can only be recorded while running (resume a paused pump instead)",
    ),
    InfusionEventKind.STOP: (("running", "paused"), "A stop can only be recorded after a start"),
}


def pump_event_problems(previous: Sequence[PumpEvent], new: PumpEvent) -> list[FieldError]:
    """Why ``new`` cannot follow ``previous`` (a valid history in recorded order).

    The pump history is the source of the delivered dose, so an impossible sequence
    (a resume without a pause, a second stop) would make that dose wrong.
    """
    errors: list[FieldError] = []
    state = _state_after(previous)
    if state == "stopped":
        errors.append(
            FieldError("kind", "The infusion is already stopped: nothing can follow the stop")
        )
    else:
        allowed, message = _ALLOWED_FROM[new.kind]
        if state not in allowed:
            errors.append(FieldError("kind", message))
    if new.at.tzinfo is None or new.at.utcoffset() is None:
        errors.append(FieldError("at", "The time must carry a time zone"))
    elif previous and new.at < previous[-1].at:
        errors.append(
            FieldError(
                "at",
                f"The time {new.at.isoformat(timespec='seconds')} is before the previous "
                f"pump event at {previous[-1].at.isoformat(timespec='seconds')}",
                f"from {previous[-1].at.isoformat(timespec='seconds')}",
            )
        )
    if new.kind in _NEEDS_RATE:
        what = new.kind.value.replace("_", " ")
        if new.rate_ml_per_h is None:
            errors.append(FieldError("rate_ml_per_h", f"A {what} needs a rate in mL/h"))
        else:
            problem = _positive_problem("rate_ml_per_h", "Rate", new.rate_ml_per_h, "mL/h")
            if problem is not None:
                errors.append(problem)
    return errors


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the pump has given up to a moment, added up from its events."""

    volume_ml: float
    dose_mg: float
    state: PumpState
    current_rate_ml_per_h: float | None
    started_at: datetime | None
    running_minutes: float


def delivered(
    events: Sequence[PumpEvent], concentration_mg_per_ml: float, until: datetime
) -> Delivery:
    """Volume and dose given by ``until`` (or by the stop, if earlier).

    Events after ``until`` are ignored, so the same history answers "how much so far?"
    during the session and "how much in all?" afterwards. ``current_rate_ml_per_h`` is
    None whenever the pump is not running.

    Raises:
        ValueError: the history is impossible, ``until`` is naive, or the
            concentration is not above 0.
    """
    concentration = _positive("Concentration", concentration_mg_per_ml)
    if until.tzinfo is None or until.utcoffset() is None:
        raise ValueError("The time to count up to must carry a time zone")
    state: PumpState = "not_started"
    rate: float | None = None
    started_at: datetime | None = None
    since: datetime | None = None  # start of the current running segment
    volume = 0.0
    running_seconds = 0.0
    for index, event in enumerate(events):
        problems = pump_event_problems(events[:index], event)
        if problems:
            raise ValueError("; ".join(problem.message for problem in problems))
        if event.at > until:
            break
        if state == "running" and since is not None and rate is not None:
            seconds = (event.at - since).total_seconds()
            volume += rate * seconds / 3600
            running_seconds += seconds
        state = _NEXT_STATE[event.kind]
        if event.kind is InfusionEventKind.START:
            started_at = event.at
        if state == "running":
            rate, since = event.rate_ml_per_h, event.at
        else:
            rate, since = None, None
    if state == "running" and since is not None and rate is not None:
        seconds = (until - since).total_seconds()
        volume += rate * seconds / 3600
        running_seconds += seconds
    return Delivery(
        volume_ml=volume,
        dose_mg=volume * concentration,
        state=state,
        current_rate_ml_per_h=rate,
        started_at=started_at,
        running_minutes=running_seconds / 60,
    )


def delivered_by_pump(events: Sequence[PumpEvent], concentration_mg_per_ml: float | None,
                      until: datetime) -> Delivery:
    """What the pump gave by ``until``. A session dosed without a pump concentration
    (intranasal esketamine: devices, not an infusion) has start and stop events only to
    time it; its dose is the planned one, so no mg are counted here."""
    if concentration_mg_per_ml is None or concentration_mg_per_ml <= 0:
        return replace(delivered(events, 1.0, until), dose_mg=0.0)
    return delivered(events, concentration_mg_per_ml, until)
