"""The progress charts (pyqtgraph), drawn from ``kapp.domain.series``; no maths here.

Colour is never the only signal: each line has its own dash pattern and marker, every
line and band carries a text label, and hovering a point says what it is in words; so does
stepping through the points from the keyboard (``kapp.ui.chart_keys``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import pyqtgraph as pg
from PySide6.QtCore import QDate, QLocale, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFocusEvent,
    QFont,
    QKeyEvent,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QGraphicsRectItem, QWidget

from kapp.domain import enums as e
from kapp.domain.series import (
    CourseSpan,
    DissociationPoint,
    DosePoint,
    PatientSeries,
    SafetyPoint,
    ScoreSeries,
    SessionMark,
    percent_of,
)
from kapp.ui.chart_axes import KeptAxis, PlainAxis
from kapp.ui.chart_keys import PointCursor
from kapp.ui.dates import day_text as day_text  # re-exported: it lived here first

SESSION_AXIS = "session"
DATE_AXIS = "date"
HALF_DAY = 12 * 3600


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text.replace("-", "−")


@dataclass(frozen=True, slots=True)
class Theme:
    dark: bool
    background: QColor
    text: QColor
    muted: QColor
    main: QColor  # the series itself
    second: QColor  # a second series in the same chart
    warn: QColor  # item 9, serious, distressing

    @classmethod
    def of(cls, widget: QWidget) -> Theme:
        palette = widget.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        dark = background.lightness() < 128
        muted = QColor(text)
        muted.setAlpha(150)
        return cls(dark, background, text, muted,
                   QColor("#8ab4f8" if dark else "#1a4fa0"),
                   QColor("#e0a458" if dark else "#8a4b00"),
                   QColor("#ff8a80" if dark else "#b00020"))

    def band(self, index: int, count: int) -> QColor:
        """Minimal (green) to severe (red), pale enough to read the line over it."""
        hue = 120 - round(120 * index / max(count - 1, 1))
        color = QColor.fromHsv(hue, 170, 200 if self.dark else 235)
        color.setAlpha(55 if self.dark else 70)
        return color


class PointRef:
    """What a chart point stands for: the session to open and the words to show. The
    words may be given as a function, worked out the first time someone hovers: a
    ten-year patient has a thousand points, and few of them are ever hovered."""

    __slots__ = ("_tip", "session_id")

    def __init__(self, session_id: uuid.UUID | None, tip: str | Callable[[], str]) -> None:
        self.session_id = session_id
        self._tip = tip

    @property
    def tip(self) -> str:
        if not isinstance(self._tip, str):
            self._tip = self._tip()
        return self._tip

    def __repr__(self) -> str:
        return f"PointRef({self.session_id!r}, {self.tip!r})"


def _tip(x: float, y: float, data: PointRef) -> str:
    return data.tip


# Pens and brushes are made once per look and shared (never change one handed out): a
# scatter keeps its rendered symbols under the very pen and brush objects it was given, so
# a new but equal pen for each drawing would render every symbol again.
_PENS: dict[tuple[int, float, Qt.PenStyle], QPen] = {}
_BRUSHES: dict[tuple[int, Qt.BrushStyle], QBrush] = {}


def _pen(color: QColor, width: float = 2, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    key = (color.rgba(), width, style)
    pen = _PENS.get(key)
    if pen is None:
        pen = _PENS[key] = QPen(color)
        pen.setWidthF(width)
        pen.setStyle(style)
        pen.setCosmetic(True)
    return pen


def _brush(color: QColor, style: Qt.BrushStyle = Qt.BrushStyle.SolidPattern) -> QBrush:
    key = (color.rgba(), style)
    brush = _BRUSHES.get(key)
    if brush is None:
        brush = _BRUSHES[key] = QBrush(color, style)
    return brush


class DayAxis(KeptAxis, pg.DateAxisItem):
    """Dates as a clinician writes them: "8 Apr", with the year where it changes."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if spacing < 24 * 3600:
            return super().tickStrings(values, scale, spacing)
        locale = QLocale()
        out = []
        for value in values:
            moment = datetime.fromtimestamp(value)
            day = QDate(moment.year, moment.month, moment.day)
            pattern = "MMM yyyy" if spacing > 40 * 24 * 3600 else "d MMM"
            if pattern == "d MMM" and (moment.month, moment.day) == (1, 1):
                pattern = "d MMM yyyy"
            out.append(locale.toString(day, pattern))
        return out


LEFT_AXIS_WIDTH = 58  # px: three-digit ticks ("130", "0.8") and the unit beside them
FOCUS_FRAME = 2  # px: the frame of a chart that has the keyboard's focus


class Chart(pg.PlotWidget):
    """One chart: a title, points that name their session on hover and open it on click."""

    def __init__(self, title: str, unit: str, theme: Theme, axis: str,
                 open_session: Callable[[uuid.UUID], None]) -> None:
        axis_items = {side: PlainAxis(side) for side in ("left", "top", "right")}
        axis_items["bottom"] = (DayAxis(orientation="bottom") if axis == DATE_AXIS
                                else PlainAxis("bottom"))
        # No context menus (the charts are read, not configured): pyqtgraph builds two
        # menus of widgets per chart unless told not to.
        super().__init__(background=theme.background, axisItems=axis_items, enableMenu=False)
        self.theme, self.axis, self.title_text, self.unit = theme, axis, title, unit
        self._key: str | None = None  # what the warning markers mean, beside the title
        self._title_shown: tuple[str, str | None, str] | None = None
        self._open_session = open_session
        self.scatters: dict[str, pg.ScatterPlotItem] = {}
        self.labels: list[str] = []  # every text drawn on the chart, for tests and review
        self._band_labels: list[tuple[pg.TextItem, float]] = []
        self._bands: list[QGraphicsRectItem] = []
        # Items are kept when the chart is drawn again and given the new data, not made
        # anew (removing and adding items is most of a drawing's cost): by kind, those in
        # use first; the rest are hidden. Items of few kinds are made each time instead.
        self._kept: dict[str, list] = {}
        self._in_use: dict[str, int] = {}
        self._made: list = []
        self.getPlotItem().vb.sigXRangeChanged.connect(lambda *_args: self.fit_to_view())
        self.setMinimumHeight(230)
        plot = self.getPlotItem()
        self._show_title()
        plot.setMenuEnabled(False)
        plot.hideAxis("top")  # given above (to skip pyqtgraph's own), shown only left/bottom
        plot.hideAxis("right")
        plot.hideButtons()
        plot.showGrid(x=False, y=False)
        font = QFont()
        font.setPointSizeF(10)
        # One width for every chart's left axis, so that the plots of a column line up
        # (the x-linked charts show the same range, session 50 above session 50).
        plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        for name in ("left", "bottom"):
            item = plot.getAxis(name)
            item.setPen(_pen(theme.muted, 1))
            item.setTextPen(theme.text)
            item.setTickFont(font)
            item.enableAutoSIPrefix(False)  # "mg/kg", never "mg/kg (x0.001)"
            if not isinstance(item, DayAxis):  # dates keep their month ticks
                # Major ticks and one level of minor ones: a third level (every 5 sessions
                # between the tens) is hardly seen and costs a fifth of painting the chart.
                item.setStyle(maxTickLevel=1)
        plot.setLabel("left", unit, color=theme.text.name())
        plot.setLabel("bottom", "Session number" if axis == SESSION_AXIS else "Date",
                      color=theme.text.name())
        self.setMouseEnabled(x=True, y=False)
        # Tab reaches the chart and the arrow keys step through its points; while it has
        # the focus a frame is drawn over its edge (``drawForeground``: a QFrame's frame
        # would cut off pyqtgraph's scene, which is sized to the whole widget).
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.keys = PointCursor(plot, lambda: self.scatters, self._open_ref)

    def reset(self, title: str, unit: str,
              open_session: Callable[[uuid.UUID], None] | None = None,
              y_range: tuple[float, float, float] | None = None) -> None:
        """Empty the chart for drawing again, perhaps as another chart of another patient:
        far quicker than making a new one. Every setting a drawing may change (title,
        unit, y-range, tick spacing, x-link, the tip shown, where a click goes) is set
        back; items made for one drawing only are removed. Kept items stay as they are
        until ``finish``, which hides those the new drawing did not use: hiding them all
        here and showing most again costs more than the drawing's data. ``y_range`` (low,
        high, padding): the y-range, known before the data; otherwise it follows the data."""
        plot = self.getPlotItem()
        for item in self._made:
            plot.removeItem(item)
        self._in_use, self._made = {}, []
        self.scatters, self.labels, self._band_labels, self._bands = {}, [], [], []
        self.keys.clear()
        self._key = None  # the drawing says it again if it has one; ``finish`` shows it
        if title != self.title_text:
            self.title_text = title
            self._show_title()
        if open_session is not None:
            self._open_session = open_session
        if unit != self.unit:
            self.unit = unit
            plot.setLabel("left", unit, color=self.theme.text.name())
        plot.getAxis("left").setTickSpacing()  # automatic again (side effects set it)
        plot.vb.setToolTip("")
        self.setXLink(None)
        self.set_y_range(y_range)

    def set_y_range(self, y_range: tuple[float, float, float] | None) -> None:
        """Fix the y-range before the data comes, or let it follow the data: with the
        auto-range on, every item given data makes the view measure all its items again,
        and fixing the range afterwards measures them once more."""
        view = self.getPlotItem().vb
        if y_range is None:
            view.enableAutoRange(y=True)
        else:
            low, high, padding = y_range
            view.setYRange(low, high, padding=padding)

    # -- drawing helpers ---------------------------------------------------------------
    def _reuse(self, kind: str):
        """A kept item of this kind not in use in this drawing (shown), or None."""
        items = self._kept.setdefault(kind, [])
        used = self._in_use.get(kind, 0)
        self._in_use[kind] = used + 1
        if used < len(items):
            item = items[used]
            if not item.isVisible():
                item.setVisible(True)
            return item
        return None

    def finish(self) -> None:
        """End a drawing: show its title and hide the kept items it did not use (see
        ``reset``)."""
        self._show_title()
        view = self.getPlotItem().vb
        for kind, items in self._kept.items():
            for item in items[self._in_use.get(kind, 0):]:
                if item.isVisible():
                    item.setVisible(False)
                    view.itemBoundsChanged(item)  # the auto-range leaves it out

    def key(self, text: str) -> None:
        """Say beside the title what the warning markers mean ("▲ = item 9 positive"): out
        of the plot, where a name by each marker collided with the bands' names, the
        baseline's and each other."""
        self._key = text
        self.labels.append(text)

    def _show_title(self) -> None:
        shown = (self.title_text, self._key, self.theme.text.name())
        if shown == self._title_shown:  # setting it again lays the plot out again
            return
        self._title_shown = shown
        title = f"<b>{self.title_text}</b>"
        if self._key:
            title += (f"&nbsp;&nbsp;&nbsp;<span style='color:{self.theme.warn.name()}'>"
                      f"{self._key}</span>")
        self.getPlotItem().setTitle(title, color=self.theme.text.name(), size="12pt")
        self.setAccessibleName(self.title_text if not self._key
                               else f"{self.title_text}, {self._key}")

    def _keep(self, kind: str, item, ignore_bounds: bool = False) -> None:
        self._kept[kind].append(item)
        self.getPlotItem().addItem(item, ignoreBounds=ignore_bounds)

    def visible_items(self) -> list:
        """The items this drawing shows (kept items not used are hidden)."""
        return [item for item in self.getPlotItem().items if item.isVisible()]

    def curve(self, xs: Sequence[float], ys: Sequence[float], pen: QPen) -> None:
        curve = self._reuse("curve")
        if curve is None:
            self._keep("curve", pg.PlotDataItem(list(xs), list(ys), pen=pen))
        else:
            curve.setData(list(xs), list(ys))
            curve.setPen(pen)

    def points(self, name: str, xs: Sequence[float], ys: Sequence[float],
               refs: Sequence[PointRef], *, symbol: str = "o", color: QColor | None = None,
               size: float = 10, line: Qt.PenStyle | None = Qt.PenStyle.SolidLine,
               filled: bool = True) -> pg.ScatterPlotItem:
        color = color or self.theme.main
        if line is not None and len(xs) > 1:
            self.curve(xs, ys, _pen(color, 2, line))
        brush = _brush(color if filled else self.theme.background)
        options = {"x": list(xs), "y": list(ys), "data": list(refs), "symbol": symbol,
                   "size": size, "pen": _pen(color, 1.5), "brush": brush, "hoverable": True,
                   "hoverSize": size + 5, "tip": _tip}
        scatter = self._reuse("scatter")
        if scatter is None:
            scatter = pg.ScatterPlotItem(**options)
            scatter.setZValue(10)
            scatter.sigClicked.connect(self._clicked)
            self._keep("scatter", scatter)
        else:
            scatter.setData(**options)
        self.scatters[name] = scatter
        return scatter

    def hline(self, y: float, label: str, style: Qt.PenStyle, color: QColor | None = None,
              position: float = 0.02, below: bool = False) -> None:
        color = color or self.theme.text
        anchor = (0, 0) if below else (0, 1)
        pen = _pen(color, 1.5, style)
        shown_as_written = label.replace("{", "{{").replace("}", "}}")  # a format string
        line = self._reuse("hline")
        if line is None:
            line = pg.InfiniteLine(pos=y, angle=0, movable=False, pen=pen,
                                   label=shown_as_written,
                                   labelOpts={"position": position, "color": color.name(),
                                              "anchors": [anchor, anchor]})
            self._keep("hline", line)
        else:
            line.setPen(pen)
            text = line.label
            text.anchors, text.orthoPos = [anchor, anchor], position
            text.setColor(color)
            text.format = shown_as_written
            line.setValue(y)
            text.valueChanged()
        self.labels.append(label)

    def segment(self, x0: float, x1: float, y: float, label: str, style: Qt.PenStyle) -> None:
        if x0 == x1:  # one point so far: a short stub so that the line is visible
            pad = 0.4 if self.axis == SESSION_AXIS else HALF_DAY
            x0, x1 = x0 - pad, x1 + pad
        self.curve([x0, x1], [y, y], _pen(self.theme.text, 1.5, style))
        self.text(label, x0, y, anchor=(0, 1))

    def band(self, low: float, high: float, label: str, color: QColor) -> None:
        # A plain rectangle kept out of the auto-range, stretched to the view's width by
        # ``fit_to_view`` (a fixed huge width overflows the painter at high zoom).
        region = self._reuse("band")
        if region is None:
            region = QGraphicsRectItem()
            region.setPen(QPen(Qt.PenStyle.NoPen))
            region.setZValue(-20)
            self._keep("band", region, ignore_bounds=True)
        region.setRect(QRectF(0, low, 1, high - low))
        region.setBrush(_brush(color))
        self._bands.append(region)
        text = self.text(label, 0, (low + high) / 2, color=self.theme.muted, anchor=(1, 0.5))
        text.setZValue(-10)
        self._band_labels.append((text, (low + high) / 2))

    def courses(self, spans: Sequence[CourseSpan], labelled: bool,
                crowded: float = 0.0) -> None:
        """A dashed line where each course starts; ``labelled``: with the course's name,
        unless the next course starts closer than ``crowded`` (in x), where the two names
        would overlap (the later one is kept: it names more of the chart)."""
        starts = [(span, span.first_ordinal - 0.5 if self.axis == SESSION_AXIS
                   else span.first_at.timestamp() - HALF_DAY)
                  for span in spans
                  if span.first_ordinal is not None and span.first_at is not None]
        for index, (span, x) in enumerate(starts):
            room = index + 1 == len(starts) or starts[index + 1][1] - x >= crowded
            label = f"{span.label} ▸" if labelled and room else None
            line = None if label else self._reuse("course")
            if line is not None:
                line.setPos(x)
                continue
            line = pg.InfiniteLine(pos=x, angle=90, movable=False,
                                   pen=_pen(self.theme.muted, 1.2, Qt.PenStyle.DashLine),
                                   label=label,
                                   labelOpts={"position": 0.97, "color": self.theme.text.name(),
                                              "anchors": [(0, 0), (0, 0)]})
            line.setZValue(-5)
            if label:
                self.addItem(line)
                self._made.append(line)
                self.labels.append(label)
            else:
                self._keep("course", line)

    def empty(self, message: str) -> None:
        """Say so in the middle of the chart (of its y-range, if one was fixed)."""
        view = self.getPlotItem().vb
        if view.autoRangeEnabled()[1]:
            view.setYRange(0, 1)
        (x0, x1), (y0, y1) = view.viewRange()
        self.text(message, (x0 + x1) / 2, (y0 + y1) / 2, color=self.theme.muted,
                  anchor=(0.5, 0.5))

    def text(self, label: str, x: float, y: float, *, color: QColor | None = None,
             anchor: tuple[float, float] = (0, 0)) -> pg.TextItem:
        """A label in data coordinates that never widens the auto-range (a label placed
        at the edge of the view would otherwise push the edge further out, forever)."""
        item = self._reuse("text")
        if item is None:
            item = pg.TextItem(label, color=color or self.theme.text, anchor=anchor)
            self._keep("text", item, ignore_bounds=True)
        else:
            item.setText(label, color or self.theme.text)
            item.setAnchor(anchor)
        item.setZValue(0)
        item.setPos(x, y)
        self.labels.append(label)
        return item

    def bars(self, xs: Sequence[float], heights: Sequence[float], base: Sequence[float],
             width: float, brush: QBrush, pen: QPen) -> None:
        options = {"x": list(xs), "height": list(heights), "y0": list(base), "width": width,
                   "brush": brush, "pen": pen}
        bars = self._reuse("bars")
        if bars is None:
            self._keep("bars", pg.BarGraphItem(**options))
        else:
            bars.setOpts(**options)

    def fit_to_view(self) -> None:
        """Bands span the range shown; their names sit at its right edge."""
        (x0, x1), _ = self.getPlotItem().viewRange()
        for region in self._bands:
            rect = region.rect()
            region.setRect(QRectF(x0, rect.top(), x1 - x0, rect.height()))
        for text, y in self._band_labels:
            text.setPos(x1, y)

    def _clicked(self, _item: object, points: Sequence[object], _event: object) -> None:
        for point in points:
            if self._open_ref(point.data()):  # type: ignore[attr-defined]
                return

    def _open_ref(self, ref: object) -> bool:
        """Open the session a point stands for, if it stands for one."""
        if isinstance(ref, PointRef) and ref.session_id is not None:
            self._open_session(ref.session_id)
            return True
        return False

    # -- the keyboard --------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.keys.key(event):
            event.accept()
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.keys.start()
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.keys.clear()
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if self.hasFocus():
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), FOCUS_FRAME)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = FOCUS_FRAME / 2
            painter.drawRect(self.sceneRect().adjusted(half, half, -half, -half))


# -- what each chart shows ------------------------------------------------------------------


class ChartBuilder:
    """Turns a ``PatientSeries`` into charts for one x-axis mode."""

    def __init__(self, series: PatientSeries, theme: Theme, axis: str,
                 open_session: Callable[[uuid.UUID], None],
                 alert_hr: float | None = None, reuse: Iterable[Chart] = (),
                 ) -> None:
        self.series, self.theme, self.axis = series, theme, axis
        # Charts to draw into rather than make: by title first (the same chart of the same
        # patient), then any other of this axis and theme. Those not needed stay here.
        self.reuse: dict[str, Chart] = {}
        self.spare: list[Chart] = []
        for chart in reuse:
            if chart.axis != axis or chart.theme != theme:
                self.spare.append(chart)
            elif chart.title_text in self.reuse:
                self.spare.insert(0, chart)
            else:
                self.reuse[chart.title_text] = chart
        self.open_session = open_session
        self.alert_hr = alert_hr  # the protocol's heart-rate alert, drawn for context
        self._x_range = self.x_range()

    def _reusable(self, title: str) -> Chart | None:
        chart = self.reuse.pop(title, None)
        if chart is not None:
            return chart
        for index, spare in enumerate(self.spare):
            if spare.axis == self.axis and spare.theme == self.theme:
                return self.spare.pop(index)
        if self.reuse:
            return self.reuse.pop(next(iter(self.reuse)))
        return None

    def unused(self) -> list[Chart]:
        """The charts given for reuse that this drawing did not need."""
        return [*self.reuse.values(), *self.spare]

    def x(self, mark: SessionMark) -> float:
        return float(mark.ordinal) if self.axis == SESSION_AXIS else mark.at.timestamp()

    def chart(self, title: str, unit: str, labelled_courses: bool = False,
              y_range: tuple[float, float, float] | None = None) -> Chart:
        """A chart to draw into; ``y_range`` (low, high, padding) if known beforehand."""
        chart = self._reusable(title)
        low, high = self._x_range
        if chart is not None:
            chart.reset(title, unit, self.open_session, y_range)
        else:
            chart = Chart(title, unit, self.theme, self.axis, self.open_session)
            chart.set_y_range(y_range)
        chart.getPlotItem().setXRange(low, high, padding=0)  # before the data too
        # A course's name takes about a sixth of a chart's width.
        chart.courses(self.series.courses, labelled_courses, crowded=(high - low) / 6)
        return chart

    def head(self, mark: SessionMark | None, when: datetime) -> str:
        day = day_text(mark.day if mark else when.date())
        if mark is None:
            return f"Outside a session · {day}"
        return f"{mark.label} · {day}"

    def build(self) -> list[Chart]:
        charts = [self.scores(s) for s in self.series.scores]
        if not charts:
            chart = self.chart("Scores", "score", labelled_courses=True)
            chart.empty("No scores recorded yet")
            charts.append(chart)
        charts += [self.dissociation(), self.bp_rise()]
        if any(p.cadss_total is not None for p in self.series.dissociation):
            charts.append(self.cadss())
        charts += [self.heart_rate(), self.side_effects(), self.dose()]
        for chart in charts:
            chart.finish()
            chart.fit_to_view()
        for chart in charts[1:]:
            chart.setXLink(charts[0])  # zoom and pan one, all follow
        return charts

    def x_range(self) -> tuple[float, float]:
        marks = self.series.sessions
        xs = [self.x(m) for m in marks]
        xs += [p.x_ordinal if self.axis == SESSION_AXIS else p.taken_at.timestamp()
               for s in self.series.scores for p in s.points]
        if not xs:
            return (0.0, 1.0)
        pad = 0.6 if self.axis == SESSION_AXIS else 3 * 2 * HALF_DAY
        return (min(xs) - pad, max(xs) + pad)

    # -- scores ------------------------------------------------------------------------
    def scores(self, s: ScoreSeries) -> Chart:
        chart = self.chart(f"{s.name} total", "score",  # the dose chart names the courses
                           y_range=(s.min_total, s.max_total, 0.02))
        for index, band in enumerate(s.bands):
            low = band.min - 0.5 if index else band.min
            high = band.max + 0.5 if index < len(s.bands) - 1 else band.max
            chart.band(low, high, band.label, self.theme.band(index, len(s.bands)))
        xs = [p.x_ordinal if self.axis == SESSION_AXIS else p.taken_at.timestamp()
              for p in s.points]
        refs = [PointRef(p.session.session_id if p.session else None,
                         partial(self.score_tip, s, p))
                for p in s.points]
        chart.points(s.name, xs, [p.total for p in s.points], refs)
        for span in s.baselines:
            x0, x1 = ((span.first_ordinal, span.last_ordinal) if self.axis == SESSION_AXIS
                      else (span.first_at.timestamp(), span.last_at.timestamp()))
            chart.segment(x0, x1, span.baseline, f"Baseline {span.baseline:g}",
                          Qt.PenStyle.DashLine)
            if span.response_level is not None:
                chart.segment(x0, x1, span.response_level,
                              f"{s.response_word} ≤ {span.response_level:g}",
                              Qt.PenStyle.DotLine)
        if s.remission is not None:
            chart.hline(s.remission.value, s.remission.label, Qt.PenStyle.DashDotLine,
                        position=0.5, below=True)
        flagged = [(x, p, r) for x, p, r in zip(xs, s.points, refs, strict=True) if p.flagged]
        if flagged:
            label = "Item 9 positive" if s.code == "phq9" else "Flagged"
            chart.points(label, [x for x, _, _ in flagged],
                         [min(p.total + 0.08 * (s.max_total - s.min_total), s.max_total)
                          for _, p, _ in flagged],
                         [r for _, _, r in flagged], symbol="t1", color=self.theme.warn,
                         size=16, line=None)
            chart.key(f"▲ = {label.lower()}")
        return chart

    def score_tip(self, s: ScoreSeries, p) -> str:
        lines = [self.head(p.session, p.taken_at),
                 f"{s.name} {p.total:g}" + (f" ({p.band})" if p.band else "")]
        if p.time_point not in (e.TimePoint.PRE_SESSION, e.TimePoint.BASELINE) or not p.session:
            lines[-1] += f" · taken at {p.time_point.value.replace('_', ' ')}"
        if p.baseline is not None:
            status = []
            if p.response:
                status.append(s.response_word)
            if p.remission:
                status.append("Remission")
            lines.append(f"{percent_of(p.percent_change)} from baseline {p.baseline:g}"
                         + (f" · {', '.join(status)}" if status else ""))
        elif p.remission:
            lines.append("Remission")
        lines += [f"⚠ {m}" for m in p.flag_messages]
        return "\n".join(lines)

    # -- dissociation ------------------------------------------------------------------------
    def dissociation(self) -> Chart:
        chart = self.chart("Dissociation: peak intensity", "intensity 0-10",
                           y_range=(0, 10, 0.05))
        pts = [p for p in self.series.dissociation if p.peak_intensity is not None]
        chart.points("Peak intensity", [self.x(p.session) for p in pts],
                     [p.peak_intensity for p in pts],
                     [PointRef(p.session.session_id, partial(self.diss_tip, p)) for p in pts])
        distressing = [p for p in pts if p.distressing]
        if distressing:
            chart.points("Distressing", [self.x(p.session) for p in distressing],
                         [p.peak_intensity for p in distressing],
                         [PointRef(p.session.session_id, partial(self.diss_tip, p))
                          for p in distressing],
                         symbol="x", color=self.theme.warn, size=18, line=None)
            chart.key("✕ = distressing")
        if not pts:
            chart.empty("No dissociation reports yet")
        return chart

    def diss_tip(self, p: DissociationPoint) -> str:
        lines = [self.head(p.session, p.session.at)]
        if p.peak_intensity is not None:
            feel = f", {p.peak_valence.value}" if p.peak_valence else ""
            lines.append(f"Peak intensity {p.peak_intensity}/10{feel} "
                         f"({p.reports} report{'s' if p.reports != 1 else ''})")
        if p.distressing:
            lines.append("⚠ Distressing at some point")
        if p.cadss_total is not None:
            lines.append(f"{'CADSS' if p.cadss_code == 'cadss' else 'CADSS-6'} "
                         f"{p.cadss_total:g} of {p.cadss_max}")
        return "\n".join(lines)

    def cadss(self) -> Chart:
        pts = [p for p in self.series.dissociation if p.cadss_total is not None]
        top = max(p.cadss_max or 0 for p in pts) or 92
        chart = self.chart("Dissociation: CADSS total at the peak", f"CADSS 0-{top}",
                           y_range=(0, top, 0.05))
        chart.points("CADSS", [self.x(p.session) for p in pts], [p.cadss_total for p in pts],
                     [PointRef(p.session.session_id, partial(self.diss_tip, p)) for p in pts],
                     symbol="d", color=self.theme.second, line=Qt.PenStyle.DashLine)
        return chart

    # -- safety ------------------------------------------------------------------------------
    def safety_head(self, p: SafetyPoint) -> list[str]:
        v = p.vitals
        lines = [self.head(p.session, p.session.at)]
        if v.bp_rise is not None:
            lines.append(f"Systolic {number(v.baseline_systolic)} before dosing, peak "
                         f"{number(v.peak_systolic)}: rise {number(v.bp_rise)} mmHg")
        if v.peak_diastolic is not None:
            lines.append(f"Peak diastolic {number(v.peak_diastolic)} mmHg")
        if v.peak_hr is not None:
            lines.append(f"Heart rate {number(v.baseline_hr)} before, peak "
                         f"{number(v.peak_hr)} /min")
        return lines

    def safety_tip(self, p: SafetyPoint) -> str:
        return "\n".join(self.safety_head(p))

    def bp_rise(self) -> Chart:
        pts = [p for p in self.series.safety if p.bp_rise is not None]
        chart = self.chart("Blood pressure rise per session (peak − before dosing)",
                           "systolic rise, mmHg",
                           y_range=_span([p.bp_rise for p in pts], [0] if pts else []))
        chart.points("BP rise", [self.x(p.session) for p in pts], [p.bp_rise for p in pts],
                     [PointRef(p.session.session_id, partial(self.safety_tip, p))
                      for p in pts], symbol="s")
        chart.hline(0, "no rise", Qt.PenStyle.DotLine, self.theme.muted)
        if not pts:
            chart.empty("No blood pressure recorded yet")
        return chart

    def heart_rate(self) -> Chart:
        pts = [p for p in self.series.safety if p.peak_hr is not None]
        limit = self.alert_hr
        # The alert's line is always in view: how far below it the peaks stay is the point.
        chart = self.chart("Peak heart rate per session", "/min", y_range=_span(
            [p.peak_hr for p in pts], [limit] if limit is not None and pts else []))
        chart.points("Peak heart rate", [self.x(p.session) for p in pts],
                     [p.peak_hr for p in pts],
                     [PointRef(p.session.session_id, partial(self.safety_tip, p))
                      for p in pts], symbol="h", color=self.theme.second,
                     line=Qt.PenStyle.DashLine)
        if limit is not None:
            chart.hline(limit, f"Alert at {limit:g} /min (protocol)", Qt.PenStyle.DashDotLine,
                        self.theme.warn, below=True)
        if not pts:
            chart.empty("No heart rate recorded yet")
        return chart

    def side_effects(self) -> Chart:
        pts = list(self.series.safety)
        top = max([p.mild + p.moderate + p.severe for p in pts] + [1])  # the stacks' tallest
        chart = self.chart("Side effects per session, by severity", "side effects",
                           y_range=(0, top + 1.4, 0))
        xs = [self.x(p.session) for p in pts]
        width = 0.6 if self.axis == SESSION_AXIS else 2 * HALF_DAY * 1.5
        base = [0.0] * len(pts)
        styles = (("mild", Qt.BrushStyle.Dense5Pattern, 0.45),
                  ("moderate", Qt.BrushStyle.Dense2Pattern, 0.75),
                  ("severe", Qt.BrushStyle.SolidPattern, 1.0))
        for name, pattern, strength in styles:
            heights = [getattr(p, name) for p in pts]
            if not any(heights):
                continue
            color = QColor(self.theme.warn if name == "severe" else self.theme.main)
            color.setAlphaF(strength)
            chart.bars(xs, heights, base, width, _brush(color, pattern), _pen(color, 1))
            base = [b + h for b, h in zip(base, heights, strict=True)]
        chart.text("▒ mild  ▓ moderate  █ severe  ★ serious", xs[0] if xs else 0, top + 0.9)
        refs = [PointRef(p.session.session_id, partial(self.effects_tip, p)) for p in pts]
        chart.points("Side effects", xs, [b + 0.15 for b in base], refs, symbol="o", size=7,
                     line=None, color=self.theme.muted)
        serious = [(x, b, r) for x, b, r, p in zip(xs, base, refs, pts, strict=True)
                   if p.serious]
        if serious:
            chart.points("Serious", [x for x, _, _ in serious], [b + 0.5 for _, b, _ in serious],
                         [r for _, _, r in serious], symbol="star", size=18,
                         color=self.theme.warn, line=None)
        chart.getPlotItem().getAxis("left").setTickSpacing(1, 1)  # whole side effects
        return chart

    def effects_tip(self, p: SafetyPoint) -> str:
        lines = [self.head(p.session, p.session.at)]
        if not p.side_effects:
            lines.append("No side effects recorded")
        else:
            lines.append(f"{p.mild} mild, {p.moderate} moderate, {p.severe} severe"
                         + (f" · ⚠ {p.serious} serious" if p.serious else ""))
            lines.append(", ".join(k.replace("_", " ") for k in p.side_effect_kinds))
        return "\n".join(lines)

    # -- dose --------------------------------------------------------------------------------
    def dose(self) -> Chart:
        pts = [p for p in self.series.dose if p.mg_per_kg is not None]
        given = [p for p in self.series.dose if p.delivered_mg_per_kg is not None]
        top = max([p.mg_per_kg or 0 for p in pts] + [p.delivered_mg_per_kg or 0 for p in given]
                  + [0.5])
        chart = self.chart("Dose per session", "mg/kg", labelled_courses=True,
                           y_range=(0, top * 1.25, 0))
        chart.points("Prescribed", [self.x(p.session) for p in pts],
                     [p.mg_per_kg for p in pts],
                     [PointRef(p.session.session_id, partial(self.dose_tip, p)) for p in pts])
        if given:
            chart.points("Delivered", [self.x(p.session) for p in given],
                         [p.delivered_mg_per_kg for p in given],
                         [PointRef(p.session.session_id, partial(self.dose_tip, p)) for p in given],
                         symbol="t", color=self.theme.second, line=None, filled=False)
            chart.text("● prescribed   ▽ delivered by the pump",
                       self.x(pts[-1].session) if pts else 0, 0.02, anchor=(1, 1))
        if not pts:
            chart.empty("No doses recorded yet")
        return chart

    def dose_tip(self, p: DosePoint) -> str:
        lines = [self.head(p.session, p.session.at)]
        drug = "esketamine" if p.drug is e.Drug.ESKETAMINE else "ketamine"
        lines.append(f"{drug}, {p.route.value.upper() if p.route is e.Route.IV else p.route.value}")
        if p.mg_per_kg is not None:
            lines.append(f"Prescribed {p.mg_per_kg:.2f} mg/kg"
                         + (f" = {p.dose_mg:g} mg" if p.dose_mg is not None else "")
                         + (f" at {p.weight_kg:g} kg" if p.weight_kg else ""))
        if p.delivered_mg is not None:
            lines.append(f"Delivered {p.delivered_mg:.1f} mg "
                         f"({number(p.delivered_mg_per_kg, 2)} mg/kg)")
        return "\n".join(lines)


def _span(values: Sequence[float], also: Sequence[float] = (),
          padding: float = 0.08) -> tuple[float, float, float] | None:
    """A y-range (low, high, padding) showing every value and ``also`` (a line drawn for
    context); None if there is nothing to show. Worked out here rather than left to
    pyqtgraph's auto-range, which measures every item again after each change and pads by
    the size the chart had when it last measured, so the same data could show differently."""
    shown = [*values, *also]
    if not values:
        return None
    low, high = min(shown), max(shown)
    if high == low:
        low, high = low - 1, high + 1
    return (low, high, padding)


def point_for(scatter: pg.ScatterPlotItem, index: int) -> QPointF:
    """The scene position of a point, for tests that hover or click it: as painted (the
    view's range and transform are brought up to date as a paint would first)."""
    view = scatter.getViewBox()
    if view is not None:
        view.prepareForPaint()
    spot = scatter.points()[index]
    return scatter.mapToScene(spot.pos())
