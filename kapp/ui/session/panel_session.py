"""How a session screen's panel gets its session once built (notes, dissociation)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Protocol

from kapp.domain.entities import TreatmentSession
from kapp.services.changes import Change
from kapp.ui.context import AppContext


class SessionPanel(Protocol):
    def attach(self, session: TreatmentSession) -> None: ...

    def reload(self) -> None: ...


def begin(panel: SessionPanel, ctx: AppContext, session_id: uuid.UUID | None,
          session: TreatmentSession | None,
          on_changes: Callable[[frozenset[Change]], None]) -> None:
    """``session_id`` None: built ahead, the screen attaches it later. Given ``session``
    (as the screen holding it read it) the panel is attached and the screen shows it;
    given only the id, the panel reads the session, shows it and follows its changes."""
    if session_id is None:
        return
    panel.attach(session or ctx.services.sessions.get(session_id))
    if session is None:  # on its own
        ctx.changes.changed.connect(on_changes)
        panel.reload()
