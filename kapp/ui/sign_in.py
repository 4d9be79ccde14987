"""Signing in: user name and password, and plain words when it does not work.

The form only collects the credentials; a ``try_sign_in(username, password)`` callable
checks them (with encryption it also opens the database) and either returns the result
or raises ``SignInRefused`` (wrong user name or password, locked until HH:MM, account
deactivated). The messages never say whether a user name exists.

This window is the first one painted, so its module leaves Qt's ``Qt`` namespace alone
until a message or a key needs it: PySide6 builds Python enums for the whole namespace
(93 of them, ~20 ms here) the first time anything takes ``Qt`` from ``QtCore``, and
that is better paid after the window is on screen (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.errors import KappError

TrySignIn = Callable[[str, str], Any]


class _MeasuredLabel(QLabel):
    """A wrapped label whose height is set from outside (``Problem.show_text``): form
    layouts answer height-for-width too small and would clip the message."""

    def hasHeightForWidth(self) -> bool:
        return False


class Problem(QWidget):
    """A message next to a field or form: a warning icon and words (never colour alone)."""

    def __init__(self, parent: QWidget | None = None, *,
                 beside: QWidget | None = None) -> None:
        super().__init__(parent)
        self.beside = beside  # the field it belongs to (its width is the message's)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self.icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        self.label = _MeasuredLabel()
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Problem")
        self._laid_out = False  # see _lay_out
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        self.hide()

    def text(self) -> str:
        return self.label.text() if self.isVisibleTo(self.parentWidget()) else ""

    def _lay_out(self) -> None:
        """Icon and words at the top, the words selectable: set when there is first
        something to show (the module's docstring says why not before)."""
        from PySide6.QtCore import Qt

        self._laid_out = True
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def show_text(self, text: str) -> None:
        if text and not self._laid_out:
            self._lay_out()
        self.label.setText(text)
        self.setVisible(bool(text))
        if text:
            # A wrapped label's height depends on its width, which layouts do not ask
            # for: say how tall it must be at the width it will get, so nothing is clipped.
            host = self.beside or self.parentWidget()
            width = (host.width() if host is not None else 300) - self.icon.sizeHint().width()
            self.label.setMinimumHeight(self.label.heightForWidth(max(width - 12, 120)))
            QTimer.singleShot(0, self, self._grow_window)  # not after deletion
        else:
            self.label.setMinimumHeight(0)

    def _grow_window(self) -> None:
        """Wrapped text elsewhere in the window needs more height than the window's minimum
        says: grow the window to what its layout needs at its width."""
        window = self.window()
        layout = window.layout() if window is not None else None
        if layout is None or not window.isVisible():
            return
        layout.activate()
        need = layout.totalHeightForWidth(window.width()) if layout.hasHeightForWidth() \
            else layout.totalSizeHint().height()
        if need > window.height():
            window.resize(window.width(), need)

    def clear(self) -> None:
        self.show_text("")


class _PasswordField(QLineEdit):
    """No context menu out of a password box (Qt's password mode already refuses copy and
    drag, and asks input methods to remember nothing: hidden, sensitive, no prediction)."""

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event.accept()


def password_field(placeholder: str = "") -> QLineEdit:
    field = _PasswordField()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    field.setMaxLength(256)
    return field


def buddy(text: str, widget: QWidget) -> QLabel:
    """A field label whose &-letter jumps to the field (Alt+letter)."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def heading(text: str, scale: float = 1.4) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def _is_enter(event: QKeyEvent) -> bool:
    from PySide6.QtCore import Qt  # see the module's docstring

    return event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SignInForm(QWidget):
    """User name, password, a button; emits ``signedIn`` with what ``try_sign_in`` returned."""

    signedIn = Signal(object)  # noqa: N815

    def __init__(self, try_sign_in: TrySignIn, *, username: str = "",
                 button_text: str = "Sign in", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._try = try_sign_in
        self.username = QLineEdit(username)
        self.username.setMaxLength(64)
        self.username.setPlaceholderText("for example: j.smith")
        self.username.setAccessibleName("User name")
        self.password = password_field()
        self.password.setAccessibleName("Password")
        self.problem = Problem()
        self.button = QPushButton(button_text)
        self.button.setDefault(True)
        self.button.setAutoDefault(True)
        self.button.clicked.connect(self.submit)
        # Enter in a field is handled here and goes no further: a line edit passes the key
        # on to its dialog, whose default button would submit a second time with the
        # password already cleared, replacing the refusal ("locked until HH:MM") with
        # "Enter your password.".
        self.username.installEventFilter(self)
        self.password.installEventFilter(self)
        form = QFormLayout()
        form.addRow(buddy("&User name", self.username), self.username)
        form.addRow(buddy("&Password", self.password), self.password)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        layout.addLayout(buttons)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and _is_enter(event) and watched in (self.username, self.password)):
            if watched is self.username:
                self._next_or_submit()
            else:
                self.submit()
            return True
        return super().eventFilter(watched, event)

    def focus(self) -> None:
        (self.password if self.username.text() else self.username).setFocus()

    def set_username(self, name: str) -> None:
        self.username.setText(name)
        self.password.clear()
        self.problem.clear()

    def _next_or_submit(self) -> None:
        if self.password.text():
            self.submit()
        else:
            self.password.setFocus()

    def submit(self) -> None:
        name, secret = self.username.text().strip(), self.password.text()
        if not name:
            self.problem.show_text("Enter your user name.")
            self.username.setFocus()
            return
        if not secret:
            self.problem.show_text("Enter your password.")
            self.password.setFocus()
            return
        try:
            result = self._try(name, secret)
        except KappError as exc:  # SignInRefused and anything the opener reports
            self.problem.show_text(str(exc))
            self.password.clear()
            self.password.setFocus()
            return
        finally:
            secret = ""
        self.password.clear()
        self.problem.clear()
        self.signedIn.emit(result)


class SignInDialog(QDialog):
    """The first thing on screen when the clinic has accounts."""

    def __init__(self, try_sign_in: TrySignIn, *, database_label: str = "",
                 clinic_name: str = "", recover: Callable[[str, str, str], Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("kapp — sign in")
        self.result_value: Any = None
        self.form = SignInForm(try_sign_in)
        self.form.signedIn.connect(self._done)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.addWidget(heading(f"Sign in to {clinic_name}" if clinic_name
                                 else "Sign in to kapp"))
        intro = QLabel("Use your own account: everything you record is signed with your name.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        # Shown only while a sign-in waits for the clinic to finish opening (the database
        # layer loads while the person types: kapp/ui/opening.py): an icon and words.
        self.opening = QWidget()
        opening_row = QHBoxLayout(self.opening)
        opening_row.setContentsMargins(0, 0, 0, 0)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxInformation).pixmap(size, size))
        self.opening_text = QLabel("Opening the clinic… you are signed in as soon as "
                                   "it is open.")
        self.opening_text.setWordWrap(True)
        self.opening_text.setAccessibleName("Status")
        opening_row.addWidget(icon)
        opening_row.addWidget(self.opening_text, 1)
        self.opening.hide()
        layout.addWidget(self.opening)
        if database_label:
            where = QLabel(f"Database: {database_label}")
            where.setWordWrap(True)
            layout.addWidget(where)
        quit_row = QHBoxLayout()
        self._recover = recover
        self.recover_button: QPushButton | None = None
        if recover is not None:  # an encrypted clinic: its recovery key is the way back in
            self.recover_button = QPushButton("Every password lost? Use the recovery key…")
            self.recover_button.setFlat(True)
            self.recover_button.setAutoDefault(False)
            self.recover_button.clicked.connect(self.use_recovery_key)
            quit_row.addWidget(self.recover_button)
        quit_row.addStretch(1)
        self.quit_button = QPushButton("Quit")
        self.quit_button.setAutoDefault(False)
        self.quit_button.clicked.connect(self.reject)
        quit_row.addWidget(self.quit_button)
        layout.addLayout(quit_row)
        self.setMinimumWidth(460)
        self.form.focus()

    def _done(self, result: Any) -> None:
        self.result_value = result
        self.accept()

    def set_opening(self, busy: bool) -> None:
        """Say that the clinic is still opening (the sign-in waits for it), and hold the
        fields as typed until it has."""
        self.opening.setVisible(busy)
        self.form.setEnabled(not busy)
        if self.recover_button is not None:
            self.recover_button.setEnabled(not busy)
        if busy:
            self.opening.repaint()

    def use_recovery_key(self) -> None:
        from kapp.ui.recovery import RecoveryDialog

        assert self._recover is not None
        dialog = self.recovery_dialog = RecoveryDialog(self._recover, self)
        dialog.accepted.connect(lambda: self._done(dialog.result_value))
        dialog.open()
