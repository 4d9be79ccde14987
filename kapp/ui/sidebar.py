"""The left-hand column: where to go, and the chairs with a session open."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.errors import KappError
from kapp.domain.protocol import Protocol
from kapp.services.changes import Change
from kapp.ui.context import AppContext
from kapp.ui.session.timing import minutes_since, next_vitals_due_at
from kapp.ui.session_steps._forms import tone

if TYPE_CHECKING:  # the services' modules load with the database layer, after sign-in
    from kapp.services.sessions import Chair

SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_MS = 5_000  # minutes and "vitals due" change slowly; a 5 s tick keeps them honest




class Sidebar(QWidget):
    """Navigation buttons, then one row per chair (a session open or in progress)."""

    overviewRequested = Signal()  # noqa: N815
    patientsRequested = Signal()  # noqa: N815
    sessionRequested = Signal(object)  # noqa: N815

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 fill_later: bool = False) -> None:
        """``fill_later``: the chairs are read at the first ``fill()`` (or ``chair_ids()``),
        not now; the main window fills them right after its first paint."""
        super().__init__(parent)
        self._ctx = ctx
        self._opened: list[uuid.UUID] = []
        self._filled = False
        self.overview_button = QPushButton("Overview")
        self.patients_button = QPushButton("Patients")
        self.overview_button.clicked.connect(self.overviewRequested)
        self.patients_button.clicked.connect(self.patientsRequested)
        heading = QLabel("<b>Chairs</b>")
        self.chairs = QListWidget()
        self.chairs.setAccessibleName("Sessions open or in progress")
        self.chairs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chairs.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.chairs.itemActivated.connect(self._activate)
        self.chairs.itemClicked.connect(self._activate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 12, 4, 8)
        layout.addWidget(self.overview_button)
        layout.addWidget(self.patients_button)
        layout.addSpacing(12)
        layout.addWidget(heading)
        # The chairs could not be read (the database server out of reach): said here, the
        # list kept as it was, and read again at the next tick.
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        layout.addWidget(self.chairs, 1)
        self.setFixedWidth(self.fontMetrics().averageCharWidth() * 27)
        ctx.changes.changed.connect(self._on_changed)
        self._tick = QTimer(self, interval=REFRESH_MS)
        self._tick.timeout.connect(self.refresh)
        self._tick.start()
        if fill_later:  # a moment, on a slow laptop: say so rather than show no chairs
            waiting = QListWidgetItem("Reading the chairs…")
            waiting.setFlags(Qt.ItemFlag.NoItemFlags)
            self.chairs.addItem(waiting)
        else:
            self.refresh()

    def remember(self, session_id: uuid.UUID) -> None:
        """A session opened in this window stays a chair until it is completed."""
        if session_id in self._opened:
            return
        self._opened.append(session_id)
        if session_id not in self.chair_ids():  # a chair already: listed, read as one
            self.refresh()

    def fill(self) -> None:
        """Read the chairs unless that was done already."""
        if not self._filled:
            self.refresh()

    def chair_ids(self) -> list[uuid.UUID]:
        self.fill()
        return [self.chairs.item(i).data(SESSION_ID_ROLE) for i in range(self.chairs.count())]

    def refresh(self) -> None:
        self._filled = True
        services = self._ctx.services
        try:
            chairs = services.sessions.chairs(also=list(self._opened))
            protocol = services.protocol.current()
        except KappError as exc:
            seconds = REFRESH_MS // 1000
            self.problem.setText(f"⚠ Not up to date: the chairs could not be read just "
                                 f"now (kapp tries again every {seconds} seconds).")
            background, foreground = tone(self, "warn")
            self.problem.setStyleSheet(f"background: {background}; color: {foreground}; "
                                       "padding: 3px;")
            self.problem.setToolTip(str(exc))
            self.problem.show()
            return
        self.problem.hide()
        now = self._ctx.clock.now()
        rows = [(chair.session.id, *self._describe(chair, protocol, now)) for chair in chairs]
        if [r[0] for r in rows] != self.chair_ids():
            selected = self.chairs.currentItem()
            keep = selected.data(SESSION_ID_ROLE) if selected else None
            self.chairs.clear()
            for sid, *_ in rows:
                item = QListWidgetItem()
                item.setData(SESSION_ID_ROLE, sid)
                self.chairs.addItem(item)
                if sid == keep:
                    self.chairs.setCurrentItem(item)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for number, (_sid, text, needs_eye) in enumerate(rows, start=1):
            item = self.chairs.item(number - 1)
            item.setText(f"{number}. {text}")
            item.setIcon(warning if needs_eye else QIcon())
            item.setToolTip(f"Ctrl+{number}" if number <= 9 else "")

    @staticmethod
    def _describe(chair: Chair, protocol: Protocol, now: datetime) -> tuple[str, bool]:
        """The chair's lines, and whether it needs the nurse's eye (alert or overdue)."""
        session = chair.session
        lines = [chair.patient_name]
        minutes = minutes_since(session.actual_start, now)
        status = session.status
        if minutes is None:
            lines.append(f"{status.value.replace('_', ' ')}")
        elif status is e.SessionStatus.IN_PROGRESS:
            lines.append(f"▶ infusing +{int(minutes)} min")
        else:
            lines.append(f"{status.value.replace('_', ' ')}, +{int(minutes)} min")
        due = next_vitals_due_at(session, chair.vitals_taken, protocol)
        overdue = False
        if due is not None:
            left = due.seconds_left(now)
            overdue = left < 0
            lines.append(f"⚠ vitals OVERDUE {int(-left // 60)} min" if overdue
                         else f"vitals in {int(left // 60)} min")
        if chair.open_alerts:
            lines.append(f"⚠ {chair.open_alerts} open ALERT"
                         f"{'S' if chair.open_alerts > 1 else ''}")
        return "\n".join(lines), overdue or bool(chair.open_alerts)

    def _activate(self, item: QListWidgetItem) -> None:
        self.sessionRequested.emit(item.data(SESSION_ID_ROLE))

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if changes & {Change.SESSIONS, Change.PATIENTS, Change.ENTRIES, Change.ALERTS}:
            self.refresh()
