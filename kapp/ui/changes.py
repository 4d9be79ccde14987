"""The bridge from the services' change notifications to Qt signals."""

from __future__ import annotations

import itertools
import weakref

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal

from kapp.services.changes import Change, ChangeHub
from kapp.ui.qt_compat import emit


class HubSignals(QObject):
    """Re-emits what the ChangeHub reports as ``changed(frozenset[Change])``.

    Delivery is always queued: a service may notify from a worker thread, and even on the
    GUI thread a screen should not reload in the middle of the service call that changed
    it. ``changed`` therefore fires from the event loop of this object's thread.

    Each notification is numbered as it is made (``notified``, the last number given) and
    ``changed`` fires with ``delivering`` set to its number, so that a screen that read
    the database again after a notification was made (say, at once after its own entry)
    can tell that the delivery brings nothing it does not show already (``shown_by``).
    """

    changed = Signal(object)
    _arrived = Signal(object)

    def __init__(self, hub: ChangeHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._arrived.connect(self._relay, Qt.ConnectionType.QueuedConnection)
        numbers = itertools.count(1)  # next() is atomic: services notify from any thread
        self.notified = 0
        self.delivering = 0
        # The hub cannot unsubscribe, so it must not keep a closed window alive: it holds
        # only a weak reference, and a notification after the window is gone is dropped.
        me = weakref.ref(self)

        def listener(changes: frozenset[Change]) -> None:
            target = me()
            if target is not None and shiboken6.isValid(target):
                number = next(numbers)
                target.notified = max(target.notified, number)
                emit(target._arrived, (number, changes))

        hub.subscribe(listener)

    def _relay(self, numbered: tuple[int, frozenset[Change]]) -> None:
        self.delivering, changes = numbered
        emit(self.changed, changes)

    def shown_by(self, read_after: int) -> bool:
        """Whether the notification being delivered was made before ``notified`` had
        reached ``read_after``: a read begun after that (``read_after = notified`` taken
        just before reading) already saw what it announces."""
        return self.delivering <= read_after
