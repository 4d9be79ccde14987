"""The clinic's records as SQLAlchemy tables.

Portable SQL only: these models run on SQLite (one workstation or laptop) and on
PostgreSQL (a clinic server). Anything SQLite-specific lives in ``kapp.storage.engine``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kapp.domain import enums as e
from kapp.storage.base import Base, EntryMixin, IdMixin, SessionEntryMixin, enum_column, user_fk

JSONType = sa.JSON()


class Meta(Base):
    """Facts about this database file: its installation id (``node_id``) and so on."""

    __tablename__ = "kapp_meta"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class User(IdMixin, Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[e.Role] = mapped_column(enum_column(e.Role, "role"))
    active: Mapped[bool] = mapped_column(default=True)
    # argon2id PHC string; empty for an account that never had a password (it cannot sign in).
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime]
    # Failed sign-ins in a row, and until when the account waits after too many.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]


class SignInName(Base):
    """A user name typed at sign-in that is no account, counted as an account's failed
    sign-ins are (``User.failed_logins``, ``locked_until``), so that from the keyboard an
    unknown name reads exactly like an account: same words, same work, same lockout.

    Keyed by an HMAC of the name as typed (``kapp.storage.signin_counts.name_key``) under
    the salt in ``kapp_meta`` (``sign_in_salt``), never the name in clear: people type
    passwords into the user-name box. An encrypted clinic's ``.signin`` file counts the
    same names under the same keys while the clinic is closed (kapp/services/lockout.py)."""

    __tablename__ = "sign_in_names"
    name_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    last_at: Mapped[datetime]  # the last attempt (the quietest are forgotten first)


class ClinicSetting(Base):
    """One clinic setting (name, lockout, idle lock; see ``kapp.domain.accounts``).
    Administrative, not clinical: the protocol's thresholds live in ``protocol_settings``."""

    __tablename__ = "clinic_settings"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[uuid.UUID | None] = user_fk()


class ProtocolSetting(Base):
    """One clinic protocol setting (see ``kapp.domain.protocol.Protocol``)."""

    __tablename__ = "protocol_settings"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[float] = mapped_column(sa.Float)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[uuid.UUID | None] = user_fk()


class Patient(IdMixin, Base):
    __tablename__ = "patients"
    __table_args__ = (
        sa.CheckConstraint("length(mrn) > 0", name="mrn_not_empty"),
        # The patient search reads the list's columns in name order from this index alone,
        # and stops after one page (limit + 1) of matches.
        sa.Index("ix_patients_name_search", "family_name", "given_name", "mrn", "id",
                 "date_of_birth", "indication"),
    )

    mrn: Mapped[str] = mapped_column(sa.String(64), unique=True)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100), index=True)
    date_of_birth: Mapped[date] = mapped_column(index=True)
    sex: Mapped[e.Sex] = mapped_column(enum_column(e.Sex, "sex"))
    indication: Mapped[e.Indication] = mapped_column(enum_column(e.Indication, "indication"))
    allergies: Mapped[str] = mapped_column(sa.Text, default="")
    # {Contraindication value: ScreeningAnswer value}
    contraindications: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    medication_flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    current_medications: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[uuid.UUID | None] = user_fk()
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[uuid.UUID | None] = user_fk()
    # Optimistic concurrency: an edit made from a stale copy is refused, not merged.
    version: Mapped[int] = mapped_column(default=1)
    origin: Mapped[str] = mapped_column(sa.String(36))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Course(IdMixin, Base):
    __tablename__ = "courses"
    __table_args__ = (sa.CheckConstraint("planned_sessions >= 0", name="planned_nonneg"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    kind: Mapped[e.CourseKind] = mapped_column(enum_column(e.CourseKind, "course_kind"))
    planned_sessions: Mapped[int]
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    # {instrument code: baseline total}, set from the baseline instrument responses.
    baseline_scores: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[uuid.UUID | None] = user_fk()
    origin: Mapped[str] = mapped_column(sa.String(36))


class Session(IdMixin, Base):
    """One treatment session (infusion) and its dose plan, checklists and signature."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "number_in_course", name="uq_sessions_course_number"),
        sa.CheckConstraint("weight_kg IS NULL OR weight_kg > 0", name="weight_positive"),
        sa.CheckConstraint("dose_mg IS NULL OR dose_mg >= 0", name="dose_nonneg"),
        sa.CheckConstraint(
            "concentration_mg_per_ml IS NULL OR concentration_mg_per_ml > 0",
            name="concentration_positive",
        ),
        sa.Index("ix_sessions_patient_planned", "patient_id", "planned_start"),
        # The patient list's figures (sessions done, last session) from the index alone.
        sa.Index("ix_sessions_patient_status_start", "patient_id", "status", "actual_start"),
        sa.Index("ix_sessions_status", "status"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    number_in_course: Mapped[int]
    status: Mapped[e.SessionStatus] = mapped_column(enum_column(e.SessionStatus, "status"))
    planned_start: Mapped[datetime]
    actual_start: Mapped[datetime | None]
    infusion_ended_at: Mapped[datetime | None]
    ready_to_leave_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]

    weight_kg: Mapped[float | None]
    weight_entered: Mapped[float | None]  # as typed, in weight_unit
    weight_unit: Mapped[e.WeightUnit | None] = mapped_column(enum_column(e.WeightUnit, "wunit"))
    route: Mapped[e.Route] = mapped_column(enum_column(e.Route, "route"))
    drug: Mapped[e.Drug] = mapped_column(enum_column(e.Drug, "drug"))
    dose_mg_per_kg: Mapped[float | None]
    dose_mg: Mapped[float | None]
    concentration_mg_per_ml: Mapped[float | None]
    volume_ml: Mapped[float | None]
    duration_min: Mapped[float | None]
    dose_override_reason: Mapped[str | None] = mapped_column(sa.Text)
    dose_verified_by_id: Mapped[uuid.UUID | None] = user_fk()

    lot_number: Mapped[str | None] = mapped_column(sa.String(64))
    amount_drawn_mg: Mapped[float | None]
    amount_wasted_mg: Mapped[float | None]
    waste_witness_id: Mapped[uuid.UUID | None] = user_fk()

    # {PreSessionCheck value: bool} and {DischargeCheck value: bool}
    pre_checklist: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    discharge_checklist: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    moaas: Mapped[int | None]  # lowest MOAA/S seen (sedation), 0-5

    nurse_id: Mapped[uuid.UUID | None] = user_fk()
    prescriber_id: Mapped[uuid.UUID | None] = user_fk()
    signed_by_id: Mapped[uuid.UUID | None] = user_fk()
    signed_at: Mapped[datetime | None]
    signature_meaning: Mapped[str | None] = mapped_column(sa.String(200))
    abort_reason: Mapped[str | None] = mapped_column(sa.Text)

    created_at: Mapped[datetime]
    created_by_id: Mapped[uuid.UUID | None] = user_fk()
    updated_at: Mapped[datetime]
    origin: Mapped[str] = mapped_column(sa.String(36))


class InfusionEvent(SessionEntryMixin, Base):
    __tablename__ = "infusion_events"
    __table_args__ = (
        sa.CheckConstraint("rate_ml_per_h IS NULL OR rate_ml_per_h >= 0", name="rate_nonneg"),
    )
    kind: Mapped[e.InfusionEventKind] = mapped_column(enum_column(e.InfusionEventKind, "kind"))
    at: Mapped[datetime]
    rate_ml_per_h: Mapped[float | None]
    reason: Mapped[str | None] = mapped_column(sa.Text)


class NasalDevice(SessionEntryMixin, Base):
    """One intranasal esketamine device given. The mg it held is stored with it (the
    protocol's device size may change later; the record keeps what was given)."""

    __tablename__ = "nasal_devices"
    __table_args__ = (sa.CheckConstraint("device_mg > 0", name="device_mg_positive"),)
    given_at: Mapped[datetime]
    device_mg: Mapped[float]
    reason: Mapped[str | None] = mapped_column(sa.Text)  # why sooner than the interval


class VitalsReading(SessionEntryMixin, Base):
    __tablename__ = "vitals_readings"
    __table_args__ = (
        # Leads with (session, time) for a session's readings in order; carries the values
        # the progress reads (before dosing, struck, HR, BP) so those never touch the rows.
        sa.Index("ix_vitals_session_taken_values", "session_id", "taken_at", "predose",
                 "struck_at", "hr", "systolic", "diastolic"),
        sa.CheckConstraint(
            "diastolic IS NULL OR systolic IS NULL OR diastolic < systolic", name="dia_below_sys"
        ),
    )
    taken_at: Mapped[datetime]
    hr: Mapped[float | None]
    systolic: Mapped[float | None]
    diastolic: Mapped[float | None]
    spo2: Mapped[float | None]
    rr: Mapped[float | None]
    temperature_c: Mapped[float | None]
    etco2_mmhg: Mapped[float | None]
    rhythm: Mapped[str | None] = mapped_column(sa.String(100))
    source: Mapped[e.VitalsSource] = mapped_column(enum_column(e.VitalsSource, "source"))
    device_id: Mapped[str | None] = mapped_column(sa.String(100))
    # True when taken before dosing (judged against the pre-dose thresholds).
    predose: Mapped[bool] = mapped_column(default=False)


class Alert(SessionEntryMixin, Base):
    __tablename__ = "alerts"
    vitals_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("vitals_readings.id"))
    rule: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[e.AlertSeverity] = mapped_column(enum_column(e.AlertSeverity, "severity"))
    message: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[float | None]
    threshold: Mapped[float | None]
    raised_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[uuid.UUID | None] = user_fk()
    action: Mapped[e.AlertAction | None] = mapped_column(enum_column(e.AlertAction, "action"))
    action_note: Mapped[str | None] = mapped_column(sa.Text)


class SideEffect(SessionEntryMixin, Base):
    __tablename__ = "side_effects"
    kind: Mapped[e.SideEffectKind] = mapped_column(enum_column(e.SideEffectKind, "kind"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    onset_at: Mapped[datetime]
    severity: Mapped[e.Severity] = mapped_column(enum_column(e.Severity, "severity"))
    serious: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")


class Intervention(SessionEntryMixin, Base):
    __tablename__ = "interventions"
    kind: Mapped[e.InterventionKind] = mapped_column(enum_column(e.InterventionKind, "kind"))
    drug: Mapped[str | None] = mapped_column(sa.String(100))
    dose: Mapped[float | None]
    dose_unit: Mapped[str | None] = mapped_column(sa.String(16))
    route: Mapped[str | None] = mapped_column(sa.String(32))
    given_at: Mapped[datetime]
    given_by_id: Mapped[uuid.UUID | None] = user_fk()
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    side_effect_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("side_effects.id"))
    alert_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("alerts.id"))


class DissociationReport(SessionEntryMixin, Base):
    __tablename__ = "dissociation_reports"
    __table_args__ = (
        sa.CheckConstraint("intensity >= 0 AND intensity <= 10", name="intensity_range"),
    )
    reported_at: Mapped[datetime]
    intensity: Mapped[int]
    descriptors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    patient_words: Mapped[str] = mapped_column(sa.Text, default="")
    observation: Mapped[str] = mapped_column(sa.Text, default="")
    valence: Mapped[e.Valence] = mapped_column(enum_column(e.Valence, "valence"))


class InstrumentResponse(EntryMixin, Base):
    """A completed questionnaire or scale (PHQ-9, GAD-7, CADSS...)."""

    __tablename__ = "instrument_responses"
    __table_args__ = (
        sa.Index("ix_instrument_patient_code_taken", "patient_id", "instrument", "taken_at"),
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    course_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("courses.id"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    instrument: Mapped[str] = mapped_column(sa.String(32))
    instrument_version: Mapped[str] = mapped_column(sa.String(32))
    time_point: Mapped[e.TimePoint] = mapped_column(enum_column(e.TimePoint, "time_point"))
    taken_at: Mapped[datetime]
    answers: Mapped[dict[str, int]] = mapped_column(JSONType)  # {"1": 2, "2": 0, ...}
    total: Mapped[float]
    band: Mapped[str | None] = mapped_column(sa.String(64))
    subscales: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)


class Note(EntryMixin, Base):
    __tablename__ = "notes"
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    written_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(sa.Text)


class Addendum(SessionEntryMixin, Base):
    """Text added to a session after it was signed; signed in its turn."""

    __tablename__ = "addenda"
    text: Mapped[str] = mapped_column(sa.Text)
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[uuid.UUID | None] = user_fk()
    signature_meaning: Mapped[str | None] = mapped_column(sa.String(200))


class AuditEntry(IdMixin, Base):
    """Append-only trail: who did what, when, with old and new values and the reason.

    ``seq`` orders the entries; ``entry_hash`` is SHA-256 over this entry's content and
    the previous entry's hash, so an edited, removed or inserted row breaks the chain.
    Database triggers refuse UPDATE and DELETE on this table (see the migrations).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_patient_at", "patient_id", "at"),
        sa.Index("ix_audit_user_at", "user_id", "at"),
    )
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[uuid.UUID | None] = user_fk()
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("patients.id"))
    session_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("sessions.id"))
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    origin: Mapped[str] = mapped_column(sa.String(36))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    entry_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)



class Draft(IdMixin, Base):
    """A half-typed form (a note, an instrument...), kept while its author types, so that
    a crash, a power cut or the screen lock loses nothing. Inside the database, so it is
    encrypted with it; never in a temporary file. Only its author ever loads it. Not a
    clinical record: it is replaced as typing goes on and removed once the form is saved.
    """

    __tablename__ = "drafts"
    __table_args__ = (sa.UniqueConstraint("user_id", "form_key", name="uq_drafts_user_form"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    form_key: Mapped[str] = mapped_column(sa.String(200))
    content: Mapped[str] = mapped_column(sa.Text)  # JSON text: {field name: value}
    saved_at: Mapped[datetime]
    origin: Mapped[str] = mapped_column(sa.String(36))
