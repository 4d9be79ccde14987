"""The panels the live session screen embeds: side effects, dissociation, notes."""

from __future__ import annotations

import pytest
from gui_helpers import shot
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.ui.session import side_effects as se_ui
from kapp.ui.session_steps.correction import StrikeDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def started(services, staff, planned, clock):
    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                        kind="start", rate_ml_per_h=150)
    clock.advance(minutes=20)
    return planned


def show(qtbot, widget, size=(460, 560)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)
    return widget


def test_side_effect_by_its_key_and_its_intervention(qtbot, ctx, services, started):
    panel = show(qtbot, se_ui.SideEffectsPanel(ctx, started.id))
    assert panel.buttons[e.SideEffectKind.NAUSEA].text() == "N  Nausea"
    panel.buttons[e.SideEffectKind.NAUSEA].setFocus()
    qtbot.keyClick(panel.focusWidget(), Qt.Key.Key_N)  # N: nausea, severity asked
    assert panel.pending is e.SideEffectKind.NAUSEA and panel.strip.isVisible()
    qtbot.keyClick(panel.focusWidget(), Qt.Key.Key_2)  # 2: moderate, saved
    assert panel.pending is None
    [effect] = services.records.session_entries(started.id).side_effects
    assert effect.kind is e.SideEffectKind.NAUSEA and effect.severity is e.Severity.MODERATE
    assert panel.table.topLevelItemCount() == 1
    assert panel.table.topLevelItem(0).text(2) == "▲ moderate"

    # Esc cancels a side effect picked by mistake.
    qtbot.keyClick(panel.focusWidget(), Qt.Key.Key_V)
    assert panel.pending is e.SideEffectKind.VOMITING
    qtbot.keyClick(panel.focusWidget(), Qt.Key.Key_Escape)
    assert panel.pending is None
    assert len(services.records.session_entries(started.id).side_effects) == 1

    # Intervention linked to the selected side effect.
    panel.table.setCurrentItem(panel.table.topLevelItem(0))

    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, se_ui.InterventionDialog)
        assert dialog.reason.text() == "for nausea"
        assert dialog.effect.currentData() == str(effect.id)
        dialog.accept()  # no drug yet: refused next to the fields
        assert "Drug is required" in dialog.errors._labels["drug"].text()
        qtbot.keyClicks(dialog.drug.lineEdit(), "ondansetron")
        qtbot.keyClicks(dialog.dose, "4")
        dialog.unit.setCurrentText("mg")
        dialog.route.setCurrentText("IV")
        shot(dialog, "steps_intervention")
        qtbot.keyClick(dialog.dose, Qt.Key.Key_Return)

    QTimer.singleShot(0, fill)
    assert panel.add_intervention() is True
    [done] = services.records.session_entries(started.id).interventions
    assert (done.drug, done.dose, done.dose_unit, done.route, done.side_effect_id) == (
        "ondansetron", 4, "mg", "IV", effect.id)
    assert "ondansetron 4 mg IV" in panel.table.topLevelItem(0).text(3)

    panel.resolve_button.click()
    assert services.records.session_entries(started.id).side_effects[0].resolved_at
    assert "resolved" in panel.table.topLevelItem(0).text(3)
    shot(panel, "steps_side_effects_panel")


def test_other_needs_a_description_and_serious_flag(qtbot, ctx, services, started):
    panel = show(qtbot, se_ui.SideEffectsPanel(ctx, started.id))
    panel.choose(e.SideEffectKind.OTHER)
    assert panel.description.hasFocus() or panel.focusWidget() is panel.description
    panel.save_pending(e.Severity.SEVERE)
    assert "Describe" in panel.pending_error.text()
    panel.description.setText("jaw clenching")
    panel.serious.setChecked(True)
    shot(panel, "steps_side_effects_other")
    panel.save_pending(e.Severity.SEVERE)
    [effect] = services.records.session_entries(started.id).side_effects
    assert effect.description == "jaw clenching" and effect.serious
    assert "⚠ serious" in panel.table.topLevelItem(0).text(1)


def test_strike_a_side_effect_shows_it_struck(qtbot, ctx, services, staff, started):
    services.entries.record_side_effect(actor=staff.nurse, session_id=started.id,
                                        kind="headache", severity="mild")
    panel = show(qtbot, se_ui.SideEffectsPanel(ctx, started.id))
    panel.table.setCurrentItem(panel.table.topLevelItem(0))

    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, StrikeDialog)
        dialog.reason.setText("Wrong patient")
        dialog.accept()

    QTimer.singleShot(0, fill)
    panel.strike_button.click()
    item = panel.table.topLevelItem(0)
    assert item.font(1).strikeOut() and "struck: Wrong patient" in item.text(3)


def test_two_dissociation_reports_and_moaas(qtbot, ctx, services, started, clock):
    from kapp.ui.session import dissociation as ui

    panel = show(qtbot, ui.DissociationPanel(ctx, started.id), size=(420, 520))
    # Ctrl+Enter with nothing chosen: told what is missing, nothing saved.
    panel.add_report()
    assert "intensity" in panel.errors._labels["intensity"].text()
    assert services.records.session_entries(started.id).dissociation == ()
    panel.intensity.setFocus()
    qtbot.keyClick(panel.intensity, "6")
    assert panel.intensity_words.text() == "6/10"
    panel.chips["floating"].click()
    panel.chips["altered_time"].click()
    assert panel.chips["floating"].text() == "✔ floating"
    panel.valence.buttons[e.Valence.PLEASANT].click()
    qtbot.keyClicks(panel.words, "like drifting on warm water")
    qtbot.keyClicks(panel.observation, "eyes closed, smiling")
    qtbot.keyClick(panel.observation, Qt.Key.Key_Return)
    [first] = services.records.session_entries(started.id).dissociation
    assert (first.intensity, first.valence, first.descriptors) == (
        6, e.Valence.PLEASANT, ("altered_time", "floating"))
    assert first.patient_words == "like drifting on warm water"
    assert panel.intensity.value() is None and panel.words.text() == ""  # cleared
    clock.advance(minutes=10)
    panel.intensity.setFocus()
    qtbot.keyClick(panel.intensity, "1")
    qtbot.keyClick(panel.intensity, "0")  # 10
    panel.chips["body_detachment"].click()
    panel.valence.buttons[e.Valence.DISTRESSING].click()
    qtbot.keyClick(panel.words, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    second = services.records.session_entries(started.id).dissociation[1]
    assert second.intensity == 10 and second.valence is e.Valence.DISTRESSING
    assert "10/10" in panel.recent.toPlainText() and "6/10" in panel.recent.toPlainText()
    # MOAA/S is saved at once.
    panel.moaas.setFocus()
    qtbot.keyClick(panel.moaas, "4")
    assert services.sessions.get(started.id).moaas == 4
    assert "slow response" in panel.moaas_words.text()
    shot(panel, "steps_dissociation_panel")


def test_cadss_from_the_dissociation_panel(qtbot, ctx, services, started):
    from kapp.ui.session import dissociation as ui
    from kapp.ui.session_steps.instrument import InstrumentDialog

    panel = show(qtbot, ui.DissociationPanel(ctx, started.id), size=(420, 520))

    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, InstrumentDialog)
        dialog.form.set_answers({n: 1 for n in dialog.form.rows})
        dialog.accept()

    QTimer.singleShot(0, fill)
    assert panel.open_cadss() is True
    assert "CADSS total 23" in panel.recent.toPlainText()


def test_notes_listed_with_author_and_struck(qtbot, ctx, services, staff, started):
    from kapp.ui.session import notes as ui

    panel = show(qtbot, ui.NotesPanel(ctx, started.id), size=(420, 360))
    panel.add_note()  # empty
    assert "Note is required" in panel.errors._labels["text"].text()
    qtbot.keyClicks(panel.text, "Patient asked for the lights dimmed.")
    qtbot.keyClick(panel.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    [note] = services.records.session_entries(started.id).notes
    assert note.text == "Patient asked for the lights dimmed."
    assert panel.list.count() == 1 and "Nia Nurse" in panel.list.item(0).text()
    assert panel.text.toPlainText() == ""
    services.records.add_note(actor=staff.nurse2, patient_id=started.patient_id,
                              session_id=started.id, text="Wrong chair: meant chair 2.")
    qtbot.waitUntil(lambda: panel.list.count() == 2)  # refreshed on the change signal
    assert "Wrong chair" in panel.list.item(0).text()  # newest first
    panel.list.setCurrentRow(0)

    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, StrikeDialog)
        dialog.reason.setText("Wrong patient")
        dialog.accept()

    QTimer.singleShot(0, fill)
    assert panel.strike_selected() is True
    assert panel.list.item(0).font().strikeOut()
    assert "struck through by Nia Nurse" in panel.list.item(1).text()
    assert "Wrong patient" in panel.list.item(1).text()
    assert not panel.list.item(2).font().strikeOut()
    shot(panel, "steps_notes_panel")
