"""What was read or computed for the last few patients shown, kept while it still holds.

A ten-year patient's page takes tens of milliseconds to read and compute, and reopening a
patient whose record has not changed needs none of it. Whether it changed is told by the
audit log: every change to a patient's record writes an entry naming the patient, in the
same transaction, and the log is append-only (triggers refuse UPDATE and DELETE), so the
number of a patient's entries grows with each change, made here or on another workstation
sharing the server (``changes_of``). A kept value is keyed by that number and by whatever
else it was computed from (the protocol, the day...).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain.errors import StorageUnavailable
from kapp.storage import models as m

T = TypeVar("T")


class PatientCache(Generic[T]):
    """The last ``size`` patients' values, each with the key it was made under."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._kept: OrderedDict[uuid.UUID, tuple[object, T]] = OrderedDict()
        self._lock = threading.Lock()  # readers run on worker threads
        self.hits = self.misses = 0

    def get(self, patient_id: uuid.UUID, key: object) -> T | None:
        """The value kept for the patient under this very key, else None."""
        with self._lock:
            kept = self._kept.get(patient_id)
            if kept is None or kept[0] != key:
                self.misses += 1
                return None
            self._kept.move_to_end(patient_id)
            self.hits += 1
            return kept[1]

    def put(self, patient_id: uuid.UUID, key: object, value: T) -> None:
        with self._lock:
            self._kept[patient_id] = (key, value)
            self._kept.move_to_end(patient_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


class _Turn:
    """One patient's turns at reading: the lock, the readers holding it or waiting for it,
    and the last failure because the server was out of reach, with the readers that were
    waiting then (those that came before ``away_for``)."""

    __slots__ = ("arrived", "away_for", "lock", "server_away", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = self.arrived = self.away_for = 0
        self.server_away: StorageUnavailable | None = None


class OneAtATime:
    """One read of a patient at a time: a second reader of the same patient waits for the
    first, then finds what it read kept, rather than reading and computing it all again
    beside it (both would hold Python's lock by turns, and both would take longer).

    When the first fails because the database server is out of reach, the readers that
    waited for it fail at once with the same words: trying again straight away would only
    wait for the same time-out a second time (the page's opening, waiting for a read ahead
    stuck on a server gone away, would say so after two time-outs instead of one). The
    screens try again by themselves a little later, as after any such failure."""

    def __init__(self) -> None:
        self._turns: dict[uuid.UUID, _Turn] = {}
        self._guard = threading.Lock()

    @contextmanager
    def holding(self, patient_id: uuid.UUID) -> Iterator[None]:
        with self._guard:
            turn = self._turns.setdefault(patient_id, _Turn())
            turn.users += 1
            ticket = turn.arrived
            turn.arrived += 1
        try:
            with turn.lock:
                away = turn.server_away
                if away is not None and ticket < turn.away_for:  # failed while this waited
                    raise StorageUnavailable(away.kind, str(away))
                try:
                    yield
                except StorageUnavailable as error:
                    if error.from_server:
                        with self._guard:
                            turn.server_away, turn.away_for = error, turn.arrived
                    raise
        finally:
            with self._guard:  # the turn goes with its last reader: none kept for ever
                turn.users -= 1
                if turn.users == 0:
                    del self._turns[patient_id]

    def __len__(self) -> int:
        with self._guard:
            return len(self._turns)


def changes_of(s: OrmSession, patient_id: uuid.UUID) -> int:
    """How many audit entries name the patient: it grows with every change to the record
    (counted from the covering index on patient and time, not the table)."""
    a = m.AuditEntry
    return s.execute(sa.select(sa.func.count()).select_from(a)
                     .where(a.patient_id == patient_id)).scalar_one()
