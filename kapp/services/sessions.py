"""Treatment sessions: planning the dose, the pump, checklists, discharge, signature."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import dosing
from kapp.domain import enums as e
from kapp.domain.accounts import SIGNATURE_MEANING
from kapp.domain.entities import TreatmentSession
from kapp.domain.errors import FieldError, RecordLocked
from kapp.domain.ids import new_id
from kapp.domain.permissions import Permission, allowed
from kapp.domain.protocol import Protocol
from kapp.domain.signing import missing_for_signature
from kapp.domain.text import coded, identifier, moment, number, optional_text, required_text
from kapp.services.base import (
    Actor,
    Change,
    Service,
    editable_session,
    get_or_404,
    raise_if,
)
from kapp.services.protocol import load_protocol
from kapp.services.reading import SessionEntries, session_entries
from kapp.services.users import check_password
from kapp.storage import mappers
from kapp.storage import models as m
from kapp.storage.database import UnitOfWork


@dataclass(frozen=True, slots=True)
class DoseForm:
    """The dose as the nurse types it. Weight is kept as typed, with its unit."""

    route: e.Route | str
    drug: e.Drug | str
    weight: float | None
    weight_unit: e.WeightUnit | str = e.WeightUnit.KG
    mg_per_kg: float | None = None
    dose_mg: float | None = None  # computed from mg/kg x weight when not given
    concentration_mg_per_ml: float | None = None
    duration_min: float | None = None
    override_reason: str | None = None
    verified_by: uuid.UUID | None = None  # second clinician for a dose outside protocol


def _dose_values(uow: UnitOfWork, form: DoseForm, protocol: Protocol,
                 actor_id: uuid.UUID) -> dict[str, Any]:
    errors: list[FieldError] = []
    verified_by = identifier(errors, "verified_by", "Verifying clinician", form.verified_by)
    route = coded(errors, "route", "Route", form.route, e.Route)
    drug = coded(errors, "drug", "Drug", form.drug, e.Drug)
    unit = coded(errors, "weight_unit", "Weight unit", form.weight_unit, e.WeightUnit)
    weight_kg = None
    if form.weight is not None and unit is not None:
        hi = protocol.plausible_weight_max_kg
        entered = number(errors, "weight", "Weight", form.weight, 0, hi * 2.5, unit.value,
                         lo_inclusive=False)
        if entered is not None:
            weight_kg = round(dosing.to_kg(entered, unit), 3)
    raise_if(errors)
    assert route is not None and drug is not None
    dose_mg = form.dose_mg
    if dose_mg is None and form.mg_per_kg is not None and weight_kg is not None:
        dose_mg = round(dosing.dose_mg(form.mg_per_kg, weight_kg), 2)
    errors = dosing.dose_plan_problems(
        route=route, drug=drug, weight_kg=weight_kg, mg_per_kg=form.mg_per_kg, dose_mg=dose_mg,
        concentration_mg_per_ml=form.concentration_mg_per_ml, duration_min=form.duration_min,
        protocol=protocol)
    raise_if(errors)
    outside = dosing.dose_outside_protocol(route=route, drug=drug, mg_per_kg=form.mg_per_kg,
                                           dose_mg=dose_mg, protocol=protocol)
    reason = (form.override_reason or "").strip() or None
    verifier = None
    if outside:
        why = "; ".join(x.message for x in outside)
        if not reason:
            errors.append(FieldError("override_reason", f"{why}. Give the reason for this dose.",
                                     "a reason"))
        if verified_by is None:
            errors.append(FieldError("verified_by", f"{why}. A second clinician (a "
                                     "prescriber) must verify it."))
        elif verified_by == actor_id:
            errors.append(FieldError("verified_by", "The verifying clinician must be someone "
                                     "other than the person entering the dose"))
        else:
            verifier = uow.session.get(m.User, verified_by)
            if verifier is None or not verifier.active or not allowed(verifier.role,
                                                                      Permission.APPROVE_DOSE):
                errors.append(FieldError("verified_by", "The verifying clinician must be an "
                                         "active prescriber"))
        raise_if(errors)
    volume = None
    if dose_mg is not None and form.concentration_mg_per_ml:
        volume = round(dosing.volume_ml(dose_mg, form.concentration_mg_per_ml), 2)
    return {
        "route": route, "drug": drug, "weight_kg": weight_kg,
        "weight_entered": float(form.weight) if form.weight is not None else None,
        "weight_unit": unit if form.weight is not None else None,
        "dose_mg_per_kg": form.mg_per_kg, "dose_mg": dose_mg,
        "concentration_mg_per_ml": form.concentration_mg_per_ml, "volume_ml": volume,
        "duration_min": form.duration_min,
        "dose_override_reason": reason if outside else None,
        "dose_verified_by_id": verifier.id if verifier is not None else None,
    }


def _pump_events(s: OrmSession, session_id: uuid.UUID) -> list[m.InfusionEvent]:
    return list(s.execute(
        sa.select(m.InfusionEvent).where(m.InfusionEvent.session_id == session_id,
                                         m.InfusionEvent.struck_at.is_(None))
        .order_by(m.InfusionEvent.at, m.InfusionEvent.entered_at)).scalars())


def as_pump(rows: list[m.InfusionEvent]) -> list[dosing.PumpEvent]:
    return [dosing.PumpEvent(r.kind, r.at, r.rate_ml_per_h) for r in rows]


@dataclass(frozen=True, slots=True)
class Chair:
    """What the chairs list shows of one session, read for all chairs in four queries:
    an entry recorded in one chair refreshes every chair's line."""

    session: TreatmentSession
    patient_name: str  # "Family, Given"
    vitals_taken: tuple[datetime, ...]  # standing readings, in time order
    open_alerts: int


class SessionService(Service):
    # -- planning -----------------------------------------------------------------------
    def plan_session(self, *, actor: Actor, course_id: uuid.UUID, planned_start: datetime,
                     dose: DoseForm, nurse_id: uuid.UUID | None = None,
                     prescriber_id: uuid.UUID | None = None) -> TreatmentSession:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            course = get_or_404(uow.session, m.Course, course_id, "course")
            if not isinstance(planned_start, datetime) or planned_start.tzinfo is None:
                raise_if([FieldError("planned_start", "Planned start must be a date and time")])
            values = _dose_values(uow, dose, load_protocol(uow), user.id)
            number_in_course = 1 + (uow.session.execute(
                sa.select(sa.func.max(m.Session.number_in_course))
                .where(m.Session.course_id == course_id)).scalar() or 0)
            row = m.Session(
                id=new_id(), course_id=course_id, patient_id=course.patient_id,
                number_in_course=number_in_course, status=e.SessionStatus.PLANNED,
                planned_start=planned_start, nurse_id=nurse_id or user.id,
                prescriber_id=prescriber_id, pre_checklist={}, discharge_checklist={},
                created_at=uow.now, created_by_id=user.id, updated_at=uow.now,
                origin=uow.origin, **values)
            uow.session.add(row)
            uow.session.flush()
            uow.audit(user_id=user.id, action="session.plan", entity="sessions",
                      entity_id=row.id, patient_id=row.patient_id, session_id=row.id,
                      new={"planned_start": planned_start, "number": number_in_course,
                           **values})
            result = mappers.session(row)
        self.hub.notify(Change.SESSIONS)
        return result

    def set_dose(self, *, actor: Actor, session_id: uuid.UUID, dose: DoseForm,
                 reason: str | None = None) -> TreatmentSession:
        """Change the dose plan; allowed until the pump starts."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            if row.status is not e.SessionStatus.PLANNED:
                raise RecordLocked("The dose plan cannot change once the infusion has started; "
                                   "record a rate change on the pump instead.")
            values = _dose_values(uow, dose, load_protocol(uow), user.id)
            result = self._update(uow, row, user.id, "session.set_dose", values, reason)
        self.hub.notify(Change.SESSIONS)
        return result

    def previous_dose(self, patient_id: uuid.UUID) -> DoseForm | None:
        """The last session's dose, to pre-fill the next one."""
        with self.db.reading() as s:
            row = s.execute(
                sa.select(m.Session).where(m.Session.patient_id == patient_id,
                                           m.Session.weight_kg.is_not(None))
                .order_by(m.Session.planned_start.desc()).limit(1)).scalar()
            if row is None:
                return None
            return DoseForm(route=row.route, drug=row.drug, weight=row.weight_entered,
                            weight_unit=row.weight_unit or e.WeightUnit.KG,
                            mg_per_kg=row.dose_mg_per_kg,
                            concentration_mg_per_ml=row.concentration_mg_per_ml,
                            duration_min=row.duration_min,
                            dose_mg=None if row.dose_mg_per_kg else row.dose_mg)

    # -- before and after the infusion ----------------------------------------------------
    def set_checklist(self, *, actor: Actor, session_id: uuid.UUID, which: str,
                      items: dict[str, bool]) -> TreatmentSession:
        # "rems": the esketamine REMS form's yes/no answers, kept in the discharge checklist
        kinds = {"pre": e.PreSessionCheck, "discharge": e.DischargeCheck, "rems": e.RemsCheck}
        if not isinstance(which, str) or which not in kinds:
            raise_if([FieldError("which", "Checklist must be 'pre', 'discharge' or 'rems'")])
        if not isinstance(items, dict):
            raise_if([FieldError(f"{which}_checklist", "The checklist must list its items")])
        errors: list[FieldError] = []
        clean = {}
        for key, value in items.items():
            check = coded(errors, f"{which}_checklist", "Checklist item", key, kinds[which])
            if check is not None:
                if not isinstance(value, bool):
                    errors.append(FieldError(check.value, "A check is ticked or not"))
                clean[check.value] = bool(value)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            column = "discharge_checklist" if which == "rems" else f"{which}_checklist"
            merged = {**(getattr(row, column) or {}), **clean}
            result = self._update(uow, row, user.id, f"session.{column}", {column: merged})
        self.hub.notify(Change.SESSIONS)
        return result

    def set_controlled_substance(self, *, actor: Actor, session_id: uuid.UUID,
                                 lot_number: str, amount_drawn_mg: float,
                                 amount_wasted_mg: float,
                                 witness_id: uuid.UUID | None) -> TreatmentSession:
        errors: list[FieldError] = []
        witness_id = identifier(errors, "witness_id", "Witness", witness_id)
        lot = required_text(errors, "lot_number", "Lot number", lot_number, 64)
        drawn = number(errors, "amount_drawn_mg", "Amount drawn", amount_drawn_mg, 0, 2000, "mg")
        wasted = number(errors, "amount_wasted_mg", "Amount wasted", amount_wasted_mg, 0, 2000,
                        "mg")
        if drawn is not None and wasted is not None and wasted > drawn:
            errors.append(FieldError("amount_wasted_mg", f"Amount wasted ({wasted:g} mg) cannot "
                                     f"be more than the amount drawn ({drawn:g} mg)"))
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            if wasted and witness_id is None:
                raise_if([FieldError("witness_id", "Wasting a controlled substance needs a "
                                     "witness")])
            if witness_id is not None:
                witness = uow.session.get(m.User, witness_id)
                if witness is None or not witness.active or witness_id == user.id:
                    raise_if([FieldError("witness_id", "The witness must be another active "
                                         "member of staff")])
            result = self._update(uow, row, user.id, "session.controlled_substance", {
                "lot_number": lot, "amount_drawn_mg": drawn, "amount_wasted_mg": wasted,
                "waste_witness_id": witness_id})
        self.hub.notify(Change.SESSIONS)
        return result

    def set_moaas(self, *, actor: Actor, session_id: uuid.UUID, score: int) -> TreatmentSession:
        errors: list[FieldError] = []
        value = number(errors, "moaas", "MOAA/S", score, 0, 5, "")
        if value is not None and value != int(value):
            errors.append(FieldError("moaas", "MOAA/S is a whole number from 0 to 5", "0-5"))
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            result = self._update(uow, row, user.id, "session.moaas", {"moaas": int(score)})
        self.hub.notify(Change.SESSIONS)
        return result

    # -- the pump -------------------------------------------------------------------------
    def record_pump_event(self, *, actor: Actor, session_id: uuid.UUID,
                          kind: e.InfusionEventKind | str, at: datetime | None = None,
                          rate_ml_per_h: float | None = None,
                          reason: str | None = None) -> dosing.Delivery:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            errors: list[FieldError] = []
            coded_kind = coded(errors, "kind", "Pump action", kind, e.InfusionEventKind)
            when = moment(errors, "at", "Time", at or uow.now, uow.now)
            text = optional_text(errors, "reason", "Reason", reason, 2000)
            raise_if(errors)
            assert coded_kind is not None and when is not None
            if row.status in (e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED):
                raise RecordLocked("This session has ended; the pump can no longer change.")
            if coded_kind is e.InfusionEventKind.RATE_CHANGE and not text:
                raise_if([FieldError("reason", "Say why the rate changes")])
            history = _pump_events(uow.session, session_id)
            new = dosing.PumpEvent(coded_kind, when, rate_ml_per_h)
            raise_if(dosing.pump_event_problems(as_pump(history), new))
            event = m.InfusionEvent(id=new_id(), session_id=session_id, kind=coded_kind,
                                    at=when, rate_ml_per_h=rate_ml_per_h, reason=text or None,
                                    entered_at=uow.now, entered_by_id=user.id, origin=uow.origin)
            uow.session.add(event)
            changes: dict[str, Any] = {}
            if coded_kind is e.InfusionEventKind.START:
                changes = {"status": e.SessionStatus.IN_PROGRESS, "actual_start": when}
            elif coded_kind is e.InfusionEventKind.STOP:
                changes = {"status": e.SessionStatus.RECOVERY, "infusion_ended_at": when}
            for key, value in changes.items():
                setattr(row, key, value)
            row.updated_at = uow.now
            uow.session.flush()
            uow.audit(user_id=user.id, action=f"pump.{coded_kind.value}",
                      entity="infusion_events", entity_id=event.id, patient_id=row.patient_id,
                      session_id=row.id,
                      new={"at": when, "rate_ml_per_h": rate_ml_per_h, "reason": text,
                           **changes})
            delivery = dosing.delivered_by_pump([*as_pump(history), new],
                                                row.concentration_mg_per_ml, uow.now)
        self.hub.notify(Change.SESSIONS, Change.ENTRIES)
        return delivery

    def delivery(self, session_id: uuid.UUID, at: datetime | None = None) -> dosing.Delivery:
        """Volume and dose delivered so far, computed from the pump's events."""
        with self.db.reading() as s:
            row = get_or_404(s, m.Session, session_id, "session")
            return dosing.delivered_by_pump(as_pump(_pump_events(s, session_id)),
                                            row.concentration_mg_per_ml,
                                            at or self.db.clock.now())

    # -- discharge, abort, signature ----------------------------------------------------------
    def mark_ready_to_leave(self, *, actor: Actor, session_id: uuid.UUID,
                            at: datetime | None = None) -> TreatmentSession:
        return self._discharge_time(actor, session_id, "ready_to_leave_at", at)

    def mark_left(self, *, actor: Actor, session_id: uuid.UUID,
                  at: datetime | None = None) -> TreatmentSession:
        return self._discharge_time(actor, session_id, "left_at", at)

    def _discharge_time(self, actor: Actor, session_id: uuid.UUID, column: str,
                        at: datetime | None) -> TreatmentSession:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            if row.status not in (e.SessionStatus.RECOVERY, e.SessionStatus.COMPLETED):
                raise_if([FieldError(column, "Stop the infusion before discharging the patient")])
            errors: list[FieldError] = []
            floor = row.infusion_ended_at
            if column == "left_at" and row.ready_to_leave_at is not None:
                floor = row.ready_to_leave_at
            when = moment(errors, column, "Time", at or uow.now, uow.now, not_before=floor)
            raise_if(errors)
            values: dict[str, Any] = {column: when}
            if column == "left_at":
                if row.ready_to_leave_at is None:
                    values["ready_to_leave_at"] = when
                values["status"] = e.SessionStatus.COMPLETED
            result = self._update(uow, row, user.id, f"session.{column}", values)
        self.hub.notify(Change.SESSIONS)
        return result

    def abort(self, *, actor: Actor, session_id: uuid.UUID, reason: str) -> TreatmentSession:
        errors: list[FieldError] = []
        text = required_text(errors, "reason", "Reason", reason, 2000)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = editable_session(uow, session_id)
            if row.status is e.SessionStatus.COMPLETED:
                raise RecordLocked("A completed session cannot be aborted.")
            result = self._update(uow, row, user.id, "session.abort",
                                  {"status": e.SessionStatus.ABORTED, "abort_reason": text})
        self.hub.notify(Change.SESSIONS)
        return result

    def missing_for_signature(self, session_id: uuid.UUID) -> list[str]:
        with self.db.reading() as s:
            return self._missing(s, get_or_404(s, m.Session, session_id, "session"))

    def sign(self, *, actor: Actor, session_id: uuid.UUID, password: str,
             meaning: str = SIGNATURE_MEANING) -> TreatmentSession:
        """Sign and lock the session: the signer types their password again, checked in
        this same call. Refused, with the list of what is missing, when the record is
        incomplete; a wrong password is refused (and counted towards the lockout) with
        nothing written to the session. Afterwards only addenda can be added."""
        errors: list[FieldError] = []
        text = required_text(errors, "meaning", "Meaning of the signature", meaning, 200)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.SIGN)
            row = editable_session(uow, session_id)
            missing = self._missing(uow.session, row)
            if missing:
                raise_if([FieldError("signature", "Before signing, complete: " +
                                     "; ".join(missing))])
            refused = check_password(uow, user, password, action="session.sign")
            if refused is None:
                result = self._update(uow, row, user.id, "session.sign", {
                    "signed_by_id": user.id, "signed_at": uow.now, "signature_meaning": text})
        if refused is not None:
            raise refused
        self.hub.notify(Change.SESSIONS)
        return result

    # -- reading --------------------------------------------------------------------------
    def get(self, session_id: uuid.UUID) -> TreatmentSession:
        with self.db.reading() as s:
            return mappers.session(get_or_404(s, m.Session, session_id, "session"))

    def entries(self, session_id: uuid.UUID) -> SessionEntries:
        """Everything recorded in one session (struck-through entries included), for the
        session screen, its chart and the printed record."""
        with self.db.reading() as s:
            get_or_404(s, m.Session, session_id, "session")
            return session_entries(s, session_id)

    def for_patient(self, patient_id: uuid.UUID) -> list[TreatmentSession]:
        with self.db.reading() as s:
            rows = s.execute(sa.select(m.Session).where(m.Session.patient_id == patient_id)
                             .order_by(m.Session.planned_start)).scalars()
            return [mappers.session(r) for r in rows]

    def chairs(self, also: tuple[uuid.UUID, ...] | list[uuid.UUID] = ()) -> list[Chair]:
        """Every session with a patient in the chair (infusing or in recovery), by start
        time, then the sessions in ``also`` (open on screen) that are not."""
        live = [e.SessionStatus.IN_PROGRESS.value, e.SessionStatus.RECOVERY.value]
        with self.db.reading() as s:
            rows = list(s.execute(sa.select(m.Session).where(
                m.Session.status.in_(live) | m.Session.id.in_(list(also)))).scalars())
            ids = [r.id for r in rows]
            if not ids:
                return []
            names = dict(s.execute(sa.select(
                m.Patient.id, m.Patient.family_name + ", " + m.Patient.given_name)
                .where(m.Patient.id.in_({r.patient_id for r in rows}))).all())
            taken: dict[uuid.UUID, list[datetime]] = {i: [] for i in ids}
            for sid, at in s.execute(
                    sa.select(m.VitalsReading.session_id, m.VitalsReading.taken_at)
                    .where(m.VitalsReading.session_id.in_(ids),
                           m.VitalsReading.struck_at.is_(None))
                    .order_by(m.VitalsReading.taken_at)):
                taken[sid].append(at)
            alerts = dict(s.execute(
                sa.select(m.Alert.session_id, sa.func.count())
                .where(m.Alert.session_id.in_(ids), m.Alert.acknowledged_at.is_(None),
                       m.Alert.struck_at.is_(None))
                .group_by(m.Alert.session_id)).all())
            sessions = [mappers.session(r) for r in rows]
        live_first = sorted((x for x in sessions if x.status.value in live),
                            key=lambda x: x.actual_start or x.planned_start)
        others = [x for sid in also for x in sessions if x.id == sid and x not in live_first]
        return [Chair(x, names.get(x.patient_id, ""), tuple(taken[x.id]),
                      int(alerts.get(x.id, 0))) for x in (*live_first, *others)]

    def in_progress(self) -> list[TreatmentSession]:
        """Sessions with a patient in the chair: infusing or in recovery."""
        live = [e.SessionStatus.IN_PROGRESS.value, e.SessionStatus.RECOVERY.value]
        with self.db.reading() as s:
            rows = s.execute(sa.select(m.Session).where(m.Session.status.in_(live))
                             .order_by(m.Session.actual_start)).scalars()
            return [mappers.session(r) for r in rows]

    # -- shared ---------------------------------------------------------------------------
    @staticmethod
    def _missing(s: OrmSession, row: m.Session) -> list[str]:
        record = session_entries(s, row.id)
        return missing_for_signature(mappers.session(row), events=record.infusion_events,
                                     vitals=record.vitals, alerts=record.alerts,
                                     protocol=load_protocol(s))

    @staticmethod
    def _update(uow: UnitOfWork, row: m.Session, user_id: uuid.UUID, action: str,
                values: dict[str, Any], reason: str | None = None) -> TreatmentSession:
        old = {k: getattr(row, k) for k in values}
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = uow.now
        uow.session.flush()
        uow.audit(user_id=user_id, action=action, entity="sessions", entity_id=row.id,
                  patient_id=row.patient_id, session_id=row.id, old=old, new=values,
                  reason=reason)
        return mappers.session(row)
