"""Discharge: the checklist, the latest vitals against baseline, the ready-to-leave and
left times with the total monitoring minutes, and for esketamine the REMS monitoring form.

The REMS form is filled from the session record (date, dose, lot, minutes, blood
pressures, pulse oximetry, MOAA/S, dissociation reports, side effects); its yes/no
answers are the nurse's, each suggested from the record and committed when chosen. They
are kept in the discharge checklist under ``RemsCheck`` keys (True yes, False no).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import TreatmentSession, VitalsReading
from kapp.domain.errors import KappError, StorageUnavailable
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import VitalsInput, discharge_problems, fmt
from kapp.services.changes import Change
from kapp.services.reading import SessionEntries
from kapp.ui.background import action_problem
from kapp.ui.context import AppContext
from kapp.ui.qt_compat import run_modal
from kapp.ui.session_steps._forms import (
    ICONS,
    Banner,
    ChecklistBox,
    ChoiceRow,
    ErrorLabel,
    ErrorRouter,
    day_and_time,
    hhmm,
    make_default,
    not_opened,
    words,
)
from kapp.ui.session_steps.pre_session import session_heading
from kapp.ui.time_field import TimeField

DISCHARGE_CHECK_WORDS = {
    e.DischargeCheck.VITALS_NEAR_BASELINE: "&Vitals near baseline",
    e.DischargeCheck.ALERT_AND_ORIENTED: "&Alert and oriented",
    e.DischargeCheck.NAUSEA_CONTROLLED: "&Nausea controlled",
    e.DischargeCheck.WALKING_STEADILY: "&Walking steadily",
    e.DischargeCheck.ESCORT_PRESENT: "Responsible adult &escort present",
    e.DischargeCheck.INSTRUCTIONS_GIVEN: "&Instructions given (no driving until the next day)",
}

REMS_QUESTIONS = {
    e.RemsCheck.VITALS_ACCEPTABLE_BEFORE_DOSING: "Vital signs acceptable before dosing?",
    e.RemsCheck.VITALS_ACCEPTABLE_BEFORE_DISCHARGE: "Vital signs acceptable before discharge?",
    e.RemsCheck.SEDATION: "Did the patient experience sedation?",
    e.RemsCheck.DISSOCIATION: "Did the patient experience dissociation?",
    e.RemsCheck.RESPIRATORY_DEPRESSION: "Did the patient experience respiratory depression?",
    e.RemsCheck.PULSE_OXIMETRY_MONITORED: "Was pulse oximetry monitored?",
    e.RemsCheck.SERIOUS_ADVERSE_EVENT: "Any serious adverse event?",
}

PEAK_WINDOW = timedelta(minutes=15)  # how far from minute 40 a reading still counts


def as_input(reading: VitalsReading) -> VitalsInput:
    return VitalsInput(hr=reading.hr, systolic=reading.systolic, diastolic=reading.diastolic,
                       spo2=reading.spo2, rr=reading.rr)


def bp_words(reading: VitalsReading | None, start: datetime | None = None) -> str:
    if reading is None:
        return f"{ICONS['warn']} none recorded"
    bp = (f"{fmt(reading.systolic)}/{fmt(reading.diastolic)} mmHg"
          if reading.systolic is not None and reading.diastolic is not None else "BP not taken")
    when = hhmm(reading.taken_at)
    if start is not None and not reading.predose:
        when += f", minute {int((reading.taken_at - start).total_seconds() // 60)}"
    return f"{bp} at {when}"


@dataclass(frozen=True)
class Findings:
    """What the record says, for the discharge screen and the REMS form."""

    baseline: VitalsReading | None
    latest: VitalsReading | None
    at_40: VitalsReading | None
    problems: list[str]
    spo2_readings: int
    lowest_spo2: float | None
    predose_warnings: list[str]
    dissociation: str
    respiratory: str
    serious: list[str]
    sedation: str
    sedated: bool | None
    dissociated: bool | None
    respiratory_found: bool
    nasal_given: str | None = None  # the devices recorded one by one, in words

    @classmethod
    def of(cls, s: TreatmentSession, entries: SessionEntries, protocol: Protocol,
           peak_min: float) -> Findings:
        live = [v for v in entries.vitals if not v.entry.is_struck]
        pre = [v for v in live if v.predose]
        after = [v for v in live if not v.predose]
        baseline = pre[-1] if pre else None
        latest = after[-1] if after else None
        at_40 = None
        if s.actual_start is not None and after:
            target = s.actual_start + timedelta(minutes=peak_min)
            near = min(after, key=lambda v: abs(v.taken_at - target))
            at_40 = near if abs(near.taken_at - target) <= PEAK_WINDOW else None
        if baseline is None or latest is None:
            problems = ["No vitals before dosing to compare with" if baseline is None
                        else "No vitals since dosing started"]
        else:
            problems = discharge_problems(as_input(latest), as_input(baseline), protocol)
        spo2 = [v.spo2 for v in after if v.spo2 is not None]
        alerts = [a for a in entries.alerts if not a.entry.is_struck]
        predose_ids = {v.id for v in pre}
        warnings = [a.message for a in alerts if a.vitals_id in predose_ids]
        effects = [x for x in entries.side_effects if not x.entry.is_struck]
        reports = [r for r in entries.dissociation if not r.entry.is_struck]
        cadss = [r for r in entries.instruments if not r.entry.is_struck
                 and r.instrument.startswith("cadss")]
        parts = []
        if reports:
            parts.append(f"{len(reports)} report(s), highest intensity "
                         f"{max(r.intensity for r in reports)}/10")
        parts += [f"{r.instrument.upper()} total {r.total:g}" for r in cadss]
        resp_effects = [x for x in effects if x.kind is e.SideEffectKind.RESPIRATORY_DEPRESSION]
        resp_alerts = [a for a in alerts if a.rule.startswith(("rr", "spo2"))
                       and a.vitals_id not in predose_ids]
        respiratory = []
        if resp_effects:
            respiratory.append("respiratory depression logged as a side effect")
        respiratory += [a.message for a in resp_alerts]
        sedated = [x for x in effects if x.kind is e.SideEffectKind.SEDATION]
        sedation = ("MOAA/S not recorded" if s.moaas is None
                    else f"lowest MOAA/S {s.moaas} (5 = responds readily)")
        if sedated:
            sedation += "; sedation logged as a side effect"
        devices = [x for x in entries.nasal_devices if not x.entry.is_struck]
        nasal_given = None
        if devices:
            total = sum(x.device_mg for x in devices)
            nasal_given = (f"{total:g} mg given ({len(devices)} device"
                           f"{'s' if len(devices) != 1 else ''}, as recorded)")
            if s.dose_mg is not None and total != s.dose_mg:
                nasal_given += f" of {s.dose_mg:g} mg planned"
        return cls(
            baseline=baseline, latest=latest, at_40=at_40, problems=problems,
            spo2_readings=len(spo2), lowest_spo2=min(spo2) if spo2 else None,
            predose_warnings=warnings,
            dissociation="; ".join(parts) or "no dissociation reports or CADSS",
            respiratory="; ".join(respiratory) or "none logged (no low RR or SpO2 alerts)",
            serious=[f"{words(x.kind.value)}{': ' + x.description if x.description else ''}"
                     f" at {hhmm(x.onset_at)}" for x in effects if x.serious],
            sedation=sedation,
            sedated=(True if sedated or (s.moaas is not None and s.moaas < 5)
                     else False if s.moaas is not None else None),
            dissociated=(True if any(r.intensity > 0 for r in reports)
                         or any(r.total > 0 for r in cadss)
                         else False if reports or cadss else None),
            respiratory_found=bool(respiratory),
            nasal_given=nasal_given,
        )

    def suggestion(self, check: e.RemsCheck) -> tuple[bool | None, str]:
        """What the record suggests for a REMS question (None: no suggestion), and why."""
        if check is e.RemsCheck.VITALS_ACCEPTABLE_BEFORE_DOSING:
            if self.baseline is None:
                return None, "no vitals before dosing"
            if self.predose_warnings:
                return None, "before dosing: " + "; ".join(self.predose_warnings)
            return True, f"before dosing {bp_words(self.baseline)}, no warning"
        if check is e.RemsCheck.VITALS_ACCEPTABLE_BEFORE_DISCHARGE:
            if self.problems:
                return False, "; ".join(self.problems)
            return True, "latest vitals near baseline"
        if check is e.RemsCheck.SEDATION:
            return self.sedated, self.sedation
        if check is e.RemsCheck.DISSOCIATION:
            return self.dissociated, self.dissociation
        if check is e.RemsCheck.RESPIRATORY_DEPRESSION:
            return (True if self.respiratory_found else False if self.spo2_readings
                    else None), self.respiratory
        if check is e.RemsCheck.PULSE_OXIMETRY_MONITORED:
            if not self.spo2_readings:
                return False, "no SpO2 recorded after dosing"
            return True, (f"{self.spo2_readings} SpO2 reading(s) after dosing, lowest "
                          f"{fmt(self.lowest_spo2 or 0)} %")
        if self.serious:
            return True, "marked serious: " + "; ".join(self.serious)
        return False, "no side effect marked serious"


class DischargeDialog(QDialog):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.saved_something = False
        self.setWindowTitle("Discharge")
        session = ctx.services.sessions.get(session_id)
        self.esketamine = session.drug is e.Drug.ESKETAMINE
        self.resize(1280 if self.esketamine else 820, 720 if self.esketamine else 600)
        patient = ctx.services.patients.get(session.patient_id)
        layout = QVBoxLayout(self)
        layout.addWidget(session_heading("Discharge", patient, session))
        self.banner = Banner("danger")
        layout.addWidget(self.banner)

        columns = QHBoxLayout()
        left = QVBoxLayout()
        self.vitals_banner = Banner("warn")
        left.addWidget(self.vitals_banner)
        self.checklist = ChecklistBox(ctx, session_id, "discharge", DISCHARGE_CHECK_WORDS,
                                      "Discharge checklist (each tick is saved at once)",
                                      self.banner)
        self.checklist.saved.connect(self._saved)
        left.addWidget(self.checklist)
        left.addWidget(self._times_box())
        left.addStretch(1)
        columns.addLayout(left, 1)
        if self.esketamine:
            columns.addWidget(self._rems_box(), 1)
        body = QWidget()
        body.setLayout(columns)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        layout.addWidget(scroll, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        make_default(self, None)
        ctx.changes.changed.connect(self._on_changes)
        self.reload()
        first = self.checklist.boxes[e.DischargeCheck.VITALS_NEAR_BASELINE.value]
        first.setFocus()

    # -- times ----------------------------------------------------------------------------
    def _times_box(self) -> QGroupBox:
        box = QGroupBox("Times")
        grid = QGridLayout(box)
        self.times_banner = Banner("danger")
        self.time_errors = ErrorRouter(self.times_banner)
        self.ready_time = TimeField(self.ctx)
        self.left_time = TimeField(self.ctx)
        self.ready_button = QPushButton("Mark &ready to leave")
        self.left_button = QPushButton("Mark &left")
        self.ready_state = QLabel()
        self.left_state = QLabel()
        self.ready_button.clicked.connect(lambda: self._mark("ready_to_leave_at"))
        self.left_button.clicked.connect(lambda: self._mark("left_at"))
        for row, (label, field, button, state, name) in enumerate((
                ("Ready to leave", self.ready_time, self.ready_button, self.ready_state,
                 "ready_to_leave_at"),
                ("Left", self.left_time, self.left_button, self.left_state, "left_at"))):
            error = self.time_errors.add(name, ErrorLabel(), field.edit)
            grid.addWidget(QLabel(label), row * 2, 0)
            grid.addWidget(field, row * 2, 1)
            grid.addWidget(button, row * 2, 2)
            grid.addWidget(state, row * 2, 3)
            grid.addWidget(error, row * 2 + 1, 1, 1, 3)
        self.minutes = QLabel()
        self.minutes.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.minutes.setWordWrap(True)
        grid.addWidget(self.minutes, 4, 0, 1, 4)
        grid.addWidget(self.times_banner, 5, 0, 1, 4)
        grid.setColumnStretch(3, 1)
        return box

    def _mark(self, column: str) -> None:
        sv = self.ctx.services.sessions
        field = self.ready_time if column == "ready_to_leave_at" else self.left_time
        action = sv.mark_ready_to_leave if column == "ready_to_leave_at" else sv.mark_left
        ok, _ = self.time_errors.call(lambda: action(
            actor=self.ctx.actor(), session_id=self.session_id, at=field.value()))
        if ok:
            self._saved()
            self.reload()

    # -- REMS -----------------------------------------------------------------------------
    def _rems_box(self) -> QGroupBox:
        box = QGroupBox("Esketamine REMS monitoring form")
        outer = QVBoxLayout(box)
        facts = QFormLayout()
        self.rems_facts: dict[str, QLabel] = {}
        for key, label in (("date", "Treatment date"), ("dose", "Dose"), ("lot", "Lot number"),
                           ("minutes", "Total monitoring time"),
                           ("bp_pre", "BP before dosing"), ("bp_40", "BP at about 40 min"),
                           ("bp_discharge", "BP before discharge")):
            value = QLabel()
            value.setWordWrap(True)
            facts.addRow(label, value)
            self.rems_facts[key] = value
        outer.addLayout(facts)
        note = QLabel("Answer each question; the record's suggestion is shown under it. "
                      "Each answer is saved at once.")
        note.setWordWrap(True)
        outer.addWidget(note)
        grid = QGridLayout()
        self.rems_rows: dict[str, ChoiceRow] = {}
        self.rems_hints: dict[str, QLabel] = {}
        for row, (check, question) in enumerate(REMS_QUESTIONS.items()):
            choice = ChoiceRow(((True, "Yes"), (False, "No")))
            choice.chosen.connect(lambda value, key=check.value: self._answer(key, value))
            hint = QLabel()
            hint.setWordWrap(True)
            hint.setStyleSheet("font-style: italic;")
            grid.addWidget(QLabel(f"<b>{question}</b>"), row * 2, 0)
            grid.addWidget(choice, row * 2, 1)
            grid.addWidget(hint, row * 2 + 1, 0, 1, 2)
            self.rems_rows[check.value] = choice
            self.rems_hints[check.value] = hint
        grid.setColumnStretch(0, 1)
        outer.addLayout(grid)
        self.rems_status = QLabel()
        self.rems_status.setWordWrap(True)
        outer.addWidget(self.rems_status)
        outer.addStretch(1)
        return box

    def _answer(self, key: str, value: bool) -> None:
        try:
            self.ctx.services.sessions.set_checklist(
                actor=self.ctx.actor(), session_id=self.session_id, which="rems",
                items={key: value})
        except StorageUnavailable as exc:  # e.g. the server is away: reading fails too
            stored = self.session.discharge_checklist
            self.rems_rows[key].set_value(stored.get(key))
            self.banner.show_message(action_problem(
                exc, "This answer was NOT saved; it is back as it was."), "danger")
            return
        except KappError as exc:
            self.banner.show_message(str(exc), "danger")
            self.reload()
            return
        self.banner.clear()
        self._saved()
        self.reload()

    # -- state ----------------------------------------------------------------------------
    def _saved(self) -> None:
        self.saved_something = True

    def _on_changes(self, changes: frozenset[Change]) -> None:
        if changes & {Change.SESSIONS, Change.ENTRIES, Change.ALERTS}:
            self.reload()

    def reload(self) -> None:
        try:
            s = self.ctx.services.sessions.get(self.session_id)
            entries = self.ctx.services.records.session_entries(self.session_id)
            protocol = self.ctx.services.protocol.current()
        except KappError as exc:
            self.banner.show_message(str(exc), "danger")
            return
        self.session = s
        found = Findings.of(s, entries, protocol, protocol.peak_scale_prompt_min)
        self.findings = found
        if found.problems:
            self.vitals_banner.show_message(
                "Discharge criteria not met yet:\n" + "\n".join(f"• {p}" for p in found.problems),
                "warn")
        else:
            latest = found.latest
            assert latest is not None
            self.vitals_banner.show_message(
                f"Latest vitals at {hhmm(latest.taken_at)} are near baseline: "
                f"{bp_words(latest)}, HR {fmt(latest.hr or 0)} /min, "
                f"SpO2 {fmt(latest.spo2 or 0)} %.", "ok")
        self.checklist.load(s.discharge_checklist)
        self._show_times(s, protocol, devices=found.nasal_given is not None)
        if self.esketamine:
            self._show_rems(s, found)

    def _show_times(self, s: TreatmentSession, protocol: Protocol, *,
                    devices: bool = False) -> None:
        """``devices``: nasal devices were recorded one by one."""
        for field, state, moment in ((self.ready_time, self.ready_state, s.ready_to_leave_at),
                                     (self.left_time, self.left_state, s.left_at)):
            state.setText(f"{ICONS['ok']} recorded {hhmm(moment)}" if moment else "not yet")
            field.setVisible(moment is None or s.left_at is None)
        if s.ready_to_leave_at is not None and s.left_at is None:
            self.ready_button.setText("Change &ready to leave")
        ended = s.status in (e.SessionStatus.RECOVERY, e.SessionStatus.COMPLETED)
        for widget in (self.ready_button, self.ready_time):
            widget.setEnabled(ended and s.left_at is None)
        for widget in (self.left_button, self.left_time):
            widget.setEnabled(ended and s.left_at is None)
        floor = (protocol.esketamine_min_observation_min if self.esketamine
                 else None)
        if s.actual_start is None:
            text = "Total monitoring: dosing has not started."
        elif s.left_at is not None:
            minutes = s.monitoring_minutes or 0
            text = (f"Total monitoring: {minutes:.0f} min (dosing started "
                    f"{hhmm(s.actual_start)}, left {hhmm(s.left_at)})")
        else:
            so_far = (self.ctx.clock.now() - s.actual_start).total_seconds() / 60
            text = (f"Monitoring so far: {so_far:.0f} min since dosing started at "
                    f"{hhmm(s.actual_start)}")
        nasal = s.route is e.Route.INTRANASAL and devices
        if not ended and s.actual_start is not None:
            text += (". End the dosing before discharging." if nasal
                     else ". Stop the infusion before discharging.")
        last = s.infusion_ended_at
        if floor is not None and nasal and last is not None and s.left_at is None:
            # Counted from the last device, as the screen's recovery panel counts (the
            # stricter reading of the label's "2 hours after administration"; the REMS
            # form's total, from the first device, is then met too).
            until = last + timedelta(minutes=floor)
            to_go = (until - self.ctx.clock.now()).total_seconds() / 60
            text += (f"\n{ICONS['warn' if to_go > 0 else 'ok']} Esketamine: observe until "
                     f"{hhmm(until)}, {floor:g} min after the last device ({hhmm(last)})"
                     + (f": {to_go:.0f} min to go." if to_go > 0 else "."))
        elif floor is not None and s.actual_start is not None:
            minutes = s.monitoring_minutes
            if minutes is None:
                minutes = (self.ctx.clock.now() - s.actual_start).total_seconds() / 60
            if minutes < floor:
                text += (f"\n{ICONS['warn']} Esketamine needs at least {floor:g} min of "
                         f"monitoring: {floor - minutes:.0f} min to go.")
            else:
                text += f"\n{ICONS['ok']} At least {floor:g} min (esketamine)."
        self.minutes.setText(text)

    def _show_rems(self, s: TreatmentSession, found: Findings) -> None:
        facts = self.rems_facts
        facts["date"].setText(day_and_time(s.actual_start)[:10] if s.actual_start
                              else f"{ICONS['warn']} not started")
        facts["dose"].setText(found.nasal_given or (
            f"{s.dose_mg:g} mg" if s.dose_mg is not None
            else f"{ICONS['warn']} no dose recorded"))
        facts["lot"].setText(s.lot_number or f"{ICONS['warn']} not recorded (pre-session)")
        minutes = s.monitoring_minutes
        facts["minutes"].setText(f"{minutes:.0f} min" if minutes is not None
                                 else "when the patient has left")
        facts["bp_pre"].setText(bp_words(found.baseline))
        facts["bp_40"].setText(bp_words(found.at_40, s.actual_start))
        facts["bp_discharge"].setText(bp_words(found.latest, s.actual_start))
        answered = 0
        for key, row in self.rems_rows.items():
            check = e.RemsCheck(key)
            value = s.discharge_checklist.get(key)
            row.set_value(value if key in s.discharge_checklist else None)
            answered += key in s.discharge_checklist
            suggested, why = found.suggestion(check)
            hint = f"Record: {why}"
            if suggested is not None:
                hint += f" → suggests {'yes' if suggested else 'no'}"
            self.rems_hints[key].setText(hint)
        total = len(self.rems_rows)
        mark = ICONS["ok"] if answered == total else ICONS["warn"]
        self.rems_status.setText(f"{mark} {answered} of {total} questions answered")


def open_discharge(
        ctx: AppContext,
        session_id: uuid.UUID,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    try:
        dialog = DischargeDialog(ctx, session_id, parent)
    except KappError as exc:
        return not_opened(parent, "The discharge form", exc)
    return run_modal(dialog, lambda d: d.saved_something)

