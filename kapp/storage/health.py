"""Start-up checks of a SQLite database file: is it whole, and is its -wal its own?

Two checks, both cheap enough for every start-up:

- before SQLite touches the file: when the shared-memory index (``-shm``) left by a
  crashed kapp says the write-ahead log holds committed pages, the ``-wal`` must exist
  and carry the same salts. A missing ``-wal`` (deleted, or the database copied without
  it) or one from another copy of the database would otherwise be ignored or replayed
  silently: the latest entries lost, or pages of another file mixed in.
- after opening: ``PRAGMA quick_check`` finds flipped bytes and a truncated file.

A failure raises ``DatabaseDamaged`` (never a traceback) naming the latest verified
backup, so the user can be offered the restore.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kapp.domain.errors import DatabaseDamaged

WAL_MAGIC = (0x377F0682, 0x377F0683)
WAL_HEADER = 32
FRAME_HEADER = 24
SHM_HEADER = 48  # one copy of the wal-index header; a second copy follows


def _shm_header(shm: bytes) -> tuple[int, int, bytes] | None:
    """(page size, frames in the log, salts) from a valid, initialised wal-index."""
    if len(shm) < 2 * SHM_HEADER:
        return None
    first, second = shm[:SHM_HEADER], shm[SHM_HEADER:2 * SHM_HEADER]
    if first != second:  # a header being written: not trustworthy
        return None
    for order in ("<", ">"):  # the index is in the writing machine's byte order
        version, = struct.unpack_from(order + "I", first, 0)
        if version == 3007000:
            is_init = first[12]
            page_size, = struct.unpack_from(order + "H", first, 14)
            frames, = struct.unpack_from(order + "I", first, 16)
            if not is_init:
                return None
            page_size = 65536 if page_size == 1 else page_size
            return page_size, frames, first[32:40]
    return None


def wal_problem(db_path: Path) -> str | None:
    """What is wrong with the -wal beside ``db_path`` (None when nothing is)."""
    shm_path = db_path.with_name(db_path.name + "-shm")
    wal_path = db_path.with_name(db_path.name + "-wal")
    for attempt in range(3):  # a live writer may be between two steps: look again
        try:
            header = _shm_header(shm_path.read_bytes()[:2 * SHM_HEADER])
        except OSError:
            return None
        if header is None or header[1] == 0:
            return None
        page_size, frames, salts = header
        try:
            with wal_path.open("rb") as f:
                wal_head = f.read(WAL_HEADER)
            wal_size = wal_path.stat().st_size
        except FileNotFoundError:
            problem = (f"the file {wal_path.name}, which holds the latest saved entries, is "
                       "missing (it may have been deleted, or the database copied without it)")
        else:
            magic = struct.unpack_from(">I", wal_head, 0)[0] if len(wal_head) == 32 else 0
            needed = WAL_HEADER + frames * (FRAME_HEADER + page_size)
            if magic not in WAL_MAGIC or wal_head[16:24] != salts:
                problem = (f"the file {wal_path.name} beside the database does not belong to "
                           "it (it comes from another copy of the database)")
            elif wal_size < needed:
                problem = (f"the file {wal_path.name}, which holds the latest saved entries, "
                           "has been cut short")
            else:
                return None
        if attempt < 2:
            time.sleep(0.05)
    return problem


def quick_check(engine: Engine) -> list[str]:
    """``PRAGMA quick_check``'s findings (["ok"] when whole); a file SQLite cannot read
    at all gives the driver's message."""
    try:
        with engine.connect() as conn:
            return [str(r[0]) for r in conn.exec_driver_sql("PRAGMA quick_check")]
    except sa.exc.DatabaseError as exc:
        return [str(getattr(exc, "orig", exc)).splitlines()[0]]


def damaged(db_path: Path, problems: list[str], latest_backup: Path | None) -> DatabaseDamaged:
    what = "; ".join(problems[:3])
    if latest_backup is not None:
        offer = (f"The latest verified backup is {latest_backup.name} (in {latest_backup.parent})."
                 " kapp can restore it; the damaged file is kept aside, not deleted. Entries "
                 "made after that backup will have to be entered again from paper.")
    else:
        offer = ("No verified backup of it was found. Ask IT for a copy from the clinic's "
                 "backups; the damaged file is left untouched.")
    return DatabaseDamaged(
        f"The database {db_path.name} is damaged and kapp will not use it as it is "
        f"({what}). {offer}",
        path=str(db_path), latest_backup=str(latest_backup) if latest_backup else None,
        problems=tuple(problems))
