"""Signing a session: what is missing first; then the signer types their password again.

The signature records its meaning ("Reviewed and signed"), the time and the signer, and
locks the session: afterwards only addenda can be added (``SignatureBox`` below is the
same password-and-meaning block, for the addendum dialog).
"""

from __future__ import annotations

import html
import uuid

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.accounts import SIGNATURE_MEANING
from kapp.domain.errors import KappError, ValidationError
from kapp.domain.permissions import Permission, allowed
from kapp.ui.context import AppContext
from kapp.ui.session_steps._forms import not_opened
from kapp.ui.sign_in import Problem, buddy, heading, password_field


def _sentence(meaning: str) -> str:
    return meaning[:1].upper() + meaning[1:]


class SignatureBox(QWidget):
    """Who signs, what the signature means, and their password (re-entered)."""

    def __init__(self, ctx: AppContext, meaning: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meaning = meaning
        user = ctx.user
        now = ctx.clock.now().astimezone()
        self.password = password_field()
        self.password.setAccessibleName("Your password")
        self.problem = Problem(beside=self.password)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Signed by", QLabel(f"<b>{html.escape(user.full_name)}</b> "
                                        f"({user.role.value})" if user else "nobody"))
        form.addRow("Meaning", QLabel(f"<b>{html.escape(_sentence(meaning))}</b>"))
        form.addRow("Time", QLabel(f"{now:%d %b %Y, %H:%M} (recorded when you sign)"))
        box = QVBoxLayout()
        box.setSpacing(2)
        box.addWidget(self.password)
        box.addWidget(self.problem)
        form.addRow(buddy("Your &password", self.password), box)

    def take_password(self) -> str:
        text = self.password.text()
        self.password.clear()
        return text

    def show_problem(self, text: str) -> None:
        self.problem.show_text(text)
        self.password.setFocus()


class SignDialog(QDialog):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_id = session_id
        self.setWindowTitle("Sign the session")
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(heading("Sign the session", 1.2))
        self.missing = ctx.services.sessions.missing_for_signature(session_id)
        user = ctx.user
        may_sign = user is not None and allowed(user.role, Permission.SIGN)
        self.general_problem = Problem()
        self.signature: SignatureBox | None = None
        self.sign_button = QPushButton("Sign")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        if self.missing:
            items = "".join(f"<li>{html.escape(m)}</li>" for m in self.missing)
            text = QLabel("<p><b>This session cannot be signed yet.</b> Complete these first:"
                          f"</p><ul>{items}</ul>")
            text.setWordWrap(True)
            layout.addWidget(text)
            self.sign_button.setEnabled(False)
            self.cancel_button.setText("Close")
        elif not may_sign:
            text = QLabel("Only a prescriber can sign a session. Ask the prescriber on duty "
                          "to sign in (File ▸ Sign out / switch user) and sign it.")
            text.setWordWrap(True)
            layout.addWidget(text)
            self.sign_button.setEnabled(False)
            self.cancel_button.setText("Close")
        else:
            intro = QLabel("The record is complete. Signing locks it: afterwards it cannot "
                           "change, and anything to add goes into a signed addendum. Type "
                           "your password to sign with your name.")
            intro.setWordWrap(True)
            layout.addWidget(intro)
            self.signature = SignatureBox(ctx, SIGNATURE_MEANING)
            self.signature.password.returnPressed.connect(self.sign)
            layout.addWidget(self.signature)
            self.sign_button.setDefault(True)
            self.sign_button.clicked.connect(self.sign)
        layout.addWidget(self.general_problem)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.sign_button)
        layout.addLayout(buttons)
        self.setMinimumWidth(500)
        if self.signature is not None:
            self.signature.password.setFocus()

    def sign(self) -> None:
        if self.signature is None:
            return
        self.general_problem.clear()
        self.signature.problem.clear()
        password = self.signature.take_password()
        if not password:
            self.signature.show_problem("Type your password to sign.")
            return
        try:
            self.ctx.services.sessions.sign(actor=self.ctx.actor(), session_id=self.session_id,
                                            password=password, meaning=SIGNATURE_MEANING)
        except ValidationError as exc:
            self.general_problem.show_text(str(exc))
            return
        except KappError as exc:  # wrong password, locked, no right to sign, signed already
            if getattr(exc, "field", None) == "password":
                self.signature.show_problem(str(exc))
            else:
                self.general_problem.show_text(str(exc))
            return
        self.accept()


def sign_session(
        ctx: AppContext,
        session_id: uuid.UUID,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    try:
        dialog = SignDialog(ctx, session_id, parent)
    except KappError as exc:
        return not_opened(parent, "The signature form", exc)
    return dialog.exec() == QDialog.DialogCode.Accepted
