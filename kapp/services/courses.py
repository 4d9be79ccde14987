"""Treatment courses: induction, maintenance, boosters."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from kapp.domain import enums as e
from kapp.domain.entities import Course
from kapp.domain.errors import FieldError
from kapp.domain.ids import new_id
from kapp.domain.permissions import Permission
from kapp.domain.text import coded, number, optional_text
from kapp.services.base import Actor, Change, Service, get_or_404, raise_if
from kapp.storage import mappers
from kapp.storage import models as m


def _plausible(day: date, today: date) -> bool:
    return date(1970, 1, 1) <= day <= today + timedelta(days=366)


class CourseService(Service):
    def start_course(self, *, actor: Actor, patient_id: uuid.UUID, kind: e.CourseKind | str,
                     planned_sessions: int, started_on: date, notes: str = "") -> Course:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            get_or_404(uow.session, m.Patient, patient_id, "patient")
            errors: list[FieldError] = []
            coded_kind = coded(errors, "kind", "Course type", kind, e.CourseKind)
            planned = number(errors, "planned_sessions", "Planned sessions", planned_sessions,
                             1, 100, "sessions")
            if planned is not None and planned != int(planned):
                errors.append(FieldError("planned_sessions", "Planned sessions must be a whole "
                                         "number", "1-100 sessions"))
            if not isinstance(started_on, date) or isinstance(started_on, datetime):
                errors.append(FieldError("started_on", "Start date must be a date"))
            elif not _plausible(started_on, uow.now.date()):
                errors.append(FieldError("started_on", "Start date must be within a year from "
                                         "today and not before 1970", "1970 - next year"))
            text = optional_text(errors, "notes", "Notes", notes, 4000)
            raise_if(errors)
            row = m.Course(id=new_id(), patient_id=patient_id, kind=coded_kind,
                           planned_sessions=int(planned or 0), started_on=started_on,
                           notes=text, baseline_scores={}, created_at=uow.now,
                           created_by_id=user.id, origin=uow.origin)
            uow.session.add(row)
            uow.session.flush()
            uow.audit(user_id=user.id, action="course.start", entity="courses", entity_id=row.id,
                      patient_id=patient_id,
                      new={"kind": row.kind, "planned_sessions": row.planned_sessions,
                           "started_on": started_on})
            result = mappers.course(row)
        self.hub.notify(Change.COURSES)
        return result

    def end_course(self, *, actor: Actor, course_id: uuid.UUID, ended_on: date) -> Course:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = get_or_404(uow.session, m.Course, course_id, "course")
            if not isinstance(ended_on, date) or isinstance(ended_on, datetime):
                raise_if([FieldError("ended_on", "End date must be a date")])
            if not _plausible(ended_on, uow.now.date()):
                raise_if([FieldError("ended_on", "End date must be within a year from today",
                                     "up to next year")])
            if ended_on < row.started_on:
                raise_if([FieldError("ended_on", "A course cannot end before it started")])
            old = row.ended_on
            row.ended_on = ended_on
            uow.audit(user_id=user.id, action="course.end", entity="courses", entity_id=row.id,
                      patient_id=row.patient_id, old={"ended_on": old},
                      new={"ended_on": ended_on})
            result = mappers.course(row)
        self.hub.notify(Change.COURSES)
        return result

    def for_patient(self, patient_id: uuid.UUID) -> list[Course]:
        with self.db.reading() as s:
            rows = s.execute(sa.select(m.Course).where(m.Course.patient_id == patient_id)
                             .order_by(m.Course.started_on)).scalars()
            return [mappers.course(r) for r in rows]

    def get(self, course_id: uuid.UUID) -> Course:
        with self.db.reading() as s:
            return mappers.course(get_or_404(s, m.Course, course_id, "course"))
