"""Banners across the session screen: an alert to acknowledge, a reminder to act on.

Each banner says what it is in words and with an icon as well as a colour, and keeps
its own strong colours so it reads the same in light and dark themes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import Alert
from kapp.domain.errors import KappError, ValidationError
from kapp.ui.context import AppContext
from kapp.ui.session.models import clock_text
from kapp.ui.session.timing import minutes_label, minutes_since

# background, text colour
RED = ("#b71c1c", "#ffffff")
AMBER = ("#ffb300", "#000000")
BLUE = ("#0d47a1", "#ffffff")
GREEN = ("#1b5e20", "#ffffff")

ACTIONS = {
    e.AlertAction.NONE: "No action needed",
    e.AlertAction.SLOWED: "Infusion slowed",
    e.AlertAction.PAUSED: "Infusion paused",
    e.AlertAction.STOPPED: "Infusion stopped",
    e.AlertAction.MEDICATION: "Medication given",
}
HEADINGS = {
    e.AlertSeverity.ALERT: ("⚠ ALERT", RED),
    e.AlertSeverity.HOLD: ("⚠ HOLD — do not start", RED),
    e.AlertSeverity.WARN: ("⚠ WARNING — consider delaying", AMBER),
}


def paint(frame: QFrame, colours: tuple[str, str]) -> None:
    background, text = colours
    frame.setObjectName(frame.objectName() or "banner")
    frame.setStyleSheet(
        f"QFrame#{frame.objectName()} {{ background: {background}; border-radius: 4px; }}"
        f"QFrame#{frame.objectName()} > QLabel {{ color: {text}; }}"
        # Inputs on the banner keep light-theme colours so they read on red or amber in
        # a dark theme too.
        f"QFrame#{frame.objectName()} QLineEdit {{ background: #ffffff; color: #000000; }}")


class Banner(QFrame):
    """A coloured strip with an icon, words, and room for buttons."""

    def __init__(self, name: str, colours: tuple[str, str],
                 icon: QStyle.StandardPixmap | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        paint(self, colours)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(10, 4, 10, 4)
        if icon is not None:
            size = self.fontMetrics().height() * 2
            self.icon = QLabel()
            self.icon.setPixmap(self.style().standardIcon(icon).pixmap(size, size))
            self.row.addWidget(self.icon)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.row.addWidget(self.text, 1)

    def recolour(self, colours: tuple[str, str]) -> None:
        paint(self, colours)


class AlertRow(Banner):
    """One open alert: what crossed which level, the action taken, Acknowledge."""

    acknowledged = Signal(object)

    def __init__(self, ctx: AppContext, alert: Alert, start: datetime | None,
                 parent: QWidget | None = None) -> None:
        heading, colours = HEADINGS.get(alert.severity, HEADINGS[e.AlertSeverity.ALERT])
        icon = (QStyle.StandardPixmap.SP_MessageBoxWarning
                if alert.severity is e.AlertSeverity.WARN
                else QStyle.StandardPixmap.SP_MessageBoxCritical)
        super().__init__(f"alert_{alert.id.hex}", colours, icon, parent)
        self._ctx = ctx
        self.alert = alert
        when = clock_text(alert.raised_at)
        since = minutes_label(minutes_since(start, alert.raised_at))
        when += f" ({since} min)" if since else ""
        self.text.setText(f"<b style='font-size:large'>{heading}</b> &nbsp;{when}: "
                          f"{alert.message}")
        self.action = QComboBox()
        self.action.setAccessibleName("Action taken")
        self.action.setPlaceholderText("Action taken…")
        for code, label in ACTIONS.items():
            self.action.addItem(label, code)
        self.action.setCurrentIndex(-1)
        self.note = QLineEdit()
        self.note.setPlaceholderText("note (optional)")
        self.note.setAccessibleName("Note on the action taken")
        self.note.setFixedWidth(self.fontMetrics().averageCharWidth() * 16)
        self.note.returnPressed.connect(self.acknowledge)
        self.button = QPushButton("Acknowledge")
        self.button.clicked.connect(self.acknowledge)
        self.problem = QLabel()
        self.problem.hide()
        self.row.addWidget(self.action)
        self.row.addWidget(self.note)
        self.row.addWidget(self.button)
        box = QVBoxLayout()
        box.addWidget(self.problem)
        self.row.addLayout(box)

    def acknowledge(self) -> bool:
        code = self.action.currentData()
        if code is None:
            self._say("Choose the action taken first")
            self.action.setFocus()
            return False
        try:
            result = self._ctx.services.entries.acknowledge_alert(
                actor=self._ctx.actor(), alert_id=self.alert.id, action=code,
                note=self.note.text())
        except ValidationError as refused:
            self._say("; ".join(x.message for x in refused.errors))
            return False
        except KappError as problem:
            self._say(f"Not saved: {problem}")
            return False
        self.acknowledged.emit(result)
        return True

    def _say(self, text: str) -> None:
        self.problem.setText(f"<b>⚠ {text}</b>")
        self.problem.show()


class AlertBanner(QWidget):
    """All open alerts of the session, newest first; hidden when there are none."""

    acknowledged = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.rows: list[AlertRow] = []
        self._shown: tuple = ()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.hide()

    def set_alerts(self, alerts: Sequence[Alert], start: datetime | None,
                   read_only: bool = False) -> None:
        open_alerts = sorted((a for a in alerts if a.is_open), key=lambda a: a.raised_at,
                             reverse=True)
        key = (tuple(a.id for a in open_alerts), start, read_only)
        if key == self._shown:
            return  # keep what is half typed in the action boxes
        self._shown = key
        for row in self.rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for alert in open_alerts:
            row = AlertRow(self._ctx, alert, start, self)
            row.acknowledged.connect(self.acknowledged)
            if read_only:
                for widget in (row.action, row.note, row.button):
                    widget.hide()
            self._layout.addWidget(row)
            self.rows.append(row)
        self.setVisible(bool(self.rows))
