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


class OneAtATime:
    """One read of a patient at a time: a second reader of the same patient waits for the
    first, then finds what it read kept, rather than reading and computing it all again
    beside it (both would hold Python's lock by turns, and both would take longer)."""

    def __init__(self) -> None:
        self._locks: dict[uuid.UUID, tuple[threading.Lock, int]] = {}
        self._guard = threading.Lock()

    @contextmanager
    def holding(self, patient_id: uuid.UUID) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(patient_id, (threading.Lock(), 0))
            self._locks[patient_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:  # the lock goes when its last user does: none kept for ever
                lock, users = self._locks[patient_id]
                if users == 1:
                    del self._locks[patient_id]
                else:
                    self._locks[patient_id] = (lock, users - 1)

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


def changes_of(s: OrmSession, patient_id: uuid.UUID) -> int:
    """How many audit entries name the patient: it grows with every change to the record
    (counted from the covering index on patient and time, not the table)."""
    a = m.AuditEntry
    return s.execute(sa.select(sa.func.count()).select_from(a)
                     .where(a.patient_id == patient_id)).scalar_one()
