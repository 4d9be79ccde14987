"""Score forms generated from the instrument files, driven by keyboard as a nurse would."""

from __future__ import annotations

import pytest
from gui_helpers import shot
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.ui.session_steps import instrument as ui

pytestmark = pytest.mark.gui


def dialog_for(qtbot, ctx, patient, code, point, session_id=None):
    definition = ctx.services.records.instruments[code]
    dialog = ui.InstrumentDialog(ctx, patient.id, definition, point, session_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def type_answers(qtbot, dialog, digits: str) -> None:
    for digit in digits:
        qtbot.keyClick(dialog.focusWidget(), digit)


def test_every_bundled_instrument_builds_a_form(qtbot, ctx):
    for code, definition in ctx.services.records.instruments.items():
        form = ui.InstrumentForm(definition)
        qtbot.addWidget(form)
        assert list(form.rows) == list(definition.item_numbers), code
        assert form.unanswered() == list(definition.item_numbers)


def test_phq9_with_item_9_positive_warns_and_escalates(qtbot, ctx, patient, planned):
    dialog = dialog_for(qtbot, ctx, patient, "phq9", e.TimePoint.BASELINE, planned.id)
    assert "Total so far 0" in dialog.total.text()
    type_answers(qtbot, dialog, "21221110")  # items 1-8, focus moves on by itself
    assert "(8 of 9 answered)" in dialog.total.text()
    assert not dialog.flag_banner.isVisible()
    # Accepting with item 9 empty is refused and item 9 is highlighted.
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == 0 and dialog.isVisible()
    assert dialog.form.rows[9].missing_label.isVisible()
    assert "item(s) have no answer: 9" in dialog.banner.label.text()
    assert ctx.services.records.scores_for_patient(patient.id) == []
    dialog.form.rows[9].setFocus()
    type_answers(qtbot, dialog, "1")
    assert dialog.total.text() == "Total 11 of 27 — Moderate"
    assert dialog.flag_banner.isVisible()
    assert "Item 9" in dialog.flag_banner.label.text()
    assert "prescriber" in dialog.flag_banner.label.text()
    shot(dialog, "steps_phq9_item9")
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    # Saved, but the dialog waits for the nurse to confirm the escalation.
    [stored] = ctx.services.records.scores_for_patient(patient.id, "phq9")
    assert stored.total == 11 and stored.flags == ("item9_positive",)
    assert stored.answers[9] == 1 and stored.session_id == planned.id
    assert dialog.isVisible() and "escalate" in dialog.save_button.text()
    shot(dialog, "steps_phq9_saved_escalate")
    dialog.save_button.click()
    assert not dialog.isVisible()
    assert ctx.services.courses.get(planned.course_id).baseline_scores["phq9"] == 11


def test_cadss_at_the_peak(qtbot, ctx, patient, planned):
    dialog = dialog_for(qtbot, ctx, patient, "cadss", e.TimePoint.PEAK, planned.id)
    answers = "1201030040000210000100"  # 22 of 23 items
    type_answers(qtbot, dialog, answers)
    assert dialog.form.unanswered() == [23]
    shot(dialog, "steps_cadss")
    type_answers(qtbot, dialog, "2")
    assert dialog.total.text().startswith("Total 17 of 92")
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert not dialog.isVisible()
    [stored] = ctx.services.records.scores_for_patient(patient.id, "cadss")
    assert stored.total == 17 and stored.time_point is e.TimePoint.PEAK


def test_pain_nrs_ten_by_two_keys_and_arrow_keys(qtbot, ctx, patient):
    dialog = dialog_for(qtbot, ctx, patient, "pain_nrs", e.TimePoint.PRE_SESSION)
    type_answers(qtbot, dialog, "10")
    assert dialog.form.answers() == {1: 10}
    assert dialog.total.text() == "Total 10 of 10 — Severe"
    qtbot.keyClick(dialog.form.rows[1], Qt.Key.Key_Left)
    assert dialog.form.answers() == {1: 9}
    qtbot.keyClick(dialog.form.rows[1], Qt.Key.Key_Backspace)
    assert dialog.form.answers() == {}
    qtbot.keyClick(dialog.form.rows[1], "3")
    dialog.accept()
    [stored] = ctx.services.records.scores_for_patient(patient.id, "pain_nrs")
    assert stored.total == 3 and stored.session_id is None


def test_qids_domains_total_as_answered(qtbot, ctx, patient):
    dialog = dialog_for(qtbot, ctx, patient, "qids_sr16", e.TimePoint.PRE_SESSION)
    form = dialog.form
    form.set_answer(1, 1)
    form.set_answer(2, 3)  # the sleep domain scores its highest item: 3
    assert form.running_total() == 3
    shot(dialog, "steps_qids")


def test_open_instrument_modal_returns_true_when_saved(qtbot, ctx, patient):
    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ui.InstrumentDialog)
        dialog.form.set_answers({n: 0 for n in range(1, 8)})
        dialog.accept()

    QTimer.singleShot(0, fill)
    assert ui.open_instrument(ctx, patient.id, "gad7", "pre_session") is True
    assert ctx.services.records.scores_for_patient(patient.id, "gad7")[0].total == 0


def test_open_instrument_cancelled_saves_nothing(qtbot, ctx, patient):
    QTimer.singleShot(0, lambda: QApplication.activeModalWidget().reject())
    assert ui.open_instrument(ctx, patient.id, "moaas", "peak") is False
    assert ctx.services.records.scores_for_patient(patient.id) == []


def test_moaas_long_answers_listed_vertically(qtbot, ctx, patient):
    dialog = dialog_for(qtbot, ctx, patient, "moaas", e.TimePoint.PEAK)
    type_answers(qtbot, dialog, "4")
    assert dialog.form.answers() == {1: 4}
    shot(dialog, "steps_moaas")
