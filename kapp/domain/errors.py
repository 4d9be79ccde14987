"""Errors that services raise and screens show in the user's language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field.

    ``field`` is the name of the input (``"systolic"``), ``message`` a full sentence for
    the person at the keyboard ("Systolic must be between 50 and 300 mmHg; got 1200"),
    and ``allowed`` the allowed range or values in short form ("50-300 mmHg"), if any.
    """

    field: str
    message: str
    allowed: str | None = None


class KappError(Exception):
    """Base of kapp's own errors; its message is fit to show to a user."""


class ValidationError(KappError):
    """Input was refused; nothing was written. Carries one ``FieldError`` per bad field."""

    def __init__(self, errors: list[FieldError] | tuple[FieldError, ...]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__("; ".join(e.message for e in self.errors) or "Invalid input")

    def for_field(self, name: str) -> list[FieldError]:
        return [e for e in self.errors if e.field == name]


class NotFound(KappError):
    """The record asked for does not exist."""


class RecordLocked(KappError):
    """The record is signed (or struck through) and can no longer change."""


class PermissionDenied(KappError):
    """The signed-in user's role does not allow this action."""


class Conflict(KappError):
    """The record changed since it was read (another workstation edited it)."""


class StorageUnavailable(KappError):
    """The database could not be written or read just now (disk full, read-only file,
    I/O error, another program holding the lock, the database server out of reach).
    Nothing of the entry was saved; the form keeps what was typed and saving works again
    once the problem is gone.

    ``kind`` is one of "full", "read_only", "io", "locked", "cannot_open", "damaged",
    "server_unreachable", "server_busy" (a database server with as many connections as it
    allows), "server_restarting" (starting up or shutting down).
    """

    SERVER_KINDS = frozenset({"server_unreachable", "server_busy", "server_restarting"})
    NOT_SAVED = "This entry was NOT saved; it is still in the form as you typed it."
    """The sentence of a failed save's message that speaks of the form's entry."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)

    @property
    def from_server(self) -> bool:
        """The database server is out of reach, full or restarting: nothing is wrong on
        this computer, and reading again shortly may well work without anyone doing
        anything (a screen can try again by itself)."""
        return self.kind in self.SERVER_KINDS

    def instead(self, not_done: str) -> str:
        """The message for what is not a form's entry (a backup, a report, an export):
        its sentence about the entry kept in the form becomes ``not_done`` ("No backup
        was made."), and "save again" becomes "try again". A read's message, which says
        nothing of the kind, gets ``not_done`` after it."""
        text = str(self).strip()
        if self.NOT_SAVED not in text:
            text = text if text.endswith((".", "!", "?")) else text + "."
            return f"{text} {not_done}"
        text = text.replace(self.NOT_SAVED, not_done)
        return text.replace("save again", "try again").replace("Save again", "Try again")


class UnsafeLocation(KappError):
    """The database path is on a network share or in a cloud-synced folder."""


class DatabaseDamaged(KappError):
    """The database file failed its check at start-up. ``latest_backup`` is the newest
    verified backup that could replace it (or None)."""

    def __init__(self, message: str, *, path: str | None = None,
                 latest_backup: str | None = None, problems: tuple[str, ...] = ()) -> None:
        self.path = path
        self.latest_backup = latest_backup
        self.problems = problems
        super().__init__(message)
