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
