"""Checks the reliability tests share: a digest of a database's whole content."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def content_digest(engine: Engine) -> str:
    """SHA-256 over every row of every table, in a stable order: equal digests mean the
    same content (whatever the pages look like)."""
    digest = hashlib.sha256()
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in sorted(inspector.get_table_names()):
            digest.update(f"[{table}]".encode())
            rows = conn.exec_driver_sql(f'SELECT * FROM "{table}"').fetchall()
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
                digest.update(b"\n")
    return digest.hexdigest()
