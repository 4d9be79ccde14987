"""Progress and overview reads through the services, on hand-made sessions and the demo."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kapp.domain import enums as e
from kapp.domain.errors import NotFound
from kapp.services.demo import write_demo_clinic
from kapp.services.overview import Cancelled
from kapp.services.sessions import DoseForm
from kapp.storage import models as m
from tests.conftest import START

PHQ9_ITEM9 = {1: 3, 2: 3, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 2, 9: 1}  # total 19, item 9 positive
PHQ9_LOWER = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 0, 9: 0}  # total 7
GAD7 = {n: 2 for n in range(1, 8)}  # 14


@pytest.fixture
def statements(db):
    """Counts the SQL statements sent while a test runs."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", count)


def first_session(services, staff, patient, planned, whole_session):
    rec = services.records
    rec.record_instrument(actor=staff.nurse, patient_id=patient.id, instrument="phq9",
                          answers=PHQ9_ITEM9, time_point="baseline", session_id=planned.id)
    rec.record_instrument(actor=staff.nurse, patient_id=patient.id, instrument="gad7",
                          answers=GAD7, time_point="baseline", session_id=planned.id)
    return whole_session(planned)


def plan_next(services, staff, course, when):
    dose = DoseForm(route="iv", drug="ketamine", weight=80, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.4, duration_min=40)
    return services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                          planned_start=when, dose=dose)


def test_one_whole_session_as_a_series(services, staff, patient, course, planned,
                                       whole_session):
    first_session(services, staff, patient, planned, whole_session)
    progress = services.progress.progress(patient.id)
    assert progress.patient.mrn == "T-0001"
    series = progress.series
    (mark,) = series.sessions
    assert (mark.session_id, mark.ordinal, mark.course_kind) == (
        planned.id, 1, e.CourseKind.INDUCTION)
    phq9, gad7 = series.scores
    assert [p.total for p in phq9.points] == [19]
    assert phq9.points[0].flagged and phq9.points[0].baseline == 19
    assert phq9.baselines[0].response_level == 9.5  # 19 x (1 - 0.5)
    assert gad7.points[0].total == 14
    (safety,) = series.safety
    assert safety.bp_rise == 54  # 182 at the peak - 128 before dosing
    assert safety.peak_hr == 88
    assert (safety.mild, safety.serious, safety.side_effect_kinds) == (1, 0, ("nausea",))
    (diss,) = series.dissociation
    assert (diss.peak_intensity, diss.peak_valence) == (6, e.Valence.PLEASANT)
    (dose,) = series.dose
    assert dose.mg_per_kg == 0.5
    assert dose.delivered_mg == pytest.approx(35)  # 75 + 12.5 mL at 0.4 mg/mL
    assert dose.delivered_mg_per_kg == pytest.approx(35 / 80)
    summary = series.summary
    assert summary.sessions_done_in_course == 1
    assert summary.days_since_last == 0
    assert summary.next_due.basis == "booster interval"
    assert summary.next_due.days_from_today == 28  # the protocol's default interval
    assert summary.flagged_scores == 1


def test_a_second_session_moves_the_scores_and_a_booking_is_next_due(
        services, staff, patient, course, planned, whole_session, clock):
    first_session(services, staff, patient, planned, whole_session)
    clock.advance(days=3)
    second = plan_next(services, staff, course, clock.now())
    services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                       instrument="phq9", answers=PHQ9_LOWER,
                                       time_point="pre_session", session_id=second.id)
    whole_session(second)
    plan_next(services, staff, course, clock.now() + timedelta(days=4))
    series = services.progress.progress(patient.id).series
    phq9 = series.scores[0]
    assert [p.total for p in phq9.points] == [19, 7]
    assert phq9.points[1].percent_change == pytest.approx(-63.157, abs=1e-3)  # (7-19)/19
    assert phq9.points[1].response is True
    assert [m.ordinal for m in series.sessions] == [1, 2]
    assert series.summary.next_due.basis == "booked"
    assert series.summary.next_due.days_from_today == 4


def test_an_unknown_patient(services):
    import uuid

    with pytest.raises(NotFound):
        services.progress.progress(uuid.uuid4())


@pytest.fixture
def demo(db):
    write_demo_clinic(db, patients=8, seed=3, today=START.date())
    return db


def test_demo_patients_match_the_database_in_a_fixed_number_of_queries(services, demo,
                                                                       statements):
    with demo.reading() as s:
        patients = list(s.execute(sa.select(m.Patient.id)).scalars())
        took_place = Counter(s.execute(sa.select(m.Session.patient_id).where(
            m.Session.status != e.SessionStatus.PLANNED)).scalars())
        phq9 = Counter(s.execute(sa.select(m.InstrumentResponse.patient_id).where(
            m.InstrumentResponse.instrument == "phq9",
            m.InstrumentResponse.time_point.in_(["baseline", "pre_session"]))).scalars())
    assert len(patients) == 8
    seen_sessions = 0
    services.progress.definitions  # noqa: B018 - loaded once, outside the count
    for pid in patients:
        statements.clear()
        series = services.progress.progress(pid).series
        assert len(statements) <= 12, statements  # the same for 1 or 200 sessions
        assert len(series.sessions) == took_place[pid]
        assert len(series.dissociation) == len(series.safety) == len(series.dose) \
            == took_place[pid]
        if phq9[pid]:
            assert series.scores[0].code == "phq9"
            assert len(series.scores[0].points) == phq9[pid]
        seen_sessions += took_place[pid]
        rises = [p.bp_rise for p in series.safety if p.bp_rise is not None]
        assert all(-60 < r < 160 for r in rises), rises  # surges reach +90
    assert seen_sessions > 20


def test_the_page_opening_reads_overview_and_progress_once_each(services, demo, statements):
    """The patient page's first read: the same overview and series as the two reads apart,
    in one transaction, the patient, courses and sessions read once."""
    with demo.reading() as s:
        patients = list(s.execute(sa.select(m.Patient.id)).scalars())
    services.patient_view.instruments  # noqa: B018 - loaded once, outside the count
    services.progress.definitions  # noqa: B018
    for pid in patients:
        statements.clear()
        opening = services.patient_view.opening(pid)
        sessions_read = [x for x in statements if "FROM sessions" in x.split("JOIN")[0]
                         and x.lstrip().upper().startswith("SELECT")]
        assert len(sessions_read) == 1, sessions_read
        sent = len(statements)
        assert opening.overview == services.patient_view.overview(pid)
        services.patient_view.forget_kept()  # computed again, not kept by opening
        progress = services.progress.progress(pid)
        assert opening.progress.series == progress.series
        assert opening.progress.patient == progress.patient
        assert sent <= 16, statements  # a fixed number, whatever the patient's history


# -- overview ------------------------------------------------------------------------------


def test_overview_lists_what_needs_attention(services, staff, patient, course, planned,
                                            whole_session, clock):
    first_session(services, staff, patient, planned, whole_session)
    services.entries.record_side_effect(actor=staff.nurse, session_id=planned.id,
                                        kind="emergence_reaction", severity="severe",
                                        serious=True)
    today = services.overview.overview()
    assert [x.session_id for x in today.today_sessions] == [planned.id]
    assert today.in_chairs == ()
    (unsigned,) = today.unsigned
    assert (unsigned.session_id, unsigned.age_days) == (planned.id, 0)
    (flag,) = today.flags
    assert (flag.patient.mrn, flag.instrument_name, flag.total) == ("T-0001", "PHQ-9", 19)
    assert "same-day follow-up" in flag.messages[0]
    (effect,) = today.side_effects
    assert (effect.kind, effect.serious, effect.session_id) == (
        e.SideEffectKind.EMERGENCE_REACTION, True, planned.id)
    assert today.due == ()  # 28 days away, beyond the 7-day look-ahead

    clock.advance(days=31)
    later = services.overview.overview()
    assert later.today_sessions == ()
    assert later.unsigned[0].age_days == 31
    (due,) = later.due
    assert due.patient.patient_id == patient.id
    assert due.due.days_from_today == -3 and due.due.overdue  # 28-day interval, 31 days on
    assert later.side_effects == ()  # more than 30 days ago now
    assert len(later.flags) == 1

    services.records.add_note(actor=staff.prescriber, patient_id=patient.id,
                              text="Phoned about item 9: safe, crisis plan agreed.")
    assert services.overview.overview().flags == ()


def test_overview_in_chairs_and_booked_patients_are_not_due(services, staff, patient, course,
                                                            planned, whole_session, clock):
    whole_session(planned)
    clock.advance(days=40)
    nxt = plan_next(services, staff, course, clock.now())
    services.sessions.record_pump_event(actor=staff.nurse, session_id=nxt.id, kind="start",
                                        rate_ml_per_h=150)
    view = services.overview.overview()
    assert [x.session_id for x in view.in_chairs] == [nxt.id]
    assert view.today_sessions == ()
    assert view.due == ()  # in the chair today


def test_overview_reports_progress_and_can_be_cancelled(services, demo):
    steps = []
    view = services.overview.overview(progress=lambda done, total, what: steps.append(
        (done, total, what)))
    assert steps[0][:2] == (0, 5) and steps[-1][:2] == (5, 5)
    assert view.today == START.date()
    with pytest.raises(Cancelled):
        services.overview.overview(cancelled=lambda: True)
    calls = []

    def late() -> bool:
        calls.append(1)
        return len(calls) > 4  # cancel in the middle of the flag scan

    with pytest.raises(Cancelled):
        services.overview.overview(cancelled=late)


def test_bp_rise_without_a_reading_before_dosing_uses_the_first(services, staff, planned):
    from kapp.domain.vitals import VitalsInput

    sv, nurse = services.sessions, staff.nurse
    sv.record_pump_event(actor=nurse, session_id=planned.id, kind="start", rate_ml_per_h=150)
    for systolic in (120, 150, 141):
        services.entries.record_vitals(actor=nurse, session_id=planned.id, values=VitalsInput(
            hr=80, systolic=systolic, diastolic=80, spo2=98, rr=14))
    (safety,) = services.progress.progress(planned.patient_id).series.safety
    assert safety.vitals.baseline_systolic == 120
    assert safety.bp_rise == 30  # 150 - 120
