"""Reading a progress chart from the keyboard: the points a mouse hovers, one at a time.

A chart takes the focus with Tab like any other control. Then ← → step from point to point
of a line (Home and End: the first and the latest), ↑ ↓ go to the chart's other lines
(prescribed and delivered dose, systolic and diastolic...), Enter opens the point's
session as a click would, and Esc lets go. The point is ringed and its words (the same as
on hover) are shown beside it and given to screen readers as the chart's description.
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QKeyEvent, QPen
from PySide6.QtWidgets import QToolTip

RING_SIZE = 22  # px: clearly round a 10 px marker, whatever its colour


class PointCursor:
    """Which point of a chart the keyboard is on, and its ring."""

    def __init__(self, plot: pg.PlotItem, lines: Callable[[], dict[str, pg.ScatterPlotItem]],
                 open_ref: Callable[[object], None]) -> None:
        """``lines``: the chart's scatters by name (those drawn now); ``open_ref``: what a
        click on a point does, given its data."""
        self._plot, self._lines, self._open_ref = plot, lines, open_ref
        self._ring: pg.ScatterPlotItem | None = None
        self.line: str | None = None
        self.index = 0
        self.text = ""  # the words shown for the point: tests and screen readers

    # -- moving -----------------------------------------------------------------------
    def key(self, event: QKeyEvent) -> bool:
        """Handle a key pressed on the chart; False if it is not one of ours."""
        key = event.key()
        names = self._names()
        if not names:
            return False
        if key == Qt.Key.Key_Escape and self.line is not None:
            self.clear()
            return True
        if self.line not in names:  # the first key, or the line is no longer drawn
            if key not in _MOVES:
                return False
            self._go(names[0], len(self._spots(names[0])) - 1)
            return True
        count = len(self._spots(self.line))
        if key == Qt.Key.Key_Left:
            self._go(self.line, max(self.index - 1, 0))
        elif key == Qt.Key.Key_Right:
            self._go(self.line, min(self.index + 1, count - 1))
        elif key == Qt.Key.Key_Home:
            self._go(self.line, 0)
        elif key == Qt.Key.Key_End:
            self._go(self.line, count - 1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and len(names) > 1:
            step = -1 if key == Qt.Key.Key_Up else 1
            other = names[(names.index(self.line) + step) % len(names)]
            self._go(other, self._nearest(other))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._open_ref(self._spots(self.line)[self.index].data())
        else:
            return False
        return True

    def start(self) -> None:
        """The chart took the focus: show where the keyboard is (the latest point)."""
        names = self._names()
        if names and self.line not in names:
            self._go(names[0], len(self._spots(names[0])) - 1)
        elif self.line is not None:
            self._go(self.line, self.index)

    def clear(self) -> None:
        """Forget the point (the chart is drawn again, or Esc)."""
        if self.line is None:
            return
        self.line, self.index, self.text = None, 0, ""
        if self._ring is not None:
            self._ring.setVisible(False)
        QToolTip.hideText()

    # -- showing ----------------------------------------------------------------------
    def _go(self, line: str, index: int) -> None:
        spots = self._spots(line)
        if not spots:
            return
        self.line, self.index = line, max(0, min(index, len(spots) - 1))
        spot = spots[self.index]
        position = spot.pos()
        self._keep_in_view(position.x())
        ring = self._ring_item()
        ring.setData(x=[position.x()], y=[position.y()])
        ring.setVisible(True)
        data = spot.data()
        self.text = getattr(data, "tip", "") or ""
        widget = self._plot.getViewWidget()
        if widget is None:
            return
        widget.setAccessibleDescription(self.text)
        view = self._plot.vb
        view.prepareForPaint()  # the point's place as it will be painted
        where = widget.mapFromScene(self._lines()[line].mapToScene(position))
        QToolTip.showText(widget.mapToGlobal(where + QPoint(RING_SIZE // 2, RING_SIZE // 2)),
                          self.text, widget)

    def _ring_item(self) -> pg.ScatterPlotItem:
        if self._ring is None:
            widget = self._plot.getViewWidget()
            color = (widget.palette().highlight().color() if widget is not None
                     else QColor("#1a4fa0"))
            pen = QPen(color, 3)
            pen.setCosmetic(True)
            self._ring = pg.ScatterPlotItem(symbol="o", size=RING_SIZE, pen=pen,
                                            brush=None)
            self._ring.setZValue(30)
            self._plot.addItem(self._ring, ignoreBounds=True)  # never widens the range
        return self._ring

    def _keep_in_view(self, x: float) -> None:
        """Pan (not zoom) so that the point is shown, if the chart was zoomed in."""
        (x0, x1), _ = self._plot.viewRange()
        if x < x0 or x > x1:
            half = (x1 - x0) / 2
            self._plot.vb.setXRange(x - half, x + half, padding=0)

    # -- reading the chart ------------------------------------------------------------
    def _names(self) -> list[str]:
        return [name for name, item in self._lines().items()
                if item.isVisible() and len(item.points())]

    def _spots(self, line: str) -> list:
        item = self._lines().get(line)
        return list(item.points()) if item is not None else []

    def _nearest(self, line: str) -> int:
        """The point of ``line`` closest in x to the point the keyboard is on."""
        here = self._spots(self.line)[self.index].pos().x() if self.line else 0.0
        spots = self._spots(line)
        return min(range(len(spots)), key=lambda i: abs(spots[i].pos().x() - here))


_MOVES = frozenset({Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End,
                    Qt.Key.Key_Up, Qt.Key.Key_Down})
