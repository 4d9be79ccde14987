"""The vitals entry row: HR, SYS, DIA, SpO2, RR, rhythm, time. Tab moves on, Enter records,
focus goes back to HR. A refused entry stays typed, with the message under its field."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QCompleter,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from kapp.domain.errors import KappError, StorageUnavailable, ValidationError
from kapp.domain.vitals import WHOLE_READING, VitalsInput, parse_number
from kapp.services.entries import RecordedVitals
from kapp.ui.context import AppContext
from kapp.ui.session.models import RHYTHM_SHORT
from kapp.ui.time_field import TimeField

# field, label, unit, width in characters
FIELDS = [
    ("hr", "HR", "/min", 5),
    ("systolic", "SYS", "mmHg", 5),
    ("diastolic", "DIA", "mmHg", 5),
    ("spo2", "SpO2", "%", 5),
    ("rr", "RR", "/min", 5),
    ("rhythm", "Rhythm", "", 14),
]
NUMERIC = [f for f, *_ in FIELDS if f != "rhythm"]
RHYTHMS = list(RHYTHM_SHORT)

ERROR_STYLE = "QLineEdit, QTimeEdit { border: 2px solid #c62828; }"
MESSAGE_COLOUR = "#c62828"


def message_label() -> QLabel:
    """A field's message line, in bold dark red: a palette and a font, not a style sheet
    (a screen has a dozen of these; each sheet is parsed and polished on its own)."""
    label = QLabel()
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(MESSAGE_COLOUR))
    label.setPalette(palette)
    bold = label.font()
    bold.setBold(True)
    label.setFont(bold)
    label.setWordWrap(True)
    return label


def not_saved(problem: KappError) -> str:
    """The words for an entry refused by the service. A storage fault's message says
    already that the entry was NOT saved and is still in the form."""
    return str(problem) if isinstance(problem, StorageUnavailable) else f"Not saved: {problem}"


class VitalsEntry(QWidget):
    """Records a set of vitals for one session; ``recorded`` carries what the service
    returned (the reading and any alerts it raised)."""

    recorded = Signal(object)

    def __init__(self, ctx: AppContext, session_id: uuid.UUID | None,
                 parent: QWidget | None = None) -> None:
        """``session_id`` None: built ahead for a screen, which sets it when opened."""
        super().__init__(parent)
        self._ctx = ctx
        self.session_id = session_id
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        big = self.font()
        big.setPointSizeF(big.pointSizeF() * 1.3)
        char = self.fontMetrics().averageCharWidth()
        self.edits: dict[str, QLineEdit] = {}
        self.messages: dict[str, QLabel] = {}
        for column, (field, label, unit, width) in enumerate(FIELDS):
            edit = QLineEdit()
            edit.setFont(big)
            edit.setObjectName(f"vitals_{field}")
            edit.setAccessibleName(f"{label} {unit}".strip())
            edit.setMinimumWidth(int(char * width * 1.3))
            edit.setMinimumHeight(int(self.fontMetrics().height() * 1.8))
            if field != "rhythm":
                edit.setAlignment(Qt.AlignmentFlag.AlignRight)
                edit.setInputMethodHints(Qt.InputMethodHint.ImhFormattedNumbersOnly)
                edit.setMaxLength(6)
            else:
                completer = QCompleter(RHYTHMS, edit)
                completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
                edit.setCompleter(completer)
                edit.setPlaceholderText("optional")
            caption = QLabel(f"<b>{label}</b> {unit}".strip())
            caption.setBuddy(edit)
            grid.addWidget(caption, 0, column)
            grid.addWidget(edit, 1, column)
            self.edits[field] = edit
        column = len(FIELDS)
        self.time = TimeField(ctx, caption="Time")
        self.time_edit = self.time.edit
        self.time_edit.setFont(big)
        self.time_edit.setAccessibleName("Time of reading")
        self.time_edit.setToolTip("Time of the reading; leave it to mean now")
        self.time_edit.setMinimumHeight(int(self.fontMetrics().height() * 1.8))
        self.time.now_button.setToolTip("Set the time of the reading back to now")
        self.time.now_button.setMinimumHeight(int(self.fontMetrics().height() * 1.8))
        self.time_caption = self.time.state
        grid.addWidget(self.time_caption, 0, column)
        grid.addWidget(self.time, 1, column)
        self.record_button = QPushButton("Record vitals ⏎")
        self.record_button.setMinimumHeight(int(self.fontMetrics().height() * 1.8))
        self.record_button.setToolTip("Enter in any field records the vitals")
        self.record_button.clicked.connect(self.submit)
        grid.addWidget(self.record_button, 1, column + 1)
        # One message line per field, starting under its field: "next to the field", and
        # long sentences still fit.
        keys = [f for f, *_ in FIELDS] + ["taken_at"]
        for row, key in enumerate(keys, start=2):
            message = message_label()
            message.hide()
            start = keys.index(key)
            grid.addWidget(message, row, start, 1, column + 2 - start)
            self.messages[key] = message
        self.general = message_label()
        self.general.hide()
        grid.addWidget(self.general, len(keys) + 2, 0, 1, column + 2)
        self.messages[WHOLE_READING] = self.general
        chain = [*self.edits.values(), self.time_edit, self.record_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    # -- time -------------------------------------------------------------------------
    def tick(self) -> None:
        self.time.tick()

    def taken_at(self) -> datetime | None:
        """None means "now" (the service stamps it); otherwise the typed time."""
        return self.time.value()

    # -- recording --------------------------------------------------------------------
    def focus_first(self) -> None:
        self.edits["hr"].setFocus(Qt.FocusReason.OtherFocusReason)
        self.edits["hr"].selectAll()

    def clear_messages(self) -> None:
        for label in self.messages.values():
            label.clear()
            label.hide()
        for edit in (*self.edits.values(), self.time_edit):
            edit.setStyleSheet("")

    def show_message(self, field: str, text: str) -> None:
        label = self.messages.get(field, self.general)
        previous = label.text()
        label.setText(f"{previous}\n⚠ {text}" if previous else f"⚠ {text}")
        label.show()
        widget = self.edits.get(field) or (self.time_edit if field == "taken_at" else None)
        if widget is not None:
            widget.setStyleSheet(ERROR_STYLE)

    def submit(self) -> bool:
        """Record what is typed. True when saved (and the row is cleared)."""
        self.clear_messages()
        values: dict[str, float | None] = {}
        parse_failed = False
        for field in NUMERIC:
            try:
                values[field] = parse_number(self.edits[field].text())
            except ValueError as problem:
                label = next(lbl for f, lbl, *_ in FIELDS if f == field)
                self.show_message(field, f"{label}: {problem}")
                parse_failed = True
        if parse_failed:
            return False
        rhythm = self.edits["rhythm"].text().strip() or None
        try:
            result: RecordedVitals = self._ctx.services.entries.record_vitals(
                actor=self._ctx.actor(), session_id=self.session_id,
                values=VitalsInput(**values), taken_at=self.taken_at(), rhythm=rhythm)
        except ValidationError as refused:
            for error in refused.errors:
                self.show_message(error.field, error.message)
            self._focus_first_error(refused)
            return False
        except KappError as problem:
            self.show_message(WHOLE_READING, not_saved(problem))
            return False
        for edit in self.edits.values():
            edit.clear()
        self.time.reset()
        self.focus_first()
        self.recorded.emit(result)
        return True

    def _focus_first_error(self, refused: ValidationError) -> None:
        for field, *_ in FIELDS:
            if refused.for_field(field):
                self.edits[field].setFocus()
                self.edits[field].selectAll()
                return

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.submit()
            return
        super().keyPressEvent(event)
