"""A damaged database file is caught at start-up, with a clear message offering the
latest verified backup, never a traceback."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kapp.domain.errors import DatabaseDamaged
from kapp.storage.backup import backup_folder, create_backup
from kapp.storage.database import open_database
from kapp.storage.engine import create_engine, sqlite_url

pytestmark = pytest.mark.sqlite_only  # damaged SQLite files

CRASH_AFTER_WRITING = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = FULL")
for i in range(int(sys.argv[2])):
    conn.execute("INSERT INTO kapp_meta (key, value) VALUES (?, ?)", (f"entry-{i}", "x" * 500))
os._exit(0)  # no close, no checkpoint: the entries are in the -wal, as after a crash
"""


def crash_after_writing(path: Path, entries: int = 20) -> None:
    subprocess.run([sys.executable, "-c", CRASH_AFTER_WRITING, str(path), str(entries)],
                   check=True)
    assert path.with_name(path.name + "-wal").stat().st_size > 0
    assert path.with_name(path.name + "-shm").exists()


def _entries(path: Path) -> int:
    opened = open_database(sqlite_url(path))
    try:
        with opened.database.engine.connect() as conn:
            return conn.exec_driver_sql(
                "select count(*) from kapp_meta where key like 'entry-%'").scalar()
    finally:
        opened.database.dispose()


def _backup(path: Path) -> Path:
    engine = create_engine(sqlite_url(path))
    try:
        return create_backup(engine, backup_folder(path), reason="manual").path
    finally:
        engine.dispose()


def test_a_crash_leaves_a_database_that_opens_with_every_entry(db_path: Path) -> None:
    crash_after_writing(db_path)
    assert _entries(db_path) == 20  # no false alarm after an ordinary crash


def test_a_missing_wal_is_detected(db_path: Path) -> None:
    backup = _backup(db_path)
    crash_after_writing(db_path)
    db_path.with_name(db_path.name + "-wal").unlink()
    with pytest.raises(DatabaseDamaged) as caught:
        open_database(sqlite_url(db_path))
    message = str(caught.value)
    assert "-wal" in message and "missing" in message
    assert backup.name in message and "restore" in message
    assert caught.value.latest_backup == str(backup)


def test_a_wal_from_another_copy_of_the_database_is_detected(db_path: Path,
                                                            tmp_path: Path) -> None:
    other = tmp_path / "other" / "kapp.db"
    other.parent.mkdir()
    shutil.copyfile(db_path, other)
    crash_after_writing(db_path, 5)
    crash_after_writing(other, 30)
    shutil.copyfile(other.with_name("kapp.db-wal"), db_path.with_name("kapp.db-wal"))
    with pytest.raises(DatabaseDamaged, match="does not belong to it"):
        open_database(sqlite_url(db_path))


def test_a_wal_cut_short_is_detected(db_path: Path) -> None:
    crash_after_writing(db_path)
    wal = db_path.with_name(db_path.name + "-wal")
    with wal.open("r+b") as f:
        f.truncate(wal.stat().st_size // 2)
    with pytest.raises(DatabaseDamaged, match="cut short"):
        open_database(sqlite_url(db_path))


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("pragma page_size").fetchone()[0]


def test_flipped_bytes_are_detected(db_path: Path) -> None:
    size = _page_size(db_path)
    data = bytearray(db_path.read_bytes())
    for page in range(2, len(data) // size, 3):  # the b-tree header of every third page
        start = page * size
        for i in range(start, start + 12):
            data[i] ^= 0x5A
    db_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseDamaged) as caught:
        open_database(sqlite_url(db_path))
    assert "is damaged" in str(caught.value)
    assert "No verified backup" in str(caught.value)
    assert caught.value.problems


def test_a_damaged_header_is_detected(db_path: Path) -> None:
    data = bytearray(db_path.read_bytes())
    data[0:16] = b"garbage garbage!"
    db_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseDamaged, match="is damaged"):
        open_database(sqlite_url(db_path))


def test_a_truncated_file_is_detected(db_path: Path) -> None:
    backup = _backup(db_path)
    with db_path.open("r+b") as f:
        f.truncate(db_path.stat().st_size // 2)
    with pytest.raises(DatabaseDamaged) as caught:
        open_database(sqlite_url(db_path))
    assert caught.value.latest_backup == str(backup)
    assert "kept aside, not deleted" in str(caught.value)
