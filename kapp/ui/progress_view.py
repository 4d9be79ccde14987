"""A patient's progress over time (placeholder shell)."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapp.ui.context import AppContext, Navigator


class ProgressView(QWidget):
    def __init__(self, ctx: AppContext, patient_id: uuid.UUID, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient_id = patient_id
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Progress charts"))
        layout.addStretch(1)
