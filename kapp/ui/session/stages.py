"""The header, and the parts of the screen that belong to one stage of the session:
before the infusion (checklist, baseline) and after it (recovery, discharge, signature)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import Addendum, Alert, Patient, TreatmentSession, VitalsReading
from kapp.domain.vitals import fmt
from kapp.ui.session.alerts import AMBER, BLUE, GREEN, RED
from kapp.ui.session.dissociation import ElidedLabel
from kapp.ui.session.models import clock_text
from kapp.ui.session.timeline import vitals_text, words
from kapp.ui.session.timing import (
    VitalsDue,
    countdown_text,
    minutes_since,
    since_text,
    x_axis_words,
)

STATUS_WORDS = {
    e.SessionStatus.PLANNED: ("PLANNED", BLUE),
    e.SessionStatus.IN_PROGRESS: ("▶ INFUSING", GREEN),
    e.SessionStatus.RECOVERY: ("RECOVERY", BLUE),
    e.SessionStatus.COMPLETED: ("COMPLETED", BLUE),
    e.SessionStatus.ABORTED: ("ABORTED", RED),
}


def dose_text(s: TreatmentSession) -> str:
    """The plan as the pump is set: drug/route, mg, mg/kg, mL, rate, duration."""
    parts = [f"{s.drug.value.capitalize()} {s.route.value.upper()}"]
    if s.dose_mg is not None:
        dose = f"{fmt(s.dose_mg)} mg"
        if s.dose_mg_per_kg is not None and s.weight_kg is not None:
            dose += f" ({fmt(s.dose_mg_per_kg)} mg/kg × {fmt(s.weight_kg)} kg)"
        parts.append(dose)
    if s.volume_ml is not None and s.concentration_mg_per_ml:
        parts.append(f"{fmt(s.volume_ml)} mL at {fmt(s.concentration_mg_per_ml)} mg/mL")
    if s.volume_ml and s.duration_min:
        rate = s.volume_ml / (s.duration_min / 60)
        parts.append(f"{fmt(round(rate, 1))} mL/h over {fmt(s.duration_min)} min")
    return " · ".join(parts)


class Badge(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("badge")
        self.setContentsMargins(8, 2, 8, 2)
        font = self.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.setFont(font)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def show_words(self, text: str, colours: tuple[str, str] | None) -> None:
        self.setText(text)
        if colours is None:
            self.setStyleSheet("")
        else:
            self.setStyleSheet(f"QLabel#badge {{ background: {colours[0]}; color: {colours[1]};"
                               " border-radius: 4px; }")
        self.setVisible(bool(text))


class SessionHeader(QFrame):
    """Who, what dose, which stage; the clock, minutes since start, the next vitals due."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.patient_label = QLabel()
        self.patient_label.setTextFormat(Qt.TextFormat.RichText)
        self.dose_label = QLabel()
        self.dose_label.setWordWrap(True)
        self.status_badge = Badge()
        huge = self.font()
        huge.setPointSizeF(huge.pointSizeF() * 1.45)
        huge.setBold(True)
        self.clock_label = QLabel()
        self.clock_label.setFont(huge)
        self.clock_label.setAccessibleName("Clock")
        self.since_label = QLabel()
        self.since_label.setFont(huge)
        self.since_label.setAccessibleName("Minutes since the infusion started")
        self.countdown = Badge()
        self.countdown.setAccessibleName("Next vitals due")
        left = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(self.patient_label)
        top.addWidget(self.status_badge)
        top.addStretch(1)
        left.addLayout(top)
        left.addWidget(self.dose_label)
        right = QGridLayout()
        right.setSpacing(2)
        right.addWidget(self.clock_label, 0, 0, Qt.AlignmentFlag.AlignRight)
        right.addWidget(self.since_label, 0, 1, Qt.AlignmentFlag.AlignRight)
        right.addWidget(self.countdown, 1, 0, 1, 2, Qt.AlignmentFlag.AlignRight)
        right.setHorizontalSpacing(18)
        left.setSpacing(2)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.addLayout(left, 1)
        row.addLayout(right)

    def show_session(self, session: TreatmentSession, patient: Patient) -> None:
        name = html.escape(patient.display_name)
        self.patient_label.setText(
            f"<span style='font-size:x-large'><b>{name}</b></span>&nbsp;&nbsp;"
            f"MRN {html.escape(patient.mrn)} · session {session.number_in_course}")
        self.dose_label.setText(dose_text(session))
        text, colours = STATUS_WORDS[session.status]
        if session.status is e.SessionStatus.IN_PROGRESS and \
                session.route is e.Route.INTRANASAL:
            text = "▶ DOSING (nasal)"
        if session.is_signed:
            text, colours = "SIGNED (locked)", BLUE
        self.status_badge.show_words(text, colours)

    def tick(self, session: TreatmentSession, now: datetime, due: VitalsDue | None) -> None:
        self.clock_label.setText(clock_text(now))
        self.since_label.setText(since_text(session, minutes_since(session.actual_start, now)))
        name = x_axis_words(session)  # the chart's x-axis says the same
        if self.since_label.accessibleName() != name:
            self.since_label.setAccessibleName(name)
        text, overdue = countdown_text(due, now)
        if overdue:
            self.countdown.show_words(f"⚠ {text}", RED)
        else:
            self.countdown.show_words(text, None)


class PrePanel(QGroupBox):
    """Before the infusion: the checklist (which items are done) and the baseline."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Before the infusion", parent)
        self.checklist_button = QPushButton("Pre-session checklist…")
        self.checklist_button.setMinimumHeight(int(self.fontMetrics().height() * 2))
        self.checklist_label = QLabel()
        self.checklist_label.setWordWrap(True)
        self.baseline_label = QLabel()
        self.baseline_label.setWordWrap(True)
        self.baseline_label.setObjectName("baseline")
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.addWidget(self.checklist_button, 0, 0)
        grid.addWidget(self.checklist_label, 0, 1)
        grid.addWidget(self.baseline_label, 1, 0, 1, 2)
        grid.setColumnStretch(1, 1)

    def show_session(self, session: TreatmentSession, vitals: Sequence[VitalsReading],
                     alerts: Sequence[Alert]) -> None:
        items = []
        for check in e.PreSessionCheck:
            done = bool(session.pre_checklist.get(check.value))
            items.append(f"{'☑' if done else '☐'} {words(check)}"
                         + ("" if done else " (to do)"))
        self.checklist_label.setText("   ".join(items))
        baseline = [v for v in vitals if v.predose and not v.entry.is_struck]
        if not baseline:
            self.baseline_label.setText("Baseline vitals: none yet — enter them in the vitals "
                                        "row below (judged against the pre-dose limits).")
            self.baseline_label.setStyleSheet("")
            return
        last = baseline[-1]
        findings = [a for a in alerts if a.vitals_id == last.id and not a.entry.is_struck]
        head = f"Baseline at {clock_text(last.taken_at)}: {vitals_text(last)}"
        if not findings:
            self.baseline_label.setText(f"✓ {head} — within the pre-dose limits")
            self.baseline_label.setStyleSheet("")
            return
        worst = e.AlertSeverity.HOLD if any(a.severity is e.AlertSeverity.HOLD
                                             for a in findings) else e.AlertSeverity.WARN
        word = "⚠ HOLD" if worst is e.AlertSeverity.HOLD else "⚠ WARNING"
        if any(a.is_open for a in findings):
            why = "see the banner above"  # the banner already says why, in full
        else:
            why = "; ".join(dict.fromkeys(a.message for a in findings))
        self.baseline_label.setText(f"{word}: {head} — {why}")
        colours = RED if worst is e.AlertSeverity.HOLD else AMBER
        self.baseline_label.setStyleSheet(
            f"QLabel#baseline {{ background: {colours[0]}; color: {colours[1]}; padding: 4px;"
            " border-radius: 4px; font-weight: bold; }")


def grouped(missing: Sequence[str]) -> str:
    """``discharge check: a; discharge check: b`` read as ``discharge checks: a, b``."""
    groups: dict[str, list[str]] = {}
    plain: list[str] = []
    for item in missing:
        head, sep, rest = item.partition(" check: ")
        if sep:
            groups.setdefault(f"{head} checks", []).append(rest)
        else:
            plain.append(item)
    return "; ".join(plain + [f"{head}: {', '.join(rest)}" for head, rest in groups.items()])


class ClosingPanel(QFrame):
    """After the stop: discharge, what is missing before signing, Sign…; once signed,
    the addenda and Add addendum…

    Two lines in recovery, beside its buttons: the infusion's times, then what is still
    needed before signing on one line (the whole list in its tooltip, item by item, and
    in the Discharge and Sign dialogs). On a 1366x768 laptop each line here is a line the
    side effects list below loses, and recovery is when the nurse records side effects
    and their resolution."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Recovery and sign-off")
        self.times_label = QLabel()
        self.times_label.setWordWrap(True)
        self.discharge_button = QPushButton("Discharge…")
        self.sign_button = QPushButton("Sign…")
        self.addendum_button = QPushButton("Add addendum…")
        # The paper copy for the chart and the referring doctor; the screen fills the menu.
        self.record_button = QToolButton()
        self.record_button.setText("Session record")
        self.record_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.record_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for button in (self.discharge_button, self.sign_button, self.addendum_button,
                       self.record_button):
            button.setMinimumHeight(int(self.fontMetrics().height() * 2))
        self.missing_label = ElidedLabel()
        self.missing_label.setAccessibleName("Missing before signing")
        self.addenda_label = QLabel()
        self.addenda_label.setWordWrap(True)
        self.addenda_label.setTextFormat(Qt.TextFormat.RichText)
        buttons = QHBoxLayout()
        buttons.addWidget(self.discharge_button)
        buttons.addWidget(self.sign_button)
        buttons.addWidget(self.addendum_button)
        buttons.addWidget(self.record_button)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 2, 8, 2)
        grid.setVerticalSpacing(0)
        grid.addWidget(self.times_label, 0, 0)
        grid.addWidget(self.missing_label, 1, 0)
        grid.addLayout(buttons, 0, 1, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.addenda_label, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)

    def show_session(self, session: TreatmentSession, missing: Sequence[str],
                     addenda: Sequence[Addendum], names: dict, given: str = "") -> None:
        times = []
        if session.infusion_ended_at is not None and session.actual_start is not None:
            ran = minutes_since(session.actual_start, session.infusion_ended_at) or 0
            what = "Nasal devices" if session.route is e.Route.INTRANASAL else "Infusion"
            times.append(f"■ {what} {clock_text(session.actual_start)}–"
                         f"{clock_text(session.infusion_ended_at)} ({int(ran)} min)")
        if given:
            times.append(given)
        if session.ready_to_leave_at is not None:
            times.append(f"ready to leave {clock_text(session.ready_to_leave_at)}")
        if session.left_at is not None:
            times.append(f"left {clock_text(session.left_at)}")
        if session.monitoring_minutes is not None:
            times.append(f"monitored {int(session.monitoring_minutes)} min in all")
        if session.is_signed and session.signed_at is not None:
            who = names.get(session.signed_by_id, "")
            times.append(f"signed {session.signed_at.astimezone():%Y-%m-%d %H:%M} {who}")
        self.times_label.setText(" · ".join(times))
        signed = session.is_signed
        self.discharge_button.setVisible(not signed and session.status in (
            e.SessionStatus.RECOVERY, e.SessionStatus.COMPLETED))
        self.sign_button.setVisible(not signed)
        self.addendum_button.setVisible(signed)
        if signed:
            self.missing_label.setText("")
        elif missing:
            # How many first: where the line is cut short, the nurse still knows how much
            # is left (the tooltip lists each).
            self.missing_label.setText(f"Before signing, still needed ({len(missing)}): "
                                       + grouped(missing))
            self.missing_label.setToolTip("Before signing, still needed:\n"
                                          + "\n".join(f"• {x}" for x in missing))
        else:
            self.missing_label.setText("✓ Nothing missing: ready to sign.")
        self.missing_label.setVisible(not signed)
        if addenda:
            rows = "".join(
                f"<li>{x.entry.entered_at.astimezone():%Y-%m-%d %H:%M} "
                f"{html.escape(names.get(x.entry.entered_by_id, ''))}: "
                f"{html.escape(x.text)}</li>" for x in addenda)
            self.addenda_label.setText(f"<b>Addenda</b><ul style='margin:0'>{rows}</ul>")
        else:
            self.addenda_label.setText("<i>No addenda.</i>" if signed else "")
        self.addenda_label.setVisible(signed or bool(addenda))
