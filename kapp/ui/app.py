"""Starting the GUI: first run or sign-in, then the main window.

Collecting credentials is separate from checking them: the screens hand what was typed to
a ``Gate`` (``kapp.services.startup``) and get back the open services and the signed-in
user. With encryption the gate unwraps the database key with the password and only then
opens the database; without it (``OpenGate``) the database is already open.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from kapp.ui.crash import install_excepthook
from kapp.ui.first_paint import FirstPaint
from kapp.ui.warm_up import WarmUp

if TYPE_CHECKING:  # the sign-in window shows before these load (kapp/ui/opening.py)
    from kapp.domain.entities import User
    from kapp.services.facade import Services
    from kapp.services.startup import Gate, SignedIn
    from kapp.ui.idle_lock import IdleTimer
    from kapp.ui.main_window import MainWindow

APP_NAME = "kapp"
ORGANISATION = "kapp"
MIN_POINT_SIZE = 12.0
"""Body text for a laptop read at arm's length from the infusion chair, not the 9 pt
that many desktops default to."""


def build_main_window(services: Services, database_label: str, user: User, *,
                      idle_timer: IdleTimer | None = None) -> MainWindow:
    """The main window for ``user`` (signed in), with the security menus and idle lock
    (``window.security``)."""
    from kapp.ui.backups import install_backups
    from kapp.ui.context import AppContext
    from kapp.ui.main_window import MainWindow
    from kapp.ui.security import SecurityControls

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


class FirstRunInstead(Exception):
    """A plain file turned out to have no accounts: set up the clinic instead."""


def _loading(gate: Gate, dialog: QDialog,
             on_shown: Callable[[QWidget], None] | None, *, signing_in: bool) -> Any:
    """Open the clinic in the background once ``dialog`` is painted (kapp/ui/opening.py);
    a failure (damaged, newer, unsafe...) closes the dialog at once, and so does finding
    no accounts behind a sign-in window (``signing_in``: first run is shown instead)."""
    from kapp.ui.opening import ClinicLoader

    loader = ClinicLoader(gate)
    loader.failed_first_run = False  # type: ignore[attr-defined]

    def loaded() -> None:
        if loader.error is not None:
            dialog.reject()
        elif signing_in and dialog.isVisible() and gate.accounts_known() is False:
            loader.failed_first_run = True  # type: ignore[attr-defined]
            dialog.reject()

    def painted(window: QWidget) -> None:
        if on_shown is not None:  # first: the cold-start test looks at what is loaded
            on_shown(window)
        loader.start()

    loader.done.connect(loaded)
    FirstPaint(dialog, painted)
    return loader


def _finish(loader: Any) -> None:
    """After the dialog: what opening the clinic found wrong is raised for the caller
    (kapp/app.py tells the person, or offers the backup)."""
    if loader.error is not None:
        raise loader.error
    if loader.failed_first_run:
        raise FirstRunInstead()


def ask_first_run(gate: Gate, *, on_shown: Callable[[QWidget], None] | None = None
                  ) -> SignedIn | None:
    """No accounts yet: set up the clinic (None when the person quits)."""
    from kapp.ui.first_run import FirstRunDialog

    def create(form: Any) -> Any:
        loader.wait(lambda busy: dialog.setEnabled(not busy), dialog.finished)
        return gate.create_clinic(form)

    dialog = FirstRunDialog(create)
    loader = _loading(gate, dialog, on_shown, signing_in=False)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    if loader.error is not None:
        raise loader.error
    if not accepted or dialog.created is None:
        return None
    return dialog.created.signed_in


def ask_sign_in(gate: Gate, *, on_shown: Callable[[QWidget], None] | None = None
                ) -> SignedIn | None:
    """Who is at the keyboard (None when the person quits). The window shows before the
    database layer has loaded; it loads while the person types."""
    from kapp.ui.sign_in import SignInDialog

    def waited(check: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            loader.wait(dialog.set_opening, dialog.finished)
            return check(*args)
        return call

    dialog = SignInDialog(waited(gate.try_sign_in), database_label=gate.database_label,
                          recover=waited(gate.recover) if gate.can_recover() else None)
    loader = _loading(gate, dialog, on_shown, signing_in=True)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    _finish(loader)
    if not accepted:
        return None
    return dialog.result_value


def run_gui(gate: Gate, *, argv: list[str] | None = None,
            on_shown: Callable[[QWidget], None] | None = None,
            on_first_window: Callable[[QWidget], None] | None = None) -> int:
    """Sign-in (or first run), then the main window until the application ends.
    ``on_shown(window)`` is called once the main window has been painted, and
    ``on_first_window(dialog)`` once the sign-in (or first-run) window has (the cold-start
    benchmark and its test). What opening the clinic raises (damaged, newer, unsafe
    location...) is raised from here, after the window has closed."""
    app = ensure_application(argv)
    install_excepthook()
    hooks = {"on_shown": on_first_window} if on_first_window is not None else {}
    try:
        signed_in = ask_first_run(gate, **hooks) if gate.accounts_known() is False \
            else ask_sign_in(gate, **hooks)
    except FirstRunInstead:
        signed_in = ask_first_run(gate)
    if signed_in is None:
        return 0
    window = build_main_window(signed_in.services, gate.database_label, signed_in.user)
    FirstPaint(window, WarmUp)  # the patient page readied while the nurse finds a patient
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
