"""Migrations keep data: a committed database of each schema revision, upgraded to head."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from kapp.storage import audit
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url
from kapp.storage.migrate import head_revision

pytestmark = pytest.mark.sqlite_only  # SQLite fixture files of each revision

FIXTURES = Path(__file__).parent.parent / "fixtures"
TABLES = ("users", "patients", "courses", "sessions", "infusion_events", "vitals_readings",
          "alerts", "side_effects", "interventions", "dissociation_reports",
          "instrument_responses", "notes", "audit_log", "protocol_settings")


def _snapshot(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        counts = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
        values = {
            "patients": conn.execute("select mrn, given_name, family_name, date_of_birth "
                                     "from patients order by mrn").fetchall(),
            "vitals": conn.execute("select id, taken_at, hr, systolic, diastolic from "
                                   "vitals_readings order by id limit 50").fetchall(),
            "sessions": conn.execute("select id, status, dose_mg, signed_at from sessions "
                                     "order by id").fetchall(),
            "audit_tail": conn.execute("select seq, entry_hash from audit_log order by seq "
                                       "desc limit 5").fetchall(),
        }
    return {"counts": counts, **values}


@pytest.mark.parametrize(("fixture", "revision", "at_least"), [
    ("kapp-rev0001.db", "0001", {"patients": 2, "vitals_readings": 2}),
    ("kapp-rev0002.db", "0002", {"patients": 6, "sessions": 100, "vitals_readings": 900,
                                 "alerts": 20, "instrument_responses": 200}),
    ("kapp-rev0003.db", "0003_security", {"patients": 6, "sessions": 100}),
    ("kapp-rev0004.db", "0004_drafts", {"patients": 6, "sessions": 100}),
    ("kapp-rev0005.db", "0005_search", {"patients": 6, "sessions": 100}),
    ("kapp-rev0006.db", "0006_vitals_values", {"patients": 6, "sessions": 100}),
    ("kapp-rev0007.db", "0007_nasal_devices", {"patients": 6, "sessions": 100}),
])
def test_each_revision_upgrades_to_head_keeping_its_data(tmp_path: Path, fixture: str,
                                                         revision: str,
                                                         at_least: dict[str, int]) -> None:
    path = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == revision
    before = _snapshot(path)
    for table, n in at_least.items():
        assert before["counts"][table] >= n, table  # type: ignore[index]

    opened = open_database(sqlite_url(path))
    try:
        assert opened.upgrade.from_revision == revision
        assert opened.upgrade.to_revision == head_revision()
        with opened.database.reading() as s:
            steps = list(audit.verify_chain(s))
        assert not any(isinstance(x, audit.ChainBreak) for x in steps)
    finally:
        opened.database.dispose()
    assert _snapshot(path) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("pragma foreign_key_check").fetchall() == []
        assert conn.execute("select count(*) from drafts").fetchone()[0] == 0
        assert conn.execute("select count(*) from nasal_devices").fetchone()[0] == 0
        assert conn.execute("select count(*) from sign_in_names").fetchone()[0] == 0
        triggers = {r[0] for r in conn.execute(
            "select name from sqlite_master where type = 'trigger'")}
        indexes = {r[0] for r in conn.execute(
            "select name from sqlite_master where type = 'index'")}
    assert {"trg_audit_log_no_update", "trg_vitals_readings_no_delete",
            "trg_nasal_devices_no_delete"} <= triggers
    assert {"ix_sessions_patient_status_start", "ix_patients_name_search"} <= indexes


def test_there_is_a_fixture_for_every_revision_but_the_newest() -> None:
    from alembic.script import ScriptDirectory

    from kapp.storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    revisions = [r.revision for r in script.walk_revisions()]
    missing = [r for r in revisions if r != head_revision()
               and not (FIXTURES / f"kapp-rev{r.split('_')[0]}.db").exists()]
    assert missing == []
