"""Nasal devices bar, in place of the pump for an intranasal esketamine session: which
device was given when, when the next may follow, the total given, and one big "Device
given" button (Enter from the time field too). The time follows the clock until the nurse
changes it (a device written down a few minutes late)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import TreatmentSession
from kapp.domain.errors import KappError, ValidationError
from kapp.domain.nasal import NasalDosing
from kapp.domain.vitals import fmt
from kapp.ui.context import AppContext
from kapp.ui.session.asking import ask_yes_no, say_problem
from kapp.ui.session.models import clock_text
from kapp.ui.session.vitals_entry import message_label, not_saved
from kapp.ui.time_field import TimeField


def given_text(dosing: NasalDosing) -> str:
    """``56 of 84 mg given (2 of 3 devices)``: the total, counted from the devices."""
    planned = f" of {fmt(dosing.planned_mg)}" if dosing.planned_mg else ""
    devices = f" of {dosing.planned_count}" if dosing.planned_count else ""
    return (f"{fmt(dosing.given_mg)}{planned} mg given "
            f"({dosing.given_count}{devices} device{'s' if dosing.planned_count != 1 else ''})")


def status_text(dosing: NasalDosing, now: datetime, ended: bool) -> str:
    """``Device 1 of 3 given 10:02 · next not before 10:07 (in 3:12)``."""
    count = dosing.planned_count
    if not dosing.given:
        size = f"{count} devices of {fmt(dosing.device_mg)} mg" if count else "no dose planned"
        return f"Nasal devices: none given yet · {size} planned"
    last = dosing.last_at
    assert last is not None
    of = f" of {count}" if count else ""
    head = f"Device {dosing.given_count}{of} given {clock_text(last)}"
    if dosing.complete or ended:
        until = dosing.observe_until
        word = "✓ All devices given" if dosing.complete else "■ Dosing ended"
        observe = f" · observe until {clock_text(until)} at least" if until else ""
        return f"{word}: {head.lower()}{observe}"
    due = dosing.next_not_before
    assert due is not None
    left = (due - now).total_seconds()
    if left > 0:
        return (f"{head} · next not before {clock_text(due)} "
                f"(in {int(left // 60)}:{int(left % 60):02d})")
    return f"{head} · ▶ next device can be given now"


class NasalPanel(QFrame):
    """What the nurse records of the nasal devices; each press is one committed device.

    It answers the screen as the pump panel does (``state``, ``delivered_label``,
    ``set_session``, ``refresh_delivery``, ``set_read_only``, ``changed``)."""

    changed = Signal()
    # Ask for the reason dosing ends early, and confirm a first device despite warnings;
    # tests replace them so no dialog blocks them.
    ask_reason: Callable[[QWidget, str, str], str | None]
    confirm: Callable[[QWidget, str, str], bool]

    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Nasal devices")
        self._ctx = ctx
        self.session_id = session_id
        self._session: TreatmentSession | None = None
        self._dosing: NasalDosing | None = None
        self._read_only = False
        self._needs_reason = False
        self.start_warnings: Callable[[], list[str]] = list
        big = self.font()
        big.setBold(True)
        self.state_label = QLabel()
        self.state_label.setFont(big)
        self.delivered_label = QLabel()
        self.delivered_label.setFont(big)
        self.delivered_label.setAccessibleName("Given so far")
        self.time = TimeField(ctx, caption="Time")
        self.time_edit = self.time.edit
        self.time_edit.setAccessibleName("Time the device was given")
        self.time_edit.setToolTip("Time the device was given; leave it to mean now")
        self.time_edit.setMinimumHeight(int(self.fontMetrics().height() * 2))
        self.time.now_button.setToolTip("Set the time back to now")
        self.time_caption = self.time.state
        self.reason_edit = QLineEdit()
        self.reason_edit.setAccessibleName("Reason the device was given sooner")
        self.reason_edit.setPlaceholderText("why sooner than the protocol's interval")
        self.reason_edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 30)
        self.reason_edit.hide()
        self.give_button = QPushButton("Device given ⏎")
        self.give_button.setAccessibleName("Device given")
        self.give_button.setToolTip("Record one nasal device as given (Enter in the time "
                                    "field does the same)")
        self.give_button.setFont(big)
        self.give_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_DialogApplyButton))
        self.give_button.setMinimumHeight(int(self.fontMetrics().height() * 2.2))
        self.give_button.setMinimumWidth(self.fontMetrics().averageCharWidth() * 22)
        self.give_button.clicked.connect(self.give)
        self.end_button = QPushButton("End dosing early…")
        self.end_button.setToolTip("Fewer devices than planned (the patient declines the "
                                   "next one): observation starts from the last device")
        self.end_button.setMinimumHeight(int(self.fontMetrics().height() * 2))
        self.end_button.clicked.connect(self.end_early)
        self.message = message_label()
        self.message.hide()
        status = QVBoxLayout()
        status.setSpacing(0)
        status.addWidget(self.state_label)
        status.addWidget(self.delivered_label)
        row = QHBoxLayout()
        row.setContentsMargins(8, 2, 8, 2)
        row.addLayout(status, 2)
        row.addSpacing(16)  # the state's words end where the time's caption starts
        row.addWidget(self.time_caption)
        row.addWidget(self.time)
        row.addWidget(self.reason_edit, 1)
        row.addWidget(self.give_button)
        row.addWidget(self.end_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addLayout(row)
        outer.addWidget(self.message)
        QWidget.setTabOrder(self.time_edit, self.reason_edit)
        QWidget.setTabOrder(self.reason_edit, self.give_button)
        QWidget.setTabOrder(self.give_button, self.end_button)

    # -- time -------------------------------------------------------------------------
    def given_at(self) -> datetime | None:
        """None means "now" (the service stamps it); otherwise the typed time."""
        return self.time.value()

    # -- showing ------------------------------------------------------------------------
    def set_session(self, session: TreatmentSession, _events: object = None) -> None:
        self._session = session
        try:
            self._dosing = self._ctx.services.nasal.dosing(self.session_id)
        except KappError:
            return  # unreadable for a moment; the next change retries
        self.refresh_delivery()

    @property
    def dosing(self) -> NasalDosing | None:
        return self._dosing

    @property
    def ended(self) -> bool:
        s = self._session
        return s is not None and s.status not in (e.SessionStatus.PLANNED,
                                                  e.SessionStatus.IN_PROGRESS)

    @property
    def state(self) -> str:
        """As the pump's: not started, running (devices going in), stopped (dosing over)."""
        dosing, s = self._dosing, self._session
        if s is None or dosing is None:
            return "not_started"
        if self.ended or dosing.complete:
            return "stopped"
        return "running" if dosing.given or s.actual_start is not None else "not_started"

    def refresh_delivery(self) -> NasalDosing | None:
        """The words, from the devices read at the last change and the clock (each second)."""
        dosing = self._dosing
        if dosing is None:
            return None
        now = self._ctx.clock.now()
        self.state_label.setText(status_text(dosing, now, self.ended))
        state = self.state
        given = given_text(dosing)
        if state == "stopped" and dosing.observe_until is not None:
            # Shown in the recovery panel once the bar gives way: observation counts from
            # the last device given.
            given += (f" · observe until {clock_text(dosing.observe_until)} at least "
                      f"({fmt(dosing.observation_min)} min after the last device)")
        self.delivered_label.setText(given)
        self.time.tick()
        editable = not self._read_only and state != "stopped"
        for widget in (self.time_caption, self.time, self.give_button):
            widget.setVisible(editable)
        self.end_button.setVisible(editable and state == "running")
        self.reason_edit.setVisible(editable and self._needs_reason)
        if dosing.given_count == 0:
            self.give_button.setText("First device given ⏎")
        elif dosing.planned_count:
            self.give_button.setText(
                f"Device {min(dosing.given_count + 1, dosing.planned_count)} given ⏎")
        return dosing

    def tick(self) -> None:
        self.refresh_delivery()

    def set_read_only(self, read_only: bool) -> None:
        if read_only != self._read_only:
            self._read_only = read_only
            self.refresh_delivery()

    # -- acting -------------------------------------------------------------------------
    def give(self) -> bool:
        """Record one device given at the time shown."""
        self._clear_message()
        if self.state == "not_started":
            warnings = self.start_warnings()
            if warnings and not NasalPanel.confirm(
                    self, "Give the first device?",
                    "Before you start:\n\n• " + "\n• ".join(warnings) + "\n\nGo ahead?"):
                return False
        reason = self.reason_edit.text().strip() if self._needs_reason else ""
        try:
            self._ctx.services.nasal.record_device(
                actor=self._ctx.actor(), session_id=self.session_id,
                given_at=self.given_at(), early_reason=reason or None)
        except ValidationError as refused:
            for error in refused.errors:
                early = error.field == "given_at" and "or a reason" in (error.allowed or "")
                if early:
                    self._needs_reason = True
                    self.reason_edit.show()
                    self._say(error.message, self.reason_edit)
                else:
                    self._say(error.message, self.time_edit if error.field == "given_at"
                              else None)
            return False
        except KappError as problem:
            return self._say(not_saved(problem))
        self.reason_edit.clear()
        self.reason_edit.hide()
        self._needs_reason = False
        self.time.reset()
        self.changed.emit()
        return True

    def end_early(self) -> bool:
        dosing = self._dosing
        if dosing is None:
            return False
        self._clear_message()
        reason = NasalPanel.ask_reason(
            self, "End dosing early?",
            f"{given_text(dosing)}.\n\nNo more devices can be recorded after this, and the "
            "observation counts from the last device given. Why does dosing end here?")
        if reason is None:
            return False
        try:
            self._ctx.services.nasal.end_dosing(actor=self._ctx.actor(),
                                                session_id=self.session_id, reason=reason)
        except KappError as problem:  # ValidationError included: one message line
            errors = getattr(problem, "errors", None)
            text = "; ".join(x.message for x in errors) if errors else not_saved(problem)
            return self._say(text)
        self.changed.emit()
        return True

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                self.give_button.isVisible():
            event.accept()
            self.give()
            return
        super().keyPressEvent(event)

    def _clear_message(self) -> None:
        self.message.clear()
        self.message.hide()
        self.time_edit.setStyleSheet("")
        self.reason_edit.setStyleSheet("")

    def _say(self, text: str, widget: QWidget | None = None) -> bool:
        return say_problem(self.message, text, widget)


def _reason(parent: QWidget, title: str, text: str) -> str | None:
    value, ok = QInputDialog.getText(parent, title, text)
    return value if ok else None


NasalPanel.ask_reason = staticmethod(_reason)  # type: ignore[assignment]
NasalPanel.confirm = staticmethod(ask_yes_no)  # type: ignore[assignment]
