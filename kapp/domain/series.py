"""A patient's progress as per-session series, for the progress charts and the PDF report.

Pure Python over the domain entities: the service reads everything of one patient in a
handful of queries and hands it to ``build_series``; the charts (and a PDF writer) only
draw what comes out. Every cut-off comes from the clinic's ``Protocol`` or from the
instrument files (bands), never from this module.

Definitions (the clinical ones are in ``shared/docs/domain.md``):

- A session *took place* when it is no longer planned (infusing, in recovery, completed
  or aborted). Its *ordinal* is its number among the patient's sessions that took place,
  1-based: the "session number" x-axis. Planned sessions are bookings, not points.
- *Baseline*: response is judged against the score before treatment. An induction
  course starts a new baseline; maintenance and booster courses after it keep the
  induction's baseline (a maintenance course's own first score is already a treated
  score, and judging it against itself would hide a relapse). A course's baseline is its
  ``baseline_scores`` entry for the instrument, else the earliest score taken at the
  ``baseline`` time point in its group of courses. No baseline means "cannot be judged".
- Outcome scores on the charts are those taken at baseline, before a session, or at
  24 h, 7 days or 28 days; peak, post-session and 4 h scores measure the session's acute
  effect and are left out of the course line.
- *BP rise* of a session: the highest systolic after dosing began minus the session's
  baseline systolic (the last reading before dosing; failing that, the first reading).
- *Next due*: the earliest booked (planned) session from today on; with nothing booked,
  the last session's day plus the protocol's booster interval.
- *Flag follow-up* (PHQ-9 item 9 and any other flag rule of an instrument): a flagged
  result is followed up once a note is written for the patient at or after it, or the
  same instrument is taken again later without that flag.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol as Shape
from typing import TypeVar

from kapp.domain import dosing
from kapp.domain import entities as d
from kapp.domain import enums as e
from kapp.domain.instruments import Band, Instrument
from kapp.domain.outcomes import PAIN_NRS, CourseOutcome, course_outcome
from kapp.domain.protocol import Protocol

# Which instruments are which is a matter of what they measure, not a clinical number:
# dissociation scales and sedation are charted apart from the course's outcome measures.
DISSOCIATION_SCALES: tuple[str, ...] = ("cadss", "cadss6")  # preferred first
NOT_OUTCOMES: frozenset[str] = frozenset({*DISSOCIATION_SCALES, "moaas"})
OUTCOME_ORDER: tuple[str, ...] = ("phq9", "madrs", "qids_sr16", "gad7", PAIN_NRS)
COURSE_TIME_POINTS: frozenset[e.TimePoint] = frozenset({
    e.TimePoint.BASELINE, e.TimePoint.PRE_SESSION, e.TimePoint.H24, e.TimePoint.D7,
    e.TimePoint.D28,
})
TOOK_PLACE: frozenset[e.SessionStatus] = frozenset({
    e.SessionStatus.IN_PROGRESS, e.SessionStatus.RECOVERY, e.SessionStatus.COMPLETED,
    e.SessionStatus.ABORTED,
})

COURSE_WORDS = {
    e.CourseKind.INDUCTION: "Induction",
    e.CourseKind.MAINTENANCE: "Maintenance",
    e.CourseKind.BOOSTER: "Booster",
}


# -- where a session sits ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionMark:
    """One session that took place, as both x-axes see it, and the words that name it."""

    session_id: uuid.UUID
    course_id: uuid.UUID
    course_kind: e.CourseKind
    course_number: int  # 1-based among the patient's courses, in order of start
    number_in_course: int
    ordinal: int  # 1-based among the patient's sessions that took place
    at: datetime  # actual start, else planned start (UTC)
    day: date  # ``at`` as a local calendar day
    status: e.SessionStatus

    @property
    def label(self) -> str:
        """"Session 7 · Maintenance 1"."""
        return (f"Session {self.ordinal} · {COURSE_WORDS[self.course_kind]} "
                f"{self.number_in_course}")


@dataclass(frozen=True, slots=True)
class CourseSpan:
    """A course and the sessions of it that took place, for the course boundaries."""

    course_id: uuid.UUID
    kind: e.CourseKind
    number: int  # 1-based, in order of start
    started_on: date
    ended_on: date | None
    planned_sessions: int
    sessions_done: int  # completed sessions
    sessions_taken_place: int
    first_ordinal: int | None  # None until a session took place
    last_ordinal: int | None
    first_at: datetime | None
    last_at: datetime | None

    @property
    def label(self) -> str:
        return COURSE_WORDS[self.kind]


# -- outcome scores -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    """A horizontal line with a rule: ``total < value`` (or ``<=`` when inclusive)."""

    value: float
    inclusive: bool
    label: str

    def met(self, total: float) -> bool:
        return total <= self.value if self.inclusive else total < self.value


def remission_threshold(code: str, protocol: Protocol) -> Threshold | None:
    """The remission line of an instrument, from the protocol; None when it has none.

    Agrees with ``kapp.domain.outcomes.is_remission`` (a test holds the two together).
    """
    if code == "phq9":
        value = protocol.remission_phq9_below
        return Threshold(value, False, f"Remission: below {value:g}")
    if code == "madrs":
        value = protocol.remission_madrs_at_or_below
        return Threshold(value, True, f"Remission: {value:g} or less")
    if code == "qids_sr16":
        value = protocol.remission_qids_at_or_below
        return Threshold(value, True, f"Remission: {value:g} or less")
    return None


def response_fraction(code: str, protocol: Protocol) -> float:
    """The fall from baseline that counts: response, or meaningful relief for pain."""
    if code == PAIN_NRS:
        return protocol.pain_relief_fall_fraction
    return protocol.response_fall_fraction


def response_word(code: str) -> str:
    return "Meaningful relief" if code == PAIN_NRS else "Response"


def response_level(baseline: float | None, fraction: float) -> float | None:
    """The score at or below which the fall from baseline counts: 20 x (1 - 0.5) = 10."""
    if baseline is None or baseline <= 0:
        return None
    return baseline * (1 - fraction)


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One outcome score on the course line."""

    result_id: uuid.UUID
    session: SessionMark | None  # None for a score taken outside a session
    x_ordinal: float  # the session's ordinal; between sessions for one outside a session
    taken_at: datetime
    time_point: e.TimePoint
    total: float
    band: str | None
    baseline: float | None
    percent_change: float | None
    response: bool | None
    remission: bool | None
    flags: tuple[str, ...] = ()
    flag_messages: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        """A flag rule fired (for PHQ-9: item 9 positive)."""
        return bool(self.flags)


@dataclass(frozen=True, slots=True)
class BaselineSpan:
    """A baseline and its response level, over the sessions judged against it."""

    baseline: float
    response_level: float | None
    first_ordinal: float
    last_ordinal: float
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class ScoreSeries:
    """One outcome instrument over the course(s), with what to draw behind it."""

    code: str
    name: str
    min_total: int
    max_total: int
    bands: tuple[Band, ...]
    points: tuple[ScorePoint, ...]
    baselines: tuple[BaselineSpan, ...]
    remission: Threshold | None
    response_fraction: float
    response_word: str  # "Response", or "Meaningful relief" for pain
    outcome: CourseOutcome  # latest score against its baseline

    @property
    def flagged_points(self) -> tuple[ScorePoint, ...]:
        return tuple(p for p in self.points if p.flagged)

    @property
    def latest(self) -> ScorePoint | None:
        return self.points[-1] if self.points else None


# -- dissociation, safety, dose -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DissociationPoint:
    session: SessionMark
    peak_intensity: int | None  # highest quick-report intensity, 0-10
    peak_valence: e.Valence | None  # how the patient felt at that peak
    reports: int
    distressing: bool  # any report of this session was distressing
    cadss_total: float | None
    cadss_code: str | None  # "cadss" (0-92) or "cadss6" (0-24)
    cadss_max: int | None


@dataclass(frozen=True, slots=True)
class SessionVitalsSummary:
    """Baseline and peaks of one session's vitals."""

    baseline_systolic: float | None
    baseline_diastolic: float | None
    baseline_hr: float | None
    peak_systolic: float | None
    peak_diastolic: float | None
    peak_hr: float | None

    @property
    def bp_rise(self) -> float | None:
        """Peak systolic minus the session's baseline systolic, in mmHg."""
        if self.baseline_systolic is None or self.peak_systolic is None:
            return None
        return self.peak_systolic - self.baseline_systolic


@dataclass(frozen=True, slots=True)
class SafetyPoint:
    session: SessionMark
    vitals: SessionVitalsSummary
    mild: int = 0
    moderate: int = 0
    severe: int = 0
    serious: int = 0
    side_effect_kinds: tuple[str, ...] = ()  # as recorded, in order of onset

    @property
    def bp_rise(self) -> float | None:
        return self.vitals.bp_rise

    @property
    def peak_hr(self) -> float | None:
        return self.vitals.peak_hr

    @property
    def side_effects(self) -> int:
        return self.mild + self.moderate + self.severe


@dataclass(frozen=True, slots=True)
class DosePoint:
    session: SessionMark
    route: e.Route
    drug: e.Drug
    weight_kg: float | None
    dose_mg: float | None  # prescribed
    mg_per_kg: float | None  # prescribed, or the fixed dose over the weight
    delivered_mg: float | None  # added up from the pump, when it was used
    delivered_mg_per_kg: float | None


# -- summary ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeSummary:
    code: str
    name: str
    outcome: CourseOutcome
    latest_band: str | None
    latest_at: datetime | None
    response_word: str
    remission_rule: str | None  # "Remission: below 5"


@dataclass(frozen=True, slots=True)
class NextDue:
    on: date
    basis: str  # "booked" or "booster interval"
    days_from_today: int  # negative when overdue

    @property
    def overdue(self) -> bool:
        return self.days_from_today < 0


@dataclass(frozen=True, slots=True)
class ProgressSummary:
    current_course: CourseSpan | None
    sessions_done_in_course: int
    sessions_done_total: int
    last_session_on: date | None
    days_since_last: int | None
    next_due: NextDue | None
    outcomes: tuple[OutcomeSummary, ...]
    bp_rise_median: float | None
    bp_rise_max: float | None
    dissociation_median: float | None
    dissociation_max: int | None
    serious_side_effects: int
    flagged_scores: int  # e.g. PHQ-9 item 9 positive, over all sessions


@dataclass(frozen=True, slots=True)
class PatientSeries:
    """Everything the progress view and the progress report draw for one patient."""

    today: date
    sessions: tuple[SessionMark, ...]
    courses: tuple[CourseSpan, ...]
    scores: tuple[ScoreSeries, ...]
    dissociation: tuple[DissociationPoint, ...]
    safety: tuple[SafetyPoint, ...]
    dose: tuple[DosePoint, ...]
    summary: ProgressSummary
    booster_interval_days: float = field(default=0.0)

    def session(self, session_id: uuid.UUID) -> SessionMark | None:
        for mark in self.sessions:
            if mark.session_id == session_id:
                return mark
        return None


# -- inputs -----------------------------------------------------------------------------------
#
# ``build_series`` takes the domain entities (``VitalsReading``, ``InstrumentResult``...) or,
# for speed, these samples carrying only what the series need; a sample is a live entry
# (the reader leaves struck-through ones out).


@dataclass(frozen=True, slots=True)
class VitalsSample:
    session_id: uuid.UUID
    taken_at: datetime
    hr: float | None = None
    systolic: float | None = None
    diastolic: float | None = None
    predose: bool = False


@dataclass(frozen=True, slots=True)
class DissociationSample:
    session_id: uuid.UUID
    reported_at: datetime
    intensity: int
    valence: e.Valence


@dataclass(frozen=True, slots=True)
class SideEffectSample:
    session_id: uuid.UUID
    kind: e.SideEffectKind
    onset_at: datetime
    severity: e.Severity
    serious: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class PumpSample:
    session_id: uuid.UUID
    kind: e.InfusionEventKind
    at: datetime
    rate_ml_per_h: float | None = None


@dataclass(frozen=True, slots=True)
class ScoreSample:
    id: uuid.UUID
    patient_id: uuid.UUID
    course_id: uuid.UUID | None
    session_id: uuid.UUID | None
    instrument: str
    time_point: e.TimePoint
    taken_at: datetime
    total: float
    band: str | None = None
    flags: tuple[str, ...] = ()


Vitals = d.VitalsReading | VitalsSample
Dissociation = d.DissociationReport | DissociationSample
SideEffects = d.SideEffect | SideEffectSample
Pump = d.InfusionEvent | PumpSample
Score = d.InstrumentResult | ScoreSample


def _live(item: object) -> bool:
    """An entity that was struck through does not count; a sample is always live."""
    entry = getattr(item, "entry", None)
    return entry is None or not entry.is_struck


def _entered(item: Pump) -> datetime:
    entry = getattr(item, "entry", None)
    return entry.entered_at if entry is not None else item.at


# -- small pure pieces ------------------------------------------------------------------------


def local_day(moment: datetime, tz: tzinfo | None) -> date:
    return moment.astimezone(tz).date() if tz is not None else moment.date()


def session_vitals(readings: Iterable[Vitals],
                   dosing_started: datetime | None = None) -> SessionVitalsSummary:
    """Baseline (last reading before dosing) and peaks (readings after it) of a session.

    Struck-through readings do not count. Pre-dose readings are those marked ``predose``;
    when none is, the first reading stands as the baseline.
    """
    live = sorted((r for r in readings if _live(r)), key=lambda r: r.taken_at)
    before = [r for r in live if r.predose and r.systolic is not None]
    if dosing_started is not None:
        before = [r for r in before if r.taken_at <= dosing_started] or before
    if before:
        base = before[-1]
    else:
        with_bp = [r for r in live if r.systolic is not None]
        base = with_bp[0] if with_bp else None
    after = [r for r in live if not r.predose and r is not base]

    def peak(name: str) -> float | None:
        values = [getattr(r, name) for r in after if getattr(r, name) is not None]
        return max(values) if values else None

    return SessionVitalsSummary(
        baseline_systolic=base.systolic if base else None,
        baseline_diastolic=base.diastolic if base else None,
        baseline_hr=base.hr if base else None,
        peak_systolic=peak("systolic"),
        peak_diastolic=peak("diastolic"),
        peak_hr=peak("hr"),
    )


def next_due(*, last_session_on: date | None, booked: Iterable[date], today: date,
             protocol: Protocol) -> NextDue | None:
    """The next booked session from today on; else the last session plus the booster
    interval; None for a patient with neither."""
    coming = sorted(day for day in booked if day >= today)
    if coming:
        return NextDue(coming[0], "booked", (coming[0] - today).days)
    if last_session_on is None:
        return None
    due = last_session_on + timedelta(days=round(protocol.booster_interval_days))
    return NextDue(due, "booster interval", (due - today).days)


def flag_followed_up(flagged: d.InstrumentResult, later_results: Iterable[d.InstrumentResult],
                     notes: Iterable[d.Note]) -> bool:
    """Whether a flagged result has been followed up (see the module's definitions)."""
    for note in notes:
        if not note.entry.is_struck and note.written_at >= flagged.taken_at:
            return True
    for result in later_results:
        if (not result.entry.is_struck and result.instrument == flagged.instrument
                and result.taken_at > flagged.taken_at
                and not set(flagged.flags) & set(result.flags)):
            return True
    return False


class FlagRecord(Shape):
    """What the follow-up rule needs of a result (an ``InstrumentResult`` has it)."""

    @property
    def instrument(self) -> str: ...
    @property
    def taken_at(self) -> datetime: ...
    @property
    def flags(self) -> tuple[str, ...]: ...


R = TypeVar("R", bound=FlagRecord)


def awaiting_follow_up(results: Iterable[R], last_note_at: datetime | None) -> list[R]:
    """One patient's flagged results not yet followed up, oldest first.

    ``results`` are the patient's live results in time order (flagged or not);
    ``last_note_at`` is when the latest note for the patient was written. The same rule as
    ``flag_followed_up``, in one pass, for scanning a whole clinic.
    """
    pending: dict[str, list[R]] = defaultdict(list)
    for result in results:
        waiting = pending[result.instrument]
        if waiting:
            own = set(result.flags)
            pending[result.instrument] = [f for f in waiting if set(f.flags) & own]
        if result.flags:
            pending[result.instrument].append(result)
    left = [f for waiting in pending.values() for f in waiting
            if last_note_at is None or f.taken_at > last_note_at]
    return sorted(left, key=lambda f: f.taken_at)


def percent_of(value: float | None) -> str:
    """"−62%" (a true minus sign) or "+5%"; "—" when unknown."""
    if value is None:
        return "—"
    rounded = round(value)
    if rounded == 0:
        return "0%"
    return f"{'+' if rounded > 0 else '−'}{abs(rounded)}%"


# -- building the series ----------------------------------------------------------------------


def _instrument_order(code: str) -> tuple[int, str]:
    return (OUTCOME_ORDER.index(code) if code in OUTCOME_ORDER else len(OUTCOME_ORDER), code)


def build_series(
    *,
    courses: Sequence[d.Course],
    sessions: Sequence[d.TreatmentSession],
    results: Sequence[Score],
    vitals: Sequence[Vitals] = (),
    dissociation: Sequence[Dissociation] = (),
    side_effects: Sequence[SideEffects] = (),
    infusion_events: Sequence[Pump] = (),
    definitions: Mapping[str, Instrument],
    protocol: Protocol,
    today: date,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> PatientSeries:
    """All series of one patient. Entries that were struck through are left out.

    ``now`` bounds the dose delivered by a pump still running; ``tz`` turns stored UTC
    times into the clinic's calendar days (UTC when None).
    """
    ordered_courses = sorted(courses, key=lambda c: (c.started_on, str(c.id)))
    course_number = {c.id: i for i, c in enumerate(ordered_courses, start=1)}
    course_by_id = {c.id: c for c in ordered_courses}

    def start_of(s: d.TreatmentSession) -> datetime:
        return s.actual_start or s.planned_start

    took_place = sorted((s for s in sessions if s.status in TOOK_PLACE),
                        key=lambda s: (start_of(s), s.number_in_course))
    marks: list[SessionMark] = []
    for ordinal, s in enumerate(took_place, start=1):
        course = course_by_id.get(s.course_id)
        kind = course.kind if course else e.CourseKind.INDUCTION
        at = start_of(s)
        marks.append(SessionMark(s.id, s.course_id, kind, course_number.get(s.course_id, 0),
                                 s.number_in_course, ordinal, at, local_day(at, tz), s.status))
    mark_by_id = {m.session_id: m for m in marks}
    session_by_id = {s.id: s for s in sessions}

    spans = _course_spans(ordered_courses, marks, took_place)
    scores = _score_series(results, ordered_courses, marks, mark_by_id, definitions, protocol)
    diss = _dissociation(marks, dissociation, results, definitions)
    safety = _safety(marks, session_by_id, vitals, side_effects)
    dose = _dose(marks, session_by_id, infusion_events, now)
    summary = _summary(spans, marks, sessions, scores, diss, safety, protocol, today, tz)
    return PatientSeries(today=today, sessions=tuple(marks), courses=spans, scores=scores,
                         dissociation=diss, safety=safety, dose=dose, summary=summary,
                         booster_interval_days=protocol.booster_interval_days)


def _course_spans(courses: Sequence[d.Course], marks: Sequence[SessionMark],
                  took_place: Sequence[d.TreatmentSession]) -> tuple[CourseSpan, ...]:
    by_course: dict[uuid.UUID, list[SessionMark]] = defaultdict(list)
    for mark in marks:
        by_course[mark.course_id].append(mark)
    done: dict[uuid.UUID, int] = defaultdict(int)
    for s in took_place:
        if s.status is e.SessionStatus.COMPLETED:
            done[s.course_id] += 1
    spans = []
    for number, c in enumerate(courses, start=1):
        own = by_course.get(c.id, [])
        spans.append(CourseSpan(
            course_id=c.id, kind=c.kind, number=number, started_on=c.started_on,
            ended_on=c.ended_on, planned_sessions=c.planned_sessions,
            sessions_done=done.get(c.id, 0), sessions_taken_place=len(own),
            first_ordinal=own[0].ordinal if own else None,
            last_ordinal=own[-1].ordinal if own else None,
            first_at=own[0].at if own else None, last_at=own[-1].at if own else None))
    return tuple(spans)


def _baseline_groups(courses: Sequence[d.Course]) -> dict[uuid.UUID, int]:
    """Course id -> group number: an induction starts a group, what follows joins it."""
    group, groups = -1, {}
    for c in courses:
        if c.kind is e.CourseKind.INDUCTION or group < 0:
            group += 1
        groups[c.id] = group
    return groups


def _x_for(taken_at: datetime, marks: Sequence[SessionMark]) -> float:
    """A score outside a session sits half-way after the last session before it."""
    before = [m.ordinal for m in marks if m.at <= taken_at]
    return (before[-1] if before else 0) + 0.5


def _score_series(results: Sequence[Score], courses: Sequence[d.Course],
                  marks: Sequence[SessionMark], mark_by_id: Mapping[uuid.UUID, SessionMark],
                  definitions: Mapping[str, Instrument],
                  protocol: Protocol) -> tuple[ScoreSeries, ...]:
    live = sorted((r for r in results if _live(r)), key=lambda r: r.taken_at)
    groups = _baseline_groups(courses)
    group_courses: dict[int, list[d.Course]] = defaultdict(list)
    for c in courses:
        group_courses[groups[c.id]].append(c)
    course_start = [(c.started_on, groups[c.id]) for c in courses]

    def group_of(r: Score) -> int | None:
        course_id = r.course_id
        if course_id is None and r.session_id in mark_by_id:
            course_id = mark_by_id[r.session_id].course_id
        if course_id in groups:
            return groups[course_id]
        earlier = [g for started, g in course_start if started <= r.taken_at.date()]
        return earlier[-1] if earlier else None

    by_code: dict[str, list[Score]] = defaultdict(list)
    for r in live:
        if r.instrument not in NOT_OUTCOMES and r.instrument in definitions:
            by_code[r.instrument].append(r)

    series = []
    for code in sorted(by_code, key=_instrument_order):
        definition = definitions[code]
        rows = by_code[code]
        baseline: dict[int, float | None] = {}
        for group, members in group_courses.items():
            value = next((c.baseline_scores[code] for c in members
                          if code in c.baseline_scores), None)
            if value is None:
                value = next((r.total for r in rows if r.time_point is e.TimePoint.BASELINE
                              and group_of(r) == group), None)
            baseline[group] = float(value) if value is not None else None
        fraction = response_fraction(code, protocol)
        points: list[ScorePoint] = []
        point_groups: list[int | None] = []
        messages = {rule.code: rule.message for rule in definition.flags}
        for r in rows:
            if r.time_point not in COURSE_TIME_POINTS:
                continue
            group = group_of(r)
            base = baseline.get(group) if group is not None else None
            outcome = course_outcome(code, base, r.total, protocol)
            mark = mark_by_id.get(r.session_id) if r.session_id else None
            points.append(ScorePoint(
                result_id=r.id, session=mark,
                x_ordinal=float(mark.ordinal) if mark else _x_for(r.taken_at, marks),
                taken_at=r.taken_at, time_point=r.time_point, total=r.total, band=r.band,
                baseline=base, percent_change=outcome.percent_change,
                response=outcome.response, remission=outcome.remission, flags=r.flags,
                flag_messages=tuple(messages.get(f, f) for f in r.flags)))
            point_groups.append(group)
        if not points:
            continue
        spans = []
        for group in dict.fromkeys(point_groups):
            base = baseline.get(group) if group is not None else None
            if base is None:
                continue
            members = [p for p, g in zip(points, point_groups, strict=True) if g == group]
            spans.append(BaselineSpan(base, response_level(base, fraction),
                                      members[0].x_ordinal, members[-1].x_ordinal,
                                      members[0].taken_at, members[-1].taken_at))
        last = points[-1]
        series.append(ScoreSeries(
            code=code, name=definition.name, min_total=definition.min_total,
            max_total=definition.max_total, bands=definition.bands, points=tuple(points),
            baselines=tuple(spans), remission=remission_threshold(code, protocol),
            response_fraction=fraction, response_word=response_word(code),
            outcome=course_outcome(code, last.baseline, last.total, protocol)))
    return tuple(series)


def _dissociation(marks: Sequence[SessionMark], reports: Sequence[Dissociation],
                  results: Sequence[Score],
                  definitions: Mapping[str, Instrument]) -> tuple[DissociationPoint, ...]:
    by_session: dict[uuid.UUID, list[Dissociation]] = defaultdict(list)
    for report in reports:
        if _live(report):
            by_session[report.session_id].append(report)
    scales: dict[uuid.UUID, Score] = {}
    rank = {code: i for i, code in enumerate(DISSOCIATION_SCALES)}
    for r in sorted((r for r in results if _live(r)
                     and r.instrument in rank and r.session_id is not None),
                    key=lambda r: (-rank[r.instrument], r.taken_at)):
        scales[r.session_id] = r  # type: ignore[index]  # the preferred, latest one wins
    points = []
    for mark in marks:
        own = sorted(by_session.get(mark.session_id, []), key=lambda r: r.reported_at)
        peak = max(own, key=lambda r: r.intensity) if own else None
        scale = scales.get(mark.session_id)
        definition = definitions.get(scale.instrument) if scale else None
        points.append(DissociationPoint(
            session=mark, peak_intensity=peak.intensity if peak else None,
            peak_valence=peak.valence if peak else None, reports=len(own),
            distressing=any(r.valence is e.Valence.DISTRESSING for r in own),
            cadss_total=scale.total if scale else None,
            cadss_code=scale.instrument if scale else None,
            cadss_max=definition.max_total if definition else None))
    return tuple(points)


def _safety(marks: Sequence[SessionMark], sessions: Mapping[uuid.UUID, d.TreatmentSession],
            vitals: Sequence[Vitals],
            side_effects: Sequence[SideEffects]) -> tuple[SafetyPoint, ...]:
    readings: dict[uuid.UUID, list[Vitals]] = defaultdict(list)
    for reading in vitals:
        readings[reading.session_id].append(reading)
    effects: dict[uuid.UUID, list[SideEffects]] = defaultdict(list)
    for effect in side_effects:
        if _live(effect):
            effects[effect.session_id].append(effect)
    points = []
    for mark in marks:
        own = sorted(effects.get(mark.session_id, []), key=lambda x: x.onset_at)
        count = {s: sum(x.severity is s for x in own) for s in e.Severity}
        points.append(SafetyPoint(
            session=mark,
            vitals=session_vitals(readings.get(mark.session_id, []),
                                  sessions[mark.session_id].actual_start),
            mild=count[e.Severity.MILD], moderate=count[e.Severity.MODERATE],
            severe=count[e.Severity.SEVERE], serious=sum(x.serious for x in own),
            side_effect_kinds=tuple(
                (x.description or x.kind.value) if x.kind is e.SideEffectKind.OTHER
                else x.kind.value for x in own)))
    return tuple(points)


def _dose(marks: Sequence[SessionMark], sessions: Mapping[uuid.UUID, d.TreatmentSession],
          events: Sequence[Pump], now: datetime | None) -> tuple[DosePoint, ...]:
    pump: dict[uuid.UUID, list[Pump]] = defaultdict(list)
    for event in events:
        if _live(event):
            pump[event.session_id].append(event)
    points = []
    for mark in marks:
        s = sessions[mark.session_id]
        weight = s.weight_kg
        per_kg = s.dose_mg_per_kg
        if per_kg is None and s.dose_mg is not None and weight:
            per_kg = s.dose_mg / weight
        given = None
        own = sorted(pump.get(s.id, []), key=lambda x: (x.at, _entered(x)))
        if own and s.concentration_mg_per_ml:
            until = max(own[-1].at, now) if now is not None else own[-1].at
            try:
                given = dosing.delivered(
                    [dosing.PumpEvent(x.kind, x.at, x.rate_ml_per_h) for x in own],
                    s.concentration_mg_per_ml, until).dose_mg
            except ValueError:
                given = None  # an impossible history: show the plan, not a guess
        points.append(DosePoint(
            session=mark, route=s.route, drug=s.drug, weight_kg=weight, dose_mg=s.dose_mg,
            mg_per_kg=per_kg, delivered_mg=given,
            delivered_mg_per_kg=given / weight if given is not None and weight else None))
    return tuple(points)


def _summary(spans: Sequence[CourseSpan], marks: Sequence[SessionMark],
             sessions: Sequence[d.TreatmentSession], scores: Sequence[ScoreSeries],
             diss: Sequence[DissociationPoint], safety: Sequence[SafetyPoint],
             protocol: Protocol, today: date, tz: tzinfo | None) -> ProgressSummary:
    current = None
    if marks:
        current = next((s for s in spans if s.course_id == marks[-1].course_id), None)
    elif spans:
        current = spans[-1]
    last_on = marks[-1].day if marks else None
    booked = [local_day(s.planned_start, tz) for s in sessions
              if s.status is e.SessionStatus.PLANNED]
    rises = [p.bp_rise for p in safety if p.bp_rise is not None]
    peaks = [p.peak_intensity for p in diss if p.peak_intensity is not None]
    outcomes = tuple(
        OutcomeSummary(code=s.code, name=s.name, outcome=s.outcome,
                       latest_band=s.latest.band if s.latest else None,
                       latest_at=s.latest.taken_at if s.latest else None,
                       response_word=s.response_word,
                       remission_rule=s.remission.label if s.remission else None)
        for s in scores)
    return ProgressSummary(
        current_course=current,
        sessions_done_in_course=current.sessions_done if current else 0,
        sessions_done_total=sum(m.status is e.SessionStatus.COMPLETED for m in marks),
        last_session_on=last_on,
        days_since_last=(today - last_on).days if last_on else None,
        next_due=next_due(last_session_on=last_on, booked=booked, today=today,
                          protocol=protocol),
        outcomes=outcomes,
        bp_rise_median=statistics.median(rises) if rises else None,
        bp_rise_max=max(rises) if rises else None,
        dissociation_median=statistics.median(peaks) if peaks else None,
        dissociation_max=max(peaks) if peaks else None,
        serious_side_effects=sum(p.serious for p in safety),
        flagged_scores=sum(len(s.flagged_points) for s in scores),
    )
