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
