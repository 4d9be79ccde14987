"""A small dialog of labelled fields whose problems show next to each field.

Used by the account, password and clinic-settings dialogs: ``submit(values)`` calls the
service; a ``ValidationError`` puts each message next to its field and keeps what was
typed; any other ``KappError`` is said in plain words at the bottom. The dialog closes only
when the call returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.errors import FieldError, KappError, ValidationError
from kapp.ui.sign_in import Problem, buddy, heading

Field = tuple[str, str, QWidget]  # name (as the service names it), label, widget


def value_of(widget: QWidget) -> Any:
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QSpinBox):
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    raise TypeError(widget)


class FormDialog(QDialog):
    def __init__(self, title: str, intro: str, fields: list[Field],
                 submit: Callable[[dict[str, Any]], Any], *, ok_text: str = "Save",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._submit = submit
        self.result_value: Any = None
        self.widgets: dict[str, QWidget] = {}
        self.problems: dict[str, Problem] = {}
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(heading(title, 1.2))
        if intro:
            text = QLabel(intro)
            text.setWordWrap(True)
            layout.addWidget(text)
        form = QFormLayout()
        for name, label, widget in fields:
            widget.setAccessibleName(label.replace("&", ""))
            self.widgets[name] = widget
            problem = Problem(beside=widget)
            self.problems[name] = problem
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(problem)
            form.addRow(buddy(label, widget), box)
        layout.addLayout(form)
        self.general_problem = Problem()
        layout.addWidget(self.general_problem)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton(ok_text)
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self.setMinimumWidth(480)
        if fields:
            fields[0][2].setFocus()

    def values(self) -> dict[str, Any]:
        return {name: value_of(widget) for name, widget in self.widgets.items()}

    def show_errors(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        first: QWidget | None = None
        for error in errors:
            problem = self.problems.get(error.field, self.general_problem)
            problem.show_text(error.message)
            first = first or self.widgets.get(error.field)
        if first is not None:
            first.setFocus()

    def submit(self) -> None:
        for problem in (*self.problems.values(), self.general_problem):
            problem.clear()
        try:
            self.result_value = self._submit(self.values())
        except ValidationError as exc:
            self.show_errors(exc.errors)
            return
        except KappError as exc:
            field = getattr(exc, "field", None)
            (self.problems.get(field) or self.general_problem).show_text(str(exc))
            return
        for widget in self.widgets.values():  # no password stays in a widget
            if isinstance(widget, QLineEdit) and widget.echoMode() != QLineEdit.EchoMode.Normal:
                widget.clear()
        self.accept()


def same_password(values: dict[str, Any], first: str, second: str) -> None:
    if values[first] != values[second]:
        raise ValidationError([FieldError(second, "The two passwords differ: type the same "
                                          "password twice.")])
