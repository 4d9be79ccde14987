"""What the patient page reads: current flags, course summaries and the session history.

Read-only queries, one read transaction each, returning plain records. The words a screen
shows for a coded value (a contraindication, a course kind) are the screen's business;
these records carry the codes and the facts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import enums as e
from kapp.domain.entities import Course, Patient, TreatmentSession, User
from kapp.domain.instruments import Instrument
from kapp.domain.permissions import Permission, allowed
from kapp.services.base import Service, get_or_404
from kapp.services.changes import ChangeHub
from kapp.services.kept import OneAtATime, PatientCache, changes_of
from kapp.services.progress import PatientProgress, ProgressService, read_sessions
from kapp.storage import mappers
from kapp.storage import models as m
from kapp.storage.database import Database

_ENDED = (e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED)
_IN_CHAIR = (e.SessionStatus.IN_PROGRESS, e.SessionStatus.RECOVERY)


class FlagLevel(StrEnum):
    """How loudly a flag speaks; the screen shows each with its own icon and words."""

    DANGER = "danger"  # act today: a positive item 9, a contraindication
    WARNING = "warning"  # needs attention: unsigned record, screening gaps
    INFO = "info"  # worth knowing: medications that interact, a patient in the chair


class FlagKind(StrEnum):
    INSTRUMENT = "instrument"  # a flag rule fired on the latest score of an instrument
    CONTRAINDICATION = "contraindication"  # screened and present
    SCREENING_UNKNOWN = "screening_unknown"  # screened, answer not known
    NOT_SCREENED = "not_screened"  # no screening answers at all
    UNSIGNED_SESSION = "unsigned_session"  # the session ended but nobody signed it
    IN_CHAIR = "in_chair"  # a session is running now
    MEDICATION = "medication"  # a current medication that matters for ketamine


@dataclass(frozen=True, slots=True)
class PatientFlag:
    """One thing to notice about a patient now.

    ``code`` names what it is about (a contraindication, a medication flag, an instrument
    flag rule); ``message`` is a plain sentence for flags whose wording comes from data
    (an instrument file's flag rule); ``at`` and ``session_id`` say where it came from.
    """

    kind: FlagKind
    level: FlagLevel
    code: str = ""
    message: str = ""
    at: datetime | None = None
    session_id: uuid.UUID | None = None
    course_kind: e.CourseKind | None = None
    number_in_course: int | None = None


@dataclass(frozen=True, slots=True)
class CourseSummary:
    course: Course
    done: int  # sessions completed
    planned: int  # sessions planned, not started
    in_chair: int  # sessions running now
    aborted: int
    last_session_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.course.ended_on is None


@dataclass(frozen=True, slots=True)
class SessionHistoryRow:
    """One session with the names a record shows beside it."""

    session: TreatmentSession
    course_kind: e.CourseKind
    nurse_name: str | None
    prescriber_name: str | None
    signed_by_name: str | None
    verified_by_name: str | None

    @property
    def when(self) -> datetime:
        """When it happened, or when it is planned to."""
        return self.session.actual_start or self.session.planned_start


@dataclass(frozen=True, slots=True)
class PatientOverview:
    """Everything the patient page shows, read in one transaction."""

    patient: Patient
    flags: tuple[PatientFlag, ...]
    courses: tuple[CourseSummary, ...]
    sessions: tuple[SessionHistoryRow, ...]  # newest first

    @property
    def open_courses(self) -> tuple[CourseSummary, ...]:
        return tuple(c for c in self.courses if c.is_open)


@dataclass(frozen=True, slots=True)
class PatientOpening:
    """The patient page's first read: its overview and the progress charts' series."""

    overview: PatientOverview
    progress: PatientProgress


class PatientViewService(Service):
    def __init__(self, db: Database, hub: ChangeHub | None = None,
                 progress: ProgressService | None = None) -> None:
        """``progress``: the service whose kept series the opening shares."""
        super().__init__(db, hub)
        self.progress = progress or ProgressService(db, self.hub)
        # The courses, sessions and latest scores of the last patients shown, kept while
        # their record has not changed (``kapp.services.kept``): a ten-year patient's
        # sessions take most of the page's read. Names and the patient row are read fresh.
        self.kept: PatientCache[_Record] = PatientCache()
        self._reading = OneAtATime()

    @property
    def instruments(self) -> dict[str, Instrument]:
        return self.progress.definitions

    def forget_kept(self) -> None:
        """Drop every patient's kept record and series: the next read of each is from the
        database (benchmarks time a patient not opened lately so)."""
        self.kept.clear()
        self.progress.cache.clear()

    def overview(self, patient_id: uuid.UUID) -> PatientOverview:
        """Raises:
            NotFound: there is no such patient."""
        with self.db.reading() as s:
            return self._overview_in(s, patient_id)

    def opening(self, patient_id: uuid.UUID) -> PatientOpening:
        """What opening the patient page shows, the overview and the progress, read in one
        transaction: the patient, the courses and the sessions are read once for both.

        Raises:
            NotFound: there is no such patient."""
        with self._reading.holding(patient_id):  # after a read ahead, it waits for that one
            return self._opening(patient_id)

    def read_ahead(self, patient_id: uuid.UUID) -> None:
        """Read what opening this patient needs and keep it, before anyone asks: a list
        calls it for the patient selected, so that a patient not opened lately opens as
        fast as one opened a moment ago. The opening that follows finds it kept, or waits
        for this read if it is still under way. Nothing is written: reading is not opening
        (no audit entry either way).

        Raises:
            NotFound: there is no such patient."""
        self.opening(patient_id)

    def _opening(self, patient_id: uuid.UUID) -> PatientOpening:
        now = self.db.clock.now()
        with self.db.reading() as s:
            patient = mappers.patient(get_or_404(s, m.Patient, patient_id, "patient"))
            changes = changes_of(s, patient_id)
            record = self._record(s, patient_id, changes)
            overview = self._overview_of(s, patient, record)
            progress = self.progress.progress_in(
                s, patient, list(record.courses), list(reversed(record.sessions)), now=now,
                changes=changes)
        return PatientOpening(overview, progress)

    def _overview_in(self, s: OrmSession, patient_id: uuid.UUID) -> PatientOverview:
        patient = mappers.patient(get_or_404(s, m.Patient, patient_id, "patient"))
        return self._overview_of(s, patient,
                                 self._record(s, patient_id, changes_of(s, patient_id)))

    def _record(self, s: OrmSession, patient_id: uuid.UUID, changes: int) -> _Record:
        """The patient's courses, sessions and latest scores: kept ones if the record has
        not changed since (``changes``: ``changes_of`` the patient), else read and kept."""
        kept = self.kept.get(patient_id, changes)
        if kept is not None:
            return kept
        record = _Record(
            courses=tuple(mappers.course(r) for r in s.execute(
                sa.select(m.Course).where(m.Course.patient_id == patient_id)
                .order_by(m.Course.started_on, m.Course.created_at)).scalars()),
            sessions=tuple(_sessions(s, patient_id)),
            latest=tuple(self._latest_scores(s, patient_id)))
        self.kept.put(patient_id, changes, record)
        return record

    def _overview_of(self, s: OrmSession, patient: Patient, record: _Record) -> PatientOverview:
        courses, sessions, latest = record.courses, record.sessions, record.latest
        names = _names(s, {uid for t in sessions for uid in (
            t.nurse_id, t.prescriber_id, t.signed_by_id, t.dose_verified_by_id) if uid})
        kinds = {c.id: c.kind for c in courses}
        history = tuple(SessionHistoryRow(
            session=t, course_kind=kinds[t.course_id], nurse_name=names.get(t.nurse_id),
            prescriber_name=names.get(t.prescriber_id),
            signed_by_name=names.get(t.signed_by_id),
            verified_by_name=names.get(t.dose_verified_by_id)) for t in sessions)
        summaries = tuple(_summary(c, [t for t in sessions if t.course_id == c.id])
                          for c in reversed(courses))
        flags = (*self._score_flags(latest), *_screening_flags(patient),
                 *_session_flags(history), *_medication_flags(patient))
        return PatientOverview(patient=patient, flags=tuple(flags), courses=summaries,
                               sessions=history)

    def flags(self, patient_id: uuid.UUID) -> list[PatientFlag]:
        return list(self.overview(patient_id).flags)

    def course_summaries(self, patient_id: uuid.UUID) -> list[CourseSummary]:
        """Newest course first."""
        return list(self.overview(patient_id).courses)

    def session_history(self, patient_id: uuid.UUID) -> list[SessionHistoryRow]:
        """Newest session first."""
        return list(self.overview(patient_id).sessions)

    def clinicians(self, permission: Permission = Permission.APPROVE_DOSE) -> list[User]:
        """Active staff whose role grants ``permission`` (by default: prescribers who may
        verify a dose outside the protocol), by name."""
        with self.db.reading() as s:
            rows = s.execute(sa.select(m.User).where(m.User.active.is_(True))
                             .order_by(m.User.full_name)).scalars()
            return [mappers.user(r) for r in rows if allowed(r.role, permission)]

    @staticmethod
    def _latest_scores(s: OrmSession, patient_id: uuid.UUID) -> list[_Latest]:
        """The newest score of each instrument, struck-through entries left out: picked in
        SQL (a ten-year patient has a thousand scores; the page needs one of each)."""
        r = m.InstrumentResponse
        ranked = (sa.select(r.instrument, r.taken_at, r.flags, r.session_id,
                            sa.func.row_number().over(partition_by=r.instrument,
                                                      order_by=r.taken_at.desc()).label("n"))
                  .where(r.patient_id == patient_id, r.struck_at.is_(None))).subquery()
        rows = s.execute(sa.select(ranked.c.instrument, ranked.c.taken_at, ranked.c.flags,
                                   ranked.c.session_id).where(ranked.c.n == 1))
        return [_Latest(x.instrument, x.taken_at, tuple(x.flags or ()), x.session_id)
                for x in rows]

    def _score_flags(self, latest: tuple[_Latest, ...]) -> list[PatientFlag]:
        flags = []
        for row in latest:
            definition = self.instruments.get(row.instrument)
            messages = {r.code: r.message for r in definition.flags} if definition else {}
            name = definition.name if definition else row.instrument
            for code in row.flags or ():
                flags.append(PatientFlag(
                    kind=FlagKind.INSTRUMENT, level=FlagLevel.DANGER, code=f"{row.instrument}."
                    f"{code}", message=f"{name}: {messages.get(code, code)}", at=row.taken_at,
                    session_id=row.session_id))
        return sorted(flags, key=lambda f: f.at.timestamp() if f.at else 0.0, reverse=True)


@dataclass(frozen=True, slots=True)
class _Latest:
    """The newest score of one instrument, as far as the flags need it."""

    instrument: str
    taken_at: datetime
    flags: tuple[str, ...]
    session_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class _Record:
    """What the overview reads of a patient's record besides the patient row."""

    courses: tuple[Course, ...]  # in the order they started
    sessions: tuple[TreatmentSession, ...]  # newest first
    latest: tuple[_Latest, ...]


def _sessions(s: OrmSession, patient_id: uuid.UUID) -> list[TreatmentSession]:
    """The patient's sessions, newest first, read as columns (not ORM objects)."""
    return read_sessions(s, patient_id, m.Session.planned_start.desc(),
                         m.Session.number_in_course.desc())


def _names(s: OrmSession, ids: set[uuid.UUID]) -> dict[uuid.UUID | None, str]:
    if not ids:
        return {}
    rows = s.execute(sa.select(m.User.id, m.User.full_name).where(m.User.id.in_(ids))).all()
    return {uid: name for uid, name in rows}


def _summary(course: Course, sessions: Sequence[TreatmentSession]) -> CourseSummary:
    def count(*statuses: e.SessionStatus) -> int:
        return sum(1 for t in sessions if t.status in statuses)

    started = [t.actual_start for t in sessions if t.actual_start is not None]
    return CourseSummary(course=course, done=count(e.SessionStatus.COMPLETED),
                         planned=count(e.SessionStatus.PLANNED), in_chair=count(*_IN_CHAIR),
                         aborted=count(e.SessionStatus.ABORTED),
                         last_session_at=max(started) if started else None)


def _screening_flags(patient: Patient) -> list[PatientFlag]:
    answers = patient.contraindications
    if not answers:
        return [PatientFlag(kind=FlagKind.NOT_SCREENED, level=FlagLevel.WARNING)]
    order = [c.value for c in e.Contraindication]
    flags = [PatientFlag(kind=FlagKind.CONTRAINDICATION, level=FlagLevel.DANGER, code=code)
             for code in order if answers.get(code) == e.ScreeningAnswer.YES]
    flags += [PatientFlag(kind=FlagKind.SCREENING_UNKNOWN, level=FlagLevel.WARNING, code=code)
              for code in order if answers.get(code) == e.ScreeningAnswer.UNKNOWN]
    return flags


def _session_flags(history: tuple[SessionHistoryRow, ...]) -> list[PatientFlag]:
    flags = []
    for row in history:
        t = row.session
        if t.status in _IN_CHAIR:
            flags.append(PatientFlag(kind=FlagKind.IN_CHAIR, level=FlagLevel.INFO,
                                     at=t.actual_start, session_id=t.id,
                                     course_kind=row.course_kind,
                                     number_in_course=t.number_in_course))
        elif t.status in _ENDED and not t.is_signed:
            flags.append(PatientFlag(kind=FlagKind.UNSIGNED_SESSION, level=FlagLevel.WARNING,
                                     at=row.when, session_id=t.id, course_kind=row.course_kind,
                                     number_in_course=t.number_in_course))
    return flags


def _medication_flags(patient: Patient) -> list[PatientFlag]:
    return [PatientFlag(kind=FlagKind.MEDICATION, level=FlagLevel.INFO, code=code)
            for code in patient.medication_flags]
