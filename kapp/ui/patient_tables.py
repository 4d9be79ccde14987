"""Table models of the patient page: the courses and the history of sessions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import IntEnum
from typing import ClassVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from kapp.domain import enums as e
from kapp.domain.vitals import fmt
from kapp.services.patient_view import CourseSummary, SessionHistoryRow
from kapp.ui.patient_list import SORT_ROLE, short_date
from kapp.ui.patient_widgets import COURSE_WORDS, ROUTE_SHORT, STATUS_WORDS, word

AnyIndex = QModelIndex | QPersistentModelIndex
SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 3
_ROOT = QModelIndex()
NONE = "—"
_ALIGN_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def when_text(moment: datetime) -> str:
    """Local date and time of a stored moment, as the clinic's clock showed it."""
    local = moment.astimezone() if moment.tzinfo else moment
    return f"{short_date(local.date())} {QLocale().toString(local.time(), 'HH:mm')}"


def number(value: float | None, decimals: int = 2) -> str:
    return NONE if value is None else fmt(round(value, decimals))


class _Table(QAbstractTableModel):
    HEADERS: ClassVar[dict[int, str]] = {}
    NUMERIC: ClassVar[frozenset[int]] = frozenset()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list = []

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation != Qt.Orientation.Horizontal or section not in self.HEADERS:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN_RIGHT if section in self.NUMERIC else _ALIGN_LEFT
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) \
                or index.column() not in self.HEADERS:
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN_RIGHT if index.column() in self.NUMERIC else _ALIGN_LEFT
        if role == SORT_ROLE:
            return self.sort_key(row, index.column())
        return self.other(row, index.column(), role)

    def set_rows(self, rows: Sequence) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row(self, number: int):
        return self._rows[number]

    def text(self, row, column: int) -> str:
        raise NotImplementedError

    def sort_key(self, row, column: int) -> str | int | float:
        return self.text(row, column)

    def other(self, row, column: int, role: int) -> object:
        return None


class CourseColumn(IntEnum):
    KIND = 0
    STARTED = 1
    PLANNED = 2
    DONE = 3
    STATE = 4


class CourseTableModel(_Table):
    HEADERS: ClassVar[dict[int, str]] = {
        CourseColumn.KIND: "Course", CourseColumn.STARTED: "Started",
        CourseColumn.PLANNED: "Planned sessions", CourseColumn.DONE: "Done",
        CourseColumn.STATE: "State"}
    NUMERIC = frozenset({CourseColumn.PLANNED, CourseColumn.DONE})

    def text(self, row: CourseSummary, column: int) -> str:
        c = row.course
        match column:
            case CourseColumn.KIND:
                return word(COURSE_WORDS, c.kind)
            case CourseColumn.STARTED:
                return short_date(c.started_on)
            case CourseColumn.PLANNED:
                return str(c.planned_sessions)
            case CourseColumn.DONE:
                return str(row.done)
            case _:
                if c.ended_on is not None:
                    return f"Ended {short_date(c.ended_on)}"
                parts = ["Open"]
                if row.in_chair:
                    parts.append("in the chair now")
                if row.planned:
                    parts.append(f"{row.planned} planned ahead")
                if row.aborted:
                    parts.append(f"{row.aborted} stopped early")
                return ", ".join(parts)

    def sort_key(self, row: CourseSummary, column: int) -> str | int:
        if column == CourseColumn.STARTED:
            return row.course.started_on.isoformat()
        if column == CourseColumn.PLANNED:
            return row.course.planned_sessions
        if column == CourseColumn.DONE:
            return row.done
        return self.text(row, column)


class SessionColumn(IntEnum):
    DATE = 0
    SESSION = 1
    ROUTE = 2
    MG_PER_KG = 3
    MG = 4
    STATUS = 5
    SIGNED_BY = 6


class SessionTableModel(_Table):
    """Newest first; one row per session, planned ones included."""

    HEADERS: ClassVar[dict[int, str]] = {
        SessionColumn.DATE: "Date", SessionColumn.SESSION: "Course / session",
        SessionColumn.ROUTE: "Route", SessionColumn.MG_PER_KG: "mg/kg", SessionColumn.MG: "mg",
        SessionColumn.STATUS: "Status", SessionColumn.SIGNED_BY: "Signed by"}
    NUMERIC = frozenset({SessionColumn.MG_PER_KG, SessionColumn.MG})

    def session_id(self, number: int) -> uuid.UUID:
        return self._rows[number].session.id

    def text(self, row: SessionHistoryRow, column: int) -> str:
        t = row.session
        match column:
            case SessionColumn.DATE:
                return when_text(row.when)
            case SessionColumn.SESSION:
                return f"{word(COURSE_WORDS, row.course_kind)} {t.number_in_course}"
            case SessionColumn.ROUTE:
                return word(ROUTE_SHORT, t.route)
            case SessionColumn.MG_PER_KG:
                return number(t.dose_mg_per_kg)
            case SessionColumn.MG:
                return number(t.dose_mg, 1)
            case SessionColumn.STATUS:
                status = word(STATUS_WORDS, t.status)
                if t.dose_override_reason:
                    status += " · dose outside protocol"
                return status
            case _:
                if t.is_signed:
                    return f"{row.signed_by_name or 'unknown'}, {short_date(t.signed_at.date())}"
                if t.status in (e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED):
                    return "⚠ Not signed"  # text and sign: colour is never the only cue
                return NONE

    def sort_key(self, row: SessionHistoryRow, column: int) -> str | int | float:
        t = row.session
        if column == SessionColumn.DATE:
            return row.when.isoformat()
        if column == SessionColumn.MG_PER_KG:
            return t.dose_mg_per_kg if t.dose_mg_per_kg is not None else -1.0
        if column == SessionColumn.MG:
            return t.dose_mg if t.dose_mg is not None else -1.0
        return self.text(row, column)

    def other(self, row: SessionHistoryRow, column: int, role: int) -> object:
        t = row.session
        if role == SESSION_ID_ROLE:
            return t.id
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == SessionColumn.STATUS and t.dose_override_reason:
                return (f"Reason: {t.dose_override_reason}\n"
                        f"Verified by {row.verified_by_name or 'unknown'}")
            if column == SessionColumn.SESSION:
                names = [f"Nurse: {row.nurse_name}" if row.nurse_name else "",
                         f"Prescriber: {row.prescriber_name}" if row.prescriber_name else ""]
                return "\n".join(n for n in names if n) or None
        return None
