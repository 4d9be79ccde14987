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
form changes, and give ``clear`` to empty the form). The draft is saved ``delay_ms`` after
the last change (3 s by default) and at once by ``save_now()``; ``save_all(ctx)`` saves
every open form's draft (the screen lock and closing the window call it).

A draft belongs to whoever typed it (``keeper.owner``). When another person signs in at
the same screen (the lock's "someone else?"), each form keeps what was typed as its
author's draft, empties itself, and puts back the new person's own draft, if any: nobody
sees, adds or overwrites a colleague's half-typed entry. ``DraftHint`` is the line under
a form that says "Restored your unsaved note from 14:32" or that a colleague's is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from PySide6.QtCore import QDateTime, QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QWidget,
)

from kapp.domain.entities import User
from kapp.domain.errors import KappError
from kapp.services.drafts import ColleagueDraft, FormDrafts, SavedDraft
from kapp.ui.context import AppContext
from kapp.ui.session_steps._forms import ICONS, local, tone

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
        cursor = widget.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)  # carry on where it stopped
        widget.setTextCursor(cursor)
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


def _clear(widget: QWidget) -> None:
    if isinstance(widget, QLineEdit | QTextEdit | QPlainTextEdit):
        widget.clear()
    elif isinstance(widget, QCheckBox):
        widget.setChecked(False)
    elif isinstance(widget, QSpinBox | QDoubleSpinBox):
        widget.setValue(widget.minimum())
    elif isinstance(widget, QComboBox):
        if widget.isEditable():
            widget.setEditText("")
        elif widget.count():
            widget.setCurrentIndex(0)


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
    restored = Signal(object)  # a draft was put back into the form (when it was saved)
    discarded = Signal()  # the entry was saved; its draft is gone
    switched = Signal()  # another person signed in: the form now holds their own draft
    failed = Signal(str)  # a draft could not be saved (the form itself is untouched)

    def __init__(self, ctx: AppContext, form_key: str | None, *,
                 fields: Mapping[str, QWidget] | None = None,
                 getter: Callable[[], dict[str, Any]] | None = None,
                 setter: Callable[[dict[str, Any]], None] | None = None,
                 clear: Callable[[], None] | None = None,
                 delay_ms: int = DEFAULT_DELAY_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if (fields is None) == (getter is None):
            raise ValueError("give either fields or a getter (and setter)")
        self.ctx = ctx
        self.form_key = form_key  # None: nothing kept until ``keep_for`` names the form
        self.fields = dict(fields or {})
        self._getter = getter
        self._setter = setter
        self._clear = clear
        self._restoring = False
        self._dirty = False
        self._active = form_key is not None
        self.owner: User | None = ctx.user  # whose typing the form holds
        self.restored_at: datetime | None = None
        self._others_known: list[ColleagueDraft] | None = None  # see ``keep_for``
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.save_now)
        for widget in self.fields.values():
            _changed_signal(widget).connect(self.changed)
        ctx.userChanged.connect(self._user_changed)

    @property
    def services(self) -> Any:
        return self.ctx.services

    @property
    def active(self) -> bool:
        return self._active

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
        if not self._dirty or not self._active or self.owner is None:
            return False
        try:
            self.services.drafts.save(actor=self.owner, form_key=self.form_key,
                                      content=self.content())
        except KappError as exc:  # e.g. disk full: keep typing, the form is intact
            log.warning("draft %s not saved: %s", self.form_key, exc)
            self.failed.emit(str(exc))
            return False
        self._dirty = False
        self.saved.emit()
        return True

    def keep_for(self, form_key: str, known: FormDrafts | None = None) -> bool:
        """Keep drafts of ``form_key`` from now on (a form built ahead, given its record
        when it is opened), and put the signed-in user's draft of it back; True if there
        was one. ``known``: this form's drafts as the opening screen read them with its
        other forms' (``DraftService.of_forms``), read here otherwise; what it says of
        colleagues' drafts holds until the form is saved or another person signs in."""
        self.form_key, self._active, self.owner = form_key, True, self.ctx.user
        self._others_known = None if known is None else list(known.others)
        if known is None:
            return self.restore()
        self.restored_at = None
        return self.owner is not None and self._put_back(known.own)

    def restore(self) -> bool:
        """Put the signed-in user's draft of this form back, if there is one."""
        self.restored_at, self._others_known = None, None  # read afresh from here on
        if self.owner is None or self.form_key is None:
            return False
        try:
            found = self.services.drafts.find(actor=self.owner, form_key=self.form_key)
        except KappError as exc:
            log.warning("draft %s not loaded: %s", self.form_key, exc)
            return False
        return self._put_back(found)

    def _put_back(self, found: SavedDraft | None) -> bool:
        if found is None or not found.content:
            return False
        self._restoring = True
        try:
            if self._setter is not None:
                self._setter(found.content)
            else:
                for name, widget in self.fields.items():
                    if name in found.content:
                        _set(widget, found.content[name])
        finally:
            self._restoring = False
        self.restored_at = found.saved_at
        self.restored.emit(found.saved_at)
        return True

    def colleagues(self) -> list[ColleagueDraft]:
        """Colleagues who keep a draft of this same form (who and when only)."""
        if self.owner is None or self.form_key is None:
            return []
        if self._others_known is not None:  # read with the form's own (``keep_for``)
            return self._others_known
        try:
            return self.services.drafts.others(actor=self.owner, form_key=self.form_key)
        except KappError as exc:
            log.warning("drafts of %s not listed: %s", self.form_key, exc)
            return []

    def discard(self) -> None:
        """The entry was saved: forget the draft, and stop keeping one for this form."""
        self.timer.stop()
        self._dirty = False
        self._active = False
        self.restored_at, self._others_known = None, None
        if self.owner is not None:
            try:
                self.services.drafts.discard(actor=self.owner, form_key=self.form_key)
            except KappError as exc:
                log.warning("draft %s not discarded: %s", self.form_key, exc)
        self.discarded.emit()

    def resume(self) -> None:
        """Keep drafts again (a form reused for the next entry after a save)."""
        self._active = True

    def put_away(self, typed: bool, ask: Callable[[], str], closing: bool) -> bool:
        """Cancel, Esc or closing the window on a form with this draft. Something typed:
        closing keeps it; otherwise ``ask`` says what to do (KEEP, DISCARD or BACK).
        Nothing typed: no draft is left from an earlier try. False: go back to the form."""
        if self.active and typed:
            choice = KEEP if closing else ask()
            if choice == BACK:
                return False
            if choice == DISCARD:
                self.discard()
            else:
                self.changed()  # the very last key is in the draft too
                self.save_now()
        elif self.active:
            self.discard()
        return True

    def _empty_form(self) -> None:
        self._restoring = True
        try:
            if self._clear is not None:
                self._clear()
            else:
                for widget in self.fields.values():
                    _clear(widget)
        finally:
            self._restoring = False

    def _user_changed(self, user: User | None) -> None:
        if user is not None and self.owner is not None and user.id == self.owner.id:
            self.owner = user  # the same person again: the form stays as it is
            return
        if not self._active:  # already saved; nothing here belongs to anyone
            self.owner = user
            return
        self.save_now()  # what is on the form stays its author's draft
        self._empty_form()
        self._dirty = False
        self.owner = user
        self.restore()
        self.switched.emit()


def save_all(ctx: AppContext) -> int:
    """Save now the draft of every open form of ``ctx`` (before the screen locks, when the
    window closes). The number saved."""
    seen: set[int] = set()
    count = 0
    for window in QApplication.topLevelWidgets():
        for keeper in window.findChildren(DraftKeeper):
            if id(keeper) in seen or keeper.ctx is not ctx:
                continue
            seen.add(id(keeper))
            count += keeper.save_now()
    return count


def when(ctx: AppContext, moment: datetime) -> str:
    """"14:32" today, "Tue 3 Mar 14:32" on another day."""
    moment, today = local(moment), local(ctx.clock.now())
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    return f"{moment.strftime('%a')} {moment.day} {moment.strftime('%b %H:%M')}"


class DraftHint(QLabel):
    """One calm line under a form: "Restored your unsaved note from 14:32.", or that a
    colleague's unsaved note is kept for them (never what it says). Hidden otherwise."""

    def __init__(self, keeper: DraftKeeper, what: str, *, plural: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keeper = keeper
        self.what = what
        self.plural = plural
        self.setObjectName("draftHint")
        self.setWordWrap(True)
        self.setVisible(False)
        keeper.restored.connect(lambda _at: self.refresh())
        keeper.switched.connect(self.refresh)
        keeper.discarded.connect(self.refresh)
        back, strong = tone(self, "info")
        self.setStyleSheet(f"QLabel#draftHint {{ background: {back}; color: palette(text);"
                           f" border-left: 3px solid {strong}; padding: 3px 6px; }}")

    def refresh(self) -> None:
        lines = []
        ctx = self.keeper.ctx
        if self.keeper.restored_at is not None:
            lines.append(f"{ICONS['info']} Restored your unsaved {self.what} from "
                         f"{when(ctx, self.keeper.restored_at)}.")
        others = self.keeper.colleagues()
        if others:
            first, many = others[0], len(others) > 1
            who = f"{first.full_name} and {len(others) - 1} more" if many else first.full_name
            article = "" if self.plural or many else "an "
            lines.append(f"{ICONS['info']} {who} {'have' if many else 'has'} {article}unsaved "
                         f"{self.what} here from {when(ctx, first.saved_at)}. It stays theirs "
                         "and comes back when they sign in.")
        self.setText("\n".join(lines))
        self.setVisible(bool(lines))


# -- Cancel with something typed -------------------------------------------------------------


class ClosingKnown:
    """Mixed into a dialog with a draft (before QDialog): ``closing`` is true while the
    window's close button, not Cancel or Esc, rejects it, so that ``reject`` puts the form
    away with its draft kept instead of asking (see ``DraftKeeper.put_away``)."""

    closing = False

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing = True
        try:
            super().closeEvent(event)  # type: ignore[misc]  # calls reject()
        finally:
            self.closing = False

KEEP, DISCARD, BACK = "keep", "discard", "back"  # what Cancel with something typed means


def ask_keep_or_discard(parent: QWidget, title: str, text: str, informative: str, *,
                        discard_label: str = "Discard", keep_first: bool = False) -> str:
    """Cancel on a form with something typed: keep it as a draft for later, throw it
    away, or go back to the form (Esc). ``keep_first``: Enter keeps, else Enter goes back.
    A modal box: forms wrap it in a method that tests replace."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setInformativeText(informative)
    keep = box.addButton("Keep for later", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton(discard_label, QMessageBox.ButtonRole.DestructiveRole)
    back = box.addButton("Back to the form", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep if keep_first else back)
    box.setEscapeButton(back)
    box.exec()
    clicked = box.clickedButton()
    return DISCARD if clicked is discard else KEEP if clicked is keep else BACK
