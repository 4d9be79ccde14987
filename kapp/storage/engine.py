"""The one place that knows which database kapp talks to and how.

SQLite is tuned for a clinic laptop where a power cut must not lose an acknowledged
entry (see shared/docs/reliability.md): WAL with ``synchronous=FULL``, foreign keys on,
a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction so that a transaction that
reads then writes never fails with "database is locked" when another kapp process
committed in between.

On PostgreSQL (server mode: several workstations, one database) every write transaction
likewise begins by taking one transaction-level advisory lock (``WRITE_LOCK``), so that
writers take turns exactly as on SQLite: the services read, decide and write (a failed
sign-in counted, the audit chain's last entry read and the next one linked to it), and
two workstations doing so at the same instant would otherwise lose one count, collide on
a new row, or both link an entry to the same predecessor. Reads take no lock and never
wait. A writer waits at most ``BUSY_TIMEOUT_MS`` for its turn (``lock_timeout``), then
fails as a busy SQLite file does ("locked", kapp/storage/faults.py). Server error
messages are cut to their first line: PostgreSQL's DETAIL quotes the row or key values
(patient data) that broke a constraint.

An encrypted file (SQLCipher 4, the default for a new local database) takes the same path
through the ``sqlcipher3`` driver: the raw 256-bit data key is given FIRST on every
connection (no key derivation: the key file already did the slow part), then one read of
``sqlite_master`` so that a wrong key fails at once with ``WrongDatabaseKey`` instead of at
some later statement, then the same pragmas.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from kapp.domain.errors import KappError
from kapp.paths import SQLITE_HEADER, is_plain_sqlite_file  # noqa: F401 - kept importable here

BUSY_TIMEOUT_MS = 5000
WRITE_LOCK = 0x6B617070  # PostgreSQL advisory lock key of kapp's writers ("kapp")
READ_ONLY = "kapp_read_only"  # execution option: this connection only reads
KEY_BYTES = 32  # AES-256


class WrongDatabaseKey(KappError):
    """The key does not open this database file (or the file is not a kapp database)."""


SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)


def sqlite_url(path: Path | str) -> URL:
    return URL.create("sqlite", database=str(Path(path).expanduser().resolve()))


def database_url(*, db_path: Path | str | None = None, url: str | None = None) -> URL:
    """The URL for ``--db PATH`` or ``--database-url URL`` (exactly one of them)."""
    if (db_path is None) == (url is None):
        raise ValueError("give either a database path or a database URL")
    return sqlite_url(db_path) if db_path is not None else make_url(url or "")


def sqlite_path(engine_or_url: Engine | URL) -> Path | None:
    """The file behind a SQLite URL, or None for another database or an in-memory one."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


class _NoRows(logging.Filter):
    """SQLAlchemy's engine logs each fetched row at DEBUG: rows are patient data, so such
    records are dropped, whatever logging level someone turns on. Statements (INFO) stay,
    their parameters hidden (``hide_parameters``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NoRows())


def sqlcipher_module() -> Any:
    """The SQLCipher DB-API module (same interface as the standard ``sqlite3``)."""
    from sqlcipher3 import dbapi2

    return dbapi2


def create_engine(url: URL | str, *, key: bytes | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url``; with ``key`` (32 bytes) the SQLite file is encrypted with
    SQLCipher under that raw key (a new file is created encrypted)."""
    url = make_url(url)
    # Statement parameters are patient data: never in a log line or an error message, even
    # when someone turns on DEBUG logging.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() != "sqlite":
        if key is not None:
            raise ValueError("only a local SQLite database is encrypted by kapp")
        if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
            defaults = {name: value for name, value in _lost_server_timeouts().items()
                        if name not in url.query}  # the URL's own settings win
            kwargs["connect_args"] = {**defaults, **kwargs.get("connect_args", {})}
        engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
        if engine.dialect.name == "postgresql":
            _tune_postgresql(engine)
        return engine
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if key is not None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the database key must be {KEY_BYTES} bytes")
        kwargs["module"] = sqlcipher_module()
    engine = sa.create_engine(url, **kwargs)
    # Kept with the dialect (shared by option engines, survives dispose()) so that a
    # backup copy can be keyed the same way: an encrypted database is copied encrypted.
    engine.dialect._kapp_key = key  # type: ignore[attr-defined]
    _tune_sqlite(engine, key)
    return engine


def apply_key(dbapi_connection: Any, key: bytes) -> None:
    """Give SQLCipher the raw key, then prove it opens the file (or raise WrongDatabaseKey).

    SQLCipher reports a wrong key by printing "hmac check failed" lines on stderr; that
    would only confuse a user reading a terminal, and our own error says it in words,
    so its log is silenced (a process-wide setting of the library)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA cipher_log_level = NONE")
        cursor.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        try:
            cursor.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlcipher_module().DatabaseError as exc:
            raise WrongDatabaseKey(
                "The database key does not open this file: the key file belongs to another "
                "database, or the file is damaged or not a kapp database."
            ) from exc
    finally:
        cursor.close()


def _tune_sqlite(engine: Engine, key: bytes | None = None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if key is not None:
            apply_key(dbapi_connection, key)  # first: nothing can be read before the key
        # Take transaction control away from the sqlite3 module so that we can say
        # BEGIN IMMEDIATE ourselves (SQLAlchemy's documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Reads take a plain (deferred) BEGIN: in WAL mode they then never block a writer,
        # so a long report cannot hold up the nurse's next entry. Said to the driver
        # directly (a tenth of a millisecond less per transaction than through
        # SQLAlchemy's execution machinery); an error still comes out as SQLAlchemy's.
        read_only = connection.get_execution_options().get(READ_ONLY)
        driver_execute(connection, "BEGIN" if read_only else "BEGIN IMMEDIATE")


# libpq's settings for a server that vanishes without closing the connection (a network
# that dropped, a server that lost power): without them a save would wait for the
# operating system's TCP timeout (a quarter of an hour) before the nurse hears anything.
# A new connection gives up after 10 s; a connection whose data goes unacknowledged for
# 15 s, or that stays silent through three keepalive probes, is declared lost.
_LOST_SERVER_TIMEOUTS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15000,
}


def _lost_server_timeouts() -> dict[str, int]:
    """``_LOST_SERVER_TIMEOUTS`` that this libpq knows (``tcp_user_timeout`` came with
    libpq 12; an older one would refuse every connection over an unknown option)."""
    import psycopg

    settings = dict(_LOST_SERVER_TIMEOUTS)
    if psycopg.pq.version() < 120000:
        del settings["tcp_user_timeout"]
    return settings


_TAKE_TURN = (f"SELECT set_config('lock_timeout', '{BUSY_TIMEOUT_MS}ms', true), "
              f"pg_advisory_xact_lock({WRITE_LOCK})")


def _tune_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Held until this transaction commits or rolls back (see the module's docstring).
        if not connection.get_execution_options().get(READ_ONLY):
            driver_execute(connection, _TAKE_TURN)

    @event.listens_for(engine, "handle_error")
    def _first_line_only(context: sa.engine.ExceptionContext) -> None:
        error, wrapped = context.original_exception, context.sqlalchemy_exception
        if quiet_server_error(error) and wrapped is not None and wrapped.args:
            kind = f"{type(error).__module__}.{type(error).__name__}"
            wrapped.args = (f"({kind}) {error.args[0]}", *wrapped.args[1:])


def quiet_server_error(error: BaseException) -> bool:
    """Cut a PostgreSQL error to words that hold no data: its primary message (it names
    constraints, columns and tables), never the DETAIL lines that quote the row or key
    values; and for a data exception (SQLSTATE class 22, whose primary message quotes the
    bad value) only its kind and SQLSTATE. True when it was a server's error."""
    diag = getattr(error, "diag", None)
    state = getattr(error, "sqlstate", None)
    primary = getattr(diag, "message_primary", None)
    if not isinstance(state, str) or not primary:
        return False
    if state.startswith("22"):
        error.args = (f"{type(error).__name__} (SQLSTATE {state})",)
    else:
        error.args = (primary,)
    return True


def driver_execute(conn: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` (no parameters) on the driver's connection under ``conn`` and return
    its rows, raising a driver error as SQLAlchemy would (a ``DBAPIError`` wrapping it),
    so that storage faults are translated the same way (``kapp.storage.faults``)."""
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return cursor.fetchall() if cursor.description else []
    except dbapi.Error as exc:
        quiet_server_error(exc)
        # A connection the server dropped is invalidated at once, as SQLAlchemy does for its
        # own statements: the rollback then does not talk to a dead connection, and the
        # pool replaces it for the next transaction.
        lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if lost:
            conn.invalidate(exc)
        raise sa.exc.DBAPIError.instance(sql, (), exc, dbapi.Error, hide_parameters=True,
                                         connection_invalidated=lost,
                                         dialect=conn.dialect) from exc
    finally:
        cursor.close()


_PLAIN_SQL: dict[tuple[str, int], str] = {}


def plain_rows(conn: sa.Connection, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of a small read without parameters, straight from the driver, inside the
    transaction open on ``conn``: for hot reads of plain text and numbers, where no
    column type has anything to convert. ``statement`` must be a module-level constant
    (its SQL is compiled once per dialect and kept)."""
    key = (conn.dialect.name, id(statement))
    sql = _PLAIN_SQL.get(key)
    if sql is None:
        sql = _PLAIN_SQL[key] = str(statement.compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return driver_execute(conn, sql)


def database_key(engine: Engine) -> bytes | None:
    """The raw SQLCipher key of an encrypted SQLite engine, else None."""
    return getattr(engine.dialect, "_kapp_key", None)


def live_pragmas(engine: Engine) -> dict[str, Any]:
    """The pragmas of a live connection, for tests and ``kapp db check``."""
    if engine.dialect.name != "sqlite":
        return {}
    with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
