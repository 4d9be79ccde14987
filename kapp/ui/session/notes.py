"""Free notes for the session, listed with time and author; struck notes stay, struck.

A half-typed note is its author's draft (``note:<session id>``): saved a second after the
last key, and at once when the screen locks or the window closes; it comes back when the
session is opened again (after a crash, a restart, or a colleague's turn at the keyboard),
and is discarded once the note itself is added."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.entities import Note, TreatmentSession
from kapp.domain.errors import KappError
from kapp.services.changes import Change
from kapp.services.drafts import FormDrafts
from kapp.services.reading import SessionEntries
from kapp.ui.context import AppContext
from kapp.ui.drafts import DraftHint, DraftKeeper
from kapp.ui.session.panel_session import begin
from kapp.ui.session_steps._forms import (
    Banner,
    ErrorLabel,
    ErrorRouter,
    SubmitTextEdit,
    hhmm,
    staff_names,
)
from kapp.ui.session_steps.correction import strike_entry
from kapp.ui.time_field import TimeField

DRAFT_DELAY_MS = 1000  # a second after the last key: a crash loses at most that much


class NotesPanel(QWidget):
    def __init__(self, ctx: AppContext, session_id: uuid.UUID | None,
                 parent: QWidget | None = None, *,
                 session: TreatmentSession | None = None) -> None:
        """``session``: the session as the screen that holds this panel read it; the
        screen then shows each change here (``show_entries``) from its own one read.
        Without it the panel reads the session's notes itself and follows changes.
        ``session_id`` None: a panel built ahead for a screen, which gives it its session
        (``attach``) and shows it."""
        super().__init__(parent)
        self.ctx = ctx
        self.session_id: uuid.UUID | None = None
        self.patient_id: uuid.UUID | None = None
        self.notes: list[Note] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.title = QLabel("<b>Notes</b>")
        layout.addWidget(self.title)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout.addWidget(self.list, 1)
        self.text = SubmitTextEdit()
        self.text.setPlaceholderText("Type a note; Ctrl+Enter adds it")
        # Two lines and a half: a longer note scrolls in its box.
        self.text.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 // 2 + 10)
        self.text.submitted.connect(self.add_note)
        # The note with its buttons beside it and its time under it: the panel is a
        # narrow column of the session screen.
        typed = QHBoxLayout()
        typed.setSpacing(4)
        typed.addWidget(self.text, 1)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        typed.addLayout(buttons)
        layout.addLayout(typed)
        self.keeper = DraftKeeper(ctx, None, fields={"text": self.text},
                                  delay_ms=DRAFT_DELAY_MS, parent=self)
        self.draft_hint = DraftHint(self.keeper, "note")
        layout.addWidget(self.draft_hint)
        self.banner = Banner("danger")
        self.errors = ErrorRouter(self.banner)
        layout.addWidget(self.errors.add("text", ErrorLabel(), self.text))
        self.errors.add(("written_at", "session_id"), ErrorLabel())
        self.time = TimeField(ctx)
        layout.addWidget(self.time)
        self.add_button = QPushButton("Add note")
        self.add_button.setToolTip("Add the note (Ctrl+Enter)")
        self.add_button.clicked.connect(self.add_note)
        self.strike_button = QPushButton("Strike…")
        self.strike_button.setToolTip("Strike the selected note through, with a reason")
        self.strike_button.clicked.connect(self.strike_selected)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.strike_button)
        buttons.addStretch(1)
        layout.addWidget(self.banner)
        # What shows this panel again after its own entry: the screen holding it puts
        # its own reload here, which shows every panel from one read.
        self.refresh: Callable[[], None] = self.reload
        begin(self, ctx, session_id, session, self._on_changes)

    @staticmethod
    def draft_key(session_id: uuid.UUID) -> str:
        return f"note:{session_id}"

    def attach(self, session: TreatmentSession,
               drafts: Mapping[str, FormDrafts] | None = None) -> None:
        """This panel is ``session``'s from now on; its author's draft note put back.
        ``drafts``: as the screen read them (by ``draft_key``), else read here."""
        self.session_id, self.patient_id = session.id, session.patient_id
        key = self.draft_key(session.id)
        self.keeper.keep_for(key, (drafts or {}).get(key))
        self.draft_hint.refresh()

    def add_note(self) -> bool:
        ok, _ = self.errors.call(lambda: self.ctx.services.records.add_note(
            actor=self.ctx.actor(), patient_id=self.patient_id, session_id=self.session_id,
            text=self.text.toPlainText(), written_at=self.time.value()))
        if ok:
            self.keeper.discard()  # the note is saved: its draft has done its job
            self.text.clear()
            self.keeper.resume()  # the next note is kept as a draft again
            self.time.reset()
            self.refresh()
        return ok

    def strike_selected(self) -> bool:
        item = self.list.currentItem()
        note = self._note(item)
        if note is None:
            self.banner.show_message("Select the note to strike through.", "info")
            return False
        done = strike_entry(self.ctx, "notes", note.id,
                            f"Note at {hhmm(note.written_at)}: {note.text}", self)
        self.refresh()
        return done

    def _note(self, item: QListWidgetItem | None) -> Note | None:
        if item is None:
            return None
        key = item.data(Qt.ItemDataRole.UserRole)
        return next((n for n in self.notes if str(n.id) == key), None)

    def _on_changes(self, changes: frozenset[Change]) -> None:
        if Change.ENTRIES in changes:
            self.reload()

    def reload(self) -> None:
        try:
            entries = self.ctx.services.records.session_entries(self.session_id)
            names = staff_names(self.ctx)
        except KappError as exc:
            self.banner.show_message(str(exc), "danger")
            return
        self.show_entries(entries, names)

    def show_entries(self, entries: SessionEntries, names: dict[uuid.UUID, str]) -> None:
        self.notes = list(entries.notes)
        self.list.clear()
        # Newest first, as the timeline: the latest note is in view however short the
        # column is.
        for note in reversed(self.notes):
            who = names.get(note.entry.entered_by_id, "?")
            text = f"{hhmm(note.written_at)} · {who}\n{note.text}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, str(note.id))
            if note.entry.is_struck:
                strike = note.entry.strike
                assert strike is not None
                font = item.font()
                font.setStrikeOut(True)
                item.setFont(font)
            item.setToolTip(html.escape(note.text))
            self.list.addItem(item)
            if note.entry.is_struck:
                why = QListWidgetItem(f"   ↳ struck through by {names.get(strike.by_id, '?')} "
                                      f"at {hhmm(strike.at)}: {strike.reason}")
                italic = why.font()
                italic.setItalic(True)
                why.setFont(italic)
                why.setFlags(Qt.ItemFlag.NoItemFlags | Qt.ItemFlag.ItemIsEnabled)
                self.list.addItem(why)
