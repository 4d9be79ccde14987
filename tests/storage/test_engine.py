"""The SQLite settings that keep an accepted entry safe, checked on a live connection."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapp.storage.engine import create_engine, live_pragmas, sqlite_url

pytestmark = pytest.mark.sqlite_only  # SQLite pragmas and BEGIN IMMEDIATE


def test_every_connection_has_wal_full_sync_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "p.db"))
    pragmas = live_pragmas(engine)
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                       "busy_timeout": 5000}
    engine.dispose()


def test_write_transactions_begin_immediate(tmp_path: Path) -> None:
    """A second connection cannot start writing while the first holds the write lock:
    BEGIN IMMEDIATE takes it at the start, not at the first write."""
    import sqlite3

    path = tmp_path / "lock.db"
    engine = create_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.exec_driver_sql("create table t (x integer)")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with engine.begin() as conn:
        conn.exec_driver_sql("select count(*) from t").scalar()  # only a read so far
        try:
            other.execute("BEGIN IMMEDIATE")
            locked = False
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc)
    other.close()
    engine.dispose()
    assert locked


def test_reads_do_not_block_a_writer(tmp_path: Path) -> None:
    from kapp.storage.database import Database
    from kapp.storage.migrate import upgrade

    engine = create_engine(sqlite_url(tmp_path / "r.db"))
    upgrade(engine)
    db = Database(engine)
    with db.reading() as s:
        s.execute(__import__("sqlalchemy").text("select count(*) from patients")).scalar()
        with db.unit_of_work() as uow:  # would wait and fail if the read held the lock
            uow.audit(user_id=None, action="test", entity="x", entity_id="1")
    engine.dispose()
