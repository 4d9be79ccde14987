"""First run, sign-in, the idle lock, accounts, clinic settings and signing, driven as a
person would; screenshots (KAPP_SCREENSHOTS) for a person to look at."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QLocale, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from kapp.domain.accounts import SignInRefused
from kapp.domain.enums import Role
from kapp.services.startup import OpenGate
from kapp.ui.accounts import AccountsDialog, change_password_dialog
from kapp.ui.app import build_main_window
from kapp.ui.clinic_settings import clinic_settings_dialog
from kapp.ui.first_run import FirstRunDialog
from kapp.ui.idle_lock import LOCKED_TITLE, LockPage, State
from kapp.ui.session_steps.sign import SignDialog
from kapp.ui.sign_in import SignInDialog
from tests.gui_helpers import shot

pytestmark = pytest.mark.gui

LABEL = "/clinic/kapp-test.db"
KEY = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567-ABCD-EFGH-IJKL-MNOP-QRST"


class FakeTimer(QObject):
    """The idle timer, moved on by the test instead of by waiting."""

    timeout = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.interval: int | None = None

    def start(self, msec: int) -> None:
        self.interval = msec

    def stop(self) -> None:
        self.interval = None

    def fire(self) -> None:
        assert self.interval is not None, "the timer is not running"
        self.interval = None
        self.timeout.emit()


def _type(qtbot, widget, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def _window(qtbot, services, user, timer=None):
    window = build_main_window(services, LABEL, user, idle_timer=timer or FakeTimer())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _lock_page(widget: QWidget) -> LockPage | None:
    pages = [p for p in widget.findChildren(
        LockPage, options=Qt.FindChildOption.FindDirectChildrenOnly) if p.isVisible()]
    return pages[0] if pages else None


# -- sign-in ---------------------------------------------------------------------------------
def test_sign_in_says_what_went_wrong_without_telling_which_names_exist(qtbot, services,
                                                                         staff):
    dialog = SignInDialog(OpenGate(services, LABEL).try_sign_in, database_label=LABEL)
    qtbot.addWidget(dialog)
    form = dialog.form
    form.button.click()
    assert form.problem.label.text() == "Enter your user name."
    _type(qtbot, form.username, "nurse1")
    qtbot.keyClick(form.username, Qt.Key.Key_Return)  # Enter moves on to the password
    assert form.password.hasFocus() or not dialog.isVisible()
    form.button.click()
    assert form.problem.label.text() == "Enter your password."
    _type(qtbot, form.password, "not my password")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    wrong = form.problem.label.text()
    assert wrong == "Wrong user name or password."
    assert form.password.text() == ""  # typed again, never kept
    _type(qtbot, form.username, "no-such-person")
    _type(qtbot, form.password, "not my password")
    qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert form.problem.label.text() == wrong
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_sign_in_names_a_lockout_and_a_deactivated_account(qtbot, services, staff, clock):
    services.users.deactivate(actor=staff.admin, user_id=staff.nurse2.id, reason="left")
    dialog = SignInDialog(OpenGate(services, LABEL).try_sign_in)
    qtbot.addWidget(dialog)
    form = dialog.form
    _type(qtbot, form.username, "nurse2")
    _type(qtbot, form.password, staff.password("nurse2"))
    form.button.click()
    assert "deactivated" in form.problem.label.text()
    _type(qtbot, form.username, "nurse1")
    for _ in range(5):
        _type(qtbot, form.password, "wrong password!")
        form.button.click()
    until = clock.now().replace(minute=5).astimezone()
    assert f"locked until {until:%H:%M}" in form.problem.label.text()
    _type(qtbot, form.password, staff.password("nurse1"))
    form.button.click()
    assert "locked until" in form.problem.label.text()
    clock.advance(minutes=5)
    with qtbot.waitSignal(dialog.accepted):
        _type(qtbot, form.password, staff.password("nurse1"))
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert dialog.result_value.user == staff.nurse


def test_an_unknown_name_typed_until_it_locks_reads_exactly_like_an_account(
        qtbot, services, staff, clock):
    """Someone at the keyboard cannot tell which names are accounts by typing one until
    it locks: an unknown name is refused, locked and then refused with the same words."""
    dialog = SignInDialog(OpenGate(services, LABEL).try_sign_in, database_label=LABEL)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    form = dialog.form

    def typed_until_locked(name: str) -> list[str]:
        _type(qtbot, form.username, name)
        qtbot.keyClick(form.username, Qt.Key.Key_Return)
        said = []
        for password in ["wrong password!"] * 6 + [staff.password("nurse1")]:
            qtbot.keyClicks(form.password, password)
            qtbot.keyClick(form.password, Qt.Key.Key_Return)
            said.append(form.problem.label.text())
        return said

    account = typed_until_locked("nurse1")
    unknown = typed_until_locked("no-such-person")
    assert unknown == account
    until = (clock.now() + timedelta(minutes=5)).astimezone()
    assert unknown[4].startswith(f"Too many failed attempts: this account is locked until "
                                 f"{until:%H:%M}")
    assert unknown[5:] == [f"This account is locked until {until:%H:%M}. Try again then, "
                           "or ask an administrator."] * 2
    assert dialog.result() != QDialog.DialogCode.Accepted
    label = form.problem.label  # the whole message shows (the window grows to fit it)
    qtbot.waitUntil(lambda: form.problem.height() >= label.minimumHeight() > 0
                    and dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width()))
    shot(dialog, "sign_in_unknown_name_locked")


# -- first run -------------------------------------------------------------------------------
def _fill_first_run(qtbot, dialog, *, password="harbour clinic admin",
                    again="harbour clinic admin"):
    _type(qtbot, dialog.clinic_name, "Harbour Ketamine Clinic")
    _type(qtbot, dialog.full_name, "Ada Admin")
    _type(qtbot, dialog.username, "admin")
    _type(qtbot, dialog.password, password)
    _type(qtbot, dialog.password_again, again)


def test_first_run_creates_the_admin_and_shows_the_recovery_key_once(qtbot, services):
    made: list[str] = []

    def key() -> str:
        made.append(KEY)
        return KEY

    dialog = FirstRunDialog(OpenGate(services, LABEL, recovery_key=key).create_clinic)
    qtbot.addWidget(dialog)
    dialog.show()
    _fill_first_run(qtbot, dialog, again="something else")
    dialog.create_button.click()
    assert "differ" in dialog.problems["password_again"].label.text()
    _fill_first_run(qtbot, dialog, password="short", again="short")
    dialog.create_button.click()
    assert "at least 10 characters" in dialog.problems["password"].label.text()
    assert services.users.count() == 0 and dialog.pages.currentIndex() == 0

    _fill_first_run(qtbot, dialog)
    dialog.create_button.click()
    assert dialog.pages.currentIndex() == 1
    assert dialog.key_label.text() == KEY and made == [KEY]
    assert services.users.count() == 1
    assert services.settings.current().clinic_name == "Harbour Ketamine Clinic"
    # The key page cannot be dismissed before the key is stored.
    assert not dialog.finish_button.isEnabled()
    dialog.reject()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible()
    qtbot.keyClick(dialog.stored, Qt.Key.Key_Space)
    assert dialog.finish_button.isEnabled()
    dialog.finish_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.key_label.text() == ""
    assert dialog.created.signed_in.user.role is Role.ADMIN
    assert services.users.authenticate("admin", "harbour clinic admin").full_name == "Ada Admin"


def test_first_run_without_encryption_shows_no_recovery_key(qtbot, services):
    dialog = FirstRunDialog(OpenGate(services, LABEL).create_clinic)  # a database server
    qtbot.addWidget(dialog)
    dialog.show()
    _fill_first_run(qtbot, dialog)
    with qtbot.waitSignal(dialog.accepted):
        dialog.create_button.click()
    assert dialog.created.signed_in.user.role is Role.ADMIN and dialog.key_label.text() == ""


def test_idle_lock_warns_then_hides_everything_and_the_same_user_unlocks(
        qtbot, services, staff):
    timer = FakeTimer()
    window = _window(qtbot, services, staff.nurse, timer)
    lock = window.security.idle_lock
    assert timer.interval == (5 * 60 - 30) * 1000  # the clinic setting, less the warning
    timer.fire()
    assert lock.state is State.WARNING and lock.banner.isVisible()
    assert "locks in 30 seconds" in lock.banner.text()
    qtbot.mouseMove(window.stack, window.stack.rect().center())  # someone is there
    qtbot.keyClick(window.stack, Qt.Key.Key_Shift)
    assert lock.state is State.ACTIVE and lock.banner is None
    timer.fire()
    timer.fire()
    assert lock.is_locked
    assert window.windowTitle() == LOCKED_TITLE
    assert not window.centralWidget().isVisible() and not window.menuBar().isVisible()
    page = _lock_page(window)
    assert page is not None and page.geometry() == window.rect()
    assert page.form.username.text() == "nurse1"
    qtbot.keyClicks(page.form.password, "wrong password!")
    qtbot.keyClick(page.form.password, Qt.Key.Key_Return)
    assert lock.is_locked and "Wrong user name or password" in page.form.problem.label.text()
    qtbot.keyClicks(page.form.password, staff.password("nurse1"))
    with qtbot.waitSignal(lock.unlocked):
        qtbot.keyClick(page.form.password, Qt.Key.Key_Return)
    assert window.windowTitle() == f"kapp — {LABEL}"
    assert window.centralWidget().isVisible() and window.menuBar().isVisible()
    assert window.ctx.user == staff.nurse
    assert timer.interval is not None  # counting again


def test_a_keystroke_in_a_dialog_counts_as_someone_there(qtbot, services, staff):
    """Keys arrive at the window that has the focus, as real typing does (through its
    QWindow), in the main window or in a dialog opened later."""
    from PySide6.QtTest import QTest

    timer = FakeTimer()
    window = _window(qtbot, services, staff.nurse, timer)
    lock = window.security.idle_lock
    timer.fire()
    assert lock.state is State.WARNING
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Shift)
    assert lock.state is State.ACTIVE
    dialog = QDialog(window)
    QVBoxLayout(dialog).addWidget(QLabel("a dialog opened after the lock started"))
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QGuiApplication.focusWindow() is dialog.windowHandle())
    timer.fire()
    assert lock.state is State.WARNING
    QTest.keyClick(dialog.windowHandle(), Qt.Key.Key_A)
    assert lock.state is State.ACTIVE and lock.banner is None
    dialog.close()


def test_the_lock_does_not_see_every_widgets_events(qtbot, services, staff):
    """It watches input where it enters, at the windows, not the application's every event
    (a filter on the whole application is called for each of the ~2,600 events of opening
    a patient): an event sent straight to a widget, as a screen's own work is, passes it by,
    while the same move through the window counts."""
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    timer = FakeTimer()
    window = _window(qtbot, services, staff.nurse, timer)
    lock = window.security.idle_lock
    timer.fire()
    assert lock.state is State.WARNING
    widget = window.stack.currentWidget()
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(5, 5), QPointF(5, 5),
                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, move)
    assert lock.state is State.WARNING
    centre = widget.mapTo(window, widget.rect().center())
    for dx in (3, 7):  # two places: a move to where the pointer already is sends nothing
        QTest.mouseMove(window.windowHandle(), centre + QPoint(dx, dx))
    assert lock.state is State.ACTIVE


def test_another_user_unlocking_keeps_the_first_users_open_sessions(
        qtbot, services, staff, planned):
    timer = FakeTimer()
    window = _window(qtbot, services, staff.nurse, timer)
    window.open_session(planned.id)
    screen = window.session_screens[planned.id]
    draft = QLabel("half-typed note", screen)  # stands for what the nurse left on screen
    chair_timer = QTimer(screen)
    chair_timer.start(60_000)
    changed = []
    window.ctx.userChanged.connect(changed.append)
    window.security.sign_out_action.trigger()
    lock = window.security.idle_lock
    assert lock.is_locked
    page = _lock_page(window)
    assert page.form.username.text() == ""  # switch user: nobody's name offered
    assert chair_timer.isActive()
    qtbot.keyClicks(page.form.username, "nurse2")
    qtbot.keyClick(page.form.username, Qt.Key.Key_Return)
    qtbot.keyClicks(page.form.password, staff.password("nurse2"))
    qtbot.keyClick(page.form.password, Qt.Key.Key_Return)
    assert not lock.is_locked
    assert window.ctx.user == staff.nurse2 and changed == [staff.nurse2]
    assert window.session_screens[planned.id] is screen
    assert window.stack.currentWidget() is screen
    assert draft.text() == "half-typed note" and chair_timer.isActive()
    assert "Ned Nurse" in window.user_status.text()


def test_a_locked_account_cannot_unlock_but_another_can(qtbot, services, staff):
    window = _window(qtbot, services, staff.nurse)
    lock = window.security.idle_lock
    lock.lock()
    form = _lock_page(window).form
    for _ in range(5):
        _type(qtbot, form.password, "wrong password!")
        form.button.click()
    assert "locked until" in form.problem.label.text()
    _type(qtbot, form.username, "doc1")
    _type(qtbot, form.password, staff.password("doc1"))
    form.button.click()
    assert not lock.is_locked and window.ctx.user == staff.prescriber


def test_an_open_dialog_is_covered_and_takes_the_unlock_form(qtbot, services, staff):
    window = _window(qtbot, services, staff.nurse)
    dialog = QDialog(window)
    dialog.setWindowTitle("Vitals for Alex Testperson")
    QVBoxLayout(dialog).addWidget(QLabel("Alex Testperson, T-0001"))
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.show()
    qtbot.waitExposed(dialog)
    lock = window.security.idle_lock
    lock.lock()
    assert dialog.isVisible() and dialog.windowTitle() == LOCKED_TITLE
    page = _lock_page(dialog)
    assert page is not None and page.form is not None  # the modal dialog takes the input
    assert _lock_page(window).form is None
    qtbot.keyClicks(page.form.password, staff.password("nurse1"))
    qtbot.keyClick(page.form.password, Qt.Key.Key_Return)
    assert not lock.is_locked
    assert dialog.isVisible() and dialog.windowTitle() == "Vitals for Alex Testperson"


def test_the_administration_menu_is_for_administrators(qtbot, services, staff):
    window = _window(qtbot, services, staff.nurse)
    security = window.security
    assert not security.admin_menu.menuAction().isVisible()
    window.ctx.set_user(staff.admin)
    assert security.admin_menu.menuAction().isVisible()
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Administration") == titles.index("&Help") - 1
    assert [a.text() for a in security.admin_menu.actions()] == ["&Accounts…",
                                                                 "Clinic &settings…"]


def test_changing_the_idle_time_in_clinic_settings_reaches_the_lock(qtbot, services, staff):
    timer = FakeTimer()
    window = _window(qtbot, services, staff.admin, timer)
    dialog = clinic_settings_dialog(window.ctx, window)
    qtbot.addWidget(dialog)
    box = dialog.widgets["idle_lock_minutes"]
    box.setValue(10)
    dialog.submit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert services.settings.current().idle_lock_minutes == 10
    qtbot.waitUntil(lambda: window.security.idle_lock.idle_minutes == 10)
    assert timer.interval == (10 * 60 - 30) * 1000


def test_clinic_settings_refused_to_a_prescriber_in_plain_words(qtbot, services, staff):
    window = _window(qtbot, services, staff.prescriber)
    dialog = clinic_settings_dialog(window.ctx, window)
    qtbot.addWidget(dialog)
    dialog.widgets["lockout_minutes"].setValue(30)
    dialog.submit()
    assert "may not change the clinic settings" in dialog.general_problem.label.text()
    assert services.settings.current().lockout_minutes == 5


# -- accounts -----------------------------------------------------------------------------
def test_accounts_model_passes_the_model_tester(qtmodeltester, services, staff):
    from kapp.ui.accounts import AccountsModel

    qtmodeltester.check(AccountsModel(services.users.accounts()))


def test_an_administrator_creates_resets_and_deactivates_accounts(qtbot, services, staff):
    window = _window(qtbot, services, staff.admin)
    accounts = AccountsDialog(window.ctx, window)
    qtbot.addWidget(accounts)
    assert accounts.model.rowCount() == 4
    new = accounts.new_account_dialog()
    qtbot.addWidget(new)
    _type(qtbot, new.widgets["full_name"], "Rosa Registered")
    _type(qtbot, new.widgets["username"], "rosa")
    new.widgets["role"].setCurrentIndex(1)  # prescriber
    _type(qtbot, new.widgets["password"], "rosa first password")
    _type(qtbot, new.widgets["password_again"], "rosa first passwort")
    new.submit()
    assert "differ" in new.problems["password_again"].label.text()
    _type(qtbot, new.widgets["password_again"], "rosa first password")
    new.submit()
    assert new.result() == QDialog.DialogCode.Accepted
    rosa = services.users.by_username("rosa")
    assert rosa.role is Role.PRESCRIBER
    qtbot.waitUntil(lambda: accounts.model.rowCount() == 5)

    row = next(i for i, a in enumerate(accounts.model.accounts) if a.user.id == rosa.id)
    accounts.table.selectRow(row)
    reset = accounts.reset_dialog(accounts.selected())
    qtbot.addWidget(reset)
    _type(qtbot, reset.widgets["new_password"], "rosa second password")
    _type(qtbot, reset.widgets["password_again"], "rosa second password")
    reset.submit()
    assert services.users.authenticate("rosa", "rosa second password") == rosa

    off = accounts.deactivate_dialog(accounts.selected())
    qtbot.addWidget(off)
    off.submit()
    assert "Reason" in off.problems["reason"].label.text()
    _type(qtbot, off.widgets["reason"], "moved to another clinic")
    off.submit()
    assert not services.users.get(rosa.id).active
    qtbot.waitUntil(lambda: any(a.user.id == rosa.id and not a.user.active
                                for a in accounts.model.accounts))


def test_changing_my_password_needs_the_current_one(qtbot, services, staff):
    window = _window(qtbot, services, staff.nurse)
    dialog = change_password_dialog(window.ctx, window)
    qtbot.addWidget(dialog)
    _type(qtbot, dialog.widgets["old_password"], "not the current one")
    _type(qtbot, dialog.widgets["new_password"], "my new long password")
    _type(qtbot, dialog.widgets["password_again"], "my new long password")
    dialog.submit()
    assert "Wrong password" in dialog.problems["old_password"].label.text()
    _type(qtbot, dialog.widgets["old_password"], staff.password("nurse1"))
    _type(qtbot, dialog.widgets["new_password"], "my new long password")
    _type(qtbot, dialog.widgets["password_again"], "my new long password")
    dialog.submit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert services.users.authenticate("nurse1", "my new long password") == staff.nurse


# -- signing ---------------------------------------------------------------------------------
def test_signing_lists_what_is_missing_first(qtbot, services, staff, planned):
    window = _window(qtbot, services, staff.prescriber)
    dialog = SignDialog(window.ctx, planned.id, window)
    qtbot.addWidget(dialog)
    assert dialog.missing and not dialog.sign_button.isEnabled()
    assert dialog.signature is None


def test_signing_needs_the_password_and_records_meaning_time_and_signer(
        qtbot, services, staff, planned, whole_session, clock):
    whole_session(planned)
    window = _window(qtbot, services, staff.prescriber)
    dialog = SignDialog(window.ctx, planned.id, window)
    qtbot.addWidget(dialog)
    box = dialog.signature
    qtbot.keyClicks(box.password, "not my password")
    qtbot.keyClick(box.password, Qt.Key.Key_Return)
    assert "Wrong password" in box.problem.label.text()
    assert services.sessions.get(planned.id).signed_at is None
    qtbot.keyClicks(box.password, staff.password("doc1"))
    qtbot.keyClick(box.password, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    signed = services.sessions.get(planned.id)
    assert (signed.signed_by_id, signed.signed_at, signed.signature_meaning) == (
        staff.prescriber.id, clock.now(), "reviewed and signed")


def test_a_nurse_is_told_to_ask_a_prescriber(qtbot, services, staff, planned, whole_session):
    whole_session(planned)
    window = _window(qtbot, services, staff.nurse)
    dialog = SignDialog(window.ctx, planned.id, window)
    qtbot.addWidget(dialog)
    assert dialog.signature is None and not dialog.sign_button.isEnabled()


# -- screenshots ---------------------------------------------------------------------------
SHOTS = ["first_run", "first_run_key", "sign_in", "lock_screen", "sign_dialog",
         "accounts", "clinic_settings", "change_password"]


@pytest.mark.skipif(not os.environ.get("KAPP_SCREENSHOTS"),
                    reason="set KAPP_SCREENSHOTS to a folder to save screenshots")
@pytest.mark.parametrize("scene", SHOTS)
def test_save_screenshot(qtbot, services, staff, planned, whole_session, scene):
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    folder = Path(os.environ["KAPP_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    services.settings.update(actor=staff.admin, values={"clinic_name": "Harbour Clinic"})
    shot: QWidget
    if scene.startswith("first_run"):
        from kapp.services.facade import Services
        from kapp.storage.database import open_database
        from kapp.storage.engine import sqlite_url

        empty = Services.for_database(open_database(sqlite_url(folder / "empty.db.tmp"))
                                      .database)
        dialog = FirstRunDialog(OpenGate(empty, LABEL, recovery_key=lambda: KEY)
                                .create_clinic)
        dialog.show()
        _fill_first_run(qtbot, dialog, password="short", again="short")
        dialog.create_button.click()
        if scene == "first_run_key":
            _fill_first_run(qtbot, dialog)
            dialog.create_button.click()
        shot = dialog
    elif scene == "sign_in":
        dialog = SignInDialog(OpenGate(services, LABEL).try_sign_in, database_label=LABEL)
        dialog.show()
        _type(qtbot, dialog.form.username, "nurse1")
        _type(qtbot, dialog.form.password, "wrong")
        dialog.form.button.click()
        shot = dialog
    elif scene == "lock_screen":
        window = _window(qtbot, services, staff.nurse)
        window.resize(1366, 768)
        window.open_session(planned.id)
        window.security.idle_lock.lock()
        shot = window
    elif scene == "sign_dialog":
        whole_session(planned)
        window = _window(qtbot, services, staff.prescriber)
        shot = SignDialog(window.ctx, planned.id, window)
        shot.show()
    elif scene == "accounts":
        window = _window(qtbot, services, staff.admin)
        for _ in range(5):
            with contextlib.suppress(SignInRefused):
                services.users.authenticate("nurse2", "wrong password!")
        services.users.deactivate(actor=staff.admin, user_id=staff.nurse.id, reason="left")
        shot = AccountsDialog(window.ctx, window)
        shot.show()
    elif scene == "clinic_settings":
        window = _window(qtbot, services, staff.admin)
        shot = clinic_settings_dialog(window.ctx, window)
        shot.show()
        shot.widgets["idle_lock_minutes"].setValue(7)
    else:
        window = _window(qtbot, services, staff.nurse)
        shot = change_password_dialog(window.ctx, window)
        shot.show()
    qtbot.addWidget(shot)
    qtbot.waitExposed(shot)
    qtbot.wait(50)
    assert shot.grab().save(str(folder / f"security_{scene}.png"))


def test_no_shortcut_acts_behind_the_lock(qtbot, services, staff):
    from PySide6.QtGui import QKeySequence, QShortcutEvent
    from PySide6.QtWidgets import QApplication

    window = _window(qtbot, services, staff.nurse)
    triggered: list[bool] = []
    window.quit_action.triggered.disconnect()
    window.quit_action.triggered.connect(lambda: triggered.append(True))
    window.security.idle_lock.lock()
    QApplication.sendEvent(window.quit_action, QShortcutEvent(QKeySequence("Ctrl+Q"), 0))
    assert triggered == [] and window.isVisible()
    window.security.idle_lock._unlock(staff.nurse)
    QApplication.sendEvent(window.quit_action, QShortcutEvent(QKeySequence("Ctrl+Q"), 0))
    assert triggered == [True]


def test_a_password_box_offers_no_menu_and_asks_input_methods_to_remember_nothing(qtbot):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication, QMenu

    from kapp.ui.sign_in import password_field

    field = password_field()
    qtbot.addWidget(field)
    field.show()
    qtbot.waitExposed(field)
    hints = field.inputMethodHints()
    for hint in (Qt.InputMethodHint.ImhHiddenText, Qt.InputMethodHint.ImhSensitiveData,
                 Qt.InputMethodHint.ImhNoPredictiveText):
        assert hints & hint
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(5, 5),
                              field.mapToGlobal(QPoint(5, 5)))
    QApplication.sendEvent(field, event)
    assert event.isAccepted()
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMenu) and w.isVisible()]
