"""Storage faults in plain words.

The driver says "database or disk is full" or "attempt to write a readonly database";
the nurse needs to hear that the entry was NOT saved, that it is still in the form, and
what to do. ``translate`` turns a driver error into a ``StorageUnavailable`` with such a
message (or returns None for errors that are not storage faults, such as a constraint
failure, which remain programming errors).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from kapp.domain.errors import StorageUnavailable

# SQLite's primary result codes by name (extended codes share the prefix).
_BY_CODE = {
    "SQLITE_FULL": "full",
    "SQLITE_READONLY": "read_only",
    "SQLITE_IOERR": "io",
    "SQLITE_BUSY": "locked",
    "SQLITE_LOCKED": "locked",
    "SQLITE_CANTOPEN": "cannot_open",
    "SQLITE_CORRUPT": "damaged",
    "SQLITE_NOTADB": "damaged",
}
# PostgreSQL's SQLSTATEs (server mode): a writer that waited too long for its turn
# (kapp/storage/engine.py) or was chosen to break a deadlock; a server out of disk.
_BY_SQLSTATE = {
    "55P03": "locked",  # lock_not_available (lock_timeout)
    "40P01": "locked",  # deadlock_detected
    "53100": "full",  # disk_full
}
# The same, recognised by the words of the message (other drivers, older Pythons).
_BY_TEXT = (
    ("database or disk is full", "full"),
    ("disk is full", "full"),
    ("no space left", "full"),
    ("readonly database", "read_only"),
    ("read-only", "read_only"),
    ("disk i/o error", "io"),
    ("i/o error", "io"),
    ("database is locked", "locked"),
    ("database table is locked", "locked"),
    ("unable to open database", "cannot_open"),
    ("malformed", "damaged"),
    ("file is not a database", "damaged"),
)

_NOT_SAVED = "This entry was NOT saved; it is still in the form as you typed it."
_WHAT = {
    "full": ("The disk is full. {not_saved} Free some space on the disk (or ask IT to), "
             "then save again."),
    "read_only": ("The database file cannot be written to: it has become read-only. "
                  "{not_saved} Ask IT to make the file writable again, then save again."),
    "io": ("The computer could not write to its disk (an input/output error). {not_saved} "
           "Try saving again. If this keeps happening the disk may be failing: tell IT, "
           "and keep a paper record meanwhile."),
    "locked": ("The database is busy: another kapp window or program has held it for "
               "more than a few seconds. {not_saved} Save again in a moment."),
    "cannot_open": ("The database file cannot be reached (it was moved, or its drive is "
                    "gone). {not_saved} Check the drive, then save again."),
    "damaged": ("The database file is damaged. {not_saved} Close kapp and open it again: "
                "it will offer to restore the latest verified backup."),
}
_READING = {
    "full": "The disk is full, so kapp could not read the records just now. Free some space.",
    "read_only": "The database file could not be read just now.",
    "io": ("The computer could not read its disk (an input/output error). Try again; if "
           "this keeps happening tell IT."),
    "locked": "The database is busy just now; try again in a moment.",
    "cannot_open": ("The database file cannot be reached (it was moved, or its drive is "
                    "gone)."),
    "damaged": ("The database file is damaged. Close kapp and open it again: it will offer "
                "to restore the latest verified backup."),
}


def fault_kind(exc: BaseException) -> str | None:
    """"full", "read_only", "io", "locked", "cannot_open", "damaged" or None."""
    orig: Any = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(exc, sa.exc.IntegrityError):
        return None
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in _BY_SQLSTATE:
        return _BY_SQLSTATE[state]
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, kind in _BY_CODE.items():
            if name == prefix or name.startswith(prefix + "_"):
                return kind
    text = str(orig).lower()
    for words, kind in _BY_TEXT:
        if words in text:
            return kind
    return None


def translate(exc: BaseException, *, saving: bool = True) -> StorageUnavailable | None:
    """A ``StorageUnavailable`` in plain words for a storage fault, else None."""
    kind = fault_kind(exc)
    if kind is None:
        return None
    message = (_WHAT[kind].format(not_saved=_NOT_SAVED) if saving else _READING[kind])
    return StorageUnavailable(kind, message)
