"""Knowing when a window has really been painted (not merely ``show()``): the cold-start
benchmark stops its clock there, and the main window reads its secondary lists only after
it, so that the first paint is not kept waiting."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QWidget


class FirstPaint(QObject):
    """Calls ``callback(window)`` once, when ``window`` has been painted on screen: after
    the paint pass that drew it has finished, not merely after ``show()``.

    It watches the window's QWindow, where Qt paints a widget window while handling its
    first expose, rather than every event of the application: a filter on the whole
    application calls into Python for each event of each widget being built, and the
    first unknown object passed to it makes PySide6 build the Python enums of every Qt
    class (~100 of them, 20-40 ms)."""

    def __init__(self, window: QWidget, callback: Callable[[QWidget], None]) -> None:
        super().__init__(window)
        self._window, self._callback = window, callback
        handle = window.windowHandle()
        # Before show() the QWindow does not exist yet: the widget's Show event says it does.
        (handle or window).installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self._window:
            handle = self._window.windowHandle()
            if kind == QEvent.Type.Show and handle is not None:
                self._window.removeEventFilter(self)
                handle.installEventFilter(self)
        elif kind == QEvent.Type.Expose and isinstance(watched, QWindow) \
                and watched.isExposed():
            # The window is painted while this event is handled, after this filter: the
            # callback comes once the event loop is back, as for a paint seen.
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, lambda: self._callback(self._window))
        return False
