"""Progress series with hand-worked numbers (see the comments beside each expectation)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from kapp.domain import entities as d
from kapp.domain import enums as e
from kapp.domain.instruments import load_instruments
from kapp.domain.outcomes import is_remission
from kapp.domain.protocol import Protocol
from kapp.domain.series import (
    Threshold,
    awaiting_follow_up,
    build_series,
    flag_followed_up,
    next_due,
    percent_of,
    remission_threshold,
    response_level,
    session_vitals,
)
from kapp.paths import instruments_dir

DEFS = load_instruments(instruments_dir())
P = Protocol()
NURSE = uuid.uuid4()
PATIENT = uuid.uuid4()


def at(day: int, month: int = 3, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def entry(when: datetime, struck: bool = False) -> d.Entry:
    strike = d.Strike(when, NURSE, "wrong patient") if struck else None
    return d.Entry(uuid.uuid4(), when, NURSE, strike, None)


def course(kind: str, started: date, baseline: dict | None = None, planned: int = 6,
           ended: date | None = None) -> d.Course:
    return d.Course(uuid.uuid4(), PATIENT, e.CourseKind(kind), planned, started, ended,
                    baseline or {})


def session(c: d.Course, number: int, start: datetime, status: str = "completed",
            **kw) -> d.TreatmentSession:
    values = dict(route=e.Route.IV, drug=e.Drug.KETAMINE, weight_kg=80.0, dose_mg_per_kg=0.5,
                  dose_mg=40.0, concentration_mg_per_ml=0.4)
    values.update(kw)
    planned = status == "planned"
    return d.TreatmentSession(uuid.uuid4(), c.id, PATIENT, number, e.SessionStatus(status),
                              start, actual_start=None if planned else start, **values)


def score(code: str, total: float, s: d.TreatmentSession | None, when: datetime,
          point: str = "pre_session", flags: tuple[str, ...] = (), struck: bool = False,
          course_id: uuid.UUID | None = None) -> d.InstrumentResult:
    return d.InstrumentResult(
        entry(when, struck), PATIENT, course_id or (s.course_id if s else None),
        s.id if s else None, code, "kapp-1", e.TimePoint(point), when, {}, total,
        DEFS[code].band_for(int(total)) if code in DEFS else None, {}, flags)


def vitals(s: d.TreatmentSession, when: datetime, sys: float, dia: float, hr: float,
           predose: bool = False, struck: bool = False) -> d.VitalsReading:
    return d.VitalsReading(entry(when, struck), s.id, when, hr=hr, systolic=sys, diastolic=dia,
                           spo2=98, rr=14, predose=predose)


# -- the scene: an induction of three sessions, then one maintenance session --------------

A = course("induction", date(2026, 3, 2), {"phq9": 20})
B = course("maintenance", date(2026, 4, 20), {"phq9": 4})  # its own "baseline" is ignored
A1 = session(A, 1, at(2))
A2 = session(A, 2, at(4))
A3 = session(A, 3, at(6), status="aborted", abort_reason="cannula tissued")
B1 = session(B, 1, at(20, 4), route=e.Route.INTRANASAL, drug=e.Drug.ESKETAMINE,
             dose_mg_per_kg=None, dose_mg=56.0, weight_kg=70.0, concentration_mg_per_ml=None)
B2 = session(B, 2, at(18, 5), status="planned")
ITEM9 = ("item9_positive",)
RESULTS = [
    score("phq9", 20, A1, at(2, minute=-10 % 60, hour=8), "baseline", flags=ITEM9),
    score("phq9", 14, A2, at(4)),  # (14 - 20) / 20 = -30%
    score("phq9", 3, A2, at(4, hour=11), "post_session"),  # acute: not on the course line
    score("phq9", 10, A3, at(6)),  # exactly half: a response, 20 x (1 - 0.5) = 10
    score("phq9", 2, A3, at(6), struck=True),  # struck through: not counted
    score("phq9", 4, B1, at(20, 4)),  # -80%, and 4 < 5: remission
    score("gad7", 15, A1, at(2, hour=8), "baseline"),  # no course entry: the baseline score
    score("gad7", 6, B1, at(20, 4)),  # (6 - 15) / 15 = -60%
    score("gad7", 9, None, at(27, 4), "7d", course_id=B.id),  # outside a session: x = 4.5
    score("cadss6", 10, A1, at(2, hour=9, minute=40), "peak"),
    score("cadss", 24, A1, at(2, hour=9, minute=41), "peak"),  # the full CADSS wins
]
VITALS = [
    vitals(A1, at(2, hour=8, minute=50), 128, 82, 72, predose=True),
    vitals(A1, at(2, minute=30), 182, 100, 88),
    vitals(A1, at(2, minute=45), 134, 84, 74),
    vitals(A1, at(2, minute=50), 250, 120, 140, struck=True),
    vitals(A2, at(4, hour=8, minute=45), 150, 90, 80, predose=True),  # rechecked after rest
    vitals(A2, at(4, hour=8, minute=58), 136, 84, 76, predose=True),  # the baseline
    vitals(A2, at(4, minute=30), 150, 92, 81),  # 150 - 136 = +14
]
DISS = [
    d.DissociationReport(entry(at(2, minute=20)), A1.id, at(2, minute=20), 3, e.Valence.NEUTRAL),
    d.DissociationReport(entry(at(2, minute=35)), A1.id, at(2, minute=35), 6, e.Valence.PLEASANT),
    d.DissociationReport(entry(at(2, minute=50)), A1.id, at(2, minute=50), 2, e.Valence.NEUTRAL),
    d.DissociationReport(entry(at(4, minute=30)), A2.id, at(4, minute=30), 8,
                         e.Valence.DISTRESSING),
    d.DissociationReport(entry(at(4, minute=31), struck=True), A2.id, at(4, minute=31), 10,
                         e.Valence.DISTRESSING),
]
EFFECTS = [
    d.SideEffect(entry(at(2)), A1.id, e.SideEffectKind.NAUSEA, at(2, minute=20), e.Severity.MILD),
    d.SideEffect(entry(at(2)), A1.id, e.SideEffectKind.HEADACHE, at(2, minute=25),
                 e.Severity.MODERATE),
    d.SideEffect(entry(at(4)), A2.id, e.SideEffectKind.EMERGENCE_REACTION, at(4, minute=25),
                 e.Severity.SEVERE, serious=True),
    d.SideEffect(entry(at(4), struck=True), A2.id, e.SideEffectKind.NAUSEA, at(4, minute=9),
                 e.Severity.SEVERE, serious=True),
]
PUMP = [  # 150 mL/h for 30 min + 75 mL/h for 10 min = 87.5 mL at 0.4 mg/mL = 35 mg
    d.InfusionEvent(entry(at(2)), A1.id, e.InfusionEventKind.START, at(2), 150, None),
    d.InfusionEvent(entry(at(2)), A1.id, e.InfusionEventKind.RATE_CHANGE, at(2, minute=30), 75,
                    "BP rise"),
    d.InfusionEvent(entry(at(2)), A1.id, e.InfusionEventKind.STOP, at(2, minute=40), None, None),
]
TODAY = date(2026, 5, 1)


def build(**overrides):
    args = dict(courses=[B, A], sessions=[B2, A3, A1, B1, A2], results=RESULTS, vitals=VITALS,
                dissociation=DISS, side_effects=EFFECTS, infusion_events=PUMP,
                definitions=DEFS, protocol=P, today=TODAY)
    args.update(overrides)
    return build_series(**args)


def test_sessions_are_numbered_in_time_order_and_bookings_are_not_points():
    series = build()
    assert [m.session_id for m in series.sessions] == [A1.id, A2.id, A3.id, B1.id]
    assert [m.ordinal for m in series.sessions] == [1, 2, 3, 4]
    assert series.sessions[3].label == "Session 4 · Maintenance 1"
    assert series.sessions[3].course_number == 2
    assert series.session(B2.id) is None


def test_course_boundaries():
    induction, maintenance = build().courses
    assert (induction.kind, induction.first_ordinal, induction.last_ordinal) == (
        e.CourseKind.INDUCTION, 1, 3)
    assert induction.sessions_done == 2  # the aborted one is not done
    assert induction.sessions_taken_place == 3
    assert (maintenance.first_ordinal, maintenance.last_ordinal) == (4, 4)
    assert maintenance.label == "Maintenance"


def test_phq9_baseline_percent_change_response_and_remission():
    phq9 = build().scores[0]
    assert phq9.code == "phq9" and phq9.name == "PHQ-9"
    assert [p.total for p in phq9.points] == [20, 14, 10, 4]
    assert [p.x_ordinal for p in phq9.points] == [1, 2, 3, 4]
    assert [p.baseline for p in phq9.points] == [20, 20, 20, 20]  # maintenance keeps it
    assert [p.percent_change for p in phq9.points] == pytest.approx([0, -30, -50, -80])
    assert [p.response for p in phq9.points] == [False, False, True, True]
    assert [p.remission for p in phq9.points] == [False, False, False, True]
    assert [p.flagged for p in phq9.points] == [True, False, False, False]
    assert "same-day follow-up" in phq9.points[0].flag_messages[0]
    (span,) = phq9.baselines
    assert (span.baseline, span.response_level) == (20, 10)
    assert (span.first_ordinal, span.last_ordinal) == (1, 4)
    assert phq9.remission == Threshold(5, False, "Remission: below 5")
    assert phq9.bands[0].label == "Minimal"
    assert (phq9.outcome.baseline, phq9.outcome.latest) == (20, 4)
    assert phq9.outcome.percent_change == pytest.approx(-80)
    assert phq9.outcome.response and phq9.outcome.remission


def test_gad7_takes_its_baseline_from_the_baseline_score_and_has_no_remission_line():
    series = build()
    assert [s.code for s in series.scores] == ["phq9", "gad7"]  # no CADSS among outcomes
    gad7 = series.scores[1]
    assert [p.total for p in gad7.points] == [15, 6, 9]
    assert gad7.points[2].x_ordinal == 4.5  # a 7-day score after session 4
    assert gad7.points[2].session is None
    assert gad7.points[1].percent_change == pytest.approx(-60)  # (6 - 15) / 15
    assert gad7.points[2].percent_change == pytest.approx(-40)  # (9 - 15) / 15
    assert gad7.remission is None
    assert gad7.outcome.response is False and gad7.outcome.remission is None


def test_a_new_induction_starts_a_new_baseline():
    c = course("induction", date(2026, 6, 1), {"phq9": 16})
    s = session(c, 1, at(1, 6))
    series = build(courses=[A, B, c], sessions=[A1, A2, A3, B1, s],
                   results=[*RESULTS, score("phq9", 12, s, at(1, 6))])
    phq9 = series.scores[0]
    assert phq9.points[-1].baseline == 16
    assert phq9.points[-1].percent_change == pytest.approx(-25)  # (12 - 16) / 16
    assert [(b.baseline, b.response_level) for b in phq9.baselines] == [(20, 10), (16, 8)]


def test_no_baseline_means_not_judged():
    c = course("induction", date(2026, 3, 2))
    s = session(c, 1, at(2))
    series = build(courses=[c], sessions=[s], results=[score("phq9", 12, s, at(2))])
    (point,) = series.scores[0].points
    assert point.baseline is None and point.response is None and point.percent_change is None
    assert series.scores[0].baselines == ()
    assert point.remission is False  # remission needs no baseline


def test_pain_uses_the_relief_fraction():
    c = course("induction", date(2026, 3, 2), {"pain_nrs": 8})
    s = session(c, 2, at(4))
    series = build(courses=[c], sessions=[s], results=[score("pain_nrs", 5, s, at(4))])
    pain = series.scores[0]
    assert pain.response_word == "Meaningful relief"
    assert pain.baselines[0].response_level == pytest.approx(5.6)  # 8 x (1 - 0.3)
    assert pain.points[0].response is True  # (8 - 5) / 8 = 37.5% >= 30%


def test_remission_lines_follow_the_protocol_and_agree_with_outcomes():
    proto = Protocol.from_values({"remission_phq9_below": 6, "remission_madrs_at_or_below": 12})
    assert remission_threshold("phq9", proto) == Threshold(6, False, "Remission: below 6")
    assert remission_threshold("madrs", proto) == Threshold(12, True, "Remission: 12 or less")
    assert remission_threshold("qids_sr16", proto).value == 5
    assert remission_threshold("gad7", proto) is None
    for code in ("phq9", "madrs", "qids_sr16"):
        line = remission_threshold(code, proto)
        for total in range(0, 30):
            assert line.met(total) == is_remission(code, total, proto), (code, total)


def test_response_level():
    assert response_level(20, 0.5) == 10
    assert response_level(None, 0.5) is None
    assert response_level(0, 0.5) is None


def test_bp_rise_is_the_peak_systolic_minus_the_last_reading_before_dosing():
    first, second, third, _aborted = (p for p in build().safety)
    assert first.vitals.baseline_systolic == 128
    assert first.vitals.peak_systolic == 182  # the struck 250 does not count
    assert first.bp_rise == 54  # 182 - 128
    assert first.peak_hr == 88
    assert second.vitals.baseline_systolic == 136  # the recheck, not the first reading
    assert second.bp_rise == 14  # 150 - 136
    assert third.bp_rise is None  # no vitals at all


def test_bp_rise_without_a_predose_flag_uses_the_first_reading():
    readings = [vitals(A1, at(2, minute=m), sys, 80, 70) for m, sys in
                ((0, 120), (10, 140), (20, 131))]
    summary = session_vitals(readings)
    assert (summary.baseline_systolic, summary.peak_systolic, summary.bp_rise) == (120, 140, 20)
    assert session_vitals([]).bp_rise is None


def test_side_effects_by_severity():
    first, second, *_ = build().safety
    assert (first.mild, first.moderate, first.severe, first.serious) == (1, 1, 0, 0)
    assert first.side_effect_kinds == ("nausea", "headache")
    assert (second.mild, second.moderate, second.severe, second.serious) == (0, 0, 1, 1)
    assert second.side_effects == 1  # the struck one is gone


def test_dissociation_peak_and_cadss():
    first, second, third, _ = build().dissociation
    assert (first.peak_intensity, first.peak_valence, first.reports) == (6, e.Valence.PLEASANT, 3)
    assert (first.cadss_total, first.cadss_code, first.cadss_max) == (24, "cadss", 92)
    assert (second.peak_intensity, second.distressing, second.reports) == (8, True, 1)
    assert second.cadss_total is None
    assert third.peak_intensity is None


def test_dose_per_kg_prescribed_and_delivered():
    first, second, _, esketamine = build().dose
    assert first.mg_per_kg == 0.5
    assert first.delivered_mg == pytest.approx(35)
    assert first.delivered_mg_per_kg == pytest.approx(0.4375)  # 35 mg / 80 kg
    assert second.delivered_mg is None  # no pump history recorded
    assert esketamine.mg_per_kg == pytest.approx(0.8)  # 56 mg / 70 kg
    assert esketamine.drug is e.Drug.ESKETAMINE


def test_summary():
    summary = build().summary
    assert summary.current_course.kind is e.CourseKind.MAINTENANCE
    assert summary.sessions_done_in_course == 1
    assert summary.sessions_done_total == 3
    assert summary.last_session_on == date(2026, 4, 20)
    assert summary.days_since_last == 11  # 20 April to 1 May
    assert summary.next_due.on == date(2026, 5, 18)
    assert summary.next_due.basis == "booked"
    assert summary.next_due.days_from_today == 17
    phq9, gad7 = summary.outcomes
    assert (phq9.name, phq9.outcome.baseline, phq9.outcome.latest) == ("PHQ-9", 20, 4)
    assert phq9.latest_band == "Minimal"
    assert phq9.remission_rule == "Remission: below 5"
    assert gad7.outcome.latest == 9
    assert summary.bp_rise_median == 34  # median of 54 and 14
    assert summary.bp_rise_max == 54
    assert summary.dissociation_median == 7  # median of 6 and 8
    assert summary.dissociation_max == 8
    assert summary.serious_side_effects == 1
    assert summary.flagged_scores == 1


def test_next_due_from_the_booster_interval():
    proto = Protocol.from_values({"booster_interval_days": 21})
    due = next_due(last_session_on=date(2026, 4, 20), booked=[], today=TODAY, protocol=proto)
    assert (due.on, due.basis, due.days_from_today, due.overdue) == (
        date(2026, 5, 11), "booster interval", 10, False)  # 20 April + 21 days
    late = next_due(last_session_on=date(2026, 3, 1), booked=[date(2026, 4, 1)], today=TODAY,
                    protocol=proto)  # a booking in the past does not count
    assert (late.on, late.days_from_today, late.overdue) == (date(2026, 3, 22), -40, True)
    assert next_due(last_session_on=None, booked=[], today=TODAY, protocol=proto) is None


def test_an_empty_patient():
    series = build(courses=[], sessions=[], results=[], vitals=[], dissociation=[],
                   side_effects=[], infusion_events=[])
    assert series.scores == () and series.sessions == ()
    assert series.summary.current_course is None
    assert series.summary.next_due is None
    assert series.summary.bp_rise_median is None


def test_flag_follow_up():
    flagged = RESULTS[0]
    later_positive = replace(RESULTS[1], flags=ITEM9)
    later_negative = RESULTS[1]
    note = d.Note(entry(at(3)), PATIENT, None, at(3), "Phoned: safe, plan agreed")
    old_note = d.Note(entry(at(1)), PATIENT, None, at(1), "Intake")
    assert not flag_followed_up(flagged, [later_positive], [old_note])
    assert flag_followed_up(flagged, [later_positive, later_negative], [])
    assert flag_followed_up(flagged, [], [note])
    struck = replace(note, entry=entry(at(3), struck=True))
    assert not flag_followed_up(flagged, [], [struck])
    other = replace(later_negative, instrument="gad7")
    assert not flag_followed_up(flagged, [other], [])


def test_percent_words():
    assert percent_of(-62.4) == "−62%"
    assert percent_of(4.6) == "+5%"
    assert percent_of(0.2) == "0%"
    assert percent_of(None) == "—"


def test_speed_of_two_hundred_sessions():
    """10 years of boosters: building must stay far below a frame budget's worth."""
    import time

    c = course("induction", date(2016, 1, 4), {"phq9": 22, "gad7": 15})
    start = datetime(2016, 1, 4, 9, tzinfo=UTC)
    sessions, results, readings = [], [], []
    for i in range(200):
        s = session(c, i + 1, start + timedelta(days=18 * i))
        sessions.append(s)
        results += [score("phq9", 10 + i % 8, s, s.planned_start),
                    score("gad7", 8 + i % 5, s, s.planned_start)]
        readings += [vitals(s, s.planned_start + timedelta(minutes=10 * k), 120 + k, 80, 70,
                            predose=k == 0) for k in range(15)]
    began = time.perf_counter()
    series = build(courses=[c], sessions=sessions, results=results, vitals=readings,
                   dissociation=[], side_effects=[], infusion_events=[])
    elapsed = time.perf_counter() - began
    assert len(series.scores[0].points) == 200
    assert elapsed < 1.0  # generous for a shared test machine; typically ~20 ms


def test_awaiting_follow_up_in_one_pass_agrees_with_the_rule():
    flagged, later_negative = RESULTS[0], RESULTS[1]
    second = replace(RESULTS[3], flags=ITEM9)  # a later positive PHQ-9 at session 3
    gad = RESULTS[6]
    stream = [flagged, gad, second]
    assert awaiting_follow_up(stream, None) == [flagged, second]
    assert awaiting_follow_up([flagged, later_negative, second], None) == [second]
    assert awaiting_follow_up(stream, at(5)) == [second]  # a note on 5 March
    assert awaiting_follow_up(stream, at(7)) == []
    for notes_at in (None, at(5), at(7)):
        for history in (stream, [flagged, later_negative, second]):
            notes = [] if notes_at is None else [
                d.Note(entry(notes_at), PATIENT, None, notes_at, "called")]
            expected = [f for i, f in enumerate(history) if f.flags
                        and not flag_followed_up(f, history[i + 1:], notes)]
            assert awaiting_follow_up(history, notes_at) == expected
