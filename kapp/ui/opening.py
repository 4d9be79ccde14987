"""Opening the clinic while the person types: the sign-in (or first-run) window is shown
before the database layer has loaded, and a worker thread loads it meanwhile
(``Gate.preload``: SQLAlchemy, the models and services; a file that needs no password is
also opened and checked). The GUI thread is idle waiting for keystrokes, so the window
stays responsive; when the person submits before the work is done, the window says
"Opening the clinic…" and waits for it (a local event loop: it keeps painting).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Signal, SignalInstance
from PySide6.QtWidgets import QApplication

from kapp.domain.errors import KappError

log = logging.getLogger(__name__)

MAIN_WINDOW_MODULES = ("kapp.ui.context", "kapp.ui.main_window", "kapp.ui.security",
                       "kapp.ui.backups", "kapp.ui.idle_lock")
"""What the main window imports: loaded in the same worker, after the database layer."""


class OpeningStopped(KappError):
    """The window closed while it waited for the clinic to open."""

    def __init__(self) -> None:
        super().__init__("The clinic could not be opened.")


class ClinicLoader(QObject):
    """Runs ``gate.preload()`` once in a worker thread; ``done`` is emitted on the GUI
    thread when it has finished (``error`` holds what it raised, if anything)."""

    done = Signal()
    _finished = Signal(object)

    def __init__(self, gate: Any) -> None:
        super().__init__()
        self.gate = gate
        self.error: BaseException | None = None
        self.finished = False
        self._thread: threading.Thread | None = None
        self._finished.connect(self._on_finished)  # queued: this object lives on the GUI

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kapp-opening",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            self.gate.preload()
            for name in MAIN_WINDOW_MODULES:
                importlib.import_module(name)
        except BaseException as exc:  # handed to the GUI thread, which tells the person
            error = exc
        try:
            self._finished.emit(error)
        except RuntimeError:  # the application ended first
            log.debug("the clinic opened after the window closed")

    def _on_finished(self, error: BaseException | None) -> None:
        self.error, self.finished = error, True
        self.done.emit()

    def wait(self, busy: Callable[[bool], None],
             *also_stop: SignalInstance) -> None:
        """Return once the work has finished (at once if it has); meanwhile ``busy(True)``
        and a busy cursor. Raises ``OpeningStopped`` when one of ``also_stop`` fired
        first (the window was closed)."""
        if self.finished:
            return
        self.start()
        loop = QEventLoop()
        self.done.connect(loop.quit)
        stopped: list[bool] = []
        for signal in also_stop:
            signal.connect(lambda *_: (stopped.append(True), loop.quit()))
        busy(True)
        from PySide6.QtCore import Qt  # not at import: kapp/ui/sign_in.py says why

        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            if not self.finished:
                loop.exec()
        finally:
            QApplication.restoreOverrideCursor()
            busy(False)
            self.done.disconnect(loop.quit)
        if stopped and not self.finished:
            raise OpeningStopped()
