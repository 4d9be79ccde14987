"""The panels the live session screen embeds: side effects, dissociation, notes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.ui.context import AppContext
from kapp.ui.session import side_effects as se_ui
from kapp.ui.session_steps.correction import StrikeDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def ctx(services, staff):
    context = AppContext(services)
    context.set_user(staff.nurse)
    return context


@pytest.fixture
def started(services, staff, planned, clock):
    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                        kind="start", rate_ml_per_h=150)
    clock.advance(minutes=20)
    return planned


def shot(widget, name: str) -> None:
    folder = os.environ.get("KAPP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / f"{name}.png"))


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
