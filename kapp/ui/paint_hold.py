"""Holding a screen's first paint while its first read is under way, briefly.

Opening a patient whose series are kept takes a few tens of milliseconds to read; painting
the page first in its "loading" state, then again with its charts, costs one whole extra
paint of the window and shows a flash of "Loading…" that nobody can read. So the page is
not painted (its place shows the window's plain background) until the read is in, or until
``HOLD_MS`` has passed, whichever is first: a slow read still shows its loading state.

The widget's own updates are switched off, not its container's: a QStackedWidget switches
its container's updates off and on again around every change of page.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QWidget

# Under the tenth of a second that feels instant, with room for a read that missed the
# kept series: a longer wait would look like a click that did nothing.
HOLD_MS = 150


class PaintHold:
    """Holds painting of ``area`` (a screen and its children) until ``release`` or the
    time limit, kept by a timer of the area itself."""

    def __init__(self) -> None:
        self._area: QWidget | None = None

    def hold(self, area: QWidget | None, limit_ms: int = HOLD_MS) -> None:
        if area is None or self._area is not None:
            return
        self._area = area
        area.setUpdatesEnabled(False)
        QTimer.singleShot(limit_ms, area, lambda: _enable(area))

    def release(self) -> None:
        area, self._area = self._area, None
        if area is not None:
            # What was just filled in has posted layout requests up the widget tree, and
            # each level laid out posts the next: left to the event loop, the paint comes
            # first, with the old layout, and the page is painted again once laid out
            # (charts moved into place, a flag's row grown). Laid out now, it is painted once.
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            _enable(area)


def _enable(area: QWidget) -> None:
    if shiboken6.isValid(area):
        area.setUpdatesEnabled(True)
