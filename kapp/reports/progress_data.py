"""Per-session figures for the progress report, computed from a ``PatientHistory``.

Pure functions over domain records; the response and remission rules are those of
``kapp.domain.outcomes``. The progress view (``kapp.domain.series`` on the progress
branch) computes the same series for the screen; at merge the report can take those
series instead: ``ProgressData`` is all the PDF reads.

Choices, stated so the printout can be checked by hand:
- a session's score is the last standing score of that instrument recorded for the
  session at the baseline or pre-session time point (what is taken before each infusion);
- the baseline is the patient's first course's baseline score (the score before
  treatment began), falling back to the first score when no course has one;
- blood-pressure rise = highest systolic during the session minus the last systolic
  taken before dosing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kapp.domain import enums as e
from kapp.domain.entities import TreatmentSession
from kapp.domain.outcomes import PAIN_NRS, CourseOutcome, course_outcome
from kapp.domain.protocol import Protocol
from kapp.services.report_reads import PatientHistory

OUTCOME_INSTRUMENTS = ("phq9", "gad7", "madrs", "qids_sr16", "pain_nrs")
SESSION_TIME_POINTS = (e.TimePoint.BASELINE, e.TimePoint.PRE_SESSION)
ITEM9_FLAG = "item9_positive"


@dataclass(frozen=True, slots=True)
class SessionPoint:
    session_id: uuid.UUID
    number: int  # 1.. across all the patient's courses
    number_in_course: int
    course_kind: e.CourseKind
    course_index: int  # 0 for the first course
    when: datetime
    status: e.SessionStatus
    dose_mg_per_kg: float | None
    dose_mg: float | None
    scores: dict[str, float] = field(default_factory=dict)
    item9_positive: bool = False
    peak_dissociation: int | None = None
    cadss_total: float | None = None
    baseline_systolic: float | None = None
    peak_systolic: float | None = None
    peak_hr: float | None = None
    side_effects: dict[e.Severity, int] = field(default_factory=dict)
    serious_side_effects: int = 0

    @property
    def bp_rise_mmhg(self) -> float | None:
        if self.baseline_systolic is None or self.peak_systolic is None:
            return None
        return self.peak_systolic - self.baseline_systolic


@dataclass(frozen=True, slots=True)
class InstrumentSummary:
    code: str
    name: str
    outcome: CourseOutcome
    baseline_on: date | None
    latest_on: date | None
    latest_band: str | None
    response_line: float | None  # the score at or below which the patient responded
    remission_line: float | None
    remission_words: str  # "below 5", "at or below 10"


@dataclass(frozen=True, slots=True)
class ProgressData:
    points: tuple[SessionPoint, ...]  # sessions that took place, in time order
    summaries: tuple[InstrumentSummary, ...]  # outcome instruments with any score
    sessions_done: int
    current_course: str  # "induction: 4 of 6 sessions"
    last_session_on: date | None
    next_due_on: date | None  # the next planned session, or last + booster interval
    course_starts: tuple[tuple[int, str], ...]  # (first session number, course kind)


def _took_place(s: TreatmentSession) -> bool:
    return s.actual_start is not None


def progress_data(history: PatientHistory) -> ProgressData:
    proto = history.protocol
    course_index = {c.id: i for i, c in enumerate(history.courses)}
    kinds = {c.id: c.kind for c in history.courses}
    scores: dict[uuid.UUID, dict[str, float]] = defaultdict(dict)
    item9: set[uuid.UUID] = set()
    cadss: dict[uuid.UUID, float] = {}
    for r in history.scores:  # time order: a later score of a session replaces an earlier
        if r.session_id is None:
            continue
        if r.instrument in ("cadss", "cadss6"):
            cadss[r.session_id] = r.total
        elif r.time_point in SESSION_TIME_POINTS:
            scores[r.session_id][r.instrument] = r.total
            if ITEM9_FLAG in r.flags:
                item9.add(r.session_id)
    vitals = defaultdict(list)
    for v in history.vitals:
        vitals[v.session_id].append(v)
    dissociation: dict[uuid.UUID, int] = {}
    for d in history.dissociation:
        dissociation[d.session_id] = max(d.intensity, dissociation.get(d.session_id, 0))
    effects: dict[uuid.UUID, dict[e.Severity, int]] = defaultdict(dict)
    serious: dict[uuid.UUID, int] = defaultdict(int)
    for se in history.side_effects:
        effects[se.session_id][se.severity] = effects[se.session_id].get(se.severity, 0) + 1
        serious[se.session_id] += se.serious
    points = []
    for s in filter(_took_place, history.sessions):
        readings = vitals.get(s.id, [])
        before = [v.systolic for v in readings if v.predose and v.systolic is not None]
        during = [v.systolic for v in readings if not v.predose and v.systolic is not None]
        hrs = [v.hr for v in readings if not v.predose and v.hr is not None]
        points.append(SessionPoint(
            session_id=s.id, number=len(points) + 1, number_in_course=s.number_in_course,
            course_kind=kinds.get(s.course_id, e.CourseKind.INDUCTION),
            course_index=course_index.get(s.course_id, 0),
            when=s.actual_start or s.planned_start, status=s.status,
            dose_mg_per_kg=s.dose_mg_per_kg, dose_mg=s.dose_mg, scores=dict(scores[s.id]),
            item9_positive=s.id in item9, peak_dissociation=dissociation.get(s.id),
            cadss_total=cadss.get(s.id), baseline_systolic=before[-1] if before else None,
            peak_systolic=max(during) if during else None, peak_hr=max(hrs) if hrs else None,
            side_effects=dict(effects[s.id]), serious_side_effects=serious[s.id]))
    summaries = tuple(
        summary for code in OUTCOME_INSTRUMENTS
        if (summary := _summary(history, code, points, proto)) is not None)
    starts: list[tuple[int, str]] = []
    seen: set[int] = set()
    for p in points:
        if p.course_index not in seen:
            seen.add(p.course_index)
            starts.append((p.number, p.course_kind.value))
    return ProgressData(
        points=tuple(points), summaries=summaries,
        sessions_done=sum(p.status is e.SessionStatus.COMPLETED for p in points),
        current_course=_current_course(history),
        last_session_on=points[-1].when.date() if points else None,
        next_due_on=_next_due(history, points, proto), course_starts=tuple(starts))


def _summary(history: PatientHistory, code: str, points: list[SessionPoint],
             proto: Protocol) -> InstrumentSummary | None:
    dated = [(p.when, p.scores[code]) for p in points if code in p.scores]
    if not dated:
        return None
    baseline, baseline_on = None, None
    for course in history.courses:
        if code in course.baseline_scores:
            baseline, baseline_on = course.baseline_scores[code], course.started_on
            break
    if baseline is None:
        baseline, baseline_on = dated[0][1], dated[0][0].date()
    latest_at, latest = dated[-1]
    definition = history.instruments.get(code)
    fall = proto.pain_relief_fall_fraction if code == PAIN_NRS else proto.response_fall_fraction
    remission_line, remission_words = {
        "phq9": (proto.remission_phq9_below, f"below {proto.remission_phq9_below:g}"),
        "madrs": (proto.remission_madrs_at_or_below,
                  f"at or below {proto.remission_madrs_at_or_below:g}"),
        "qids_sr16": (proto.remission_qids_at_or_below,
                      f"at or below {proto.remission_qids_at_or_below:g}"),
    }.get(code, (None, ""))
    return InstrumentSummary(
        code=code, name=definition.name if definition else code,
        outcome=course_outcome(code, baseline, latest, proto), baseline_on=baseline_on,
        latest_on=latest_at.date(),
        latest_band=definition.band_for(int(latest)) if definition else None,
        response_line=baseline * (1 - fall) if baseline else None,
        remission_line=remission_line, remission_words=remission_words)


def _current_course(history: PatientHistory) -> str:
    if not history.courses:
        return "no course yet"
    course = history.courses[-1]
    done = sum(1 for s in history.sessions if s.course_id == course.id
               and s.status is e.SessionStatus.COMPLETED)
    ended = f", ended {course.ended_on.isoformat()}" if course.ended_on else ""
    return f"{course.kind.value}: {done} of {course.planned_sessions} sessions done{ended}"


def _next_due(history: PatientHistory, points: list[SessionPoint],
              proto: Protocol) -> date | None:
    planned = [s.planned_start for s in history.sessions
               if s.status is e.SessionStatus.PLANNED and s.planned_start >= history.printed_at]
    if planned:
        return min(planned).date()
    if not points:
        return None
    return points[-1].when.date() + timedelta(days=proto.booster_interval_days)
