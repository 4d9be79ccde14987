"""The one place that knows which database kapp talks to and how.

SQLite is tuned for a clinic laptop where a power cut must not lose an acknowledged
entry (see shared/docs/reliability.md): WAL with ``synchronous=FULL``, foreign keys on,
a busy timeout, and ``BEGIN IMMEDIATE`` for every transaction so that a transaction that
reads then writes never fails with "database is locked" when another kapp process
committed in between. PostgreSQL needs none of this.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

BUSY_TIMEOUT_MS = 5000
READ_ONLY = "kapp_read_only"  # execution option: this connection only reads
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


def create_engine(url: URL | str, **kwargs: Any) -> Engine:
    url = make_url(url)
    # Statement parameters are patient data: never in a log line or an error message, even
    # when someone turns on DEBUG logging.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)
    _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
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
        # so a long report cannot hold up the nurse's next entry.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def live_pragmas(engine: Engine) -> dict[str, Any]:
    """The pragmas of a live connection, for tests and ``kapp db check``."""
    if engine.dialect.name != "sqlite":
        return {}
    with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
