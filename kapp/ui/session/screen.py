"""One session on one screen: header with the clocks, alerts, the pump, the vitals row and
table, the chart, the side-effect, dissociation and note panels, and the timeline.

Everything shown is read back from the services after each change, so what the screen
shows is what is stored: after a crash, a new window shows the same session, with the
minutes measured from the stored start."""

from __future__ import annotations

import contextlib
import uuid

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QMouseEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStyle,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kapp.domain import enums as e
from kapp.domain.entities import TreatmentSession
from kapp.domain.errors import KappError
from kapp.services.changes import Change
from kapp.services.drafts import FormDrafts
from kapp.services.reading import SessionEntries
from kapp.ui import report_actions
from kapp.ui.context import AppContext, Navigator
from kapp.ui.qt_compat import emit
from kapp.ui.session import timing
from kapp.ui.session.alerts import BLUE, AlertBanner, Banner
from kapp.ui.session.chart import SessionChart
from kapp.ui.session.dissociation import DissociationPanel
from kapp.ui.session.models import (
    COL_REMARKS,
    COL_RHYTHM,
    ENTRY_ID_ROLE,
    RHYTHM_SHORT,
    TimelineModel,
    VitalsTableModel,
    clock_text,
)
from kapp.ui.session.nasal import NasalPanel
from kapp.ui.session.notes import NotesPanel
from kapp.ui.session.pump import PumpPanel
from kapp.ui.session.side_effects import HOW_TO, SideEffectsPanel
from kapp.ui.session.stages import ClosingPanel, PrePanel, SessionHeader
from kapp.ui.session.timeline import timeline, vitals_text
from kapp.ui.session.vitals_entry import VitalsEntry
from kapp.ui.session_steps import addendum, correction, discharge, instrument, pre_session, sign

TICK_MS = 1000
_RELOAD_ON = {Change.SESSIONS, Change.ENTRIES, Change.ALERTS, Change.PROTOCOL, Change.PATIENTS,
              Change.USERS}
_READ_APART = {Change.PROTOCOL, Change.PATIENTS, Change.USERS}  # not what ``reload`` reads



class CompactHeader(QHeaderView):
    """A table header whose sections are as wide as their words.

    QHeaderView sizes each section for its title in bold (the look of a highlighted
    section), which on a 1366-wide laptop costs the vitals table a whole column; this
    header does not highlight, so it can measure the words as they are drawn."""

    PADDING = 8  # pixels beside the words, both sides together

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setHighlightSections(False)
        self.setSectionsClickable(True)
        # Each size worked out once: the table asks ~50 times at each reading shown.
        self._sizes: dict[tuple[int, str], QSize] = {}

    def sectionSizeFromContents(self, logical_index: int) -> QSize:
        model = self.model()
        if model is None:
            return super().sectionSizeFromContents(logical_index)
        text = str(model.headerData(logical_index, self.orientation()) or "")
        size = self._sizes.get((logical_index, text))
        if size is None:
            height = super().sectionSizeFromContents(logical_index).height()
            width = max(self.fontMetrics().horizontalAdvance(line)
                        for line in text.split("\n"))
            size = self._sizes[logical_index, text] = QSize(width + self.PADDING, height)
        return size

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._sizes.clear()  # measured in the old font
        super().changeEvent(event)


class PanelTitle(QWidget):
    """A panel's title line: its name in bold, what it holds, and its Alt key. A click
    does what the key does (the notes, kept to this line while a dissociation report is
    being written, come back with it)."""

    clicked = Signal()

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 1, 4, 1)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setMinimumWidth(1)  # the panel under it sets the column's width
        self.key = QLabel(key)
        self.key.setEnabled(False)  # quieter than the title: a hint, not a heading
        row.addWidget(self.label, 1)
        row.addWidget(self.key)

    def set_text(self, name: str, holds: str) -> None:
        self.label.setText(f"<b>{name}</b> · {holds}")
        self.setAccessibleName(f"{name}, {holds}, {self.key.text()}")

    def text(self) -> str:
        return self.label.text()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            emit(self.clicked)
        super().mousePressEvent(event)


class SessionScreen(QWidget):
    """The live session. Keeps its own 1 s timer, so every chair counts on its own; it
    runs while the screen is shown (a chair's hidden screen counts nothing nobody sees,
    and catches up the moment it is shown again)."""

    def __init__(self, ctx: AppContext, session_id: uuid.UUID | None, navigator: Navigator,
                 parent: QWidget | None = None) -> None:
        """``session_id`` None: a screen built ahead, empty, that ``attach`` gives its
        session when a chair is opened (the main window keeps one ready: most of what a
        new screen costs is making its ~300 widgets, not reading or showing a session)."""
        super().__init__(parent)
        self._ctx = ctx
        self.session_id: uuid.UUID | None = None
        self._navigator = navigator
        self._peak_dismissed = False
        self._stale = False  # a change came while this chair was not on screen
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        if session_id is not None:
            self.attach(session_id)

    def attach(self, session_id: uuid.UUID) -> None:
        """Make this screen ``session_id``'s and show it; once per screen. Everything is
        read before anything here changes: a read that fails leaves the screen as it was
        (a screen built ahead stays ready for the next chair)."""
        if self.session_id is not None:
            raise RuntimeError("a session screen shows one session")
        ctx, services = self._ctx, self._ctx.services
        read_after = ctx.changes.notified  # what the read below saw (``reload``)
        session: TreatmentSession = services.sessions.get(session_id)
        entries: SessionEntries = services.sessions.entries(session_id)
        patient = services.patients.get(session.patient_id)
        protocol = services.protocol.current()
        names = self._staff_names()
        drafts = self._drafts(session_id)
        self.session_id, self.session, self.entries = session_id, session, entries
        self.patient, self.protocol, self._names = patient, protocol, names
        self._read_after = read_after
        # An intranasal session is dosed by nasal devices, not by a pump.
        self.pump: PumpPanel | NasalPanel = (
            NasalPanel(ctx, session_id) if session.route is e.Route.INTRANASAL
            else PumpPanel(ctx, session_id))
        self.pump.changed.connect(self.reload)
        self.pump.start_warnings = self._start_warnings
        self._column.insertWidget(self._column.indexOf(self.closing), self.pump)
        self.rems_action.setVisible(session.drug == e.Drug.ESKETAMINE)
        self.vitals_entry.session_id = session_id
        self.side_effects.attach(session)
        self.dissociation.attach(session, drafts)
        self.notes.attach(session, drafts)
        if self.isVisible():  # else when shown
            self.timer.start()
        ctx.changes.changed.connect(self._on_changed)
        self._show()  # what was read above: reading it again would show the same

    def _drafts(self, session_id: uuid.UUID) -> dict[str, FormDrafts] | None:
        """The drafts of the report and the note, the user's own and colleagues', in one
        read (four round trips to a server otherwise); None: each panel reads its own
        (and says so in the log if it cannot: a draft not shown never stops a chair)."""
        user = self._ctx.user
        if user is None:
            return None
        try:
            return self._ctx.services.drafts.of_forms(actor=user, form_keys=[
                self.dissociation.draft_key(session_id), self.notes.draft_key(session_id)])
        except KappError:
            return None

    def _staff_names(self) -> dict[uuid.UUID, str]:
        return {u.id: u.full_name for u in self._ctx.services.users.list_users(
            include_inactive=True)}

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        """The widgets, before any session is known (``attach`` gives it, and the pump)."""
        ctx = self._ctx
        self.header = SessionHeader()
        self.alert_banner = AlertBanner(ctx)
        self.alert_banner.acknowledged.connect(lambda _alerts: self.reload())
        self.peak_banner = Banner("peak", BLUE, QStyle.StandardPixmap.SP_MessageBoxInformation)
        self.peak_button = QPushButton("Record peak dissociation scale…")
        self.peak_button.clicked.connect(self.open_peak_scale)
        # A reminder, not an alarm: one line, its icon no taller than the buttons beside it
        # (on the laptop each pixel here is one the panels under it lose).
        size = self.peak_button.sizeHint().height()
        self.peak_banner.icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxInformation).pixmap(size, size))
        self.peak_banner.row.setContentsMargins(10, 2, 10, 2)
        self.peak_later = later = QPushButton("Later")
        later.clicked.connect(self._dismiss_peak)
        self.peak_banner.row.addWidget(self.peak_button)
        self.peak_banner.row.addWidget(later)
        self.peak_banner.hide()
        self.pre_panel = PrePanel()
        self.pre_panel.checklist_button.clicked.connect(self.open_checklist)
        self.closing = ClosingPanel()
        self.closing.discharge_button.clicked.connect(self.open_discharge)
        self.closing.sign_button.clicked.connect(self.open_sign)
        self.closing.addendum_button.clicked.connect(self.open_addendum)
        self._build_record_menu()
        # Which vitals these are stands to the left of the row, not on a title line of its
        # own: on a 1366x768 laptop every line above the panels is a line they lose.
        self.vitals_box = QFrame()
        self.vitals_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.vitals_stage = QLabel()
        self.vitals_stage.setTextFormat(Qt.TextFormat.RichText)
        self.vitals_entry = VitalsEntry(ctx, None)
        self.vitals_entry.recorded.connect(lambda _result: self.reload())
        box = QHBoxLayout(self.vitals_box)
        box.setContentsMargins(6, 2, 6, 2)
        box.addWidget(self.vitals_stage)
        box.addWidget(self.vitals_entry, 1)

        self.vitals_model = VitalsTableModel(self)
        self.vitals_table = self._table(self.vitals_model, "Vitals readings")
        self.vitals_table.customContextMenuRequested.connect(self._vitals_menu)
        self._fit_vitals_columns()
        self.timeline_model = TimelineModel(self)
        self.timeline_table = self._table(self.timeline_model, "Timeline, newest first")
        self.timeline_table.customContextMenuRequested.connect(self._timeline_menu)
        self.timeline_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.timeline_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.timeline_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch)
        self.chart = SessionChart()

        # One screen, no pages to turn (ux.md): three columns under the vitals row.
        # Left, what the nurse reads most: the readings over their chart; the timeline
        # shares the chart's place (Alt+4 turns between them), so it never hides a panel.
        # Middle, the side effects: their keys and what was recorded. Right, the
        # dissociation reports over the notes. Each panel has a title line that says what
        # it holds and its Alt key, and scrolls on its own when its content is long.
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        self.views.addTab(self.chart, "Chart")
        self.views.addTab(self.timeline_table, "Timeline")
        self.views.setTabToolTip(0, "The session chart — Alt+4 turns to the timeline")
        self.views.setTabToolTip(1, "Everything that happened, newest first — Alt+4")
        # Under the tallest banners the readings keep their rows; the chart gives way.
        self.views.setMinimumHeight(self.fontMetrics().lineSpacing() * 5)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.vitals_table)
        left.addWidget(self.views)
        left.setSizes([50, 50])
        # The readings and their chart are what the nurse reads most: never let the
        # panels beside them squeeze them to a sliver on a 1366-wide laptop.
        left.setMinimumWidth(self.fontMetrics().averageCharWidth() * 40)
        left.setChildrenCollapsible(False)

        # The panels show what this screen reads (one read per change, not one each).
        # One key per side effect anywhere on the screen (text fields keep their letters).
        self.side_effects = SideEffectsPanel(ctx, None, columns=2, keys_in=self)
        self.side_effects.title.hide()  # the column's title line says it
        self.side_effects.asked.connect(lambda _kind: self._show_pending_side_effect())
        self.dissociation = DissociationPanel(ctx, None)
        self.dissociation.bind_cadss_key(self)  # Alt+C: the full scale, from anywhere here
        self.notes = NotesPanel(ctx, None)
        for panel in (self.side_effects, self.dissociation, self.notes):
            panel.refresh = self.reload
        self.notes.title.hide()
        self.panel_pages: dict[str, QScrollArea] = {}
        self.panel_titles: dict[str, PanelTitle] = {}
        boxes: dict[str, QWidget] = {}
        for key, (name, widget) in enumerate((
                ("side_effects", self.side_effects), ("dissociation", self.dissociation),
                ("notes", self.notes)), start=1):
            page = QScrollArea()  # the panel scrolls on its own when its content is long
            page.setWidgetResizable(True)
            page.setFrameShape(QFrame.Shape.NoFrame)
            page.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            page.setWidget(widget)
            # As wide as the panel needs with its scroll bar showing: a panel that starts
            # to scroll must not lose its right edge.
            page.setMinimumWidth(widget.minimumSizeHint().width() + self.style().pixelMetric(
                QStyle.PixelMetric.PM_ScrollBarExtent))
            title = PanelTitle(f"Alt+{key}")
            box = QFrame()
            box.setFrameShape(QFrame.Shape.StyledPanel)
            column = QVBoxLayout(box)
            column.setContentsMargins(1, 1, 1, 1)
            column.setSpacing(0)
            column.addWidget(title)
            column.addWidget(page, 1)
            self.panel_pages[name] = page
            self.panel_titles[name] = title
            boxes[name] = box
        self.panel_titles["side_effects"].setToolTip(f"Side effects: {HOW_TO}")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(boxes["dissociation"])
        right.addWidget(boxes["notes"])
        right.setChildrenCollapsible(False)
        right.setSizes([46, 54])
        # While a dissociation report is written its panel takes the room its form needs
        # from the notes, down to their title line (``_room_for_report``).
        self.panel_pages["notes"].setMinimumHeight(1)
        self._right, self._right_sizes = right, [46, 54]
        self._report_open = False
        right.installEventFilter(self)
        self.dissociation.opened.connect(self._room_for_report)
        for key, name in enumerate(("side_effects", "dissociation", "notes", "timeline"),
                                   start=1):
            shortcut = QShortcut(QKeySequence(f"Alt+{key}"), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda n=name: self.show_panel(n))
            if name in self.panel_titles:
                self.panel_titles[name].clicked.connect(lambda n=name: self.show_panel(n))
        self.body = QSplitter(Qt.Orientation.Horizontal)
        # The panels as narrow as they can be without cutting anything; the readings and
        # their chart take the rest, and the most of any room a wider screen gives.
        for column, stretch in ((left, 5), (boxes["side_effects"], 2), (right, 3)):
            self.body.addWidget(column)
            self.body.setStretchFactor(self.body.indexOf(column), stretch)
        self.body.setChildrenCollapsible(False)
        self.body.setHandleWidth(4)  # each pixel counts on the laptop; the frames show it
        self.body.setSizes([2000, 0, 0])

        self._column = layout = QVBoxLayout(self)  # the pump goes before the closing
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(3)
        for widget in (self.header, self.alert_banner, self.peak_banner, self.pre_panel,
                       self.closing, self.vitals_box):
            layout.addWidget(widget)
        layout.addWidget(self.body, 1)

    def _table(self, model, name: str) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.setAccessibleName(name)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.verticalHeader().hide()
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return table

    def _fit_vitals_columns(self) -> None:
        """Every column in view beside the side-effect keys on a 1366-wide laptop, with no
        sideways scrolling: the numbers take what they need, the rhythm a short fixed
        column (SR, ST, AF... the words in the tooltip), the remarks the rest, in short
        words that wrap (the whole text in the tooltip)."""
        table = self.vitals_table
        header = CompactHeader(table)
        table.setHorizontalHeader(header)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_RHYTHM, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_REMARKS, QHeaderView.ResizeMode.Stretch)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        # The remarks are a few short words; where the column is narrow (a reading with
        # every vital flagged, on the laptop) they go on over two lines, never cut.
        table.setWordWrap(True)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(table.fontMetrics().horizontalAdvance("88") + 8)
        widest = max(table.fontMetrics().horizontalAdvance(short)
                     for short in RHYTHM_SHORT.values()) + CompactHeader.PADDING
        header.resizeSection(COL_RHYTHM, max(widest, header.sectionSizeHint(COL_RHYTHM)))

    def _build_record_menu(self) -> None:
        ctx = self._ctx
        menu = QMenu(self)
        self.save_pdf_action = menu.addAction(
            "Save as PDF…", lambda: report_actions.save_session_pdf(ctx, self.session_id, self))
        self.print_action = menu.addAction(
            "Print…", lambda: report_actions.print_session(ctx, self.session_id, self))
        self.print_action.setShortcut(QKeySequence.StandardKey.Print)
        self.print_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.print_action)
        self.rems_action = menu.addAction(
            "Esketamine REMS monitoring summary (PDF)…",
            lambda: report_actions.save_rems_pdf(ctx, self.session_id, self))
        self.closing.record_button.setMenu(menu)

    def show_panel(self, name: str) -> None:
        """Alt+1..4: put the keyboard in a panel (side_effects, dissociation, notes) or turn
        the chart's place to the timeline (and, pressed again there, back to the chart)."""
        if name == "timeline":
            if self.views.currentWidget() is self.timeline_table \
                    and self.timeline_table.hasFocus():
                self.views.setCurrentWidget(self.chart)
                return
            self.views.setCurrentWidget(self.timeline_table)
            target: QWidget = self.timeline_table
        elif name == "side_effects":
            table = self.side_effects.table
            if table.topLevelItemCount():
                if table.currentItem() is None:
                    table.setCurrentItem(table.topLevelItem(table.topLevelItemCount() - 1))
                target = table
            else:
                target = next(iter(self.side_effects.buttons.values()))
        elif name == "dissociation":
            self.dissociation.show_details()
            target = self.dissociation.intensity
        else:
            self._room_for_report(False)  # the notes back at their share of the column
            target = self.notes.text
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if name in self.panel_pages:
            page = self.panel_pages[name]
            QTimer.singleShot(0, page, lambda: page.ensureWidgetVisible(target))

    def _room_for_report(self, open_: bool) -> None:
        """``open_``: a dissociation report is being written. On the 1366x698 laptop under
        three alert banners the right-hand column is ~295 px for both panels, and the
        report's panel needs ~240 px to show its form (~350 px for all of it): so while a
        report is open its panel takes what it needs from the notes under it, which keep
        at least their title line ("Notes · 3 Alt+3": the key or a click brings them
        back), or three lines and more (a sliver of notes would read as clutter).
        Closed (the report added, or the nurse gone to the notes): the column is shared
        as it was."""
        right, was_open = self._right, self._report_open
        if not open_:
            self._report_open = False
            if was_open:
                right.setSizes(self._right_sizes)
            return
        sizes = right.sizes()
        total = sum(sizes)
        if not was_open and total > 0:
            self._right_sizes = sizes  # as the nurse left it, to go back to
        self._report_open = True
        if total <= 0 or not right.isVisible():
            return  # not laid out yet (a screen made ahead): its first resize fits it
        panel, page = self.dissociation, self.panel_pages["dissociation"]
        around = right.widget(0).height() - page.viewport().height()  # title, frame
        layout = panel.layout()
        layout.activate()
        need = layout.totalHeightForWidth(page.viewport().width()) + around
        usual = self._right_sizes[0] * total // max(1, sum(self._right_sizes))
        least = right.widget(1).minimumSizeHint().height()  # the notes' title line
        share = max(need, usual)
        if total - share < least + 3 * self.fontMetrics().lineSpacing():
            share = total - least
        share = max(1, min(share, total - least))
        if sizes != [share, total - share]:
            right.setSizes([share, total - share])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._right and event.type() == QEvent.Type.Resize \
                and self._report_open:
            # A banner came or went, or the window changed: the form keeps its room.
            QTimer.singleShot(0, self, lambda: self._room_for_report(self._report_open))
        return super().eventFilter(watched, event)

    def _show_pending_side_effect(self) -> None:
        """A side effect's key was pressed: its severity strip in view."""
        page, strip = self.panel_pages["side_effects"], self.side_effects.strip
        QTimer.singleShot(0, page, lambda: page.ensureWidgetVisible(strip))

    def _name_panels(self, entries: SessionEntries) -> None:
        """Each panel's title line says what it holds."""
        effects = [x for x in entries.side_effects if not x.entry.is_struck]
        ongoing = sum(1 for x in effects if not x.resolved_at)
        reports = [x for x in entries.dissociation if not x.entry.is_struck]
        notes = sum(1 for x in entries.notes if not x.entry.is_struck)
        effects_text = (f"{ongoing} ongoing" if ongoing else
                        f"{len(effects)} resolved" if effects else "none")
        last = f", last {reports[-1].intensity}/10" if reports else ""
        self.panel_titles["side_effects"].set_text("Side effects", effects_text)
        self.panel_titles["dissociation"].set_text(
            "Dissociation", f"{len(reports)}{last}")
        self.panel_titles["notes"].set_text("Notes", str(notes))

    # -- state ----------------------------------------------------------------------------
    @property
    def read_only(self) -> bool:
        """Signed, completed or aborted: nothing more is typed here."""
        return self.session.is_signed or self.session.status in (
            e.SessionStatus.COMPLETED, e.SessionStatus.ABORTED)

    def reload(self) -> None:
        """Read the session back from the services and show it."""
        services = self._ctx.services
        read_after = self._ctx.changes.notified  # taken before reading: see _on_changed
        try:
            self.session = services.sessions.get(self.session_id)
            self.entries = services.sessions.entries(self.session_id)
        except KappError:
            return  # the database is unreadable for a moment; the next change retries
        self._read_after = read_after
        self._show()

    def _show(self) -> None:
        services = self._ctx.services
        s, entries = self.session, self.entries
        status = s.status
        start = s.actual_start
        self.header.show_session(s, self.patient)
        self.alert_banner.set_alerts(entries.alerts, start, read_only=s.is_signed)
        planned = status is e.SessionStatus.PLANNED
        self.pre_panel.setVisible(planned)
        if planned:
            self.pre_panel.show_session(s, entries.vitals, entries.alerts)
        self.pump.set_read_only(self.read_only)
        self.pump.set_session(s, entries.infusion_events)
        # Once stopped, the pump's summary moves into the recovery panel (one line less).
        self.pump.setVisible(self.pump.state != "stopped" and
                             status is not e.SessionStatus.ABORTED)
        closing = status in (e.SessionStatus.RECOVERY, e.SessionStatus.COMPLETED,
                             e.SessionStatus.ABORTED) or s.is_signed
        self.closing.setVisible(closing)
        if closing:
            missing = [] if s.is_signed else services.sessions.missing_for_signature(s.id)
            self.closing.show_session(s, missing, entries.addenda, self._names,
                                      self.pump.delivered_label.text())
        self.vitals_box.setVisible(not self.read_only)
        stage, line = (("Baseline", "before dosing") if planned else
                       ("Recovery", "vitals") if status is e.SessionStatus.RECOVERY
                       else ("Vitals", "Tab · Enter"))
        self.vitals_stage.setText(f"<b>{stage}</b><br>{line}")
        title = ("Baseline vitals (before dosing)" if planned else "Recovery vitals"
                 if status is e.SessionStatus.RECOVERY else "Vitals")
        self.vitals_box.setToolTip(f"{title} — Tab to move, Enter to record")
        self.vitals_box.setAccessibleName(title)
        self.vitals_model.set_readings(entries.vitals, entries.alerts, start)
        QTimer.singleShot(0, self.vitals_table, self.vitals_table.scrollToBottom)
        self.timeline_model.set_lines(timeline(entries, self._names), start)
        self.chart.show_entries(s, entries, self.protocol)
        self.side_effects.show_entries(entries)
        self.dissociation.show_entries(s, entries)
        self.notes.show_entries(entries, self._names)
        self._name_panels(entries)
        self.tick()

    def next_vitals_due(self) -> timing.VitalsDue | None:
        return timing.next_vitals_due(self.session, self.entries.vitals, self.protocol)

    def tick(self) -> None:
        """Once a second: the clock, the countdown, the delivered dose, the 40-minute prompt."""
        now = self._ctx.clock.now()
        self.header.tick(self.session, now, self.next_vitals_due())
        if isinstance(self.pump, NasalPanel):
            self.pump.tick()  # "next not before" counts down from the stored devices
        elif self.session.status in (e.SessionStatus.IN_PROGRESS, e.SessionStatus.RECOVERY) \
                and self.pump.state in ("running", "paused"):
            with contextlib.suppress(KappError, ValueError):  # shown again at the next tick
                self.pump.refresh_delivery()
        self.vitals_entry.tick()
        self._show_peak_prompt(now)

    def _show_peak_prompt(self, now) -> None:
        due = (not self._peak_dismissed and not self.read_only and
               timing.peak_scale_due(self.session, self.entries.instruments, self.protocol, now))
        if due:
            code = self.peak_instrument()
            minutes = int(timing.minutes_since(self.session.actual_start, now) or 0)
            self.peak_banner.text.setText(
                f"<b style='font-size:large'>Reminder</b> &nbsp;{minutes} min since the start: "
                f"time for the peak dissociation scale ({self._instrument_name(code)}).")
            self.peak_button.setText(f"Record {self._instrument_name(code)}…")
        self.peak_banner.setVisible(due)

    def peak_instrument(self) -> str:
        known = self._ctx.services.records.instruments
        return next((c for c in timing.PEAK_INSTRUMENTS if c in known),
                    timing.PEAK_INSTRUMENTS[0])

    def _instrument_name(self, code: str) -> str:
        definition = self._ctx.services.records.instruments.get(code)
        return definition.name if definition is not None else code.upper()

    def _dismiss_peak(self) -> None:
        self._peak_dismissed = True
        self.peak_banner.hide()

    def _start_warnings(self) -> list[str]:
        s, warnings = self.session, []
        baseline = [v for v in self.entries.vitals if v.predose and not v.entry.is_struck]
        if not baseline:
            warnings.append("No baseline vitals have been recorded.")
        else:
            held = [a for a in self.entries.alerts if a.vitals_id == baseline[-1].id
                    and a.severity is e.AlertSeverity.HOLD and not a.entry.is_struck]
            if held:
                warnings.append(f"HOLD: {held[0].message}.")
        todo = [c.value.replace("_", " ") for c in e.PreSessionCheck
                if not s.pre_checklist.get(c.value)]
        if todo:
            warnings.append("Pre-session checklist not complete: " + ", ".join(todo) + ".")
        return warnings

    def _on_changed(self, changes: frozenset[Change]) -> None:
        if changes & _RELOAD_ON:
            if Change.PROTOCOL in changes:
                self.protocol = self._ctx.services.protocol.current()
            if Change.PATIENTS in changes:
                self.patient = self._ctx.services.patients.get(self.session.patient_id)
            if Change.USERS in changes:  # a new colleague's entries are signed by name
                self._names = self._staff_names()
            if not changes & _READ_APART and self._ctx.changes.shown_by(self._read_after):
                # This screen read the session after the change was made (at once after
                # its own entry, say): reading it again would show the same.
                return
            if self.isVisible():
                self.reload()
            else:  # with eight chairs open, an entry in one would redraw all eight
                self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.reload()  # ticks too
        elif self.session_id is not None and not self.timer.isActive():
            self.tick()  # the clock and countdowns, stopped while hidden
        if self.session_id is not None:
            self.timer.start()
        if self.vitals_box.isVisible():
            QTimer.singleShot(0, self.vitals_entry, self.vitals_entry.focus_first)

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    # -- steps (dialogs owned by the steps work) -------------------------------------------
    def open_checklist(self) -> bool:
        return self._after(pre_session.open_pre_session(self._ctx, self.session_id, self))

    def open_peak_scale(self) -> bool:
        return self._after(instrument.open_instrument(
            self._ctx, self.patient.id, self.peak_instrument(), e.TimePoint.PEAK.value,
            self.session_id, self))

    def open_discharge(self) -> bool:
        return self._after(discharge.open_discharge(self._ctx, self.session_id, self))

    def open_sign(self) -> bool:
        return self._after(sign.sign_session(self._ctx, self.session_id, self))

    def open_addendum(self) -> bool:
        return self._after(addendum.add_addendum(self._ctx, self.session_id, self))

    def _after(self, saved: bool) -> bool:
        if saved:
            self.reload()
        return saved

    # -- strike through / correct ---------------------------------------------------------
    def _vitals_menu(self, pos: QPoint) -> None:
        index = self.vitals_table.indexAt(pos)
        if not index.isValid():
            index = self.vitals_table.currentIndex()
        if not index.isValid():
            return
        reading = self.vitals_model.reading(index.row())
        description = f"Vitals {clock_text(reading.taken_at)}: {vitals_text(reading)}"
        self._strike_menu(self.vitals_table, pos, "vitals_readings", reading.id, description,
                          reading.entry.is_struck)

    def _timeline_menu(self, pos: QPoint) -> None:
        index = self.timeline_table.indexAt(pos)
        if not index.isValid():
            index = self.timeline_table.currentIndex()
        if not index.isValid():
            return
        line = self.timeline_model.line(index.row())
        if line.table is None or line.entry_id is None:
            return
        self._strike_menu(self.timeline_table, pos, line.table, line.entry_id,
                          f"{line.what} {clock_text(line.at)}: {line.text}", line.struck)

    def _strike_menu(self, table: QTableView, pos: QPoint, name: str, entry_id: uuid.UUID,
                     description: str, struck: bool) -> None:
        menu = QMenu(self)
        action = self.strike_action(menu, name, entry_id, description, struck)
        menu.addAction(action)
        menu.popup(table.viewport().mapToGlobal(pos))

    def strike_action(self, parent, name: str, entry_id: uuid.UUID, description: str,
                      struck: bool) -> QAction:
        """The menu entry for one row (tests trigger it directly)."""
        action = QAction("Strike through / correct…", parent)
        action.setEnabled(not struck and not self.session.is_signed)
        action.triggered.connect(lambda: self._after(correction.strike_entry(
            self._ctx, name, entry_id, description, self)))
        return action

    def entry_id_at(self, table: QTableView, row: int) -> uuid.UUID | None:
        return table.model().index(row, 0).data(ENTRY_ID_ROLE)
