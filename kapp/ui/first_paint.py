"""Knowing when a window has really been painted (not merely ``show()``): the cold-start
benchmark stops its clock there, and the main window reads its secondary lists only after
it, so that the first paint is not kept waiting."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class FirstPaint(QObject):
    """Calls ``callback(window)`` once, when ``window`` has been painted on screen: after
    the paint pass that drew it (or any of its widgets) has finished, not merely after
    ``show()``. Watches the application's events only until then."""

    def __init__(self, window: QWidget, callback: Callable[[QWidget], None]) -> None:
        super().__init__(window)
        self._window, self._callback = window, callback
        QCoreApplication.instance().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) \
                and watched.window() is self._window:
            QCoreApplication.instance().removeEventFilter(self)
            QTimer.singleShot(0, self, lambda: self._callback(self._window))
        return False
