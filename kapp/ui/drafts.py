"""``DraftKeeper``: a form's half-typed content survives a crash or the screen lock.

Use in a form (a QDialog or widget)::

    self.keeper = DraftKeeper(ctx, f"note:{session_id}",
                              fields={"text": self.text_edit, "time": self.time_edit},
                              parent=self)
    self.keeper.restore()          # on opening: puts the author's draft back, if any
    ...
    services.records.add_note(...)  # the form's own save
    self.keeper.discard()           # only after the save returned successfully

Fields may be QLineEdit, QTextEdit, QPlainTextEdit, QSpinBox, QDoubleSpinBox, QComboBox
(its current text), QCheckBox, QDateTimeEdit, or, for anything else, a pair of callables
``getter() -> dict`` and ``setter(dict)`` (then call ``keeper.changed()`` whenever the
form changes). The draft is saved ``delay_ms`` after the last change (3 s by default) and
at once by ``save_now()`` (call it before the screen locks). It is stored per signed-in
user: another user never gets it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QDateTime, QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QWidget,
)

from kapp.domain.errors import KappError
from kapp.ui.context import AppContext

log = logging.getLogger(__name__)

DEFAULT_DELAY_MS = 3000


def _value(widget: QWidget) -> Any:
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return widget.toPlainText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QDateTimeEdit):
        return widget.dateTime().toString("yyyy-MM-ddTHH:mm:ss")
    raise TypeError(f"DraftKeeper cannot read a {type(widget).__name__}")


def _set(widget: QWidget, value: Any) -> None:
    if value is None:
        return
    if isinstance(widget, QLineEdit):
        widget.setText(str(value))
    elif isinstance(widget, QTextEdit | QPlainTextEdit):
        widget.setPlainText(str(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, QDoubleSpinBox):
        widget.setValue(float(value))
    elif isinstance(widget, QComboBox):
        index = widget.findText(str(value))
        if index >= 0:
            widget.setCurrentIndex(index)
        elif widget.isEditable():
            widget.setEditText(str(value))
    elif isinstance(widget, QDateTimeEdit):
        widget.setDateTime(QDateTime.fromString(str(value), "yyyy-MM-ddTHH:mm:ss"))


def _changed_signal(widget: QWidget) -> Any:
    if isinstance(widget, QLineEdit):
        return widget.textChanged
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return widget.textChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.valueChanged
    if isinstance(widget, QComboBox):
        return widget.currentTextChanged
    if isinstance(widget, QDateTimeEdit):
        return widget.dateTimeChanged
    raise TypeError(f"DraftKeeper cannot watch a {type(widget).__name__}")


class DraftKeeper(QObject):
    """Saves a form's content as its author's draft while they type."""

    saved = Signal()  # a draft was saved
    restored = Signal()  # a draft was put back into the form
    failed = Signal(str)  # a draft could not be saved (the form itself is untouched)

    def __init__(self, ctx: AppContext, form_key: str, *,
                 fields: Mapping[str, QWidget] | None = None,
                 getter: Callable[[], dict[str, Any]] | None = None,
                 setter: Callable[[dict[str, Any]], None] | None = None,
                 delay_ms: int = DEFAULT_DELAY_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if (fields is None) == (getter is None):
            raise ValueError("give either fields or a getter (and setter)")
        self.ctx = ctx
        self.form_key = form_key
        self.fields = dict(fields or {})
        self._getter = getter
        self._setter = setter
        self._restoring = False
        self._dirty = False
        self._active = True
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.save_now)
        for widget in self.fields.values():
            _changed_signal(widget).connect(self.changed)

    @property
    def services(self) -> Any:
        return self.ctx.services

    def content(self) -> dict[str, Any]:
        if self._getter is not None:
            return dict(self._getter())
        return {name: _value(widget) for name, widget in self.fields.items()}

    def changed(self, *_args: Any) -> None:
        """The form changed: save the draft a little later (restarts the wait)."""
        if self._restoring or not self._active:
            return
        self._dirty = True
        self.timer.start()

    def save_now(self) -> bool:
        """Save the draft now if anything changed since the last save."""
        self.timer.stop()
        if not self._dirty or not self._active:
            return False
        try:
            self.services.drafts.save(actor=self.ctx.actor(), form_key=self.form_key,
                                      content=self.content())
        except KappError as exc:  # e.g. disk full: keep typing, the form is intact
            log.warning("draft %s not saved: %s", self.form_key, exc)
            self.failed.emit(str(exc))
            return False
        self._dirty = False
        self.saved.emit()
        return True

    def restore(self) -> bool:
        """Put the signed-in user's draft of this form back, if there is one."""
        try:
            draft = self.services.drafts.load(actor=self.ctx.actor(), form_key=self.form_key)
        except KappError as exc:
            log.warning("draft %s not loaded: %s", self.form_key, exc)
            return False
        if not draft:
            return False
        self._restoring = True
        try:
            if self._setter is not None:
                self._setter(draft)
            else:
                for name, widget in self.fields.items():
                    if name in draft:
                        _set(widget, draft[name])
        finally:
            self._restoring = False
        self.restored.emit()
        return True

    def discard(self) -> None:
        """The entry was saved: forget the draft, and stop keeping one for this form."""
        self.timer.stop()
        self._dirty = False
        self._active = False
        try:
            self.services.drafts.discard(actor=self.ctx.actor(), form_key=self.form_key)
        except KappError as exc:
            log.warning("draft %s not discarded: %s", self.form_key, exc)

    def resume(self) -> None:
        """Keep drafts again (a form reused for the next entry after a save)."""
        self._active = True
