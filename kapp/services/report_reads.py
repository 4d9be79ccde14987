"""What the printable reports read: a whole session record, or a patient's history.

Each read is one read transaction and returns plain domain records, so that the report
builders (``kapp.reports``) never touch the database and can be tested on hand-made data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import sqlalchemy as sa

from kapp.domain import dosing
from kapp.domain import entities as d
from kapp.domain.errors import NotFound
from kapp.domain.instruments import Instrument, load_instruments
from kapp.domain.protocol import Protocol
from kapp.domain.series import VitalsSample
from kapp.paths import instruments_dir
from kapp.services.base import Actor, Service, get_or_404
from kapp.services.progress import vitals_samples
from kapp.services.protocol import load_protocol
from kapp.services.reading import SessionEntries, session_entries
from kapp.services.sessions import as_pump
from kapp.storage import mappers
from kapp.storage import models as m


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """Everything a printed session record shows."""

    session: d.TreatmentSession
    patient: d.Patient
    course: d.Course
    entries: SessionEntries  # struck entries included, to be shown struck through
    staff: dict[uuid.UUID, d.User]
    protocol: Protocol
    delivery: dosing.Delivery | None  # from the pump events that stand; None: no pump
    instruments: dict[str, Instrument]
    printed_at: datetime

    def who(self, user_id: uuid.UUID | None) -> str:
        if user_id is None:
            return ""
        user = self.staff.get(user_id)
        return user.full_name if user else str(user_id)


@dataclass(frozen=True, slots=True)
class PatientHistory:
    """A patient's courses, sessions and what the progress report charts."""

    patient: d.Patient
    courses: tuple[d.Course, ...]
    sessions: tuple[d.TreatmentSession, ...]  # in time order
    scores: tuple[d.InstrumentResult, ...]  # standing (not struck), in time order
    # standing, in time order: the readings before dosing as they are, and per session
    # one sample of the highest readings after it (all the report needs)
    vitals: tuple[VitalsSample, ...]
    dissociation: tuple[d.DissociationReport, ...]
    side_effects: tuple[d.SideEffect, ...]
    protocol: Protocol
    instruments: dict[str, Instrument]
    printed_at: datetime


class ReportReads(Service):
    """Read-only; reports are built from what these return."""

    @cached_property
    def instruments(self) -> dict[str, Instrument]:
        return load_instruments(instruments_dir())

    def session_record(self, session_id: uuid.UUID) -> SessionRecord:
        """Raises ``NotFound`` for an unknown session."""
        now = self.db.clock.now()
        with self.db.reading() as s:
            row = get_or_404(s, m.Session, session_id, "session")
            entries = session_entries(s, session_id)
            standing = [r for r in s.execute(
                sa.select(m.InfusionEvent).where(m.InfusionEvent.session_id == session_id,
                                                 m.InfusionEvent.struck_at.is_(None))
                .order_by(m.InfusionEvent.at, m.InfusionEvent.entered_at)).scalars()]
            delivery = None
            if row.concentration_mg_per_ml:  # a pump only runs for a diluted infusion
                delivery = dosing.delivered(as_pump(standing), row.concentration_mg_per_ml,
                                            row.infusion_ended_at or now)
            return SessionRecord(
                session=mappers.session(row),
                patient=mappers.patient(get_or_404(s, m.Patient, row.patient_id, "patient")),
                course=mappers.course(get_or_404(s, m.Course, row.course_id, "course")),
                entries=entries,
                staff=_staff(s),
                protocol=load_protocol(s),
                delivery=delivery,
                instruments=self.instruments,
                printed_at=now,
            )

    def patient_history(self, patient_id: uuid.UUID) -> PatientHistory:
        """Raises ``NotFound`` for an unknown patient."""
        with self.db.reading() as s:
            patient = mappers.patient(get_or_404(s, m.Patient, patient_id, "patient"))
            courses = tuple(map(mappers.course, s.execute(
                sa.select(m.Course).where(m.Course.patient_id == patient_id)
                .order_by(m.Course.started_on)).scalars()))
            sessions = tuple(map(mappers.session, s.execute(
                sa.select(m.Session).where(m.Session.patient_id == patient_id)
                .order_by(m.Session.planned_start)).scalars()))
            scores = tuple(map(mappers.instrument, s.execute(
                sa.select(m.InstrumentResponse).where(
                    m.InstrumentResponse.patient_id == patient_id,
                    m.InstrumentResponse.struck_at.is_(None))
                .order_by(m.InstrumentResponse.taken_at)).scalars()))

            def of_patient(model: type, order: sa.ColumnElement) -> list:
                return list(s.execute(
                    sa.select(model).join(m.Session, model.session_id == m.Session.id)
                    .where(m.Session.patient_id == patient_id, model.struck_at.is_(None))
                    .order_by(order)).scalars())

            vitals = tuple(vitals_samples(s, patient_id, list(sessions)))
            dissociation = tuple(map(mappers.dissociation, of_patient(
                m.DissociationReport, m.DissociationReport.reported_at)))
            side_effects = tuple(map(mappers.side_effect, of_patient(
                m.SideEffect, m.SideEffect.onset_at)))
            protocol = load_protocol(s)
        return PatientHistory(patient=patient, courses=courses, sessions=sessions,
                              scores=scores, vitals=vitals, dissociation=dissociation,
                              side_effects=side_effects, protocol=protocol,
                              instruments=self.instruments,
                              printed_at=self.db.clock.now())

    def note_report(self, kind: str, *, actor: Actor | None, patient_id: uuid.UUID,
                    session_id: uuid.UUID | None = None, destination: str) -> None:
        """Write the audit entry for a report made. A saved or printed record carries the
        patient's data out of kapp, so who made which report, when and to where is kept
        like any other disclosure (as the CSV export is)."""
        with self.db.unit_of_work() as uow:
            user_id = self._user(uow, actor, None).id if actor is not None else None
            uow.audit(user_id=user_id, action=f"report.{kind}", entity="report",
                      entity_id=session_id, patient_id=patient_id, session_id=session_id,
                      new={"destination": destination})

    def patient_id_for_mrn(self, mrn: str) -> uuid.UUID:
        """Raises ``NotFound`` naming the MRN when there is no such patient."""
        with self.db.reading() as s:
            pid = s.execute(sa.select(m.Patient.id).where(m.Patient.mrn == mrn.strip())).scalar()
        if pid is None:
            raise NotFound(f"No patient with MRN '{mrn}'")
        return pid


def _staff(s: sa.orm.Session) -> dict[uuid.UUID, d.User]:
    return {u.id: mappers.user(u) for u in s.execute(sa.select(m.User)).scalars()}
