"""The session's clocks, worked out without Qt: minutes since start, the next vitals due,
the peak-scale prompt. The screen, the sidebar's chairs and the tests share them, so a chair
and its screen never disagree about what is overdue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapp.domain import enums as e
from kapp.domain.entities import InstrumentResult, TreatmentSession, VitalsReading
from kapp.domain.protocol import Protocol

PEAK_INSTRUMENTS = ("cadss6", "cadss")


def minutes_since(start: datetime | None, now: datetime) -> float | None:
    """Minutes from the stored start (never from when this screen opened)."""
    if start is None:
        return None
    return (now - start).total_seconds() / 60


def x_axis_words(session: TreatmentSession) -> str:
    """What the minutes count from, in the chart's x-axis and the header's accessible name:
    the infusion's start, or an intranasal session's first device (its start)."""
    if session.route is e.Route.INTRANASAL:
        return "Minutes since the first device"
    return "Minutes since the infusion started"


def since_text(session: TreatmentSession, minutes: float | None) -> str:
    """The header's short words: ``12 min since start`` (an infusion) or ``12 min since
    first device`` (intranasal); before then ``not started`` or ``no device yet``."""
    nasal = session.route is e.Route.INTRANASAL
    if minutes is None:
        return "no device yet" if nasal else "not started"
    return f"{int(minutes)} min since {'first device' if nasal else 'start'}"


def minutes_label(minutes: float | None) -> str:
    """``+35 min`` after the start, ``-5 min`` before it (a baseline reading)."""
    if minutes is None:
        return ""
    whole = int(minutes // 1) if minutes >= 0 else -int(-minutes // 1)
    return f"+{whole}" if whole > 0 else str(whole)


@dataclass(frozen=True, slots=True)
class VitalsDue:
    """When the next set of vitals is due, and in which phase (for the words)."""

    due_at: datetime
    interval_min: float
    phase: str  # "infusion" or "recovery"

    def seconds_left(self, now: datetime) -> float:
        return (self.due_at - now).total_seconds()

    def overdue(self, now: datetime) -> bool:
        return self.seconds_left(now) < 0


def next_vitals_due(session: TreatmentSession, vitals: Sequence[VitalsReading],
                    protocol: Protocol) -> VitalsDue | None:
    """The protocol interval counted from the last reading of the current phase (or from the
    phase's start when none was taken yet). None when no vitals are due: before the pump
    starts and after the patient left."""
    return next_vitals_due_at(
        session, [v.taken_at for v in vitals if not v.entry.is_struck], protocol)


def next_vitals_due_at(session: TreatmentSession, taken: Sequence[datetime],
                       protocol: Protocol) -> VitalsDue | None:
    """``next_vitals_due`` from the times of the standing (not struck) readings only."""
    status = session.status
    if status is e.SessionStatus.IN_PROGRESS and session.actual_start is not None:
        since, interval, phase = (session.actual_start, protocol.vitals_interval_infusion_min,
                                  "infusion")
    elif status is e.SessionStatus.RECOVERY and session.infusion_ended_at is not None:
        since, interval, phase = (session.infusion_ended_at,
                                  protocol.vitals_interval_recovery_min, "recovery")
    else:
        return None
    last = max((at for at in taken if at >= since), default=since)
    return VitalsDue(last + timedelta(minutes=interval), interval, phase)


def countdown_text(due: VitalsDue | None, now: datetime) -> tuple[str, bool]:
    """Words for the countdown and whether it is overdue (the caller adds the icon)."""
    if due is None:
        return "", False
    left = due.seconds_left(now)
    if left < 0:
        late = -left
        return f"Vitals OVERDUE by {int(late // 60)}:{int(late % 60):02d}", True
    return f"Next vitals in {int(left // 60)}:{int(left % 60):02d}", False


def peak_scale_due(session: TreatmentSession, instruments: Sequence[InstrumentResult],
                   protocol: Protocol, now: datetime) -> bool:
    """True from the protocol's prompt time on, until a peak scale is recorded."""
    if session.status not in (e.SessionStatus.IN_PROGRESS, e.SessionStatus.RECOVERY):
        return False
    minutes = minutes_since(session.actual_start, now)
    if minutes is None or minutes < protocol.peak_scale_prompt_min:
        return False
    return not any(r.time_point is e.TimePoint.PEAK and not r.entry.is_struck
                   for r in instruments)


def planned_rate_ml_per_h(session: TreatmentSession) -> float | None:
    """The pump rate that gives the planned volume over the planned duration."""
    if session.volume_ml and session.duration_min:
        return session.volume_ml / (session.duration_min / 60)
    return None
