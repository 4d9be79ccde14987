"""Reads that run off the GUI thread, with progress, cancel, and results on the GUI thread.

The services are safe to call from a worker thread: each call opens its own read
transaction. A screen owns one ``BackgroundReader``; starting a new read supersedes the
one under way (it is asked to cancel, and whatever it returns is dropped), so a screen
that refreshes twice in quick succession never shows the older answer last.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class Task:
    """Handed to the work function: report progress, and ask whether to stop."""

    def __init__(self, relay: _Relay, token: int) -> None:
        self._relay = relay
        self._token = token
        self._stop = threading.Event()

    def progress(self, done: int, total: int, what: str = "") -> None:
        _emit(self._relay.progressed, self._token, done, total, what)

    def cancelled(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        self._stop.set()


class _Relay(QObject):
    """Lives on the GUI thread; its signals reach the reader there, queued."""

    done = Signal(int, object)
    failed = Signal(int, object)
    progressed = Signal(int, int, int, str)


def _emit(signal: Any, *args: Any) -> None:
    try:
        signal.emit(*args)
    except RuntimeError:  # the screen closed while the read was under way
        log.debug("background result dropped: its receiver is gone")


class _Job(QRunnable):
    def __init__(self, relay: _Relay, task: Task, token: int,
                 work: Callable[[Task], Any]) -> None:
        super().__init__()
        self.relay, self.task, self.token, self.work = relay, task, token, work

    def run(self) -> None:
        try:
            result = self.work(self.task)
        except Exception as exc:  # handed to the GUI thread, which tells the user
            _emit(self.relay.failed, self.token, exc)
        else:
            _emit(self.relay.done, self.token, result)


class BackgroundReader(QObject):
    """Runs one read at a time for a screen. ``finished(result)``, ``failed(exception)``
    and ``progressed(done, total, what)`` arrive on the GUI thread."""

    finished = Signal(object)
    failed = Signal(object)
    progressed = Signal(int, int, str)

    def __init__(self, parent: QObject | None = None,
                 pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        # Not parented: a job may still hold it after this reader (and its screen) is gone.
        self._relay = _Relay()
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._relay.progressed.connect(self._on_progress)
        self._token = 0
        self._task: Task | None = None

    @property
    def busy(self) -> bool:
        return self._task is not None

    def start(self, work: Callable[[Task], Any]) -> None:
        self.cancel()
        self._token += 1
        self._task = Task(self._relay, self._token)
        self._pool.start(_Job(self._relay, self._task, self._token, work))

    def cancel(self) -> None:
        """Ask the read under way to stop; its result, if any, is dropped."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self._token += 1

    def _current(self, token: int) -> bool:
        return token == self._token and self._task is not None

    def _on_done(self, token: int, result: object) -> None:
        if self._current(token):
            self._task = None
            self.finished.emit(result)

    def _on_failed(self, token: int, error: object) -> None:
        if self._current(token):
            self._task = None
            self.failed.emit(error)

    def _on_progress(self, token: int, done: int, total: int, what: str) -> None:
        if self._current(token):
            self.progressed.emit(done, total, what)
