"""Pieces the step dialogs and the session panels share: errors shown next to their field,
banners that say what is wrong in words and with an icon, chips, and checklists that commit
each tick. The time that defaults to now is kapp.ui.time_field.TimeField."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWidgetItem,
)

from kapp.domain.errors import KappError, StorageUnavailable, ValidationError
from kapp.ui.background import action_problem
from kapp.ui.context import AppContext
from kapp.ui.qt_compat import emit

# Icons are characters of DejaVu Sans, so they show on every clinic machine.
ICONS = {"info": "ℹ", "ok": "✔", "warn": "⚠", "danger": "⚠"}
_LIGHT = {"info": ("#e8f0fb", "#2f5f9e"), "ok": ("#e6f4ea", "#2e7d32"),
          "warn": ("#fff4d6", "#b26a00"), "danger": ("#fde7e7", "#b71c1c")}
_DARK = {"info": ("#1d2a3a", "#7aa7e0"), "ok": ("#1c3123", "#7cc68a"),
         "warn": ("#3a2f12", "#f0b44a"), "danger": ("#3f1c1c", "#ff8a80")}


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A warning box (tests replace it)."""
    QMessageBox.warning(parent, title, text)


def not_opened(parent: QWidget | None, what: str, problem: KappError) -> bool:
    """A step's dialog whose record could not be read as it opened (the database server
    out of reach): say which, why and what to do, instead of a dialog. False."""
    warn(parent, "kapp", f"{what} could not be opened. "
                         + action_problem(problem, "Nothing was changed."))
    return False


def is_dark(widget: QWidget) -> bool:
    return widget.palette().color(QPalette.ColorRole.Window).lightness() < 128


def tone(widget: QWidget, kind: str) -> tuple[str, str]:
    """Background and strong colour for a kind of message, for the current palette."""
    return (_DARK if is_dark(widget) else _LIGHT)[kind]


def local(moment: datetime) -> datetime:
    """A stored (UTC) moment in the clinic's local time."""
    return moment.astimezone() if moment.tzinfo else moment


def hhmm(moment: datetime | None) -> str:
    return local(moment).strftime("%H:%M") if moment is not None else "—"


def day_and_time(moment: datetime | None) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment is not None else "—"


def words(value: str) -> str:
    """A coded value in words: "body_detachment" -> "Body detachment"."""
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def staff_names(ctx: AppContext) -> dict[uuid.UUID, str]:
    return {u.id: u.full_name for u in ctx.services.users.list_users(include_inactive=True)}


# -- messages -------------------------------------------------------------------------------


class Banner(QFrame):
    """A message in a coloured box with an icon and words: colour is never the only signal.
    Hidden while empty."""

    def __init__(self, kind: str = "info", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self._kind = kind
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        self.setVisible(False)
        self._restyle()

    def show_message(self, text: str, kind: str | None = None) -> None:
        if kind is not None and kind != self._kind:
            self._kind = kind
            self._restyle()
        self.label.setText(text)
        self.setVisible(bool(text))

    def clear(self) -> None:
        self.label.clear()
        self.setVisible(False)

    @property
    def kind(self) -> str:
        return self._kind

    def text(self) -> str:
        return self.label.text() if self.isVisibleTo(self.parentWidget() or self) else ""

    def _restyle(self) -> None:
        back, strong = tone(self, self._kind)
        self.icon.setText(ICONS[self._kind])
        self.icon.setStyleSheet(f"color: {strong}; font-size: 16pt;")
        self.setStyleSheet(f"QFrame#banner {{ background: {back}; border: 2px solid {strong};"
                           f" border-radius: 4px; }}")


class ErrorLabel(QLabel):
    """The message under one field, hidden while there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setVisible(False)

    def show_error(self, text: str) -> None:
        _, strong = tone(self, "danger")
        self.setStyleSheet(f"color: {strong}; font-weight: bold;")
        self.setText(f"{ICONS['warn']} {text}")
        self.setVisible(True)

    def clear(self) -> None:  # type: ignore[override]
        super().clear()
        self.setVisible(False)


class ErrorRouter:
    """Shows a service's refusal where it belongs: a ValidationError's messages next to
    their fields (or in the banner for a field the form does not show), any other
    KappError in the banner in plain words. The form keeps what was typed."""

    def __init__(self, banner: Banner) -> None:
        self.banner = banner
        self._labels: dict[str, ErrorLabel] = {}
        self._widgets: dict[str, QWidget] = {}

    def add(self, fields: str | Iterable[str], label: ErrorLabel,
            widget: QWidget | None = None) -> ErrorLabel:
        for name in [fields] if isinstance(fields, str) else fields:
            self._labels[name] = label
            if widget is not None:
                self._widgets[name] = widget
        # A message goes away as soon as the nurse starts fixing the field.
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(label.clear)
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(label.clear)
        return label

    def clear(self) -> None:
        for label in set(self._labels.values()):
            label.clear()
        self.banner.clear()

    def show(self, exc: KappError) -> None:
        self.clear()
        if isinstance(exc, ValidationError):
            loose: list[str] = []
            shown: dict[ErrorLabel, list[str]] = {}
            first: QWidget | None = None
            for error in exc.errors:
                label = self._labels.get(error.field)
                if label is None:
                    loose.append(error.message)
                else:
                    shown.setdefault(label, []).append(error.message)
                    first = first or self._widgets.get(error.field)
            for label, messages in shown.items():
                label.show_error(" ".join(messages))
            if loose:
                self.banner.show_message("\n".join(loose), "danger")
            if first is not None:
                first.setFocus()
        else:
            self.banner.show_message(str(exc) or "That could not be saved.", "danger")

    def call(self, action: Callable[[], Any]) -> tuple[bool, Any]:
        """Run a service call; (True, result) when it worked, (False, None) when refused."""
        try:
            result = action()
        except KappError as exc:
            self.show(exc)
            return False, None
        self.clear()
        return True, result


# -- chips and flowing rows ---------------------------------------------------------------


class FlowLayout(QLayout):
    """Lays widgets left to right and wraps them onto the next line, like words."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def addWidget(self, widget: QWidget) -> None:
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _place(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = area.x(), area.y(), 0
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line > 0:
                x = area.x()
                y += line + self._spacing
                line = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()


def choice_sheet(widget: QWidget, *, left: bool = False, padding: str = "3px 8px") -> str:
    """The style of a checkable choice: chosen shows as a tick, bold text and a strong
    border, not colour alone. Set once on a row of choices, not on each button: every
    style sheet set on a widget is parsed and polished on its own (~0.2 ms a button)."""
    back, strong = tone(widget, "info")
    align = "text-align: left;" if left else ""
    return (f"QPushButton {{ padding: {padding}; {align} }}"
            f"QPushButton:checked {{ background: {back}; border: 2px solid {strong};"
            f" border-radius: 3px; font-weight: bold; }}")


def size_choice(button: QPushButton, text: str) -> None:
    """Sized for its ticked text in bold, so nothing is cut off when it is chosen."""
    bold = button.font()
    bold.setBold(True)
    width = QFontMetrics(bold).horizontalAdvance("✔ " + text) + 24
    button.setMinimumWidth(width)
    button.setText(text)


def style_choice(button: QPushButton, text: str, *, left: bool = False) -> None:
    """A checkable button styled on its own (``choice_sheet``) and sized for its text."""
    button.setStyleSheet(choice_sheet(button, left=left))
    size_choice(button, text)


class Chip(QPushButton):
    """A toggle that says whether it is on with a tick as well as its colour. ``styled``
    False: the row it sits in carries its style (``choice_sheet``)."""

    def __init__(self, text: str, parent: QWidget | None = None, *,
                 styled: bool = True) -> None:
        super().__init__(parent)
        self._text = text
        self.setCheckable(True)
        if styled:
            style_choice(self, text)
        else:
            size_choice(self, text)
        self.toggled.connect(self._relabel)
        self._relabel(False)

    def _relabel(self, on: bool) -> None:
        self.setText(("✔ " if on else "") + self._text)


class ChoiceRow(QWidget):
    """A compact row of mutually exclusive buttons (severity, valence, MOAA/S...), each
    marked with a tick when chosen. ``chosen`` fires with the value. ``spacing``: between
    the buttons, and between its lines when it wraps."""

    chosen = Signal(object)

    def __init__(self, choices: Iterable[tuple[Any, str]], parent: QWidget | None = None,
                 *, wrap: bool = False, focusable: bool = True, spacing: int = 4) -> None:
        super().__init__(parent)
        layout: QLayout = FlowLayout(self, spacing) if wrap else QHBoxLayout(self)
        if isinstance(layout, QHBoxLayout):
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(spacing)
        self.setStyleSheet(choice_sheet(self))  # its chips' style, once for the row
        self.buttons: dict[Any, Chip] = {}
        for value, text in choices:
            button = Chip(text, styled=False)
            if not focusable:
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, v=value: self._pick(v))
            layout.addWidget(button)
            self.buttons[value] = button
        if isinstance(layout, QHBoxLayout):
            layout.addStretch(1)
        self._value: Any = None

    def _pick(self, value: Any) -> None:
        self.set_value(value)
        emit(self.chosen, value)

    def set_value(self, value: Any) -> None:
        self._value = value
        for key, button in self.buttons.items():
            button.blockSignals(True)
            button.setChecked(key == value)
            button._relabel(key == value)
            button.blockSignals(False)

    def value(self) -> Any:
        return self._value


# -- checklists -----------------------------------------------------------------------------


class ChecklistBox(QGroupBox):
    """One checkbox per item; each tick is committed the moment it is made. A refused tick
    is undone on screen and the reason shown."""

    saved = Signal()

    def __init__(self, ctx: AppContext, session_id: uuid.UUID, which: str,
                 labels: Mapping[StrEnum, str], title: str, banner: Banner,
                 parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._ctx, self._session_id, self._which, self._banner = ctx, session_id, which, banner
        layout = QVBoxLayout(self)
        self.boxes: dict[str, QCheckBox] = {}
        for check, text in labels.items():
            box = QCheckBox(text)
            box.toggled.connect(lambda on, key=check.value: self._commit(key, on))
            layout.addWidget(box)
            self.boxes[check.value] = box
        self.status = QLabel()
        layout.addWidget(self.status)

    def load(self, ticked: Mapping[str, Any]) -> None:
        for key, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(bool(ticked.get(key)))
            box.blockSignals(False)
        self._count()

    def _count(self) -> None:
        done = sum(box.isChecked() for box in self.boxes.values())
        total = len(self.boxes)
        mark = ICONS["ok"] if done == total else ICONS["warn"]
        self.status.setText(f"{mark} {done} of {total} ticked")

    def _commit(self, key: str, on: bool) -> None:
        try:
            self._ctx.services.sessions.set_checklist(
                actor=self._ctx.actor(), session_id=self._session_id, which=self._which,
                items={key: on})
        except KappError as exc:
            box = self.boxes[key]
            box.blockSignals(True)
            box.setChecked(not on)
            box.blockSignals(False)
            # Not "still in the form as you typed it": the box is undone on screen.
            self._banner.show_message(action_problem(exc, (
                "This tick was NOT saved; the box is back as it was.")) if isinstance(
                exc, StorageUnavailable) else str(exc), "danger")
            return
        self._banner.clear()
        self._count()
        emit(self.saved)


# -- numbers typed in line edits ----------------------------------------------------------


def read_numbers(fields: Mapping[str, tuple[str, Any]]) -> dict[str, float | None]:
    """Parse typed numbers: ``{"dose": ("Dose", line_edit)}`` -> ``{"dose": 4.0}``.

    Raises:
        ValidationError: naming each field that is not a number.
    """
    from kapp.domain.errors import FieldError
    from kapp.domain.vitals import parse_number

    values: dict[str, float | None] = {}
    errors = []
    for name, (label, edit) in fields.items():
        try:
            values[name] = parse_number(edit.text())
        except ValueError as exc:
            errors.append(FieldError(name, f"{label}: {exc}"))
    if errors:
        raise ValidationError(errors)
    return values


def field_row(widget: QWidget, error: ErrorLabel) -> QWidget:
    """A field with its error message under it, for a form layout."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(1)
    layout.addWidget(widget)
    layout.addWidget(error)
    return box


def make_default(dialog: QWidget, default: QPushButton | None) -> None:
    """Enter presses ``default`` and nothing else (None: Enter presses no button). Qt
    would otherwise make a button such as Cancel or Close the default, and Enter in a
    field would throw the work away."""
    for button in dialog.findChildren(QPushButton):
        button.setAutoDefault(False)
        button.setDefault(False)
    if default is not None:
        default.setAutoDefault(True)
        default.setDefault(True)


class SubmitTextEdit(QPlainTextEdit):
    """Free text where Enter starts a new line and Ctrl+Enter submits (``submitted``)."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            event.accept()
            emit(self.submitted)
            return
        super().keyPressEvent(event)


class ScoreRow(QFrame):
    """A compact, focusable row of small numbered buttons (intensity 0-10, MOAA/S 0-5).
    Keys: a digit picks it ("1" then "0" gives 10), Left/Right step, Backspace clears.
    ``chosen`` fires with the score (or None when cleared)."""

    chosen = Signal(object)

    def __init__(self, scores: Iterable[int], tips: Mapping[int, str] | None = None,
                 parent: QWidget | None = None, *, button_width: int = 28) -> None:
        super().__init__(parent)
        self.setObjectName("scoreRow")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.scores = list(scores)
        self._value: int | None = None
        self._first: str | None = None
        self._first_text = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        back, strong = tone(self, "info")
        # The buttons' style is the row's (``_restyle``): one sheet, not one each.
        self._buttons_sheet = (f"QPushButton:checked {{ background: {back};"
                               f" border: 2px solid {strong}; font-weight: bold; }}")
        self.buttons: dict[int, QPushButton] = {}
        for score in self.scores:
            button = QPushButton(str(score))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setFixedWidth(button_width)
            if tips and score in tips:
                button.setToolTip(tips[score])
            button.clicked.connect(lambda _=False, s=score: self._pick(s))
            layout.addWidget(button)
            self.buttons[score] = button
        layout.addStretch(1)
        self._restyle()

    def value(self) -> int | None:
        return self._value

    def set_value(self, score: int | None) -> None:
        self._value = score
        for key, button in self.buttons.items():
            button.setChecked(key == score)

    def _pick(self, score: int | None) -> None:
        self.set_value(score)
        emit(self.chosen, score)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text, key = event.text(), event.key()
        if text.isdigit() and len(text) == 1:
            if self._first is not None and int(self._first + text) in self.buttons:
                self._first = None
                self._pick(int(self._first_text + text))
                return
            if int(text) in self.buttons:
                self._pick(int(text))
                grows = any(s >= 10 and str(s).startswith(text) for s in self.scores)
                self._first = text if grows else None
                self._first_text = text
            return
        self._first = None
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 1 if key == Qt.Key.Key_Right else -1
            now = self.scores.index(self._value) if self._value in self.scores else (
                -1 if step == 1 else len(self.scores))
            self._pick(self.scores[max(0, min(len(self.scores) - 1, now + step))])
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            self._pick(None)
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event: Any) -> None:
        super().focusInEvent(event)
        self._restyle()

    def focusOutEvent(self, event: Any) -> None:
        super().focusOutEvent(event)
        self._first = None
        self._restyle()

    def _restyle(self) -> None:
        _, strong = tone(self, "info")
        border = f"2px solid {strong}" if self.hasFocus() else "2px solid transparent"
        self.setStyleSheet(self._buttons_sheet
                           + f"QFrame#scoreRow {{ border: {border}; border-radius: 3px; }}")
