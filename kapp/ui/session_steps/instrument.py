"""A score form generated from an instrument's data file (PHQ-9, GAD-7, MADRS, CADSS...).

Nothing here knows a particular scale: items, answer options, bands and flag rules all
come from ``resources/instruments/*.json`` (or a clinic's licensed file). Keyboard: the
number keys answer the item in focus and move on to the next; Up/Down move between items,
Left/Right step through the answers, Backspace clears, Ctrl+Enter saves.

The answers given so far are their author's draft (patient, instrument, time point and
session): kept a second after each answer and at once when the screen locks, so a crash
or the lock loses none; offered back, with the time they were given, when the same form is
opened again; discarded once the score is saved, or when the nurse cancels and says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import InstrumentResult
from kapp.domain.errors import KappError
from kapp.domain.instruments import AnswerOption, Instrument, Item
from kapp.ui.context import AppContext
from kapp.ui.drafts import ClosingKnown, DraftHint, DraftKeeper, ask_keep_or_discard
from kapp.ui.qt_compat import run_modal
from kapp.ui.session_steps._forms import (
    ICONS,
    Banner,
    ErrorRouter,
    emit,
    make_default,
    not_opened,
    style_choice,
    tone,
)
from kapp.ui.time_field import TimeField

TIME_POINT_WORDS = {
    e.TimePoint.BASELINE: "Baseline (the course's starting score)",
    e.TimePoint.PRE_SESSION: "Before this session",
    e.TimePoint.PEAK: "At the peak (about 40 minutes)",
    e.TimePoint.POST_SESSION: "After the session",
    e.TimePoint.H4: "4 hours after",
    e.TimePoint.H24: "24 hours after",
    e.TimePoint.D7: "7 days after",
    e.TimePoint.D28: "28 days after",
}

ESCALATE = "Tell the prescriber now and follow the clinic's protocol."
DRAFT_DELAY_MS = 1000



def draft_key(patient_id: uuid.UUID, code: str, time_point: e.TimePoint,
              session_id: uuid.UUID | None) -> str:
    return f"instrument:{patient_id}:{code}:{time_point.value}:{session_id or '-'}"


def option_text(option: AnswerOption) -> str:
    """"0 Not at all"; labels that already start with their score stay as they are."""
    label = option.label.strip()
    return label if label.startswith(str(option.score)) else f"{option.score}  {label}"


class ItemRow(QFrame):
    """One item: its number, label (and licensed wording, if any) and its answers."""

    answered = Signal(int, object)  # item number, score or None
    step = Signal(int, int)  # item number, +1 next / -1 previous

    def __init__(self, item: Item, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.value: int | None = None
        self._missing = False
        self._last_digit: str | None = None
        self.setObjectName("itemRow")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"Item {item.number}: {item.label}")
        long = any(len(option_text(o)) > 28 for o in item.options)
        outer = QBoxLayout(QBoxLayout.Direction.TopToBottom if long
                           else QBoxLayout.Direction.LeftToRight, self)
        outer.setContentsMargins(8, 4, 8, 4)
        words = QVBoxLayout()
        title = QLabel(f"<b>{item.number}.</b> {item.label}")
        title.setWordWrap(True)
        words.addWidget(title)
        if item.text:
            full = QLabel(item.text)
            full.setWordWrap(True)
            words.addWidget(full)
        self.missing_label = QLabel()
        self.missing_label.setVisible(False)
        words.addWidget(self.missing_label)
        holder = QWidget()
        holder.setLayout(words)
        if not long:
            holder.setFixedWidth(270)
        holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        outer.addWidget(holder)
        choices = QBoxLayout(QBoxLayout.Direction.TopToBottom if long
                             else QBoxLayout.Direction.LeftToRight)
        choices.setSpacing(4)
        self.buttons: dict[int, QPushButton] = {}
        for option in item.options:
            button = QPushButton()
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setToolTip(f"Score {option.score}: {option.label} (key {option.score})")
            style_choice(button, option_text(option), left=long)
            button.clicked.connect(lambda _=False, s=option.score: self._clicked(s))
            choices.addWidget(button)
            self.buttons[option.score] = button
        if not long:
            choices.addStretch(1)
        outer.addLayout(choices, 1)
        self._restyle()

    # -- value --------------------------------------------------------------------------
    def set_value(self, score: int | None, *, notify: bool = True) -> None:
        if score is not None and score not in self.buttons:
            return
        self.value = score
        for key, button in self.buttons.items():
            button.setChecked(key == score)
            text = option_text(next(o for o in self.item.options if o.score == key))
            button.setText(("✔ " if key == score else "") + text)
        if score is not None:
            self.mark_missing(None)
        if notify:
            emit(self.answered, self.item.number, score)

    def _clicked(self, score: int) -> None:
        self.set_value(score)
        self.setFocus()
        emit(self.step, self.item.number, +1)

    def mark_missing(self, message: str | None) -> None:
        self._missing = message is not None
        if message:
            _, strong = tone(self, "danger")
            self.missing_label.setStyleSheet(f"color: {strong}; font-weight: bold;")
            self.missing_label.setText(f"{ICONS['warn']} {message}")
        self.missing_label.setVisible(self._missing)
        self._restyle()

    # -- keyboard -----------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, text = event.key(), event.text()
        if text.isdigit() and not event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                                       | Qt.KeyboardModifier.AltModifier):
            self._digit(text)
            return
        self._last_digit = None
        scores = sorted(self.buttons)
        if key in (Qt.Key.Key_Down,):
            emit(self.step, self.item.number, +1)
        elif key in (Qt.Key.Key_Up,):
            emit(self.step, self.item.number, -1)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Left):
            if self.value is None:
                pick = scores[0] if key == Qt.Key.Key_Right else scores[-1]
            else:
                i = scores.index(self.value) + (1 if key == Qt.Key.Key_Right else -1)
                pick = scores[max(0, min(len(scores) - 1, i))]
            self.set_value(pick)
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            self.set_value(None)
        else:
            super().keyPressEvent(event)

    def _digit(self, digit: str) -> None:
        # On a 0-10 item "1" waits for a possible "0" (10); otherwise a digit is the
        # score itself and focus moves on to the next item.
        if self._last_digit is not None:
            combined = int(self._last_digit + digit)
            self._last_digit = None
            if combined in self.buttons:
                self.set_value(combined)
                emit(self.step, self.item.number, +1)
                return
        score = int(digit)
        if score not in self.buttons:
            return
        self.set_value(score)
        if any(s >= 10 and str(s).startswith(digit) for s in self.buttons):
            self._last_digit = digit
        else:
            emit(self.step, self.item.number, +1)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._restyle()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._last_digit = None
        self._restyle()

    def _restyle(self) -> None:
        _, focus = tone(self, "info")
        _, danger = tone(self, "danger")
        if self._missing:
            border = f"2px solid {danger}"
        elif self.hasFocus():
            border = f"2px solid {focus}"
        else:
            border = "2px solid transparent"
        self.setStyleSheet(f"QFrame#itemRow {{ border: {border}; border-radius: 4px; }}")


class InstrumentForm(QWidget):
    """The items of one instrument with a running total, band and flags. Reusable: the
    dialog below wraps it, and any screen may embed it. ``changed`` fires on every answer."""

    changed = Signal()

    def __init__(self, instrument: Instrument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.instrument = instrument
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.rows: dict[int, ItemRow] = {}
        for item in instrument.items:
            row = ItemRow(item)
            row.answered.connect(lambda *_: emit(self.changed))
            row.step.connect(self._step)
            layout.addWidget(row)
            self.rows[item.number] = row
        layout.addStretch(1)

    # -- answers ------------------------------------------------------------------------
    def answers(self) -> dict[int, int]:
        return {n: row.value for n, row in self.rows.items() if row.value is not None}

    def set_answers(self, answers: Mapping[int, int]) -> None:
        for number, score in answers.items():
            self.rows[number].set_value(score)

    def set_answer(self, number: int, score: int | None) -> None:
        self.rows[number].set_value(score)

    def unanswered(self) -> list[int]:
        return [n for n, row in self.rows.items() if row.value is None]

    def is_complete(self) -> bool:
        return not self.unanswered()

    def mark_missing(self, messages: Mapping[int, str]) -> None:
        for number, row in self.rows.items():
            row.mark_missing(messages.get(number))
        if messages:
            self.rows[min(messages)].setFocus()

    def focus_first(self) -> None:
        missing = self.unanswered()
        self.rows[missing[0] if missing else self.instrument.items[0].number].setFocus()

    # -- scoring as answered ---------------------------------------------------------------
    def running_total(self) -> int:
        answers = self.answers()
        if self.instrument.scoring == "domains":
            return sum(max((answers[n] for n in d.items if n in answers), default=0)
                       for d in self.instrument.domains)
        return sum(answers.values())

    def band(self) -> str | None:
        return self.instrument.band_for(self.running_total())

    def fired_flags(self) -> list[str]:
        """Flag messages that already apply: an item flag as soon as its item is answered,
        a total flag once the form is complete."""
        answers = self.answers()
        messages = []
        for rule in self.instrument.flags:
            if rule.item is not None:
                if answers.get(rule.item, -1) >= rule.at_least:
                    messages.append(rule.message)
            elif self.is_complete() and self.running_total() >= rule.at_least:
                messages.append(rule.message)
        return messages

    def summary(self) -> str:
        total, band = self.running_total(), self.band()
        done, count = len(self.answers()), len(self.rows)
        top = self.instrument.max_total
        if done == count:
            text = f"Total {total} of {top}"
            return f"{text} — {band}" if band else text
        text = f"Total so far {total} of {top} ({done} of {count} answered)"
        return f"{text} — {band} so far" if band and done else text

    def _step(self, number: int, direction: int) -> None:
        numbers = list(self.rows)
        i = numbers.index(number) + direction
        if 0 <= i < len(numbers):
            self.rows[numbers[i]].setFocus()


class InstrumentDialog(ClosingKnown, QDialog):
    """Enter one completed instrument; committed on Save. A positive flag (PHQ-9 item 9)
    shows at once while typing, and again after saving, until the nurse confirms."""

    def __init__(self, ctx: AppContext, patient_id: uuid.UUID, instrument: Instrument,
                 time_point: e.TimePoint | str, session_id: uuid.UUID | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.session_id = ctx, patient_id, session_id
        self.instrument = instrument
        self.time_point = e.TimePoint(time_point)
        self.saved: InstrumentResult | None = None
        self.setWindowTitle(f"{instrument.name} — {TIME_POINT_WORDS[self.time_point]}")
        self.resize(1160, 720)
        layout = QVBoxLayout(self)

        patient = ctx.services.patients.get(patient_id)
        head = QLabel(f"<span style='font-size:14pt'><b>{instrument.name}</b></span>"
                      f" &nbsp; {TIME_POINT_WORDS[self.time_point]} &nbsp;·&nbsp; "
                      f"{patient.display_name} ({patient.mrn})")
        layout.addWidget(head)
        about = QLabel(instrument.description + "  Keys: number = answer, ↑/↓ = item, "
                       "Backspace = clear, Ctrl+Enter = save.")
        about.setWordWrap(True)
        about.setToolTip(instrument.licence)
        layout.addWidget(about)

        top = QFormLayout()
        self.taken = TimeField(ctx)
        top.addRow("Taken at", self.taken)
        layout.addLayout(top)

        self.form = InstrumentForm(instrument)
        self.keeper = DraftKeeper(
            ctx, draft_key(patient_id, instrument.code, self.time_point, session_id),
            getter=self._draft, setter=self._put_draft, clear=self._clear_answers,
            delay_ms=DRAFT_DELAY_MS, parent=self)
        self.form.changed.connect(self.keeper.changed)
        self.taken.changed.connect(self.keeper.changed)
        self.draft_hint = DraftHint(self.keeper, "answers", plural=True)
        layout.addWidget(self.draft_hint)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form)
        layout.addWidget(scroll, 1)

        self.flag_banner = Banner("danger")
        layout.addWidget(self.flag_banner)
        self.banner = Banner("danger")
        layout.addWidget(self.banner)
        self.errors = ErrorRouter(self.banner)

        bottom = QHBoxLayout()
        self.total = QLabel()
        self.total.setStyleSheet("font-size: 13pt; font-weight: bold;")
        self.total.setAccessibleName("Running total")
        bottom.addWidget(self.total, 1)
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save score", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        make_default(self, self.save_button)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.accept)

        self.form.changed.connect(self._update)
        self.keeper.restore()
        self.keeper.switched.connect(self._update)
        self.draft_hint.refresh()
        self._update()
        self.form.focus_first()

    # -- the draft --------------------------------------------------------------------------
    def _draft(self) -> dict[str, Any]:
        answers = {str(n): score for n, score in self.form.answers().items()}
        if not answers:
            return {}  # nothing answered: nothing worth keeping
        taken = None if self.taken.is_now else self.taken.edit.time().toString("HH:mm")
        return {"answers": answers, "taken_at": taken}

    def _put_draft(self, draft: Mapping[str, Any]) -> None:
        answers = draft.get("answers") or {}
        if isinstance(answers, Mapping):
            for number, score in answers.items():
                if str(number).isdigit() and int(number) in self.form.rows \
                        and isinstance(score, int):
                    self.form.set_answer(int(number), score)
        taken = QTime.fromString(str(draft.get("taken_at") or ""), "HH:mm")
        if taken.isValid():
            self.taken.edit.setTime(taken)

    def _clear_answers(self) -> None:
        for number in self.form.rows:
            self.form.set_answer(number, None)
        self.form.mark_missing({})
        self.taken.reset()

    def _has_answers(self) -> bool:
        return bool(self.form.answers())

    @staticmethod
    def ask_cancel(parent: QWidget, answered: int, count: int) -> str:
        """Cancel with answers given: keep them for later, throw them away, or go back.
        A modal box; tests replace this so that no dialog blocks them."""
        return ask_keep_or_discard(
            parent, "Answers not saved",
            f"{answered} of {count} items are answered but the score is not saved.",
            "Keep the answers to finish later (they come back when you open this form "
            "again), or discard them?", discard_label="Discard answers", keep_first=True)

    def _update(self) -> None:
        self.total.setText(self.form.summary())
        flags = self.form.fired_flags()
        if flags:
            self.flag_banner.show_message(
                "\n".join(f"{m}. {ESCALATE}" for m in flags), "danger")
        else:
            self.flag_banner.clear()
        if self.form.is_complete() and self.banner.kind == "danger":
            self.banner.clear()

    def accept(self) -> None:
        if self.saved is not None:  # the escalation warning was shown; this is "close"
            super().accept()
            return
        missing = self.form.unanswered()
        if missing:
            self.form.mark_missing({n: "No answer yet" for n in missing})
            listed = ", ".join(map(str, missing))
            self.banner.show_message(
                f"{len(missing)} item(s) have no answer: {listed}. Every item is needed: a "
                "total with a gap would look lower than it is.", "danger")
            return
        ok, stored = self.errors.call(lambda: self.ctx.services.records.record_instrument(
            actor=self.ctx.actor(), patient_id=self.patient_id,
            instrument=self.instrument.code, answers=self.form.answers(),
            time_point=self.time_point, session_id=self.session_id,
            taken_at=self.taken.value()))
        if not ok:
            self._route_item_errors()
            return
        self.keeper.discard()  # saved: the answers are a record now, not a draft
        self.saved = stored
        flags = [r.message for r in self.instrument.flags if r.code in stored.flags]
        if not flags:
            super().accept()
            return
        # Saved, but a flag needs a person to act: say so and wait for the nurse.
        self.form.setEnabled(False)
        self.taken.setEnabled(False)
        self.flag_banner.show_message(
            f"Saved: {self.form.summary()}.\n" + "\n".join(f"{m}. {ESCALATE}" for m in flags),
            "danger")
        self.save_button.setText("I will escalate now — close")
        self.cancel_button.setVisible(False)
        self.save_button.setFocus()

    def reject(self) -> None:
        if self.saved is not None:
            super().accept()  # already saved: closing is not cancelling
            return
        # Cancel or Escape asks; closing the window puts the form away, answers kept.
        if not self.keeper.put_away(
                self._has_answers(),
                lambda: self.ask_cancel(self, len(self.form.answers()), len(self.form.rows)),
                self.closing):
            self.form.focus_first()
            return
        super().reject()

    def _route_item_errors(self) -> None:
        text = self.banner.label.text()
        if not text:
            return
        messages = {}
        for number in self.form.rows:
            prefix = f"Item {number} "
            for line in text.splitlines():
                if line.startswith(prefix):
                    messages[number] = line
        if messages:
            self.form.mark_missing(messages)


def _instrument(ctx: AppContext, code: str, parent: QWidget | None) -> Instrument | None:
    try:
        found = ctx.services.records.instruments.get(code)
    except KappError as exc:  # a clinic's instrument file has a mistake
        QMessageBox.warning(parent, "kapp", f"The score forms cannot be read: {exc}")
        return None
    if found is None:
        QMessageBox.warning(parent, "kapp", f"There is no score form called '{code}'.")
    return found


def open_instrument(
        ctx: AppContext,
        patient_id: uuid.UUID,
        instrument: str,
        time_point: str,
        session_id: uuid.UUID | None = None,
        parent: QWidget | None = None,
) -> bool:
    """Show the dialog modally; True when something was saved."""
    definition = _instrument(ctx, instrument, parent)
    if definition is None:
        return False
    try:
        dialog = InstrumentDialog(ctx, patient_id, definition, time_point, session_id,
                                  parent)
    except KappError as exc:
        return not_opened(parent, f"The {definition.name} form", exc)
    return run_modal(dialog, lambda d: d.saved is not None)


