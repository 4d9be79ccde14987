"""What security adds to the main window: File ▸ Sign out / switch user, File ▸ Change my
password…, the Administration menu (administrators only) and the idle lock."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from kapp.domain.entities import User
from kapp.domain.permissions import Permission, allowed
from kapp.ui.accounts import change_password_dialog, open_accounts
from kapp.ui.clinic_settings import clinic_settings_dialog
from kapp.ui.context import AppContext
from kapp.ui.idle_lock import IdleLock, IdleTimer


class SecurityControls:
    def __init__(self, window: QMainWindow, ctx: AppContext, *,
                 timer: IdleTimer | None = None) -> None:
        self.window = window
        self.ctx = ctx
        self.idle_lock = IdleLock(window, ctx, timer=timer)
        bar = window.menuBar()
        file_menu = _menu(window, "&File")
        first = file_menu.actions()[0] if file_menu.actions() else None
        self.sign_out_action = QAction("&Sign out / switch user", window)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.sign_out_action.setToolTip("Lock the screen now; you or a colleague sign in. "
                                        "Open sessions stay as they are.")
        self.sign_out_action.triggered.connect(lambda: self.idle_lock.lock(switch_user=True))
        self.password_action = QAction("&Change my password…", window)
        self.password_action.triggered.connect(self.change_password)
        file_menu.insertAction(first, self.sign_out_action)
        file_menu.insertAction(first, self.password_action)
        file_menu.insertSeparator(first)

        self.admin_menu = QMenu("&Administration", window)
        self.accounts_action = self.admin_menu.addAction("&Accounts…")
        self.accounts_action.triggered.connect(lambda: open_accounts(ctx, window))
        self.settings_action = self.admin_menu.addAction("Clinic &settings…")
        self.settings_action.triggered.connect(self.clinic_settings)
        help_menu = _menu(window, "&Help")
        bar.insertMenu(help_menu.menuAction(), self.admin_menu)
        ctx.userChanged.connect(self._follow_user)
        self._follow_user(ctx.user)

    def _follow_user(self, user: User | None) -> None:
        is_admin = user is not None and allowed(user.role, Permission.MANAGE_ACCOUNTS)
        self.admin_menu.menuAction().setVisible(is_admin)
        self.password_action.setEnabled(user is not None)

    def change_password(self) -> None:
        change_password_dialog(self.ctx, self.window).exec()

    def clinic_settings(self) -> None:
        clinic_settings_dialog(self.ctx, self.window).exec()


def _menu(window: QMainWindow, title: str) -> QMenu:
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text() == title:
            return action.menu()
    return window.menuBar().addMenu(title)
