"""Dissociation panel of the session screen.

A minimal placeholder with the agreed API; the steps helper's real panel replaces this
file at merge."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from kapp.ui.context import AppContext


class DissociationPanel(QGroupBox):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__("Dissociation", parent)
        self.session_id = session_id
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("(coming with the steps work)"))
        layout.addStretch(1)
