"""Striking an entry through.

A stub with the API the session screen calls; the real dialog replaces it."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QWidget

from kapp.ui.context import AppContext
from kapp.ui.session_steps._pending import not_yet


def strike_entry(
        ctx: AppContext,
        table: str,
        entry_id: uuid.UUID,
        description: str,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    return not_yet(parent, "Striking an entry through")
