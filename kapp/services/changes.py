"""What a service call changed, and who is told (no SQLAlchemy here: the window's first
screens import this before the database layer has loaded)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum


class Change(StrEnum):
    """What a service call changed, so each screen refreshes only when it must."""

    USERS = "users"
    PROTOCOL = "protocol"
    PATIENTS = "patients"
    COURSES = "courses"
    SESSIONS = "sessions"
    ENTRIES = "entries"  # vitals, events, side effects, reports, scores, notes
    ALERTS = "alerts"
    SETTINGS = "settings"  # clinic settings (name, lockout, idle lock)
    SIGN_IN = "sign_in"  # a failed sign-in (or signing password) counted towards a lockout


Listener = Callable[[frozenset[Change]], None]


class ChangeHub:
    """Tells listeners (the UI adapter turns this into a Qt signal) what changed."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def notify(self, *changes: Change) -> None:
        if changes:
            flags = frozenset(changes)
            for listener in list(self._listeners):
                listener(flags)


__all__ = ["Change", "ChangeHub", "Listener"]
