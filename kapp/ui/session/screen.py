"""One session on one screen (placeholder shell)."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapp.ui.context import AppContext, Navigator


class SessionScreen(QWidget):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session_id = session_id
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Session {session_id}"))
        layout.addStretch(1)
