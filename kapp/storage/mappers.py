"""Copies of ORM rows as domain entities, taken inside the unit of work."""

from __future__ import annotations

from typing import Any

from kapp.domain import entities as d
from kapp.storage import models as m
from kapp.storage.base import EntryMixin


def user(row: m.User) -> d.User:
    return d.User(row.id, row.username, row.full_name, row.role, row.active)


def patient(row: m.Patient) -> d.Patient:
    return d.Patient(
        id=row.id,
        mrn=row.mrn,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        sex=row.sex,
        indication=row.indication,
        allergies=row.allergies,
        contraindications=dict(row.contraindications or {}),
        medication_flags=tuple(row.medication_flags or ()),
        current_medications=row.current_medications,
        notes=row.notes,
        version=row.version,
    )


def course(row: m.Course) -> d.Course:
    return d.Course(
        id=row.id,
        patient_id=row.patient_id,
        kind=row.kind,
        planned_sessions=row.planned_sessions,
        started_on=row.started_on,
        ended_on=row.ended_on,
        baseline_scores=dict(row.baseline_scores or {}),
        notes=row.notes,
    )


_SESSION_FIELDS = [f for f in d.TreatmentSession.__dataclass_fields__]


def session(row: m.Session) -> d.TreatmentSession:
    values: dict[str, Any] = {name: getattr(row, name) for name in _SESSION_FIELDS}
    values["pre_checklist"] = dict(row.pre_checklist or {})
    values["discharge_checklist"] = dict(row.discharge_checklist or {})
    return d.TreatmentSession(**values)


def entry(row: EntryMixin) -> d.Entry:
    strike = (
        d.Strike(row.struck_at, row.struck_by_id, row.strike_reason or "")
        if row.struck_at is not None and row.struck_by_id is not None
        else None
    )
    return d.Entry(row.id, row.entered_at, row.entered_by_id, strike, row.supersedes_id)


def _plain(row: Any, cls: type, **overrides: Any) -> Any:
    names = [n for n in cls.__dataclass_fields__ if n != "entry"]
    values = {n: getattr(row, n) for n in names if n not in overrides}
    return cls(entry=entry(row), **values, **overrides)


def infusion_event(row: m.InfusionEvent) -> d.InfusionEvent:
    return _plain(row, d.InfusionEvent)


def nasal_device(row: m.NasalDevice) -> d.NasalDevice:
    return _plain(row, d.NasalDevice)


def vitals(row: m.VitalsReading) -> d.VitalsReading:
    return _plain(row, d.VitalsReading)


def alert(row: m.Alert) -> d.Alert:
    return _plain(row, d.Alert)


def side_effect(row: m.SideEffect) -> d.SideEffect:
    return _plain(row, d.SideEffect)


def intervention(row: m.Intervention) -> d.Intervention:
    return _plain(row, d.Intervention)


def dissociation(row: m.DissociationReport) -> d.DissociationReport:
    return _plain(row, d.DissociationReport, descriptors=tuple(row.descriptors or ()))


def instrument(row: m.InstrumentResponse) -> d.InstrumentResult:
    return _plain(
        row,
        d.InstrumentResult,
        answers={int(k): int(v) for k, v in (row.answers or {}).items()},
        subscales=dict(row.subscales or {}),
        flags=tuple(row.flags or ()),
    )


def note(row: m.Note) -> d.Note:
    return _plain(row, d.Note)


def addendum(row: m.Addendum) -> d.Addendum:
    return _plain(row, d.Addendum)


def audit(row: m.AuditEntry) -> d.AuditRecord:
    return d.AuditRecord(
        id=row.id,
        seq=row.seq,
        at=row.at,
        user_id=row.user_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        patient_id=row.patient_id,
        session_id=row.session_id,
        old_values=row.old_values,
        new_values=row.new_values,
        reason=row.reason,
    )
