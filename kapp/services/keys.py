"""The database key's wrappings, one per account: the services tell the key ring when a
password is set, changed or an account removed, so that every account can still open an
encrypted database. An unencrypted (development) database has nothing to wrap."""

from __future__ import annotations

from typing import Protocol


class KeyRing(Protocol):
    encrypted: bool

    def enrol(self, username: str, password: str) -> None:
        """Wrap the database key for this account (new account or password reset)."""

    def rewrap(self, username: str, old_password: str, new_password: str) -> None:
        """The account changed its own password."""

    def forget(self, username: str) -> None:
        """The account can no longer open the database."""


class NoKeyRing:
    encrypted = False

    def enrol(self, username: str, password: str) -> None:
        pass

    def rewrap(self, username: str, old_password: str, new_password: str) -> None:
        pass

    def forget(self, username: str) -> None:
        pass
