"""The first window: the patient list of the open database."""

from __future__ import annotations

import html

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

import kapp
from kapp.services.base import Change
from kapp.services.facade import Services
from kapp.ui.changes import HubSignals
from kapp.ui.patient_list import PatientListView

PREFERRED_SIZE = (1200, 760)


class MainWindow(QMainWindow):
    def __init__(self, services: Services, database_label: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.database_label = database_label
        self.setWindowTitle(f"kapp — {database_label}")
        self.changes = HubSignals(services.hub, self)
        self.patients = PatientListView(services, self.changes, parent=self)
        self.setCentralWidget(self.patients)
        self._build_menus()
        self._build_status_bar()
        self.changes.changed.connect(self._on_changed)
        self._show_database()
        self._fit_to_screen()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction("&About kapp", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        self.database_status = QLabel()
        self.database_status.setContentsMargins(8, 2, 8, 2)
        # The path can be long; let it be copied when IT asks which file is open.
        self.database_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.database_status, 1)
        self.statusBar().setSizeGripEnabled(False)

    def _show_database(self) -> None:
        total = self.patients.total
        noun = "patient" if total == 1 else "patients"
        self.database_status.setText(
            f"{QLocale().toString(total)} {noun} in this database  ·  {self.database_label}")
        self.database_status.setToolTip(self.database_label)

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

    def show_about(self) -> None:
        self.about(self, "About kapp", (
            f"<h3>kapp {kapp.__version__}</h3>"
            "<p>Session records and progress charts for ketamine-therapy clinics.</p>"
            f"<p>Database: {html.escape(self.database_label)}</p>"))

    @staticmethod
    def about(parent: QWidget, title: str, text: str) -> None:
        """A modal box; tests replace this so that no dialog blocks them."""
        QMessageBox.about(parent, title, text)

