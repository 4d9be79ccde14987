"""Banners across the session screen: an alert to acknowledge, a reminder to act on.

Each banner says what it is in words and with an icon as well as a colour, and keeps
its own strong colours so it reads the same in light and dark themes."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import Alert
from kapp.domain.errors import KappError, ValidationError
from kapp.domain.vitals import alert_brief
from kapp.ui.context import AppContext
from kapp.ui.session.models import clock_text
from kapp.ui.session.timing import minutes_label, minutes_since
from kapp.ui.session.vitals_entry import not_saved

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


#: The vitals' names as the table's columns say them, for banners that must keep to a line.
SHORT_NAMES = {"Systolic": "SYS", "Diastolic": "DIA", "Heart rate": "HR",
               "Respiratory rate": "RR"}


def alert_words(alerts: Sequence[Alert], compact: bool = False) -> str:
    """What one reading's alerts say, as rich text: the message of one; of several, each
    in a few words on one line, so five vitals past their lines are one banner, not five.
    ``compact`` (several banners at once): one alert in a few words too, and the vitals
    by their short names ("SYS 196 mmHg (≥ 180)"), so each banner keeps to a line or two
    and the chart under them keeps its height."""
    briefs = [alert_brief(a.rule, a.value, a.threshold) for a in alerts]
    if (len(alerts) > 1 or compact) and all(briefs):
        if compact:
            for long, short in SHORT_NAMES.items():
                briefs = [f"{short}{b[len(long):]}" if b and b.startswith(long + " ") else b
                          for b in briefs]
        # Lines break between the vitals, never inside one ("Diastolic 118 | mmHg").
        # (a word joiner after "/" too: "6 /min" stays whole).
        return "&nbsp;· ".join(html.escape(b).replace(" ", "&nbsp;").replace("/", "/\u2060")
                               for b in briefs if b)
    return html.escape("; ".join(dict.fromkeys(a.message for a in alerts)))


class AlertRow(Banner):
    """The open alerts one reading raised: what crossed which level, the action taken
    (one for all of them: they are one event at the bedside), Acknowledge."""

    acknowledged = Signal(object)

    def __init__(self, ctx: AppContext, alerts: Sequence[Alert], start: datetime | None,
                 parent: QWidget | None = None, *, compact: bool = False) -> None:
        first = alerts[0]
        heading, colours = HEADINGS.get(first.severity, HEADINGS[e.AlertSeverity.ALERT])
        icon = (QStyle.StandardPixmap.SP_MessageBoxWarning
                if first.severity is e.AlertSeverity.WARN
                else QStyle.StandardPixmap.SP_MessageBoxCritical)
        super().__init__(f"alert_{first.id.hex}", colours, icon, parent)
        self._ctx = ctx
        self.alerts = tuple(alerts)
        when = clock_text(first.raised_at)
        since = minutes_label(minutes_since(start, first.raised_at))
        when += f" ({since} min)" if since else ""
        self.text.setText(f"<b style='font-size:large'>{heading}</b> &nbsp;{when}: "
                          f"{alert_words(alerts, compact)}")
        self.text.setToolTip("; ".join(dict.fromkeys(a.message for a in alerts)))
        if compact:  # several banners: their words take the icon's width (the heading
            self.icon.hide()  # says ALERT in words, the colour is the same)
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
            result = self._ctx.services.entries.acknowledge_alerts(
                actor=self._ctx.actor(), alert_ids=[a.id for a in self.alerts], action=code,
                note=self.note.text())
        except ValidationError as refused:
            self._say("; ".join(x.message for x in refused.errors))
            return False
        except KappError as problem:
            self._say(not_saved(problem))
            return False
        self.acknowledged.emit(result)
        return True

    def _say(self, text: str) -> None:
        self.problem.setText(f"<b>⚠ {text}</b>")
        self.problem.show()


class AlertBanner(QScrollArea):
    """All open alerts of the session, newest first, one banner per reading; hidden when
    there are none. Past three banners the rest scroll, so alerts never push the readings
    and their chart off a laptop's screen (the chairs list counts every open alert)."""

    acknowledged = Signal(object)
    SHOWN_AT_ONCE = 3

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.rows: list[AlertRow] = []
        self._shown: tuple = ()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.setWidget(inner)
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
        groups: dict[tuple, list[Alert]] = {}
        for alert in open_alerts:
            groups.setdefault((alert.vitals_id or alert.id, alert.severity), []).append(alert)
        for group in groups.values():
            row = AlertRow(self._ctx, group, start, self, compact=len(groups) > 1)
            row.acknowledged.connect(self.acknowledged)
            if read_only:
                for widget in (row.action, row.note, row.button):
                    widget.hide()
            self._layout.addWidget(row)
            self.rows.append(row)
        self.setVisible(bool(self.rows))
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        """As tall as the first three banners at the width they have now."""
        width = self.viewport().width() or self.width()
        shown = self.rows[:self.SHOWN_AT_ONCE]
        height = sum(row.heightForWidth(width) if row.hasHeightForWidth()
                     else row.sizeHint().height() for row in shown)
        height += self._layout.spacing() * max(0, len(shown) - 1)
        return QSize(super().sizeHint().width(), height)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # the banners' words wrap anew at another width
