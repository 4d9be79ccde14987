"""Table models of the session screen: the vitals table and the timeline."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

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


def _struck_font() -> QFont:
    font = QFont()
    font.setStrikeOut(True)
    return font


def _bold_font() -> QFont:
    font = QFont()
    font.setBold(True)
    return font


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


class VitalsTableModel(QAbstractTableModel):
    """One row per reading, oldest first, struck-through readings kept and shown struck."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[VitalsReading] = []
        self._alerts: dict[uuid.UUID, list[Alert]] = {}
        self._start: datetime | None = None
        # (row, column, role) -> what data() said. A reading recorded asks the table
        # again for every cell's text, font, alignment... several times over (its rows
        # and columns fit their contents): worked out once per reading shown.
        self._said: dict[tuple[int, int, int], Any] = {}

    def set_readings(self, readings: Sequence[VitalsReading], alerts: Sequence[Alert],
                     start: datetime | None) -> None:
        self.beginResetModel()
        self._said = {}
        self._rows = sorted(readings, key=lambda v: (v.taken_at, v.entry.entered_at))
        self._alerts = {}
        for alert in alerts:
            if alert.vitals_id is not None:
                self._alerts.setdefault(alert.vitals_id, []).append(alert)
        self._start = start
        self.endResetModel()

    def reading(self, row: int) -> VitalsReading:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(VITALS_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is not Qt.Orientation.Horizontal or \
                not 0 <= section < len(VITALS_COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return VITALS_COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return VITALS_COLUMNS[section][2]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == COL_REMARKS:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _flagged(self, reading: VitalsReading) -> dict[str, Alert]:
        return {f: a for a in self._alerts.get(reading.id, [])
                if (f := alert_field(a.rule)) is not None}

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

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        key = (index.row(), index.column(), int(role))
        try:
            return self._said[key]
        except KeyError:
            said = self._said[key] = self._data(self._rows[key[0]], key[1], role)
            return said

    def _data(self, v: VitalsReading, column: int, role: int) -> Any:
        attr = VITALS_COLUMNS[column][1]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COL_TIME:
                return clock_text(v.taken_at)
            if column == COL_MIN:
                return minutes_label(minutes_since(self._start, v.taken_at))
            if column == COL_REMARKS:
                return self._remarks(v, short=True)
            value = getattr(v, attr) if attr else None
            if value is None:
                return ""
            text = rhythm_short(value) if isinstance(value, str) else fmt(value)
            return f"⚠\u200a{text}" if attr in self._flagged(v) else text
        if role == Qt.ItemDataRole.AccessibleTextRole and column == COL_RHYTHM:
            return v.rhythm or ""  # a screen reader says the words, not "SR"
        if role == SORT_ROLE:
            if column in (COL_TIME, COL_MIN):
                return v.taken_at.timestamp()
            if column == COL_REMARKS:
                return self._remarks(v)
            return getattr(v, attr) if attr else None
        if role == Qt.ItemDataRole.FontRole:
            if v.entry.is_struck:
                return _struck_font()
            if attr in self._flagged(v):
                return _bold_font()
            return None
        if role == Qt.ItemDataRole.ForegroundRole and v.entry.is_struck:
            return STRUCK_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole:
            flagged = self._flagged(v)
            if attr in flagged:
                return flagged[attr].message
            if column == COL_REMARKS:  # the short words in full
                return self._remarks(v) or None
            if column == COL_RHYTHM and v.rhythm:
                return v.rhythm
            if v.entry.strike is not None:
                return f"Struck through: {v.entry.strike.reason}"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == COL_RHYTHM:  # a short code between two columns of numbers
                return int(Qt.AlignmentFlag.AlignCenter)
            if attr is not None or column == COL_MIN:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ENTRY_ID_ROLE:
            return v.id
        if role == STRUCK_ROLE:
            return v.entry.is_struck
        return None


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
