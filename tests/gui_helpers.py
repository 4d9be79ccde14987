"""Helpers for the GUI tests (importable because pytest puts tests/ on the path)."""

from __future__ import annotations

import os
from pathlib import Path


def shot(widget, name: str) -> None:
    """Save what ``widget`` shows when KAPP_SCREENSHOTS names a folder (for a person to
    look at); nothing otherwise."""
    folder = os.environ.get("KAPP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert widget.grab().save(str(Path(folder) / f"{name}.png"))


def show(qtbot, dialog):
    """Show a dialog without its event loop (tests drive it, nothing blocks)."""
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


VITALS_ORDER = ["hr", "systolic", "diastolic", "spo2", "rr"]


def tab_through_vitals(qtbot, entry, values: list[str]):
    """HR, SYS, DIA, SpO2, RR typed into a session's vitals entry with Tab between them,
    as a nurse does; returns the rhythm field, which has the focus then."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    entry.focus_first()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is entry.edits["hr"])
    for field, text in zip(VITALS_ORDER, values, strict=True):
        widget = QApplication.focusWidget()
        assert widget is entry.edits[field]
        qtbot.keyClicks(widget, text)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    widget = QApplication.focusWidget()
    assert widget is entry.edits["rhythm"]
    return widget


def dark_palette():
    """A dark system palette, for looking at a screen the way a dark theme shows it."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base,
                        "#17181a"), (QPalette.ColorRole.AlternateBase, "#26272a"),
                        (QPalette.ColorRole.Text, "#e8eaed"),
                        (QPalette.ColorRole.WindowText, "#e8eaed"),
                        (QPalette.ColorRole.Button, "#303134"),
                        (QPalette.ColorRole.ButtonText, "#e8eaed")):
        palette.setColor(role, QColor(color))
    return palette
