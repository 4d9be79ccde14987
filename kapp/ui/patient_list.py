"""The patient list: find a patient by name, MRN or date of birth."""

from __future__ import annotations

import heapq
import html
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import IntEnum

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QKeyEvent, QKeySequence, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.entities import PatientSummary
from kapp.domain.enums import Indication
from kapp.domain.errors import KappError
from kapp.services.changes import Change
from kapp.services.facade import Services
from kapp.ui.background import read_problem
from kapp.ui.changes import HubSignals
from kapp.ui.context import AppContext
from kapp.ui.read_ahead import ReadAhead

SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 200

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""A value that sorts the way a person expects (dates as dates, numbers as numbers)."""
PATIENT_ID_ROLE = Qt.ItemDataRole.UserRole + 2

INDICATION_WORDS = {
    Indication.TRD: "Treatment-resistant depression",
    Indication.DEPRESSION_SI: "Depression with suicidal ideation",
    Indication.CRPS: "CRPS",
    Indication.CHRONIC_PAIN: "Chronic pain",
    Indication.OTHER: "Other",
}
NO_DATE = "—"

AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class Column(IntEnum):
    NAME = 0
    MRN = 1
    BORN = 2
    AGE = 3
    INDICATION = 4
    SESSIONS = 5
    LAST_SESSION = 6


HEADERS = {
    Column.NAME: "Name",
    Column.MRN: "MRN",
    Column.BORN: "Date of birth",
    Column.AGE: "Age",
    Column.INDICATION: "Indication",
    Column.SESSIONS: "Sessions done",
    Column.LAST_SESSION: "Last session",
}


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def short_date(day: date, locale: QLocale | None = None) -> str:
    """The locale's short date, but always with a four-digit year: "3/7/45" could be a
    birth in 1945 or 2045, and a date of birth is an identifier that must not be misread."""
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:  # no locale set up: ISO reads unambiguously
        return day.isoformat()
    pattern = re.sub(r"(?<!y)yy(?!y)", "yyyy", locale.dateFormat(QLocale.FormatType.ShortFormat))
    return locale.toString(QDate(day.year, day.month, day.day), pattern)


def local_day(moment: datetime) -> date:
    """The calendar day at the clinic of a stored (UTC) moment."""
    return moment.astimezone().date() if moment.tzinfo else moment.date()


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_SORT = int(SORT_ROLE)
_ID = int(PATIENT_ID_ROLE)
_COLUMNS = tuple(Column)


class PatientTableModel(QAbstractTableModel):
    """Rows of PatientSummary, one per patient, read-only.

    Each row's texts and sort keys are worked out once, when first asked for: a search
    re-fills the model at every keystroke, and the view, the sorting proxy and the column
    fitting ask for the same cells many times over."""

    def __init__(self, today: Callable[[], date] = date.today,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PatientSummary] = []
        self._texts: list[list[str | None]] = [[] for _ in _COLUMNS]
        self._keys: list[list[str | int] | None] = [None] * len(_COLUMNS)
        self._today = today
        self._sorted_by: tuple[int, Qt.SortOrder] | None = None

    def set_patients(self, patients: Sequence[PatientSummary]) -> bool:
        """Show these patients (in the order the list is sorted by); returns False, and
        leaves the view alone (selection, scrolling), when they are the ones shown."""
        patients = self._in_order(list(patients))
        if patients == self._rows:
            return False
        self.beginResetModel()
        self._rows = patients
        self._texts = [[None] * len(patients) for _ in _COLUMNS]
        self._keys = [None] * len(_COLUMNS)
        self.endResetModel()
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column's sort key (dates as dates, numbers as numbers), stably, in
        Python: a sorting proxy would call back into Python for every comparison, at
        every keystroke."""
        if not 0 <= column < len(_COLUMNS):
            return
        self._sorted_by = (column, order)
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        ids = [self._rows[i.row()].id for i in before]
        self._rows = self._in_order(self._rows)
        self._texts = [[None] * len(self._rows) for _ in _COLUMNS]
        self._keys = [None] * len(_COLUMNS)
        where = {p.id: row for row, p in enumerate(self._rows)}
        self.changePersistentIndexList(
            before, [self.index(where[pid], i.column()) for pid, i in zip(ids, before,
                                                                          strict=True)])
        self.layoutChanged.emit()

    def _in_order(self, patients: list[PatientSummary]) -> list[PatientSummary]:
        if self._sorted_by is None:
            return patients
        column, order = self._sorted_by
        key = self._sort_key
        return sorted(patients, key=lambda p: key(p, _COLUMNS[column]),
                      reverse=order == Qt.SortOrder.DescendingOrder)

    def patient(self, row: int) -> PatientSummary:
        return self._rows[row]

    def patients(self) -> Sequence[PatientSummary]:
        return self._rows

    def row_of(self, patient_id: uuid.UUID) -> int | None:
        return next((i for i, p in enumerate(self._rows) if p.id == patient_id), None)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(Column(section))
        return None

    def data(self, index: AnyIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row, column = index.row(), index.column()
        if not 0 <= row < len(self._rows) or not 0 <= column < len(_COLUMNS) \
                or not index.isValid():
            return None
        role = int(role)
        if role == _DISPLAY:
            return self.text(row, column)
        if role == _SORT:  # asked for every row of one column at a time, when sorting
            keys = self._keys[column]
            if keys is None:
                key = self._sort_key
                keys = self._keys[column] = [key(p, _COLUMNS[column]) for p in self._rows]
            return keys[row]
        if role == _ID:
            return self._rows[row].id
        if role == _ALIGN:
            return self._alignment(_COLUMNS[column])
        if role == _TOOLTIP and column == Column.AGE:
            return f"{self._age(self._rows[row])} years"
        return None

    def text(self, row: int, column: int) -> str:
        """What the cell at (row, column) of this model shows."""
        texts = self._texts[column]
        text = texts[row]
        if text is None:
            text = texts[row] = self._text(self._rows[row], _COLUMNS[column])
        return text

    def widest_rows(self, column: int, n: int = 6) -> list[int]:
        """The rows whose text in ``column`` may be the widest, found without formatting
        every cell: the longest names and MRNs, one row per indication, and one date per
        kind of day and month (a date's width depends on its digits or month name)."""
        rows = self._rows
        if not rows:
            return []
        if column in (Column.NAME, Column.MRN, Column.SESSIONS):
            length: Callable[[int], int] = {
                Column.NAME: lambda r: len(rows[r].family_name) + len(rows[r].given_name),
                Column.MRN: lambda r: len(rows[r].mrn),
                Column.SESSIONS: lambda r: rows[r].sessions_done,
            }[Column(column)]
            return heapq.nlargest(n, range(len(rows)), key=length)
        if column == Column.INDICATION:
            kinds: dict[object, int] = {}
            for r, p in enumerate(rows):
                kinds.setdefault(p.indication, r)
            return list(kinds.values())
        if column == Column.AGE:  # the oldest and the youngest
            born = [p.date_of_birth for p in rows]
            return [born.index(min(born)), born.index(max(born))]
        days: dict[object, int] = {}
        for r, p in enumerate(rows):
            if column == Column.BORN:
                day: date | None = p.date_of_birth
            else:  # the UTC day: close enough to sample by, and no time zone sums
                day = p.last_session_at.date() if p.last_session_at else None
            days.setdefault(None if day is None else (day.month, day.day >= 10), r)
        return list(days.values())

    def _age(self, patient: PatientSummary) -> int:
        return age_on(patient.date_of_birth, self._today())

    def _text(self, p: PatientSummary, column: Column) -> str:
        match column:
            case Column.NAME:
                return p.display_name
            case Column.MRN:
                return p.mrn
            case Column.BORN:
                return short_date(p.date_of_birth)
            case Column.AGE:
                return str(self._age(p))
            case Column.INDICATION:
                return INDICATION_WORDS.get(p.indication, str(p.indication))
            case Column.SESSIONS:
                return str(p.sessions_done)
            case Column.LAST_SESSION:
                return short_date(local_day(p.last_session_at)) if p.last_session_at else NO_DATE

    def _sort_key(self, p: PatientSummary, column: Column) -> str | int:
        # Plain strings and ints only: the proxy compares them natively, not as Python objects.
        match column:
            case Column.NAME:
                return f"{p.family_name.casefold()}\t{p.given_name.casefold()}"
            case Column.BORN:
                return p.date_of_birth.isoformat()
            case Column.AGE:
                return self._age(p)
            case Column.SESSIONS:
                return p.sessions_done
            case Column.LAST_SESSION:
                return p.last_session_at.isoformat() if p.last_session_at else ""
            case _:
                return self._text(p, column).casefold()

    @staticmethod
    def _alignment(column: Column) -> int:
        # Short numbers centred under their heading: right-aligned, a lone "0" sat against
        # the next column's text and read as part of it.
        horizontal = (Qt.AlignmentFlag.AlignHCenter if column in (Column.AGE, Column.SESSIONS)
                      else Qt.AlignmentFlag.AlignLeft)
        return int(horizontal | Qt.AlignmentFlag.AlignVCenter)


class _RowDelegate(QStyledItemDelegate):
    """Cells of a row-at-a-time list: spaced apart, and without a focus box around one
    cell of the selected row, which drew the eye to a single cell for no reason."""

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        # Without the extra width, sized-to-contents columns ran into one another
        # ("Mensah-Baptiste, EsiK-1005").
        size = super().sizeHint(option, index)
        return QSize(size.width() + option.fontMetrics.averageCharWidth() * 3, size.height())

    def initStyleOption(self, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        super().initStyleOption(option, index)
        option.state &= ~QStyle.StateFlag.State_HasFocus


class PatientListView(QWidget):
    """Search box over a table of patients; refreshes when patients change."""

    patientActivated = Signal(object)  # noqa: N815 - Qt names signals in camelCase

    def __init__(self, services: Services, changes: HubSignals,
                 today: Callable[[], date] | None = None, parent: QWidget | None = None,
                 *, ctx: AppContext | None = None) -> None:
        super().__init__(parent)
        self._services = services
        # Registering acts as the signed-in user, so it needs the window's context; the
        # change signals belong to it when the main window made them.
        owner = changes.parent()
        self._ctx = ctx if ctx is not None else owner if isinstance(owner, AppContext) else None
        self._total: int | None = None  # counted again only when patients change
        self._header_hints: list[int] = []
        # Ages follow the database's clock, so a test or a demo clinic set in the past
        # shows the ages it would have shown then.
        self.model = PatientTableModel(today or (lambda: local_day(services.db.clock.now())),
                                       self)
        self._build()
        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.refresh)
        self.search.textEdited.connect(self._debounce.start)
        self.search.returnPressed.connect(self._go_to_table)
        self.search.installEventFilter(self)
        self.table.activated.connect(self._activate)
        # The patient selected is read ahead, so that opening them waits for less (the
        # service is looked up then: it is not imported before the window shows).
        self._read_ahead = ReadAhead(lambda pid: services.patient_view.read_ahead(pid), self)
        self.table.selectionModel().currentRowChanged.connect(self._selected)
        self._changes = changes  # the hub only holds it weakly
        changes.changed.connect(self._on_changed)
        self.refresh()

    def _build(self) -> None:
        self.heading = QLabel("Patients")
        heading_font = QFont(self.heading.font())
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.45)
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self.count_label = QLabel()
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.new_button = QPushButton("New patient…")
        self.new_button.setToolTip("Register a new patient (Ctrl+N)")
        self.new_button.clicked.connect(self.new_patient)
        self.new_button.setVisible(self._ctx is not None)
        new = QAction("New patient…", self)
        new.setShortcut(QKeySequence.StandardKey.New)
        new.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        new.triggered.connect(self.new_patient)
        self.addAction(new)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.count_label)
        top.addSpacing(12)
        top.addWidget(self.new_button)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name, MRN or date of birth (YYYY-MM-DD)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search patients")
        self.search.setMinimumHeight(self.search.fontMetrics().height() * 2)
        find = QAction("Find patient", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self.focus_search)
        self.addAction(find)
        again = QAction("Read the list again", self)
        again.setShortcut(QKeySequence.StandardKey.Refresh)
        again.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        again.triggered.connect(self._read_again)
        self.addAction(again)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.table.setItemDelegate(_RowDelegate(self.table))
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        # Roomy rows: easier to follow across at arm's length and to hit with a touchpad.
        self.table.verticalHeader().setDefaultSectionSize(int(self.fontMetrics().height() * 2))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(header.minimumSectionSize())  # _fit_columns widens
        header.setStretchLastSection(True)
        header.setHighlightSections(False)

        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setTextFormat(Qt.TextFormat.RichText)
        self.empty.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty.setMinimumWidth(self.fontMetrics().averageCharWidth() * 52)
        self.empty.setMaximumWidth(self.fontMetrics().averageCharWidth() * 64)
        # The message sits where the rows would be, in the same framed white area, so the
        # screen does not change shape between "no results" and results.
        self.empty_page = QFrame()
        self.empty_page.setFrameShape(QFrame.Shape.StyledPanel)
        self.empty_page.setBackgroundRole(QPalette.ColorRole.Base)
        self.empty_page.setAutoFillBackground(True)
        empty_layout = QVBoxLayout(self.empty_page)
        empty_layout.addWidget(self.empty, 0, Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.empty_page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.search)
        layout.addWidget(self.pages, 1)

    def refresh(self) -> None:
        """Run the search in the box now (typing waits for a pause first).

        One keystroke costs one short query (the first ``SEARCH_LIMIT`` matches and
        whether there are more; no count of every match) and, only when the list
        changed, one reset of the table and a fit of its columns."""
        self._debounce.stop()
        text = self.search.text().strip()
        selected = self.current_patient_id()
        try:
            found = self._services.patients.find(text, limit=SEARCH_LIMIT)
            self.total  # noqa: B018 - counted here, where a failure is told
        except KappError as error:  # e.g. the database server out of reach
            self._show_problem(error)
            return
        if self.model.set_patients(found.patients):
            self._fit_columns()
            if selected is not None:
                self._select(selected)
        self._show_counts(text, len(found.patients), found.more)

    def _read_again(self) -> None:
        """F5: search again (and count the patients again)."""
        self._total = None
        self.refresh()

    def _show_problem(self, error: KappError) -> None:
        """Where the rows would be: the list could not be read, why, and F5. Read on the
        GUI thread (a quick search), so it is not tried again by itself: a server that
        does not answer would hold the window for seconds at each try."""
        self.model.set_patients([])
        self.count_label.clear()
        title = "The patient list could not be read"
        words = read_problem("The patient list", error,
                             again="press F5 (or type in the search box)")
        words = html.escape(words.removeprefix(title + ". "))
        self.empty.setText(f"<p style='font-size:large'><b>⚠ {title}</b></p><p>{words}</p>")
        self.pages.setCurrentWidget(self.empty_page)

    @property
    def total(self) -> int:
        """How many patients the database holds: counted once, then again only after
        patients changed (not at every keystroke)."""
        if self._total is None:
            self._total = self._services.patients.count()
        return self._total

    def current_patient_id(self) -> uuid.UUID | None:
        index = self.table.currentIndex()
        return index.data(PATIENT_ID_ROLE) if index.isValid() else None

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _show_counts(self, text: str, shown: int, more: bool) -> None:
        number = QLocale().toString
        total = self.total
        if not text:
            if more:
                counts = f"Showing {number(shown)} of {number(total)} — type to narrow"
            else:
                counts = f"{number(shown)} patient" + ("" if shown == 1 else "s")
        elif more:
            counts = f"More than {number(shown)} patients match — type more to narrow"
        else:
            counts = (f"{number(shown)} of {number(total)} patients "
                      + ("matches" if shown == 1 else "match"))
        self.count_label.setText(counts)
        if shown:
            self.pages.setCurrentWidget(self.table)
            return
        if total == 0:
            self.count_label.clear()  # the message below says it in words
            title = "No patients yet"
            hint = ("Patients registered at this clinic will be listed here.</p><p>"
                    "To try kapp with made-up patients, whoever looks after this computer "
                    "can load a demo clinic with <nobr><code>kapp demo --db PATH</code></nobr>.")
        else:
            title = f"No patient matches ‘{html.escape(text)}’"
            hint = ("Check the spelling, or search by MRN or by date of birth "
                    "written as YYYY-MM-DD.")
        self.empty.setText(f"<p style='font-size:large'><b>{title}</b></p><p>{hint}</p>")
        self.pages.setCurrentWidget(self.empty_page)

    def _fit_columns(self) -> None:
        """Widen columns to their contents but never narrow them: columns that jumped
        about with every typed letter made the list hard to follow.

        Only the cells that may be the widest are measured (``widest_rows``): asking the
        view for every cell's size hint cost a quarter of a second per keystroke with
        200 patients listed."""
        header = self.table.horizontalHeader()
        delegate = self.table.itemDelegate()
        option = QStyleOptionViewItem()
        self.table.initViewItemOption(option)
        metrics = option.fontMetrics
        if not self._header_hints:  # the headings' widths change only with the font
            self._header_hints = [header.sectionSizeHint(c) for c in Column]
        for column in Column:
            wanted = self._header_hints[column]
            rows = self.model.widest_rows(column)
            if rows:
                row = max(rows, key=lambda r: metrics.horizontalAdvance(
                    self.model.text(r, column)))
                index = self.model.index(row, column)
                wanted = max(wanted, delegate.sizeHint(option, index).width())
            if wanted > header.sectionSize(column):
                header.resizeSection(column, wanted)

    def _select(self, patient_id: uuid.UUID) -> None:
        row = self.model.row_of(patient_id)
        if row is not None:
            self.table.selectRow(row)

    def _go_to_table(self) -> None:
        if self._debounce.isActive():
            self.refresh()
        if self.model.rowCount() == 0:
            return
        if not self.table.currentIndex().isValid():
            self.table.selectRow(0)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def new_patient(self) -> None:
        """Register a patient, then open their page (through ``patientActivated``)."""
        if self._ctx is None:
            return
        from kapp.ui.patient_form import PatientFormDialog  # it uses this module's helpers

        created = PatientFormDialog.ask(self._ctx, None, self)
        if created is not None:
            self._total = None
            self.refresh()
            self.patientActivated.emit(created.id)

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._read_ahead.select(current.data(PATIENT_ID_ROLE) if current.isValid() else None)

    def _activate(self, index: QModelIndex) -> None:
        self.patientActivated.emit(index.data(PATIENT_ID_ROLE))

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if Change.PATIENTS in changes:
            self._total = None
            self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Down from the search box walks into the results, as in a browser's address bar.
        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Down):
            self._go_to_table()
            return True
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._header_hints = []
        super().changeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.search.setFocus(Qt.FocusReason.OtherFocusReason)

