"""The patient list: find a patient by name, MRN or date of birth."""

from __future__ import annotations

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
    QSortFilterProxyModel,
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
from kapp.services.changes import Change
from kapp.services.facade import Services
from kapp.ui.changes import HubSignals
from kapp.ui.context import AppContext

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


class PatientTableModel(QAbstractTableModel):
    """Rows of PatientSummary, one per patient, read-only."""

    def __init__(self, today: Callable[[], date] = date.today,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PatientSummary] = []
        self._today = today

    def set_patients(self, patients: Sequence[PatientSummary]) -> None:
        self.beginResetModel()
        self._rows = list(patients)
        self.endResetModel()

    def patient(self, row: int) -> PatientSummary:
        return self._rows[row]

    def row_of(self, patient_id: uuid.UUID) -> int | None:
        return next((i for i, p in enumerate(self._rows) if p.id == patient_id), None)

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(Column)

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
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        patient, column = self._rows[index.row()], Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(patient, column)
        if role == SORT_ROLE:
            return self._sort_key(patient, column)
        if role == PATIENT_ID_ROLE:
            return patient.id
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.AGE:
            return f"{self._age(patient)} years"
        return None

    def text(self, row: int, column: Column) -> str:
        """The text shown in a cell."""
        return self._text(self._rows[row], column)

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
        self._total = 0
        # Ages follow the database's clock, so a test or a demo clinic set in the past
        # shows the ages it would have shown then.
        self.model = PatientTableModel(today or (lambda: local_day(services.db.clock.now())),
                                       self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self.model)
        self._proxy.setSortRole(SORT_ROLE)
        self._build()
        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self.refresh)
        self.search.textEdited.connect(self._debounce.start)
        self.search.returnPressed.connect(self._go_to_table)
        self.search.installEventFilter(self)
        self.table.activated.connect(self._activate)
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

        self.table = QTableView()
        self.table.setModel(self._proxy)
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
        """Run the search in the box now (typing waits for a pause first)."""
        self._debounce.stop()
        text = self.search.text().strip()
        selected = self.current_patient_id()
        patients = self._services.patients.search(text, limit=SEARCH_LIMIT)
        self._total = self._services.patients.count()
        self.model.set_patients(patients)
        self._fit_columns()
        if selected is not None:
            self._select(selected)
        self._show_counts(text, len(patients))

    @property
    def total(self) -> int:
        """How many patients the database holds, as of the last refresh."""
        return self._total

    def current_patient_id(self) -> uuid.UUID | None:
        index = self.table.currentIndex()
        return index.data(PATIENT_ID_ROLE) if index.isValid() else None

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _show_counts(self, text: str, shown: int) -> None:
        number = QLocale().toString
        if not text:
            if shown < self._total:
                counts = f"Showing {number(shown)} of {number(self._total)} — type to narrow"
            else:
                counts = f"{number(shown)} patient" + ("" if shown == 1 else "s")
        elif shown >= SEARCH_LIMIT:
            counts = f"Showing the first {number(shown)} matches — type more to narrow"
        else:
            counts = (f"{number(shown)} of {number(self._total)} patients "
                      + ("matches" if shown == 1 else "match"))
        self.count_label.setText(counts)
        if shown:
            self.pages.setCurrentWidget(self.table)
            return
        if self._total == 0:
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
        about with every typed letter made the list hard to follow."""
        header = self.table.horizontalHeader()
        for column in Column:
            wanted = max(self._content_width(column), header.sectionSizeHint(column))
            if wanted > header.sectionSize(column):
                header.resizeSection(column, wanted)

    def _content_width(self, column: Column) -> int:
        """What ``sizeHintForColumn`` gives, measured on the row with the widest text only:
        asking the delegate for every cell of 200 rows took over 100 ms (at start and on
        every search)."""
        rows = self.model.rowCount()
        if rows == 0:
            return -1
        metrics = self.table.fontMetrics()
        widest = max(range(rows), key=lambda row: metrics.horizontalAdvance(
            self.model.text(row, column)))
        index = self._proxy.mapFromSource(self.model.index(widest, column))
        return self.table.sizeHintForIndex(index).width()

    def _select(self, patient_id: uuid.UUID) -> None:
        row = self.model.row_of(patient_id)
        if row is not None:
            self.table.selectRow(self._proxy.mapFromSource(self.model.index(row, 0)).row())

    def _go_to_table(self) -> None:
        if self._debounce.isActive():
            self.refresh()
        if self._proxy.rowCount() == 0:
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
            self.refresh()
            self.patientActivated.emit(created.id)

    def _activate(self, index: QModelIndex) -> None:
        self.patientActivated.emit(index.data(PATIENT_ID_ROLE))

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if Change.PATIENTS in changes:
            self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Down from the search box walks into the results, as in a browser's address bar.
        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Down):
            self._go_to_table()
            return True
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.search.setFocus(Qt.FocusReason.OtherFocusReason)

