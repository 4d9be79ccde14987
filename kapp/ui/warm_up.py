"""Readying the patient page while the nurse looks at the list.

The main window shows before the patient page's code is loaded (cold start), so the first
patient opened after start-up used to pay for all of it: the charting library and kapp's
page modules imported, the start-up objects handed over to the garbage collector
(``freeze_start_up_objects``) and the charts made, about a second on a clinic laptop
before the page showed. Once the window has been up a moment, ``WarmUp`` does that work
ahead: the imports in a worker thread (the window stays responsive: the GUI thread waits
for keystrokes), then, on the GUI thread, one short step at a time and only while nobody
is typing or clicking, the collector's hand-over and the charts, made empty and put in the
chart pool for the first page to draw into.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

PAGE_MODULES = ("kapp.ui.patient_page", "kapp.ui.session.screen", "kapp.ui.overview")
"""The screens opened from the list and the sidebar, and what they import."""

CHARTS = 8
"""Charts made ahead: a patient with three scores has eight (a CADSS makes nine)."""

_INPUT = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                    QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel})


class WarmUp(QObject):
    """Started once the main window has been painted; ``done`` when all is ready."""

    done = Signal()
    _imported = Signal(object)  # from the worker thread; queued to this (GUI) object

    DELAY_MS = 1500  # the chairs list fills first, and the window settles
    QUIET_MS = 300  # a step waits until no key or click came for this long

    def __init__(self, window: QWidget, *, delay_ms: int | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._last_input = 0.0
        self._watching = False  # keys and clicks (while the warm-up lasts)
        self._steps: list[Callable[[], None]] = []
        self._imported.connect(self._on_imported)
        QTimer.singleShot(self.DELAY_MS if delay_ms is None else delay_ms, self,
                          self._start_imports)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self._last_input = time.monotonic()
        return False

    def _start_imports(self) -> None:
        # Keys and clicks are watched only while the warm-up lasts: a filter on the whole
        # application is called for every event of every widget.
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
            self._watching = True
        threading.Thread(target=self._import, name="kapp-warm-up", daemon=True).start()

    def _import(self) -> None:
        error: BaseException | None = None
        try:
            for name in PAGE_MODULES:
                importlib.import_module(name)
        except BaseException as exc:  # the screen imports it again when opened, and says
            error = exc
        try:
            self._imported.emit(error)
        except RuntimeError:  # the window closed first
            log.debug("warm-up imports ended after the window closed")

    def _on_imported(self, error: BaseException | None) -> None:
        if error is not None:
            log.warning("warm-up: the patient page could not be loaded ahead: %s", error)
            self._finish()
            return
        from kapp.ui.patient_page import freeze_start_up_objects
        from kapp.ui.progress_charts import SESSION_AXIS, Chart, Theme
        from kapp.ui.progress_view import POOL, SummaryPanel

        theme = Theme.of(self._window)

        def chart() -> None:  # none once a page has drawn: it made its own, and keeps them
            if not POOL.drawn_from and len(POOL) < CHARTS:
                POOL.give([Chart("", "", theme, SESSION_AXIS, _nowhere)])

        def panel() -> None:
            if not POOL.drawn_from:
                POOL.give_panel(SummaryPanel())

        # And what the window itself has to ready (a chair's screen: ``warm_up_steps``).
        own = getattr(self._window, "warm_up_steps", list)()
        self._steps = [freeze_start_up_objects, panel, *[chart] * CHARTS, *own]
        self._next()

    def _next(self) -> None:
        if not self._steps:
            self._finish()
            return
        quiet_for = (time.monotonic() - self._last_input) * 1000
        if quiet_for < self.QUIET_MS:  # someone is typing: not now
            QTimer.singleShot(int(self.QUIET_MS - quiet_for) + 1, self, self._next)
            return
        self._steps.pop(0)()
        QTimer.singleShot(0, self, self._next)

    def _finish(self) -> None:
        app = QApplication.instance()
        if app is not None and self._watching:
            app.removeEventFilter(self)
            self._watching = False
        self.done.emit()


def _nowhere(_session_id: object) -> None:
    """A chart made ahead opens no session until a page draws into it (``Chart.reset``)."""
