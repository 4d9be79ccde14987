"""The pre-session dialog: checklist ticks, controlled substance and baseline scores."""

from __future__ import annotations

import pytest
from gui_helpers import shot, show
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.ui.session_steps import pre_session as ui
from kapp.ui.session_steps.instrument import InstrumentDialog

pytestmark = pytest.mark.gui


def fill_modal_score(answers: dict[int, int]) -> None:
    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, InstrumentDialog)
        dialog.form.set_answers(answers)
        dialog.accept()
    QTimer.singleShot(0, fill)


def test_checklist_controlled_substance_and_baseline_scores(qtbot, ctx, services, staff,
                                                           planned):
    dialog = show(qtbot, ui.PreSessionDialog(ctx, planned.id))
    assert dialog.score_codes == ["phq9", "gad7", "pain_nrs", "madrs", "qids_sr16"]  # TRD
    # Tick each item with the space bar: committed one by one.
    for check in (e.PreSessionCheck.CONSENT_ON_FILE, e.PreSessionCheck.FASTING):
        qtbot.keyClick(dialog.checklist.boxes[check.value], Qt.Key.Key_Space)
    assert services.sessions.get(planned.id).pre_checklist == {
        "consent_on_file": True, "fasting": True}
    assert dialog.saved_something
    for check in (e.PreSessionCheck.ESCORT_CONFIRMED,
                  e.PreSessionCheck.MEDICATION_CHANGES_REVIEWED):
        qtbot.keyClick(dialog.checklist.boxes[check.value], Qt.Key.Key_Space)
    assert all(services.sessions.get(planned.id).pre_checklist.values())
    assert "4 of 4 ticked" in dialog.checklist.status.text()
    # Unticking is saved too.
    qtbot.keyClick(dialog.checklist.boxes["fasting"], Qt.Key.Key_Space)
    assert services.sessions.get(planned.id).pre_checklist["fasting"] is False
    qtbot.keyClick(dialog.checklist.boxes["fasting"], Qt.Key.Key_Space)

    # Controlled substance: wasting without a witness is refused next to the field.
    qtbot.keyClicks(dialog.lot, "LOT-7731")
    qtbot.keyClicks(dialog.drawn, "50")
    qtbot.keyClicks(dialog.wasted, "10")
    qtbot.keyClick(dialog.wasted, Qt.Key.Key_Return)
    assert "witness" in dialog.cs_errors._labels["witness_id"].text()
    assert services.sessions.get(planned.id).lot_number is None
    dialog.witness.setCurrentIndex(dialog.witness.findData(str(staff.nurse2.id)))
    qtbot.keyClick(dialog.wasted, Qt.Key.Key_Return)
    session = services.sessions.get(planned.id)
    assert (session.lot_number, session.amount_drawn_mg, session.amount_wasted_mg,
            session.waste_witness_id) == ("LOT-7731", 50, 10, staff.nurse2.id)
    assert "Recorded: lot LOT-7731" in dialog.cs_state.text()

    # A typing error in the amount is named, nothing saved.
    dialog.drawn.setText("5O")
    dialog.cs_save.click()
    assert "not a number" in dialog.cs_errors._labels["amount_drawn_mg"].text()

    # Baseline PHQ-9 and pain: the first of a course becomes the course's baseline.
    assert "baseline" in dialog.score_states["phq9"].text()
    fill_modal_score({n: 1 for n in range(1, 10)} | {9: 0})
    dialog.score_buttons["phq9"].click()
    assert "done: 8 (Mild)" in dialog.score_states["phq9"].text()
    fill_modal_score({1: 6})
    dialog.score_buttons["pain_nrs"].click()
    assert "done: 6" in dialog.score_states["pain_nrs"].text()
    assert "not yet" in dialog.score_states["gad7"].text()
    course = services.courses.get(planned.course_id)
    assert course.baseline_scores == {"phq9": 8, "pain_nrs": 6}
    shot(dialog, "steps_pre_session")


def test_later_sessions_score_before_the_session_not_a_new_baseline(qtbot, ctx, services,
                                                                     staff, patient, planned):
    services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                       instrument="phq9", answers={n: 2 for n in range(1, 10)},
                                       time_point="baseline", course_id=planned.course_id)
    dialog = show(qtbot, ui.PreSessionDialog(ctx, planned.id))
    assert dialog.time_point_for("phq9") is e.TimePoint.PRE_SESSION
    assert dialog.score_states["phq9"].text() == "not yet"  # the course's, not this session's
    fill_modal_score({n: 0 for n in range(1, 10)})
    dialog.score_buttons["phq9"].click()
    assert services.courses.get(planned.course_id).baseline_scores["phq9"] == 18
    latest = services.records.scores_for_patient(patient.id, "phq9")[-1]
    assert latest.time_point is e.TimePoint.PRE_SESSION and latest.session_id == planned.id


def test_scores_follow_the_indication():
    everything = {"phq9", "gad7", "pain_nrs", "madrs", "qids_sr16", "cadss", "moaas"}
    assert ui.baseline_instruments(e.Indication.CRPS, everything) == ["phq9", "gad7",
                                                                      "pain_nrs"]
    assert "madrs" in ui.baseline_instruments(e.Indication.DEPRESSION_SI, everything)
    assert ui.baseline_instruments(e.Indication.TRD, {"phq9"}) == ["phq9"]


def test_open_pre_session_returns_whether_anything_was_saved(qtbot, ctx, planned):
    QTimer.singleShot(0, lambda: QApplication.activeModalWidget().reject())
    assert ui.open_pre_session(ctx, planned.id) is False
