"""Plan the next session, with the dose calculator.

Pre-filled from the patient's previous session. As the nurse types, the calculator shows
the dose in mg, the volume, the pump rate and the dose rate, from ``kapp.domain.dosing``.
A dose outside the protocol's range needs a reason and a second clinician; a weight that
looks typed in the wrong unit is questioned before anything is stored.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import dosing
from kapp.domain import enums as e
from kapp.domain.entities import TreatmentSession, User
from kapp.domain.errors import FieldError, KappError, ValidationError
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import fmt, parse_number
from kapp.services.sessions import DoseForm
from kapp.ui.context import AppContext
from kapp.ui.patient_tables import when_text
from kapp.ui.patient_widgets import (
    COURSE_WORDS,
    DRUG_WORDS,
    ROUTE_WORDS,
    Banner,
    FieldErrorLabel,
    FormErrors,
    Level,
    accent,
    fit_to_screen,
    icon_label,
    word,
)

VerifyClinician = Callable[[QWidget, User], bool]
"""Confirms that the chosen clinician is really verifying the dose, e.g. by asking for
their password. Returns False to refuse."""


def password_verifier(ctx: AppContext) -> VerifyClinician:
    """The second clinician types their own password at this keyboard; a wrong one counts
    towards their lockout like a failed sign-in."""

    def verify(parent: QWidget, clinician: User) -> bool:
        password, ok = QInputDialog.getText(
            parent, "Verify the dose",
            f"{clinician.full_name}, type your password to verify this dose:",
            QLineEdit.EchoMode.Password)
        return bool(ok and password) and ctx.services.users.verify_password(
            clinician.id, password, purpose="dose.verify")

    return verify


#: A weight this many times the previous visit's looks typed in the other unit
#: (1 kg = 2.2 lb). Arithmetic about units, not a clinical threshold.
UNIT_MIX_RATIO = (2.0, 2.45)
_WEIGHT_BASED = (e.Route.IV, e.Route.IM)
_NONE = "—"


class PlanSessionDialog(QDialog):
    def __init__(self, ctx: AppContext, patient_id: uuid.UUID, parent: QWidget | None = None,
                 *, verify_clinician: VerifyClinician | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        self.verify_clinician = verify_clinician or password_verifier(ctx)
        self.planned: TreatmentSession | None = None
        self.weight_confirmed_note: str | None = None
        services = ctx.services
        self.protocol: Protocol = services.protocol.current()
        self.overview = services.patient_view.overview(patient_id)
        self.clinicians = services.patient_view.clinicians()
        self.previous = services.sessions.previous_dose(patient_id)
        weighed = [r for r in self.overview.sessions if r.session.weight_kg is not None]
        self.previous_row = weighed[0] if weighed else None
        p = self.overview.patient
        self.setWindowTitle(f"Plan next session — {p.family_name}, {p.given_name} ({p.mrn})")
        self._build()
        self._prefill()
        for signal in (self.weight.textChanged, self.mg_per_kg.textChanged,
                       self.dose_mg.textChanged, self.concentration.textChanged,
                       self.duration.textChanged, self.weight_unit.currentIndexChanged,
                       self.route.currentIndexChanged, self.drug.currentIndexChanged):
            signal.connect(self.recalculate)
        self.recalculate()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = Banner()
        labels: dict[str, FieldErrorLabel] = {}
        self.course = QComboBox()
        for summary in self.overview.open_courses:
            c = summary.course
            self.course.addItem(f"{word(COURSE_WORDS, c.kind)}, started "
                                f"{c.started_on.isoformat()} — {summary.done} of "
                                f"{c.planned_sessions} done", c.id)
        self.drug = _combo(DRUG_WORDS)
        self.route = _combo(ROUTE_WORDS)
        self.weight = _number_field()
        self.weight_unit = QComboBox()
        self.weight_unit.addItem("kg", e.WeightUnit.KG.value)
        self.weight_unit.addItem("lb", e.WeightUnit.LB.value)
        self.weight_unit.setAccessibleName("Weight unit")
        self.weight_echo = QLabel()
        self.mg_per_kg = _number_field()
        self.dose_mg = _number_field()
        self.concentration = _number_field()
        self.duration = _number_field()
        self.planned_start = QDateTimeEdit()
        self.planned_start.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.planned_start.setCalendarPopup(True)
        self.prescriber = QComboBox()
        self.prescriber.addItem("Not chosen yet", None)
        for user in self.clinicians:
            self.prescriber.addItem(user.full_name, str(user.id))

        grid = QGridLayout()
        grid.setColumnStretch(3, 1)  # numbers stay next to their units; lists take the width
        rows: list[tuple[str, str, QWidget, QWidget | str]] = [
            ("course_id", "C&ourse", self.course, ""),
            ("drug", "&Drug", self.drug, ""),
            ("route", "&Route", self.route, ""),
            ("weight", "&Weight today", self.weight, self.weight_unit),
            ("mg_per_kg", "Dose per &kg", self.mg_per_kg, "mg/kg"),
            ("dose_mg", "Dose", self.dose_mg, "mg"),
            ("concentration_mg_per_ml", "&Concentration", self.concentration, "mg/mL"),
            ("duration_min", "&Infusion over", self.duration, "min"),
            ("planned_start", "Planned &start", self.planned_start, ""),
            ("prescriber_id", "Pr&escriber", self.prescriber, ""),
        ]
        row = 0
        for name, text, field, unit in rows:
            label = QLabel(text)
            label.setBuddy(field)
            grid.addWidget(label, row, 0, Qt.AlignmentFlag.AlignRight)
            if isinstance(unit, QWidget):
                grid.addWidget(field, row, 1)
                grid.addWidget(unit, row, 2)
            elif unit:
                grid.addWidget(field, row, 1)
                grid.addWidget(QLabel(unit), row, 2)
            else:
                grid.addWidget(field, row, 1, 1, 3)
            row += 1
            if name == "weight":
                self.weight_hint = QLabel()
                self.weight_hint.setWordWrap(True)
                grid.addWidget(self.weight_echo, row, 1, 1, 3)
                grid.addWidget(self.weight_hint, row + 1, 1, 1, 3)
                row += 2
            labels[name] = FieldErrorLabel()
            grid.addWidget(labels[name], row, 1, 1, 3)
            row += 1
        self.dose_mg.setToolTip("Worked out from the dose per kg and the weight for IV and "
                                "IM; typed for the other routes")

        self.results: dict[str, QLabel] = {}
        calc = QGroupBox("Dose calculator")
        cgrid = QGridLayout(calc)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.5)
        big.setBold(True)
        for number, (key, text) in enumerate((
                ("dose_mg", "Dose"), ("volume_ml", "Volume"), ("rate_ml_per_h", "Pump rate"),
                ("mg_per_kg_per_h", "Dose rate"),
                ("micrograms_per_kg_per_min", "Same, per minute"))):
            name = QLabel(text)
            value = QLabel(_NONE)
            value.setFont(big)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(f"{text} ({key})")
            cgrid.addWidget(name, number, 0)
            cgrid.addWidget(value, number, 1)
            self.results[key] = value
        self.calc_note = QLabel()
        self.calc_note.setWordWrap(True)
        cgrid.addWidget(self.calc_note, 5, 0, 1, 2)
        cgrid.setRowStretch(6, 1)

        self.outside = QGroupBox("Dose outside the protocol")
        ogrid = QGridLayout(self.outside)
        self.outside_icon = icon_label(self, Level.WARNING, int(self.fontMetrics().height() * 1.5))
        self.outside_text = QLabel()
        self.outside_text.setWordWrap(True)
        bold = QFont(self.outside_text.font())
        bold.setBold(True)
        self.outside_text.setFont(bold)
        self.override_reason = QLineEdit()
        self.override_reason.setPlaceholderText("Why this dose, e.g. partial response at "
                                                "the top of the range")
        self.verified_by = QComboBox()
        labels["override_reason"] = FieldErrorLabel()
        labels["verified_by"] = FieldErrorLabel()
        reason_label = QLabel("Rea&son")
        reason_label.setBuddy(self.override_reason)
        verifier_label = QLabel("&Verified by")
        verifier_label.setBuddy(self.verified_by)
        ogrid.addWidget(self.outside_icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        ogrid.addWidget(self.outside_text, 0, 1, 1, 2)
        ogrid.addWidget(reason_label, 1, 0, 1, 2)
        ogrid.addWidget(self.override_reason, 1, 2)
        ogrid.addWidget(labels["override_reason"], 2, 2)
        ogrid.addWidget(verifier_label, 3, 0, 1, 2)
        ogrid.addWidget(self.verified_by, 3, 2)
        ogrid.addWidget(labels["verified_by"], 4, 2)
        ogrid.setColumnStretch(2, 1)
        self.outside.hide()

        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addLayout(grid)
        left.addStretch(1)
        columns.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(calc)
        right.addWidget(self.outside)
        right.addStretch(1)
        columns.addLayout(right, 2)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Plan session")
        self.ok_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(columns, 1)
        layout.addWidget(line)
        layout.addWidget(buttons)
        self.errors = FormErrors(self.banner, labels, aliases={
            "weight_kg": "weight", "weight_unit": "weight", "course": "course_id",
            "prescriber": "prescriber_id"})
        if not self.overview.open_courses:
            self.banner.show_message("This patient has no open course: start a course first.",
                                     Level.WARNING)
            self.ok_button.setEnabled(False)

    def _prefill(self) -> None:
        prev, proto = self.previous, self.protocol
        if prev is not None:
            _choose(self.drug, prev.drug)
            _choose(self.route, prev.route)
            _choose(self.weight_unit, prev.weight_unit)
            self.weight.setText(_typed(prev.weight))
            self.mg_per_kg.setText(_typed(prev.mg_per_kg))
            self.dose_mg.setText(_typed(prev.dose_mg))
            self.concentration.setText(_typed(prev.concentration_mg_per_ml))
            self.duration.setText(_typed(prev.duration_min))
        else:
            self.mg_per_kg.setText(_typed(proto.iv_default_dose_mg_per_kg))
            self.concentration.setText(_typed(proto.default_concentration_mg_per_ml))
            self.duration.setText(_typed(proto.iv_default_duration_min))
        if self.previous_row is not None:
            t = self.previous_row.session
            unit = t.weight_unit or e.WeightUnit.KG
            self.weight_hint.setText(
                f"Last visit ({when_text(self.previous_row.when)}): {_typed(t.weight_entered)} "
                f"{unit.value}. Weigh the patient today and correct it if it changed.")
            _choose(self.prescriber, str(t.prescriber_id) if t.prescriber_id else None)
        else:
            self.weight_hint.setText("First session: weigh the patient.")
        now = self.ctx.clock.now().astimezone()
        self.planned_start.setDateTime(QDateTime(now.replace(second=0, microsecond=0,
                                                             tzinfo=None)))
        me = self.ctx.user.id if self.ctx.user else None
        self.verified_by.addItem("Choose the verifying prescriber…", None)
        for user in self.clinicians:
            if user.id != me:
                self.verified_by.addItem(user.full_name, str(user.id))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_to_screen(self)
        self.weight.setFocus(Qt.FocusReason.OtherFocusReason)
        self.weight.selectAll()

    # -- the calculator -------------------------------------------------------------------
    def values(self) -> tuple[dict[str, float | None], list[FieldError]]:
        """The numbers as typed (None when empty), and which ones are not numbers."""
        found: dict[str, float | None] = {}
        errors: list[FieldError] = []
        for name, field in (("weight", self.weight), ("mg_per_kg", self.mg_per_kg),
                            ("dose_mg", self.dose_mg),
                            ("concentration_mg_per_ml", self.concentration),
                            ("duration_min", self.duration)):
            try:
                found[name] = parse_number(field.text())
            except ValueError as error:
                found[name] = None
                errors.append(FieldError(name, str(error)))
        return found, errors

    def weight_kg(self) -> float | None:
        typed, _ = self.values()
        weight = typed["weight"]
        if weight is None or weight <= 0:
            return None
        return dosing.to_kg(weight, e.WeightUnit(self.weight_unit.currentData()))

    def current_route(self) -> e.Route:
        return e.Route(self.route.currentData())

    def current_drug(self) -> e.Drug:
        return e.Drug(self.drug.currentData())

    def recalculate(self) -> None:
        typed, _problems = self.values()
        route, weight_kg = self.current_route(), self.weight_kg()
        weight_based = route in _WEIGHT_BASED
        self.mg_per_kg.setEnabled(weight_based)
        self.dose_mg.setReadOnly(weight_based)
        self.dose_mg.setFrame(not weight_based)  # a worked-out number, not a box to type in
        iv = route is e.Route.IV
        self.concentration.setEnabled(iv)
        self.duration.setEnabled(iv)
        self._echo_weight(typed["weight"], weight_kg)
        per_kg, conc, minutes = typed["mg_per_kg"], typed["concentration_mg_per_ml"], \
            typed["duration_min"]
        shown = dict.fromkeys(self.results, _NONE)
        note = ""
        dose = typed["dose_mg"]
        if weight_based:
            dose = None
            if _positive(per_kg) and weight_kg is not None:
                dose = dosing.dose_mg(per_kg, weight_kg)
                self.dose_mg.blockSignals(True)
                self.dose_mg.setText(fmt(round(dose, 1)))
                self.dose_mg.blockSignals(False)
            else:
                self.dose_mg.blockSignals(True)
                self.dose_mg.clear()
                self.dose_mg.blockSignals(False)
                note = "Type the weight and the dose per kg."
        if _positive(dose):
            shown["dose_mg"] = f"{fmt(round(dose, 1))} mg"
        if iv and _positive(dose) and _positive(conc):
            shown["volume_ml"] = f"{fmt(round(dosing.volume_ml(dose, conc), 1))} mL"
            if _positive(minutes):
                rate = dosing.rate_ml_per_h(dose, conc, minutes)
                shown["rate_ml_per_h"] = f"{fmt(round(rate, 1))} mL/h"
        if weight_based and _positive(per_kg) and weight_kg is not None:
            note = f"{fmt(per_kg)} mg/kg × {fmt(round(weight_kg, 1))} kg = " \
                f"{fmt(round(per_kg * weight_kg, 1))} mg"
            if iv and _positive(conc) and _positive(minutes):
                note += (f"; ÷ {fmt(conc)} mg/mL = "
                         f"{fmt(round(per_kg * weight_kg / conc, 1))} mL over {fmt(minutes)} min")
        if weight_based and _positive(per_kg) and _positive(minutes) and iv:
            shown["mg_per_kg_per_h"] = \
                f"{fmt(round(dosing.mg_per_kg_per_h(per_kg, minutes), 3))} mg/kg/h"
            shown["micrograms_per_kg_per_min"] = \
                f"{fmt(round(dosing.micrograms_per_kg_per_min(per_kg, minutes), 2))} " \
                "microgram/kg/min"
        elif not iv:
            note = "No pump for this route: the dose is given as written."
        for key, text in shown.items():
            self.results[key].setText(text)
        self.calc_note.setText(note)
        self._show_outside(per_kg if weight_based else None, dose)

    def _echo_weight(self, typed: float | None, weight_kg: float | None) -> None:
        if typed is None or weight_kg is None:
            self.weight_echo.clear()
            return
        if self.weight_unit.currentData() == e.WeightUnit.LB.value:
            self.weight_echo.setText(f"{fmt(typed)} lb = {fmt(round(weight_kg, 1))} kg")
        else:
            pounds = weight_kg / dosing.KG_PER_LB
            self.weight_echo.setText(f"{fmt(typed)} kg = {fmt(round(pounds, 1))} lb")

    def outside_protocol(self) -> list[FieldError]:
        typed, _ = self.values()
        route = self.current_route()
        per_kg = typed["mg_per_kg"] if route in _WEIGHT_BASED else None
        dose = typed["dose_mg"]
        if route in _WEIGHT_BASED:
            weight_kg = self.weight_kg()
            dose = dosing.dose_mg(per_kg, weight_kg) if _positive(per_kg) and weight_kg else None
        return dosing.dose_outside_protocol(route=route, drug=self.current_drug(),
                                            mg_per_kg=per_kg, dose_mg=dose,
                                            protocol=self.protocol)

    def _show_outside(self, per_kg: float | None, dose: float | None) -> None:
        del per_kg, dose
        problems = self.outside_protocol()
        self.outside.setVisible(bool(problems))
        if problems:
            colour = accent(self, Level.WARNING).name()
            self.outside.setStyleSheet(f"QGroupBox {{ border: 2px solid {colour}; "
                                       "border-radius: 6px; margin-top: 1.2em; "
                                       "padding-top: 0.4em; } QGroupBox::title { "
                                       "subcontrol-origin: margin; left: 8px; }")
            self.outside_text.setText("\n".join(p.message for p in problems))

    # -- planning -------------------------------------------------------------------------
    def dose_form(self) -> tuple[DoseForm, list[FieldError]]:
        typed, errors = self.values()
        route = self.current_route()
        outside = bool(self.outside_protocol())
        verifier = self.verified_by.currentData() if outside else None
        form = DoseForm(
            route=route, drug=self.current_drug(), weight=typed["weight"],
            weight_unit=self.weight_unit.currentData(),
            mg_per_kg=typed["mg_per_kg"] if route in _WEIGHT_BASED else None,
            dose_mg=None if route in _WEIGHT_BASED else typed["dose_mg"],
            concentration_mg_per_ml=typed["concentration_mg_per_ml"] if route is e.Route.IV
            else None,
            duration_min=typed["duration_min"] if route is e.Route.IV else None,
            override_reason=self.override_reason.text() if outside else None,
            verified_by=uuid.UUID(verifier) if verifier else None)
        return form, errors

    def planned_start_value(self) -> datetime:
        return self.planned_start.dateTime().toPython().astimezone()

    def accept(self) -> None:
        form, local = self.dose_form()
        if self.outside_protocol():
            if not (form.override_reason or "").strip():
                local.append(FieldError("override_reason", "Give the reason for this dose"))
            if form.verified_by is None:
                local.append(FieldError("verified_by", "Choose the prescriber who verifies "
                                        "this dose"))
        if local:
            self.errors.show(local, "The dose cannot be planned yet: see the fields marked "
                             "below.")
            return
        if not self._weight_unit_checked():
            return
        if form.verified_by is not None:
            clinician = next(u for u in self.clinicians if u.id == form.verified_by)
            if not self.verify_clinician(self, clinician):
                self.errors.show([FieldError("verified_by", f"{clinician.full_name} did not "
                                             "confirm the dose")])
                return
        prescriber = self.prescriber.currentData()
        services = self.ctx.services
        try:
            actor = self.ctx.actor()
            self.planned = services.sessions.plan_session(
                actor=actor, course_id=self.course.currentData(),
                planned_start=self.planned_start_value(), dose=form,
                prescriber_id=uuid.UUID(prescriber) if prescriber else None)
        except ValidationError as error:
            self.errors.show(error.errors)
            return
        except KappError as error:
            self.errors.show_failure(error)
            return
        if self.weight_confirmed_note:
            # Tier 2 of bad input: the unusual value was confirmed, and that is recorded.
            # The plan stands even if the note cannot be written.
            with contextlib.suppress(KappError):
                services.records.add_note(actor=actor, patient_id=self.patient_id,
                                          session_id=self.planned.id,
                                          text=self.weight_confirmed_note)
        super().accept()

    def _weight_unit_checked(self) -> bool:
        """Ask when today's weight is about 2.2 times (or a 2.2th of) the last visit's:
        the classic slip of pounds typed as kilograms. True to go on planning."""
        self.weight_confirmed_note = None
        weight_kg = self.weight_kg()
        prev = self.previous_row.session.weight_kg if self.previous_row else None
        if weight_kg is None or not prev:
            return True
        ratio = weight_kg / prev
        low, high = UNIT_MIX_RATIO
        unit = e.WeightUnit(self.weight_unit.currentData())
        if low <= ratio <= high and unit is e.WeightUnit.KG:
            suspect = e.WeightUnit.LB
        elif low <= 1 / ratio <= high and unit is e.WeightUnit.LB:
            suspect = e.WeightUnit.KG
        else:
            return True
        typed = self.weight.text().strip()
        answer = self.ask_unit(self, typed, unit, suspect, prev)
        if answer is None:
            return False
        if answer is suspect:
            _choose(self.weight_unit, suspect.value)  # recalculates; the nurse looks again
            self.errors.show([], "")
            self.banner.show_message(
                f"Weight changed to {typed} {suspect.value}; check the dose, then plan again.",
                Level.INFO)
            return False
        self.weight_confirmed_note = (
            f"Weight {typed} {unit.value} confirmed in {unit.value} at planning, although "
            f"it is {fmt(round(ratio, 2))} times the previous visit's {fmt(round(prev, 1))} kg.")
        return True

    @classmethod
    def ask_unit(cls, parent: QWidget, typed: str, unit: e.WeightUnit,
                 suspect: e.WeightUnit, previous_kg: float) -> e.WeightUnit | None:
        """Which unit the weight is in; None to go back to the form. Tests replace this."""
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Check the weight's unit")
        box.setText(f"Was {typed} typed in {'pounds' if suspect is e.WeightUnit.LB else 'kg'}?")
        box.setInformativeText(
            f"{typed} {unit.value} is about 2.2 times "
            f"{'the' if suspect is e.WeightUnit.LB else 'a 2.2th of the'} previous visit's "
            f"{fmt(round(previous_kg, 1))} kg.")
        in_suspect = box.addButton(f"It is in {suspect.value}",
                                   QMessageBox.ButtonRole.AcceptRole)
        as_typed = box.addButton(f"It is in {unit.value}, keep it",
                                 QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(in_suspect)
        box.exec()
        if box.clickedButton() is in_suspect:
            return suspect
        if box.clickedButton() is as_typed:
            return unit
        return None

    @classmethod
    def ask(cls, ctx: AppContext, patient_id: uuid.UUID,
            parent: QWidget | None = None) -> TreatmentSession | None:
        """The planned session, or None if cancelled. Tests replace this."""
        dialog = cls(ctx, patient_id, parent)
        return dialog.planned if dialog.exec() == QDialog.DialogCode.Accepted else None


def _combo(words: dict) -> QComboBox:
    combo = QComboBox()
    for code, text in words.items():
        combo.addItem(text, code.value)
    return combo


def _choose(combo: QComboBox, value: object) -> None:
    index = combo.findData(str(value) if value is not None else None)
    if index >= 0:
        combo.setCurrentIndex(index)


def _number_field() -> QLineEdit:
    field = QLineEdit()
    field.setAlignment(Qt.AlignmentFlag.AlignRight)
    field.setMaximumWidth(field.fontMetrics().averageCharWidth() * 14)
    return field


def _typed(value: float | None) -> str:
    return "" if value is None else fmt(value)


def _positive(value: float | None) -> bool:
    return value is not None and value > 0
