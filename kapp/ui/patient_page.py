"""One patient: who they are, their flags, courses and sessions (placeholder shell)."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapp.ui.context import AppContext, Navigator


class PatientPage(QWidget):
    def __init__(self, ctx: AppContext, patient_id: uuid.UUID, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.patient_id = patient_id
        patient = ctx.services.patients.get(patient_id)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{patient.family_name}, {patient.given_name} ({patient.mrn})"))
        layout.addStretch(1)
