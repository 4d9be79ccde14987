"""Discharge: checklist, times and monitoring minutes, findings, the esketamine REMS form."""

from __future__ import annotations

import pytest
from gui_helpers import shot, show
from PySide6.QtCore import Qt, QTime, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.domain.vitals import VitalsInput
from kapp.services.sessions import DoseForm
from kapp.ui.session_steps import discharge as ui

pytestmark = pytest.mark.gui

START_OF_DAY = "2026-03-02"


def to_recovery(services, staff, clock, session_id, *, rate=150, minutes=40, late_bp=150):
    """Pre-checks, baseline, start, a reading at 40 min, stop, a recovery reading."""
    nurse, sv, en = staff.nurse, services.sessions, services.entries
    sv.set_checklist(actor=nurse, session_id=session_id, which="pre",
                     items={c.value: True for c in e.PreSessionCheck})
    sv.set_controlled_substance(actor=nurse, session_id=session_id, lot_number="LOT-9",
                                amount_drawn_mg=84, amount_wasted_mg=0, witness_id=None)
    en.record_vitals(actor=nurse, session_id=session_id, values=VitalsInput(
        hr=70, systolic=124, diastolic=80, spo2=98, rr=14))
    clock.advance(minutes=5)
    sv.record_pump_event(actor=nurse, session_id=session_id, kind="start", rate_ml_per_h=rate)
    clock.advance(minutes=minutes)
    en.record_vitals(actor=nurse, session_id=session_id, values=VitalsInput(
        hr=84, systolic=150, diastolic=92, spo2=96, rr=14))
    sv.record_pump_event(actor=nurse, session_id=session_id, kind="stop")
    clock.advance(minutes=15)
    en.record_vitals(actor=nurse, session_id=session_id, values=VitalsInput(
        hr=76, systolic=late_bp, diastolic=84, spo2=97, rr=14))


def test_discharge_checklist_times_and_monitoring_minutes(qtbot, ctx, services, staff,
                                                          planned, clock):
    to_recovery(services, staff, clock, planned.id)  # systolic 150 vs baseline 124
    dialog = show(qtbot, ui.DischargeDialog(ctx, planned.id))
    assert not hasattr(dialog, "rems_rows")  # ketamine: no REMS form
    # The latest systolic is more than the protocol's margin above baseline: said in words.
    assert dialog.vitals_banner.kind == "warn"
    assert "Systolic 150 mmHg is more than 20 mmHg above" in dialog.vitals_banner.label.text()
    assert "Monitoring so far: 55 min" in dialog.minutes.text()
    shot(dialog, "steps_discharge_not_yet")
    # A better reading arrives while the dialog is open: the banner follows.
    clock.advance(minutes=1)  # later than the last (entries of one instant have no order)
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                   values=VitalsInput(hr=72, systolic=130, diastolic=82,
                                                      spo2=98, rr=14))
    qtbot.waitUntil(lambda: dialog.vitals_banner.kind == "ok")
    assert "near baseline" in dialog.vitals_banner.label.text()

    for check in e.DischargeCheck:
        qtbot.keyClick(dialog.checklist.boxes[check.value], Qt.Key.Key_Space)
    assert services.sessions.get(planned.id).discharge_checklist == {
        c.value: True for c in e.DischargeCheck}

    # Ready to leave ten minutes ago (typed), left now.
    now = clock.now().astimezone()
    ten_ago = (now.hour * 60 + now.minute - 10)
    dialog.ready_time.edit.setTime(QTime(ten_ago // 60, ten_ago % 60))
    qtbot.mouseClick(dialog.ready_button, Qt.MouseButton.LeftButton)
    clock.advance(minutes=5)
    dialog.left_button.click()
    session = services.sessions.get(planned.id)
    assert session.status is e.SessionStatus.COMPLETED
    assert (clock.now() - session.ready_to_leave_at).total_seconds() == 15 * 60
    assert session.left_at == clock.now()
    assert session.monitoring_minutes == 61  # the better reading came a minute later
    assert "Total monitoring: 61 min" in dialog.minutes.text()
    assert not dialog.left_button.isEnabled()
    assert dialog.saved_something
    shot(dialog, "steps_discharge_done")
    assert services.sessions.missing_for_signature(planned.id) == []


def test_left_before_ready_is_refused_next_to_the_field(qtbot, ctx, services, staff, planned,
                                                        clock):
    to_recovery(services, staff, clock, planned.id)
    dialog = show(qtbot, ui.DischargeDialog(ctx, planned.id))
    dialog.ready_button.click()
    now = clock.now().astimezone()
    earlier = now.hour * 60 + now.minute - 30
    dialog.left_time.edit.setTime(QTime(earlier // 60, earlier % 60))
    dialog.left_button.click()
    assert dialog.time_errors._labels["left_at"].isVisible()
    assert "cannot be before" in dialog.time_errors._labels["left_at"].text()
    assert services.sessions.get(planned.id).left_at is None


def test_esketamine_rems_form(qtbot, ctx, services, staff, course, clock):
    nurse = staff.nurse
    session = services.sessions.plan_session(
        actor=nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=84,
                     concentration_mg_per_ml=1),  # see the report: stop needs one
        prescriber_id=staff.prescriber.id)
    to_recovery(services, staff, clock, session.id, rate=1, minutes=40, late_bp=128)
    services.entries.record_dissociation(actor=nurse, session_id=session.id, intensity=5,
                                         valence="neutral", descriptors=["floating"])
    services.sessions.set_moaas(actor=nurse, session_id=session.id, score=4)
    effect = services.entries.record_side_effect(actor=nurse, session_id=session.id,
                                                 kind="vomiting", severity="severe",
                                                 serious=True, description="aspiration risk")
    assert effect.serious
    dialog = show(qtbot, ui.DischargeDialog(ctx, session.id))
    facts = {k: v.text() for k, v in dialog.rems_facts.items()}
    assert facts["date"] == START_OF_DAY
    assert facts["dose"] == "84 mg"
    assert facts["lot"] == "LOT-9"
    assert facts["bp_pre"].startswith("124/80 mmHg")
    assert facts["bp_40"].startswith("150/92 mmHg") and "minute 40" in facts["bp_40"]
    assert facts["bp_discharge"].startswith("128/84 mmHg")
    hints = {k: v.text() for k, v in dialog.rems_hints.items()}
    assert "suggests yes" in hints["rems_vitals_acceptable_before_dosing"]
    assert "lowest MOAA/S 4" in hints["rems_sedation"]
    assert "1 report(s), highest intensity 5/10" in hints["rems_dissociation"]
    assert "Vomiting: aspiration risk" in hints["rems_serious_adverse_event"]
    assert "2 SpO2 reading(s)" in hints["rems_pulse_oximetry_monitored"]
    assert "Esketamine needs at least 120 min" in dialog.minutes.text()
    assert "0 of 7" in dialog.rems_status.text()

    answers = {
        e.RemsCheck.VITALS_ACCEPTABLE_BEFORE_DOSING: True,
        e.RemsCheck.VITALS_ACCEPTABLE_BEFORE_DISCHARGE: True,
        e.RemsCheck.SEDATION: True,
        e.RemsCheck.DISSOCIATION: True,
        e.RemsCheck.RESPIRATORY_DEPRESSION: False,
        e.RemsCheck.PULSE_OXIMETRY_MONITORED: True,
        e.RemsCheck.SERIOUS_ADVERSE_EVENT: True,
    }
    for check, value in answers.items():
        qtbot.mouseClick(dialog.rems_rows[check.value].buttons[value], Qt.MouseButton.LeftButton)
    stored = services.sessions.get(session.id).discharge_checklist
    assert {k: stored[k.value] for k in answers} == {k.value: v for k, v in answers.items()} \
        or all(stored[k.value] is v for k, v in answers.items())
    assert "7 of 7" in dialog.rems_status.text()
    # Changing an answer is saved too.
    dialog.rems_rows["rems_respiratory_depression"].buttons[True].click()
    dialog.rems_rows["rems_respiratory_depression"].buttons[False].click()
    assert services.sessions.get(session.id).discharge_checklist[
        "rems_respiratory_depression"] is False

    for check in e.DischargeCheck:
        dialog.checklist.boxes[check.value].click()
    clock.advance(minutes=65)  # 5 + 40 + 15 + 65 = 125 min from the start of dosing
    dialog.ready_button.click()
    dialog.left_button.click()
    assert "Total monitoring: 120 min" in dialog.minutes.text()
    assert "At least 120 min (esketamine)" in dialog.minutes.text()
    shot(dialog, "steps_discharge_rems")
    assert services.sessions.missing_for_signature(session.id) == []
    signed = services.sessions.sign(actor=staff.prescriber, session_id=session.id,
                                    password=staff.password(staff.prescriber))
    assert signed.is_signed


def test_esketamine_signature_lists_unanswered_rems_questions(services, staff, course, clock):
    session = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="intranasal", drug="esketamine", weight=None, dose_mg=56))
    missing = services.sessions.missing_for_signature(session.id)
    assert "esketamine monitoring form: sedation (yes or no)" in missing
    services.sessions.set_checklist(actor=staff.nurse, session_id=session.id, which="rems",
                                    items={"rems_sedation": False})
    missing = services.sessions.missing_for_signature(session.id)
    assert "esketamine monitoring form: sedation (yes or no)" not in missing
    assert "discharge check: escort present" in missing  # REMS keys are not discharge ticks


def test_open_discharge_modal(qtbot, ctx, planned):
    QTimer.singleShot(0, lambda: QApplication.activeModalWidget().reject())
    assert ui.open_discharge(ctx, planned.id) is False


def test_the_rems_dose_is_what_the_nasal_devices_gave(qtbot, ctx, services, staff, course,
                                                      clock):
    nurse = staff.nurse
    session = services.sessions.plan_session(
        actor=nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=84),
        prescriber_id=staff.prescriber.id)
    services.sessions.set_checklist(actor=nurse, session_id=session.id, which="pre",
                                    items={c.value: True for c in e.PreSessionCheck})
    services.entries.record_vitals(actor=nurse, session_id=session.id,
                                   values=VitalsInput(hr=72, systolic=124, diastolic=80,
                                                      spo2=98, rr=14))
    services.nasal.record_device(actor=nurse, session_id=session.id)
    clock.advance(minutes=5)
    services.nasal.record_device(actor=nurse, session_id=session.id)
    clock.advance(minutes=5)
    services.nasal.end_dosing(actor=nurse, session_id=session.id,
                              reason="Patient declined the third device")
    dialog = show(qtbot, ui.DischargeDialog(ctx, session.id))
    dose = dialog.rems_facts["dose"].text()
    assert dose == "56 mg given (2 devices, as recorded) of 84 mg planned"
    assert "observe until" in dialog.minutes.text()  # 120 min after the second device
    assert "110 min" not in dialog.minutes.text()  # the first device's count: not as strict
    assert "min after the last device" in dialog.minutes.text()
    assert "115 min to go" in dialog.minutes.text()
    shot(dialog, "steps_discharge_nasal")
