"""What every screen needs: the services, change signals, the clock and who is signed in."""

from __future__ import annotations

import uuid
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from kapp.domain.clock import Clock
from kapp.domain.entities import User
from kapp.domain.errors import PermissionDenied
from kapp.services.facade import Services
from kapp.ui.changes import HubSignals


class Navigator(Protocol):
    """Where a screen can send the user; the main window implements it."""

    def show_overview(self) -> None: ...
    def show_patients(self) -> None: ...
    def open_patient(self, patient_id: uuid.UUID) -> None: ...
    def open_session(self, session_id: uuid.UUID) -> None: ...


class AppContext(QObject):
    """Shared by every screen of one window. ``user`` is the person at the keyboard: every
    service call a screen makes acts as them."""

    userChanged = Signal(object)  # noqa: N815 - Qt names signals in camelCase

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.changes = HubSignals(services.hub, self)
        self._user: User | None = None

    @property
    def clock(self) -> Clock:
        return self.services.db.clock

    @property
    def user(self) -> User | None:
        return self._user

    def set_user(self, user: User | None) -> None:
        if user != self._user:
            self._user = user
            self.userChanged.emit(user)

    def actor(self) -> User:
        """The signed-in user, for a service call; nobody signed in is refused."""
        if self._user is None:
            raise PermissionDenied("Nobody is signed in")
        return self._user
