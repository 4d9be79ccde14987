"""The main window: a sidebar to move around, and the screen in front of the nurse."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

import kapp
from kapp.domain.errors import KappError
from kapp.domain.permissions import Permission, allowed
from kapp.services.changes import Change
from kapp.ui.background import action_problem
from kapp.ui.context import AppContext
from kapp.ui.drafts import save_all
from kapp.ui.first_paint import FirstPaint
from kapp.ui.patient_list import PatientListView
from kapp.ui.sidebar import Sidebar

if TYPE_CHECKING:  # the other screens are imported when first opened (cold start)
    from kapp.ui.overview import Overview
    from kapp.ui.patient_page import PatientPage
    from kapp.ui.session.screen import SessionScreen

PREFERRED_SIZE = (1280, 800)
MAX_CHAIR_KEYS = 9
SPARE_SCREEN_AFTER_MS = 1000
"""After a chair takes the session screen made ahead, the next is made this much later:
out of the way of the screen's first moments, long before another chair is opened."""


class MainWindow(QMainWindow):
    """Implements ``Navigator``: every screen moves the user through these methods."""

    def __init__(self, ctx: AppContext, database_label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._services = ctx.services
        self.changes = ctx.changes
        self.database_label = database_label
        self.setWindowTitle(f"kapp — {database_label}")
        self.stack = QStackedWidget()
        self._overview: Overview | None = None  # made when first shown (cold start)
        self.patients = PatientListView(ctx.services, ctx.changes, parent=self, ctx=ctx)
        self.patients.patientActivated.connect(self.open_patient)
        self.stack.addWidget(self.patients)
        self.patient_page: PatientPage | None = None
        # One screen per open session, kept alive so that each chair keeps its own timer,
        # reminders and half-typed entries while the nurse looks at another.
        self.session_screens: dict[uuid.UUID, SessionScreen] = {}
        # A session screen made ahead, empty, for the next chair opened (``warm_up_steps``):
        # making its ~300 widgets is most of what opening a new chair costs.
        self.spare_screen: SessionScreen | None = None
        # The chairs (each with its vitals and alerts read) fill in just after the first
        # paint: the window shows at once on the patient list (cold start).
        self.sidebar = Sidebar(ctx, fill_later=True)
        FirstPaint(self, lambda _window: QTimer.singleShot(0, self, self.sidebar.fill))
        self.sidebar.overviewRequested.connect(self.show_overview)
        self.sidebar.patientsRequested.connect(self.show_patients)
        self.sidebar.sessionRequested.connect(self.open_session)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        self._build_menus()
        self._build_status_bar()
        self.changes.changed.connect(self._on_changed)
        ctx.userChanged.connect(lambda _user: self._show_database())
        ctx.userChanged.connect(lambda _user: self._enable_for_role())
        self._enable_for_role()
        self._show_database()
        self._fit_to_screen()
        self.show_patients()

    @property
    def overview(self) -> Overview:
        """The clinic overview, made (and its modules imported) the first time it is asked
        for: the window opens on the patient list."""
        if self._overview is None:
            from kapp.ui.overview import Overview

            self._overview = Overview(self.ctx, self)
            self.stack.addWidget(self._overview)
        return self._overview

    # -- Navigator ------------------------------------------------------------------------
    def show_overview(self) -> None:
        self.stack.setCurrentWidget(self.overview)

    def show_patients(self) -> None:
        self.stack.setCurrentWidget(self.patients)
        self.patients.focus_search()

    def open_patient(self, patient_id: uuid.UUID) -> None:
        if self.patient_page is None or self.patient_page.patient_id != patient_id:
            if self.patient_page is not None:
                self.stack.removeWidget(self.patient_page)
                self.patient_page.deleteLater()
            from kapp.ui.patient_page import PatientPage

            self.patient_page = PatientPage(self.ctx, patient_id, self)
            self.stack.addWidget(self.patient_page)
        self.stack.setCurrentWidget(self.patient_page)

    def open_session(self, session_id: uuid.UUID) -> None:
        screen = self.session_screens.get(session_id)
        if screen is None:
            screen = self._take_spare_screen()
            try:
                screen.attach(session_id)
            except KappError as exc:  # e.g. the database server is out of reach
                self.spare_screen = screen  # unchanged: ready for the next chair
                self.warn(self, "kapp", "This session could not be opened. "
                          + action_problem(exc, "Nothing was changed."))
                return
            self.session_screens[session_id] = screen
        self.sidebar.remember(session_id)
        self.stack.setCurrentWidget(screen)

    def warm_up_steps(self) -> list[Callable[[], None]]:
        """What ``kapp.ui.warm_up.WarmUp`` readies for this window while nobody types."""
        return [self.make_spare_screen]

    def make_spare_screen(self) -> None:
        if self.spare_screen is None:
            self.spare_screen = self._empty_session_screen()

    def _empty_session_screen(self) -> SessionScreen:
        from kapp.ui.session.screen import SessionScreen

        screen = SessionScreen(self.ctx, None, self)
        self.stack.addWidget(screen)  # hidden until a chair is opened in it
        screen.ensurePolished()  # styled now, not when first shown
        return screen

    def _take_spare_screen(self) -> SessionScreen:
        """The screen made ahead (the next made a moment later), or a new one now."""
        screen, self.spare_screen = self.spare_screen, None
        QTimer.singleShot(SPARE_SCREEN_AFTER_MS, self, self.make_spare_screen)
        return screen if screen is not None else self._empty_session_screen()

    def open_chair(self, number: int) -> None:
        """Chair ``number`` (1-based) in the sidebar's order; Ctrl+1..9."""
        ids = self.sidebar.chair_ids()
        if 1 <= number <= len(ids):
            self.open_session(ids[number - 1])

    def next_chair(self, step: int = 1) -> None:
        ids = self.sidebar.chair_ids()
        if not ids:
            return
        current = self.stack.currentWidget()
        here = ids.index(current.session_id) if current in self.session_screens.values() \
            and current.session_id in ids else -1
        self.open_session(ids[(here + step) % len(ids)])

    # -- window ---------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        save_all(self.ctx)  # a half-typed note is kept as its author's draft, not lost
        super().closeEvent(event)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.export_clinic_action = QAction("&Export CSV (whole clinic)…", self)
        self.export_clinic_action.triggered.connect(self.export_clinic)
        file_menu.addAction(self.export_clinic_action)
        self.audit_action = QAction("&Audit trail…", self)
        self.audit_action.setStatusTip("Who changed what and when; check the trail is intact "
                                       "(administrators)")
        self.audit_action.triggered.connect(self.show_audit_trail)
        file_menu.addAction(self.audit_action)
        file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        go_menu = self.menuBar().addMenu("&Go")
        self._add_go(go_menu, "&Overview", "Ctrl+0", self.show_overview)
        self._add_go(go_menu, "&Patients", "Ctrl+Shift+F", self.show_patients)
        go_menu.addSeparator()
        self._add_go(go_menu, "&Next chair", "Ctrl+Tab", lambda: self.next_chair(1))
        self._add_go(go_menu, "Pre&vious chair", "Ctrl+Shift+Tab", lambda: self.next_chair(-1))
        for number in range(1, MAX_CHAIR_KEYS + 1):
            self._add_go(go_menu, f"Chair {number}", f"Ctrl+{number}",
                         lambda n=number: self.open_chair(n), visible=False)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction("&About kapp", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)

    def _add_go(self, menu, text: str, keys: str, slot, *, visible: bool = True) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even for actions hidden from the menu
        if visible:
            menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        self.user_status = QLabel()
        self.user_status.setContentsMargins(8, 2, 8, 2)
        self.database_status = QLabel()
        self.database_status.setContentsMargins(8, 2, 8, 2)
        # The path can be long; let it be copied when IT asks which file is open.
        self.database_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.user_status)
        self.statusBar().addWidget(self.database_status, 1)
        self.statusBar().setSizeGripEnabled(False)

    def _show_database(self) -> None:
        total = self.patients.total
        noun = "patient" if total == 1 else "patients"
        self.database_status.setText(
            f"{QLocale().toString(total)} {noun} in this database  ·  {self.database_label}")
        self.database_status.setToolTip(self.database_label)
        user = self.ctx.user
        self.user_status.setText(
            f"Signed in: {user.full_name} ({user.role.value})" if user else "Nobody signed in")

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if Change.PATIENTS in changes:
            self._show_database()

    def _fit_to_screen(self) -> None:
        # A 1366x768 clinic laptop loses some height to the taskbar; never open larger
        # than what is available, or the status bar ends up off screen.
        screen = self.screen() or QGuiApplication.primaryScreen()
        width, height = PREFERRED_SIZE
        if screen is not None:
            available = screen.availableGeometry()
            width, height = min(width, available.width()), min(height, available.height())
        self.resize(width, height)

    def _enable_for_role(self) -> None:
        user = self.ctx.user
        self.audit_action.setEnabled(
            user is not None and allowed(user.role, Permission.VIEW_AUDIT))

    def export_clinic(self) -> None:
        from kapp.ui import report_actions  # reportlab and the exporters load when used

        report_actions.export_csv(self.ctx, None, self)

    def show_audit_trail(self) -> None:
        if self.audit_action.isEnabled():
            from kapp.ui.audit_viewer import open_audit_viewer

            self.audit_viewer = open_audit_viewer(self.ctx, self)

    def show_about(self) -> None:
        self.about(self, "About kapp", (
            f"<h3>kapp {kapp.__version__}</h3>"
            "<p>Session records and progress charts for ketamine-therapy clinics.</p>"
            f"<p>Database: {html.escape(self.database_label)}</p>"))

    @staticmethod
    def about(parent: QWidget, title: str, text: str) -> None:
        """A modal box; tests replace this so that no dialog blocks them."""
        QMessageBox.about(parent, title, text)

    @staticmethod
    def warn(parent: QWidget, title: str, text: str) -> None:
        """A modal warning; tests replace this so that no dialog blocks them."""
        QMessageBox.warning(parent, title, text)
