"""What the pump bar and the nasal devices bar share: a problem said under the bar, next
to the field it is about, and a yes/no question."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from kapp.ui.session.vitals_entry import ERROR_STYLE


def say_problem(message: QLabel, text: str, widget: QWidget | None = None) -> bool:
    """Add ``text`` to the bar's message line and mark ``widget`` (focused to mend it).
    Returns False, for ``return say_problem(...)`` where an entry was refused."""
    previous = message.text()
    message.setText(f"{previous}\n⚠ {text}" if previous else f"⚠ {text}")
    message.show()
    if widget is not None:
        widget.setStyleSheet(ERROR_STYLE)
        widget.setFocus()
    return False


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    """Yes or No, No the default (what is asked is always the exception)."""
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
