"""Table models of the session screen: the vitals table and the timeline."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QStandardItem, QStandardItemModel

from kapp.domain.entities import Alert, VitalsReading
from kapp.domain.vitals import fmt
from kapp.ui.session.timeline import TimelineLine
from kapp.ui.session.timing import minutes_label, minutes_since

ENTRY_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
STRUCK_ROLE = Qt.ItemDataRole.UserRole + 3

_Index = QModelIndex | QPersistentModelIndex
STRUCK_COLOUR = QColor(128, 128, 128)


def clock_text(when: datetime) -> str:
    """Local wall-clock time, 24-hour, as on the bedside monitor."""
    return when.astimezone().strftime("%H:%M")


@functools.cache  # made once the application is up, not at import
def _struck_font() -> QFont:
    font = QFont()
    font.setStrikeOut(True)
    return font


@functools.cache
def _bold_font() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


_CELL_FLAGS = (Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
               | Qt.ItemFlag.ItemNeverHasChildren)  # read only, as the table is


# (header, attribute, header tooltip) of the columns. The headers are one short line so
# that every column fits beside the side-effect keys on a 1366-wide laptop; the units stand
# in the vitals entry row just above the table and in each header's tooltip.
VITALS_COLUMNS: list[tuple[str, str | None, str]] = [
    ("Time", None, "Time of the reading (24-hour clock)"),
    ("Min", None, "Minutes since the start (negative: before it, such as the baseline)"),
    ("HR", "hr", "Heart rate, beats /min"),
    ("SYS", "systolic", "Systolic blood pressure, mmHg"),
    ("DIA", "diastolic", "Diastolic blood pressure, mmHg"),
    ("SpO₂", "spo2", "Oxygen saturation (SpO2), %"),
    ("RR", "rr", "Respiratory rate, breaths /min"),
    ("ECG", "rhythm", "Heart rhythm on the ECG: SR sinus rhythm, ST sinus tachycardia, "
                      "SB sinus bradycardia, AF atrial fibrillation, Irr irregular, Ect ectopic "
                      "beats (each cell's tooltip has the words)"),
    # "Note", not "Remarks": with every vital flagged (a "⚠" before each number) the
    # column is narrow on the laptop, and a longer title was cut to "Remar".
    ("Note", None, "Remarks: baseline, correction, alerts (⚠ alert ✔: acknowledged), "
                   "struck through (each cell's tooltip has the whole text)"),
]
COL_TIME, COL_MIN, COL_REMARKS = 0, 1, len(VITALS_COLUMNS) - 1
COL_RHYTHM = COL_REMARKS - 1

# The rhythms offered in the vitals entry, and how the table abbreviates them (as on a
# monitor strip); a rhythm typed in other words is shown as typed.
RHYTHM_SHORT = {
    "sinus rhythm": "SR",
    "sinus tachycardia": "ST",
    "sinus bradycardia": "SB",
    "atrial fibrillation": "AF",
    "irregular": "Irr",
    "ectopic beats": "Ect",
}


def rhythm_short(rhythm: str) -> str:
    return RHYTHM_SHORT.get(rhythm.strip().lower(), rhythm)


def alert_field(rule: str) -> str | None:
    """Which vital an alert rule is about (``predose_systolic_hold`` -> ``systolic``)."""
    for name in ("systolic", "diastolic", "spo2", "rr", "hr"):
        if name in rule.split("_"):
            return name
    return None


class VitalsTableModel(QStandardItemModel):
    """One row per reading, oldest first, struck-through readings kept and shown struck.

    The cells are Qt's own items, each cell's words, font and tooltip worked out once
    when the readings are shown: the table fits its rows and columns to their contents,
    which asks every cell for all of that several times over at each reading recorded
    (about 3,000 questions; answered in Python, they took 15-30 ms)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(0, len(VITALS_COLUMNS), parent)
        self._rows: list[VitalsReading] = []
        self._alerts: dict[uuid.UUID, list[Alert]] = {}
        for column, (title, _attr, tip) in enumerate(VITALS_COLUMNS):
            header = QStandardItem(title)
            header.setToolTip(tip)
            if column == COL_REMARKS:
                header.setTextAlignment(Qt.AlignmentFlag.AlignLeft
                                        | Qt.AlignmentFlag.AlignVCenter)
            self.setHorizontalHeaderItem(column, header)

    def set_readings(self, readings: Sequence[VitalsReading], alerts: Sequence[Alert],
                     start: datetime | None) -> None:
        self._rows = sorted(readings, key=lambda v: (v.taken_at, v.entry.entered_at))
        self._alerts = {}
        for alert in alerts:
            if alert.vitals_id is not None:
                self._alerts.setdefault(alert.vitals_id, []).append(alert)
        rows = [self._cells(v, start) for v in self._rows]
        # One reset, as the views know it (their headers fit every row and column again
        # then), not a signal per row: the rows are swapped with the signals held.
        self.beginResetModel()
        held = self.blockSignals(True)
        try:
            self.setRowCount(0)
            for row in rows:
                self.appendRow(row)
        finally:
            self.blockSignals(held)
            self.endResetModel()

    def reading(self, row: int) -> VitalsReading:
        return self._rows[row]

    def _cells(self, v: VitalsReading, start: datetime | None) -> list[QStandardItem]:
        flagged = {f: a for a in self._alerts.get(v.id, [])
                   if (f := alert_field(a.rule)) is not None}
        struck = v.entry.strike
        cells = []
        for column, (_title, attr, _tip) in enumerate(VITALS_COLUMNS):
            cell = QStandardItem()
            cell.setFlags(_CELL_FLAGS)
            tip: str | None = None
            if column == COL_TIME:
                text = clock_text(v.taken_at)
            elif column == COL_MIN:
                text = minutes_label(minutes_since(start, v.taken_at))
            elif column == COL_REMARKS:
                text, tip = self._remarks(v, short=True), self._remarks(v) or None
            else:
                value = getattr(v, attr) if attr else None
                text = ("" if value is None else
                        rhythm_short(value) if isinstance(value, str) else fmt(value))
                if text and attr in flagged:
                    text = f"⚠\u200a{text}"
            cell.setText(text)
            if attr in flagged:
                tip = flagged[attr].message
            elif column == COL_RHYTHM and v.rhythm:
                tip = v.rhythm
            if tip is None and struck is not None:
                tip = f"Struck through: {struck.reason}"
            if tip:
                cell.setToolTip(tip)
            if column == COL_RHYTHM:  # a screen reader says the words, not "SR"
                cell.setData(v.rhythm or "", Qt.ItemDataRole.AccessibleTextRole)
            if struck is not None:
                cell.setFont(_struck_font())
                cell.setForeground(STRUCK_COLOUR)
            elif attr in flagged:
                cell.setFont(_bold_font())
            if column == COL_RHYTHM:  # a short code between two columns of numbers
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            elif attr is not None or column == COL_MIN:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            cell.setData(v.id, ENTRY_ID_ROLE)
            cell.setData(v.entry.is_struck, STRUCK_ROLE)
            cells.append(cell)
        return cells

    def _remarks(self, v: VitalsReading, short: bool = False) -> str:
        """What matters most first. ``short``: the words the table shows, a few letters
        each so that a narrow column holds them whole on a line or two ("⚠ alert" open,
        "⚠ alert ✔" acknowledged, "struck: <reason>"); the whole text is the cell's tooltip."""
        parts = []
        if v.entry.strike is not None:
            parts.append(f"{'struck' if short else 'Struck through'}: {v.entry.strike.reason}")
        for alert in self._alerts.get(v.id, []):
            word = {"hold": "HOLD", "warn": "warning"}.get(alert.severity.value, "alert")
            if short:
                parts.append(f"⚠ {word}" + (" ✔" if alert.acknowledged_at else ""))
            else:
                parts.append(f"⚠ {word}" + (" (acknowledged)" if alert.acknowledged_at
                                            else ""))
        if v.predose:
            parts.append("baseline")
        if v.entry.supersedes_id is not None:
            parts.append("correction")
        return (" · " if short else "; ").join(dict.fromkeys(parts))


TIMELINE_COLUMNS = ["Time (min)", "What", "Details"]


class TimelineModel(QAbstractTableModel):
    """Every entry of the session, newest at the top."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._lines: list[TimelineLine] = []
        self._start: datetime | None = None

    def set_lines(self, lines: Sequence[TimelineLine], start: datetime | None) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self._start = start
        self.endResetModel()

    def line(self, row: int) -> TimelineLine:
        return self._lines[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TIMELINE_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(TIMELINE_COLUMNS)):
            return TIMELINE_COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                since = minutes_label(minutes_since(self._start, line.at))
                return f"{clock_text(line.at)} ({since})" if since else clock_text(line.at)
            if column == 1:
                return line.what
            text = line.text
            return f"{text}  [struck through: {line.struck_reason}]" if line.struck else text
        if role == Qt.ItemDataRole.ToolTipRole and column == 2:
            return line.text
        if role == SORT_ROLE:
            return line.at.timestamp() if column == 0 else self.data(index)
        if role == Qt.ItemDataRole.FontRole:
            if line.struck:
                return _struck_font()
            if line.what in ("Alert", "HOLD", "Warning") and column == 1:
                return _bold_font()
            return None
        if role == Qt.ItemDataRole.ForegroundRole and line.struck:
            return STRUCK_COLOUR
        if role == ENTRY_ID_ROLE:
            return line.entry_id
        if role == STRUCK_ROLE:
            return line.struck
        return None
