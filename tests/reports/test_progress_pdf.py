"""The progress report: hand-worked numbers from two sessions, and a demo patient."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from kapp.reports.build import progress_report
from kapp.reports.progress_data import progress_data
from kapp.services.demo import write_demo_clinic
from kapp.services.report_reads import ReportReads
from kapp.services.sessions import DoseForm
from kapp.storage import models as m

from .helpers import PHQ9_8_ITEM9, PHQ9_20, pdf_text


def _two_sessions(services, staff, course, planned, whole_session, clock):
    services.records.record_instrument(actor=staff.nurse, patient_id=course.patient_id,
                                       instrument="phq9", answers=PHQ9_20,
                                       time_point="baseline", session_id=planned.id)
    whole_session(planned)
    clock.advance(days=3)
    second = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="iv", drug="ketamine", weight=80, mg_per_kg=0.6,
                      concentration_mg_per_ml=0.4, duration_min=40))
    services.records.record_instrument(actor=staff.nurse, patient_id=course.patient_id,
                                       instrument="phq9", answers=PHQ9_8_ITEM9,
                                       time_point="pre_session", session_id=second.id)
    whole_session(second)
    return second


def test_progress_figures_by_hand(services, staff, course, planned, whole_session,
                                  clock) -> None:
    _two_sessions(services, staff, course, planned, whole_session, clock)
    data = progress_data(ReportReads(services.db).patient_history(course.patient_id))
    assert [p.number for p in data.points] == [1, 2]
    assert [p.scores["phq9"] for p in data.points] == [20, 8]
    assert [p.dose_mg_per_kg for p in data.points] == [0.5, 0.6]
    assert [p.item9_positive for p in data.points] == [False, True]
    # predose systolic 128, highest during the session 182: a rise of 54 mmHg
    assert [p.bp_rise_mmhg for p in data.points] == [54, 54]
    assert [p.peak_hr for p in data.points] == [88, 88]
    assert [p.peak_dissociation for p in data.points] == [6, 6]
    (phq9,) = data.summaries
    assert (phq9.outcome.baseline, phq9.outcome.latest) == (20, 8)
    assert phq9.outcome.percent_change == -60
    assert phq9.outcome.response is True and phq9.outcome.remission is False
    assert phq9.response_line == 10 and phq9.remission_line == 5
    assert data.sessions_done == 2
    assert data.current_course == "induction: 2 of 6 sessions done"


def test_progress_pdf_text(services, staff, course, planned, whole_session, clock,
                           tmp_path: Path) -> None:
    _two_sessions(services, staff, course, planned, whole_session, clock)
    out = tmp_path / "progress.pdf"
    progress_report(services.db, course.patient_id, out)
    text, pages = pdf_text(out)
    assert pages <= 2
    for expected in ["Progress report: TESTPERSON, Alex", "T-0001", "Sessions done: 2",
                     "PHQ-9 20", "8 Mild", "-60%", "yes", "no (below 5)",
                     "PHQ-9 per session", "baseline 20", "response at or below 10",
                     "remission below 5", "item 9 positive", "Dissociation per session",
                     "Blood pressure rise", "Dose per session", "0.5 mg/kg", "0.6 mg/kg",
                     "+54", "! item 9"]:
        assert expected in text, expected


def test_progress_pdf_of_demo_patients(db, tmp_path: Path) -> None:
    write_demo_clinic(db, patients=3, seed=5, today=date(2026, 3, 1))
    reads = ReportReads(db)
    with db.reading() as s:
        ids = list(s.execute(sa.select(m.Patient.id).order_by(m.Patient.mrn)).scalars())
    for pid in ids:
        history = reads.patient_history(pid)
        data = progress_data(history)
        out = tmp_path / f"{pid}.pdf"
        progress_report(db, pid, out)
        text, _ = pdf_text(out)
        assert history.patient.mrn in text
        for summary in data.summaries:
            assert summary.name in text
            if summary.outcome.percent_change is not None:
                assert f"{summary.outcome.percent_change:+.0f}%" in text
        assert len(data.points) == sum(1 for s in history.sessions if s.actual_start)
        assert data.last_session_on is None or data.last_session_on <= date(2026, 3, 1) \
            + timedelta(days=1)
