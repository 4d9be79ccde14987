"""Storage faults in plain words.

The driver says "database or disk is full" or "attempt to write a readonly database";
the nurse needs to hear that the entry was NOT saved, that it is still in the form, and
what to do. ``translate`` turns a driver error into a ``StorageUnavailable`` with such a
message (or returns None for errors that are not storage faults, such as a constraint
failure, which remain programming errors).

In server mode (PostgreSQL) the connection to the server can be lost: the server was
stopped or restarted, the network dropped, an administrator ended kapp's session
(``pg_terminate_backend``), or nothing answers when kapp opens. That is the kind
"server_unreachable", recognised by the SQLSTATE (class 08, 57P01-57P03), by SQLAlchemy
having invalidated the connection, or by the driver's words. The transaction was rolled
back by the server with the session, so nothing of the entry is saved; the pool replaces
the dead connection (``pool_pre_ping``), so the next save works once the server answers.
``unreachable_at_start`` says the same when kapp opens, naming the server (never the
password).

Two more ways a server turns kapp away have their own words, as what to do differs: a
server that is full ("server_busy": SQLSTATE 53300 too_many_connections, "sorry, too many
clients already", a role's or database's CONNECTION LIMIT reached; wait a minute, and IT
should let it take more connections) and one that is starting up or shutting down
("server_restarting": 57P03 cannot_connect_now, "the database system is starting up";
try again in a moment). Neither is ever "damaged". A connection the server ended (57P01
admin shutdown: a restart or stop, or IT ending the session; 57P02 after a crash) stays
"server_unreachable": the two cannot be told apart by the driver's error, and its words
("stopped or restarted") cover both.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL

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
    "57P01": "server_unreachable",  # admin_shutdown: server stopped, or session terminated
    "57P02": "server_unreachable",  # crash_shutdown: another session crashed the server
    "57P03": "server_restarting",  # cannot_connect_now: starting up or shutting down
    "53300": "server_busy",  # too_many_connections (max_connections, CONNECTION LIMIT)
}
# Every SQLSTATE of class 08 (connection exception: 08000, 08003, 08006, 08001...).
_SQLSTATE_CLASSES = {"08": "server_unreachable"}
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
    # A database server that turned kapp away (before the words of a failed connection,
    # which psycopg puts in front: "connection failed: ... FATAL:  too many connections").
    ("too many connections", "server_busy"),
    ("too many clients", "server_busy"),
    ("remaining connection slots are reserved", "server_busy"),
    ("the database system is shutting down", "server_restarting"),
    ("the database system is starting up", "server_restarting"),
    ("the database system is in recovery mode", "server_restarting"),
    ("the database system is not yet accepting connections", "server_restarting"),
    ("the database system is not accepting connections", "server_restarting"),
    # A database server that is gone or cannot be reached (psycopg, libpq, the OS).
    ("server closed the connection unexpectedly", "server_unreachable"),
    ("terminating connection due to", "server_unreachable"),
    ("the connection is lost", "server_unreachable"),
    ("the connection is closed", "server_unreachable"),
    ("connection already closed", "server_unreachable"),
    ("no connection to the server", "server_unreachable"),
    ("connection refused", "server_unreachable"),
    ("could not connect to server", "server_unreachable"),
    ("connection failed", "server_unreachable"),
    ("connection to server at", "server_unreachable"),
    ("could not receive data from server", "server_unreachable"),
    ("could not send data to server", "server_unreachable"),
    ("consuming input failed", "server_unreachable"),
    ("ssl connection has been closed unexpectedly", "server_unreachable"),
    ("connection reset by peer", "server_unreachable"),
    ("connection timed out", "server_unreachable"),
    ("network is unreachable", "server_unreachable"),
    ("no route to host", "server_unreachable"),
    ("failed to resolve host", "server_unreachable"),
    ("could not translate host name", "server_unreachable"),
)

_NOT_SAVED = StorageUnavailable.NOT_SAVED
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
    "server_unreachable": ("The clinic's database server{at} cannot be reached: the network "
                           "dropped, or the server was stopped or restarted. {not_saved} "
                           "Check this computer's network (cable or Wi-Fi) or ask IT whether "
                           "the database server is running; then save again."),
    "server_busy": ("The clinic's database server{at} is full: it already has as many "
                    "connections as it allows, so it turned kapp away. {not_saved} Save "
                    "again in a minute. If this keeps happening, ask IT to let the server "
                    "take more connections."),
    "server_restarting": ("The clinic's database server{at} is restarting (starting up or "
                          "shutting down) and does not take entries just now. {not_saved} "
                          "Save again in a moment; if it keeps saying this, ask IT whether "
                          "the database server is running."),
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
    "server_unreachable": ("The clinic's database server{at} cannot be reached just now, so "
                           "kapp could not read the records. Check this computer's network "
                           "or ask IT whether the server is running."),
    "server_busy": ("The clinic's database server{at} is full: it already has as many "
                    "connections as it allows, so kapp could not read the records just now. "
                    "If this keeps happening, ask IT to let the server take more "
                    "connections."),
    "server_restarting": ("The clinic's database server{at} is restarting (starting up or "
                          "shutting down), so kapp could not read the records just now. It "
                          "should answer again in a moment."),
}


def fault_kind(exc: BaseException) -> str | None:
    """"full", "read_only", "io", "locked", "cannot_open", "damaged",
    "server_unreachable", "server_busy", "server_restarting" or None."""
    orig: Any = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(exc, sa.exc.IntegrityError):
        return None
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str) and state in _BY_SQLSTATE:
        return _BY_SQLSTATE[state]
    if isinstance(state, str) and state[:2] in _SQLSTATE_CLASSES:
        return _SQLSTATE_CLASSES[state[:2]]
    if (isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
            and not _from_sqlite(orig)):
        return "server_unreachable"  # SQLAlchemy saw the connection die (is_disconnect)
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


def _from_sqlite(orig: Any) -> bool:
    """True for an error of the SQLite drivers (sqlite3, sqlcipher3): a local file has no
    server to lose, and their "closed database" is a programming error."""
    return (hasattr(orig, "sqlite_errorname")
            or type(orig).__module__.split(".")[0] in ("sqlite3", "sqlcipher3"))


def translate(exc: BaseException, *, saving: bool = True,
              server: str | None = None) -> StorageUnavailable | None:
    """A ``StorageUnavailable`` in plain words for a storage fault, else None.
    ``server`` names the database server (see ``server_label``) in its messages."""
    kind = fault_kind(exc)
    if kind is None:
        return None
    at = f" ({server})" if server else ""
    message = (_WHAT[kind] if saving else _READING[kind]).format(not_saved=_NOT_SAVED, at=at)
    return StorageUnavailable(kind, message)


def server_label(url: URL) -> str | None:
    """"host:port" of a database server's URL (never its user or password); None for
    SQLite."""
    if url.get_backend_name() == "sqlite":
        return None
    host = url.host
    if not host:  # a local socket, or hosts given in the query string
        named = url.query.get("host")
        host = named if isinstance(named, str) and named else "this computer"
    port = url.port or _DEFAULT_PORTS.get(url.get_backend_name())
    return f"{host}:{port}" if port else host


_DEFAULT_PORTS = {"postgresql": 5432}

_WHY = (  # what the driver said, in a few plain words
    ("refused", "it refused the connection: the server is not running there, or a firewall "
                "is in the way"),
    ("resolve host", "its name could not be found on the network"),
    ("translate host name", "its name could not be found on the network"),
    ("timed out", "it did not answer in time"),
    ("timeout expired", "it did not answer in time"),
    ("unreachable", "the network cannot reach it"),
    ("no route to host", "the network cannot reach it"),
    ("shutting down", "it is shutting down"),
    ("starting up", "it is still starting up"),
)


def unreachable_at_start(url: URL, exc: BaseException) -> StorageUnavailable:
    """Plain words for a database server that cannot be reached when kapp opens (or that
    turned kapp away: full, or restarting)."""
    kind = fault_kind(exc)
    if kind == "server_busy":
        return StorageUnavailable(kind, (
            f"kapp cannot connect to the clinic's database server at {server_label(url)}: "
            "it is full (it already has as many connections as it allows). Nothing has "
            "been changed. Wait a minute, then open kapp again; if this keeps happening, "
            "ask IT to let the server take more connections."))
    if kind == "server_restarting":
        return StorageUnavailable(kind, (
            f"kapp cannot connect to the clinic's database server at {server_label(url)} "
            "just now: it is restarting (starting up or shutting down). Nothing has been "
            "changed. Open kapp again in a moment; if it keeps saying this, ask IT whether "
            "the database server is running."))
    text = str(getattr(exc, "orig", exc)).lower()
    why = next((words for key, words in _WHY if key in text), "it did not answer")
    return StorageUnavailable("server_unreachable", (
        f"kapp cannot reach the clinic's database server at {server_label(url)} ({why}). "
        "Nothing has been changed. Check that this computer is on the clinic network "
        "(cable or Wi-Fi), or ask IT whether the database server is running; then open "
        "kapp again."))
