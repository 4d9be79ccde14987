"""A patient's progress: everything of one patient read in a handful of queries, and the
series built from it (``kapp.domain.series``).

One query per table, never one per session: a patient ten years into boosters may have
two hundred sessions and several thousand vitals. The bulky tables (vitals, dissociation
reports, side effects, pump events) are read as plain columns with Core, which is several
times quicker than loading ORM objects, and struck-through entries are left out in SQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import entities as d
from kapp.domain import enums as e
from kapp.domain.instruments import Instrument, load_instruments
from kapp.domain.protocol import Protocol
from kapp.domain.series import (
    COURSE_TIME_POINTS,
    DISSOCIATION_SCALES,
    NOT_OUTCOMES,
    DissociationSample,
    PatientSeries,
    PumpSample,
    ScoreSample,
    SideEffectSample,
    VitalsSample,
    build_series,
)
from kapp.paths import instruments_dir
from kapp.services.base import Service, get_or_404
from kapp.services.changes import ChangeHub
from kapp.services.kept import PatientCache, changes_of
from kapp.services.protocol import load_protocol
from kapp.storage import mappers
from kapp.storage import models as m
from kapp.storage.database import Database


@dataclass(frozen=True, slots=True)
class PatientProgress:
    """What the progress view and the progress report show for one patient."""

    patient: d.Patient
    series: PatientSeries
    protocol: Protocol
    definitions: dict[str, Instrument]
    now: datetime


class ProgressService(Service):
    def __init__(self, db: Database, hub: ChangeHub | None = None) -> None:
        super().__init__(db, hub)
        # The series of the last patients shown (``kapp.services.kept``); a progress whose
        # dose counts up to now (a pump left running) is never kept. Made here, up front:
        # the readers that use it run on threads.
        self.cache: PatientCache[PatientProgress] = PatientCache()

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
        with self.db.reading() as s:
            patient = mappers.patient(get_or_404(s, m.Patient, patient_id, "patient"))
            return self._progress(s, patient, lambda: (
                [mappers.course(r) for r in s.execute(
                    sa.select(m.Course).where(m.Course.patient_id == patient_id)).scalars()],
                _sessions(s, patient_id)), now=now, today=today)

    def progress_in(self, s: OrmSession, patient: d.Patient, courses: list[d.Course],
                    sessions: list[d.TreatmentSession], *, now: datetime,
                    changes: int | None = None, today: date | None = None) -> PatientProgress:
        """The progress of a patient whose record, courses and sessions were read in this
        same transaction ``s`` (the patient page reads them once for its own use and
        this); computed again only when something it comes from changed (``self.cache``).
        ``changes``: ``changes_of`` the patient, if the caller has counted them already.
        """
        return self._progress(s, patient, lambda: (courses, sessions), now=now, today=today,
                              changes=changes)

    def _progress(self, s: OrmSession, patient: d.Patient,
                  read: Callable[[], tuple[list[d.Course], list[d.TreatmentSession]]], *,
                  now: datetime, today: date | None,
                  changes: int | None = None) -> PatientProgress:
        """The kept progress if it still holds, else computed (courses and sessions from
        ``read``, called only then) and kept."""
        local = now.astimezone()
        day = today or local.date()
        protocol = load_protocol(s)
        if changes is None:
            changes = changes_of(s, patient.id)
        key = (changes, protocol, day, local.utcoffset())
        kept = self.cache.get(patient.id, key)
        if kept is not None:
            return replace(kept, patient=patient, now=now)
        courses, sessions = read()
        progress, counts_to_now = _compute(s, patient, courses, sessions, self.definitions,
                                           protocol, now=now, today=day, tz=local.tzinfo)
        if not counts_to_now:
            self.cache.put(patient.id, key, progress)
        return progress


_RUNNING = frozenset({e.InfusionEventKind.START, e.InfusionEventKind.RESUME,
                      e.InfusionEventKind.RATE_CHANGE})


def _compute(s: OrmSession, patient: d.Patient, courses: list[d.Course],
             sessions: list[d.TreatmentSession], definitions: dict[str, Instrument],
             protocol: Protocol, *, now: datetime, today: date,
             tz: tzinfo | None) -> tuple[PatientProgress, bool]:
    """The progress, and whether it counts a dose up to ``now`` (a pump left running)."""
    ids = _SessionIds(sessions)
    patient_id = patient.id
    results = _scores(s, patient_id, ids, _Ids(c.id for c in courses))
    vitals = _vitals(s, patient_id, ids)
    reports = _dissociation(s, patient_id, ids)
    effects = _side_effects(s, patient_id, ids)
    events = _pump(s, patient_id, ids)
    series = build_series(
        courses=courses, sessions=sessions, results=results, vitals=vitals,
        dissociation=reports, side_effects=effects, infusion_events=events,
        definitions=definitions, protocol=protocol, today=today, now=now, tz=tz)
    last = {x.session_id: x.kind for x in events}  # read in time order
    return (PatientProgress(patient, series, protocol, definitions, now),
            any(kind in _RUNNING for kind in last.values()))


class _Ids:
    """Known ids without parsing a UUID per row: the bulky tables return the stored text
    (SQLite) and it is looked up here; a driver that returns UUIDs passes through."""

    def __init__(self, known: Iterable[uuid.UUID]) -> None:
        self._by_text: dict[str, uuid.UUID] = {}
        for x in known:
            self._by_text[str(x)] = self._by_text[x.hex] = x

    def __call__(self, raw: object) -> uuid.UUID:
        if isinstance(raw, uuid.UUID):
            return raw
        return self._by_text.get(str(raw)) or uuid.UUID(str(raw))

    def maybe(self, raw: object) -> uuid.UUID | None:
        return None if raw is None else self(raw)


class _SessionIds(_Ids):
    def __init__(self, sessions: list[d.TreatmentSession]) -> None:
        super().__init__(x.id for x in sessions)


_SESSION_COLUMNS = [c for c in m.Session.__table__.columns
                    if c.key in d.TreatmentSession.__dataclass_fields__]
_SESSION_NAMES = [c.key for c in _SESSION_COLUMNS]
_UUIDS = [i for i, c in enumerate(_SESSION_COLUMNS) if isinstance(c.type, sa.Uuid)]
_CHECKLISTS = [_SESSION_NAMES.index("pre_checklist"), _SESSION_NAMES.index("discharge_checklist")]
# The ids as stored (text on SQLite): the same few course, patient and staff ids recur on
# every row, and are parsed once each (see ``read_sessions``).
_SESSION_SELECT = [sa.type_coerce(c, sa.String()).label(c.key) if i in _UUIDS else c
                   for i, c in enumerate(_SESSION_COLUMNS)]


def read_sessions(s: OrmSession, patient_id: uuid.UUID,
                  *order_by: sa.ColumnElement) -> list[d.TreatmentSession]:
    """A patient's sessions as domain records, read as columns (not ORM objects)."""
    rows = s.execute(sa.select(*_SESSION_SELECT).where(m.Session.patient_id == patient_id)
                     .order_by(*order_by))
    parsed: dict[object, uuid.UUID] = {}

    def as_uuid(raw: object) -> uuid.UUID | None:
        if raw is None or isinstance(raw, uuid.UUID):
            return raw
        found = parsed.get(raw)
        if found is None:
            found = parsed[raw] = uuid.UUID(str(raw))
        return found

    found = []
    for row in rows:
        values = list(row)
        for i in _UUIDS:
            values[i] = as_uuid(values[i])
        for i in _CHECKLISTS:
            values[i] = dict(values[i] or {})
        found.append(d.TreatmentSession(**dict(zip(_SESSION_NAMES, values, strict=True))))
    return found


def _sessions(s: OrmSession, patient_id: uuid.UUID) -> list[d.TreatmentSession]:
    return read_sessions(s, patient_id)


def _flags(raw: object) -> tuple[str, ...]:
    """A JSON list of flag codes as stored (text on SQLite, decoded by some drivers)."""
    if raw is None or raw == "[]":
        return ()
    if isinstance(raw, str):
        raw = json.loads(raw)
    return tuple(raw or ())  # type: ignore[arg-type]


def _scores(s: OrmSession, patient_id: uuid.UUID, sessions: _Ids,
            courses: _Ids) -> list[ScoreSample]:
    r = m.InstrumentResponse
    text = sa.String()
    # Only what the series use: dissociation scales at any time point, outcome scores at
    # the course's time points (sedation and the acute scores after dosing are not drawn).
    wanted = sa.or_(r.instrument.in_(DISSOCIATION_SCALES),
                    sa.and_(r.instrument.not_in(NOT_OUTCOMES),
                            r.time_point.in_(sorted(COURSE_TIME_POINTS))))
    # Ids and flags as stored: the course and session ids are looked up, not parsed.
    rows = s.execute(sa.select(r.id, sa.type_coerce(r.course_id, text).label("course_id"),
                               sa.type_coerce(r.session_id, text).label("session_id"),
                               r.instrument, r.time_point, r.taken_at, r.total, r.band,
                               sa.type_coerce(r.flags, text).label("flags"))
                     .where(r.patient_id == patient_id, r.struck_at.is_(None), wanted))
    return [ScoreSample(x.id, patient_id, courses.maybe(x.course_id),
                        sessions.maybe(x.session_id), x.instrument, x.time_point, x.taken_at,
                        x.total, x.band, _flags(x.flags))
            for x in rows]


def _of_patient(model: type, patient_id: uuid.UUID, *columns: sa.ColumnElement) -> sa.Select:
    """Live (not struck) entries of a patient's sessions: the raw session id, then the
    columns named."""
    return (sa.select(sa.type_coerce(model.session_id, sa.String()).label("sid"), *columns)
            .join(m.Session, m.Session.id == model.session_id)
            .where(m.Session.patient_id == patient_id, model.struck_at.is_(None)))


def vitals_samples(s: OrmSession, patient_id: uuid.UUID,
                   sessions: list[d.TreatmentSession]) -> list[VitalsSample]:
    """A patient's standing vitals as the progress needs them (see ``_vitals``), in time
    order: what the progress report reads too, rather than every reading of ten years."""
    return sorted(_vitals(s, patient_id, _SessionIds(sessions)), key=lambda v: v.taken_at)


def _vitals(s: OrmSession, patient_id: uuid.UUID, ids: _SessionIds) -> list[VitalsSample]:
    """The readings before dosing as they are, and one sample per session carrying the
    highest systolic, diastolic and heart rate after it: all a BP rise and a peak need,
    in a tenth of the rows. A session without a reading marked before dosing (its baseline
    is then its first reading) gets its readings as they are."""
    v = m.VitalsReading
    before = s.execute(_of_patient(v, patient_id, v.taken_at, v.hr, v.systolic, v.diastolic)
                       .where(v.predose.is_(True)))
    samples = [VitalsSample(ids(r.sid), r.taken_at, r.hr, r.systolic, r.diastolic, True)
               for r in before]
    with_baseline = {x.session_id for x in samples}
    peaks = s.execute(
        _of_patient(v, patient_id, sa.func.max(v.taken_at).label("taken_at"),
                    sa.func.max(v.hr).label("hr"), sa.func.max(v.systolic).label("systolic"),
                    sa.func.max(v.diastolic).label("diastolic"))
        .where(v.predose.is_(False)).group_by(v.session_id))
    without: list[uuid.UUID] = []
    for r in peaks:
        sid = ids(r.sid)
        if sid in with_baseline:
            samples.append(VitalsSample(sid, _utc(r.taken_at), r.hr, r.systolic, r.diastolic))
        else:
            without.append(sid)
    for start in range(0, len(without), 500):
        rows = s.execute(_of_patient(v, patient_id, v.taken_at, v.hr, v.systolic, v.diastolic,
                                     v.predose).where(v.session_id.in_(without[start:start + 500])))
        samples += [VitalsSample(ids(r.sid), r.taken_at, r.hr, r.systolic, r.diastolic,
                                 bool(r.predose)) for r in rows]
    return samples


def _utc(moment: datetime | str) -> datetime:
    """An aggregate of a timestamp column, as an aware UTC datetime on every driver."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _dissociation(s: OrmSession, patient_id: uuid.UUID,
                  ids: _SessionIds) -> list[DissociationSample]:
    x = m.DissociationReport
    rows = s.execute(_of_patient(x, patient_id, x.reported_at, x.intensity, x.valence))
    return [DissociationSample(ids(r.sid), r.reported_at, r.intensity, r.valence) for r in rows]


def _side_effects(s: OrmSession, patient_id: uuid.UUID,
                  ids: _SessionIds) -> list[SideEffectSample]:
    x = m.SideEffect
    rows = s.execute(_of_patient(x, patient_id, x.kind, x.onset_at, x.severity, x.serious,
                                 x.description))
    return [SideEffectSample(ids(r.sid), r.kind, r.onset_at, r.severity, bool(r.serious),
                             r.description or "") for r in rows]


def _pump(s: OrmSession, patient_id: uuid.UUID, ids: _SessionIds) -> list[PumpSample]:
    x = m.InfusionEvent
    rows = s.execute(_of_patient(x, patient_id, x.kind, x.at, x.rate_ml_per_h)
                     .order_by(x.at, x.entered_at))
    return [PumpSample(ids(r.sid), r.kind, r.at, r.rate_ml_per_h) for r in rows]
