"""The left-hand column: where to go, and the chairs with a session open."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.entities import TreatmentSession
from kapp.services.base import Change
from kapp.ui.context import AppContext

SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_MS = 15_000  # minutes since start change slowly; a 15 s tick keeps them honest




class Sidebar(QWidget):
    """Navigation buttons, then one row per chair (a session open or in progress)."""

    overviewRequested = Signal()  # noqa: N815
    patientsRequested = Signal()  # noqa: N815
    sessionRequested = Signal(object)  # noqa: N815

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._opened: list[uuid.UUID] = []
        self.overview_button = QPushButton("Overview")
        self.patients_button = QPushButton("Patients")
        self.overview_button.clicked.connect(self.overviewRequested)
        self.patients_button.clicked.connect(self.patientsRequested)
        heading = QLabel("<b>Chairs</b>")
        self.chairs = QListWidget()
        self.chairs.setAccessibleName("Sessions open or in progress")
        self.chairs.itemActivated.connect(self._activate)
        self.chairs.itemClicked.connect(self._activate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 12, 4, 8)
        layout.addWidget(self.overview_button)
        layout.addWidget(self.patients_button)
        layout.addSpacing(12)
        layout.addWidget(heading)
        layout.addWidget(self.chairs, 1)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 26)
        self.setMaximumWidth(self.fontMetrics().averageCharWidth() * 34)
        ctx.changes.changed.connect(self._on_changed)
        self._tick = QTimer(self, interval=REFRESH_MS)
        self._tick.timeout.connect(self.refresh)
        self._tick.start()
        self.refresh()

    def remember(self, session_id: uuid.UUID) -> None:
        """A session opened in this window stays a chair until it is completed."""
        if session_id not in self._opened:
            self._opened.append(session_id)
        self.refresh()

    def chair_ids(self) -> list[uuid.UUID]:
        return [self.chairs.item(i).data(SESSION_ID_ROLE) for i in range(self.chairs.count())]

    def refresh(self) -> None:
        sessions = {s.id: s for s in self._ctx.services.sessions.in_progress()}
        for sid in self._opened:
            if sid not in sessions:
                sessions[sid] = self._ctx.services.sessions.get(sid)
        selected = self.chairs.currentItem()
        keep = selected.data(SESSION_ID_ROLE) if selected else None
        self.chairs.clear()
        for number, session in enumerate(sessions.values(), start=1):
            item = QListWidgetItem(f"{number}. {self._label(session)}")
            item.setData(SESSION_ID_ROLE, session.id)
            self.chairs.addItem(item)
            if session.id == keep:
                self.chairs.setCurrentItem(item)

    def _label(self, session: TreatmentSession) -> str:
        patient = self._ctx.services.patients.get(session.patient_id)
        name = f"{patient.family_name}, {patient.given_name}"
        if session.actual_start is None:
            return f"{name}\n   {session.status.value.replace('_', ' ')}"
        minutes = int((self._ctx.clock.now() - session.actual_start).total_seconds() // 60)
        return f"{name}\n   {minutes} min since start"

    def _activate(self, item: QListWidgetItem) -> None:
        self.sessionRequested.emit(item.data(SESSION_ID_ROLE))

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if Change.SESSIONS in changes or Change.PATIENTS in changes:
            self.refresh()
