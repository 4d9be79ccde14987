"""The pre-session checklist, controlled substance and baseline scores.

A stub with the API the session screen calls; the real dialog replaces it."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QWidget

from kapp.ui.context import AppContext
from kapp.ui.session_steps._pending import not_yet


def open_pre_session(
        ctx: AppContext,
        session_id: uuid.UUID,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    return not_yet(parent, "The pre-session checklist, controlled substance and baseline scores")
