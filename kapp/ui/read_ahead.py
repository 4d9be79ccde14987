"""Reading a patient's page ahead, while the patient is only selected in a list.

A nurse picks a patient in two steps: the row is selected (a click, the arrow keys, Enter
from the search box), then opened (a second click, Enter). Opening a patient not opened
lately reads and works out ten years of sessions (~60-100 ms); started at the selection,
that read is done or under way when the page asks for it
(``PatientViewService.read_ahead``), and the page opens as fast as a reopening.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer

from kapp.domain.errors import KappError

log = logging.getLogger(__name__)


_POOL: QThreadPool | None = None


def _own_pool() -> QThreadPool:
    """One thread for reading ahead, apart from the screens' reads: a read ahead never
    keeps a screen's own read waiting for a thread (say, while a database server that
    went away keeps each read waiting for its time-out)."""
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool(QCoreApplication.instance())
        _POOL.setMaxThreadCount(1)
    return _POOL


class _Latest:
    """The newest read ahead asked for; a job that is no longer it is not started."""

    def __init__(self) -> None:
        self.token = 0


class _Job(QRunnable):
    def __init__(self, read: Callable[[uuid.UUID], object], patient_id: uuid.UUID,
                 latest: _Latest, token: int) -> None:
        super().__init__()
        self.read, self.patient_id, self.latest, self.token = read, patient_id, latest, token

    def run(self) -> None:
        if self.token != self.latest.token:  # the selection moved on while it waited
            return
        try:
            self.read(self.patient_id)
        except KappError as error:  # the opening reads again, and says what is wrong
            log.debug("read ahead failed: %s", type(error).__name__)
        except Exception:  # a worker thread must not take the app down for a read ahead
            log.exception("read ahead failed")


class ReadAhead(QObject):
    """Reads ahead the patient selected, once the selection has rested ``DELAY_MS``
    (holding an arrow key down reads none of the rows passed over)."""

    DELAY_MS = 80

    def __init__(self, read: Callable[[uuid.UUID], object], parent: QObject | None = None,
                 pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._read = read
        self._pool = pool or _own_pool()
        self._latest = _Latest()
        self._wanted: uuid.UUID | None = None
        self._last: uuid.UUID | None = None
        self._timer = QTimer(self, singleShot=True, interval=self.DELAY_MS)
        self._timer.timeout.connect(self._start)

    def select(self, patient_id: uuid.UUID | None) -> None:
        """The patient now selected (None: none is)."""
        self._wanted = patient_id
        if patient_id is None or patient_id == self._last:
            self._timer.stop()
        else:
            self._timer.start()

    def _start(self) -> None:
        patient_id = self._wanted
        if patient_id is None or patient_id == self._last:
            return
        self._last = patient_id
        self._latest.token += 1
        self._pool.start(_Job(self._read, patient_id, self._latest, self._latest.token))
