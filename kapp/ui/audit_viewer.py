"""The administrator's audit trail: who did what, when, with the old and new values and the
reason; filtered by patient, user, dates and action; and a check of the hash chain.

Every read runs off the GUI thread: the trail of a busy clinic holds millions of entries.
Rows arrive a page at a time as the table scrolls (``canFetchMore``/``fetchMore``).
"""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from enum import IntEnum
from typing import Any

import shiboken6
from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.errors import KappError, ValidationError
from kapp.services.audit_view import (
    PAGE_SIZE,
    AuditFilter,
    AuditPage,
    AuditRow,
    ChainReport,
    Cursor,
)
from kapp.ui.background import read_problem
from kapp.ui.context import AppContext

AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
NOBODY = "system"
CHANGES_SHOWN = 120  # characters of the changes column; the rest in the tooltip and below


class Column(IntEnum):
    WHEN = 0
    USER = 1
    ACTION = 2
    PATIENT = 3
    RECORD = 4
    REASON = 5
    CHANGES = 6


HEADERS = {
    Column.WHEN: "When",
    Column.USER: "User",
    Column.ACTION: "Action",
    Column.PATIENT: "Patient (MRN)",
    Column.RECORD: "Record",
    Column.REASON: "Reason",
    Column.CHANGES: "Changes (before → after)",
}
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


# -- words ---------------------------------------------------------------------------------
def action_words(action: str) -> str:
    """ "vitals.record" → "Vitals: record", "user.create_first_admin" → "User: create
    first admin"."""
    subject, _, verb = action.partition(".")
    subject = subject.replace("_", " ").capitalize()
    return f"{subject}: {verb.replace('_', ' ')}" if verb else subject


def record_words(entity: str) -> str:
    return entity.replace("_", " ")


def when_text(moment: datetime) -> str:
    """Local time, ISO order: an audit date must not be misread (no 3/4 vs 4/3)."""
    local = moment.astimezone() if moment.tzinfo else moment
    return local.strftime("%Y-%m-%d %H:%M:%S")


def user_text(row: AuditRow) -> str:
    if row.user_id is None:
        return NOBODY
    if row.user_name:
        return f"{row.user_name} ({row.username})"
    return str(row.user_id)


def value_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        if _ISO_MOMENT.match(value):  # a stored moment: show it as the other times are
            try:
                return when_text(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False)


def changed_fields(row: AuditRow) -> list[tuple[str, str | None, str | None]]:
    """(field, before, after) for every field the entry mentions; None where the entry
    has no value on that side (a new record has no "before")."""
    old, new = row.old or {}, row.new or {}
    fields = list(old) + [k for k in new if k not in old]
    return [(f, value_text(old[f]) if f in old else None,
             value_text(new[f]) if f in new else None) for f in fields]


def changes_text(row: AuditRow) -> str:
    parts = []
    for name, before, after in changed_fields(row):
        field = name.replace("_", " ")
        if before is not None and after is not None:
            parts.append(f"{field}: {before or '(empty)'} → {after or '(empty)'}")
        elif after is not None:
            parts.append(f"{field}: {after or '(empty)'}")
        else:
            parts.append(f"{field}: {before or '(empty)'} → (removed)")
    return "; ".join(parts)


# -- the model -----------------------------------------------------------------------------
class AuditTableModel(QAbstractTableModel):
    """Audit entries, newest first, a page at a time. It does not read the database itself:
    ``fetchMore`` emits ``moreRequested(cursor)`` and whoever reads answers with
    ``add_page`` (the dialog does it on a worker thread)."""

    moreRequested = Signal(object)  # noqa: N815 - Qt names signals in camelCase

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[AuditRow] = []
        self._cursor: Cursor | None = None
        self._waiting = False

    def set_page(self, page: AuditPage) -> None:
        """Replace everything with a first page."""
        self.beginResetModel()
        self._rows = list(page.rows)
        self._cursor = page.next_cursor
        self._waiting = False
        self.endResetModel()

    def clear(self) -> None:
        self.set_page(AuditPage((), None))

    def add_page(self, page: AuditPage) -> None:
        """The page that follows what is shown (answer to ``moreRequested``)."""
        self._waiting = False
        if page.rows:
            first = len(self._rows)
            self.beginInsertRows(_ROOT, first, first + len(page.rows) - 1)
            self._rows.extend(page.rows)
            self._cursor = page.next_cursor
            self.endInsertRows()
        else:
            self._cursor = None

    def stop_waiting(self) -> None:
        """A page request failed: allow another try."""
        self._waiting = False

    @property
    def complete(self) -> bool:
        return self._cursor is None

    def entry(self, row: int) -> AuditRow:
        return self._rows[row]

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(Column)

    def canFetchMore(self, parent: AnyIndex = _ROOT) -> bool:
        return not parent.isValid() and self._cursor is not None and not self._waiting

    def fetchMore(self, parent: AnyIndex = _ROOT) -> None:
        if self.canFetchMore(parent):
            self._waiting = True
            self.moreRequested.emit(self._cursor)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column) \
                and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) \
                or not 0 <= index.column() < len(Column):
            return None
        row, column = self._rows[index.row()], Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._text(row, column)
            if column == Column.CHANGES and len(text) > CHANGES_SHOWN:
                return text[:CHANGES_SHOWN - 1] + "…"
            return text
        if role == Qt.ItemDataRole.ToolTipRole and column in (Column.CHANGES, Column.REASON):
            return self._text(row, column) or None
        if role == ROW_ROLE:
            return row.seq
        return None

    @staticmethod
    def _text(row: AuditRow, column: Column) -> str:
        match column:
            case Column.WHEN:
                return when_text(row.at)
            case Column.USER:
                return user_text(row)
            case Column.ACTION:
                return action_words(row.action)
            case Column.PATIENT:
                return row.mrn or ""
            case Column.RECORD:
                return record_words(row.entity)
            case Column.CHANGES:
                return changes_text(row)
            case Column.REASON:
                return row.reason or ""


def details_html(row: AuditRow) -> str:
    """Everything one entry says, for the pane under the table."""
    esc = html.escape
    lines = [f"<b>Entry {row.seq}</b> · {esc(when_text(row.at))} · {esc(user_text(row))} · "
             f"<b>{esc(action_words(row.action))}</b> <span>({esc(row.action)})</span>"]
    facts = [("Record", f"{record_words(row.entity)} {row.entity_id or ''}".strip())]
    if row.mrn:
        facts.append(("Patient", row.mrn))
    if row.session_id:
        facts.append(("Session", str(row.session_id)))
    facts.append(("Reason", row.reason or "—"))
    lines.append("<br>".join(f"{esc(k)}: {esc(v)}" for k, v in facts))
    fields = changed_fields(row)
    if fields:
        def cell(value: str | None) -> str:
            return "" if value is None else esc(value or "(empty)")

        cells = "".join(f"<tr><td>{esc(f.replace('_', ' '))}</td><td>{cell(b)}</td>"
                        f"<td>{cell(a)}</td></tr>" for f, b, a in fields)
        lines.append("<table cellspacing='0' cellpadding='3' border='1'>"
                     "<tr><th align='left'>Field</th><th align='left'>Before</th>"
                     f"<th align='left'>After</th></tr>{cells}</table>")
    else:
        lines.append("No values recorded.")
    return "<p>" + "</p><p>".join(lines) + "</p>"


# -- running reads off the GUI thread ------------------------------------------------------
class _Task(QObject):
    """One call on the thread pool. ``done(result, error)`` and ``progress(checked,
    total)`` are delivered on the GUI thread: the worker emits private signals that are
    queued to this object, which lives there."""

    done = Signal(object, object)
    progress = Signal(int, int)
    _done_from_worker = Signal(object, object)
    _progress_from_worker = Signal(int, int)

    def __init__(self, work: Callable[[_Task], Any]) -> None:
        super().__init__()
        self._work = work
        queued = Qt.ConnectionType.QueuedConnection
        self._done_from_worker.connect(self.done, queued)
        self._progress_from_worker.connect(self.progress, queued)

    def report_progress(self, checked: int, total: int) -> None:
        """Called on the worker thread."""
        self._progress_from_worker.emit(checked, total)

    def run(self) -> None:
        try:
            result = self._work(self)
        except Exception as exc:  # handed to the GUI thread, shown in words there
            self._done_from_worker.emit(None, exc)
        else:
            self._done_from_worker.emit(result, None)


def run_in_pool(work: Callable[[_Task], Any], on_done: Callable[[Any, Any], None],
                on_progress: Callable[[int, int], None] | None = None) -> _Task:
    task = _Task(work)
    task.done.connect(on_done)
    if on_progress is not None:
        task.progress.connect(on_progress)
    QThreadPool.globalInstance().start(task.run)
    return task


# -- the dialog ----------------------------------------------------------------------------
class AuditViewer(QDialog):
    """Opened from the main window's File menu by an administrator."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.page_size = page_size
        self._audit = ctx.services.audit
        self._generation = 0  # a newer query makes older answers stale
        self._tasks: set[_Task] = set()
        self._verify_cancel: threading.Event | None = None
        self._total: int | None = None
        self._select_seq: int | None = None
        self.last_report: ChainReport | None = None
        self._choices_missing = False
        self.setWindowTitle("Audit trail")
        self.model = AuditTableModel(self)
        self.model.moreRequested.connect(self._fetch_more)
        self._build()
        self._load_choices()
        self.apply_filters()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        heading = QLabel("Audit trail")
        font = QFont(heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        heading.setFont(font)
        explain = QLabel("Every change to the records, newest first: who, when, what it was "
                         "before and after, and why. Entries can only be added, never "
                         "changed.")
        explain.setWordWrap(True)

        self.mrn = QLineEdit()
        self.mrn.setPlaceholderText("e.g. T-0001")
        self.mrn.setClearButtonEnabled(True)
        self.mrn.setAccessibleName("Patient MRN")
        self.mrn_error = QLabel()
        self.mrn_error.setWordWrap(True)
        self.mrn_error.hide()
        self.user = QComboBox()
        self.user.setAccessibleName("User")
        self.user.addItem("Everyone", None)
        self.action = QComboBox()
        self.action.setAccessibleName("Action")
        self.action.addItem("All actions", None)
        self.action.setMinimumContentsLength(22)
        today = self.ctx.clock.now().astimezone().date()
        self.use_from, self.date_from = QCheckBox("&From"), self._date_edit(today - timedelta(30))
        self.use_to, self.date_to = QCheckBox("&To"), self._date_edit(today)
        for check, edit in ((self.use_from, self.date_from), (self.use_to, self.date_to)):
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.apply_filters)
            edit.dateChanged.connect(lambda _d, c=check: c.isChecked() and self.apply_filters())
        self.date_error = QLabel()
        self.date_error.hide()
        self.user.currentIndexChanged.connect(self.apply_filters)
        self.action.currentIndexChanged.connect(self.apply_filters)
        self.show_button = QPushButton("&Show")
        self.show_button.clicked.connect(self.apply_filters)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear_filters)
        # Enter anywhere in the filters runs the query (Show is the dialog's default button).
        self.clear_button.setAutoDefault(False)
        self.show_button.setDefault(True)

        filters = QGridLayout()
        filters.setHorizontalSpacing(8)
        mrn_label = QLabel("&Patient (MRN)")
        mrn_label.setBuddy(self.mrn)
        user_label = QLabel("&User")
        user_label.setBuddy(self.user)
        action_label = QLabel("&Action")
        action_label.setBuddy(self.action)
        filters.addWidget(mrn_label, 0, 0)
        filters.addWidget(self.mrn, 0, 1)
        filters.addWidget(user_label, 0, 2)
        filters.addWidget(self.user, 0, 3)
        filters.addWidget(action_label, 0, 4)
        filters.addWidget(self.action, 0, 5)
        filters.addWidget(self.mrn_error, 1, 1)
        dates = QHBoxLayout()
        for widget in (self.use_from, self.date_from, self.use_to, self.date_to,
                       self.date_error):
            dates.addWidget(widget)
        dates.addStretch(1)
        dates.addWidget(self.clear_button)
        dates.addWidget(self.show_button)
        filters.addLayout(dates, 2, 0, 1, 6)
        filters.setColumnStretch(1, 2)
        filters.setColumnStretch(3, 2)
        filters.setColumnStretch(5, 3)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(int(self.fontMetrics().height() * 1.8))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        # Widths from typical content (rows arrive later, a page at a time), so that the
        # time and the action are never cut; the changes take what is left.
        metrics, pad = self.fontMetrics(), self.fontMetrics().averageCharWidth() * 3
        for column, sample in ((Column.WHEN, "2026-12-31 23:59:59"),
                               (Column.USER, "Dr Pia Prescriber (prescriber1)"),
                               (Column.ACTION, "Session: controlled substance"),
                               (Column.PATIENT, "Patient (MRN)"),
                               (Column.RECORD, "dissociation reports"),
                               (Column.REASON, "rate halved, recheck")):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + pad)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.details = QTextBrowser()
        self.details.setAccessibleName("Entry details")
        self.details.setPlaceholderText("Choose an entry to see everything it recorded.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        self.status = QLabel()
        self.status.setAccessibleName("Entries shown")
        self.status.setWordWrap(True)  # a read that failed says why, in a sentence or two

        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.setToolTip("Check that no entry was changed, removed or inserted "
                                      "since it was written")
        self.verify_button.clicked.connect(self.start_verify)
        self.verify_button.setAutoDefault(False)
        self.verify_progress = QProgressBar()
        self.verify_progress.setTextVisible(True)
        self.verify_progress.setFormat("%v of %m entries checked")
        self.verify_progress.hide()
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.clicked.connect(self.cancel_verify)
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.hide()
        self.verify_icon = QLabel()
        self.verify_icon.hide()
        self.verify_result = QLabel()
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        verify_row = QHBoxLayout()
        verify_row.addWidget(self.verify_button)
        verify_row.addWidget(self.verify_progress, 1)
        verify_row.addWidget(self.cancel_button)
        verify_row.addWidget(self.verify_icon)
        verify_row.addWidget(self.verify_result, 2)
        self.show_broken_button = QPushButton()
        self.show_broken_button.setAutoDefault(False)
        self.show_broken_button.setToolTip("List the entries of that day and select the "
                                           "broken one")
        self.show_broken_button.clicked.connect(self.show_broken_entry)
        self.show_broken_button.hide()
        verify_row.addWidget(self.show_broken_button)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for button in buttons.buttons():
            button.setAutoDefault(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(explain)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(verify_row)
        layout.addLayout(bottom)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.activated.connect(lambda: (self.mrn.setFocus(), self.mrn.selectAll()))
        self.resize(1240, 720)

    @staticmethod
    def _date_edit(day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    # -- filters ---------------------------------------------------------------------------
    def filters(self) -> AuditFilter:
        def day(edit: QDateEdit) -> date:
            d = edit.date()
            return date(d.year(), d.month(), d.day())

        return AuditFilter(
            patient_mrn=self.mrn.text().strip() or None,
            user_id=uuid.UUID(self.user.currentData()) if self.user.currentData() else None,
            date_from=day(self.date_from) if self.use_from.isChecked() else None,
            date_to=day(self.date_to) if self.use_to.isChecked() else None,
            action=self.action.currentData(),
        )

    def clear_filters(self) -> None:
        for widget in (self.user, self.action, self.use_from, self.use_to):
            widget.blockSignals(True)
        self.mrn.clear()
        self.user.setCurrentIndex(0)
        self.action.setCurrentIndex(0)
        self.use_from.setChecked(False)
        self.use_to.setChecked(False)
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        for widget in (self.user, self.action, self.use_from, self.use_to):
            widget.blockSignals(False)
        self.apply_filters()

    def _load_choices(self) -> None:
        """The users and actions to filter by. Read again by ``apply_filters`` when they
        could not be read (the database server out of reach when the viewer opened)."""
        actor = self.ctx.actor()
        if self.user.count() == 1:
            try:
                users = self.ctx.services.users.list_users(include_inactive=True)
            except KappError:  # said by the query's own read, which fails the same way
                users = []
            for user in users:
                self.user.addItem(f"{user.full_name} ({user.username})", str(user.id))

        def work(_task: _Task) -> list[str]:
            return self._audit.actions(actor=actor)

        def done(actions: Sequence[str] | None, error: Exception | None) -> None:
            if error is None and actions is not None and self.action.count() == 1:
                self.action.blockSignals(True)
                for action in actions:
                    self.action.addItem(action_words(action), action)
                self.action.blockSignals(False)

        if self.action.count() == 1:
            self._start(work, done)

    def apply_filters(self) -> None:
        """Run the query the filters describe (the first page and the count)."""
        self._generation += 1
        generation = self._generation
        self._show_field_errors(None)
        if self._choices_missing:  # the server did not answer when the viewer opened
            self._load_choices()
        filters = self.filters()
        self.model.clear()
        self.details.clear()
        self._total = None
        self.status.setText("Loading…")
        try:
            actor = self.ctx.actor()
        except KappError as exc:
            self.status.setText(str(exc))
            return

        def work(_task: _Task) -> tuple[AuditPage, int]:
            page = self._audit.page(actor=actor, filters=filters, limit=self.page_size)
            return page, self._audit.count(actor=actor, filters=filters)

        def done(result: tuple[AuditPage, int] | None, error: Exception | None) -> None:
            if generation != self._generation:
                return  # the filters changed meanwhile
            if error is not None:
                self._show_error(error)
                return
            assert result is not None
            page, total = result
            self._total = total
            self.model.set_page(page)
            self._show_count()
            wanted, self._select_seq = self._select_seq, None
            # The broken entry, or when it is missing the one that follows the gap.
            rows = sorted((self.model.entry(r).seq, r) for r in range(self.model.rowCount())
                          if wanted is not None and self.model.entry(r).seq >= wanted)
            if rows or self.model.rowCount():
                self.table.selectRow(rows[0][1] if rows else 0)

        self._start(work, done)

    def _fetch_more(self, cursor: Cursor) -> None:
        generation = self._generation
        filters = self.filters()
        actor = self.ctx.actor()

        def work(_task: _Task) -> AuditPage:
            return self._audit.page(actor=actor, filters=filters, after=cursor,
                                    limit=self.page_size)

        def done(page: AuditPage | None, error: Exception | None) -> None:
            if generation != self._generation:
                return
            if error is not None or page is None:
                self.model.stop_waiting()
                if error is not None:
                    self._show_error(error)
                return
            self.model.add_page(page)
            self._show_count()

        self._start(work, done)

    def _show_count(self) -> None:
        shown, total = self.model.rowCount(), self._total or 0
        if total == 0:
            self.status.setText("No entries match these filters.")
        elif shown >= total:
            self.status.setText(f"{total:,} {'entry' if total == 1 else 'entries'}, "
                                "newest first.")
        else:
            self.status.setText(f"Showing the newest {shown:,} of {total:,} entries; scroll "
                                "down for more.")

    def _show_error(self, error: Exception) -> None:
        if isinstance(error, ValidationError):
            self._show_field_errors(error)
            self.status.setText("Check the filters.")
        elif isinstance(error, KappError):
            self._choices_missing = self.user.count() == 1 or self.action.count() == 1
            self.status.setText("⚠ " + read_problem("The audit trail", error,
                                                    again="press Show (Enter)"))
        else:
            self.status.setText(f"The audit trail could not be read ({type(error).__name__}).")

    def _show_field_errors(self, error: ValidationError | None) -> None:
        for field, label in (("patient_mrn", self.mrn_error), ("date_to", self.date_error)):
            messages = error.for_field(field) if error is not None else []
            label.setText("⚠ " + " ".join(m.message for m in messages) if messages else "")
            label.setVisible(bool(messages))

    def _show_details(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < self.model.rowCount():
            self.details.setHtml(details_html(self.model.entry(current.row())))
        else:
            self.details.clear()

    # -- verification ----------------------------------------------------------------------
    def start_verify(self) -> None:
        try:
            actor = self.ctx.actor()
        except KappError as exc:
            self._show_verify_result(None, str(exc))
            return
        cancel = threading.Event()
        self._verify_cancel = cancel
        self.verify_button.setEnabled(False)
        self.verify_progress.setRange(0, 0)  # busy until the first count arrives
        self.verify_progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.verify_icon.hide()
        self.verify_result.setText("Checking every entry…")

        def work(task: _Task) -> ChainReport:
            return self._audit.verify(
                actor=actor, cancelled=cancel.is_set,
                progress=task.report_progress)

        def progress(checked: int, total: int) -> None:
            self.verify_progress.setRange(0, max(total, 1))
            self.verify_progress.setValue(min(checked, total))

        self._start(work, self._verified, progress)

    def show_broken_entry(self) -> None:
        """The day of the first broken entry, with that entry selected."""
        report = self.last_report
        if report is None or report.broken_at is None:
            return
        day = report.broken_at.astimezone().date()
        for widget in (self.user, self.action, self.use_from, self.use_to,
                       self.date_from, self.date_to):
            widget.blockSignals(True)
        self.mrn.clear()
        self.user.setCurrentIndex(0)
        self.action.setCurrentIndex(0)
        for check, edit in ((self.use_from, self.date_from), (self.use_to, self.date_to)):
            check.setChecked(True)
            edit.setEnabled(True)
            edit.setDate(QDate(day.year, day.month, day.day))
        for widget in (self.user, self.action, self.use_from, self.use_to,
                       self.date_from, self.date_to):
            widget.blockSignals(False)
        self._select_seq = report.broken_seq
        self.apply_filters()

    def cancel_verify(self) -> None:
        if self._verify_cancel is not None:
            self._verify_cancel.set()
            self.cancel_button.setEnabled(False)
            self.verify_result.setText("Stopping…")

    def _verified(self, report: ChainReport | None, error: Exception | None) -> None:
        self._verify_cancel = None
        self.verify_button.setEnabled(True)
        self.verify_progress.hide()
        self.cancel_button.hide()
        if error is not None:
            self._show_verify_result(None, str(error) if isinstance(error, KappError) else
                                     f"The check could not run ({type(error).__name__}).")
        else:
            assert report is not None
            self._show_verify_result(report, report.describe())
        self.last_report = report

    def _show_verify_result(self, report: ChainReport | None, text: str) -> None:
        style = self.style()
        # The words say it (intact / BROKEN / stopped); the icon repeats it, not alone.
        if report is not None and report.intact:
            icon = QStyle.StandardPixmap.SP_DialogApplyButton
        elif report is not None and report.cancelled:
            icon = QStyle.StandardPixmap.SP_MessageBoxInformation
        else:
            icon = QStyle.StandardPixmap.SP_MessageBoxCritical
        size = self.fontMetrics().height()
        self.verify_icon.setPixmap(style.standardIcon(icon).pixmap(size, size))
        self.verify_icon.show()
        self.verify_result.setText(text)
        broken = report is not None and report.broken_at is not None
        self.show_broken_button.setVisible(broken)
        if broken:
            self.show_broken_button.setText(f"Show entry {report.broken_seq}")

    # -- plumbing --------------------------------------------------------------------------
    def _start(self, work: Callable[[_Task], Any], on_done: Callable[[Any, Any], None],
               on_progress: Callable[[int, int], None] | None = None) -> None:
        holder: list[_Task] = []

        def finished(result: Any, error: Any) -> None:
            self._tasks.discard(holder[0])
            if shiboken6.isValid(self):
                on_done(result, error)

        task = run_in_pool(work, finished, on_progress)
        holder.append(task)
        self._tasks.add(task)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def done(self, result: int) -> None:
        self.cancel_verify()
        super().done(result)


def open_audit_viewer(ctx: AppContext, parent: QWidget | None = None) -> AuditViewer:
    viewer = AuditViewer(ctx, parent)
    viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    viewer.show()
    return viewer
