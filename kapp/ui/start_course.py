"""Start a course of treatment: induction, maintenance or booster."""

from __future__ import annotations

import uuid
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import Course
from kapp.domain.errors import KappError
from kapp.ui.context import AppContext
from kapp.ui.patient_list import local_day
from kapp.ui.patient_widgets import COURSE_WORDS, Banner, FieldErrorLabel, FormErrors

#: What the planned-sessions box suggests for each kind of course; the nurse can change it.
#: A suggestion for the form, not a clinical limit (domain.md: 6 infusions are common for
#: an induction; maintenance and boosters are booked one at a time).
SUGGESTED_SESSIONS = {e.CourseKind.INDUCTION: 6, e.CourseKind.MAINTENANCE: 1,
                      e.CourseKind.BOOSTER: 1}


class StartCourseDialog(QDialog):
    def __init__(self, ctx: AppContext, patient_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        self.started: Course | None = None
        self.setWindowTitle("Start a course")
        self.banner = Banner()
        self.kind = QComboBox()
        for kind in e.CourseKind:
            self.kind.addItem(COURSE_WORDS[kind], kind.value)
        self.planned = QSpinBox()
        self.planned.setRange(1, 100)
        self.planned.setSuffix(" sessions")
        self._suggested = True
        self.planned.valueChanged.connect(self._typed_planned)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.started_on = QDateEdit()
        self.started_on.setCalendarPopup(True)
        today = local_day(ctx.clock.now())
        self.started_on.setDate(QDate(today.year, today.month, today.day))
        self.started_on.setDisplayFormat("yyyy-MM-dd")
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Optional, e.g. referred by Dr …")
        labels = {name: FieldErrorLabel() for name in ("kind", "planned_sessions",
                                                        "started_on", "notes")}
        form = QFormLayout()
        for name, text, widget in (("kind", "Course &type", self.kind),
                                   ("planned_sessions", "&Planned", self.planned),
                                   ("started_on", "&Starts on", self.started_on),
                                   ("notes", "&Notes", self.notes)):
            form.addRow(text, widget)
            form.addRow("", labels[name])
        self.errors = FormErrors(self.banner, labels)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Start course")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._kind_changed()

    def _kind_changed(self) -> None:
        if self._suggested:
            kind = e.CourseKind(self.kind.currentData())
            self.planned.blockSignals(True)
            self.planned.setValue(SUGGESTED_SESSIONS[kind])
            self.planned.blockSignals(False)

    def _typed_planned(self) -> None:
        self._suggested = False  # the nurse's number stays when the kind changes

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.kind.setFocus()

    def accept(self) -> None:
        day = self.started_on.date()
        try:
            self.started = self.ctx.services.courses.start_course(
                actor=self.ctx.actor(), patient_id=self.patient_id,
                kind=self.kind.currentData(), planned_sessions=self.planned.value(),
                started_on=date(day.year(), day.month(), day.day()), notes=self.notes.text())
        except KappError as error:
            self.errors.show_failure(error)
            return
        super().accept()

    @classmethod
    def ask(cls, ctx: AppContext, patient_id: uuid.UUID,
            parent: QWidget | None = None) -> Course | None:
        """The course started, or None if cancelled. Tests replace this."""
        dialog = cls(ctx, patient_id, parent)
        return dialog.started if dialog.exec() == QDialog.DialogCode.Accepted else None
