"""Scores, notes, addenda, and striking through a wrong entry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property

import sqlalchemy as sa

from kapp.domain import entities as d
from kapp.domain import enums as e
from kapp.domain.accounts import ADDENDUM_MEANING
from kapp.domain.errors import FieldError, NotFound
from kapp.domain.ids import new_id
from kapp.domain.instruments import Instrument, load_instruments, score, score_problems
from kapp.domain.permissions import Permission
from kapp.domain.text import coded, identifier, moment, required_text
from kapp.paths import instruments_dir
from kapp.services.base import (
    Actor,
    Change,
    Service,
    editable_session,
    get_or_404,
    raise_if,
    strike_row,
)
from kapp.services.reading import SessionEntries, session_entries
from kapp.services.users import check_password
from kapp.storage import mappers
from kapp.storage import models as m

# The tables whose rows can be struck through, by the name the UI and audit use.
STRIKABLE: dict[str, type] = {
    "infusion_events": m.InfusionEvent,
    "nasal_devices": m.NasalDevice,
    "vitals_readings": m.VitalsReading,
    "alerts": m.Alert,
    "side_effects": m.SideEffect,
    "interventions": m.Intervention,
    "dissociation_reports": m.DissociationReport,
    "instrument_responses": m.InstrumentResponse,
    "notes": m.Note,
}


class RecordService(Service):
    @cached_property
    def instruments(self) -> dict[str, Instrument]:
        """The instrument definitions shipped in resources/ (and any a clinic added)."""
        return load_instruments(instruments_dir())

    def record_instrument(self, *, actor: Actor, patient_id: uuid.UUID, instrument: str,
                          answers: Mapping[int, int], time_point: e.TimePoint | str,
                          session_id: uuid.UUID | None = None,
                          course_id: uuid.UUID | None = None,
                          taken_at: datetime | None = None) -> d.InstrumentResult:
        """Score and store a completed instrument. A baseline score also becomes the
        course's baseline, against which response and remission are judged."""
        definition = self.instruments.get(instrument) if isinstance(instrument, str) else None
        if not isinstance(answers, Mapping):
            raise_if([FieldError("answers", "The answers must be given item by item")])
        if definition is None:
            raise_if([FieldError("instrument", f"Unknown instrument '{instrument}'",
                                 ", ".join(sorted(self.instruments)))])
        assert definition is not None
        raise_if(score_problems(definition, answers))
        result = score(definition, answers)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            get_or_404(uow.session, m.Patient, patient_id, "patient")
            errors: list[FieldError] = []
            session_id = identifier(errors, "session_id", "Session", session_id)
            course_id = identifier(errors, "course_id", "Course", course_id)
            point = coded(errors, "time_point", "Time point", time_point, e.TimePoint)
            when = moment(errors, "taken_at", "Time", taken_at or uow.now, uow.now)
            raise_if(errors)
            if session_id is not None:
                session = editable_session(uow, session_id)
                course_id = course_id or session.course_id
                if session.patient_id != patient_id:
                    raise_if([FieldError("session_id", "That session is another patient's")])
            course = uow.session.get(m.Course, course_id) if course_id else None
            if course_id is not None and (course is None or course.patient_id != patient_id):
                raise_if([FieldError("course_id", "That course is not this patient's")])
            row = m.InstrumentResponse(
                id=new_id(), entered_at=uow.now, entered_by_id=user.id, origin=uow.origin,
                patient_id=patient_id, course_id=course_id, session_id=session_id,
                instrument=definition.code, instrument_version=definition.version,
                time_point=point, taken_at=when,
                answers={str(k): int(v) for k, v in answers.items()}, total=result.total,
                band=result.band, subscales=dict(result.subscales), flags=list(result.flags))
            uow.session.add(row)
            uow.session.flush()
            if course is not None and point is e.TimePoint.BASELINE:
                course.baseline_scores = {**(course.baseline_scores or {}),
                                          definition.code: result.total}
            uow.audit(user_id=user.id, action="instrument.record",
                      entity="instrument_responses", entity_id=row.id, patient_id=patient_id,
                      session_id=session_id,
                      new={"instrument": definition.code, "time_point": point,
                           "total": result.total, "flags": list(result.flags)})
            stored = mappers.instrument(row)
        self.hub.notify(Change.ENTRIES, Change.COURSES)
        return stored

    def scores_for_patient(self, patient_id: uuid.UUID, instrument: str | None = None,
                           session_id: uuid.UUID | None = None) -> list[d.InstrumentResult]:
        """The patient's scores in the order taken, struck ones left out; only one
        instrument's, or only one session's, when asked (a form about one session reads
        its few, not ten years of them)."""
        query = sa.select(m.InstrumentResponse).where(
            m.InstrumentResponse.patient_id == patient_id,
            m.InstrumentResponse.struck_at.is_(None))
        if instrument:
            query = query.where(m.InstrumentResponse.instrument == instrument)
        if session_id is not None:
            query = query.where(m.InstrumentResponse.session_id == session_id)
        with self.db.reading() as s:
            rows = s.execute(query.order_by(m.InstrumentResponse.taken_at)).scalars()
            return [mappers.instrument(r) for r in rows]

    def add_note(self, *, actor: Actor, patient_id: uuid.UUID, text: str,
                 session_id: uuid.UUID | None = None,
                 written_at: datetime | None = None) -> d.Note:
        errors: list[FieldError] = []
        body = required_text(errors, "text", "Note", text, 20000)
        session_id = identifier(errors, "session_id", "Session", session_id)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            get_or_404(uow.session, m.Patient, patient_id, "patient")
            if session_id is not None:
                session = editable_session(uow, session_id)
                if session.patient_id != patient_id:
                    raise_if([FieldError("session_id", "That session is another patient's")])
            errors = []
            when = moment(errors, "written_at", "Time", written_at or uow.now, uow.now)
            raise_if(errors)
            note = m.Note(id=new_id(), entered_at=uow.now, entered_by_id=user.id,
                          origin=uow.origin, patient_id=patient_id, session_id=session_id,
                          written_at=when, text=body)
            uow.session.add(note)
            uow.session.flush()
            uow.audit(user_id=user.id, action="note.add", entity="notes", entity_id=note.id,
                      patient_id=patient_id, session_id=session_id, new={"text": body})
            result = mappers.note(note)
        self.hub.notify(Change.ENTRIES)
        return result

    def add_addendum(self, *, actor: Actor, session_id: uuid.UUID, text: str, password: str,
                     meaning: str = ADDENDUM_MEANING) -> d.Addendum:
        """Text added to a signed session, signed by its author at once: like signing the
        session, the author types their password again (checked in this same call; a wrong
        one writes nothing but the failed attempt to the audit trail) and the signature
        records its meaning, time and signer."""
        errors: list[FieldError] = []
        body = required_text(errors, "text", "Addendum", text, 20000)
        what = required_text(errors, "meaning", "Meaning of the signature", meaning, 200)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            session = get_or_404(uow.session, m.Session, session_id, "session")
            if session.signed_at is None:
                raise_if([FieldError("text", "This session is not signed yet: correct or add "
                                     "to it directly; addenda are for signed sessions")])
            refused = check_password(uow, user, password, action="addendum.sign")
            if refused is None:
                row = m.Addendum(id=new_id(), session_id=session_id, entered_at=uow.now,
                                 entered_by_id=user.id, origin=uow.origin, text=body,
                                 signed_at=uow.now, signed_by_id=user.id,
                                 signature_meaning=what)
                uow.session.add(row)
                uow.session.flush()
                uow.audit(user_id=user.id, action="addendum.add", entity="addenda",
                          entity_id=row.id, patient_id=session.patient_id,
                          session_id=session_id, new={"text": body, "meaning": what})
                result = mappers.addendum(row)
        if refused is not None:
            raise refused
        self.hub.notify(Change.ENTRIES)
        return result

    sign_addendum = add_addendum
    """The same call under the name the addendum dialog may prefer."""

    def strike(self, *, actor: Actor, table: str, entry_id: uuid.UUID, reason: str) -> None:
        """Strike a wrong entry through. It keeps its values, shown struck through with
        who did it, when and why; nothing is ever deleted."""
        errors: list[FieldError] = []
        why = required_text(errors, "reason", "Reason", reason, 2000)
        entry_id = identifier(errors, "entry_id", "Entry", entry_id)  # type: ignore[assignment]
        if entry_id is None and not any(e.field == "entry_id" for e in errors):
            errors.append(FieldError("entry_id", "Choose the entry to strike through"))
        if not isinstance(table, str) or table not in STRIKABLE:
            errors.append(FieldError("table", f"Entries of '{table}' cannot be struck through"))
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = uow.session.get(STRIKABLE[table], entry_id)
            if row is None:
                raise NotFound(f"No entry {entry_id} in {table}")
            session_id = getattr(row, "session_id", None)
            if session_id is not None:
                editable_session(uow, session_id)
            patient_id = getattr(row, "patient_id", None)
            if patient_id is None and session_id is not None:
                patient_id = uow.session.get(m.Session, session_id).patient_id  # type: ignore[union-attr]
            strike_row(uow, user_id=user.id, table=table, row=row, reason=why,
                       patient_id=patient_id, session_id=session_id)
            nasal = isinstance(row, m.NasalDevice)
            if nasal:
                from kapp.services.nasal import resync_after_strike

                resync_after_strike(uow, user.id, editable_session(uow, row.session_id), row)
        self.hub.notify(Change.ENTRIES, Change.ALERTS, *([Change.SESSIONS] if nasal else []))

    # -- reads for the step dialogs and session panels ------------------------------------
    def session_entries(self, session_id: uuid.UUID) -> SessionEntries:
        """Everything recorded in a session, struck-through entries included."""
        with self.db.reading() as s:
            get_or_404(s, m.Session, session_id, "session")
            return session_entries(s, session_id)

    def vitals_reading(self, reading_id: uuid.UUID) -> d.VitalsReading:
        with self.db.reading() as s:
            return mappers.vitals(get_or_404(s, m.VitalsReading, reading_id, "vitals reading"))
