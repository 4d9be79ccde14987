"""A small line chart for reports, drawn with reportlab.graphics shapes.

Drawn by hand rather than with reportlab's LinePlot so that bands, reference lines and
event markers sit exactly where their values are. Each series has its own marker shape
as well as its own colour: a chart printed in black and white still reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from kapp.reports.common import BOLD, FONT, MUTED, RULE, register_fonts

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    points: Sequence[Point]
    color: colors.Color
    marker: str = "circle"  # circle, square, triangle, diamond, none
    dashed: bool = False
    connect: bool = True


@dataclass(frozen=True, slots=True)
class HLine:
    y: float
    label: str
    color: colors.Color = MUTED
    dashed: bool = True


@dataclass(frozen=True, slots=True)
class VMark:
    """A vertical marker at ``x`` with a short label (an event, a course boundary)."""

    x: float
    label: str
    color: colors.Color = MUTED


@dataclass(frozen=True, slots=True)
class Band:
    low: float
    high: float
    label: str
    color: colors.Color


@dataclass(slots=True)
class Chart:
    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    x_label: str = ""
    y_label: str = ""
    title: str = ""
    series: list[Series] = field(default_factory=list)
    hlines: list[HLine] = field(default_factory=list)
    vmarks: list[VMark] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    x_ticks: Sequence[float] | None = None
    y_ticks: Sequence[float] | None = None
    point_labels: list[tuple[Point, str]] = field(default_factory=list)
    legend: bool = True

    # -- geometry -------------------------------------------------------------------
    @property
    def _box(self) -> tuple[float, float, float, float]:
        left, bottom = 30.0, 22.0
        top = 14.0 if self.title else 6.0
        right = 8.0
        if self.legend and self.series:
            top += 10
        return left, bottom, self.width - left - right, self.height - bottom - top

    def _x(self, value: float) -> float:
        left, _, w, _ = self._box
        lo, hi = self.x_range
        return left + (value - lo) / ((hi - lo) or 1) * w

    def _y(self, value: float) -> float:
        _, bottom, _, h = self._box
        lo, hi = self.y_range
        return bottom + (min(max(value, lo), hi) - lo) / ((hi - lo) or 1) * h

    # -- drawing ----------------------------------------------------------------------
    def drawing(self) -> Drawing:
        register_fonts()
        d = Drawing(self.width, self.height)
        left, bottom, w, h = self._box
        for band in self.bands:
            y0, y1 = self._y(band.low), self._y(band.high)
            d.add(Rect(left, y0, w, y1 - y0, fillColor=band.color, strokeColor=None))
            if y1 - y0 >= 6:
                d.add(String(left + w - 2, y0 + 2, band.label, fontName=FONT, fontSize=5.5,
                             fillColor=MUTED, textAnchor="end"))
        self._axes(d, left, bottom, w, h)
        for hl in self.hlines:
            y = self._y(hl.y)
            d.add(Line(left, y, left + w, y, strokeColor=hl.color, strokeWidth=0.8,
                       strokeDashArray=[3, 2] if hl.dashed else None))
            d.add(String(left + 2, y + 1.5, hl.label, fontName=FONT, fontSize=5.8,
                         fillColor=hl.color))
        for index, vm in enumerate(self.vmarks):
            x = self._x(vm.x)
            d.add(Line(x, bottom, x, bottom + h, strokeColor=vm.color, strokeWidth=0.5,
                       strokeDashArray=[1, 1.5]))
            # Stagger labels over three rows so that close events stay readable.
            y = bottom + h - 6 - (index % 3) * 6.5
            d.add(String(x + 1.5, y, vm.label, fontName=FONT, fontSize=5.5, fillColor=vm.color))
        for s in self.series:
            self._series(d, s)
        for (px, py), text in self.point_labels:
            d.add(String(self._x(px), self._y(py) + 4, text, fontName=FONT, fontSize=5.5,
                         fillColor=colors.black, textAnchor="middle"))
        if self.title:
            d.add(String(0, self.height - 9, self.title, fontName=BOLD, fontSize=8))
        if self.legend and self.series:
            self._legend(d, self.height - (19 if self.title else 9))
        return d

    def _axes(self, d: Drawing, left: float, bottom: float, w: float, h: float) -> None:
        d.add(Rect(left, bottom, w, h, fillColor=None, strokeColor=RULE, strokeWidth=0.5))
        for value in self.x_ticks if self.x_ticks is not None else _ticks(*self.x_range):
            x = self._x(value)
            d.add(Line(x, bottom, x, bottom - 2, strokeColor=RULE, strokeWidth=0.5))
            d.add(String(x, bottom - 8, _tick_text(value), fontName=FONT, fontSize=6,
                         textAnchor="middle"))
        for value in self.y_ticks if self.y_ticks is not None else _ticks(*self.y_range):
            y = self._y(value)
            d.add(Line(left, y, left + w, y, strokeColor=colors.HexColor("#e4e4e4"),
                       strokeWidth=0.3))
            d.add(String(left - 2, y - 2, _tick_text(value), fontName=FONT, fontSize=6,
                         textAnchor="end"))
        if self.x_label:
            d.add(String(left + w / 2, 2, self.x_label, fontName=FONT, fontSize=6.5,
                         textAnchor="middle", fillColor=MUTED))
        if self.y_label:
            d.add(String(2, bottom + h + 2, self.y_label, fontName=FONT, fontSize=6.5,
                         fillColor=MUTED))

    def _series(self, d: Drawing, s: Series) -> None:
        pts = [(self._x(x), self._y(y)) for x, y in s.points]
        if s.connect and len(pts) > 1:
            flat = [c for p in pts for c in p]
            d.add(PolyLine(flat, strokeColor=s.color, strokeWidth=1.1,
                           strokeDashArray=[3, 2] if s.dashed else None))
        for x, y in pts:
            marker(d, s.marker, x, y, s.color)

    def _legend(self, d: Drawing, y: float) -> None:
        x = 30.0
        for s in self.series:
            d.add(Line(x, y + 2.5, x + 12, y + 2.5, strokeColor=s.color, strokeWidth=1.1,
                       strokeDashArray=[3, 2] if s.dashed else None))
            marker(d, s.marker, x + 6, y + 2.5, s.color)
            d.add(String(x + 15, y, s.label, fontName=FONT, fontSize=6.5))
            x += 20 + 3.4 * len(s.label) + 6


def marker(d: Drawing, shape: str, x: float, y: float, color: colors.Color,
           size: float = 2.2) -> None:
    if shape == "circle":
        d.add(Circle(x, y, size, fillColor=color, strokeColor=color))
    elif shape == "square":
        d.add(Rect(x - size, y - size, 2 * size, 2 * size, fillColor=color, strokeColor=color))
    elif shape == "triangle":
        d.add(Polygon([x - size - 0.4, y - size, x + size + 0.4, y - size, x, y + size + 0.6],
                      fillColor=color, strokeColor=color))
    elif shape == "diamond":
        s = size + 0.5
        d.add(Polygon([x, y - s, x + s, y, x, y + s, x - s, y], fillColor=colors.white,
                      strokeColor=color, strokeWidth=1))
    elif shape == "star":
        d.add(String(x, y - 3, "!", fontName=BOLD, fontSize=9, fillColor=color,
                     textAnchor="middle"))


def _ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    count = int((hi - first) / step + 1e-9) + 1
    return [round(first + i * step, 6) for i in range(count)]


def _tick_text(value: float) -> str:
    return f"{value:g}"


def nice_range(values: Sequence[float], *, floor: float | None = None,
               ceiling: float | None = None, pad: float = 0.08) -> tuple[float, float]:
    """A y range that holds every value with a little air, widened to floor/ceiling."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    lo = min(finite) if finite else 0.0
    hi = max(finite) if finite else 1.0
    if floor is not None:
        lo = min(lo, floor)
    if ceiling is not None:
        hi = max(hi, ceiling)
    if hi == lo:
        hi = lo + 1
    span = hi - lo
    return lo - span * pad, hi + span * pad
