"""Consistent, verified backups of a live SQLite database, and their rotation.

A backup is made with SQLite's online backup API on the engine's own DBAPI connection
(so an encrypted SQLCipher database is copied page by page into a target opened with
the same key: the backup is encrypted like the database), into a temporary name; the
copy is fsynced, opened, checked (``integrity_check`` and ``foreign_key_check``) and only
then renamed into place atomically. A file in the backup folder with a backup's name is
therefore always a verified backup.

Names: ``kapp-YYYYMMDD-HHMMSS-<reason>.db`` with reason ``auto`` (daily, while running),
``close`` (on closing the app), ``manual`` or ``pre-restore``. Only ``auto`` and
``close`` backups are rotated away; the others are kept until someone removes them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kapp.storage.engine import create_engine, sqlite_path, sqlite_url

NAME = re.compile(r"^kapp-(\d{8})-(\d{6})(?:-(\d+))?-(auto|close|manual|pre-restore)\.db$")
ROTATED = ("auto", "close")

# Opens an engine on a backup file. kapp's own factory by default; an encrypted
# installation passes one that sets the key (the same key as the database's).
EngineFactory = Callable[[Path], Engine]


def default_factory(path: Path) -> Engine:
    return create_engine(sqlite_url(path))


@dataclass(frozen=True, slots=True)
class BackupFile:
    path: Path
    made_at: datetime
    reason: str
    size: int


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    problems: tuple[str, ...]
    sessions: int | None
    patients: int | None
    revision: str | None


def backup_folder(db_path: Path) -> Path:
    """Where the backups of ``db_path`` go unless the settings say otherwise."""
    return db_path.parent / "backups"


def parse_name(path: Path) -> BackupFile | None:
    found = NAME.match(path.name)
    if not found:
        return None
    made = datetime.strptime(found[1] + found[2], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return BackupFile(path, made, found[4], size)


def list_backups(folder: Path) -> list[BackupFile]:
    """Verified backups in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found = [b for p in folder.iterdir() if (b := parse_name(p)) is not None]
    return sorted(found, key=lambda b: (b.made_at, b.path.name), reverse=True)


def latest_backup(folder: Path) -> BackupFile | None:
    backups = list_backups(folder)
    return backups[0] if backups else None


def _fsync(path: Path, *, directory: bool = False) -> None:
    if directory and os.name == "nt":  # Windows cannot open a folder for fsync
        return
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_with_sidecars(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def verify(path: Path, factory: EngineFactory = default_factory) -> Verification:
    """Open a copy and check it: integrity, foreign keys, and what it holds."""
    if not path.exists():
        return Verification(False, (f"{path.name} does not exist",), None, None, None)
    engine = factory(path)
    try:
        with engine.connect() as conn:
            integrity = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            tables = set(sa.inspect(conn).get_table_names())
            sessions = patients = None
            revision = None
            if {"sessions", "patients"} <= tables:
                sessions = conn.exec_driver_sql("SELECT count(*) FROM sessions").scalar()
                patients = conn.exec_driver_sql("SELECT count(*) FROM patients").scalar()
            if "alembic_version" in tables:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version"
                                                ).scalar()
    except sa.exc.DatabaseError as exc:
        return Verification(False, (str(getattr(exc, "orig", exc)).splitlines()[0],),
                            None, None, None)
    finally:
        engine.dispose()
    problems = [] if integrity == ["ok"] else integrity[:10]
    if broken:
        problems.append(f"{len(broken)} broken reference(s) between tables")
    if sessions is None:
        problems.append("it is not a kapp database")
    return Verification(not problems, tuple(problems), sessions, patients, revision)


def _driver_connection(engine: Engine) -> tuple[Any, Any]:
    raw = engine.raw_connection()
    return raw, raw.driver_connection


def copy_database(source: Engine, destination: Path,
                  factory: EngineFactory = default_factory) -> None:
    """Copy a live database into ``destination`` (which must not exist) with the online
    backup API: consistent even while other connections write."""
    target_engine = factory(destination)
    try:
        src_raw, src = _driver_connection(source)
        try:
            dst_raw, dst = _driver_connection(target_engine)
            try:
                src.backup(dst)
            finally:
                dst_raw.close()
        finally:
            src_raw.close()
    finally:
        target_engine.dispose()  # the last connection closes: the -wal is folded in


def create_backup(source: Engine, folder: Path, *, reason: str = "manual",
                  now: datetime | None = None,
                  factory: EngineFactory = default_factory) -> BackupFile:
    """Make, verify and atomically publish one backup of ``source``; returns it.

    Raises ``BackupFailed`` when the copy does not verify (nothing is published then).
    """
    if reason not in ("auto", "close", "manual", "pre-restore"):
        raise ValueError(f"unknown backup reason {reason!r}")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    final = folder / f"kapp-{stamp}-{reason}.db"
    n = 1
    while final.exists():
        n += 1
        final = folder / f"kapp-{stamp}-{n}-{reason}.db"
    temporary = folder / f".{final.name}.partial"
    _remove_with_sidecars(temporary)
    try:
        copy_database(source, temporary, factory)
        _fsync(temporary)
        check = verify(temporary, factory)
        if not check.ok:
            raise BackupFailed("The backup copy did not verify: " + "; ".join(check.problems))
        os.replace(temporary, final)
        _fsync(folder, directory=True)
    finally:
        _remove_with_sidecars(temporary)
    made = parse_name(final)
    assert made is not None
    return made


class BackupFailed(Exception):
    pass


def to_rotate_away(backups: list[BackupFile], *, daily: int, weekly: int,
                   monthly: int) -> list[BackupFile]:
    """The rotated backups (auto, close) that the rotation no longer keeps: it keeps the
    newest backup of each of the last ``daily`` days, ``weekly`` ISO weeks and
    ``monthly`` months that have backups."""
    rotated = sorted((b for b in backups if b.reason in ROTATED),
                     key=lambda b: b.made_at, reverse=True)
    keep: set[Path] = set()
    for count, bucket in ((daily, lambda d: d.date()),
                          (weekly, lambda d: d.isocalendar()[:2]),
                          (monthly, lambda d: (d.year, d.month))):
        seen: list[object] = []
        for backup in rotated:
            key = bucket(backup.made_at)
            if key in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(key)
            keep.add(backup.path)
    return [b for b in rotated if b.path not in keep]


def rotate(folder: Path, *, daily: int, weekly: int, monthly: int) -> list[Path]:
    removed = []
    for backup in to_rotate_away(list_backups(folder), daily=daily, weekly=weekly,
                                 monthly=monthly):
        backup.path.unlink(missing_ok=True)
        removed.append(backup.path)
    return removed


def replace_database(db_path: Path, backup: Path) -> None:
    """Put ``backup`` in place of the (closed) database file ``db_path``: copied to a
    temporary name beside it, fsynced, then renamed over it, the stale -wal and -shm
    removed first so that they cannot be replayed onto the restored file."""
    temporary = db_path.with_name(f".{db_path.name}.restoring")
    shutil.copyfile(backup, temporary)
    _fsync(temporary)
    for suffix in ("-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
    os.replace(temporary, db_path)
    _fsync(db_path.parent, directory=True)


def keep_aside(db_path: Path, label: str, now: datetime | None = None) -> Path:
    """Move a (closed, possibly damaged) database file and its -wal/-shm aside, unchanged."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    aside = db_path.with_name(f"{db_path.name}.{label}-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = db_path.with_name(f"{db_path.name}.{label}-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        source = db_path.with_name(db_path.name + suffix)
        if source.exists():
            os.replace(source, aside.with_name(aside.name + suffix))
    return aside


def database_file(engine: Engine) -> Path | None:
    return sqlite_path(engine)
