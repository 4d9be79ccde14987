"""Correcting a wrong entry before signing: strike it through with a reason (it stays
visible, struck, with who, when and why), or for vitals strike and re-enter the right
values in one step. Nothing is ever deleted."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.entities import VitalsReading
from kapp.domain.errors import KappError, StorageUnavailable
from kapp.domain.vitals import VitalsInput, fmt
from kapp.ui.background import action_problem
from kapp.ui.context import AppContext
from kapp.ui.qt_compat import run_modal
from kapp.ui.session_steps._forms import (
    Banner,
    ErrorLabel,
    ErrorRouter,
    FlowLayout,
    field_row,
    hhmm,
    make_default,
    not_opened,
    read_numbers,
)
from kapp.ui.time_field import TimeField

QUICK_REASONS = ("Typed in error", "Wrong patient", "Entered twice", "Wrong time")

VITALS_FIELDS = (
    ("hr", "HR", "/min"),
    ("systolic", "SYS", "mmHg"),
    ("diastolic", "DIA", "mmHg"),
    ("spo2", "SpO2", "%"),
    ("rr", "RR", "/min"),
    ("temperature_c", "Temp", "°C"),
)


def vitals_words(reading: VitalsReading) -> str:
    parts = []
    for name, label, unit in VITALS_FIELDS:
        value = getattr(reading, name)
        if value is not None:
            parts.append(f"{label} {fmt(value)} {unit}")
    if reading.rhythm:
        parts.append(reading.rhythm)
    return f"Vitals at {hhmm(reading.taken_at)}: " + ", ".join(parts)


def _reason_row(dialog: QDialog, edit: QLineEdit) -> QWidget:
    holder = QWidget()
    flow = FlowLayout(holder)
    for text in QUICK_REASONS:
        button = QPushButton(text)
        button.setAutoDefault(False)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(lambda _=False, t=text: (edit.setText(t), edit.setFocus()))
        flow.addWidget(button)
    return holder


class StrikeDialog(QDialog):
    """Shows what will be struck through and asks why."""

    def __init__(self, ctx: AppContext, table: str, entry_id: uuid.UUID, description: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.table, self.entry_id = ctx, table, entry_id
        self.struck = False
        self.corrected = False
        self.setWindowTitle("Strike through")
        self.resize(620, 300)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>This entry will be struck through.</b> It stays in the "
                                "record, struck, with your name, the time and the reason."))
        shown = QLabel(description)
        shown.setWordWrap(True)
        shown.setFrameShape(QFrame.Shape.StyledPanel)
        shown.setStyleSheet("padding: 8px; font-size: 12pt; text-decoration: line-through;")
        shown.setAccessibleName("Entry to strike through")
        layout.addWidget(shown)
        self.banner = Banner("danger")
        self.errors = ErrorRouter(self.banner)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why the entry is wrong")
        error = self.errors.add("reason", ErrorLabel(), self.reason)
        form.addRow("&Reason", field_row(self.reason, error))
        form.addRow("", _reason_row(self, self.reason))
        layout.addLayout(form)
        layout.addWidget(self.banner)
        layout.addStretch(1)
        buttons = QDialogButtonBox()
        self.correct_button: QPushButton | None = None
        if table == "vitals_readings":
            self.correct_button = buttons.addButton(
                "&Correct the values instead…", QDialogButtonBox.ButtonRole.ActionRole)
            self.correct_button.setAutoDefault(False)
            self.correct_button.clicked.connect(self._correct)
        self.strike_button = buttons.addButton("&Strike through",
                                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.strike_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reason.setFocus()
        make_default(self, self.strike_button)

    def accept(self) -> None:
        if not self.reason.text().strip():
            self.errors.clear()
            self.errors._labels["reason"].show_error(
                "Give the reason: the record keeps it with the struck entry")
            self.reason.setFocus()
            return
        try:
            self.ctx.services.records.strike(
                actor=self.ctx.actor(), table=self.table, entry_id=self.entry_id,
                reason=self.reason.text())
        except StorageUnavailable as exc:
            # Not a save's "This entry was NOT saved": under "This entry will be struck
            # through" it would read as if the entry itself had been lost.
            self.errors.clear()
            self.banner.show_message(action_problem(exc, (
                "Nothing was struck through; your reason is still in the form as you "
                "typed it.")), "danger")
            return
        except KappError as exc:
            self.errors.show(exc)
            return
        self.errors.clear()
        self.struck = True
        super().accept()

    def _correct(self) -> None:
        # The correction form reads the reading as it opens: when it cannot, the nurse is
        # told why and this dialog stays, with the reason typed.
        if correct_vitals(self.ctx, self.entry_id, self, reason=self.reason.text()):
            self.corrected = True
            super().accept()


class CorrectVitalsDialog(QDialog):
    """Strike a wrong reading and record the right values in one step: the old reading
    stays visible, struck through, with the reason."""

    def __init__(self, ctx: AppContext, reading_id: uuid.UUID,
                 parent: QWidget | None = None, reason: str = "") -> None:
        super().__init__(parent)
        self.ctx, self.reading_id = ctx, reading_id
        self.saved = False
        self.setWindowTitle("Correct vitals")
        self.resize(720, 320)
        self.old = ctx.services.records.vitals_reading(reading_id)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Wrong reading</b> (will be struck through):"))
        shown = QLabel(vitals_words(self.old))
        shown.setStyleSheet("text-decoration: line-through; font-size: 12pt;")
        shown.setWordWrap(True)
        layout.addWidget(shown)
        layout.addWidget(QLabel("<b>Right values</b> (Tab between fields, Enter to save):"))
        self.banner = Banner("danger")
        self.errors = ErrorRouter(self.banner)
        grid = QGridLayout()
        self.edits: dict[str, QLineEdit] = {}
        vitals_error = ErrorLabel()
        for column, (name, label, unit) in enumerate(VITALS_FIELDS):
            edit = QLineEdit()
            value = getattr(self.old, name)
            edit.setText(fmt(value) if value is not None else "")
            edit.setMaximumWidth(90)
            edit.setAccessibleName(f"{label} ({unit})")
            grid.addWidget(QLabel(f"{label} ({unit})"), 0, column)
            grid.addWidget(edit, 1, column)
            self.errors.add(name, vitals_error, edit)
            edit.returnPressed.connect(self.accept)
            self.edits[name] = edit
        self.rhythm = QLineEdit(self.old.rhythm or "")
        self.rhythm.setAccessibleName("Rhythm")
        self.rhythm.returnPressed.connect(self.accept)
        grid.addWidget(QLabel("Rhythm"), 0, len(VITALS_FIELDS))
        grid.addWidget(self.rhythm, 1, len(VITALS_FIELDS))
        self.errors.add("rhythm", vitals_error, self.rhythm)
        grid.addWidget(vitals_error, 2, 0, 1, len(VITALS_FIELDS) + 1)
        layout.addLayout(grid)
        form = QFormLayout()
        self.taken = TimeField(ctx)
        self.taken.set_moment(self.old.taken_at)
        self.taken.state.setText("(time of the wrong reading)")
        self.errors.add("taken_at", ErrorLabel(), self.taken.edit)
        form.addRow("Time of reading", self.taken)
        self.reason = QLineEdit(reason)
        self.reason.setPlaceholderText("why the reading is corrected")
        self.reason.returnPressed.connect(self.accept)
        error = self.errors.add("reason", ErrorLabel(), self.reason)
        form.addRow("&Reason", field_row(self.reason, error))
        form.addRow("", _reason_row(self, self.reason))
        layout.addLayout(form)
        layout.addWidget(self.banner)
        buttons = QDialogButtonBox()
        save = buttons.addButton("Save &correction", QDialogButtonBox.ButtonRole.AcceptRole)
        save.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.accept)
        make_default(self, save)
        self.edits["hr"].setFocus()
        self.edits["hr"].selectAll()

    def accept(self) -> None:
        when = self.taken.value()
        if when is None or hhmm(when) == hhmm(self.old.taken_at):
            when = self.old.taken_at  # unchanged: keep the reading's exact time

        def call() -> object:
            values = read_numbers({name: (label, self.edits[name])
                                   for name, label, _ in VITALS_FIELDS})
            return self.ctx.services.entries.correct_vitals(
                actor=self.ctx.actor(), reading_id=self.reading_id,
                values=VitalsInput(**values), reason=self.reason.text(),
                taken_at=when,
                rhythm=self.rhythm.text())

        ok, _ = self.errors.call(call)
        if ok:
            self.saved = True
            super().accept()


def strike_entry(
        ctx: AppContext,
        table: str,
        entry_id: uuid.UUID,
        description: str,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    try:
        dialog = StrikeDialog(ctx, table, entry_id, description, parent)
    except KappError as exc:
        return not_opened(parent, "Strike through", exc)
    return run_modal(dialog, lambda d: d.struck or d.corrected)


def correct_vitals(
        ctx: AppContext,
        reading_id: uuid.UUID,
        parent: QWidget | None = None,
        reason: str = "",
) -> bool:
    """Strike a vitals reading and enter the right values; True when saved."""
    try:
        dialog = CorrectVitalsDialog(ctx, reading_id, parent, reason=reason)
    except KappError as exc:
        return not_opened(parent, "The vitals correction form", exc)
    return run_modal(dialog, lambda d: d.saved)
