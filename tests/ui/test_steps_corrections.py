"""Striking entries through, correcting vitals, and addenda after signing."""

from __future__ import annotations

import pytest
from gui_helpers import shot, show
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain.errors import RecordLocked
from kapp.domain.vitals import VitalsInput
from kapp.ui.session_steps import addendum as add_ui
from kapp.ui.session_steps import correction as ui

pytestmark = pytest.mark.gui


@pytest.fixture
def reading(services, staff, planned):
    return services.entries.record_vitals(
        actor=staff.nurse, session_id=planned.id,
        values=VitalsInput(hr=72, systolic=218, diastolic=82, spo2=98, rr=14),
        rhythm="sinus rhythm").reading


def test_strike_a_vitals_reading_with_a_reason(qtbot, ctx, services, planned, reading):
    text = ui.vitals_words(reading)
    assert text == ("Vitals at 09:00: HR 72 /min, SYS 218 mmHg, DIA 82 mmHg, SpO2 98 %, "
                    "RR 14 /min, sinus rhythm")
    dialog = show(qtbot, ui.StrikeDialog(ctx, "vitals_readings", reading.id, text))
    # No reason: refused next to the field, nothing struck.
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.isVisible() and "reason" in dialog.errors._labels["reason"].text()
    qtbot.keyClicks(dialog.reason, "typed 218 for 128")
    shot(dialog, "steps_strike_vitals")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.struck and not dialog.isVisible()
    [struck] = services.records.session_entries(planned.id).vitals
    assert struck.entry.is_struck and struck.entry.strike.reason == "typed 218 for 128"
    # Striking it again is refused in plain words.
    again = show(qtbot, ui.StrikeDialog(ctx, "vitals_readings", reading.id, text))
    again.reason.setText("again")
    again.accept()
    assert "already struck" in again.banner.label.text()


def test_quick_reason_buttons_fill_the_reason(qtbot, ctx, services, staff, planned):
    note = services.records.add_note(actor=staff.nurse, patient_id=planned.patient_id,
                                     session_id=planned.id, text="wrong chair")
    dialog = show(qtbot, ui.StrikeDialog(ctx, "notes", note.id, "Note: wrong chair"))
    assert dialog.correct_button is None  # only vitals can be corrected in place
    buttons = [b for b in dialog.findChildren(type(dialog.strike_button))
               if b.text() == "Wrong patient"]
    buttons[0].click()
    assert dialog.reason.text() == "Wrong patient"
    dialog.accept()
    [stored] = services.records.session_entries(planned.id).notes
    assert stored.entry.strike.reason == "Wrong patient"


def test_correct_vitals_strikes_and_records_the_right_values(qtbot, ctx, services, planned,
                                                            reading):
    dialog = show(qtbot, ui.CorrectVitalsDialog(ctx, reading.id))
    assert dialog.edits["systolic"].text() == "218"
    dialog.edits["systolic"].clear()
    qtbot.keyClicks(dialog.edits["systolic"], "12")  # lower than diastolic: refused
    dialog.reason.setText("typed 218 for 128")
    qtbot.keyClick(dialog.edits["systolic"], Qt.Key.Key_Return)
    assert dialog.errors._labels["systolic"].isVisible() or dialog.banner.isVisible()
    assert len(services.records.session_entries(planned.id).vitals) == 1
    dialog.edits["systolic"].setText("128")
    shot(dialog, "steps_correct_vitals")
    qtbot.keyClick(dialog.edits["systolic"], Qt.Key.Key_Return)
    assert dialog.saved
    old, new = services.records.session_entries(planned.id).vitals
    assert old.entry.is_struck and old.systolic == 218
    assert not new.entry.is_struck and new.systolic == 128 and new.hr == 72
    assert new.entry.supersedes_id == old.id and new.taken_at == old.taken_at
    assert new.rhythm == "sinus rhythm"


def test_strike_dialog_offers_correction_for_vitals(qtbot, ctx, services, planned, reading):
    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ui.CorrectVitalsDialog)
        assert dialog.reason.text() == "Typed in error"
        dialog.edits["systolic"].setText("128")
        dialog.accept()

    def open_strike():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ui.StrikeDialog)
        dialog.reason.setText("Typed in error")
        QTimer.singleShot(0, fill)
        dialog.correct_button.click()

    QTimer.singleShot(0, open_strike)
    assert ui.strike_entry(ctx, "vitals_readings", reading.id, "a reading") is True
    vitals = services.records.session_entries(planned.id).vitals
    assert [v.systolic for v in vitals if not v.entry.is_struck] == [128]


def test_addendum_after_signing(qtbot, ctx, services, staff, planned, whole_session):
    # Before signing, the dialog says addenda are for signed sessions.
    early = show(qtbot, add_ui.AddendumDialog(ctx, planned.id))
    assert early.state.kind == "warn" and not early.sign_button.isEnabled()
    whole_session(planned)
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    with pytest.raises(RecordLocked):
        services.records.add_note(actor=staff.nurse, patient_id=planned.patient_id,
                                  session_id=planned.id, text="too late")
    dialog = show(qtbot, add_ui.AddendumDialog(ctx, planned.id))
    assert "Signed by Dr Pia Prescriber" in dialog.state.label.text()
    dialog.accept()  # empty: refused
    assert "Write the addendum" in dialog.errors._labels["text"].text()
    qtbot.keyClicks(dialog.text, "Patient phoned at 18:00: home safely, mild headache.")
    qtbot.keyClicks(dialog.signature.password, staff.password(staff.nurse))
    shot(dialog, "steps_addendum")
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.saved is not None
    [stored] = services.records.session_entries(planned.id).addenda
    assert stored.text.startswith("Patient phoned") and stored.signed_by_id == staff.nurse.id
    # A second addendum lists the first.
    second = show(qtbot, add_ui.AddendumDialog(ctx, planned.id))
    shot(second, "steps_addendum_second")


def test_an_addendum_needs_the_authors_password(qtbot, ctx, services, staff, planned,
                                               whole_session):
    whole_session(planned)
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    dialog = show(qtbot, add_ui.AddendumDialog(ctx, planned.id))
    dialog.text.setPlainText("text")
    dialog.accept()  # no password typed
    assert "password" in dialog.signature.problem.text() and dialog.saved is None
    qtbot.keyClicks(dialog.signature.password, "not-my-password")
    dialog.accept()
    assert "Wrong" in dialog.signature.problem.text() and dialog.saved is None
    assert services.records.session_entries(planned.id).addenda == ()
