"""The session record and REMS summary PDFs hold what was recorded (read back as text)."""

from __future__ import annotations

from pathlib import Path

from kapp.domain.vitals import VitalsInput
from kapp.reports.build import rems_report, session_report
from kapp.reports.rems_pdf import rems_summary
from kapp.services.report_reads import ReportReads

from .helpers import pdf_text


def test_session_record_on_one_page_with_all_entries(services, staff, planned, whole_session,
                                                     tmp_path: Path) -> None:
    whole_session(planned)
    out = tmp_path / "session.pdf"
    session_report(services.db, planned.id, out)
    text, pages = pdf_text(out)
    assert pages == 1
    for expected in [
        "Session record: Ketamine IV, session 1 of 6 (induction)",
        "TESTPERSON, Alex", "T-0001", "born 1980-05-17",
        "80 kg", "0.5 mg/kg", "40 mg", "0.4 mg/mL", "150 mL/h",
        "35 mg in 87.5 mL",  # delivered, from the pump segments
        "LOT-42", "50 mg / 10 mg", "Ned Nurse",  # controlled substance and its witness
        "rate change", "BP rise",  # pump history
        "128 82", "182 100", "134 84",  # vitals table: systolic, diastolic
        "slowed", "rate halved",  # alert acknowledged with its action
        "nausea", "mild", "ondansetron", "4 mg",
        "like drifting on warm water", "floating", "altered time",
        "NOT SIGNED", "minutes since infusion start", "HR /min", "SYS mmHg",
    ]:
        assert expected in text, expected


def test_signed_record_shows_signature_and_struck_entry_with_reason(
        services, staff, planned, whole_session, clock, tmp_path: Path) -> None:
    wrong = services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                           values=VitalsInput(hr=61, systolic=119, diastolic=71))
    services.records.strike(actor=staff.nurse, table="vitals_readings",
                            entry_id=wrong.reading.id, reason="typed into the wrong chair")
    whole_session(planned)
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    out = tmp_path / "signed.pdf"
    session_report(services.db, planned.id, out)
    text, _ = pdf_text(out)
    assert "Signed by Dr Pia Prescriber" in text
    assert "reviewed and signed" in text and "NOT SIGNED" not in text
    assert "119 71" in text  # the struck reading is still printed...
    assert "struck" in text and "typed into the wrong chair" in text  # ...with its reason


def test_rems_summary_answers_from_the_record(services, staff, planned, whole_session,
                                              tmp_path: Path) -> None:
    whole_session(planned)
    record = ReportReads(services.db).session_record(planned.id)
    r = rems_summary(record)
    assert (r.bp_before.systolic, r.bp_before.diastolic) == (128, 82)
    # readings at minutes 30 and 55 after the start: 30 is the nearer to 40
    assert (r.bp_at_40.systolic, r.bp_at_40.diastolic) == (182, 100)
    assert (r.bp_before_discharge.systolic, r.bp_before_discharge.diastolic) == (134, 84)
    assert r.monitoring_minutes == 5 + 30 + 10 + 15 + 20 + 5 - 5  # start to left
    assert r.acceptable_before_dosing is True and r.acceptable_before_discharge is True
    assert r.spo2_checks == 3 and r.lowest_spo2 == 97
    assert r.dissociation_peak == 6 and not r.respiratory_depression
    out = tmp_path / "rems.pdf"
    rems_report(services.db, planned.id, out)
    text, pages = pdf_text(out)
    assert pages == 1
    for expected in ["Esketamine REMS monitoring summary", "LOT-42", "128/82 mmHg",
                     "182/100 mmHg", "134/84 mmHg", "80 min", "less than the 120 minutes",
                     "not esketamine", "peak intensity 6/10", "3 SpO2 readings, lowest 97 %"]:
        assert expected in text, expected


def test_intranasal_esketamine_without_a_pump(services, staff, course, clock,
                                              tmp_path: Path) -> None:
    from kapp.services.sessions import DoseForm

    session = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=56))
    services.entries.record_vitals(actor=staff.nurse, session_id=session.id,
                                   values=VitalsInput(hr=70, systolic=120, diastolic=80,
                                                      spo2=98))
    out = tmp_path / "esk.pdf"
    rems_report(services.db, session.id, out)
    text, _ = pdf_text(out)
    assert "56 mg (2 devices of 28 mg)" in text and "120/80 mmHg" in text
    assert "not esketamine" not in text
    session_report(services.db, session.id, out)
    text, _ = pdf_text(out)
    assert "Esketamine intranasal" in text and "not by pump" in text


def test_intranasal_dose_given_comes_from_the_devices_recorded(services, staff, course, clock,
                                                               tmp_path: Path) -> None:
    from kapp.services.sessions import DoseForm

    session = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=84))
    services.nasal.record_device(actor=staff.nurse, session_id=session.id)
    clock.advance(minutes=5)
    services.nasal.record_device(actor=staff.nurse, session_id=session.id)
    clock.advance(minutes=5)
    services.nasal.end_dosing(actor=staff.nurse, session_id=session.id,
                              reason="Patient declined the third device")
    summary = rems_summary(ReportReads(services.db).session_record(session.id))
    assert (summary.devices, summary.dose_mg, summary.devices_recorded) == (2, 56, True)
    out = tmp_path / "esk.pdf"
    rems_report(services.db, session.id, out)
    text, _ = pdf_text(out)
    assert "56 mg (2 devices of 28 mg given, as recorded)" in text
    session_report(services.db, session.id, out)
    text, _ = pdf_text(out)
    assert "Given (nasal devices)" in text and "56 mg in 2 device(s)" in text
