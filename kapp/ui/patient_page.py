"""One patient: who they are, allergies and flags at the top, then their progress and
their sessions. The nurse starts a course and plans the next session from here."""

from __future__ import annotations

import gc
import uuid

from PySide6.QtCore import QEvent, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QFont, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.entities import Patient
from kapp.domain.enums import Sex
from kapp.domain.errors import KappError, NotFound
from kapp.services.changes import Change
from kapp.services.patient_view import (
    FlagKind,
    FlagLevel,
    PatientFlag,
    PatientOpening,
    PatientOverview,
)
from kapp.ui import report_actions
from kapp.ui.background import BackgroundReader, read_problem
from kapp.ui.context import AppContext, Navigator
from kapp.ui.paint_hold import PaintHold
from kapp.ui.patient_form import PatientFormDialog
from kapp.ui.patient_list import SORT_ROLE, _RowDelegate, age_on, local_day, short_date
from kapp.ui.patient_tables import (
    SESSION_ID_ROLE,
    CourseTableModel,
    SessionColumn,
    SessionTableModel,
    when_text,
)
from kapp.ui.patient_widgets import (
    CONTRAINDICATION_WORDS,
    COURSE_WORDS,
    INDICATION_WORDS,
    MEDICATION_WORDS,
    SEX_WORDS,
    Banner,
    Chip,
    Level,
    word,
)
from kapp.ui.plan_session import PlanSessionDialog
from kapp.ui.progress_view import ProgressView
from kapp.ui.start_course import StartCourseDialog

CHIPS_PER_ROW = 3  # with the allergies beside them: fits 1366 px
RESIZE_ROWS = 40  # rows measured when the tables fit their columns to their contents
_WATCHED = {Change.PATIENTS, Change.COURSES, Change.SESSIONS, Change.ENTRIES, Change.USERS}


def flag_chips(flags: tuple[PatientFlag, ...]) -> list[tuple[Level, str, str]]:
    """(level, words, tooltip) for each chip; medications share one chip."""
    chips: list[tuple[Level, str, str]] = []
    medicines = [word(MEDICATION_WORDS, f.code) for f in flags if f.kind is FlagKind.MEDICATION]
    for f in flags:
        level = Level(f.level.value)
        session = (f"{word(COURSE_WORDS, f.course_kind)} session {f.number_in_course}"
                   if f.number_in_course else "")
        match f.kind:
            case FlagKind.INSTRUMENT:
                day = short_date(local_day(f.at)) if f.at else ""
                chips.append((level, f"{f.message} ({day})", f.message))
            case FlagKind.CONTRAINDICATION:
                chips.append((level, f"Contraindication: {word(CONTRAINDICATION_WORDS, f.code)}",
                              "Answered yes at screening"))
            case FlagKind.SCREENING_UNKNOWN:
                chips.append((level, f"Not known: {word(CONTRAINDICATION_WORDS, f.code)}",
                              "Screening answer not known yet: ask before the next session"))
            case FlagKind.NOT_SCREENED:
                chips.append((level, "Not screened for contraindications",
                              "Edit the patient to record the screening answers"))
            case FlagKind.UNSIGNED_SESSION:
                day = f" of {short_date(local_day(f.at))}" if f.at else ""
                chips.append((level, f"Not signed: {session}{day}",
                              "Open it from the Sessions tab to sign it"))
            case FlagKind.IN_CHAIR:
                since = f" since {when_text(f.at)}" if f.at else ""
                chips.append((level, f"In the chair now: {session}{since}", ""))
    if medicines:
        chips.append((Level.INFO, "Takes: " + ", ".join(medicines),
                      "Medicines that matter with ketamine"))
    return chips


_start_up_frozen = False


def freeze_start_up_objects() -> None:
    """Once per process: collect the garbage, then move every object alive (the modules,
    the services, the window) out of the cyclic garbage collector's sight. Without this
    each full collection walks ~160,000 start-up objects, 90-150 ms that land inside
    every fourth or fifth patient page opened. Frozen objects are still freed when
    nothing refers to them; only a cycle among them would outlive its use. Best called
    at the end of start-up (the main window shown); the first patient page does it
    otherwise."""
    global _start_up_frozen
    if not _start_up_frozen:
        _start_up_frozen = True
        gc.collect()
        gc.freeze()


class PatientPage(QWidget):
    def __init__(self, ctx: AppContext, patient_id: uuid.UUID, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        freeze_start_up_objects()
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        self.navigator = navigator
        self.overview: PatientOverview | None = None
        self._tables_stale = True
        self._shown_patient: Patient | None = None
        self._overview_read = 0  # counts the overviews read: a slower first read is dropped
        self._read_problem = False  # the banner says the first read failed
        self._build()
        self._opening = BackgroundReader(self)
        self._paint_hold = PaintHold()
        self._opening.finished.connect(self._opened)
        self._opening.failed.connect(self._open_failed)
        ctx.changes.changed.connect(self._on_changed)
        self._open()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DeferredDelete:  # closing: the next page reuses
            self.progress.release_charts()               # this one's charts
        return super().event(event)

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.name = QLabel()
        font = QFont(self.name.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.name.setFont(font)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.identity = QLabel()
        self.identity.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.identity.setWordWrap(True)

        self.edit_button = self._button("&Edit patient…", "Ctrl+E", self.edit_patient)
        self.course_button = self._button("Start &course…", "", self.start_course)
        self.plan_button = self._button("&Plan next session…", "Ctrl+Shift+P",
                                        self.plan_session)
        self.plan_button.setDefault(True)
        self.plan_button.setEnabled(False)  # until the courses are read
        self.reports_button = self._reports_button()
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        for button in (self.edit_button, self.course_button, self.plan_button,
                       self.reports_button):
            top.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)

        self.banner = Banner()
        # Allergies first, then the flags, all on as few lines as the width allows.
        self.allergies = QWidget()
        self.allergy_layout = QHBoxLayout(self.allergies)
        self.allergy_layout.setContentsMargins(0, 0, 0, 0)
        self.chips_box = QWidget()
        self.chips_layout = QVBoxLayout(self.chips_box)
        self.chips_layout.setContentsMargins(0, 0, 0, 0)
        self.chips_layout.setSpacing(4)

        self.tabs = QTabWidget()
        self.progress = ProgressView(self.ctx, self.patient_id, self.navigator,
                                     read_now=False)  # given by the page's first read
        self.tabs.addTab(self.progress, "&Progress")
        self.sessions_tab = QWidget()  # its tables are made when it is first shown
        QVBoxLayout(self.sessions_tab)
        self._sessions_built = False
        self.tabs.addTab(self.sessions_tab, "&Sessions")
        self.tabs.currentChanged.connect(self._tab_shown)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.identity)
        layout.addWidget(self.banner)
        flags = QHBoxLayout()
        flags.addWidget(self.allergies, 0, Qt.AlignmentFlag.AlignTop)
        flags.addWidget(self.chips_box, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(flags)
        layout.addWidget(self.tabs, 1)

    def _button(self, text: str, keys: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        if keys:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            button.setToolTip(f"{text.replace('&', '')} ({keys})")
        return button

    def _reports_button(self) -> QToolButton:
        """Paper for the chart and the referring doctor, and the patient's data as CSV."""
        ctx, pid = self.ctx, self.patient_id
        menu = QMenu(self)
        self.progress_pdf_action = menu.addAction(
            "Progress report (PDF)…", lambda: report_actions.save_progress_pdf(ctx, pid, self))
        self.export_action = menu.addAction(
            "Export this patient's records (CSV)…",
            lambda: report_actions.export_csv(ctx, pid, self))
        button = QToolButton()
        button.setText("&Reports")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setMenu(menu)
        return button

    def _build_sessions_tab(self) -> None:
        """The Sessions tab's tables, made the first time the tab is shown: two tables
        with their headers and scroll bars cost several ms to make and lay out, which
        every opening would pay for a tab that most openings never show."""
        self.course_model = CourseTableModel(self)
        self.courses = _table(self.course_model)
        self.session_model = SessionTableModel(self)
        self._session_proxy = QSortFilterProxyModel(self)
        self._session_proxy.setSourceModel(self.session_model)
        self._session_proxy.setSortRole(SORT_ROLE)
        self.sessions = _table(self._session_proxy)
        self.sessions.setSortingEnabled(True)
        self.sessions.sortByColumn(SessionColumn.DATE, Qt.SortOrder.DescendingOrder)
        self.sessions.activated.connect(self._open_session)
        self.no_sessions = QLabel("No sessions yet. Start a course, then plan the first "
                                  "session (Plan next session…).")
        self.no_sessions.setWordWrap(True)
        layout = self.sessions_tab.layout()
        for widget, stretch in ((_heading("Courses"), 0), (self.courses, 0),
                                (_heading("Sessions — Enter or double-click opens one"), 0),
                                (self.no_sessions, 0), (self.sessions, 1)):
            layout.addWidget(widget, stretch)
            widget.show()  # now, not when the event loop next runs: the tab is on screen
        self._sessions_built = True

    # -- data -----------------------------------------------------------------------------
    def _open(self) -> None:
        """The first read, off the GUI thread: the overview and the progress in one
        transaction (the patient, courses and sessions read once for both). Who the patient
        is shows at once; the flags and the charts follow together."""
        try:
            patient = self.ctx.services.patients.get(self.patient_id)
        except NotFound:
            self.banner.show_message("This patient's record could not be found.")
            self.progress.refresh()  # which says so too, rather than loading for ever
            return
        except KappError:  # the server out of reach: the read below says so, and retries
            patient = None
        if patient is not None:
            self._show_patient(patient)
        reads, pid, service = self._overview_read, self.patient_id, self.ctx.services.patient_view
        self._opening.start(lambda _task: (reads, service.opening(pid)))

    @property
    def loading(self) -> bool:
        """The first read is under way (the flags and the charts are not shown yet)."""
        return self._opening.busy or self.progress.loading

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._opening.busy:  # painted once, with its charts, if they come soon enough
            self._paint_hold.hold(self)

    def hideEvent(self, event: QHideEvent) -> None:
        self._paint_hold.release()
        super().hideEvent(event)

    def _opened(self, result: tuple[int, PatientOpening]) -> None:
        reads, opening = result
        if self._read_problem:  # the read failed before, and worked when tried again
            self._read_problem = False
            self.banner.clear()
        if reads == self._overview_read:  # no newer overview was read meanwhile
            self._show_overview(opening.overview)
        self.progress.show_progress(opening.progress)
        self._paint_hold.release()  # laid out: the charts can be readied for the paint
        self.progress.prepare_paint()

    def _open_failed(self, error: object) -> None:
        self._paint_hold.release()
        if isinstance(error, NotFound):
            self.banner.show_message("This patient's record could not be found.")
            return
        self._read_problem = True
        retrying = self._opening.retrying
        self.banner.show_message(read_problem("This patient's record", error,
                                              retrying=retrying,
                                              again="press F5" if retrying else None))
        if self._opening.retrying:  # the same read, tried again, brings the charts too
            self.progress.status.setText("⏳ Waiting for the database server…")
        else:
            self.progress.refresh()  # its own read says whether the charts can be shown

    def refresh(self) -> None:
        try:
            overview = self.ctx.services.patient_view.overview(self.patient_id)
        except NotFound:
            self.banner.show_message("This patient's record could not be found.")
            return
        except KappError as error:  # the server out of reach: said; the next read may work
            self.banner.show_message(read_problem("This patient's record", error, again=None))
            return
        self._show_overview(overview)

    def _show_patient(self, p: Patient) -> None:
        if p == self._shown_patient:
            return  # shown at opening, and the overview read the same again
        self._shown_patient = p
        today = local_day(self.ctx.clock.now())
        self.name.setText(f"{p.family_name}, {p.given_name}")
        self.identity.setText(" · ".join([
            f"MRN {p.mrn}",
            f"Born {short_date(p.date_of_birth)} ({age_on(p.date_of_birth, today)} years)",
            "Sex not known" if p.sex is Sex.UNKNOWN else word(SEX_WORDS, p.sex),
            word(INDICATION_WORDS, p.indication),
        ]))
        self._show_allergies(p.allergies)

    def _show_overview(self, overview: PatientOverview) -> None:
        self._overview_read += 1
        self.overview = overview
        self._show_patient(overview.patient)
        self._show_flags(overview.flags)
        self._tables_stale = True
        if self.tabs.currentWidget() is self.sessions_tab:
            self._fill_tables()
        has_course = bool(overview.open_courses)
        self.plan_button.setEnabled(has_course)
        self.plan_button.setToolTip("Plan the next session (Ctrl+Shift+P)" if has_course
                                    else "Start a course first")

    def _fill_tables(self) -> None:
        """The Sessions tab's tables, filled when the tab is shown (not on opening the
        page, which shows the progress first): sorting and fitting the columns of ten
        years of sessions is worth doing only for someone who looks at them."""
        overview = self.overview
        if not self._sessions_built:
            self._build_sessions_tab()
        if overview is None or not self._tables_stale:
            return
        self._tables_stale = False
        self.course_model.set_rows(overview.courses)
        self.session_model.set_rows(overview.sessions)
        self.sessions.resizeColumnsToContents()
        self.courses.resizeColumnsToContents()
        self._fit_courses(len(overview.courses))
        self.no_sessions.setVisible(not overview.sessions)
        self.sessions.setVisible(bool(overview.sessions))

    def _tab_shown(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.sessions_tab:
            self._fill_tables()

    def _fit_courses(self, rows: int) -> None:
        """As tall as its courses (up to four), so the sessions get the rest."""
        shown = min(max(rows, 1), 4)
        height = (self.courses.horizontalHeader().height()
                  + self.courses.verticalHeader().defaultSectionSize() * shown
                  + self.courses.frameWidth() * 2 + 2)
        self.courses.setFixedHeight(height)

    def _show_allergies(self, allergies: str) -> None:
        _clear(self.allergy_layout)
        text = allergies.strip()
        if text:
            chip = Chip(Level.DANGER, f"Allergies: {text}")
        else:
            chip = Chip(Level.INFO, "Allergies: none recorded",
                        "Nothing entered under allergies; edit the patient to record them")
        chip.label.setWordWrap(len(text) > 60)  # a long list wraps; a short one never
        chip.setMaximumWidth(self.fontMetrics().averageCharWidth() * 60)
        self.allergy_layout.addWidget(chip)

    def _show_flags(self, flags: tuple[PatientFlag, ...]) -> None:
        _clear(self.chips_layout)
        chips = flag_chips(flags) or [(Level.OK, "No flags", "Nothing needs attention")]
        row: QHBoxLayout | None = None
        for number, (level, text, tip) in enumerate(chips):
            if number % CHIPS_PER_ROW == 0:
                row = QHBoxLayout()
                row.setSpacing(6)
                self.chips_layout.addLayout(row)
            assert row is not None
            row.addWidget(Chip(level, text, tip))
        for index in range(self.chips_layout.count()):
            item = self.chips_layout.itemAt(index)
            if item is not None and item.layout() is not None:
                item.layout().addStretch(1)

    def chip_texts(self) -> list[str]:
        return [w.text() for w in self.chips_box.findChildren(Chip)]

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if changes & _WATCHED:
            self.refresh()

    # -- actions --------------------------------------------------------------------------
    def edit_patient(self) -> None:
        if self.overview is None:
            return
        # Read afresh: the form's version must be the one on disk when it opened.
        try:
            patient = self.ctx.services.patients.get(self.patient_id)
        except KappError as error:
            self.banner.show_message(str(error))
            return
        if PatientFormDialog.ask(self.ctx, patient, self) is not None:
            self.refresh()

    def start_course(self) -> None:
        if StartCourseDialog.ask(self.ctx, self.patient_id, self) is not None:
            self.refresh()
            self.tabs.setCurrentIndex(1)

    def plan_session(self) -> None:
        if self.overview is None:
            return  # still opening: the button comes on once the courses are known
        if not self.overview.open_courses:
            self.banner.show_message("Start a course first: a session belongs to a course.",
                                     Level.WARNING)
            return
        planned = PlanSessionDialog.ask(self.ctx, self.patient_id, self)
        if planned is not None:
            self.navigator.open_session(planned.id)

    def _open_session(self, index: QModelIndex) -> None:
        session_id = index.data(SESSION_ID_ROLE)
        if session_id is not None:
            self.navigator.open_session(session_id)

    def flags_of(self, level: FlagLevel) -> list[PatientFlag]:
        return [f for f in (self.overview.flags if self.overview else ()) if f.level is level]


def _table(model) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setItemDelegate(_RowDelegate(table))  # the patient list's spacing and focus look
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(int(table.fontMetrics().height() * 1.9))
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    # Fit the columns to the first rows only (newest first): measuring every cell of a
    # ten-year history would cost a third of a second each time the page opens.
    table.horizontalHeader().setResizeContentsPrecision(RESIZE_ROWS)
    return table


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


def _clear(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.setParent(None)  # gone from findChildren now, not at its deletion
            widget.deleteLater()
        elif item.layout() is not None:
            _clear(item.layout())
