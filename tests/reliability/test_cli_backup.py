"""``kapp backup create|list|verify|restore``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kapp.cli import main

pytestmark = pytest.mark.sqlite_only  # backups copy the SQLite file


def _sessions(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("select count(*) from sessions").fetchone()[0]


def test_create_list_verify_restore(planned, db, db_path: Path, capsys) -> None:
    db.dispose()
    assert main(["backup", "list", "--db", str(db_path)]) == 0
    assert "No backups yet" in capsys.readouterr().out
    assert main(["backup", "create", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "Backup made and verified" in out
    made = Path(out.split(": ", 1)[1].strip())
    assert main(["backup", "list", "--db", str(db_path)]) == 0
    assert made.name in capsys.readouterr().out
    assert main(["backup", "verify", "--db", str(db_path)]) == 0
    assert "ok (1 patients, 1 sessions)" in capsys.readouterr().out
    assert main(["backup", "restore", "--db", str(db_path), str(made)]) == 1  # no terminal
    assert "Nothing changed" in capsys.readouterr().out
    assert main(["backup", "restore", "--yes", "--db", str(db_path), str(made)]) == 0
    out = capsys.readouterr().out
    assert "holds 1 sessions; the backup" in out and "kept in" in out


def test_a_nurse_may_not_make_a_backup(staff, db, db_path: Path, capsys) -> None:
    db.dispose()
    assert main(["backup", "create", "--user", "nurse1", "--db", str(db_path)]) == 2
    assert "may not manage backups" in capsys.readouterr().err


def test_restore_when_the_database_is_too_damaged_to_open(planned, db, db_path: Path,
                                                          capsys) -> None:
    db.dispose()
    assert main(["backup", "create", "--db", str(db_path)]) == 0
    made = Path(capsys.readouterr().out.split(": ", 1)[1].strip())
    data = bytearray(db_path.read_bytes())
    data[0:16] = b"garbage garbage!"
    db_path.write_bytes(bytes(data))
    assert main(["backup", "list", "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "kapp backup restore" in err and "Traceback" not in err
    assert main(["backup", "restore", "--yes", "--db", str(db_path), str(made)]) == 0
    assert "The damaged file is kept" in capsys.readouterr().out
    assert _sessions(db_path) == 1
