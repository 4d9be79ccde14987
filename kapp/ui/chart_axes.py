"""Chart axes that do less: the units never rescaled, and ticks worked out once for every
axis that shows the same range at the same size (the progress charts and the session
charts; ``kapp.ui.progress_charts``, ``kapp.ui.session.chart``)."""

from __future__ import annotations

from typing import ClassVar

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QPainter, QPen


class KeptAxis:
    """An axis that never scales its unit ("mg/kg", never "mg/kg (x0.001)"): pyqtgraph
    would otherwise re-typeset the axis label on every range change, the largest single
    cost of drawing a chart. And one that keeps its painted ticks when told the range or
    tick spacing it has already: laying out the ticks is most of painting an axis, and
    the next drawing into a kept chart (another patient's same score) often has the
    same y-range."""

    picture: object
    range: list[float]
    _tickSpacing: list[tuple[float, float]] | None  # noqa: N815 (pyqtgraph's name)

    def updateAutoSIPrefix(self) -> None:
        self.autoSIPrefixScale = 1.0

    def setRange(self, mn: float, mx: float) -> None:
        if self.picture is None or self.range != [mn, mx]:
            super().setRange(mn, mx)  # type: ignore[misc]

    def setTickSpacing(self, major: float | None = None, minor: float | None = None,
                       levels: list[tuple[float, float]] | None = None) -> None:
        if levels is None and major is not None:
            levels = [(major, 0.0), (minor, 0.0)]  # as pyqtgraph writes them
        if self.picture is None or self._tickSpacing != levels:
            super().setTickSpacing(levels=levels)  # type: ignore[misc]


def _rect(rect: QRectF) -> tuple[float, float, float, float]:
    return (rect.x(), rect.y(), rect.width(), rect.height())


def _pen_key(pen: QPen) -> tuple[object, ...]:
    return (pen.color().rgba(), pen.widthF(), pen.style(), pen.isCosmetic())


class PlainAxis(KeptAxis, pg.AxisItem):
    """A number axis whose ticks are laid out once for every axis that shows the same
    range at the same size, in the same style: the charts of a progress view are x-linked
    and two to a row, so eight bottom axes would otherwise each work out the same ticks
    and labels (about a millisecond each, at every opening of another patient); a left
    axis shows the same range again for the next patient whose readings span it; and
    every chair's session chart shows the same minutes and mmHg (~3 ms a chart)."""

    _SHARED: ClassVar[dict[tuple[object, ...], tuple[object, float | None]]] = {}
    _SHARED_LIMIT = 64  # tick layouts of a few patients' charts: a few KiB
    _text_size: float | None = None

    def _updateMaxTextSize(self, x: float) -> None:
        self._text_size = x
        super()._updateMaxTextSize(x)

    def _specs_key(self) -> tuple[object, ...] | None:
        """Everything the axis's ticks are worked out from, or None (not shared)."""
        if self.logMode:
            return None
        view = self.linkedView()
        bounds = self.mapRectFromParent(self.geometry())
        ticks = (bounds if view is None or self.grid is False
                 else view.mapRectToItem(self, view.boundingRect()))
        style = tuple(sorted((name, value.toString() if isinstance(value, QFont)
                              else repr(value)) for name, value in self.style.items()))
        return (type(self), tuple(self.range), _rect(bounds), _rect(ticks),
                _rect(self.boundingRect()), style, self.scale, self.autoSIPrefixScale,
                repr(self._tickSpacing), repr(self._tickLevels), self.grid,
                _pen_key(self.pen()), _pen_key(self.tickPen()))

    def generateDrawSpecs(self, p: QPainter):
        key = self._specs_key()
        if key is None:
            return super().generateDrawSpecs(p)
        shared = self._SHARED.get(key)
        if shared is not None:
            specs, text_size = shared
            if text_size is not None:  # as working them out would have
                self._updateMaxTextSize(text_size)
            return specs
        self._text_size = None  # told again unless the ticks have no labels
        specs = super().generateDrawSpecs(p)
        if len(self._SHARED) >= self._SHARED_LIMIT:
            self._SHARED.clear()
        self._SHARED[key] = (specs, self._text_size)
        return specs
