"""Pieces the patient screens share: clinic words for coded values, field-error labels,
a message banner and flag chips. Every warning carries an icon and words, never colour
alone, and the colours are picked to read on light and dark palettes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.errors import FieldError, KappError, ValidationError
from kapp.ui.patient_list import INDICATION_WORDS

__all__ = ["INDICATION_WORDS"]

SEX_WORDS = {
    e.Sex.FEMALE: "Female",
    e.Sex.MALE: "Male",
    e.Sex.INTERSEX: "Intersex",
    e.Sex.UNKNOWN: "Not known",
}
CONTRAINDICATION_WORDS = {
    e.Contraindication.UNCONTROLLED_HYPERTENSION: "Uncontrolled hypertension",
    e.Contraindication.ANEURYSM_OR_AVM: "Aneurysmal vascular disease or AVM",
    e.Contraindication.INTRACEREBRAL_HAEMORRHAGE: "History of intracerebral haemorrhage",
    e.Contraindication.ACTIVE_PSYCHOSIS: "Active psychosis",
    e.Contraindication.PREGNANCY: "Pregnancy",
    e.Contraindication.ACTIVE_SUBSTANCE_MISUSE: "Active substance misuse",
    e.Contraindication.SEVERE_LIVER_DISEASE: "Severe liver disease",
    e.Contraindication.RAISED_ICP_OR_IOP: "Raised intracranial or intraocular pressure",
}
SCREENING_WORDS = {
    e.ScreeningAnswer.NO: "No",
    e.ScreeningAnswer.YES: "Yes",
    e.ScreeningAnswer.UNKNOWN: "Not known",
}
MEDICATION_WORDS = {
    e.MedicationFlag.BENZODIAZEPINE: "Benzodiazepine",
    e.MedicationFlag.OPIOID: "Opioid",
    e.MedicationFlag.STIMULANT: "Stimulant",
    e.MedicationFlag.MAOI: "MAOI",
    e.MedicationFlag.LAMOTRIGINE: "Lamotrigine",
}
COURSE_WORDS = {
    e.CourseKind.INDUCTION: "Induction",
    e.CourseKind.MAINTENANCE: "Maintenance",
    e.CourseKind.BOOSTER: "Booster",
}
ROUTE_WORDS = {
    e.Route.IV: "IV infusion",
    e.Route.IM: "IM injection",
    e.Route.ORAL: "Oral",
    e.Route.SUBLINGUAL: "Sublingual",
    e.Route.INTRANASAL: "Intranasal",
}
ROUTE_SHORT = {
    e.Route.IV: "IV", e.Route.IM: "IM", e.Route.ORAL: "Oral", e.Route.SUBLINGUAL: "SL",
    e.Route.INTRANASAL: "Nasal",
}
DRUG_WORDS = {e.Drug.KETAMINE: "Ketamine", e.Drug.ESKETAMINE: "Esketamine"}
STATUS_WORDS = {
    e.SessionStatus.PLANNED: "Planned",
    e.SessionStatus.IN_PROGRESS: "Infusing",
    e.SessionStatus.RECOVERY: "In recovery",
    e.SessionStatus.COMPLETED: "Completed",
    e.SessionStatus.ABORTED: "Stopped early",
}


def word(words: Mapping, code: object) -> str:
    """The clinic word for a code; the code itself if a newer kapp stored one we lack."""
    try:
        return words[code]
    except KeyError:
        return str(code).replace("_", " ").capitalize()


class Level(StrEnum):
    DANGER = "danger"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"


_ICONS = {
    Level.DANGER: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Level.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Level.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    Level.OK: QStyle.StandardPixmap.SP_DialogApplyButton,
}
# (light palette, dark palette) accent colours: strong enough for text on either.
_ACCENTS = {
    Level.DANGER: ("#b3261e", "#ff8a80"),
    Level.WARNING: ("#8a5300", "#ffcc80"),
    Level.INFO: ("#1c5e9c", "#90caf9"),
    Level.OK: ("#2e6b30", "#a5d6a7"),
}


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


def accent(widget: QWidget, level: Level) -> QColor:
    light, dark = _ACCENTS[level]
    return QColor(dark if is_dark(widget) else light)


def icon_label(widget: QWidget, level: Level, size: int | None = None) -> QLabel:
    size = size or widget.fontMetrics().height()
    label = QLabel()
    icon = widget.style().standardIcon(_ICONS[level])
    label.setPixmap(icon.pixmap(QSize(size, size)))
    label.setFixedSize(size, size)
    label.setAccessibleName(level.value)
    return label


class Chip(QFrame):
    """A flag: icon, words, and a tinted border; readable with colour turned off."""

    def __init__(self, level: Level, text: str, tooltip: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = level
        self.setObjectName("chip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 10, 3)
        layout.setSpacing(6)
        layout.addWidget(icon_label(self, level))
        self.label = QLabel(text)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.label)
        colour = accent(self, level)
        tint = QColor(colour)
        tint.setAlpha(40)
        self.setStyleSheet(
            f"QFrame#chip {{ border: 1px solid {colour.name()}; border-radius: 12px; "
            f"background: rgba({tint.red()},{tint.green()},{tint.blue()},{tint.alpha()}); }}")
        self.setToolTip(tooltip or text)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self.label.text()


class Banner(QFrame):
    """A message across the top of a form or screen: icon plus words, hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 10, 6)
        self._icon: QLabel | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout.addWidget(self.label, 1)
        self.hide()

    def show_message(self, text: str, level: Level = Level.DANGER) -> None:
        if self._icon is not None:
            self._layout.removeWidget(self._icon)
            self._icon.deleteLater()
        self._icon = icon_label(self, level, int(self.fontMetrics().height() * 1.3))
        self._layout.insertWidget(0, self._icon, 0, Qt.AlignmentFlag.AlignTop)
        colour = accent(self, level)
        self.setStyleSheet(f"QFrame#banner {{ border: 2px solid {colour.name()}; "
                           "border-radius: 6px; }")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def clear(self) -> None:
        self.label.clear()
        self.hide()


class FieldErrorLabel(QLabel):
    """The message under one field; empty and hidden while the field is fine."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.font())
        font.setBold(True)
        self.setFont(font)
        self.hide()

    def show_error(self, message: str) -> None:
        colour = accent(self, Level.DANGER).name()
        self.setStyleSheet(f"color: {colour};")
        self.setText(f"⚠ {message}")  # the sign says "problem" without the colour
        self.show()

    def clear_error(self) -> None:
        self.clear()
        self.hide()


class FormErrors:
    """Puts each FieldError under its field; errors for fields without a place go to the
    banner, so that nothing the service says is lost."""

    def __init__(self, banner: Banner, labels: Mapping[str, FieldErrorLabel],
                 aliases: Mapping[str, str] | None = None) -> None:
        self.banner = banner
        self.labels = dict(labels)
        self.aliases = dict(aliases or {})

    def clear(self) -> None:
        self.banner.clear()
        for label in self.labels.values():
            label.clear_error()

    def show(self, errors: Iterable[FieldError], summary: str = "") -> list[str]:
        """Show the errors; returns the names of the fields that have one, in order."""
        self.clear()
        by_field: dict[str, list[str]] = {}
        loose: list[str] = []
        for error in errors:
            name = self.aliases.get(error.field, error.field)
            if name in self.labels:
                by_field.setdefault(name, []).append(error.message)
            else:
                loose.append(error.message)
        for name, messages in by_field.items():
            self.labels[name].show_error(" ".join(dict.fromkeys(messages)))
        lead = summary or "Please check the fields marked below."
        if loose:
            self.banner.show_message("\n".join(dict.fromkeys(loose)))
        elif by_field:
            self.banner.show_message(lead, Level.WARNING)
        return list(by_field)

    def show_failure(self, error: KappError) -> list[str]:
        """Any refusal from a service: field errors under their fields, anything else
        (a concurrent edit, a permission, a storage problem) in plain words on top."""
        if isinstance(error, ValidationError):
            return self.show(error.errors)
        self.clear()
        self.banner.show_message(str(error) or "This could not be saved.")
        return []


def fit_to_screen(window: QWidget) -> None:
    """Open a dialog at the size its contents ask for: Qt caps a new window at two thirds
    of the screen, which on a 1366x768 laptop cut labels short. Never larger than the
    screen's free area, though."""
    wanted = window.sizeHint().expandedTo(window.size())
    screen = window.screen()
    if screen is not None:
        wanted = wanted.boundedTo(screen.availableGeometry().size())
    window.resize(wanted)
