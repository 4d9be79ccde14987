"""The clinic overview: the start screen after sign-in.

Five lists of what needs someone's attention, each entry one click (or Enter) away from
the patient or the session: today's sessions and the chairs in use, sessions waiting
for a signature, patients due or overdue for their next session, flagged scores (PHQ-9
item 9) awaiting follow-up, and serious side effects of the last 30 days. The reads scan
years of records, so they run off the GUI thread with a progress bar and Cancel.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from PySide6.QtCore import QLocale, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.errors import KappError
from kapp.domain.series import COURSE_WORDS
from kapp.services.changes import Change
from kapp.services.overview import Cancelled, ClinicOverview
from kapp.ui.background import BackgroundReader, Task, read_problem
from kapp.ui.context import AppContext, Navigator
from kapp.ui.dates import day_text

RELOAD_ON = frozenset({Change.SESSIONS, Change.ENTRIES, Change.COURSES, Change.PROTOCOL,
                       Change.PATIENTS})
TARGET = Qt.ItemDataRole.UserRole  # ("session" | "patient", id)

STATUS_WORDS = {
    e.SessionStatus.PLANNED: "booked",
    e.SessionStatus.IN_PROGRESS: "infusing",
    e.SessionStatus.RECOVERY: "in recovery",
    e.SessionStatus.COMPLETED: "completed",
    e.SessionStatus.ABORTED: "stopped early",
}


def time_text(moment: datetime) -> str:
    local = moment.astimezone()
    return QLocale().toString(QTime(local.hour, local.minute), QLocale.FormatType.ShortFormat)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


class Section(QWidget):
    """One list of the overview, a bold heading with its count above it."""

    def __init__(self, title: str, empty: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.base_title, self.empty_text = title, empty
        self.heading = QLabel(title)
        font = QFont(self.heading.font())
        font.setBold(True)
        self.heading.setFont(font)
        self.list = QListWidget()
        self.list.setAccessibleName(title)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.heading.setBuddy(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.list)

    def title(self) -> str:
        return self.heading.text()

    def setTitle(self, text: str) -> None:
        self.heading.setText(text)

    def fill(self, rows: list[tuple[str, str, uuid.UUID]]) -> None:
        """``rows``: (text, "session" | "patient", id)."""
        self.list.clear()
        for text, kind, target in rows:
            item = QListWidgetItem(text)
            item.setData(TARGET, (kind, target))
            item.setToolTip(f"Open the {kind} (click or Enter)")
            self.list.addItem(item)
        if not rows:
            item = QListWidgetItem(f"✔ {self.empty_text}")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        self.setTitle(f"{self.base_title} ({len(rows)})")

    def texts(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]


class Overview(QWidget):
    """``loaded`` fires after each successful read."""

    loaded = Signal()

    def __init__(self, ctx: AppContext, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.navigator = ctx, navigator
        self.data: ClinicOverview | None = None
        self._stale = True
        self.reader = BackgroundReader(self)
        self.reader.finished.connect(self._show)
        self.reader.failed.connect(self._failed)
        self.reader.progressed.connect(self._progress)
        self._build()
        self._reload = QTimer(self, singleShot=True, interval=500)
        self._reload.timeout.connect(self.refresh)
        ctx.changes.changed.connect(self._on_changed)
        ctx.userChanged.connect(self._user_changed)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        top = QHBoxLayout()
        self.heading = QLabel("Clinic overview")
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.heading.setFont(font)
        top.addWidget(self.heading, 1)
        self.status = QLabel()
        top.addWidget(self.status)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setAccessibleName("Reading progress")
        top.addWidget(self.bar)
        self.cancel_button = QPushButton("&Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        top.addWidget(self.cancel_button)
        self.refresh_button = QPushButton("&Refresh (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)

        # A nurse's half-typed entries (kept as drafts through a crash or the lock) are
        # easy to forget once she moved on: they are listed first, only when there are any.
        self.drafts = Section("Your unsaved entries: open one to finish or discard it",
                              "No unsaved entries")
        self.drafts.list.itemActivated.connect(self._open)
        self.drafts.list.itemClicked.connect(self._open)
        self.drafts.hide()
        layout.addWidget(self.drafts)
        self.today = Section("Today and in the chairs", "No sessions today")
        self.unsigned = Section("Waiting for a signature", "Every session is signed")
        self.due = Section("Next session due or overdue", "Nobody is due")
        self.flags = Section("PHQ-9 item 9 positive, awaiting follow-up", "Nothing awaiting")
        self.effects = Section("Serious or severe side effects, last 30 days", "None")
        grid = QGridLayout()
        for index, section in enumerate(self.sections):
            span = 2 if index == len(self.sections) - 1 else 1
            grid.addWidget(section, index // 2, index % 2, 1, span)
            section.list.itemActivated.connect(self._open)
            section.list.itemClicked.connect(self._open)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        grid.setRowStretch(2, 1)
        layout.addLayout(grid, 1)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.refresh)
        self._busy(False)

    @property
    def sections(self) -> tuple[Section, ...]:
        return (self.flags, self.today, self.unsigned, self.due, self.effects)

    # -- loading -----------------------------------------------------------------------
    def refresh(self) -> None:
        self._stale = False
        self.banner.hide()
        self._busy(True)
        self.bar.setRange(0, 0)
        self.status.setText("Reading the clinic's records…")
        service = self.ctx.services.overview

        def work(task: Task) -> ClinicOverview:
            return service.overview(progress=task.progress, cancelled=task.cancelled)

        self.reader.start(work)

    def cancel(self) -> None:
        if self.reader.busy:
            self.reader.cancel()
            self._busy(False)
            self.status.setText("Cancelled: the lists below may be out of date. Press "
                                "Refresh to read again.")

    @property
    def loading(self) -> bool:
        return self.reader.busy

    def _busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.refresh_button.setEnabled(not busy)

    def _progress(self, done: int, total: int, what: str) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        if what:
            self.status.setText(f"Reading: {what.lower()}…")

    def _failed(self, error: object) -> None:
        self._busy(False)
        self.status.setText("")
        if isinstance(error, Cancelled):
            return
        text = read_problem("The overview", error, retrying=self.reader.retrying)
        if self.data is not None:  # what is still shown is older than it seems
            text += f" The lists below are as of {time_text(self.data.now)}."
        self.banner.setText("⚠ " + text)
        self.banner.show()

    def _show(self, data: ClinicOverview) -> None:
        self.data = data
        self.banner.hide()  # a read that failed before, tried again by itself
        self._busy(False)
        self.heading.setText(f"Clinic overview · {day_text(data.today)}")
        self.status.setText(f"As of {time_text(data.now)}")
        self.today.fill(self._today_rows(data))
        self.unsigned.fill([
            (f"{_days(x.age_days) + ' ago' if x.age_days else 'Today'} · "
             f"{x.patient.display_name} ({x.patient.mrn}) · session of "
             f"{day_text(x.ended_at.astimezone().date())}, {STATUS_WORDS[x.status]}",
             "session", x.session_id) for x in data.unsigned])
        self.due.fill([
            (f"{self._due_words(x.due.days_from_today)} · {x.patient.display_name} "
             f"({x.patient.mrn}) · last session {day_text(x.last_session_on)}, "
             f"{COURSE_WORDS[x.course_kind].lower()}", "patient", x.patient.patient_id)
            for x in data.due])
        self.flags.fill([
            (f"⚠ {day_text(x.taken_at.astimezone().date())} · {x.patient.display_name} "
             f"({x.patient.mrn}) · {x.instrument_name} {x.total:g}"
             + (f" · {x.waiting} awaiting" if x.waiting > 1 else ""),
             "session" if x.session_id else "patient",
             x.session_id or x.patient.patient_id) for x in data.flags])
        self.effects.fill([
            (f"{'⚠ serious' if x.serious else 'severe'} · "
             f"{day_text(x.onset_at.astimezone().date())} · {x.patient.display_name} "
             f"({x.patient.mrn}) · {(x.description or x.kind.value).replace('_', ' ')}, "
             f"{x.severity.value}" + ("" if x.resolved_at else ", not marked resolved"),
             "session", x.session_id) for x in data.side_effects])
        self.show_drafts()
        self.loaded.emit()

    def _user_changed(self, _user: object) -> None:
        self.show_drafts()  # the list is each person's own

    def show_drafts(self) -> None:
        """List the signed-in person's own unsaved entries (a quick read of their drafts)."""
        user = self.ctx.user
        places = []
        if user is not None:
            try:
                names = {code: i.name for code, i in
                         self.ctx.services.overview.definitions.items()}
                places = self.ctx.services.drafts.places(actor=user, names=names)
            except KappError:
                places = []
        rows = []
        for p in places:
            where = (f"session of {day_text(p.session_day.astimezone().date())}"
                     if p.session_day is not None else "patient page")
            rows.append((f"✎ {p.what} · {p.patient_name} ({p.mrn}) · {where} · kept at "
                         f"{time_text(p.saved_at)}",
                         "session" if p.session_id else "patient",
                         p.session_id or p.patient_id))
        self.drafts.fill(rows)
        shown = self.drafts.list
        shown.setFixedHeight(shown.sizeHintForRow(0) * min(max(len(rows), 1), 4)
                             + 2 * shown.frameWidth() + 4)
        self.drafts.setVisible(bool(rows))

    @staticmethod
    def _due_words(days: int) -> str:
        if days < 0:
            return f"⚠ Overdue by {_days(-days)}"
        return "Due today" if days == 0 else f"Due in {_days(days)}"

    @staticmethod
    def _today_rows(data: ClinicOverview) -> list[tuple[str, str, uuid.UUID]]:
        rows = []
        for x in (*data.in_chairs, *data.today_sessions):
            when = x.actual_start or x.planned_start
            where = "▶ in the chair" if x in data.in_chairs else ""
            rows.append((
                f"{time_text(when)} · {x.patient.display_name} ({x.patient.mrn}) · "
                f"{COURSE_WORDS[x.course_kind]} {x.number_in_course} · "
                f"{STATUS_WORDS[x.status]} {where}".rstrip(),
                "session", x.session_id))
        return rows

    def _open(self, item: QListWidgetItem) -> None:
        target = item.data(TARGET)
        if not target:
            return
        kind, ident = target
        if kind == "session":
            self.navigator.open_session(ident)
        else:
            self.navigator.open_patient(ident)

    # -- staying current ---------------------------------------------------------------
    def _on_changed(self, changes: frozenset[Change]) -> None:
        if changes & RELOAD_ON:
            if self.isVisible():
                self._reload.start()
            else:
                self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale and not self.reader.busy:
            self.refresh()
        elif self.data is not None:
            self.show_drafts()  # drafts change without a clinic change (typing, the lock)
