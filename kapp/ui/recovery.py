"""Every password lost: the recovery key stored at first run opens the clinic, and an
administrator account gets a new password. Reached from the sign-in window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.errors import KappError, ValidationError
from kapp.ui.sign_in import Problem, buddy, heading, password_field

Recover = Callable[[str, str, str], Any]  # (recovery key, administrator, new password)

EXPLANATION = (
    "Use this only when no administrator can sign in. Type the recovery key that was "
    "printed or written down when the clinic was set up, the user name of an administrator "
    "account, and a new password for that account. The administrator can then reset the "
    "other staff's passwords under Accounts. The recovery key stays valid; keep it safe.")


class RecoveryDialog(QDialog):
    """Collects the key, the administrator and the new password; ``recover`` checks them
    (opening the encrypted file) and its result is kept in ``result_value``."""

    def __init__(self, recover: Recover, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("kapp — use the recovery key")
        self._recover = recover
        self.result_value: Any = None
        self.key = QLineEdit()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(mono.pointSizeF(), self.font().pointSizeF()) * 1.1)
        mono.setWeight(QFont.Weight.DemiBold)
        self.key.setFont(mono)
        self.key.setPlaceholderText("ABCD-EFGH-… (8 groups of 4)")
        self.key.setMaxLength(80)
        self.key.setAccessibleName("Recovery key")
        self.username = QLineEdit()
        self.username.setMaxLength(64)
        self.username.setPlaceholderText("an administrator, for example: admin")
        self.username.setAccessibleName("Administrator user name")
        self.password = password_field("at least 10 characters")
        self.password.setAccessibleName("New password")
        self.password_again = password_field()
        self.password_again.setAccessibleName("New password again")
        self.problems = {name: Problem(beside=field) for name, field in (
            ("recovery_key", self.key), ("username", self.username),
            ("new_password", self.password), ("password_again", self.password_again))}
        self.general_problem = Problem()

        form = QFormLayout()
        for label, name, field in (("Recovery &key", "recovery_key", self.key),
                                   ("&Administrator", "username", self.username),
                                   ("&New password", "new_password", self.password),
                                   ("Same &again", "password_again", self.password_again)):
            form.addRow(buddy(label, field), field)
            form.addRow("", self.problems[name])
        explanation = QLabel(EXPLANATION)
        explanation.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(
            "Set the new password and sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(heading("Every password lost?"))
        layout.addWidget(explanation)
        layout.addLayout(form)
        layout.addWidget(self.general_problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.key.setFocus()

    def _clear(self) -> None:
        for problem in (*self.problems.values(), self.general_problem):
            problem.clear()

    def _field(self, name: str) -> QLineEdit | None:
        return {"recovery_key": self.key, "username": self.username,
                "new_password": self.password, "password_again": self.password_again}.get(name)

    def submit(self) -> None:
        self._clear()
        missing = [(name, text) for name, field, text in (
            ("recovery_key", self.key, "Type the recovery key."),
            ("username", self.username, "Type an administrator's user name."),
            ("new_password", self.password, "Choose a new password."))
            if not field.text().strip()]
        if not missing and self.password.text() != self.password_again.text():
            missing = [("password_again", "The two passwords differ; type the same password "
                                          "twice.")]
        if missing:
            for name, text in missing:
                self.problems[name].show_text(text)
            self._field(missing[0][0]).setFocus()
            return
        try:
            self.result_value = self._recover(self.key.text(), self.username.text(),
                                              self.password.text())
        except ValidationError as exc:
            for error in exc.errors:
                self.problems.get(error.field, self.general_problem).show_text(error.message)
            first = self._field(exc.errors[0].field) if exc.errors else None
            (first or self.key).setFocus()
            return
        except KappError as exc:  # the key does not open this clinic, or a file problem
            self.problems["recovery_key"].show_text(str(exc))
            self.key.setFocus()
            return
        self.password.clear()
        self.password_again.clear()
        self.key.clear()
        self.accept()
