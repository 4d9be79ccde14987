"""The clinic overview: the start screen after sign-in (placeholder shell)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapp.ui.context import AppContext, Navigator


class Overview(QWidget):
    def __init__(self, ctx: AppContext, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Clinic overview"))
        layout.addStretch(1)
