"""Pump controls: start, pause, resume, rate change (with a reason), stop; what has been
delivered so far, recomputed from the pump's events every second."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.dosing import Delivery, PumpEvent, delivered_by_pump
from kapp.domain.entities import InfusionEvent, TreatmentSession
from kapp.domain.errors import KappError, ValidationError
from kapp.domain.vitals import fmt, parse_number
from kapp.ui.context import AppContext
from kapp.ui.session.asking import ask_yes_no, say_problem
from kapp.ui.session.timing import planned_rate_ml_per_h
from kapp.ui.session.vitals_entry import message_label, not_saved

STATE_WORDS = {
    "not_started": "Pump: not started",
    "running": "▶ Pump RUNNING",
    "paused": "❚❚ Pump PAUSED",
    "stopped": "■ Pump stopped",
}


def amount(value: float, digits: int = 1) -> str:
    return fmt(round(value, digits))


class PumpPanel(QFrame):
    """What the nurse does to the pump; each button press is one committed pump event."""

    changed = Signal()
    # Checks before a start or a stop; tests replace it so no dialog blocks them.
    confirm: Callable[[QWidget, str, str], bool]

    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._ctx = ctx
        self.session_id = session_id
        self._session: TreatmentSession | None = None
        self._events: list[PumpEvent] | None = None  # standing, in time order
        self._read_only = False
        self.start_warnings: Callable[[], list[str]] = list
        big = self.font()
        big.setBold(True)
        self.state_label = QLabel(STATE_WORDS["not_started"])
        self.state_label.setFont(big)
        self.delivered_label = QLabel()
        self.delivered_label.setFont(big)
        self.delivered_label.setAccessibleName("Delivered so far")
        self.rate_edit = QLineEdit()
        self.rate_edit.setAccessibleName("Rate mL/h")
        self.rate_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.rate_edit.setMaximumWidth(self.fontMetrics().averageCharWidth() * 10)
        self.rate_edit.returnPressed.connect(self._rate_return)
        self.reason_edit = QLineEdit()
        self.reason_edit.setAccessibleName("Reason for the rate change")
        self.reason_edit.setPlaceholderText("reason for a rate change")
        self.reason_edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 16)
        self.reason_edit.returnPressed.connect(self.change_rate)
        icon = self.style().standardIcon
        pixmap = QStyle.StandardPixmap
        self.start_button = QPushButton(icon(pixmap.SP_MediaPlay), "Start infusion")
        self.pause_button = QPushButton(icon(pixmap.SP_MediaPause), "Pause")
        self.resume_button = QPushButton(icon(pixmap.SP_MediaPlay), "Resume")
        self.rate_button = QPushButton("Change rate")
        self.stop_button = QPushButton(icon(pixmap.SP_MediaStop), "Stop infusion")
        for button, slot in ((self.start_button, self.start), (self.pause_button, self.pause),
                             (self.resume_button, self.resume),
                             (self.rate_button, self.change_rate),
                             (self.stop_button, self.stop)):
            button.clicked.connect(slot)
            button.setMinimumHeight(int(self.fontMetrics().height() * 2))
        self.message = message_label()
        self.message.hide()
        self.rate_caption = rate_caption = QLabel("<b>Rate</b> mL/h")
        rate_caption.setBuddy(self.rate_edit)
        status = QVBoxLayout()
        status.setSpacing(0)
        status.addWidget(self.state_label)
        status.addWidget(self.delivered_label)
        row = QHBoxLayout()
        row.setContentsMargins(8, 2, 8, 2)
        row.addLayout(status, 2)
        row.addWidget(rate_caption)
        row.addWidget(self.rate_edit)
        row.addWidget(self.reason_edit, 1)
        for button in (self.start_button, self.pause_button, self.resume_button,
                       self.rate_button, self.stop_button):
            row.addWidget(button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addLayout(row)
        outer.addWidget(self.message)

    # -- showing ------------------------------------------------------------------------
    def set_session(self, session: TreatmentSession,
                    events: Sequence[InfusionEvent] | None = None) -> None:
        """``events``: the session's pump events as the screen read them with the session
        (struck-through ones included); the dose given is then added up from them at each
        second's tick instead of read again. Without them it is read."""
        first = self._session is None
        self._session = session
        self._events = None if events is None else [
            PumpEvent(x.kind, x.at, x.rate_ml_per_h) for x in sorted(
                events, key=lambda x: (x.at, x.entry.entered_at)) if not x.entry.is_struck]
        if first or session.status is e.SessionStatus.PLANNED:
            rate = planned_rate_ml_per_h(session)
            if rate is not None and not self.rate_edit.text():
                self.rate_edit.setText(amount(rate))
        self.refresh_delivery()

    def refresh_delivery(self) -> Delivery | None:
        session = self._session
        if session is None or not session.concentration_mg_per_ml:
            self.delivered_label.setText("")
            self._show_state("not_started" if session is None or session.actual_start is None
                             else "stopped", None)
            return None
        delivery = (self._ctx.services.sessions.delivery(self.session_id)
                    if self._events is None else
                    delivered_by_pump(self._events, session.concentration_mg_per_ml,
                                      self._ctx.clock.now()))
        if delivery.state == "not_started":
            rate = planned_rate_ml_per_h(session)
            self.delivered_label.setText(
                f"Planned {amount(session.dose_mg or 0)} mg · {amount(session.volume_ml or 0)} mL"
                + (f" at {amount(rate)} mL/h" if rate else ""))
        else:
            planned = f" of {amount(session.dose_mg)} mg planned" if session.dose_mg else ""
            self.delivered_label.setText(
                f"Given {amount(delivery.dose_mg, 2)} mg · {amount(delivery.volume_ml)} mL"
                f"{planned}")
        self._show_state(delivery.state, delivery.current_rate_ml_per_h)
        reached = (delivery.state == "running" and session.volume_ml is not None
                   and delivery.volume_ml >= session.volume_ml - 0.05)
        if reached:
            self.state_label.setText("⚠ PLANNED DOSE GIVEN — stop the pump")
        self.state_label.setStyleSheet("color: #ffffff; background: #b71c1c; padding: 2px;"
                                       if reached else "")
        return delivery

    def _show_state(self, state: str, rate: float | None) -> None:
        text = STATE_WORDS[state]
        if state == "running" and rate is not None:
            text += f" at {amount(rate)} mL/h"
        self.state_label.setText(text)
        self.start_button.setVisible(state == "not_started")
        self.pause_button.setVisible(state == "running")
        self.rate_button.setVisible(state == "running")
        self.reason_edit.setVisible(state == "running")
        self.resume_button.setVisible(state == "paused")
        self.stop_button.setVisible(state in ("running", "paused"))
        self.rate_edit.setVisible(state != "stopped" and not self._read_only)
        self.rate_caption.setVisible(state != "stopped" and not self._read_only)
        if self._read_only:
            for widget in (self.start_button, self.pause_button, self.resume_button,
                           self.rate_button, self.stop_button, self.reason_edit):
                widget.hide()
        self._state = state

    def set_read_only(self, read_only: bool) -> None:
        """A signed or ended session: what was delivered, no controls."""
        if read_only != self._read_only:
            self._read_only = read_only
            self._show_state(self.state, None)

    @property
    def state(self) -> str:
        return getattr(self, "_state", "not_started")

    # -- acting -------------------------------------------------------------------------
    def start(self) -> bool:
        warnings = self.start_warnings()
        if warnings and not PumpPanel.confirm(
                self, "Start the infusion?",
                "Before you start:\n\n• " + "\n• ".join(warnings) + "\n\nStart anyway?"):
            return False
        return self._record(e.InfusionEventKind.START, with_rate=True)

    def pause(self) -> bool:
        return self._record(e.InfusionEventKind.PAUSE)

    def resume(self) -> bool:
        return self._record(e.InfusionEventKind.RESUME, with_rate=True)

    def change_rate(self) -> bool:
        return self._record(e.InfusionEventKind.RATE_CHANGE, with_rate=True,
                            reason=self.reason_edit.text())

    def stop(self) -> bool:
        delivered = self.delivered_label.text() or "nothing recorded"
        if not PumpPanel.confirm(self, "Stop the infusion?",
                                 f"{delivered}.\n\nAfter the stop the pump cannot be restarted "
                                 "in this session, and recovery begins. Stop now?"):
            return False
        return self._record(e.InfusionEventKind.STOP)

    def _rate_return(self) -> None:
        {"not_started": self.start, "paused": self.resume,
         "running": self.change_rate}.get(self.state, lambda: False)()

    def _record(self, kind: e.InfusionEventKind, *, with_rate: bool = False,
                reason: str | None = None) -> bool:
        self._clear_message()
        rate = None
        if with_rate:
            try:
                rate = parse_number(self.rate_edit.text())
            except ValueError as problem:
                return self._say(f"Rate: {problem}", self.rate_edit)
            if rate is None:
                return self._say("Enter the pump rate in mL/h", self.rate_edit)
        try:
            self._ctx.services.sessions.record_pump_event(
                actor=self._ctx.actor(), session_id=self.session_id, kind=kind,
                rate_ml_per_h=rate, reason=reason or None)
        except ValidationError as refused:
            for error in refused.errors:
                widget = {"rate_ml_per_h": self.rate_edit,
                          "reason": self.reason_edit}.get(error.field)
                self._say(error.message, widget)
            return False
        except KappError as problem:
            return self._say(not_saved(problem))
        self.reason_edit.clear()
        self.changed.emit()
        return True

    def _clear_message(self) -> None:
        self.message.clear()
        self.message.hide()
        self.rate_edit.setStyleSheet("")
        self.reason_edit.setStyleSheet("")

    def _say(self, text: str, widget: QWidget | None = None) -> bool:
        return say_problem(self.message, text, widget)


PumpPanel.confirm = staticmethod(ask_yes_no)  # type: ignore[assignment]
