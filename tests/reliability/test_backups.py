"""Backups: consistent while in use, verified, rotated, restored with a copy kept first."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kapp.domain.errors import PermissionDenied, ValidationError
from kapp.domain.vitals import VitalsInput
from kapp.services.backups import BackupError, BackupSettings, restore_damaged
from kapp.storage import backup as b
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url

pytestmark = pytest.mark.sqlite_only  # backups copy the SQLite file


def _sessions(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("select count(*) from sessions").fetchone()[0]


def test_a_backup_while_in_use_is_verified_and_complete(services, staff, planned, db_path):
    # An entry still in the -wal (not checkpointed) must be in the backup.
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                   values=VitalsInput(hr=70, systolic=120, diastolic=80))
    made = services.backups.create(actor=staff.admin)
    assert made.reason == "manual" and made.path.parent == db_path.parent / "backups"
    assert not list(made.path.parent.glob(".*partial*"))  # no temporary file left
    with sqlite3.connect(made.path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select count(*) from vitals_readings").fetchone()[0] == 1
    check = services.backups.verify(actor=staff.admin, path=made.path)
    assert check.ok and check.sessions == 1 and check.patients == 1
    assert [x.name for x in services.backups.list()] == [made.name]


def test_only_an_administrator_manages_backups(services, staff, db_path):
    with pytest.raises(PermissionDenied, match="manage backups"):
        services.backups.create(actor=staff.nurse)
    with pytest.raises(PermissionDenied):
        services.backups.restore(actor=staff.prescriber, path=db_path)
    with pytest.raises(PermissionDenied):
        services.backups.update_settings(actor=staff.nurse, settings=BackupSettings())
    assert services.backups.list() == []


def test_a_damaged_copy_is_never_published(services, staff, monkeypatch, db_path):
    def bad_verify(path, factory=b.default_factory):
        return b.Verification(False, ("simulated damage",), None, None, None)

    monkeypatch.setattr(b, "verify", bad_verify)
    with pytest.raises(BackupError, match="did not verify"):
        services.backups.create(actor=staff.admin)
    assert list((db_path.parent / "backups").iterdir()) == []


def test_verify_finds_a_damaged_backup(services, staff):
    made = services.backups.create(actor=staff.admin)
    data = bytearray(made.path.read_bytes())
    data[0:16] = b"not a database!!"
    made.path.write_bytes(bytes(data))
    check = services.backups.verify(actor=staff.admin, path=made.path)
    assert not check.ok and check.problems


def test_restore_keeps_a_copy_first_and_tells_the_session_counts(services, staff, course,
                                                                 planned, db_path):
    made = services.backups.create(actor=staff.admin)  # holds 1 session
    from kapp.services.sessions import DoseForm
    services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                   planned_start=planned.planned_start + timedelta(days=7),
                                   dose=DoseForm(route="iv", drug="ketamine", weight=80,
                                                 mg_per_kg=0.5, concentration_mg_per_ml=0.4,
                                                 duration_min=40))
    assert services.backups.session_count() == 2
    result = services.backups.restore(actor=staff.admin, path=made.path)
    assert (result.sessions_before, result.sessions_after) == (2, 1)
    assert services.backups.session_count() == 1  # the live database is the backup now
    assert _sessions(result.kept_copy) == 2  # and what it held is kept
    assert result.kept_copy.name.endswith("-pre-restore.db")
    # it still works, and the restore is in the audit trail
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                   values=VitalsInput(hr=70))
    with sqlite3.connect(db_path) as conn:
        actions = [r[0] for r in conn.execute("select action from audit_log order by seq")]
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert actions[-2:] == ["backup.restore", "vitals.record"]


def test_restore_refuses_a_file_that_is_not_a_backup(services, staff, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"x" * 4096)
    with pytest.raises(BackupError, match="not a usable backup"):
        services.backups.restore(actor=staff.admin, path=junk)


def test_settings_are_validated_and_kept(services, staff):
    assert services.backups.settings() == BackupSettings(daily=7, weekly=4, monthly=12)
    with pytest.raises(ValidationError) as caught:
        services.backups.update_settings(actor=staff.admin, settings=BackupSettings(
            daily=-1, weekly=True, monthly=10**9, folder="relative/path"))  # type: ignore[arg-type]
    assert {e.field for e in caught.value.errors} == {"daily", "weekly", "monthly", "folder"}
    new = BackupSettings(daily=3, weekly=2, monthly=6, on_close=False, every_day=True)
    services.backups.update_settings(actor=staff.admin, settings=new)
    assert services.backups.settings() == new
    assert services.backups.automatic("close") is None  # switched off


def test_automatic_backups_rotate(services, clock):
    made = []
    for _day in range(12):
        made.append(services.backups.automatic("auto"))
        clock.advance(days=1)
    assert all(made)
    kept = services.backups.list()
    # 12 days (2-13 March) in two ISO weeks of one month: the newest 7 days are kept,
    # and they already hold the newest of each week and of the month.
    assert len(kept) == 7
    assert [x.made_at.day for x in kept] == [13, 12, 11, 10, 9, 8, 7]


def test_rotation_keeps_daily_weekly_monthly():
    start = datetime(2026, 1, 1, 20, 0, tzinfo=UTC)
    backups = [b.BackupFile(Path(f"/x/{i}"), start + timedelta(days=i), "auto", 1)
               for i in range(120)]
    backups.append(b.BackupFile(Path("/x/manual"), start, "manual", 1))
    gone = {x.path for x in b.to_rotate_away(backups, daily=7, weekly=4, monthly=12)}
    kept = [x for x in backups if x.path not in gone]
    assert Path("/x/manual") in {x.path for x in kept}  # manual backups are not rotated
    days = sorted({x.made_at.date() for x in kept if x.reason == "auto"})
    assert len(days) <= 7 + 4 + 12 and len(days) >= 7 + 3
    assert days[-7:] == [(start + timedelta(days=i)).date() for i in range(113, 120)]
    assert {(d.year, d.month) for d in days} >= {(2026, 1), (2026, 2), (2026, 3), (2026, 4)}


def test_restore_of_a_damaged_database_at_start_up(services, staff, db, db_path):
    made = services.backups.create(actor=staff.admin)
    db.dispose()
    with db_path.open("r+b") as f:
        f.truncate(db_path.stat().st_size // 2)
    aside, sessions = restore_damaged(db_path, made.path)
    assert aside.exists() and aside.stat().st_size < made.size  # the damaged file kept
    opened = open_database(sqlite_url(db_path))
    opened.database.dispose()
    assert sessions == 0


def test_close_backup_and_daily_due(services, clock):
    assert services.backups.daily_due()
    services.backups.automatic("close")
    assert not services.backups.daily_due()
    clock.advance(days=1)
    assert services.backups.daily_due()
