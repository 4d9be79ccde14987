"""Reads that run off the GUI thread, with progress, cancel, and results on the GUI thread.

The services are safe to call from a worker thread: each call opens its own read
transaction. A screen owns one ``BackgroundReader``; starting a new read supersedes the
one under way (it is asked to cancel, and whatever it returns is dropped), so a screen
that refreshes twice in quick succession never shows the older answer last.

When a read fails because the clinic's database server is out of reach, full or
restarting (``StorageUnavailable.from_server``), the reader tries the same read again by
itself every ``RETRY_MS`` (the screen keeps saying why, in ``read_problem``'s words, and
recovers with the answer: nobody has to know about F5); and as soon as any screen's read
works again, every reader still waiting tries at once. A read under way supersedes the
wait, and ``cancel`` ends it.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from kapp.domain.errors import KappError, StorageUnavailable

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


def server_away(error: object) -> bool:
    """The database server is out of reach, full or restarting: worth trying again."""
    return isinstance(error, StorageUnavailable) and error.from_server


def read_problem(what: str, error: object, *, retrying: bool = False,
                 again: str | None = "press F5") -> str:
    """Plain words for a read that failed: ``what`` could not be read, why (kapp's own
    message, which names the server when it is the server), and what happens next: kapp
    tries again by itself (``retrying``), and/or ``again`` ("press F5") tries now."""
    if isinstance(error, KappError) and str(error).strip():
        why = str(error).strip()
        why = why if why.endswith((".", "!", "?")) else why + "."
    else:
        why = "The database could not be read."
    text = f"{what} could not be read. {why}"
    if retrying:
        seconds = max(1, round(BackgroundReader.RETRY_MS / 1000))
        text += (f" kapp tries again by itself every {seconds} second"
                 + ("s" if seconds != 1 else ""))
        text += f"; or {again} to try now." if again else "."
    elif again:
        text += f" {again[0].upper()}{again[1:]} to try again."
    return text


def action_problem(error: object, not_done: str) -> str:
    """Plain words for an action that is not a form's entry (a backup, a PDF, an export)
    and did not happen: why (kapp's own message, which names the server when it is the
    server) with ``not_done`` ("No PDF was saved.") where a save's message says the entry
    is still in the form; with the server away, when to try again."""
    if isinstance(error, StorageUnavailable):
        text = error.instead(not_done)
        if error.from_server and "try again" not in text.lower():
            text += " Try again once the server answers."
        return text
    if isinstance(error, KappError) and str(error).strip():
        why = str(error).strip()
        return f"{why if why.endswith(('.', '!', '?')) else why + '.'} {not_done}"
    return f"Something went wrong. {not_done}"


_WAITING: weakref.WeakSet[BackgroundReader] = weakref.WeakSet()


class BackgroundReader(QObject):
    """Runs one read at a time for a screen. ``finished(result)``, ``failed(exception)``
    and ``progressed(done, total, what)`` arrive on the GUI thread. A read that failed
    because of the database server is tried again (see the module's words); ``retrying``
    says one is due."""

    RETRY_MS = 15_000
    """How long a screen waits before reading again from a server that was out of reach:
    often enough that a screen comes back soon after the server does, rarely enough that
    a dozen workstations waiting cost the server nothing."""

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
        self._work: Callable[[Task], Any] | None = None
        self._retry = QTimer(self, singleShot=True)
        self._retry.timeout.connect(self._try_again)

    @property
    def busy(self) -> bool:
        return self._task is not None

    @property
    def retrying(self) -> bool:
        """The last read failed because of the database server; it is tried again soon."""
        return self._retry.isActive()

    def start(self, work: Callable[[Task], Any]) -> None:
        self.cancel()
        self._token += 1
        self._work = work
        self._task = Task(self._relay, self._token)
        self._pool.start(_Job(self._relay, self._task, self._token, work))

    def cancel(self) -> None:
        """Ask the read under way to stop; its result, if any, is dropped. A read due to
        be tried again is not."""
        self._retry.stop()
        _WAITING.discard(self)
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self._token += 1

    def retry_now(self) -> None:
        """Try the read that failed because of the server again, now (if one is due)."""
        if self._retry.isActive():
            self._try_again()

    def _try_again(self) -> None:
        if self._work is not None:
            self.start(self._work)

    def _current(self, token: int) -> bool:
        return token == self._token and self._task is not None

    def _on_done(self, token: int, result: object) -> None:
        if self._current(token):
            self._task = None
            self.finished.emit(result)
            for reader in list(_WAITING):  # the server answers again: no need to wait
                if reader is not self:
                    try:
                        reader.retry_now()
                    except RuntimeError:  # its screen was closed and deleted meanwhile
                        _WAITING.discard(reader)

    def _on_failed(self, token: int, error: object) -> None:
        if self._current(token):
            self._task = None
            if server_away(error) and self.RETRY_MS > 0:
                self._retry.start(self.RETRY_MS)
                _WAITING.add(self)
            self.failed.emit(error)

    def _on_progress(self, token: int, done: int, total: int, what: str) -> None:
        if self._current(token):
            self.progressed.emit(done, total, what)
