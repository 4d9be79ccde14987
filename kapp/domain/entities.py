"""Plain, immutable records that services hand to the UI, the CLI and reports.

They are copies taken inside a unit of work, never live ORM objects, so reading one after
its database session closed can never trigger a lazy load.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kapp.domain import enums as e


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    username: str
    full_name: str
    role: e.Role
    active: bool = True


@dataclass(frozen=True, slots=True)
class Patient:
    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: e.Sex
    indication: e.Indication
    allergies: str = ""
    contraindications: dict[str, str] = field(default_factory=dict)
    medication_flags: tuple[str, ...] = ()
    current_medications: str = ""
    notes: str = ""
    version: int = 1

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    def positive_contraindications(self) -> list[str]:
        return [k for k, v in self.contraindications.items() if v == e.ScreeningAnswer.YES]


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """One row of the patient list."""

    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    indication: e.Indication
    last_session_at: datetime | None = None
    sessions_done: int = 0

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


@dataclass(frozen=True, slots=True)
class Course:
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: e.CourseKind
    planned_sessions: int
    started_on: date
    ended_on: date | None = None
    baseline_scores: dict[str, float] = field(default_factory=dict)
    notes: str = ""


@dataclass(frozen=True, slots=True)
class TreatmentSession:
    id: uuid.UUID
    course_id: uuid.UUID
    patient_id: uuid.UUID
    number_in_course: int
    status: e.SessionStatus
    planned_start: datetime
    route: e.Route
    drug: e.Drug
    actual_start: datetime | None = None
    infusion_ended_at: datetime | None = None
    ready_to_leave_at: datetime | None = None
    left_at: datetime | None = None
    weight_kg: float | None = None
    weight_entered: float | None = None
    weight_unit: e.WeightUnit | None = None
    dose_mg_per_kg: float | None = None
    dose_mg: float | None = None
    concentration_mg_per_ml: float | None = None
    volume_ml: float | None = None
    duration_min: float | None = None
    dose_override_reason: str | None = None
    dose_verified_by_id: uuid.UUID | None = None
    lot_number: str | None = None
    amount_drawn_mg: float | None = None
    amount_wasted_mg: float | None = None
    waste_witness_id: uuid.UUID | None = None
    pre_checklist: dict[str, Any] = field(default_factory=dict)
    discharge_checklist: dict[str, Any] = field(default_factory=dict)
    moaas: int | None = None
    nurse_id: uuid.UUID | None = None
    prescriber_id: uuid.UUID | None = None
    signed_by_id: uuid.UUID | None = None
    signed_at: datetime | None = None
    signature_meaning: str | None = None
    abort_reason: str | None = None

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def monitoring_minutes(self) -> float | None:
        """Total monitoring time: from the start of dosing to leaving (REMS form)."""
        if self.actual_start is None or self.left_at is None:
            return None
        return (self.left_at - self.actual_start).total_seconds() / 60


@dataclass(frozen=True, slots=True)
class Strike:
    """Present on an entry that was struck through: it keeps its values and says why."""

    at: datetime
    by_id: uuid.UUID
    reason: str


@dataclass(frozen=True, slots=True)
class Entry:
    """What every clinical entry carries."""

    id: uuid.UUID
    entered_at: datetime
    entered_by_id: uuid.UUID
    strike: Strike | None
    supersedes_id: uuid.UUID | None

    @property
    def is_struck(self) -> bool:
        return self.strike is not None


class _Recorded:
    """Gives each entry record its id directly: ``reading.id`` for ``reading.entry.id``."""

    __slots__ = ()
    entry: Entry

    @property
    def id(self) -> uuid.UUID:
        return self.entry.id


@dataclass(frozen=True, slots=True)
class InfusionEvent(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    kind: e.InfusionEventKind
    at: datetime
    rate_ml_per_h: float | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class NasalDevice(_Recorded):
    """One intranasal esketamine device given, with the mg it held (the protocol's device
    size when it was recorded) and, when it came sooner after the previous device than
    the protocol's interval, why."""

    entry: Entry
    session_id: uuid.UUID
    given_at: datetime
    device_mg: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class VitalsReading(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    taken_at: datetime
    hr: float | None = None
    systolic: float | None = None
    diastolic: float | None = None
    spo2: float | None = None
    rr: float | None = None
    temperature_c: float | None = None
    etco2_mmhg: float | None = None
    rhythm: str | None = None
    source: e.VitalsSource = e.VitalsSource.MANUAL
    device_id: str | None = None
    predose: bool = False


@dataclass(frozen=True, slots=True)
class Alert(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    vitals_id: uuid.UUID | None
    rule: str
    severity: e.AlertSeverity
    message: str
    value: float | None
    threshold: float | None
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by_id: uuid.UUID | None = None
    action: e.AlertAction | None = None
    action_note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None and self.entry.strike is None


@dataclass(frozen=True, slots=True)
class SideEffect(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    kind: e.SideEffectKind
    onset_at: datetime
    severity: e.Severity
    serious: bool = False
    description: str = ""
    resolved_at: datetime | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Intervention(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    kind: e.InterventionKind
    given_at: datetime
    drug: str | None = None
    dose: float | None = None
    dose_unit: str | None = None
    route: str | None = None
    given_by_id: uuid.UUID | None = None
    reason: str = ""
    side_effect_id: uuid.UUID | None = None
    alert_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class DissociationReport(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    reported_at: datetime
    intensity: int
    valence: e.Valence
    descriptors: tuple[str, ...] = ()
    patient_words: str = ""
    observation: str = ""


@dataclass(frozen=True, slots=True)
class InstrumentResult(_Recorded):
    entry: Entry
    patient_id: uuid.UUID
    course_id: uuid.UUID | None
    session_id: uuid.UUID | None
    instrument: str
    instrument_version: str
    time_point: e.TimePoint
    taken_at: datetime
    answers: dict[int, int]
    total: float
    band: str | None = None
    subscales: dict[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Note(_Recorded):
    entry: Entry
    patient_id: uuid.UUID
    session_id: uuid.UUID | None
    written_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Addendum(_Recorded):
    entry: Entry
    session_id: uuid.UUID
    text: str
    signed_at: datetime | None = None
    signed_by_id: uuid.UUID | None = None
    signature_meaning: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: uuid.UUID
    seq: int
    at: datetime
    user_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str | None
    patient_id: uuid.UUID | None
    session_id: uuid.UUID | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    reason: str | None
