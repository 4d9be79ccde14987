"""The clinic overview: what needs attention today, across all patients.

Five reads: sessions today and in the chairs, unsigned sessions, patients due or overdue
for their next session, flagged scores (PHQ-9 item 9) awaiting follow-up, and serious
side effects of the last days. Each is a few set-based queries; the flag scan reads
every flagged-instrument result of the clinic (years of them), so ``overview`` reports
progress and can be cancelled between chunks. The rules are in ``kapp.domain.series``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import enums as e
from kapp.domain.errors import KappError
from kapp.domain.instruments import Instrument, load_instruments
from kapp.domain.protocol import Protocol
from kapp.domain.series import TOOK_PLACE, NextDue, awaiting_follow_up, next_due
from kapp.paths import instruments_dir
from kapp.services.base import Service
from kapp.services.protocol import load_protocol
from kapp.storage import models as m

Progress = Callable[[int, int, str], None]  # (done, total, what is being read)
CHUNK = 5000


class Cancelled(KappError):
    """The user cancelled a long read; nothing was changed."""


@dataclass(frozen=True, slots=True)
class PatientRef:
    patient_id: uuid.UUID
    mrn: str
    family_name: str
    given_name: str

    @property
    def display_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


@dataclass(frozen=True, slots=True)
class SessionItem:
    """A session today or in a chair."""

    patient: PatientRef
    session_id: uuid.UUID
    status: e.SessionStatus
    planned_start: datetime
    actual_start: datetime | None
    course_kind: e.CourseKind
    number_in_course: int


@dataclass(frozen=True, slots=True)
class UnsignedItem:
    patient: PatientRef
    session_id: uuid.UUID
    status: e.SessionStatus
    ended_at: datetime  # when the patient left (or the session's last known time)
    age_days: int  # whole days since, by the calendar


@dataclass(frozen=True, slots=True)
class DueItem:
    patient: PatientRef
    last_session_on: date
    due: NextDue
    course_kind: e.CourseKind


@dataclass(frozen=True, slots=True)
class FlagItem:
    """The oldest flagged score of a patient still awaiting follow-up."""

    patient: PatientRef
    result_id: uuid.UUID
    session_id: uuid.UUID | None
    instrument: str
    instrument_name: str
    taken_at: datetime
    total: float
    messages: tuple[str, ...]
    waiting: int  # how many flagged scores of this patient await follow-up


@dataclass(frozen=True, slots=True)
class SideEffectItem:
    patient: PatientRef
    side_effect_id: uuid.UUID
    session_id: uuid.UUID
    kind: e.SideEffectKind
    description: str
    severity: e.Severity
    serious: bool
    onset_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClinicOverview:
    now: datetime
    today: date
    in_chairs: tuple[SessionItem, ...]
    today_sessions: tuple[SessionItem, ...]
    unsigned: tuple[UnsignedItem, ...]
    due: tuple[DueItem, ...]
    flags: tuple[FlagItem, ...]
    side_effects: tuple[SideEffectItem, ...]
    due_within_days: int
    side_effect_days: int


def _ref(row: sa.Row) -> PatientRef:
    return PatientRef(row.patient_id, row.mrn, row.family_name, row.given_name)


_PATIENT = (m.Patient.mrn, m.Patient.family_name, m.Patient.given_name)


class OverviewService(Service):
    @cached_property
    def definitions(self) -> dict[str, Instrument]:
        return load_instruments(instruments_dir())

    def overview(self, *, due_within_days: int = 7, side_effect_days: int = 30,
                 progress: Progress | None = None,
                 cancelled: Callable[[], bool] | None = None) -> ClinicOverview:
        """Everything the overview shows, as of the database clock's now.

        ``due_within_days``: list patients whose next session falls due within this many
        days (overdue ones always); ``side_effect_days``: how far back serious side
        effects are listed.

        Raises:
            Cancelled: ``cancelled()`` returned True between two steps or chunks.
        """
        now = self.db.clock.now()
        local = now.astimezone()
        today = local.date()
        day_start = datetime.combine(today, time(0), local.tzinfo)
        steps = 5

        def step(done: int, what: str) -> None:
            if cancelled is not None and cancelled():
                raise Cancelled("The overview was cancelled.")
            if progress is not None:
                progress(done, steps, what)

        with self.db.reading() as s:
            protocol = load_protocol(s)
            step(0, "Sessions today")
            chairs, todays = _sessions_today(s, day_start, day_start + timedelta(days=1))
            step(1, "Unsigned sessions")
            unsigned = _unsigned(s, now, local.tzinfo)
            step(2, "Next sessions due")
            due = _due(s, protocol, today, day_start, due_within_days, local.tzinfo)
            step(3, "Scores awaiting follow-up")
            flags = self._flags(s, cancelled)
            step(4, "Serious side effects")
            effects = _serious(s, now - timedelta(days=side_effect_days))
            step(5, "Done")
        return ClinicOverview(now, today, chairs, todays, unsigned, due, flags, effects,
                              due_within_days, side_effect_days)

    def _flags(self, s: OrmSession, cancelled: Callable[[], bool] | None) -> tuple[FlagItem, ...]:
        flagged = sorted(code for code, d in self.definitions.items() if d.flags)
        if not flagged:
            return ()
        r = m.InstrumentResponse
        query = (sa.select(r.id, r.patient_id, r.session_id, r.instrument, r.taken_at, r.total,
                           r.flags)
                 .where(r.instrument.in_(flagged), r.struck_at.is_(None))
                 .order_by(r.patient_id, r.taken_at)
                 .execution_options(yield_per=CHUNK))
        by_patient: dict[uuid.UUID, list[_Flagged]] = defaultdict(list)
        result = s.execute(query)
        for chunk in result.partitions():
            if cancelled is not None and cancelled():
                result.close()
                raise Cancelled("The overview was cancelled.")
            for row in chunk:
                by_patient[row.patient_id].append(_Flagged(
                    row.id, row.session_id, row.instrument, row.taken_at, row.total,
                    tuple(row.flags or ())))
        if not by_patient:
            return ()
        waiting = {pid: rows for pid, rows in by_patient.items() if any(x.flags for x in rows)}
        if not waiting:
            return ()
        notes = dict(s.execute(
            sa.select(m.Note.patient_id, sa.func.max(m.Note.written_at))
            .where(m.Note.struck_at.is_(None), m.Note.patient_id.in_(list(waiting)))
            .group_by(m.Note.patient_id)).all())
        pending = {pid: awaiting_follow_up(rows, _aware(notes.get(pid)))
                   for pid, rows in waiting.items()}
        pending = {pid: rows for pid, rows in pending.items() if rows}
        people = _patients(s, list(pending))
        items = []
        for pid, rows in pending.items():
            first = rows[0]
            definition = self.definitions[first.instrument]
            messages = {rule.code: rule.message for rule in definition.flags}
            items.append(FlagItem(people[pid], first.id, first.session_id, first.instrument,
                                  definition.name, first.taken_at, first.total,
                                  tuple(messages.get(f, f) for f in first.flags), len(rows)))
        return tuple(sorted(items, key=lambda x: x.taken_at, reverse=True))


@dataclass(frozen=True, slots=True)
class _Flagged:
    id: uuid.UUID
    session_id: uuid.UUID | None
    instrument: str
    taken_at: datetime
    total: float
    flags: tuple[str, ...]


def _aware(moment: datetime | None) -> datetime | None:
    """Aggregates bypass the column type on some drivers; keep times comparable (UTC)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _patients(s: OrmSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, PatientRef]:
    found: dict[uuid.UUID, PatientRef] = {}
    for start in range(0, len(ids), 500):
        rows = s.execute(sa.select(m.Patient.id.label("patient_id"), *_PATIENT)
                         .where(m.Patient.id.in_(ids[start:start + 500])))
        found.update({row.patient_id: _ref(row) for row in rows})
    return found


def _session_items(s: OrmSession, where: sa.ColumnElement[bool]) -> list[SessionItem]:
    rows = s.execute(
        sa.select(m.Session.id, m.Session.patient_id, m.Session.status, m.Session.planned_start,
                  m.Session.actual_start, m.Session.number_in_course, m.Course.kind,
                  *_PATIENT)
        .join(m.Patient, m.Patient.id == m.Session.patient_id)
        .join(m.Course, m.Course.id == m.Session.course_id)
        .where(where).order_by(m.Session.planned_start))
    return [SessionItem(_ref(r), r.id, r.status, r.planned_start, r.actual_start, r.kind,
                        r.number_in_course) for r in rows]


def _sessions_today(s: OrmSession, start: datetime,
                    end: datetime) -> tuple[tuple[SessionItem, ...], tuple[SessionItem, ...]]:
    live = (e.SessionStatus.IN_PROGRESS, e.SessionStatus.RECOVERY)
    chairs = _session_items(s, m.Session.status.in_(live))
    today = _session_items(s, sa.and_(
        sa.or_(m.Session.planned_start.between(start, end),
               m.Session.actual_start.between(start, end)),
        m.Session.status.not_in(live)))
    return tuple(chairs), tuple(today)


def _unsigned(s: OrmSession, now: datetime, tz) -> tuple[UnsignedItem, ...]:
    ended = (e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED)
    rows = s.execute(
        sa.select(m.Session.id, m.Session.patient_id, m.Session.status, m.Session.left_at,
                  m.Session.actual_start, m.Session.updated_at, *_PATIENT)
        .join(m.Patient, m.Patient.id == m.Session.patient_id)
        .where(m.Session.status.in_(ended), m.Session.signed_at.is_(None)))
    today = now.astimezone(tz).date()
    items = []
    for r in rows:
        ended_at = r.left_at or r.updated_at or r.actual_start
        items.append(UnsignedItem(_ref(r), r.id, r.status, ended_at,
                                  (today - ended_at.astimezone(tz).date()).days))
    return tuple(sorted(items, key=lambda x: x.ended_at))


def _due(s: OrmSession, protocol: Protocol, today: date, day_start: datetime, within: int,
         tz) -> tuple[DueItem, ...]:
    """Patients in an open course (the latest course has no end date) who have had a
    session, have nothing booked from today on, and fall due within ``within`` days."""
    took_place = [x.value for x in TOOK_PLACE]
    last = dict(s.execute(
        sa.select(m.Session.patient_id,
                  sa.func.max(sa.func.coalesce(m.Session.actual_start, m.Session.planned_start)))
        .where(m.Session.status.in_(took_place)).group_by(m.Session.patient_id)).all())
    booked = set(s.execute(
        sa.select(m.Session.patient_id).where(m.Session.status == e.SessionStatus.PLANNED,
                                              m.Session.planned_start >= day_start)
        .distinct()).scalars())
    latest: dict[uuid.UUID, tuple[date, e.CourseKind, date | None]] = {}
    for pid, started, kind, ended in s.execute(
            sa.select(m.Course.patient_id, m.Course.started_on, m.Course.kind,
                      m.Course.ended_on)):
        if pid not in latest or started >= latest[pid][0]:
            latest[pid] = (started, kind, ended)
    found: list[tuple[uuid.UUID, date, NextDue, e.CourseKind]] = []
    for pid, when in last.items():
        course = latest.get(pid)
        if pid in booked or course is None or course[2] is not None or when is None:
            continue
        last_on = _aware(_as_datetime(when)).astimezone(tz).date()
        due = next_due(last_session_on=last_on, booked=(), today=today, protocol=protocol)
        if due is not None and due.days_from_today <= within:
            found.append((pid, last_on, due, course[1]))
    people = _patients(s, [f[0] for f in found])
    items = [DueItem(people[pid], last_on, due, kind) for pid, last_on, due, kind in found]
    return tuple(sorted(items, key=lambda x: x.due.on))


def _as_datetime(value: datetime | str) -> datetime:
    # SQLite returns max() over a DateTime column as text.
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _serious(s: OrmSession, since: datetime) -> tuple[SideEffectItem, ...]:
    x = m.SideEffect
    rows = s.execute(
        sa.select(x.id, x.session_id, x.kind, x.description, x.severity, x.serious, x.onset_at,
                  x.resolved_at, m.Session.patient_id, *_PATIENT)
        .join(m.Session, m.Session.id == x.session_id)
        .join(m.Patient, m.Patient.id == m.Session.patient_id)
        .where(x.struck_at.is_(None), x.onset_at >= since,
               sa.or_(x.serious.is_(True), x.severity == e.Severity.SEVERE))
        .order_by(x.onset_at.desc()))
    return tuple(SideEffectItem(_ref(r), r.id, r.session_id, r.kind, r.description or "",
                                r.severity, bool(r.serious), r.onset_at, r.resolved_at)
                 for r in rows)
