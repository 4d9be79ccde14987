"""Durability: a recording process killed at random moments loses nothing it acknowledged."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kapp.devtools.crash import check_database, stress

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
              pytest.mark.sqlite_only]  # killed writers and the SQLite WAL


def test_a_few_dozen_crash_rounds_lose_no_acknowledged_entry(tmp_path: Path) -> None:
    # A fresh interpreter without Qt loaded, which forks the children it kills.
    done = subprocess.run(
        [sys.executable, "-m", "kapp.devtools.crash", "stress", "--rounds", "30",
         "--max-life", "0.4", "--seed", "7", "--json", "--db", str(tmp_path / "crash.db")],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout)
    assert figures["rounds"] == 30
    assert figures["lost"] == 0
    assert figures["problems"] == []
    assert figures["acknowledged"] > 0  # the children did get to record
    assert figures["rows"]["patients"] > 0


def test_a_spawned_child_killed_mid_work_loses_nothing(tmp_path: Path) -> None:
    figures = stress(tmp_path / "spawn.db", 2, seed=3, spawn=True, max_life=0.5)
    assert figures.lost == 0 and figures.problems == []


def test_the_check_notices_a_lost_entry_and_a_half_written_save(tmp_path: Path) -> None:
    """The harness is only worth its figures if it can see a loss."""
    db_path = tmp_path / "check.db"
    figures = stress(db_path, 1, seed=5, max_life=0.3)
    assert figures.lost == 0
    ghost = str(uuid.uuid4())
    lost, problems, _ = check_database(db_path, [("vitals", ghost)])
    assert lost == [f"vitals {ghost}"] and problems == []

    import sqlite3
    with sqlite3.connect(db_path) as conn:  # a reading written without its audit entry
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("insert into vitals_readings (id, session_id, taken_at, source, predose, "
                      "entered_at, entered_by_id, origin) values (?, ?, '2026-01-01 00:00:00', "
                      "'manual', 0, '2026-01-01 00:00:00', ?, 'x')",
                      (uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex))
    _, problems, _ = check_database(db_path, [])
    assert any("without their audit entry" in p for p in problems)
