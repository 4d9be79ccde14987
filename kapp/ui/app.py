"""Starting the GUI: first run or sign-in, then the main window.

Collecting credentials is separate from checking them: the screens hand what was typed to
a ``Gate`` (``kapp.services.startup``) and get back the open services and the signed-in
user. With encryption the gate unwraps the database key with the password and only then
opens the database; without it (``OpenGate``) the database is already open.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from kapp.domain.entities import User
from kapp.services.facade import Services
from kapp.services.startup import Gate, SignedIn
from kapp.ui.backups import install_backups
from kapp.ui.context import AppContext
from kapp.ui.crash import install_excepthook
from kapp.ui.first_paint import FirstPaint
from kapp.ui.idle_lock import IdleTimer
from kapp.ui.main_window import MainWindow
from kapp.ui.security import SecurityControls

APP_NAME = "kapp"
ORGANISATION = "kapp"
MIN_POINT_SIZE = 12.0
"""Body text for a laptop read at arm's length from the infusion chair, not the 9 pt
that many desktops default to."""


def build_main_window(services: Services, database_label: str, user: User, *,
                      idle_timer: IdleTimer | None = None) -> MainWindow:
    """The main window for ``user`` (signed in), with the security menus and idle lock
    (``window.security``)."""
    ctx = AppContext(services)
    ctx.set_user(user)
    window = MainWindow(ctx, database_label)
    ctx.setParent(window)
    window.security = SecurityControls(window, ctx, timer=idle_timer)  # type: ignore[attr-defined]
    install_backups(window)  # reliability: daily + closing backups, File > Backups…
    return window


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, made and styled once; tests may already have one."""
    existing = QCoreApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(
        sys.argv if argv is None else argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANISATION)
    font = app.font()
    if font.pointSizeF() < MIN_POINT_SIZE:
        font.setPointSizeF(MIN_POINT_SIZE)
        app.setFont(font)
    return app


def ask_first_run(gate: Gate) -> SignedIn | None:
    """No accounts yet: set up the clinic (None when the person quits)."""
    from kapp.ui.first_run import FirstRunDialog

    dialog = FirstRunDialog(gate.create_clinic)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.created is None:
        return None
    return dialog.created.signed_in


def ask_sign_in(gate: Gate) -> SignedIn | None:
    """Who is at the keyboard (None when the person quits)."""
    from kapp.ui.sign_in import SignInDialog

    dialog = SignInDialog(gate.try_sign_in, database_label=gate.database_label,
                          recover=gate.recover if gate.can_recover() else None)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.result_value


def run_gui(gate: Gate, *, argv: list[str] | None = None,
            on_shown: Callable[[QWidget], None] | None = None) -> int:
    """Sign-in (or first run), then the main window until the application ends.
    ``on_shown(window)`` is called once the main window has been painted (the cold-start
    benchmark and its test)."""
    app = ensure_application(argv)
    install_excepthook()
    signed_in = ask_sign_in(gate) if gate.has_accounts() else ask_first_run(gate)
    if signed_in is None:
        return 0
    window = build_main_window(signed_in.services, gate.database_label, signed_in.user)
    if on_shown is not None:
        FirstPaint(window, on_shown)
    window.show()
    return app.exec()


def show_error(title: str, message: str) -> None:
    """Tell the user, in a window, why kapp cannot start (for example a database written
    by a newer kapp); used before any main window exists."""
    from PySide6.QtWidgets import QMessageBox

    ensure_application()
    QMessageBox.critical(None, title, message)
