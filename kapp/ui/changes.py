"""The bridge from the services' change notifications to Qt signals."""

from __future__ import annotations

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
    """

    changed = Signal(object)
    _arrived = Signal(object)

    def __init__(self, hub: ChangeHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._arrived.connect(self._relay, Qt.ConnectionType.QueuedConnection)
        # The hub cannot unsubscribe, so it must not keep a closed window alive: it holds
        # only a weak reference, and a notification after the window is gone is dropped.
        me = weakref.ref(self)

        def listener(changes: frozenset[Change]) -> None:
            target = me()
            if target is not None and shiboken6.isValid(target):
                emit(target._arrived, changes)

        hub.subscribe(listener)

    def _relay(self, changes: frozenset[Change]) -> None:
        emit(self.changed, changes)
