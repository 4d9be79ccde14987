"""Adding an addendum to a signed session: the only way a signed record grows. The
addendum is signed by its author as it is saved: they re-enter their password, and the
signature records its meaning and time (as signing the session does)."""

from __future__ import annotations

import uuid

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.accounts import SignInRefused
from kapp.domain.entities import Addendum
from kapp.domain.errors import KappError
from kapp.ui.context import AppContext
from kapp.ui.qt_compat import run_modal
from kapp.ui.session_steps._forms import (
    Banner,
    ErrorLabel,
    ErrorRouter,
    SubmitTextEdit,
    day_and_time,
    make_default,
    not_opened,
    staff_names,
)
from kapp.ui.session_steps.sign import SignatureBox

ADDENDUM_MEANING = "addendum written and signed"



class AddendumDialog(QDialog):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.saved: Addendum | None = None
        self.setWindowTitle("Addendum")
        self.resize(760, 560)
        session = ctx.services.sessions.get(session_id)
        patient = ctx.services.patients.get(session.patient_id)
        names = staff_names(ctx)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"<span style='font-size:14pt'><b>Addendum</b></span> &nbsp; "
            f"{patient.display_name} ({patient.mrn}) · session {session.number_in_course} "
            f"of {day_and_time(session.actual_start or session.planned_start)[:10]}"))
        self.state = Banner("info")
        if session.is_signed:
            self.state.show_message(
                f"Signed by {names.get(session.signed_by_id, '?')} at "
                f"{day_and_time(session.signed_at)}. The record cannot change; an addendum "
                "adds to it, signed by you, with the time.", "info")
        else:
            self.state.show_message(
                "This session is not signed yet: correct it or add a note directly. "
                "Addenda are for signed sessions.", "warn")
        layout.addWidget(self.state)
        addenda = ctx.services.records.session_entries(session_id).addenda
        if addenda:
            earlier = QTextBrowser()
            earlier.setMaximumHeight(150)
            earlier.setHtml("".join(
                f"<p><b>{day_and_time(a.entry.entered_at)} · "
                f"{names.get(a.entry.entered_by_id, '?')}</b><br>"
                + a.text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>")
                + "</p>" for a in addenda))
            layout.addWidget(QLabel(f"Earlier addenda ({len(addenda)})"))
            layout.addWidget(earlier)
        caption = QLabel("&Text of the addendum")
        layout.addWidget(caption)
        self.text = SubmitTextEdit()
        self.text.submitted.connect(self.accept)
        self.text.setPlaceholderText("What is added, and why")
        caption.setBuddy(self.text)
        layout.addWidget(self.text, 1)
        self.banner = Banner("danger")
        self.errors = ErrorRouter(self.banner)
        layout.addWidget(self.errors.add("text", ErrorLabel(), self.text))
        self.signature = SignatureBox(ctx, ADDENDUM_MEANING)
        layout.addWidget(self.signature)
        layout.addWidget(self.banner)
        buttons = QDialogButtonBox()
        self.sign_button = buttons.addButton("&Sign and add (Ctrl+Enter)",
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_button.setEnabled(session.is_signed)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        make_default(self, self.sign_button)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.accept)
        self.text.setFocus()

    def accept(self) -> None:
        if not self.text.toPlainText().strip():
            self.errors.clear()
            self.errors._labels["text"].show_error("Write the addendum first")
            return
        password = self.signature.take_password()
        if not password:
            self.signature.show_problem("Type your password to sign the addendum.")
            return

        def save() -> Addendum:
            try:
                return self.ctx.services.records.add_addendum(
                    actor=self.ctx.actor(), session_id=self.session_id,
                    text=self.text.toPlainText(), password=password, meaning=ADDENDUM_MEANING)
            except SignInRefused as exc:  # next to the password, not in the general banner
                self.signature.show_problem(str(exc))
                raise

        ok, stored = self.errors.call(save)
        if ok:
            self.saved = stored
            super().accept()


def add_addendum(
        ctx: AppContext,
        session_id: uuid.UUID,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    try:
        dialog = AddendumDialog(ctx, session_id, parent)
    except KappError as exc:
        return not_opened(parent, "The addendum form", exc)
    return run_modal(dialog, lambda d: d.saved is not None)
