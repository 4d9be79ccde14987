"""Register or edit a patient: who they are, the indication, allergies and the screening
answers before a course. Each problem is shown under its own field; an edit made from a
stale copy (another workstation saved in between) is refused, not merged."""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import Patient
from kapp.domain.errors import FieldError, KappError, ValidationError
from kapp.services.patients import PatientForm
from kapp.ui.context import AppContext
from kapp.ui.patient_list import age_on, local_day, short_date
from kapp.ui.patient_widgets import (
    CONTRAINDICATION_WORDS,
    INDICATION_WORDS,
    MEDICATION_WORDS,
    SCREENING_WORDS,
    SEX_WORDS,
    Banner,
    FieldErrorLabel,
    FormErrors,
    fit_to_screen,
    word,
)

NOT_ASKED = "Not asked yet"
CHOOSE = "Choose…"
DATE_HINT = "YYYY-MM-DD"


def parse_date(text: str, locale: QLocale | None = None) -> date | None:
    """A typed date: ISO (1980-05-17) or the locale's short form with a four-digit year;
    None if it is neither. Nothing is guessed from two-digit years."""
    text = text.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C or not re.search(r"\d{4}", text):
        return None
    pattern = re.sub(r"(?<!y)yy(?!y)", "yyyy", locale.dateFormat(QLocale.FormatType.ShortFormat))
    parsed = locale.toDate(text, pattern)
    return date(parsed.year(), parsed.month(), parsed.day()) if parsed.isValid() else None


def date_hint(locale: QLocale | None = None) -> str:
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:
        return DATE_HINT
    example = short_date(date(1980, 5, 17), locale)
    return f"{DATE_HINT} or {example}" if example != "1980-05-17" else DATE_HINT


class PatientFormDialog(QDialog):
    """New patient when ``patient`` is None, otherwise an edit of that patient as read."""

    def __init__(self, ctx: AppContext, patient: Patient | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.original = patient
        self.saved: Patient | None = None
        self.setWindowTitle("Edit patient" if patient else "New patient")
        self._build()
        if patient is not None:
            self._fill(patient)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_to_screen(self)
        self.given_name.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = Banner()
        labels: dict[str, FieldErrorLabel] = {}

        who = QGroupBox("Who")
        grid = QGridLayout(who)
        grid.setColumnStretch(1, 1)
        self.given_name = QLineEdit()
        self.family_name = QLineEdit()
        self.date_of_birth = QLineEdit()
        self.date_of_birth.setPlaceholderText(date_hint())
        self.born_echo = QLabel()
        self.born_echo.setAccessibleName("Date of birth as read")
        self.date_of_birth.textChanged.connect(self._echo_birth)
        self.sex = _combo([(CHOOSE, None)] + [(SEX_WORDS[s], s) for s in e.Sex])
        self.mrn = QLineEdit()
        self.mrn.setPlaceholderText("e.g. T-0001")
        self.indication = _combo([(CHOOSE, None)]
                                 + [(INDICATION_WORDS[i], i) for i in e.Indication])
        self.allergies = QLineEdit()
        self.allergies.setPlaceholderText("e.g. penicillin (rash) — or “none known”")
        self.current_medications = _text_box(3)
        self.notes = _text_box(3)
        rows = [
            ("given_name", "&Given name", self.given_name),
            ("family_name", "&Family name", self.family_name),
            ("date_of_birth", "Date of &birth", _with(self.date_of_birth, self.born_echo)),
            ("sex", "&Sex", self.sex),
            ("mrn", "&MRN", self.mrn),
            ("indication", "&Indication", self.indication),
            ("allergies", "&Allergies", self.allergies),
            ("current_medications", "Current &medications", self.current_medications),
            ("notes", "&Notes", self.notes),
        ]
        for row, (name, text, widget) in enumerate(rows):
            labels[name] = _add_row(grid, row, text, widget)

        screening = QGroupBox("Screening before a course")
        sgrid = QGridLayout(screening)
        sgrid.setColumnStretch(0, 1)
        hint = QLabel("Does the patient have any of these?")
        hint.setWordWrap(True)
        sgrid.addWidget(hint, 0, 0, 1, 2)
        self.screening: dict[e.Contraindication, QComboBox] = {}
        for row, item in enumerate(e.Contraindication, start=1):
            combo = _combo([(NOT_ASKED, None)]
                           + [(SCREENING_WORDS[a], a) for a in e.ScreeningAnswer])
            label = QLabel(CONTRAINDICATION_WORDS[item])
            label.setBuddy(combo)
            combo.setAccessibleName(CONTRAINDICATION_WORDS[item])
            sgrid.addWidget(label, row, 0)
            sgrid.addWidget(combo, row, 1)
            self.screening[item] = combo
        labels["contraindications"] = FieldErrorLabel()
        sgrid.addWidget(labels["contraindications"], len(self.screening) + 1, 0, 1, 2)

        meds = QGroupBox("Takes any of these medicines")
        mlayout = QGridLayout(meds)
        self.medication_flags: dict[e.MedicationFlag, QCheckBox] = {}
        for index, flag in enumerate(e.MedicationFlag):
            box = QCheckBox(MEDICATION_WORDS[flag])
            mlayout.addWidget(box, index // 2, index % 2)
            self.medication_flags[flag] = box
        labels["medication_flags"] = FieldErrorLabel()
        mlayout.addWidget(labels["medication_flags"], 3, 0, 1, 2)

        right = QVBoxLayout()
        right.addWidget(screening)
        right.addWidget(meds)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addWidget(who, 1)
        columns.addLayout(right, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save changes" if self.original else "Register patient")
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(columns, 1)
        layout.addWidget(self.buttons)
        self.errors = FormErrors(self.banner, labels)
        # Room for every field and its message without scrolling, inside a 1366x768 screen.
        em = self.fontMetrics().averageCharWidth()
        self.setMinimumWidth(min(em * 120, 1300))
        self.date_of_birth.setFixedWidth(em * 16)

    def _fill(self, p: Patient) -> None:
        self.given_name.setText(p.given_name)
        self.family_name.setText(p.family_name)
        self.date_of_birth.setText(p.date_of_birth.isoformat())
        _choose(self.sex, p.sex)
        self.mrn.setText(p.mrn)
        _choose(self.indication, p.indication)
        self.allergies.setText(p.allergies)
        self.current_medications.setPlainText(p.current_medications)
        self.notes.setPlainText(p.notes)
        for item, combo in self.screening.items():
            _choose(combo, p.contraindications.get(item.value))
        for flag, box in self.medication_flags.items():
            box.setChecked(flag.value in p.medication_flags)

    def _echo_birth(self, text: str) -> None:
        """Say back the date as read, with the age, so a day/month swap is caught."""
        born = parse_date(text)
        if born is None:
            self.born_echo.clear()
            return
        today = local_day(self.ctx.clock.now())
        # The month in words: "17 May 1980" cannot be misread whatever the locale.
        locale = QLocale()
        words = locale.toString(QDate(born.year, born.month, born.day), "d MMMM yyyy")
        if locale.language() == QLocale.Language.C:
            words = f"{born.day} {born:%B %Y}"
        self.born_echo.setText(f"{words} · {age_on(born, today)} years" if born <= today
                               else words)

    # -- saving ---------------------------------------------------------------------------
    def form(self) -> tuple[PatientForm, list[FieldError]]:
        """The form as typed, and the problems only the screen can see (an unreadable
        date, a list left on "Choose…")."""
        local: list[FieldError] = []
        typed = self.date_of_birth.text().strip()
        born = parse_date(typed)
        if born is None:
            message = (f"Date of birth: type it as {date_hint()}" if not typed else
                       f"Date of birth ‘{typed}’ is not a date; type it as {date_hint()}")
            local.append(FieldError("date_of_birth", message, date_hint()))
        for name, combo, what in (("sex", self.sex, "Sex"),
                                  ("indication", self.indication, "Indication")):
            if combo.currentData() is None:
                local.append(FieldError(name, f"{what}: choose one from the list"))
        screening = {item.value: str(combo.currentData())
                     for item, combo in self.screening.items() if combo.currentData()}
        form = PatientForm(
            mrn=self.mrn.text(), given_name=self.given_name.text(),
            family_name=self.family_name.text(),
            date_of_birth=born,  # type: ignore[arg-type]  # None: the service names it
            sex=self.sex.currentData() or "", indication=self.indication.currentData() or "",
            allergies=self.allergies.text(), contraindications=screening,
            medication_flags=tuple(f.value for f, box in self.medication_flags.items()
                                   if box.isChecked()),
            current_medications=self.current_medications.toPlainText(),
            notes=self.notes.toPlainText())
        return form, local

    def accept(self) -> None:
        form, local = self.form()
        patients = self.ctx.services.patients
        try:
            actor = self.ctx.actor()
            if self.original is None:
                self.saved = patients.create(actor=actor, form=form)
            else:
                self.saved = patients.update(actor=actor, patient_id=self.original.id,
                                             form=form, expected_version=self.original.version)
        except ValidationError as error:
            # The screen's own words replace the service's for what only it could see.
            mine = {f.field for f in local}
            errors = local + [f for f in error.errors if f.field not in mine]
            self._focus(self.errors.show(errors))
            self._grow()
            return
        except KappError as error:
            self.errors.show_failure(error)
            self._grow()
            return
        super().accept()

    def _grow(self) -> None:
        """Make room for the messages just shown, so no field is squeezed out of sight."""
        hint = self.sizeHint()
        self.resize(max(self.width(), hint.width()), max(self.height(), hint.height()))

    def _focus(self, fields: list[str]) -> None:
        widgets = {"given_name": self.given_name, "family_name": self.family_name,
                   "date_of_birth": self.date_of_birth, "sex": self.sex, "mrn": self.mrn,
                   "indication": self.indication, "allergies": self.allergies,
                   "current_medications": self.current_medications, "notes": self.notes,
                   "contraindications": next(iter(self.screening.values())),
                   "medication_flags": next(iter(self.medication_flags.values()))}
        for name in widgets:  # the first bad field in the order they appear
            if name in fields:
                widgets[name].setFocus(Qt.FocusReason.OtherFocusReason)
                if isinstance(widgets[name], QLineEdit):
                    widgets[name].selectAll()
                return

    @classmethod
    def ask(cls, ctx: AppContext, patient: Patient | None = None,
            parent: QWidget | None = None) -> Patient | None:
        """Show the form modally; the saved patient, or None if cancelled. Tests replace
        this to avoid a blocking dialog."""
        dialog = cls(ctx, patient, parent)
        return dialog.saved if dialog.exec() == QDialog.DialogCode.Accepted else None


def _combo(items: list[tuple[str, object]]) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _choose(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index < 0 and value is not None:  # a code this kapp does not know: keep it visible
        combo.addItem(word({}, value), value)
        index = combo.count() - 1
    combo.setCurrentIndex(max(index, 0))


def _text_box(lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setTabChangesFocus(True)  # Tab moves on, as in every other field
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 14)
    return box


def _with(field: QWidget, echo: QLabel) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field)
    row.addWidget(echo, 1)
    holder.setFocusProxy(field)
    holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return holder


def _add_row(grid: QGridLayout, row: int, text: str, widget: QWidget) -> FieldErrorLabel:
    label = QLabel(text)
    label.setBuddy(widget.focusProxy() or widget)
    error = FieldErrorLabel()
    grid.addWidget(label, row * 2, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    grid.addWidget(widget, row * 2, 1)
    grid.addWidget(error, row * 2 + 1, 1)
    return error
