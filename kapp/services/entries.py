"""What the nurse records during a session: vitals (and the alerts they raise), side
effects, interventions and dissociation reports."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Protocol as Shape

import sqlalchemy as sa

from kapp.domain import entities as d
from kapp.domain import enums as e
from kapp.domain.errors import FieldError, NotFound, PermissionDenied, RecordLocked
from kapp.domain.ids import new_id
from kapp.domain.permissions import Permission, require
from kapp.domain.text import coded, identifier, moment, number, optional_text
from kapp.domain.vitals import (
    AlertFinding,
    VitalsInput,
    predose_findings,
    session_alerts,
    vitals_problems,
)
from kapp.services.base import (
    Actor,
    Change,
    Service,
    actor_id,
    editable_session,
    get_or_404,
    raise_if,
    strike_row,
)
from kapp.services.protocol import load_protocol
from kapp.storage import mappers
from kapp.storage import models as m
from kapp.storage.database import UnitOfWork, Writing

# Entries may be typed a while after the event, and a session may start later than
# planned, but not half a day before it was planned: that is a typing error.
_PLAN_SLACK = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class RecordedVitals:
    reading: d.VitalsReading
    alerts: tuple[d.Alert, ...]  # raised by this reading (pre-dose warn/hold, or alert)


def _entry(uow: UnitOfWork, user: m.User) -> dict[str, object]:
    return {"id": new_id(), "entered_at": uow.now, "entered_by_id": user.id,
            "origin": uow.origin}


class _Where(Shape):
    """What recording into a session needs to know of it (an ORM row or a read row)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    status: e.SessionStatus
    planned_start: datetime
    actual_start: datetime | None


# Built once, so that each reading reuses SQLAlchemy's compiled statements.
_WHO_AND_WHERE = (
    sa.select(m.User.role, m.User.active, m.User.full_name, m.Session.id,
              m.Session.patient_id, m.Session.status, m.Session.signed_at,
              m.Session.planned_start, m.Session.actual_start)
    .select_from(m.User)
    .outerjoin(m.Session, m.Session.id == sa.bindparam("sid", type_=m.Session.id.type))
    .where(m.User.id == sa.bindparam("uid", type_=m.User.id.type))
)
_INSERT_VITALS = sa.insert(m.VitalsReading)
_INSERT_ALERT = sa.insert(m.Alert)
_VITAL_SIGNS = tuple(f.name for f in fields(VitalsInput))


def _connection(uow: UnitOfWork | Writing) -> sa.Connection:
    return uow.connection if isinstance(uow, Writing) else uow.session.connection()


def _recording_in(w: Writing, actor: Actor,
                  session_id: uuid.UUID) -> tuple[uuid.UUID, _Where]:
    """The acting user (re-read: a role is never taken on trust, a deactivated account
    can do nothing) and the session, if it may still change, in one read. The same
    checks, in the same order, as ``Service._user`` and ``editable_session``."""
    user_id = actor_id(actor)
    sid = session_id if isinstance(session_id, uuid.UUID) else None
    row = w.connection.execute(_WHO_AND_WHERE, {"uid": user_id, "sid": sid}).first()
    if row is None or not row.active:
        raise PermissionDenied("This account does not exist or has been deactivated.")
    require(row.role, Permission.RECORD, who=row.full_name)
    if sid is None or row.id is None:
        raise NotFound(f"No session with id {session_id!r}" if sid is None
                       else f"No session with id {session_id}")
    if row.signed_at is not None:
        raise RecordLocked(
            "This session is signed and can no longer change; add an addendum instead."
        )
    return user_id, row


def _entry_columns(entry: d.Entry, origin: str) -> dict[str, object]:
    return {"id": entry.id, "entered_at": entry.entered_at,
            "entered_by_id": entry.entered_by_id, "origin": origin,
            "supersedes_id": entry.supersedes_id, "struck_at": None, "struck_by_id": None,
            "strike_reason": None}


def _reject_before_session(row: _Where, errors: list[FieldError], field: str,
                           when: datetime | None) -> None:
    """An entry timed before the session was even planned is a typing error."""
    floor = min(row.planned_start, row.actual_start or row.planned_start)
    if when is not None and when < floor - _PLAN_SLACK:
        errors.append(FieldError(field, f"This time is before the session started "
                                 f"({floor:%Y-%m-%d %H:%M} UTC)"))




class EntryService(Service):
    # -- vitals and alerts ----------------------------------------------------------------
    def record_vitals(self, *, actor: Actor, session_id: uuid.UUID, values: VitalsInput,
                      taken_at: datetime | None = None, rhythm: str | None = None,
                      source: e.VitalsSource | str = e.VitalsSource.MANUAL,
                      device_id: str | None = None) -> RecordedVitals:
        """Validate, store, judge against the protocol, audit: all in one transaction.

        Before the pump starts a reading is a pre-dose baseline and is judged against
        the pre-dose warn/hold levels; afterwards against the during-session alerts.

        The nurse's most frequent entry, so it takes the short road: one read for the
        acting user and the session, one for the protocol, and plain inserts for the
        reading, its alerts and their audit entries (no ORM unit of work); the same
        checks, the same rows, the same durable commit.
        """
        with self.db.writing() as w:
            user_id, where = _recording_in(w, actor, session_id)
            result = self._record_vitals(w, user_id, where, values, taken_at, rhythm,
                                         source, device_id, None)
        self.hub.notify(Change.ENTRIES, *([Change.ALERTS] if result.alerts else []))
        return result

    def correct_vitals(self, *, actor: Actor, reading_id: uuid.UUID, values: VitalsInput,
                       reason: str, taken_at: datetime | None = None,
                       rhythm: str | None = None) -> RecordedVitals:
        """Strike a wrong reading through and record the right one, in one transaction:
        the old values stay visible, struck through, with the reason."""
        errors: list[FieldError] = []
        why = optional_text(errors, "reason", "Reason", reason, 2000)
        if not why:
            errors.append(FieldError("reason", "Say why the reading is corrected"))
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            old = get_or_404(uow.session, m.VitalsReading, reading_id, "vitals reading")
            row = editable_session(uow, old.session_id)
            strike_row(uow, user_id=user.id, table="vitals_readings", row=old, reason=why,
                       patient_id=row.patient_id, session_id=row.id)
            result = self._record_vitals(uow, user.id, row, values,
                                         taken_at or old.taken_at, rhythm, old.source,
                                         old.device_id, old.id)
        self.hub.notify(Change.ENTRIES, Change.ALERTS)
        return result

    def _record_vitals(self, uow: UnitOfWork | Writing, user_id: uuid.UUID, row: _Where,
                       values: VitalsInput, taken_at: datetime | None, rhythm: str | None,
                       source: e.VitalsSource | str, device_id: str | None,
                       supersedes_id: uuid.UUID | None) -> RecordedVitals:
        if row.status in (e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED):
            raise RecordLocked("This session has ended; add a note instead.")
        protocol = load_protocol(uow)
        errors = vitals_problems(values, protocol)
        when = moment(errors, "taken_at", "Time of reading", taken_at or uow.now, uow.now)
        _reject_before_session(row, errors, "taken_at", when)
        rhythm_text = optional_text(errors, "rhythm", "Rhythm", rhythm, 100) or None
        coded_source = coded(errors, "source", "Source", source, e.VitalsSource)
        raise_if(errors)
        assert when is not None and coded_source is not None  # else raise_if raised
        predose = row.actual_start is None or when < row.actual_start
        measured = _floats(values)
        entry = d.Entry(new_id(), uow.now, user_id, None, supersedes_id)
        _connection(uow).execute(_INSERT_VITALS, {
            **_entry_columns(entry, uow.origin), **measured, "session_id": row.id,
            "taken_at": when, "rhythm": rhythm_text, "source": coded_source,
            "device_id": device_id, "predose": predose})
        uow.audit(user_id=user_id, action="vitals.record", entity="vitals_readings",
                  entity_id=entry.id, patient_id=row.patient_id, session_id=row.id,
                  new={"taken_at": when, "rhythm": rhythm_text, "predose": predose,
                       "supersedes_id": supersedes_id, **measured})
        reading = d.VitalsReading(entry=entry, session_id=row.id, taken_at=when,
                                  rhythm=rhythm_text, source=coded_source,
                                  device_id=device_id, predose=predose, **measured)
        findings = (predose_findings if predose else session_alerts)(values, protocol)
        alerts = [self._raise_alert(uow, user_id, row, reading, f) for f in findings]
        return RecordedVitals(reading, tuple(alerts))

    @staticmethod
    def _raise_alert(uow: UnitOfWork | Writing, user_id: uuid.UUID, session: _Where,
                     reading: d.VitalsReading, finding: AlertFinding) -> d.Alert:
        entry = d.Entry(new_id(), uow.now, user_id, None, None)
        alert = d.Alert(entry=entry, session_id=session.id, vitals_id=reading.id,
                        rule=finding.rule, severity=finding.severity,
                        message=finding.message, value=finding.value,
                        threshold=finding.threshold, raised_at=reading.taken_at)
        _connection(uow).execute(_INSERT_ALERT, {
            **_entry_columns(entry, uow.origin), "session_id": session.id,
            "vitals_id": reading.id, "rule": alert.rule, "severity": alert.severity,
            "message": alert.message, "value": alert.value, "threshold": alert.threshold,
            "raised_at": alert.raised_at, "acknowledged_at": None,
            "acknowledged_by_id": None, "action": None, "action_note": None})
        uow.audit(user_id=user_id, action="alert.raise", entity="alerts", entity_id=entry.id,
                  patient_id=session.patient_id, session_id=session.id,
                  new={"rule": alert.rule, "severity": alert.severity,
                       "message": alert.message})
        return alert

    def acknowledge_alert(self, *, actor: Actor, alert_id: uuid.UUID,
                          action: e.AlertAction | str, note: str = "") -> d.Alert:
        (result,) = self.acknowledge_alerts(actor=actor, alert_ids=[alert_id], action=action,
                                            note=note)
        return result

    def acknowledge_alerts(self, *, actor: Actor, alert_ids: Sequence[uuid.UUID],
                           action: e.AlertAction | str, note: str = "") -> list[d.Alert]:
        """Acknowledge the alerts one reading raised with the one action the nurse took
        (five vitals past their lines at once are one event at the bedside): all or none,
        one audit entry each."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            errors: list[FieldError] = []
            coded_action = coded(errors, "action", "Action taken", action, e.AlertAction)
            text = optional_text(errors, "action_note", "Note", note, 2000)
            if not alert_ids:
                errors.append(FieldError("action", "No alert was chosen to acknowledge"))
            alerts = [get_or_404(uow.session, m.Alert, alert_id, "alert")
                      for alert_id in dict.fromkeys(alert_ids)]
            sessions = {alert.session_id: editable_session(uow, alert.session_id)
                        for alert in alerts}
            if any(alert.acknowledged_at is not None for alert in alerts):
                errors.append(FieldError("action", "This alert was already acknowledged"))
            raise_if(errors)
            for alert in alerts:
                session = sessions[alert.session_id]
                alert.acknowledged_at, alert.acknowledged_by_id = uow.now, user.id
                alert.action, alert.action_note = coded_action, text or None
                uow.audit(user_id=user.id, action="alert.acknowledge", entity="alerts",
                          entity_id=alert.id, patient_id=session.patient_id,
                          session_id=session.id, new={"action": coded_action, "note": text})
            result = [mappers.alert(alert) for alert in alerts]
        self.hub.notify(Change.ALERTS)
        return result

    # -- side effects and interventions ---------------------------------------------------
    def record_side_effect(self, *, actor: Actor, session_id: uuid.UUID,
                           kind: e.SideEffectKind | str, severity: e.Severity | str,
                           onset_at: datetime | None = None, serious: bool = False,
                           description: str = "", notes: str = "") -> d.SideEffect:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            errors: list[FieldError] = []
            values = {
                "kind": coded(errors, "kind", "Side effect", kind, e.SideEffectKind),
                "severity": coded(errors, "severity", "Severity", severity, e.Severity),
                "onset_at": moment(errors, "onset_at", "Onset", onset_at or uow.now, uow.now),
                "serious": serious,
                "description": optional_text(errors, "description", "Description",
                                             description, 500),
                "notes": optional_text(errors, "notes", "Notes", notes, 4000),
            }
            if not isinstance(serious, bool):
                errors.append(FieldError("serious", "Serious is yes or no"))
            if values["kind"] is e.SideEffectKind.OTHER and not values["description"]:
                errors.append(FieldError("description", "Describe the side effect"))
            _reject_before_session(row, errors, "onset_at", values["onset_at"])  # type: ignore[arg-type]
            raise_if(errors)
            effect = m.SideEffect(session_id=session_id, **_entry(uow, user), **values)
            uow.session.add(effect)
            uow.session.flush()
            uow.audit(user_id=user.id, action="side_effect.record", entity="side_effects",
                      entity_id=effect.id, patient_id=row.patient_id, session_id=row.id,
                      new=values)
            result = mappers.side_effect(effect)
        self.hub.notify(Change.ENTRIES)
        return result

    def resolve_side_effect(self, *, actor: Actor, side_effect_id: uuid.UUID,
                            resolved_at: datetime | None = None) -> d.SideEffect:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            effect = get_or_404(uow.session, m.SideEffect, side_effect_id, "side effect")
            session = editable_session(uow, effect.session_id)
            errors: list[FieldError] = []
            when = moment(errors, "resolved_at", "Resolved at", resolved_at or uow.now, uow.now,
                          not_before=effect.onset_at)
            raise_if(errors)
            old = effect.resolved_at
            effect.resolved_at = when
            uow.audit(user_id=user.id, action="side_effect.resolve", entity="side_effects",
                      entity_id=effect.id, patient_id=session.patient_id,
                      session_id=session.id, old={"resolved_at": old},
                      new={"resolved_at": when})
            result = mappers.side_effect(effect)
        self.hub.notify(Change.ENTRIES)
        return result

    def record_intervention(self, *, actor: Actor, session_id: uuid.UUID,
                            kind: e.InterventionKind | str, reason: str,
                            given_at: datetime | None = None, drug: str | None = None,
                            dose: float | None = None, dose_unit: str | None = None,
                            route: str | None = None, given_by: uuid.UUID | None = None,
                            side_effect_id: uuid.UUID | None = None,
                            alert_id: uuid.UUID | None = None) -> d.Intervention:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            errors: list[FieldError] = []
            given_by = identifier(errors, "given_by", "Given by", given_by)
            side_effect_id = identifier(errors, "side_effect_id", "Side effect", side_effect_id)
            alert_id = identifier(errors, "alert_id", "Alert", alert_id)
            coded_kind = coded(errors, "kind", "Intervention", kind, e.InterventionKind)
            values = {
                "kind": coded_kind,
                "reason": optional_text(errors, "reason", "Reason", reason, 2000),
                "given_at": moment(errors, "given_at", "Time given", given_at or uow.now,
                                   uow.now),
                "drug": optional_text(errors, "drug", "Drug", drug, 100) or None,
                "dose": number(errors, "dose", "Dose", dose, 0, 10000, dose_unit or "",
                               required=False, lo_inclusive=False),
                "dose_unit": optional_text(errors, "dose_unit", "Dose unit", dose_unit, 16)
                or None,
                "route": optional_text(errors, "route", "Route", route, 32) or None,
                "given_by_id": given_by or user.id,
                "side_effect_id": side_effect_id,
                "alert_id": alert_id,
            }
            if coded_kind is e.InterventionKind.MEDICATION:
                for key, label in (("drug", "Drug"), ("dose", "Dose"), ("dose_unit", "Unit"),
                                   ("route", "Route")):
                    if values[key] is None:
                        errors.append(FieldError(key, f"{label} is required for a medication"))
            for key, model, what in ((side_effect_id, m.SideEffect, "side effect"),
                                     (alert_id, m.Alert, "alert")):
                if key is not None:
                    linked = uow.session.get(model, key)
                    if linked is None or linked.session_id != session_id:
                        errors.append(FieldError(f"{what.replace(' ', '_')}_id",
                                                 f"The linked {what} is not in this session"))
            raise_if(errors)
            done = m.Intervention(session_id=session_id, **_entry(uow, user), **values)
            uow.session.add(done)
            uow.session.flush()
            uow.audit(user_id=user.id, action="intervention.record", entity="interventions",
                      entity_id=done.id, patient_id=row.patient_id, session_id=row.id,
                      new=values)
            result = mappers.intervention(done)
        self.hub.notify(Change.ENTRIES)
        return result

    # -- dissociation -------------------------------------------------------------------------
    def record_dissociation(self, *, actor: Actor, session_id: uuid.UUID, intensity: int,
                            valence: e.Valence | str,
                            descriptors: Iterable[e.DissociationDescriptor | str] = (),
                            patient_words: str = "", observation: str = "",
                            reported_at: datetime | None = None) -> d.DissociationReport:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            errors: list[FieldError] = []
            level = number(errors, "intensity", "Intensity", intensity, 0, 10, "")
            if level is not None and level != int(level):
                errors.append(FieldError("intensity", "Intensity is a whole number from 0 to "
                                         "10", "0-10"))
            coded_descriptors = [coded(errors, "descriptors", "Descriptor", x,
                                       e.DissociationDescriptor) for x in descriptors]
            values = {
                "intensity": int(level) if level is not None else None,
                "valence": coded(errors, "valence", "Experience", valence, e.Valence),
                "descriptors": sorted({x.value for x in coded_descriptors if x}),
                "patient_words": optional_text(errors, "patient_words", "Patient's words",
                                               patient_words, 4000),
                "observation": optional_text(errors, "observation", "Observation",
                                             observation, 4000),
                "reported_at": moment(errors, "reported_at", "Time", reported_at or uow.now,
                                      uow.now),
            }
            raise_if(errors)
            report = m.DissociationReport(session_id=session_id, **_entry(uow, user), **values)
            uow.session.add(report)
            uow.session.flush()
            uow.audit(user_id=user.id, action="dissociation.record",
                      entity="dissociation_reports", entity_id=report.id,
                      patient_id=row.patient_id, session_id=row.id, new=values)
            result = mappers.dissociation(report)
        self.hub.notify(Change.ENTRIES)
        return result


def _floats(values: VitalsInput) -> dict[str, float | None]:
    return {k: (float(v) if v is not None else None)
            for k, v in ((k, getattr(values, k)) for k in _VITAL_SIGNS)}
