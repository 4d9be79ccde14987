"""First run: name the clinic, create the first administrator, show the recovery key once.

``create(ClinicForm) -> NewClinic`` does the work (``Gate.create_clinic``); this screen
collects what it needs, shows each problem next to its field, then shows the recovery
key a single time and asks the person to confirm that they stored it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.accounts import MIN_PASSWORD_LENGTH
from kapp.domain.errors import KappError, ValidationError
from kapp.services.startup import ClinicForm, NewClinic
from kapp.ui.sign_in import Problem, buddy, heading, password_field

CreateClinic = Callable[[ClinicForm], NewClinic]

KEY_EXPLANATION = (
    "<p>This <b>recovery key</b> opens the clinic's records if every administrator "
    "password is lost. Nobody can show it to you again, and without it (or an "
    "administrator's password) the records cannot be opened by anyone.</p>"
    "<p><b>Print it or write it down now</b>, and keep it locked away from the computer "
    "(for example in the clinic safe). Do not save it in a file, e-mail or photo on this "
    "computer.</p>")


class FirstRunDialog(QDialog):
    def __init__(self, create: CreateClinic, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("kapp — set up the clinic")
        self._create = create
        self.created: NewClinic | None = None
        self.pages = QStackedWidget()
        self.pages.addWidget(self._form_page())
        self.pages.addWidget(self._key_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.setMinimumWidth(560)
        self.clinic_name.setFocus()

    # -- page 1: the clinic and its first administrator ------------------------------------
    def _form_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(10)
        layout.addWidget(heading("Set up kapp for your clinic"))
        intro = QLabel("There are no accounts yet. Name the clinic and create the first "
                       "administrator account. The administrator then creates an account "
                       "for each nurse and prescriber.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.clinic_name = QLineEdit()
        self.clinic_name.setMaxLength(200)
        self.full_name = QLineEdit()
        self.full_name.setMaxLength(200)
        self.username = QLineEdit()
        self.username.setMaxLength(64)
        self.username.setPlaceholderText("lower-case, for example: admin or j.smith")
        self.password = password_field(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.password_again = password_field()
        self.problems: dict[str, Problem] = {}
        form = QFormLayout()
        for field, label, widget in (
                ("clinic_name", "&Clinic name", self.clinic_name),
                ("full_name", "Administrator's &full name", self.full_name),
                ("username", "&User name", self.username),
                ("password", "&Password", self.password),
                ("password_again", "Password &again", self.password_again)):
            widget.setAccessibleName(label.replace("&", ""))
            problem = Problem(beside=widget)
            self.problems[field] = problem
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(problem)
            form.addRow(buddy(label, widget), box)
        layout.addLayout(form)
        hint = QLabel(f"A good password is long rather than complicated: at least "
                      f"{MIN_PASSWORD_LENGTH} characters, for example three or four unrelated "
                      "words.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.general_problem = Problem()
        layout.addWidget(self.general_problem)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Quit")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.create_button = QPushButton("Create the clinic")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        layout.addLayout(buttons)
        return page

    def submit(self) -> None:
        for problem in (*self.problems.values(), self.general_problem):
            problem.clear()
        if self.password.text() != self.password_again.text():
            self.problems["password_again"].show_text("The two passwords differ: type the "
                                                      "same password twice.")
            self.password_again.clear()
            self.password_again.setFocus()
            return
        form = ClinicForm(clinic_name=self.clinic_name.text(), username=self.username.text(),
                          full_name=self.full_name.text(), password=self.password.text())
        try:
            created = self._create(form)
        except ValidationError as exc:
            first: QWidget | None = None
            for error in exc.errors:
                problem = self.problems.get(error.field, self.general_problem)
                problem.show_text(error.message)
                first = first or {"clinic_name": self.clinic_name,
                                  "full_name": self.full_name, "username": self.username,
                                  "password": self.password}.get(error.field)
            if first is not None:
                first.setFocus()
            return
        except KappError as exc:
            self.general_problem.show_text(str(exc))
            return
        self.password.clear()
        self.password_again.clear()
        self.created = created
        if not created.recovery_key:  # an unencrypted file or a server: no key to keep
            self.accept()
            return
        self.key_label.setText(created.recovery_key)
        self.pages.setCurrentIndex(1)
        self.stored.setFocus()

    # -- page 2: the recovery key, once ---------------------------------------------------
    def _key_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(10)
        layout.addWidget(heading("Store the recovery key"))
        explanation = QLabel(KEY_EXPLANATION)
        explanation.setWordWrap(True)
        explanation.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(explanation)
        self.key_label = QLabel()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(mono.pointSizeF(), self.font().pointSizeF()) * 1.3)
        mono.setWeight(QFont.Weight.DemiBold)
        self.key_label.setFont(mono)
        self.key_label.setWordWrap(True)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setFrameShape(QLabel.Shape.Box)
        self.key_label.setMargin(12)
        self.key_label.setAccessibleName("Recovery key")
        layout.addWidget(self.key_label)
        self.print_button = QPushButton("&Print…")
        self.print_button.setAutoDefault(False)
        self.print_button.clicked.connect(self._print)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.print_button)
        layout.addLayout(row)
        self.stored = QCheckBox("I have printed or written down the recovery key and stored it "
                                "somewhere safe")
        self.stored.toggled.connect(lambda on: self.finish_button.setEnabled(on))
        layout.addWidget(self.stored)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.finish_button = QPushButton("Start using kapp")
        self.finish_button.setEnabled(False)
        self.finish_button.clicked.connect(self.finish)
        buttons.addWidget(self.finish_button)
        layout.addLayout(buttons)
        return page

    def finish(self) -> None:
        if not self.stored.isChecked():
            return
        self.key_label.clear()  # shown once: gone from the screen and from memory here
        self.accept()

    def reject(self) -> None:
        # Once the clinic exists, the key page stays until the key is confirmed as stored.
        if self.created is None:
            super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.created is not None:
            return
        super().keyPressEvent(event)

    def _print(self) -> None:
        print_recovery_key(self, self.key_label.text())


def print_recovery_key(parent: QWidget, key: str) -> None:
    """Print the key on paper (straight to the printer: no file is written)."""
    from PySide6.QtGui import QTextDocument
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.NativeFormat)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return
    document = QTextDocument()
    document.setHtml(f"<h2>kapp recovery key</h2>{KEY_EXPLANATION}"
                     f"<p style='font-family: monospace; font-size: 16pt'>{key}</p>")
    document.print_(printer)
