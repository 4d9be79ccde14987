"""The database server out of reach while a nurse or an administrator acts: the live session
screen (a vitals reading, a note, the pump, its step dialogs, striking an entry through,
correcting vitals, opening it), the Backups dialog, the PDFs and the CSV exports. Each says
in plain words what did not happen, why and what to do; keeps what was typed; saves
nothing by halves (no PDF or CSV file without its audit entry); leaves no dialog open; and
the same action works once the server answers.

The server's absence is played by ``Outage`` (tests/lost_server.py) on any database, so
plain ``make test`` covers these words."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from gui_helpers import VITALS_ORDER, shot, tab_through_vitals
from lost_server import Outage
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from kapp.domain.errors import StorageUnavailable
from kapp.domain.vitals import VitalsInput
from kapp.services.audit_view import AuditFilter
from kapp.services.backups import BackupService
from kapp.services.export import ExportService
from kapp.services.report_reads import ReportReads
from kapp.storage.database import Database
from kapp.ui import report_actions as ra
from kapp.ui.background import action_problem
from kapp.ui.backups import BackupsDialog
from kapp.ui.context import AppContext
from kapp.ui.main_window import MainWindow
from kapp.ui.session.models import STRUCK_ROLE
from kapp.ui.session.pump import PumpPanel
from kapp.ui.session_steps import _forms
from kapp.ui.session_steps.correction import CorrectVitalsDialog, StrikeDialog
from tests.ui.test_session_screen import make_window

pytestmark = pytest.mark.gui

AWAY = "The clinic's database server (db.clinic:5432) cannot be reached"
TECHNICAL = ("psycopg", "SQLSTATE", "08006", "OperationalError", "Traceback", "damaged",
             "closed the connection", "Something went wrong")


def plain(text: str) -> None:
    for word in TECHNICAL:
        assert word not in text, word


@pytest.fixture
def outage(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    played = Outage(db, monkeypatch)
    yield played
    played.remove()


@pytest.fixture
def warned(monkeypatch) -> list[tuple[str, str]]:
    """What the warning boxes said (title, text); none of them blocks."""
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(_forms, "warn", lambda parent, title, text: said.append((title, text)))
    monkeypatch.setattr(MainWindow, "warn",
                        staticmethod(lambda parent, title, text: said.append((title, text))))
    monkeypatch.setattr(ra, "inform", lambda parent, title, text, error=False:
                        said.append((title, text)) if error else None)
    monkeypatch.setattr(PumpPanel, "confirm", staticmethod(lambda *_a: True))
    return said


def chair_screen(qtbot, services, user, session_id):
    """The main window, ``user`` signed in, on the chair's live session screen."""
    window = make_window(qtbot, services, user)
    window.open_session(session_id)
    return window.session_screens[session_id]


def no_dialog_open() -> bool:
    return QApplication.activeModalWidget() is None


def close_the_next_dialog() -> list[str]:
    """Reject the next modal dialog as soon as it shows; returns its title when it did."""
    seen: list[str] = []

    def look(tries: int = 200) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            seen.append(dialog.windowTitle())
            dialog.reject()
        elif tries:
            QTimer.singleShot(25, lambda: look(tries - 1))

    QTimer.singleShot(0, look)
    return seen


def test_the_action_words_name_what_did_not_happen() -> None:
    saving = StorageUnavailable("server_unreachable", (
        f"{AWAY}: the network dropped. {StorageUnavailable.NOT_SAVED} Ask IT; then save "
        "again."))
    assert action_problem(saving, "No backup was made.") == (
        f"{AWAY}: the network dropped. No backup was made. Ask IT; then try again.")
    reading = StorageUnavailable("server_unreachable", f"{AWAY} just now. Ask IT.")
    assert action_problem(reading, "No PDF was saved.") == (
        f"{AWAY} just now. Ask IT. No PDF was saved. Try again once the server answers.")
    full = StorageUnavailable("full", f"The disk is full. {StorageUnavailable.NOT_SAVED} "
                                      "Free some space, then save again.")
    assert action_problem(full, "No PDF was saved.") == (
        "The disk is full. No PDF was saved. Free some space, then try again.")


# -- the live session screen --------------------------------------------------------------
def test_a_vitals_reading_stays_typed_and_enter_records_it_once_the_server_answers(
        qtbot, services, staff, planned, outage, warned) -> None:
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(planned.id)
    screen = window.session_screens[planned.id]
    entry = screen.vitals_entry
    typed = ["72", "128", "82", "98", "14"]
    rhythm = tab_through_vitals(qtbot, entry, typed)
    qtbot.keyClicks(rhythm, "SR")
    outage.cut()
    qtbot.keyClick(rhythm, Qt.Key.Key_Return)

    message = entry.general.text()
    assert message.startswith(f"⚠ {AWAY}: the network dropped, or the server was stopped")
    assert "This entry was NOT saved; it is still in the form as you typed it." in message
    assert "ask IT whether the database server is running; then save again" in message
    plain(message)
    assert entry.general.isVisible() and no_dialog_open() and warned == []
    assert [entry.edits[f].text() for f in VITALS_ORDER] == typed
    assert entry.edits["rhythm"].text() == "SR"
    window.sidebar.refresh()  # its 5-second tick: the chairs stay, with a word why
    assert window.sidebar.problem.isVisible() and window.sidebar.chairs.count() == 1
    assert window.sidebar.problem.text().startswith("⚠ Not up to date: the chairs could not")
    assert AWAY in window.sidebar.problem.toolTip()
    shot(window, "server-away-session-screen")

    outage.up()
    assert services.sessions.entries(planned.id).vitals == ()  # nothing half-saved
    qtbot.keyClick(QApplication.focusWidget() or rhythm, Qt.Key.Key_Return)  # Enter again
    (reading,) = services.sessions.entries(planned.id).vitals
    assert (reading.hr, reading.systolic, reading.diastolic, reading.spo2, reading.rr) == (
        72, 128, 82, 98, 14)
    assert not entry.general.isVisible() and entry.edits["hr"].text() == ""
    qtbot.waitUntil(lambda: screen.vitals_model.rowCount() == 1)
    window.sidebar.refresh()
    assert not window.sidebar.problem.isVisible()


def test_a_note_stays_typed_and_ctrl_enter_adds_it_once_the_server_answers(
        qtbot, services, staff, planned, outage, warned) -> None:
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(planned.id)
    notes = window.session_screens[planned.id].notes
    notes.text.setFocus()
    qtbot.keyClicks(notes.text, "Calm, talking with her partner")
    outage.cut()
    qtbot.keyClick(notes.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    said = notes.banner.text()
    assert AWAY in said and "This entry was NOT saved; it is still in the form" in said
    plain(said)
    assert notes.text.toPlainText() == "Calm, talking with her partner"
    assert no_dialog_open() and warned == []
    # Its draft cannot be kept in the database either; the form itself keeps it.
    assert not notes.keeper.save_now()
    assert notes.text.toPlainText() == "Calm, talking with her partner"

    outage.up()
    assert services.records.session_entries(planned.id).notes == ()
    qtbot.keyClick(notes.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    (note,) = services.records.session_entries(planned.id).notes
    assert note.text == "Calm, talking with her partner" and notes.text.toPlainText() == ""
    assert services.drafts.find(actor=staff.nurse, form_key=f"note:{planned.id}") is None


def test_the_pump_start_is_not_recorded_and_enter_starts_it_once_the_server_answers(
        qtbot, services, staff, planned, outage, warned) -> None:
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(planned.id)
    pump = window.session_screens[planned.id].pump
    assert isinstance(pump, PumpPanel)
    pump.rate_edit.setFocus()
    pump.rate_edit.selectAll()
    qtbot.keyClicks(pump.rate_edit, "12")
    outage.cut()
    qtbot.keyClick(pump.rate_edit, Qt.Key.Key_Return)
    said = pump.message.text()
    assert AWAY in said and "NOT saved" in said
    plain(said)
    assert pump.rate_edit.text() == "12" and no_dialog_open()

    outage.up()
    assert services.sessions.get(planned.id).actual_start is None
    qtbot.keyClick(pump.rate_edit, Qt.Key.Key_Return)
    assert services.sessions.get(planned.id).actual_start is not None


def test_the_step_dialogs_say_they_could_not_open_and_open_once_the_server_answers(
        qtbot, services, staff, planned, outage, warned) -> None:
    screen = chair_screen(qtbot, services, staff.nurse, planned.id)
    outage.cut()
    qtbot.mouseClick(screen.pre_panel.checklist_button, Qt.MouseButton.LeftButton)
    assert not screen.open_discharge()
    assert not screen.open_sign()
    assert not screen.open_addendum()
    assert not screen.open_peak_scale()
    assert no_dialog_open()
    opened = [text.split(" could not be opened.")[0] for _title, text in warned]
    assert opened == ["The pre-session checklist", "The discharge form",
                      "The signature form", "The addendum form",
                      f"The {screen._instrument_name(screen.peak_instrument())} form"]
    for title, text in warned:
        assert title == "kapp"
        assert f"could not be opened. {AWAY} just now" in text
        assert text.endswith("Nothing was changed. Try again once the server answers.")
        plain(text)

    outage.up()
    seen = close_the_next_dialog()
    qtbot.mouseClick(screen.pre_panel.checklist_button, Qt.MouseButton.LeftButton)
    assert seen == ["Before the infusion"] and no_dialog_open()
    assert len(warned) == 5


def test_a_checklist_tick_is_undone_said_so_and_ticks_once_the_server_answers(
        qtbot, ctx, services, planned, outage, warned) -> None:
    from gui_helpers import show

    from kapp.ui.session_steps.pre_session import PreSessionDialog

    dialog = show(qtbot, PreSessionDialog(ctx, planned.id))
    consent = dialog.checklist.boxes["consent_on_file"]
    outage.cut()
    qtbot.keyClick(consent, Qt.Key.Key_Space)  # the box has the focus as the dialog opens
    said = dialog.banner.text()
    assert said.startswith(f"{AWAY}: the network dropped")
    assert "This tick was NOT saved; the box is back as it was." in said
    assert "still in the form" not in said and said.endswith("then try again.")
    plain(said)
    assert not consent.isChecked() and dialog.isVisible() and warned == []
    outage.up()
    assert not services.sessions.get(planned.id).pre_checklist.get("consent_on_file")
    qtbot.keyClick(consent, Qt.Key.Key_Space)
    assert consent.isChecked() and services.sessions.get(planned.id).pre_checklist[
        "consent_on_file"]
    assert not dialog.banner.text()


def test_a_rems_answer_is_undone_said_so_and_saved_once_the_server_answers(
        qtbot, ctx, services, staff, course, clock, outage) -> None:
    from gui_helpers import show

    from kapp.services.sessions import DoseForm
    from kapp.ui.session_steps.discharge import DischargeDialog

    session = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=84,
                      concentration_mg_per_ml=1), prescriber_id=staff.prescriber.id)
    dialog = show(qtbot, DischargeDialog(ctx, session.id))
    sedation = dialog.rems_rows["rems_sedation"]
    outage.cut()
    qtbot.mouseClick(sedation.buttons[True], Qt.MouseButton.LeftButton)
    said = dialog.banner.text()
    assert said.startswith(f"{AWAY}: the network dropped")
    assert "This answer was NOT saved; it is back as it was." in said
    plain(said)
    assert sedation.value() is None  # not shown as answered
    outage.up()
    assert "rems_sedation" not in services.sessions.get(session.id).discharge_checklist
    qtbot.mouseClick(sedation.buttons[True], Qt.MouseButton.LeftButton)
    assert services.sessions.get(session.id).discharge_checklist["rems_sedation"] is True
    assert sedation.value() is True and not dialog.banner.text()


def test_opening_a_session_while_the_server_is_away_says_so(
        qtbot, services, staff, planned, outage, warned) -> None:
    window = make_window(qtbot, services, staff.nurse)
    outage.cut()
    window.open_session(planned.id)
    ((title, text),) = warned
    assert title == "kapp"
    assert text.startswith(f"This session could not be opened. {AWAY} just now")
    assert text.endswith("Nothing was changed. Try again once the server answers.")
    plain(text)
    assert planned.id not in window.session_screens and no_dialog_open()
    outage.up()
    window.open_session(planned.id)
    assert window.stack.currentWidget() is window.session_screens[planned.id]


# The strike-through and vitals-correction dialogs, opened from the screen's menu entry
# "Strike through / correct…" as a nurse would, modal over the screen.
@pytest.fixture
def wrong_reading(services, staff, planned):
    """A reading with its systolic typed wrong (218 for 128), to strike or correct."""
    return services.entries.record_vitals(
        actor=staff.nurse, session_id=planned.id,
        values=VitalsInput(hr=72, systolic=218, diastolic=82, spo2=98, rr=14)).reading


def in_the_next(kind: type[QDialog], steps: Callable[[QDialog], None]) -> None:
    """Run ``steps`` in the next modal dialog of ``kind`` as soon as it shows. A step that
    fails closes every dialog still open, so that the test fails instead of waiting for a
    nurse; pytest-qt reports the failure."""

    def look(tries: int = 200) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, kind):
            if tries:
                QTimer.singleShot(25, lambda: look(tries - 1))
            return
        try:
            steps(dialog)
        except BaseException:
            for _ in range(5):
                if (still := QApplication.activeModalWidget()) is not None:
                    still.reject()
            raise

    QTimer.singleShot(0, look)


def strike_from_the_screen(screen, reading) -> None:
    """The vitals table's menu entry "Strike through / correct…" for ``reading``; returns
    once its dialog is closed."""
    screen.strike_action(screen, "vitals_readings", reading.id, "Vitals 09:00: SYS 218",
                         False).trigger()


def test_a_strike_reason_stays_typed_and_strikes_once_the_server_answers(
        qtbot, services, staff, planned, wrong_reading, outage, warned) -> None:
    screen = chair_screen(qtbot, services, staff.nurse, planned.id)
    seen: list[str] = []

    def strike(dialog: StrikeDialog) -> None:
        qtbot.keyClicks(dialog.reason, "typed 218 for 128")
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
        said = dialog.banner.text()
        seen.append(said)
        assert said.startswith(f"{AWAY}: the network dropped")
        # Not "This entry was NOT saved": under "This entry will be struck through" that
        # would read as if the reading itself had been lost.
        assert "Nothing was struck through; your reason is still in the form" in said
        assert "This entry was NOT saved" not in said and said.endswith("then try again.")
        plain(said)
        assert dialog.isVisible() and QApplication.activeModalWidget() is dialog
        assert dialog.reason.text() == "typed 218 for 128" and not dialog.struck
        outage.up()
        (kept,) = services.records.session_entries(planned.id).vitals
        assert not kept.entry.is_struck and audited(services, staff, "entry.strike") == 0
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # Enter again
        assert dialog.struck and not dialog.isVisible()

    # The strike dialog reads nothing as it opens: it opens while away, for the reason.
    outage.cut()
    in_the_next(StrikeDialog, strike)
    strike_from_the_screen(screen, wrong_reading)
    assert len(seen) == 1 and no_dialog_open() and warned == []
    (struck,) = services.records.session_entries(planned.id).vitals
    assert struck.entry.is_struck and struck.entry.strike.reason == "typed 218 for 128"
    assert audited(services, staff, "entry.strike") == 1
    qtbot.waitUntil(lambda: screen.vitals_model.index(0, 0).data(STRUCK_ROLE) is True)


def test_a_vitals_correction_stays_typed_and_saves_once_the_server_answers(
        qtbot, services, staff, planned, wrong_reading, outage, warned) -> None:
    screen = chair_screen(qtbot, services, staff.nurse, planned.id)
    seen: list[str] = []

    def correct(dialog: CorrectVitalsDialog) -> None:
        assert dialog.reason.text() == "Typed in error"  # carried over from the strike
        systolic = dialog.edits["systolic"]
        systolic.setFocus()
        systolic.selectAll()
        qtbot.keyClicks(systolic, "128")
        outage.cut()
        qtbot.keyClick(systolic, Qt.Key.Key_Return)
        said = dialog.banner.text()
        seen.append(said)
        assert said.startswith(f"{AWAY}: the network dropped")
        assert "This entry was NOT saved; it is still in the form as you typed it." in said
        plain(said)
        assert dialog.isVisible() and QApplication.activeModalWidget() is dialog
        assert [dialog.edits[name].text() for name in ("hr", "systolic", "diastolic")] == [
            "72", "128", "82"]
        assert dialog.reason.text() == "Typed in error" and not dialog.saved
        outage.up()
        (kept,) = services.records.session_entries(planned.id).vitals  # no new reading
        assert not kept.entry.is_struck and kept.systolic == 218
        assert audited(services, staff, "entry.strike") == 0
        assert audited(services, staff, "vitals.record") == 1  # the wrong reading's own
        qtbot.keyClick(systolic, Qt.Key.Key_Return)  # Enter again
        assert dialog.saved and not dialog.isVisible()

    def strike(dialog: StrikeDialog) -> None:
        qtbot.keyClicks(dialog.reason, "Typed in error")
        in_the_next(CorrectVitalsDialog, correct)
        qtbot.mouseClick(dialog.correct_button, Qt.MouseButton.LeftButton)
        assert dialog.corrected and not dialog.isVisible()

    in_the_next(StrikeDialog, strike)
    strike_from_the_screen(screen, wrong_reading)
    assert len(seen) == 1 and no_dialog_open() and warned == []
    old, new = services.records.session_entries(planned.id).vitals
    assert old.entry.is_struck and old.entry.strike.reason == "Typed in error"
    assert (new.systolic, new.hr, new.entry.supersedes_id) == (128, 72, old.id)
    assert not new.entry.is_struck
    assert audited(services, staff, "entry.strike") == 1
    assert audited(services, staff, "vitals.record") == 2
    qtbot.waitUntil(lambda: screen.vitals_model.rowCount() == 2)


def test_the_correction_form_says_it_could_not_open_and_opens_once_the_server_answers(
        qtbot, services, staff, planned, wrong_reading, outage, warned) -> None:
    """The correction form reads the wrong reading as it opens (the strike dialog reads
    nothing): away, it says so and the strike dialog stays, with the reason typed."""
    screen = chair_screen(qtbot, services, staff.nurse, planned.id)
    opened: list[str] = []

    def strike(dialog: StrikeDialog) -> None:
        qtbot.keyClicks(dialog.reason, "Typed in error")
        outage.cut()
        qtbot.mouseClick(dialog.correct_button, Qt.MouseButton.LeftButton)
        ((title, text),) = warned
        assert title == "kapp"
        assert text.startswith(f"The vitals correction form could not be opened. {AWAY} "
                               "just now")
        assert text.endswith("Nothing was changed. Try again once the server answers.")
        plain(text)
        assert QApplication.activeModalWidget() is dialog and not dialog.corrected
        assert dialog.reason.text() == "Typed in error"
        outage.up()

        def close(correction: CorrectVitalsDialog) -> None:
            opened.append(correction.reason.text())
            correction.reject()

        in_the_next(CorrectVitalsDialog, close)
        qtbot.mouseClick(dialog.correct_button, Qt.MouseButton.LeftButton)
        assert QApplication.activeModalWidget() is dialog  # back to the strike
        dialog.reject()

    in_the_next(StrikeDialog, strike)
    strike_from_the_screen(screen, wrong_reading)
    assert opened == ["Typed in error"] and no_dialog_open() and len(warned) == 1
    (kept,) = services.records.session_entries(planned.id).vitals
    assert not kept.entry.is_struck and audited(services, staff, "entry.strike") == 0


# -- backups --------------------------------------------------------------------------------
@pytest.fixture
def admin(services, staff) -> AppContext:
    context = AppContext(services)
    context.set_user(staff.admin)
    return context


def test_the_backups_dialog_opens_says_so_and_f5_reads_the_settings(
        qtbot, admin, services, outage, monkeypatch) -> None:
    """On a server (kapp backs nothing up there) only the settings can be changed."""
    monkeypatch.setattr(BackupService, "available", property(lambda self: False))
    services.backups.update_settings(actor=admin.actor(), settings=services.backups.settings()
                                     .__class__(daily=9))
    outage.cut()
    dialog = BackupsDialog(admin)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    text = dialog.message.text()
    assert text.startswith(f"⚠ The backup settings could not be read. {AWAY} just now")
    assert text.endswith("Press F5 to try again.")
    plain(text)
    # Not the defaults offered for saving over the clinic's own settings.
    assert not dialog.settings_box.isVisible() and not dialog.save_button.isEnabled()
    assert dialog.where.text().startswith("This database runs on a server")
    assert not dialog.create_button.isEnabled()
    shot(dialog, "server-away-backups")

    outage.up()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog, Qt.Key.Key_F5)
    assert dialog.settings_box.isVisible() and dialog.save_button.isEnabled()
    assert dialog.daily.value() == 9 and dialog.message.text() == ""


def test_backup_settings_stay_typed_and_save_once_the_server_answers(
        qtbot, admin, services, outage, monkeypatch) -> None:
    monkeypatch.setattr(BackupService, "available", property(lambda self: False))
    dialog = BackupsDialog(admin)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.daily.setValue(11)
    outage.cut()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    text = dialog.message.text()
    assert text.startswith(f"⚠ {AWAY}: the network dropped")
    assert ("The settings were NOT saved; they are still in the form as you typed them."
            in text) and text.endswith("then try again.")
    plain(text)
    assert dialog.daily.value() == 11 and dialog.isVisible()
    outage.up()
    assert services.backups.settings().daily == 7
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == "✓ Settings saved." and services.backups.settings().daily == 11


@pytest.mark.sqlite_only  # kapp backs up only a SQLite file
def test_back_up_now_makes_no_backup_while_away_and_works_after(qtbot, admin, services,
                                                                outage) -> None:
    dialog = BackupsDialog(admin)
    qtbot.addWidget(dialog)
    dialog.show()
    assert services.backups.list() == []
    outage.cut()
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    text = dialog.message.text()
    assert text.startswith(f"⚠ {AWAY}") and "No backup was made." in text
    assert "form" not in text and "entry" not in text
    plain(text)
    outage.up()
    assert services.backups.list() == []
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text().startswith("✓ Backup made and verified")
    assert len(services.backups.list()) == 1 and dialog.table.rowCount() == 1


# -- PDFs and CSV exports -----------------------------------------------------------------
def finish(qtbot, job) -> None:
    assert job is not None
    qtbot.waitUntil(lambda: job not in ra._RUNNING, timeout=60000)


def audited(services, staff, action: str) -> int:
    return len(services.audit.page(actor=staff.admin,
                                   filters=AuditFilter(action=action)).rows)


def test_the_session_record_pdf_says_so_saves_nothing_and_saves_once_back(
        qtbot, services, staff, planned, outage, warned, tmp_path, monkeypatch) -> None:
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(planned.id)
    screen = window.session_screens[planned.id]
    asked: list[str] = []
    monkeypatch.setattr(ra, "ask_save_path", lambda _p, _t, suggested, _f:
                        asked.append(suggested) or tmp_path / "record.pdf")
    outage.cut()
    screen.save_pdf_action.trigger()  # Record ▸ Save as PDF…
    ((title, text),) = warned
    assert title == "Save session record" and asked == []  # not asked where: it cannot be read
    assert text.startswith(f"Save session record did not start. {AWAY} just now")
    assert text.endswith("No PDF was saved. Try again once the server answers.")
    plain(text)

    # The server goes away after the record was read, as its audit entry is saved: the
    # PDF is not left behind without it.
    outage.up()
    note = ReportReads.note_report

    def cut_then_note(self, *args, **kwargs):
        outage.cut()
        return note(self, *args, **kwargs)

    monkeypatch.setattr(ReportReads, "note_report", cut_then_note)
    finish(qtbot, ra.save_session_pdf(window.ctx, planned.id, screen))
    title, text = warned[-1]
    assert text.startswith(f"Save session record did not finish. {AWAY}: the network dropped")
    assert "No PDF was saved." in text and "form" not in text and "entry" not in text
    assert text.endswith("then try again.")
    plain(text)
    assert list(tmp_path.glob("record.pdf*")) == [] and no_dialog_open()

    outage.up()
    monkeypatch.setattr(ReportReads, "note_report", note)
    assert audited(services, staff, "report.session") == 0
    screen.save_pdf_action.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "record.pdf").is_file() and not ra._RUNNING,
                    timeout=60000)
    assert (tmp_path / "record.pdf").read_bytes().startswith(b"%PDF")
    assert audited(services, staff, "report.session") == 1 and len(warned) == 2


def test_the_progress_pdf_and_print_say_so_and_work_once_back(
        qtbot, services, staff, planned, outage, warned, tmp_path, monkeypatch) -> None:
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    monkeypatch.setattr(ra, "ask_save_path", lambda *_a: tmp_path / "progress.pdf")
    printed: list[bool] = []
    monkeypatch.setattr(ra, "ask_printer", lambda *_a: printed.append(True) and False)
    outage.cut()
    assert ra.save_progress_pdf(ctx, planned.patient_id, None) is None
    finish(qtbot, ra.print_session(ctx, planned.id, None))
    (_, progress), (title, printing) = warned
    assert progress.startswith(f"Save progress report did not start. {AWAY}")
    assert title == "Prepare the session record for printing"
    assert printing.startswith(f"{title} did not finish. {AWAY} just now")
    assert printing.endswith("Nothing was printed. Try again once the server answers.")
    plain(progress + printing)
    assert printed == [] and not list(tmp_path.glob("progress.pdf*")) and no_dialog_open()

    outage.up()
    finish(qtbot, ra.save_progress_pdf(ctx, planned.patient_id, None))
    finish(qtbot, ra.print_session(ctx, planned.id, None))
    assert (tmp_path / "progress.pdf").read_bytes().startswith(b"%PDF")
    assert printed == [True] and len(warned) == 2


def test_the_clinic_export_leaves_no_files_while_away_and_exports_once_back(
        qtbot, services, staff, planned, outage, warned, tmp_path, monkeypatch) -> None:
    window = make_window(qtbot, services, staff.admin)
    folder = tmp_path / "csv"
    monkeypatch.setattr(ra, "ask_folder", lambda *_a: folder)
    outage.cut()
    window.export_clinic_action.trigger()  # File ▸ Export CSV (whole clinic)…
    qtbot.waitUntil(lambda: len(warned) == 1 and not ra._RUNNING, timeout=60000)
    ((title, text),) = warned
    assert title == "Export CSV of the whole clinic"
    assert text.startswith(f"Export CSV of the whole clinic did not finish. {AWAY} just now")
    assert text.endswith("No files were written. Try again once the server answers.")
    plain(text)
    assert list(folder.iterdir()) == []

    # Away just as the export is recorded in the audit trail: its files are not kept.
    outage.up()
    audit = ExportService._audit

    def cut_then_audit(self, *args, **kwargs):
        outage.cut()
        return audit(self, *args, **kwargs)

    monkeypatch.setattr(ExportService, "_audit", cut_then_audit)
    window.export_clinic_action.trigger()
    qtbot.waitUntil(lambda: len(warned) == 2 and not ra._RUNNING, timeout=60000)
    assert "No files were written." in warned[-1][1] and "form" not in warned[-1][1]
    assert list(folder.iterdir()) == [] and no_dialog_open()

    outage.up()
    monkeypatch.setattr(ExportService, "_audit", audit)
    assert audited(services, staff, "export.csv") == 0
    window.export_clinic_action.trigger()
    qtbot.waitUntil(lambda: (folder / "vitals.csv").is_file() and not ra._RUNNING,
                    timeout=60000)
    assert audited(services, staff, "export.csv") == 1 and len(warned) == 2


def test_a_patients_export_says_it_did_not_start(qtbot, services, staff, planned, outage,
                                                 warned, tmp_path, monkeypatch) -> None:
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    monkeypatch.setattr(ra, "ask_folder", lambda *_a: tmp_path / "one")
    outage.cut()
    assert ra.export_csv(ctx, planned.patient_id, None) is None
    ((title, text),) = warned
    assert title == "Export CSV" and text.startswith(f"Export CSV did not start. {AWAY}")
    assert text.endswith("No files were written. Try again once the server answers.")
    assert not (tmp_path / "one").exists()
    outage.up()
    finish(qtbot, ra.export_csv(ctx, planned.patient_id, None))
    assert (tmp_path / "one" / "patients.csv").is_file()
