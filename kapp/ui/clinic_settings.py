"""Administration ▸ Clinic settings…: the clinic's name, sign-in lockout and idle lock."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLineEdit, QSpinBox, QWidget

from kapp.domain.accounts import SETTING_RANGES
from kapp.ui.context import AppContext
from kapp.ui.forms import FormDialog


def _spin(key: str, value: int) -> QSpinBox:
    lo, hi, _label, unit = SETTING_RANGES[key]
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setSuffix(f" {unit}")
    return box


def clinic_settings_dialog(ctx: AppContext, parent: QWidget | None = None) -> FormDialog:
    current = ctx.services.settings.current()
    name = QLineEdit(current.clinic_name)
    name.setMaxLength(200)
    fields: list[tuple[str, str, QWidget]] = [("clinic_name", "Clinic &name", name)]
    for key, label in (("lockout_attempts", "Failed sign-ins before an account &waits"),
                       ("lockout_minutes", "&How long it waits"),
                       ("idle_lock_minutes", "&Lock the screen after no input for")):
        fields.append((key, label, _spin(key, getattr(current, key))))
    fields.append(("reason", "Rea&son (optional)", QLineEdit()))

    def submit(values: dict[str, Any]) -> Any:
        reason = values.pop("reason")
        changed = {k: v for k, v in values.items() if v != getattr(current, k)}
        if not changed:
            return current
        return ctx.services.settings.update(actor=ctx.actor(), values=changed, reason=reason)

    return FormDialog(
        "Clinic settings",
        "How shared workstations behave. The screen lock hides patient information when "
        "nobody has touched the keyboard or mouse for a while (2-15 minutes suits clinical "
        "areas). These are not clinical settings: protocol thresholds are changed by "
        "prescribers.",
        fields, submit, ok_text="Save settings", parent=parent)
