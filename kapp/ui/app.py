"""Starting the GUI for services the composition root has already built."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from kapp.domain.entities import User
from kapp.services.facade import Services
from kapp.ui.backups import install_backups
from kapp.ui.context import AppContext
from kapp.ui.main_window import MainWindow

APP_NAME = "kapp"
ORGANISATION = "kapp"
MIN_POINT_SIZE = 12.0
"""Body text for a laptop read at arm's length from the infusion chair, not the 9 pt
that many desktops default to."""


def build_main_window(services: Services, database_label: str,
                      user: User | None = None) -> MainWindow:
    ctx = AppContext(services)
    ctx.set_user(user if user is not None else provisional_user(services))
    window = MainWindow(ctx, database_label)
    ctx.setParent(window)
    install_backups(window)  # reliability: daily + closing backups, File > Backups…
    return window


def provisional_user(services: Services) -> User | None:
    """Until sign-in exists (security work): act as the first active clinician."""
    users = services.users.list_users()
    clinical = [u for u in users if u.role.value in ("nurse", "prescriber")]
    return (clinical or users or [None])[0]


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


def run_gui(services: Services, *, database_label: str, argv: list[str] | None = None) -> int:
    app = ensure_application(argv)
    window = build_main_window(services, database_label)
    window.show()
    return app.exec()


def show_error(title: str, message: str) -> None:
    """Tell the user, in a window, why kapp cannot start (for example a database written
    by a newer kapp); used before any main window exists."""
    from PySide6.QtWidgets import QMessageBox

    ensure_application()
    QMessageBox.critical(None, title, message)
