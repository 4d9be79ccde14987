"""Several kapp processes on one database file: a read-then-write worker for the test.

Each transaction reads a shared counter, then writes it back plus one, with its audit
entry: exactly the pattern that fails with "database is locked" under a deferred BEGIN
when another process committed in between (see shared/docs/reliability.md).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from kapp.domain.errors import StorageUnavailable
from kapp.storage import models as m
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url

COUNTER = "devtools_counter"


def read_then_write(db_path: str | Path, transactions: int) -> dict[str, int]:
    """Run ``transactions`` read-then-write transactions; count what went wrong."""
    opened = open_database(sqlite_url(db_path), migrate=False)
    db = opened.database
    done = locked = other = 0
    try:
        for _ in range(transactions):
            try:
                with db.unit_of_work() as uow:
                    row = uow.session.get(m.Meta, COUNTER)
                    value = int(row.value) if row is not None else 0
                    if row is None:
                        uow.session.add(m.Meta(key=COUNTER, value=str(value + 1)))
                    else:
                        row.value = str(value + 1)
                    uow.audit(user_id=None, action="devtools.count", entity="kapp_meta",
                              entity_id=COUNTER, old={"value": value}, new={"value": value + 1})
                done += 1
            except StorageUnavailable as exc:
                if exc.kind == "locked":
                    locked += 1
                else:
                    other += 1
            except sa.exc.DBAPIError:
                other += 1
    finally:
        db.dispose()
    return {"done": done, "locked": locked, "other": other}


def counter(db_path: str | Path) -> int:
    opened = open_database(sqlite_url(db_path), migrate=False)
    try:
        with opened.database.reading() as s:
            row = s.get(m.Meta, COUNTER)
            return int(row.value) if row is not None else 0
    finally:
        opened.database.dispose()
