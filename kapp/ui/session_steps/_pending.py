"""Until a step's dialog lands: say so plainly instead of failing."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def not_yet(parent: QWidget | None, what: str) -> bool:
    QMessageBox.information(parent, "kapp", f"{what} is not available in this build yet.")
    return False
