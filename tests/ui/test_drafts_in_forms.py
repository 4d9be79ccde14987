"""Forms are never lost: a half-typed note, a patient's words or a half-filled score come
back after a crash (a new window on the same database file), after the screen lock, and
only to the person who typed them; a saved entry leaves no draft behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gui_helpers import shot
from PySide6.QtCore import QObject, Qt, Signal

from kapp.domain import enums as e
from kapp.domain.clock import FixedClock
from kapp.services.facade import Services
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url
from kapp.ui import drafts
from kapp.ui.app import build_main_window
from kapp.ui.context import AppContext
from kapp.ui.session_steps import instrument as ui

pytestmark = pytest.mark.gui

LABEL = "/clinic/kapp-test.db"
NOTE = "Pt reports mild nausea, declines ondansetron for n"


class FakeTimer(QObject):
    """The idle timer, never firing by itself: the tests lock the screen when they wish."""

    timeout = Signal()

    def start(self, msec: int) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def reopen(db_path, clock):
    """A new process on the same database file: its own connection and services."""
    opened = []

    def open_again(minutes: int = 5) -> Services:
        database = open_database(sqlite_url(db_path),
                                 clock=FixedClock(clock.now() + timedelta(minutes=minutes)))
        opened.append(database.database)
        return Services.for_database(database.database)

    yield open_again
    for database in opened:
        database.dispose()


def make_window(qtbot, services, user):
    window = build_main_window(services, LABEL, user, idle_timer=FakeTimer())
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    return window


def notes_of(window, session_id):
    window.open_session(session_id)
    return window.session_screens[session_id].notes


def draft(services, user, key):
    return services.drafts.load(actor=user, form_key=key)


def unlock(qtbot, lock, username: str, password: str, *, type_name: bool) -> None:
    form = lock.form
    if type_name:
        form.username.clear()
        qtbot.keyClicks(form.username, username)
    qtbot.keyClicks(form.password, password)
    with qtbot.waitSignal(lock.unlocked):
        qtbot.keyClick(form.password, Qt.Key.Key_Return)


# -- the session note ---------------------------------------------------------------------

def test_a_half_typed_note_survives_a_crash_and_goes_once_added(
        qtbot, services, staff, planned, reopen):
    key = f"note:{planned.id}"
    window = make_window(qtbot, services, staff.nurse)
    notes = notes_of(window, planned.id)
    assert not notes.draft_hint.isVisible()
    qtbot.keyClicks(notes.text, NOTE)
    # saved a moment after the last key, without anything else happening
    qtbot.waitUntil(lambda: draft(services, staff.nurse, key) == {"text": NOTE}, timeout=5000)

    # The power goes: the window is never closed. A new kapp opens the same file.
    services2 = reopen()
    window2 = make_window(qtbot, services2, staff.nurse)
    notes2 = notes_of(window2, planned.id)
    assert notes2.text.toPlainText() == NOTE
    assert notes2.draft_hint.isVisible()
    assert notes2.draft_hint.text().startswith("ℹ Restored your unsaved note from ")
    shot(window2.session_screens[planned.id], "drafts_note_restored")
    shot(notes2, "drafts_note_panel")

    qtbot.keyClicks(notes2.text, "ausea.")
    qtbot.keyClick(notes2.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert [n.text for n in services2.records.session_entries(planned.id).notes] == [
        NOTE + "ausea."]
    assert draft(services2, staff.nurse, key) is None  # saved: no draft left behind
    assert notes2.text.toPlainText() == "" and not notes2.draft_hint.isVisible()
    qtbot.keyClicks(notes2.text, "Next note")  # the next note is kept as a draft again
    qtbot.waitUntil(lambda: draft(services2, staff.nurse, key) == {"text": "Next note"},
                    timeout=5000)


def test_closing_the_window_keeps_the_note_at_once(qtbot, services, staff, planned, reopen):
    window = make_window(qtbot, services, staff.nurse)
    notes = notes_of(window, planned.id)
    notes.keeper.timer.setInterval(60_000)  # the debounce has not come round yet
    qtbot.keyClicks(notes.text, "Sleepy, rousable")
    assert draft(services, staff.nurse, f"note:{planned.id}") is None
    window.close()
    assert draft(services, staff.nurse, f"note:{planned.id}") == {"text": "Sleepy, rousable"}
    window2 = make_window(qtbot, reopen(), staff.nurse)
    assert notes_of(window2, planned.id).text.toPlainText() == "Sleepy, rousable"


def test_the_lock_saves_at_once_and_the_same_nurse_carries_on(
        qtbot, services, staff, planned, reopen):
    window = make_window(qtbot, services, staff.nurse)
    notes = notes_of(window, planned.id)
    notes.keeper.timer.setInterval(60_000)
    qtbot.keyClicks(notes.text, "BP settling")
    lock = window.security.idle_lock
    lock.lock()
    # saved before the screen was covered: a crash while locked loses nothing
    assert draft(services, staff.nurse, f"note:{planned.id}") == {"text": "BP settling"}
    window2 = make_window(qtbot, reopen(), staff.nurse)  # (as if it crashed while locked)
    assert notes_of(window2, planned.id).text.toPlainText() == "BP settling"

    unlock(qtbot, lock, "nurse1", staff.password("nurse1"), type_name=False)
    assert notes.text.toPlainText() == "BP settling"  # the same nurse: exactly as left
    assert not notes.draft_hint.isVisible()


def test_a_colleague_never_gets_the_first_nurses_note(qtbot, services, staff, planned, reopen):
    key = f"note:{planned.id}"
    window = make_window(qtbot, services, staff.nurse)
    notes = notes_of(window, planned.id)
    qtbot.keyClicks(notes.text, NOTE)
    lock = window.security.idle_lock
    window.security.sign_out_action.trigger()  # switch user
    unlock(qtbot, lock, "nurse2", staff.password("nurse2"), type_name=True)
    assert window.ctx.user == staff.nurse2
    # Ned sees an empty note, told calmly that Nia's is kept for her
    assert notes.text.toPlainText() == ""
    assert "Nia Nurse has an unsaved note here" in notes.draft_hint.text()
    assert NOTE not in notes.draft_hint.text()
    shot(notes, "drafts_note_colleague")
    qtbot.keyClicks(notes.text, "Ned's own words")
    qtbot.waitUntil(lambda: draft(services, staff.nurse2, key) == {"text": "Ned's own words"},
                    timeout=5000)
    assert draft(services, staff.nurse, key) == {"text": NOTE}  # not overwritten

    # A new window signed in as Ned (after a crash) does not show Nia's note either.
    window2 = make_window(qtbot, reopen(), staff.nurse2)
    notes2 = notes_of(window2, planned.id)
    assert notes2.text.toPlainText() == "Ned's own words"

    # Nia comes back: her note, not Ned's; Ned's stays his.
    window.security.sign_out_action.trigger()
    unlock(qtbot, lock, "nurse1", staff.password("nurse1"), type_name=True)
    assert notes.text.toPlainText() == NOTE
    assert "Restored your unsaved note" in notes.draft_hint.text()
    assert "Ned Nurse has an unsaved note here" in notes.draft_hint.text()
    qtbot.keyClick(notes.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    saved = services.records.session_entries(planned.id).notes
    assert [(n.text, n.entry.entered_by_id) for n in saved] == [(NOTE, staff.nurse.id)]
    assert draft(services, staff.nurse, key) is None
    assert draft(services, staff.nurse2, key) == {"text": "Ned's own words"}


def test_the_patients_words_survive_a_crash(qtbot, services, staff, planned, reopen):
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(planned.id)
    panel = window.session_screens[planned.id].dissociation
    qtbot.keyClicks(panel.words, "like floating above the chair")
    qtbot.waitUntil(lambda: draft(services, staff.nurse, f"dissociation:{planned.id}") == {
        "words": "like floating above the chair", "observation": ""}, timeout=5000)
    window2 = make_window(qtbot, reopen(), staff.nurse)
    window2.open_session(planned.id)
    panel2 = window2.session_screens[planned.id].dissociation
    assert panel2.words.text() == "like floating above the chair"
    assert "Restored your unsaved words" in panel2.draft_hint.text()


# -- the score forms ----------------------------------------------------------------------

def phq9(qtbot, ctx, patient, session_id):
    definition = ctx.services.records.instruments["phq9"]
    dialog = ui.InstrumentDialog(ctx, patient.id, definition, e.TimePoint.PRE_SESSION,
                                 session_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def phq9_key(patient, planned) -> str:
    return ui.draft_key(patient.id, "phq9", e.TimePoint.PRE_SESSION, planned.id)


def type_answers(qtbot, dialog, digits: str) -> None:
    for digit in digits:
        qtbot.keyClick(dialog.focusWidget(), digit)


def test_a_half_filled_phq9_survives_a_crash_and_goes_once_saved(
        qtbot, ctx, services, staff, patient, planned, reopen):
    key = phq9_key(patient, planned)
    dialog = phq9(qtbot, ctx, patient, planned.id)
    type_answers(qtbot, dialog, "2103")
    qtbot.waitUntil(lambda: (draft(services, staff.nurse, key) or {}).get("answers") == {
        "1": 2, "2": 1, "3": 0, "4": 3}, timeout=5000)

    ctx2 = AppContext(reopen())
    ctx2.set_user(staff.nurse)
    again = phq9(qtbot, ctx2, patient, planned.id)
    assert again.form.answers() == {1: 2, 2: 1, 3: 0, 4: 3}
    assert again.draft_hint.isVisible()
    assert again.draft_hint.text().startswith("ℹ Restored your unsaved answers from ")
    assert "4 of 9 answered" in again.total.text()
    assert again.focusWidget() is again.form.rows[5]  # carry on where it stopped
    shot(again, "drafts_phq9_restored")
    # another form (same instrument, another time point) has nothing
    other = ui.InstrumentDialog(ctx2, patient.id, again.instrument, e.TimePoint.POST_SESSION,
                                planned.id)
    qtbot.addWidget(other)
    assert other.form.answers() == {} and not other.draft_hint.isVisibleTo(other)

    type_answers(qtbot, again, "00000")
    again.accept()
    assert again.result() == again.DialogCode.Accepted
    assert draft(ctx2.services, staff.nurse, key) is None
    assert ctx2.services.records.scores_for_patient(patient.id, "phq9")[0].total == 6


@pytest.mark.parametrize("choice", [drafts.KEEP, drafts.DISCARD, drafts.BACK])
def test_cancel_with_answers_asks_what_to_do(qtbot, ctx, services, staff, patient, planned,
                                             monkeypatch, choice):
    key = phq9_key(patient, planned)
    asked = []
    monkeypatch.setattr(ui.InstrumentDialog, "ask_cancel", staticmethod(
        lambda _parent, answered, count: asked.append((answered, count)) or choice))
    dialog = phq9(qtbot, ctx, patient, planned.id)
    dialog.keeper.timer.setInterval(60_000)
    type_answers(qtbot, dialog, "12")
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert asked == [(2, 9)]
    if choice == drafts.BACK:
        assert dialog.isVisible() and dialog.form.answers() == {1: 1, 2: 2}
        assert draft(services, staff.nurse, key) is None  # not yet: still typing
    elif choice == drafts.KEEP:
        assert not dialog.isVisible()
        assert draft(services, staff.nurse, key)["answers"] == {"1": 1, "2": 2}
    else:
        assert not dialog.isVisible() and draft(services, staff.nurse, key) is None
    assert services.records.scores_for_patient(patient.id) == []


def test_cancel_with_nothing_answered_asks_nothing(qtbot, ctx, patient, planned, monkeypatch):
    monkeypatch.setattr(ui.InstrumentDialog, "ask_cancel", staticmethod(
        lambda *_: pytest.fail("nothing to ask about")))
    dialog = phq9(qtbot, ctx, patient, planned.id)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_colleague_signing_in_gets_an_empty_score_form(
        qtbot, ctx, services, staff, patient, planned):
    key = phq9_key(patient, planned)
    dialog = phq9(qtbot, ctx, patient, planned.id)
    dialog.keeper.timer.setInterval(60_000)
    type_answers(qtbot, dialog, "321")
    ctx.set_user(staff.nurse2)  # what the lock does when Ned unlocks
    assert dialog.form.answers() == {}
    assert "Nia Nurse has unsaved answers here" in dialog.draft_hint.text()
    assert "0 of 9 answered" in dialog.total.text()
    assert draft(services, staff.nurse, key)["answers"] == {"1": 3, "2": 2, "3": 1}
    assert draft(services, staff.nurse2, key) is None
    ctx.set_user(staff.nurse)
    assert dialog.form.answers() == {1: 3, 2: 2, 3: 1}


# -- the overview reminds each person of their own unsaved entries ---------------------------
def test_the_overview_lists_ones_own_unsaved_entries_and_opens_them(
        qtbot, services, staff, patient, planned) -> None:
    from kapp.ui.overview import Overview

    services.drafts.save(actor=staff.nurse, form_key=f"note:{planned.id}",
                         content={"text": NOTE})
    services.drafts.save(actor=staff.nurse, form_key=ui.draft_key(
        patient.id, "phq9", e.TimePoint.BASELINE, None), content={"answers": {"1": 2}})
    services.drafts.save(actor=staff.nurse2, form_key=f"note:{planned.id}",
                         content={"text": "a colleague's words"})
    services.drafts.save(actor=staff.nurse, form_key="unknown-form", content={"x": "y"})

    calls: list[tuple[str, object]] = []
    navigator = type("Nav", (), {
        "open_session": lambda self, i: calls.append(("session", i)),
        "open_patient": lambda self, i: calls.append(("patient", i)),
        "show_overview": lambda self: None, "show_patients": lambda self: None})()
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    overview = Overview(ctx, navigator)
    qtbot.addWidget(overview)
    overview.resize(1366, 768)
    overview.show()
    qtbot.waitUntil(lambda: overview.data is not None and not overview.loading, timeout=20000)
    texts = overview.drafts.texts()
    assert overview.drafts.isVisible() and len(texts) == 2
    assert any(t.startswith("✎ note · Testperson, Alex (T-0001) · session of") for t in texts)
    assert any(t.startswith("✎ PHQ-9") and "patient page" in t for t in texts)
    assert not any("colleague" in t for t in texts)
    shot(overview, "overview_unsaved_entries")
    row = next(i for i, t in enumerate(texts) if t.startswith("✎ note"))
    overview.drafts.list.itemActivated.emit(overview.drafts.list.item(row))
    assert calls == [("session", planned.id)]

    ctx.set_user(staff.prescriber)  # someone else at the keyboard: not their list
    assert not overview.drafts.isVisible()
