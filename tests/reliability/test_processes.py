"""Several kapp processes writing to one database file."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from kapp.devtools.concurrency import counter, read_then_write
from kapp.storage import audit
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url

pytestmark = pytest.mark.sqlite_only  # two processes on one SQLite file

PROCESSES, TRANSACTIONS = 3, 300


def test_three_processes_of_read_then_write_lose_nothing(db_path: Path) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate apps
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(read_then_write, [(str(db_path), TRANSACTIONS)] * PROCESSES)
    assert sum(r["locked"] for r in results) == 0, results
    assert sum(r["other"] for r in results) == 0, results
    assert sum(r["done"] for r in results) == PROCESSES * TRANSACTIONS
    assert counter(db_path) == PROCESSES * TRANSACTIONS  # 0 lost writes
    opened = open_database(sqlite_url(db_path))
    with opened.database.reading() as s:
        steps = list(audit.verify_chain(s))
    opened.database.dispose()
    assert not any(isinstance(x, audit.ChainBreak) for x in steps)
    assert steps[-1] >= PROCESSES * TRANSACTIONS
