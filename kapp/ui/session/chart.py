"""The session chart: HR, blood pressure and SpO2 against minutes since the start, with
markers for what was done. Reusable read-only (session record, reports): hand it a session
and its entries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kapp.domain import enums as e
from kapp.domain.entities import TreatmentSession
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import fmt
from kapp.services.reading import SessionEntries
from kapp.ui.chart_axes import PlainAxis
from kapp.ui.session.timeline import words
from kapp.ui.session.timing import minutes_since, x_axis_words

# name, attribute, legend label, colour, symbol, dashed: each series differs in symbol and
# line style as well as colour, so it reads in greyscale and for colour-blind eyes.
SERIES = [
    ("hr", "hr", "HR /min", "#d62728", "o", False),
    ("systolic", "systolic", "SYS mmHg", "#1f5fbf", "t1", False),
    ("diastolic", "diastolic", "DIA mmHg", "#6f9fe0", "t", True),
    ("spo2", "spo2", "SpO2 %", "#2ca02c", "s", False),
]
# marker kind: legend label, colour, symbol, height on the chart (in chart units)
MARKERS = {
    "side_effect": ("side effect", "#e67e00", "star", 14),
    "intervention": ("intervention", "#8e44ad", "+", 26),
    "dissociation": ("dissociation", "#008b8b", "d", 38),
}


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    tip: str


def chart_origin(session: TreatmentSession, entries: SessionEntries) -> datetime:
    """Minutes are counted from the pump start; before it, from the first reading."""
    if session.actual_start is not None:
        return session.actual_start
    times = [v.taken_at for v in entries.vitals]
    return min(times, default=session.planned_start)


def vitals_series(session: TreatmentSession,
                  entries: SessionEntries) -> dict[str, list[tuple[float, float]]]:
    """(minutes, value) per vital; struck-through readings are left out of the chart."""
    origin = chart_origin(session, entries)
    series: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in SERIES}
    for v in entries.vitals:
        if v.entry.is_struck:
            continue
        x = minutes_since(origin, v.taken_at) or 0.0
        for name, attr, *_ in SERIES:
            value = getattr(v, attr)
            if value is not None:
                series[name].append((x, float(value)))
    return series


def marker_points(session: TreatmentSession, entries: SessionEntries) -> dict[str, list[Point]]:
    origin = chart_origin(session, entries)

    def x(at: datetime) -> float:
        return minutes_since(origin, at) or 0.0

    height = {kind: spec[3] for kind, spec in MARKERS.items()}
    return {
        "side_effect": [Point(x(s.onset_at), height["side_effect"],
                              f"Side effect: {words(s.kind)} ({words(s.severity)})")
                        for s in entries.side_effects if not s.entry.is_struck],
        "intervention": [Point(x(i.given_at), height["intervention"],
                               f"Intervention: {words(i.kind)} {i.drug or ''} {i.reason}")
                         for i in entries.interventions if not i.entry.is_struck],
        "dissociation": [Point(x(d.reported_at), height["dissociation"],
                               f"Dissociation {d.intensity}/10, {words(d.valence)}")
                         for d in entries.dissociation if not d.entry.is_struck],
    }


def pump_lines(session: TreatmentSession, entries: SessionEntries) -> list[tuple[float, str]]:
    origin = chart_origin(session, entries)
    short = {
        e.InfusionEventKind.START: "start", e.InfusionEventKind.PAUSE: "pause",
        e.InfusionEventKind.RESUME: "resume", e.InfusionEventKind.RATE_CHANGE: "rate",
        e.InfusionEventKind.STOP: "stop",
    }
    lines = []
    for p in entries.infusion_events:
        if p.entry.is_struck:
            continue
        label = short[p.kind]
        if p.rate_ml_per_h is not None and p.kind is not e.InfusionEventKind.STOP:
            label += f" {fmt(round(p.rate_ml_per_h, 1))} mL/h"
        lines.append((minutes_since(origin, p.at) or 0.0, label))
    standing = [x for x in entries.nasal_devices if not x.entry.is_struck]
    for number, device in enumerate(sorted(standing, key=lambda x: x.given_at), start=1):
        lines.append((minutes_since(origin, device.given_at) or 0.0,
                      f"device {number} ({fmt(device.device_mg)} mg)"))
    return lines


LABEL_GAP_MIN = 8  # minutes: lines closer than this have their names on separate lines

GLYPHS = {"o": "●", "t1": "▲", "t": "▼", "s": "■", "star": "★", "+": "✚", "d": "◆"}


def legend_html() -> str:
    """The legend in words and the same symbols and colours as the plot."""
    items = [(label, colour, symbol, dashed) for _n, _a, label, colour, symbol, dashed
             in SERIES] + [(label, colour, symbol, False)
                           for label, colour, symbol, _h in MARKERS.values()]
    parts = []
    for label, colour, symbol, dashed in items:
        line = "- -" if dashed else ""
        parts.append(f"<span style='color:{colour}'><b>{line}{GLYPHS[symbol]}</b></span>"
                     f"&nbsp;{label}")
    return "&nbsp; ".join(parts) + "&nbsp; <b>┊</b>&nbsp;pump or nasal device"


class GridAxis(PlainAxis):
    """An axis whose grid lines are solid: each line's faint colour worked out once over
    the chart's background, and the axis put under the readings (a grid drawn over them,
    as pyqtgraph draws it, needs its lines see-through). Qt draws a see-through 1-pixel
    line pixel by pixel: the forty lines of the left axis took about 7 ms at every paint
    of the chart (each reading recorded, each chair gone to); solid, they take 0.3 ms.
    Its ticks are worked out once for every chair's chart of the same range and size
    (``PlainAxis``), its units never rescaled."""

    def __init__(self, orientation: str, background: QColor) -> None:
        super().__init__(orientation)
        self._background = background
        self._pens: dict[int, QPen] = {}

    def generateDrawSpecs(self, p: QPainter):
        specs = super().generateDrawSpecs(p)
        if specs is None or self.grid is False:
            return specs
        axis, ticks, texts = specs
        return axis, [(self._solid(pen), start, end) for pen, start, end in ticks], texts

    def _solid(self, pen: QPen) -> QPen:
        color = pen.color()
        if color.alpha() == 255:
            return pen
        solid = self._pens.get(color.rgba())
        if solid is None:
            a, under = color.alphaF(), self._background
            solid = self._pens[color.rgba()] = QPen(pen)
            solid.setColor(QColor.fromRgbF(*(top * a + bottom * (1 - a) for top, bottom in (
                (color.redF(), under.redF()), (color.greenF(), under.greenF()),
                (color.blueF(), under.blueF())))))
        return solid


class SessionChart(QWidget):
    """A pyqtgraph plot of one session. Call ``show_entries`` whenever the entries change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorRole.Text)
        # No context menus (the chart is read, not configured): pyqtgraph builds two menus
        # of widgets per chart unless told not to.
        self.plot = pg.PlotWidget(background=background, enableMenu=False, axisItems={
            side: GridAxis(side, background) for side in ("left", "bottom")})
        self.plot.setAccessibleName("Vital signs chart")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        item = self.plot.getPlotItem()
        # The range is set by ``show_entries``: worked out from every item as each is
        # added, it would only be replaced.
        item.disableAutoRange()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setZValue(-200)  # the view box is at -100: the grid goes under the readings
            axis.setTextPen(foreground)
            axis.setPen(foreground)
        item.setLabel("bottom", "Minutes since the infusion started",
                      color=foreground.name())
        item.setLabel("left", "mmHg · /min · %", color=foreground.name())
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name, _attr, _label, colour, symbol, dashed in SERIES:
            pen = pg.mkPen(colour, width=2, style=pg.QtCore.Qt.PenStyle.DashLine if dashed
                           else pg.QtCore.Qt.PenStyle.SolidLine)
            # No dynamic range limit: it guards against values far off the chart (a
            # vital is validated to a human range), and it made each curve redraw its
            # points again whenever the chart's range moved, at each entry.
            self.curves[name] = self.plot.plot([], [], pen=pen, symbol=symbol, symbolSize=9,
                                               symbolBrush=colour, symbolPen=colour,
                                               dynamicRangeLimit=None)
        self.scatters: dict[str, pg.ScatterPlotItem] = {}
        for kind, (_label, colour, symbol, _h) in MARKERS.items():
            scatter = pg.ScatterPlotItem(symbol=symbol, size=14, brush=pg.mkBrush(colour),
                                         pen=pg.mkPen(QColor(colour).darker(130)),
                                         hoverable=True, tip=lambda x, y, data: data)
            item.addItem(scatter)
            self.scatters[kind] = scatter
        self.pump_markers: list[pg.InfiniteLine] = []
        self.threshold_lines: list[pg.InfiniteLine] = []
        self._lines_drawn: tuple[list, list] | None = None  # what those lines show
        self._foreground = foreground
        # The legend sits above the plot, where it never hides a reading.
        self.legend = QLabel(legend_html())
        self.legend.setWordWrap(True)
        small = self.legend.font()
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.legend.setFont(small)
        self.legend.setAccessibleName("Chart legend")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.legend)
        layout.addWidget(self.plot, 1)

    def show_entries(self, session: TreatmentSession, entries: SessionEntries,
                     protocol: Protocol | None = None) -> None:
        item = self.plot.getPlotItem()
        words = x_axis_words(session)
        if item.getAxis("bottom").labelText != words:
            item.setLabel("bottom", words, color=self._foreground.name())
        series = vitals_series(session, entries)
        top = 200.0
        xs_all: list[float] = [0.0]
        for name, curve in self.curves.items():
            points = series[name]
            curve.setData([p[0] for p in points], [p[1] for p in points])
            xs_all += [p[0] for p in points]
            top = max([top, *(p[1] + 15 for p in points)])
        for kind, points in marker_points(session, entries).items():
            self.scatters[kind].setData(x=[p.x for p in points], y=[p.y for p in points],
                                        data=[p.tip for p in points])
            xs_all += [p.x for p in points]
        marks: list[tuple[float, str, int]] = []
        step, last_x = 0, None
        for x, label in sorted(pump_lines(session, entries)):
            # Lines a few minutes apart (nasal devices 5 min apart, a pause and its
            # resume) would write their names over one another: each steps down a line.
            step = step + 1 if last_x is not None and x - last_x < LABEL_GAP_MIN else 0
            last_x = x
            marks.append((x, label, step % 4))
            xs_all.append(x)
        levels = [] if protocol is None else [
            (protocol.alert_systolic_at_or_above, "systolic alert"),
            (protocol.alert_spo2_below, "SpO2 alert")]
        if (marks, levels) != self._lines_drawn:  # most entries move no line: kept as is
            self._draw_lines(marks, levels)
        end = max([*xs_all, float(session.duration_min or 40)])
        item.setRange(xRange=(min(xs_all) - 2, end + 5), yRange=(0, top), padding=0)

    def _draw_lines(self, marks: list[tuple[float, str, int]],
                    levels: list[tuple[float, str]]) -> None:
        item = self.plot.getPlotItem()
        for line in self.pump_markers + self.threshold_lines:
            item.removeItem(line)
        self.pump_markers, self.threshold_lines = [], []
        for x, label, step in marks:
            line = pg.InfiniteLine(pos=x, angle=90, movable=False,
                                   pen=pg.mkPen(self._foreground, width=1,
                                                style=pg.QtCore.Qt.PenStyle.DotLine),
                                   label=label, labelOpts={"position": 0.97 - 0.08 * step,
                                                           "color": self._foreground,
                                                           "anchors": [(0, 0), (0, 0)]})
            item.addItem(line)
            self.pump_markers.append(line)
        for level, text in levels:
            line = pg.InfiniteLine(pos=level, angle=0, movable=False,
                                   pen=pg.mkPen("#e53935", width=1,
                                                style=pg.QtCore.Qt.PenStyle.DashLine),
                                   label=f"{text} {fmt(level)}",
                                   labelOpts={"position": 0.98, "color": "#e53935",
                                              "anchors": [(1, 0), (1, 0)]})
            item.addItem(line)
            self.threshold_lines.append(line)
        self._lines_drawn = (marks, levels)

    def series(self, name: str) -> tuple[Sequence[float], Sequence[float]]:
        """The plotted (minutes, values) of one vital, for tests and reports."""
        xs, ys = self.curves[name].getData()
        return (list(xs) if xs is not None else [], list(ys) if ys is not None else [])
