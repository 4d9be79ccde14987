"""The one time field of the app: it shows the current clock time and keeps following the
clock until the nurse changes it (a reading written down a few minutes late is entered with
its own time); after a change it stays put; "Now" brings it back to following.

Used by the step dialogs (kapp.ui.session_steps) and by the live session screen's bars
(kapp.ui.session: vitals entry, nasal devices), so it lives in neither package."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QSignalBlocker, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTimeEdit,
    QWidget,
)

from kapp.ui.context import AppContext
from kapp.ui.qt_compat import emit

# A typed time up to this far ahead of the clock is today's (clocks of two workstations
# drift a little; the services allow as much); later than that it means yesterday (an
# entry typed just after midnight).
AHEAD = timedelta(minutes=5)


class TimeField(QWidget):
    """A time that means "now" until the nurse changes it. ``value()`` is None while it
    means now, so the service stamps the moment the entry is accepted.

    The field is ``[HH:mm] [Now]``. Its word ``state`` says "(now)" or "(changed)":

    - without a caption (the step dialogs) it stands after the Now button;
    - with a caption (the session screen's bars), ``state`` reads "**Time** (now)", is the
      edit's buddy label (Alt+letter, screen readers) and the owner places it, above the
      field in the vitals row and before it in the nasal devices bar.

    It follows the clock by itself every 15 s; an owner with a clock of its own (the
    session screen ticks every second) calls ``tick()``."""

    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 caption: str = "") -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._touched = False
        self._caption = caption
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QTimeEdit()
        self.edit.setDisplayFormat("HH:mm")
        self.edit.setToolTip("Time of the entry; leave it to mean now")
        self.now_button = QPushButton("Now")
        self.now_button.setToolTip("Back to the current time")
        self.now_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.state = QLabel()
        layout.addWidget(self.edit)
        layout.addWidget(self.now_button)
        if caption:
            self.state.setBuddy(self.edit)
            # In a row of other controls: as wide as the time and its button, no wider.
            self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        else:
            layout.addWidget(self.state)
            layout.addStretch(1)
        self.edit.timeChanged.connect(self._on_edit)
        self.now_button.clicked.connect(self.reset)
        self._timer = QTimer(self)
        self._timer.setInterval(15_000)
        self._timer.timeout.connect(self.tick)  # while shown (showEvent)
        self.reset()

    def _now_local(self) -> datetime:
        return self._ctx.clock.now().astimezone()

    def _say(self, word: str) -> None:
        self.state.setText(f"<b>{self._caption}</b> ({word})" if self._caption
                           else f"({word})")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.tick()  # it did not follow the clock while hidden
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def tick(self) -> None:
        """Show the clock's time, unless the nurse has changed it."""
        if not self._touched:
            now = self._now_local()
            with QSignalBlocker(self.edit):
                self.edit.setTime(QTime(now.hour, now.minute))

    def _on_edit(self) -> None:
        self._touched = True
        self._say("changed")
        self.now_button.setEnabled(True)
        emit(self.changed)

    def reset(self) -> None:
        """Back to "now": the time follows the clock until the nurse changes it."""
        self._touched = False
        self.tick()
        self._say("now")
        self.now_button.setEnabled(False)
        emit(self.changed)

    def set_moment(self, moment: datetime) -> None:
        moment = moment.astimezone() if moment.tzinfo else moment
        self.edit.setTime(QTime(moment.hour, moment.minute))  # marks it touched

    @property
    def is_now(self) -> bool:
        return not self._touched

    def value(self) -> datetime | None:
        """The chosen moment (timezone-aware), or None for now. A time more than a few
        minutes later than now means yesterday (an entry typed after midnight)."""
        if not self._touched:
            return None
        now = self._now_local()
        t = self.edit.time()
        moment = now.replace(hour=t.hour(), minute=t.minute(), second=0, microsecond=0)
        if moment > now + AHEAD:
            moment -= timedelta(days=1)
        return moment
