"""Intranasal esketamine sessions: each nasal device as it is given.

The first device starts the session (as the pump's start does for an infusion); the
device that completes the planned dose ends the dosing and starts the observation, timed
from that last device. A nurse may end the dosing early (the patient declines the next
device) with a reason. Each call is one transaction with its audit entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import enums as e
from kapp.domain.entities import NasalDevice
from kapp.domain.errors import FieldError, RecordLocked
from kapp.domain.ids import new_id
from kapp.domain.nasal import NasalDosing, device_problems, nasal_dosing
from kapp.domain.permissions import Permission
from kapp.domain.protocol import Protocol
from kapp.domain.text import moment, optional_text, required_text
from kapp.domain.vitals import fmt
from kapp.services.base import Actor, Change, Service, editable_session, get_or_404, raise_if
from kapp.services.protocol import load_protocol
from kapp.storage import mappers
from kapp.storage import models as m
from kapp.storage.database import UnitOfWork

# As for other entries: typed a while after the event, but not half a day before the
# session was planned (that is a typing error).
_PLAN_SLACK = timedelta(hours=12)
_ENDED = (e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED)


def devices_of(s: OrmSession, session_id: uuid.UUID) -> list[NasalDevice]:
    """Every device of a session, struck-through ones included, in time order."""
    rows = s.execute(sa.select(m.NasalDevice).where(m.NasalDevice.session_id == session_id)
                     .order_by(m.NasalDevice.given_at, m.NasalDevice.entered_at)).scalars()
    return [mappers.nasal_device(r) for r in rows]


def dosing_of(s: OrmSession, row: m.Session, protocol: Protocol) -> NasalDosing:
    return nasal_dosing(mappers.session(row), devices_of(s, row.id), protocol)


def given_mg(s: OrmSession, session_id: uuid.UUID) -> tuple[int, float]:
    """Devices given (not struck through) and their mg, in one query."""
    count, total = s.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(m.NasalDevice.device_mg), 0))
        .where(m.NasalDevice.session_id == session_id, m.NasalDevice.struck_at.is_(None))
    ).one()
    return int(count), float(total)


def _nasal_session(uow: UnitOfWork, session_id: uuid.UUID) -> m.Session:
    row = editable_session(uow, session_id)
    if row.route is not e.Route.INTRANASAL:
        raise_if([FieldError("route", "Nasal devices are recorded for intranasal sessions "
                             "only; this session is dosed by pump", "an intranasal session")])
    if row.status in _ENDED:
        raise RecordLocked("This session has ended; no more devices can be recorded.")
    return row


def _has_pump_events(s: OrmSession, session_id: uuid.UUID) -> bool:
    return s.execute(sa.select(m.InfusionEvent.id).where(
        m.InfusionEvent.session_id == session_id,
        m.InfusionEvent.struck_at.is_(None)).limit(1)).first() is not None


def _set(uow: UnitOfWork, row: m.Session, values: dict[str, Any]) -> dict[str, Any]:
    """Apply session changes; returns the old values (for the audit entry)."""
    old = {k: getattr(row, k) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    if values:
        row.updated_at = uow.now
    return old


def resync_after_strike(uow: UnitOfWork, user_id: uuid.UUID, row: m.Session,
                        struck: m.NasalDevice) -> None:
    """A device was struck through (a wrong entry): the session's start and end of dosing
    follow the devices that still stand. Nothing changes once the patient is ready to
    leave: the discharge times stand, and the total given is recounted anyway."""
    if row.status not in (e.SessionStatus.IN_PROGRESS, e.SessionStatus.RECOVERY) or \
            row.ready_to_leave_at is not None:
        return
    uow.session.flush()
    protocol = load_protocol(uow)
    dosing = dosing_of(uow.session, row, protocol)
    planned = row.dose_mg or 0
    was_complete = dosing.given_mg + struck.device_mg + 1e-6 >= planned > 0
    values: dict[str, Any] = {}
    if not dosing.given:
        if not _has_pump_events(uow.session, row.id):
            values = {"status": e.SessionStatus.PLANNED, "actual_start": None,
                      "infusion_ended_at": None}
    else:
        if not _has_pump_events(uow.session, row.id):
            values["actual_start"] = dosing.first_at
        if row.status is e.SessionStatus.RECOVERY:
            if was_complete and not dosing.complete:
                # Ended by reaching the planned dose, which it no longer does.
                values.update(status=e.SessionStatus.IN_PROGRESS, infusion_ended_at=None)
            else:  # ended early by the nurse: it still ended, after the last device
                values["infusion_ended_at"] = dosing.last_at
    values = {k: v for k, v in values.items() if getattr(row, k) != v}
    if values:
        old = _set(uow, row, values)
        uow.audit(user_id=user_id, action="nasal.recount", entity="sessions", entity_id=row.id,
                  patient_id=row.patient_id, session_id=row.id, old=old, new=values,
                  reason="a nasal device was struck through")


class NasalService(Service):
    def dosing(self, session_id: uuid.UUID) -> NasalDosing:
        """Devices planned and given so far, and when the next may be given."""
        with self.db.reading() as s:
            row = get_or_404(s, m.Session, session_id, "session")
            return dosing_of(s, row, load_protocol(s))

    def record_device(self, *, actor: Actor, session_id: uuid.UUID,
                      given_at: datetime | None = None,
                      early_reason: str | None = None) -> NasalDosing:
        """One nasal device given, at ``given_at`` (now when not given). Refused beyond
        the planned dose; sooner than the protocol's interval after the previous device
        only with ``early_reason``. The first device starts the session; the one that
        completes the planned dose starts the observation."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = _nasal_session(uow, session_id)
            errors: list[FieldError] = []
            when = moment(errors, "given_at", "Time given", given_at or uow.now, uow.now)
            reason = optional_text(errors, "early_reason", "Reason", early_reason, 2000)
            raise_if(errors)
            assert when is not None
            protocol = load_protocol(uow)
            dosing = dosing_of(uow.session, row, protocol)
            floor = row.actual_start or row.planned_start - _PLAN_SLACK
            if not dosing.given and when < floor:
                errors.append(FieldError(
                    "given_at", f"This time is before the session started "
                    f"({floor:%Y-%m-%d %H:%M} UTC)", f"from {floor:%Y-%m-%d %H:%M} UTC"))
            if row.status is e.SessionStatus.RECOVERY and not dosing.complete:
                errors.append(FieldError("devices", "Dosing has ended for this session: no "
                                         "more devices can be recorded"))
            else:
                errors += device_problems(dosing, when, early_reason=reason)
            raise_if(errors)
            early = bool(dosing.last_at is not None and
                         when < dosing.last_at + timedelta(minutes=dosing.interval_min))
            device = m.NasalDevice(
                id=new_id(), session_id=row.id, given_at=when,
                device_mg=protocol.esketamine_device_mg, reason=(reason or None) if early
                else None, entered_at=uow.now, entered_by_id=user.id, origin=uow.origin)
            uow.session.add(device)
            uow.session.flush()
            after = dosing_of(uow.session, row, protocol)
            changes: dict[str, Any] = {}
            if row.status is e.SessionStatus.PLANNED:
                changes.update(status=e.SessionStatus.IN_PROGRESS, actual_start=when)
            elif row.actual_start is None:
                changes["actual_start"] = when
            if after.complete:
                changes.update(status=e.SessionStatus.RECOVERY, infusion_ended_at=when)
            _set(uow, row, changes)
            uow.session.flush()
            uow.audit(user_id=user.id, action="nasal.device", entity="nasal_devices",
                      entity_id=device.id, patient_id=row.patient_id, session_id=row.id,
                      new={"given_at": when, "device_mg": device.device_mg,
                           "number": after.given_count, "given_mg": after.given_mg,
                           "planned_mg": row.dose_mg, "reason": device.reason, **changes})
        self.hub.notify(Change.SESSIONS, Change.ENTRIES)
        return after

    def end_dosing(self, *, actor: Actor, session_id: uuid.UUID, reason: str) -> NasalDosing:
        """End the dosing before the planned dose is all given (the patient declines the
        next device, a side effect): the observation starts from the last device given.
        The reason is kept in the audit trail and as a note on the session."""
        errors: list[FieldError] = []
        why = required_text(errors, "reason", "Reason", reason, 2000)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = _nasal_session(uow, session_id)
            protocol = load_protocol(uow)
            dosing = dosing_of(uow.session, row, protocol)
            if not dosing.given:
                raise_if([FieldError("devices", "No device has been given yet: to stop "
                                     "before dosing, abort the session instead")])
            if row.status is not e.SessionStatus.IN_PROGRESS:
                raise_if([FieldError("devices", "Dosing has already ended")])
            values = {"status": e.SessionStatus.RECOVERY, "infusion_ended_at": dosing.last_at}
            old = _set(uow, row, values)
            planned = f" of {dosing.planned_count}" if dosing.planned_count else ""
            text = (f"Nasal dosing ended after {dosing.given_count}{planned} device(s), "
                    f"{fmt(dosing.given_mg)} of {fmt(row.dose_mg or 0)} mg given: {why}")
            note = m.Note(id=new_id(), entered_at=uow.now, entered_by_id=user.id,
                          origin=uow.origin, patient_id=row.patient_id, session_id=row.id,
                          written_at=uow.now, text=text)
            uow.session.add(note)
            uow.session.flush()
            uow.audit(user_id=user.id, action="nasal.end_dosing", entity="sessions",
                      entity_id=row.id, patient_id=row.patient_id, session_id=row.id,
                      old=old, new={**values, "given_mg": dosing.given_mg, "note": text},
                      reason=why)
        self.hub.notify(Change.SESSIONS, Change.ENTRIES)
        return dosing
