"""A patient's progress: everything of one patient read in a handful of queries, and the
series built from it (``kapp.domain.series``).

One query per table, never one per session: a patient ten years into boosters may have
two hundred sessions and several thousand vitals. The bulky tables (vitals, dissociation
reports, side effects, pump events) are read as plain columns with Core, which is several
times quicker than loading ORM objects, and struck-through entries are left out in SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import entities as d
from kapp.domain.instruments import Instrument, load_instruments
from kapp.domain.protocol import Protocol
from kapp.domain.series import PatientSeries, build_series
from kapp.paths import instruments_dir
from kapp.services.base import Service, get_or_404
from kapp.services.protocol import load_protocol
from kapp.storage import mappers
from kapp.storage import models as m


@dataclass(frozen=True, slots=True)
class PatientProgress:
    """What the progress view and the progress report show for one patient."""

    patient: d.Patient
    series: PatientSeries
    protocol: Protocol
    definitions: dict[str, Instrument]
    now: datetime


def _entry(row: sa.Row) -> d.Entry:
    return d.Entry(row.id, row.entered_at, row.entered_by_id, None, None)


class ProgressService(Service):
    @cached_property
    def definitions(self) -> dict[str, Instrument]:
        """The instrument definitions (bands, flag rules, names) the charts draw from."""
        return load_instruments(instruments_dir())

    def progress(self, patient_id: uuid.UUID, *, today: date | None = None) -> PatientProgress:
        """The patient's progress series as of now (``today``: the clinic's calendar day,
        by default the local day of the database clock).

        Raises:
            NotFound: there is no such patient.
        """
        now = self.db.clock.now()
        local = now.astimezone()
        with self.db.reading() as s:
            patient = mappers.patient(get_or_404(s, m.Patient, patient_id, "patient"))
            protocol = load_protocol(s)
            courses = [mappers.course(r) for r in s.execute(
                sa.select(m.Course).where(m.Course.patient_id == patient_id)).scalars()]
            sessions = [mappers.session(r) for r in s.execute(
                sa.select(m.Session).where(m.Session.patient_id == patient_id)).scalars()]
            results = [mappers.instrument(r) for r in s.execute(
                sa.select(m.InstrumentResponse).where(
                    m.InstrumentResponse.patient_id == patient_id,
                    m.InstrumentResponse.struck_at.is_(None))).scalars()]
            vitals = _vitals(s, patient_id)
            reports = _dissociation(s, patient_id)
            effects = _side_effects(s, patient_id)
            events = _pump(s, patient_id)
        series = build_series(
            courses=courses, sessions=sessions, results=results, vitals=vitals,
            dissociation=reports, side_effects=effects, infusion_events=events,
            definitions=self.definitions, protocol=protocol, today=today or local.date(),
            now=now, tz=local.tzinfo)
        return PatientProgress(patient, series, protocol, self.definitions, now)


def _of_patient(model: type, patient_id: uuid.UUID, *columns: sa.ColumnElement) -> sa.Select:
    """Live (not struck) entries of a patient's sessions, with the columns named."""
    return (sa.select(model.id, model.entered_at, model.entered_by_id, model.session_id,
                      *columns)
            .join(m.Session, m.Session.id == model.session_id)
            .where(m.Session.patient_id == patient_id, model.struck_at.is_(None)))


def _vitals(s: OrmSession, patient_id: uuid.UUID) -> list[d.VitalsReading]:
    v = m.VitalsReading
    rows = s.execute(_of_patient(v, patient_id, v.taken_at, v.hr, v.systolic, v.diastolic,
                                 v.predose))
    return [d.VitalsReading(_entry(r), r.session_id, r.taken_at, hr=r.hr, systolic=r.systolic,
                            diastolic=r.diastolic, predose=bool(r.predose)) for r in rows]


def _dissociation(s: OrmSession, patient_id: uuid.UUID) -> list[d.DissociationReport]:
    x = m.DissociationReport
    rows = s.execute(_of_patient(x, patient_id, x.reported_at, x.intensity, x.valence))
    return [d.DissociationReport(_entry(r), r.session_id, r.reported_at, r.intensity, r.valence)
            for r in rows]


def _side_effects(s: OrmSession, patient_id: uuid.UUID) -> list[d.SideEffect]:
    x = m.SideEffect
    rows = s.execute(_of_patient(x, patient_id, x.kind, x.onset_at, x.severity, x.serious,
                                 x.description))
    return [d.SideEffect(_entry(r), r.session_id, r.kind, r.onset_at, r.severity,
                         serious=bool(r.serious), description=r.description or "")
            for r in rows]


def _pump(s: OrmSession, patient_id: uuid.UUID) -> list[d.InfusionEvent]:
    x = m.InfusionEvent
    rows = s.execute(_of_patient(x, patient_id, x.kind, x.at, x.rate_ml_per_h, x.reason))
    return [d.InfusionEvent(_entry(r), r.session_id, r.kind, r.at, r.rate_ml_per_h, r.reason)
            for r in rows]
