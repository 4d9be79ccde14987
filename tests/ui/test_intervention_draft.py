"""The intervention form keeps what the nurse typed as her draft: through a crash, the
screen lock or the dialog's window closed, it comes back for the same side effect; saving
the intervention, or cancelling it on purpose, discards it."""

from __future__ import annotations

import pytest
from gui_helpers import shot, show
from PySide6.QtCore import Qt

from kapp.domain import enums as e
from kapp.ui import drafts
from kapp.ui.drafts import save_all
from kapp.ui.session.side_effects import InterventionDialog, intervention_draft_key

pytestmark = pytest.mark.gui


@pytest.fixture
def effects(services, staff, planned, clock):
    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                        kind="start", rate_ml_per_h=150)
    clock.advance(minutes=20)
    nausea = services.entries.record_side_effect(actor=staff.nurse, session_id=planned.id,
                                                 kind="nausea", severity="moderate")
    headache = services.entries.record_side_effect(actor=staff.nurse, session_id=planned.id,
                                                   kind="headache", severity="mild")
    return nausea, headache


def open_dialog(qtbot, ctx, planned, effects, effect):
    return show(qtbot, InterventionDialog(ctx, planned.id, list(effects), effect.id))


def draft(services, staff, planned, effect):
    return services.drafts.load(actor=staff.nurse,
                                form_key=intervention_draft_key(planned.id, effect.id))


def type_ondansetron(qtbot, dialog):
    qtbot.keyClicks(dialog.drug.lineEdit(), "ondansetron")
    qtbot.keyClicks(dialog.dose, "4")
    dialog.route.setCurrentText("IV")
    qtbot.keyClicks(dialog.reason, ", vomited once")


def test_typed_closed_reopened_restored_then_saved(qtbot, ctx, services, staff, planned,
                                                   effects):
    nausea, headache = effects
    dialog = open_dialog(qtbot, ctx, planned, effects, nausea)
    assert not dialog.draft_hint.isVisible()
    assert draft(services, staff, planned, nausea) is None  # the suggested reason is no draft
    type_ondansetron(qtbot, dialog)
    # Kept a second after the last key, whatever happens next (a crash, say).
    qtbot.waitUntil(lambda: draft(services, staff, planned, nausea) is not None, timeout=5000)
    dialog.close()  # the window closed without saving: the draft stays
    assert not dialog.saved
    kept = draft(services, staff, planned, nausea)
    assert kept["drug"] == "ondansetron" and kept["dose"] == "4"
    assert kept["reason"] == "for nausea, vomited once"

    # Another side effect has its own form: nothing of the nausea's is offered there.
    other = open_dialog(qtbot, ctx, planned, effects, headache)
    assert other.drug.currentText() == "" and other.reason.text() == "for headache"
    assert not other.draft_hint.isVisible()
    other.close()

    again = open_dialog(qtbot, ctx, planned, effects, nausea)
    assert again.drug.currentText() == "ondansetron"
    assert again.dose.text() == "4" and again.route.currentText() == "IV"
    assert again.reason.text() == "for nausea, vomited once"
    assert again.effect.currentData() == str(nausea.id)
    assert again.kind.value() is e.InterventionKind.MEDICATION
    assert again.draft_hint.isVisible()
    assert again.draft_hint.text().startswith("ℹ Restored your unsaved intervention from ")
    shot(again, "intervention_draft_restored")
    qtbot.keyClick(again.dose, Qt.Key.Key_Return)  # saved: the draft has done its job
    assert again.saved
    [done] = services.records.session_entries(planned.id).interventions
    assert (done.drug, done.dose, done.route, done.side_effect_id) == (
        "ondansetron", 4, "IV", nausea.id)
    assert done.reason == "for nausea, vomited once"
    assert draft(services, staff, planned, nausea) is None


def test_a_crash_mid_typing_brings_it_back(qtbot, ctx, services, staff, planned, effects):
    nausea, _ = effects
    dialog = open_dialog(qtbot, ctx, planned, effects, nausea)
    dialog.kind.set_value(e.InterventionKind.COMFORT)
    dialog._kind_changed(e.InterventionKind.COMFORT)
    qtbot.keyClicks(dialog.reason, " - eye mask, music")
    dialog.given.edit.setTime(dialog.given.edit.time().addSecs(-5 * 60))
    assert save_all(ctx) >= 1  # as the screen lock does before it covers the screen
    # The app dies here: the dialog is never closed. A new one for the same side effect:
    restored = open_dialog(qtbot, ctx, planned, effects, nausea)
    assert restored.kind.value() is e.InterventionKind.COMFORT
    assert restored.reason.text() == "for nausea - eye mask, music"
    assert not restored.given.is_now
    assert restored.given.edit.time() == dialog.given.edit.time()


@pytest.mark.parametrize("choice", [drafts.DISCARD, drafts.KEEP, drafts.BACK])
def test_cancel_asks_and_then_discards_or_keeps(qtbot, ctx, services, staff, planned,
                                                effects, monkeypatch, choice):
    nausea, _ = effects
    asked = []
    monkeypatch.setattr(InterventionDialog, "ask_cancel",
                        staticmethod(lambda _parent: asked.append(1) or choice))
    dialog = open_dialog(qtbot, ctx, planned, effects, nausea)
    type_ondansetron(qtbot, dialog)
    dialog.cancel_button.click()
    assert asked == [1]
    kept = draft(services, staff, planned, nausea)
    if choice == drafts.DISCARD:
        assert kept is None and not dialog.isVisible()
    elif choice == drafts.KEEP:
        assert kept["drug"] == "ondansetron" and not dialog.isVisible()
    else:  # back to the form, nothing lost
        assert dialog.isVisible() and dialog.drug.currentText() == "ondansetron"
    assert services.records.session_entries(planned.id).interventions == ()


def test_cancel_with_nothing_typed_does_not_ask(qtbot, ctx, services, staff, planned,
                                               effects, monkeypatch):
    nausea, _ = effects
    monkeypatch.setattr(InterventionDialog, "ask_cancel",
                        staticmethod(lambda _parent: pytest.fail("asked for nothing")))
    dialog = open_dialog(qtbot, ctx, planned, effects, nausea)
    qtbot.keyClick(dialog.drug.lineEdit(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert draft(services, staff, planned, nausea) is None


def test_the_overview_lists_an_unsaved_intervention(qtbot, ctx, services, staff, planned,
                                                    effects):
    nausea, _ = effects
    dialog = open_dialog(qtbot, ctx, planned, effects, nausea)
    type_ondansetron(qtbot, dialog)
    dialog.close()
    [place] = services.drafts.places(actor=staff.nurse)
    assert place.what == "intervention" and place.session_id == planned.id
