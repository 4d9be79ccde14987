"""Intranasal esketamine: the devices given, one by one (domain.md sections 1 and 7).

The dose given is never typed: it is the devices recorded (not struck through) times the
mg each held. A device can only follow the previous one by the protocol's interval
(``esketamine_device_interval_min``) unless the nurse says why it came sooner, and never
beyond the planned dose. Observation is counted from the last device given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapp.domain import enums as e
from kapp.domain.entities import NasalDevice, TreatmentSession
from kapp.domain.errors import FieldError
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import fmt

# Floating-point slack when comparing mg (28 x 3 = 84 exactly, but settings are floats).
_MG_SLACK = 1e-6


def is_nasal(session: TreatmentSession) -> bool:
    """Dosed by nasal devices rather than by a pump."""
    return session.route is e.Route.INTRANASAL


def planned_devices(dose_mg: float | None, device_mg: float) -> int | None:
    """How many devices the planned dose takes: 84 mg in 28 mg devices = 3."""
    if dose_mg is None or device_mg <= 0:
        return None
    return math.floor(dose_mg / device_mg + 1e-9)


@dataclass(frozen=True, slots=True)
class NasalDosing:
    """Where the devices stand: what was planned, what was given, what may come next."""

    planned_mg: float | None
    device_mg: float  # the protocol's device size now (each given device keeps its own)
    planned_count: int | None
    given: tuple[NasalDevice, ...]  # standing (not struck) devices, in time order
    interval_min: float
    observation_min: float

    @property
    def given_count(self) -> int:
        return len(self.given)

    @property
    def given_mg(self) -> float:
        return sum(d.device_mg for d in self.given)

    @property
    def last_at(self) -> datetime | None:
        return self.given[-1].given_at if self.given else None

    @property
    def first_at(self) -> datetime | None:
        return self.given[0].given_at if self.given else None

    @property
    def complete(self) -> bool:
        """The whole planned dose is given."""
        return (self.planned_mg is not None and bool(self.given)
                and self.given_mg + _MG_SLACK >= self.planned_mg)

    @property
    def next_not_before(self) -> datetime | None:
        if self.last_at is None or self.complete:
            return None
        return self.last_at + timedelta(minutes=self.interval_min)

    @property
    def observe_until(self) -> datetime | None:
        """The earliest discharge: the protocol's observation after the last device."""
        if self.last_at is None:
            return None
        return self.last_at + timedelta(minutes=self.observation_min)


def nasal_dosing(session: TreatmentSession, devices: Sequence[NasalDevice],
                 protocol: Protocol) -> NasalDosing:
    standing = sorted((d for d in devices if not d.entry.is_struck),
                      key=lambda d: (d.given_at, d.entry.entered_at))
    device = protocol.esketamine_device_mg
    return NasalDosing(
        planned_mg=session.dose_mg, device_mg=device,
        planned_count=planned_devices(session.dose_mg, device), given=tuple(standing),
        interval_min=protocol.esketamine_device_interval_min,
        observation_min=protocol.esketamine_min_observation_min)


def device_problems(dosing: NasalDosing, at: datetime, *,
                    early_reason: str | None = None) -> list[FieldError]:
    """Why one more device at ``at`` cannot be recorded (the time itself, not in the
    future and not before the session, is checked by the caller).

    A device sooner than the protocol's interval after the previous one is refused unless
    the nurse gives the reason: it may well have been given then (the record must say what
    happened), but it is a departure from the protocol that needs saying.
    """
    errors: list[FieldError] = []
    planned, device = dosing.planned_mg, dosing.device_mg
    if planned is None or planned <= 0:
        return [FieldError("dose_mg", "Plan the esketamine dose before recording devices",
                           "a planned dose in mg")]
    count = planned_devices(planned, device) or 0
    allowed = f"at most {count} device(s) of {fmt(device)} mg ({fmt(planned)} mg planned)"
    if dosing.given_mg + device > planned + _MG_SLACK:
        if dosing.given_mg + _MG_SLACK >= planned:
            message = (f"All {dosing.given_count} device(s) of the planned {fmt(planned)} mg "
                       "have been given: no more can be recorded")
        else:
            message = (f"One more {fmt(device)} mg device would make "
                       f"{fmt(dosing.given_mg + device)} mg, more than the planned "
                       f"{fmt(planned)} mg")
        errors.append(FieldError("devices", message, allowed))
        return errors
    last = dosing.last_at
    if last is None:
        return errors
    number = dosing.given_count
    if at < last:
        errors.append(FieldError(
            "given_at", f"This time is before device {number} was given; record the devices "
            "in the order they were given", f"from device {number}'s time on"))
        return errors
    gap = (at - last).total_seconds() / 60
    if gap < dosing.interval_min - 1e-9 and not (early_reason or "").strip():
        errors.append(FieldError(
            "given_at",
            f"Device {number + 1} would be {_minutes(gap)} after device {number}; the protocol "
            f"asks for at least {fmt(dosing.interval_min)} min between devices. If it was "
            "given then, say why",
            f"at least {fmt(dosing.interval_min)} min after the previous device, or a reason"))
    return errors


def _minutes(value: float) -> str:
    if value < 1:
        return f"{round(value * 60)} s"
    return f"{fmt(round(value, 1))} min"
