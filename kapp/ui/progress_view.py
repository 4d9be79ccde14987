"""A patient's progress over time: summary figures at the top, charts below.

What a prescriber should see in five seconds: whether the scores fell and by how much,
whether the patient responded or remitted, and how dissociation and blood pressure
behaved. The series come from ``ProgressService`` (read off the GUI thread); the maths is
in ``kapp.domain.series``, the drawing in ``kapp.ui.progress_charts``.
"""

from __future__ import annotations

import uuid

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kapp.domain.series import OutcomeSummary, ProgressSummary, percent_of
from kapp.services.changes import Change
from kapp.services.progress import PatientProgress
from kapp.ui.background import BackgroundReader, read_problem
from kapp.ui.context import AppContext, Navigator
from kapp.ui.progress_charts import DATE_AXIS, SESSION_AXIS, Chart, ChartBuilder, Theme, day_text

RELOAD_ON = frozenset({Change.SESSIONS, Change.ENTRIES, Change.COURSES, Change.PROTOCOL,
                       Change.PATIENTS})
COLUMNS = 2


_FONTS: dict[tuple[str, float, bool], QFont] = {}


def _font(label: QLabel, scale: float, bold: bool = False) -> QLabel:
    base = label.font()
    key = (base.key(), scale, bold)
    font = _FONTS.get(key)
    if font is None:  # made once: every patient page has six cards of these
        font = _FONTS[key] = QFont(base)
        font.setPointSizeF(font.pointSizeF() * scale)
        font.setBold(bold)
    label.setFont(font)
    return label


class Card(QFrame):
    """One summary figure: a caption, the figure in large type, two lines of words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(1)
        self.caption = _font(QLabel(), 0.9)
        self.figure = _font(QLabel(), 1.7, bold=True)
        self.figure.setWordWrap(True)
        self.caption.setWordWrap(True)
        self.lines = QLabel()
        self.lines.setTextFormat(Qt.TextFormat.RichText)
        self.lines.setWordWrap(True)
        for widget in (self.caption, self.figure, self.lines):
            widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(widget)
        layout.addStretch(1)

    def show_figure(self, caption: str, figure: str, lines: list[str]) -> None:
        self.caption.setText(caption)
        self.figure.setText(figure)
        self.lines.setText("<br>".join(lines))
        self.setAccessibleName(f"{caption}: {figure}")

    def text(self) -> str:
        """Everything the card says, as plain text (tests, screen readers)."""
        return " ".join([self.caption.text(), self.figure.text(), self.lines.text()])


def _warn(text: str, theme: Theme) -> str:
    return f"<span style='color:{theme.warn.name()}'><b>⚠ {text}</b></span>"


class SummaryPanel(QWidget):
    """The figures a prescriber reads first, in large type."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.cards: list[Card] = []

    def _card(self, index: int) -> Card:
        while len(self.cards) <= index:
            card = Card(self)
            self.cards.append(card)
            self.row.addWidget(card, 1)
        card = self.cards[index]
        card.show()
        return card

    def show_summary(self, progress: PatientProgress, theme: Theme) -> None:
        s = progress.series.summary
        used = 0
        for outcome in s.outcomes[:2]:
            self._card(used).show_figure(*self._outcome(outcome, s, theme))
            used += 1
        if not s.outcomes:
            self._card(used).show_figure("Scores", "—", ["No outcome scores yet"])
            used += 1
        for figure in (self._sessions(s), self._timing(s, progress, theme),
                       self._dissociation(s), self._blood_pressure(s, theme)):
            self._card(used).show_figure(*figure)
            used += 1
        for card in self.cards[used:]:  # a panel kept from another patient had more
            self.row.removeWidget(card)
            card.deleteLater()
        del self.cards[used:]

    @staticmethod
    def _outcome(o: OutcomeSummary, s: ProgressSummary,
                 theme: Theme) -> tuple[str, str, list[str]]:
        out = o.outcome
        if out.baseline is None:
            figure = f"{out.latest:g}" if out.latest is not None else "—"
            lines = ["No baseline: response not judged"]
        else:
            figure = f"{out.baseline:g} → {out.latest:g}  {percent_of(out.percent_change)}"
            word = o.response_word.lower()
            lines = [f"<b>✔ {o.response_word}</b>" if out.response else f"✖ No {word} yet"]
        if o.remission_rule is not None:
            rule = o.remission_rule.removeprefix("Remission: ")
            lines[-1] += (" · <b>✔ Remission</b>" if out.remission
                          else f" · ✖ No remission ({rule})")
        if o.latest_band:
            lines.append(f"Now: {o.latest_band}")
        if o.code == "phq9" and s.flagged_scores:
            times = "once" if s.flagged_scores == 1 else f"{s.flagged_scores} times"
            lines.append(_warn(f"Item 9 positive {times}", theme))
        return f"{o.name}, baseline → latest", figure, lines

    @staticmethod
    def _sessions(s: ProgressSummary) -> tuple[str, str, list[str]]:
        course = s.current_course
        if course is None:
            return "Sessions", "0", ["No course yet"]
        planned = f" of {course.planned_sessions}" if course.planned_sessions else ""
        ended = f", ended {day_text(course.ended_on)}" if course.ended_on else ""
        return (f"{course.label} sessions done", f"{s.sessions_done_in_course}{planned}",
                [f"Course {course.number}{ended}",
                 f"{s.sessions_done_total} session{'s' if s.sessions_done_total != 1 else ''}"
                 " done in all"])

    @staticmethod
    def _timing(s: ProgressSummary, progress: PatientProgress,
                theme: Theme) -> tuple[str, str, list[str]]:
        if s.days_since_last is None:
            figure = "—"
            lines = ["No session yet"]
        else:
            days = s.days_since_last
            figure = "today" if days == 0 else "1 day ago" if days == 1 else f"{days} days ago"
            lines = [day_text(s.last_session_on)] if s.last_session_on else []
        due = s.next_due
        course = s.current_course
        if due is not None:
            when = day_text(due.on)
            if due.basis == "booked":
                lines.append(f"Next: booked for {when}")
            elif course is not None and course.ended_on is not None:
                lines.append("Course ended; nothing booked")
                return "Last session", figure, lines
            elif due.overdue:
                lines.append(_warn(f"Booster overdue by {-due.days_from_today} days "
                                   f"(due {when})", theme))
            else:
                lines.append(f"Next booster due {when}")
            if due.basis != "booked":
                lines.append(f"Every {progress.protocol.booster_interval_days:g} days "
                             "(protocol)")
        return "Last session", figure, lines

    @staticmethod
    def _dissociation(s: ProgressSummary) -> tuple[str, str, list[str]]:
        if s.dissociation_median is None:
            return "Dissociation (peak, 0-10)", "—", ["No reports yet"]
        return ("Dissociation, typical peak", f"{s.dissociation_median:g} of 10",
                [f"Highest {s.dissociation_max} of 10"])

    @staticmethod
    def _blood_pressure(s: ProgressSummary, theme: Theme) -> tuple[str, str, list[str]]:
        serious = (_warn(f"{s.serious_side_effects} serious side effect"
                         f"{'s' if s.serious_side_effects != 1 else ''}", theme)
                   if s.serious_side_effects else "No serious side effects")
        if s.bp_rise_median is None:
            return "Systolic rise, typical", "—", ["No readings yet", serious]
        return ("Systolic rise, typical", f"{s.bp_rise_median:+.0f} mmHg".replace("-", "−"),
                [f"Largest {s.bp_rise_max:+.0f} mmHg".replace("-", "−"), serious])


class ChartGrid(QWidget):
    """The charts of one progress view, ``COLUMNS`` to a row."""

    def __init__(self) -> None:
        super().__init__()
        self.layout_ = QGridLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.charts: list[Chart] = []

    def place(self, charts: list[Chart]) -> None:
        """Show these charts, in this order. A chart already in its cell is left alone: a
        grid that gets the same charts again (the same patient, or another with the same
        scales) is neither laid out nor resized again. Charts not placed are taken out of
        the layout, and must be given another parent by the caller."""
        for chart in self.charts:
            if chart not in charts:
                self.layout_.removeWidget(chart)
        for index, chart in enumerate(charts):
            cell = (index // COLUMNS, index % COLUMNS)
            item = self.layout_.itemAtPosition(*cell)
            if item is None or item.widget() is not chart:
                if chart.parentWidget() is self:
                    self.layout_.removeWidget(chart)
                self.layout_.addWidget(chart, *cell)
            if chart.isHidden():
                chart.setVisible(True)
        self.charts = list(charts)


class ChartPool:
    """Charts and summary panels kept from closed progress views, so that the next
    patient's view draws into them instead of building new ones (a pyqtgraph chart costs
    about 10 ms to make before it holds any data, and a ten-year patient has nine; a
    panel of six cards several ms). A chart is emptied of everything drawn
    (``Chart.reset``) and a panel given every text anew before either is shown again;
    both are put on screen only once filled. The last view's grid is kept whole, its
    charts in their cells (``ChartGrid``), in its scroll area: the next view puts that in
    its layout at the same size, so no chart is resized (a pyqtgraph chart's resize costs
    about a millisecond; a grid given to a new scroll area resized each chart twice). Other
    charts wait hidden in a holder widget."""

    LIMIT = 24

    def __init__(self) -> None:
        self._charts: list[Chart] = []
        self._panels: list[SummaryPanel] = []
        self._scroll: QScrollArea | None = None  # holding the last view's ChartGrid
        self._holder: QWidget | None = None
        self.drawn_from = False  # a view has taken charts from it (``kapp.ui.warm_up``)

    def take_panel(self) -> SummaryPanel | None:
        while self._panels:
            panel = self._panels.pop()
            if shiboken6.isValid(panel):
                return panel
        return None

    def give_panel(self, panel: SummaryPanel) -> None:
        if shiboken6.isValid(panel) and len(self._panels) < 2:
            panel.setParent(self.holder())
            self._panels.append(panel)

    def take_scroll(self) -> QScrollArea | None:
        """The kept scroll area with its grid (``_grid_of``), or None."""
        scroll, self._scroll = self._scroll, None
        if scroll is not None and shiboken6.isValid(scroll) and _grid_of(scroll) is not None:
            return scroll
        return None

    def give_scroll(self, scroll: QScrollArea) -> None:
        """Keep a closed view's scroll area and grid whole, or (one is kept already) the
        grid's charts."""
        grid = _grid_of(scroll)
        if grid is None:
            return
        if self._scroll is None or not shiboken6.isValid(self._scroll):
            scroll.setParent(self.holder())
            self._scroll = scroll
            return
        charts = grid.charts
        grid.place([])
        self.give(charts)
        scroll.deleteLater()

    def take(self) -> list[Chart]:
        """Every loose kept chart still alive; they are the caller's now."""
        self.drawn_from = True
        charts = [c for c in self._charts if shiboken6.isValid(c)]
        self._charts.clear()
        return charts

    def holder(self) -> QWidget:
        if self._holder is None or not shiboken6.isValid(self._holder):
            self._holder = QWidget()
            self._holder.setObjectName("kapp-chart-pool")
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.clear)
        return self._holder

    def give(self, charts: list[Chart]) -> None:
        holder = self.holder()
        for chart in charts:
            if not shiboken6.isValid(chart):
                continue
            if len(self._charts) >= self.LIMIT:
                chart.deleteLater()
                continue
            chart.setXLink(None)
            chart.setParent(holder)  # hidden, out of the closed view's layout
            self._charts.append(chart)

    def clear(self) -> None:
        scroll = self.take_scroll()
        if scroll is not None:
            scroll.deleteLater()  # and its grid and charts with it
        for chart in self.take():
            chart.deleteLater()
        while (panel := self.take_panel()) is not None:
            panel.deleteLater()
        if self._holder is not None and shiboken6.isValid(self._holder):
            self._holder.deleteLater()
        self._holder = None
        self.drawn_from = False

    def __len__(self) -> int:
        """Charts kept, loose or in the kept grid."""
        grid = _grid_of(self._scroll) if self._scroll is not None \
            and shiboken6.isValid(self._scroll) else None
        return len(self._charts) + (len(grid.charts) if grid is not None else 0)


def _grid_of(scroll: QScrollArea) -> ChartGrid | None:
    """The grid a scroll area holds, if it and all its charts are still alive."""
    if not shiboken6.isValid(scroll):
        return None
    grid = scroll.widget()
    if isinstance(grid, ChartGrid) and all(shiboken6.isValid(c) for c in grid.charts):
        return grid
    return None


POOL = ChartPool()


class ProgressView(QWidget):
    """Summary figures and charts of one patient; ``loaded`` fires after each drawing."""

    loaded = Signal()

    def __init__(self, ctx: AppContext, patient_id: uuid.UUID, navigator: Navigator,
                 parent: QWidget | None = None, *, read_now: bool = True) -> None:
        """``read_now=False``: the first progress comes from ``show_progress`` (the patient
        page reads it with its own, in one transaction)."""
        super().__init__(parent)
        self.ctx, self.patient_id, self.navigator = ctx, patient_id, navigator
        self.axis = SESSION_AXIS
        self.progress: PatientProgress | None = None
        self.charts: list[Chart] = []
        self._stale = False
        self._theme: Theme | None = None
        self.reader = BackgroundReader(self)
        self.reader.finished.connect(self._show)
        self.reader.failed.connect(self._failed)
        self._build()
        self._reload = QTimer(self, singleShot=True, interval=250)
        self._reload.timeout.connect(self.refresh)
        ctx.changes.changed.connect(self._on_changed)
        self._reads = 0  # its own reads started: a progress given later is older
        self._awaiting = not read_now
        if read_now:
            self.refresh()
        else:
            self.status.setText("⏳ Loading progress…")

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        # The summary panel comes with the first drawing (one kept from a closed view, or
        # new), put here once filled: nothing of another patient is ever on screen.
        self.summary: SummaryPanel | None = None
        self._summary_slot = QVBoxLayout()
        self._summary_slot.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._summary_slot)
        bar = QHBoxLayout()
        self.status = QLabel()
        self.status.setAccessibleName("Progress status")
        bar.addWidget(self.status, 1)
        bar.addWidget(QLabel("Across:"))
        self.by_session = QRadioButton("&Session number")
        self.by_date = QRadioButton("&Date")
        self.by_session.setChecked(True)
        self.axis_buttons = QButtonGroup(self)
        for button in (self.by_session, self.by_date):
            self.axis_buttons.addButton(button)
            bar.addWidget(button)
        self.by_session.toggled.connect(
            lambda on: self.set_axis(SESSION_AXIS if on else DATE_AXIS))
        layout.addLayout(bar)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        # The charts' grid, like the summary, comes with the first drawing: the last
        # closed view's, charts and all, in its scroll area, which takes this one's place
        # (``ChartPool``); taken then, not now, as the last view closes after this opens.
        self.chart_grid: ChartGrid | None = None
        self._scroll_kept = False  # given to the pool by ``release_charts``
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout.addWidget(self.scroll, 1)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.refresh)

    # -- loading -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the patient's progress again, off the GUI thread."""
        self._stale = False
        self._reads += 1
        self._awaiting = False
        self.status.setText("⏳ Loading progress…")
        pid, service = self.patient_id, self.ctx.services.progress
        self.reader.start(lambda _task: service.progress(pid))

    @property
    def loading(self) -> bool:
        return self.reader.busy or self._awaiting

    def show_progress(self, progress: PatientProgress) -> None:
        """Draw a progress read by the patient page, unless this view has read its own
        since (that one is newer)."""
        if self._reads == 0:
            self._awaiting = False
            self._show(progress)

    def _show(self, progress: PatientProgress) -> None:
        self.progress = progress
        self.banner.hide()
        count = len(progress.series.sessions)
        self.status.setText(
            f"{count} session{'s' if count != 1 else ''} · as of "
            f"{day_text(progress.series.today)} · hover a point for details, click it to "
            "open the session (keyboard: Tab to a chart, ← → ↑ ↓, Enter)")
        self._draw()

    def _failed(self, error: object) -> None:
        self.status.setText("")
        self.banner.setText("⚠ " + read_problem("This patient's progress", error,
                                                retrying=self.reader.retrying))
        self.banner.show()

    def _draw(self) -> None:
        if self.progress is None:
            return
        theme = self._theme = Theme.of(self)
        self.setUpdatesEnabled(False)  # one paint at the end, not one per chart
        try:
            if self.summary is None:
                summary = POOL.take_panel() or SummaryPanel()
                summary.show_summary(self.progress, theme)
                self._summary_slot.addWidget(summary)
                summary.setVisible(True)
                self.summary = summary
            else:
                self.summary.show_summary(self.progress, theme)
            if self.chart_grid is None:
                self._take_kept_scroll()
            grid = self.chart_grid or _grid_of(self.scroll) or ChartGrid()
            builder = ChartBuilder(self.progress.series, theme, self.axis,
                                   self.navigator.open_session,
                                   self.progress.protocol.alert_hr_at_or_above,
                                   reuse=[*grid.charts, *POOL.take()])
            self.charts = builder.build()
            grid.place(self.charts)
            POOL.give(builder.unused())  # kept for the next drawing or the next patient
            if self.chart_grid is None:
                self.chart_grid = grid
                if self.scroll.widget() is not grid:
                    self.scroll.setWidget(grid)
        finally:
            self.setUpdatesEnabled(True)
        self.loaded.emit()

    def _take_kept_scroll(self) -> None:
        """Put the last closed view's scroll area (and grid) in place of this one's."""
        kept = POOL.take_scroll()
        if kept is None:
            return
        own, self.scroll = self.scroll, kept
        self.layout().replaceWidget(own, kept)
        own.deleteLater()
        kept.verticalScrollBar().setValue(0)  # the last patient's was scrolled
        kept.setVisible(True)

    def prepare_paint(self) -> None:
        """Bring each chart up to date for the paint to come, once it is laid out: its
        view's ranges and the placing of its text items, which pyqtgraph otherwise does
        as the chart paints (and what changes then asks for a second paint of every
        chart), and the items its scene has queued as changed. The paint to come then
        leaves nothing for another (in the ten-year clinic, 12 chart paints per opening
        instead of 19-21; a few repaints of other causes remain)."""
        for chart in self.charts:
            scene = chart.scene()
            scene.prepareForPaint()
            QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)

    def set_axis(self, axis: str) -> None:
        if axis != self.axis:
            self.axis = axis
            button = self.by_session if axis == SESSION_AXIS else self.by_date
            if not button.isChecked():
                button.setChecked(True)
            self._draw()

    def chart(self, title_start: str) -> Chart:
        """The chart whose title starts with these words (tests, keyboard users)."""
        return next(c for c in self.charts if c.title_text.startswith(title_start))

    def release_charts(self) -> None:
        """Give the charts to the pool for the next patient's view (the view is closing);
        called before the view is deleted."""
        self.charts = []
        self.chart_grid = None
        if self._scroll_kept:
            return
        if _grid_of(self.scroll) is not None:  # drawn, or kept and not drawn yet
            self._scroll_kept = True  # the pool's now (the view is closing)
            self.layout().removeWidget(self.scroll)
            POOL.give_scroll(self.scroll)
        if self.summary is not None:
            self._summary_slot.removeWidget(self.summary)
            POOL.give_panel(self.summary)
            self.summary = None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.DeferredDelete:
            self.release_charts()
        return super().event(event)

    # -- staying current ---------------------------------------------------------------
    def _on_changed(self, changes: frozenset[Change]) -> None:
        if changes & RELOAD_ON:
            if self.isVisible():
                self._reload.start()  # a burst of entries reloads once
            else:
                self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if (event.type() == QEvent.Type.PaletteChange and self.progress is not None
                and Theme.of(self) != self._theme):
            self._draw()  # light and dark themes: chart colours follow the palette
