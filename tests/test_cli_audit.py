"""``kapp audit verify``: intact trails pass; a row edited, removed or inserted by hand
(after dropping the append-only triggers, as an attacker with the file would) is named."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from kapp.domain.enums import Role
from kapp.services import vault
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.storage.audit import entry_hash
from kapp.storage.engine import sqlcipher_module
from kapp.storage.keyfile import KdfParams
from kapp.storage.models import AuditEntry

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


def kapp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KAPP_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "kapp", *args], capture_output=True,
                          text=True, timeout=300, env=full_env, stdin=subprocess.DEVNULL)


def _fill(services: Services, staff: Any) -> None:
    for number in range(1, 4):
        form = PatientForm(mrn=f"T-{number:04d}", given_name="Testa", family_name=f"Person{number}",
                           date_of_birth=date(1980, 1, number), sex="female", indication="trd")
        services.patients.create(actor=staff.nurse, form=form)


@pytest.fixture
def trail(db_path: Path, services: Services, staff: Any) -> Path:
    """A plain database with a dozen audit entries (accounts, patients), closed."""
    _fill(services, staff)
    services.db.dispose()
    return db_path


def _raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER trg_audit_log_no_update")
    conn.execute("DROP TRIGGER trg_audit_log_no_delete")
    return conn


def _entry(conn: Any, seq: int) -> tuple[str, str]:
    at, action = conn.execute("SELECT at, action FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    return at[:19], action  # "2026-03-02 09:00:00", the action


def _broken(result: subprocess.CompletedProcess[str]) -> tuple[int, str, str, str]:
    assert result.returncode == 1, result.stdout + result.stderr
    found = re.search(r"BROKEN at entry (\d+) \((\S+ \S+) UTC, ([\w.]+)\): (.+)\.",
                      result.stdout)
    assert found, result.stdout
    return int(found[1]), found[2], found[3], found[4]


def test_an_intact_trail_passes(trail: Path) -> None:
    result = kapp("audit", "verify", "--db", str(trail))
    assert result.returncode == 0, result.stdout + result.stderr
    count = sqlite3.connect(trail).execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert f"intact: all {count} entries" in result.stdout


def test_an_edited_row_is_named(trail: Path) -> None:
    conn = _raw(trail)
    at, action = _entry(conn, 5)
    conn.execute("UPDATE audit_log SET new_values = json_set(new_values, '$.mrn', 'T-9999') "
                 "WHERE seq = 5")
    conn.close()
    seq, when, named_action, problem = _broken(kapp("audit", "verify", "--db", str(trail)))
    assert (seq, when, named_action) == (5, at, action)
    assert problem == "entry 5 was changed after it was written"


def test_an_edited_time_is_named(trail: Path) -> None:
    conn = _raw(trail)
    conn.execute("UPDATE audit_log SET at = '2025-01-01 00:00:00.000000' WHERE seq = 7")
    conn.close()
    seq, when, _action, problem = _broken(kapp("audit", "verify", "--db", str(trail)))
    assert (seq, when) == (7, "2025-01-01 00:00:00")
    assert "changed after it was written" in problem


def test_a_deleted_row_is_named(trail: Path) -> None:
    conn = _raw(trail)
    at, action = _entry(conn, 6)  # the entry that now follows the gap
    conn.execute("DELETE FROM audit_log WHERE seq = 5")
    conn.close()
    seq, when, named_action, problem = _broken(kapp("audit", "verify", "--db", str(trail)))
    assert (seq, when, named_action) == (5, at, action)
    assert problem == "entry 5 is missing (next entry found is 6)"


def test_a_deleted_row_with_the_gap_renumbered_is_named(trail: Path) -> None:
    conn = _raw(trail)
    conn.execute("DELETE FROM audit_log WHERE seq = 4")
    conn.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 4")  # close the gap
    conn.close()
    seq, _when, _action, problem = _broken(kapp("audit", "verify", "--db", str(trail)))
    assert seq == 4 and problem == "entry 4 does not link to entry 3"


def test_a_row_inserted_by_hand_is_named(trail: Path) -> None:
    conn = _raw(trail)
    last = conn.execute("SELECT max(seq), (SELECT entry_hash FROM audit_log ORDER BY seq DESC "
                        "LIMIT 1) FROM audit_log").fetchone()
    conn.execute(
        "INSERT INTO audit_log (id, seq, at, user_id, action, entity, entity_id, patient_id, "
        "session_id, old_values, new_values, reason, origin, prev_hash, entry_hash) "
        "SELECT ?, ?, at, user_id, 'patient.update', entity, entity_id, patient_id, "
        "session_id, old_values, new_values, 'tidied up', origin, ?, ? "
        "FROM audit_log WHERE seq = 3",
        (uuid.uuid4().hex, last[0] + 1, last[1], "ab" * 32))
    conn.close()
    seq, _when, action, problem = _broken(kapp("audit", "verify", "--db", str(trail)))
    assert (seq, action) == (last[0] + 1, "patient.update")
    assert problem == f"entry {seq} was changed after it was written"


def test_a_forged_row_with_a_correct_hash_inserted_in_the_middle_is_named(trail: Path) -> None:
    """Someone who knows the hashing makes a valid-looking entry 4 and renumbers the rest:
    the old entry 4 (now 5) no longer links to what precedes it."""
    conn = _raw(trail)
    prev = conn.execute("SELECT entry_hash FROM audit_log WHERE seq = 3").fetchone()[0]
    top = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    for seq in range(top, 3, -1):  # one by one from the top: seq is unique
        conn.execute("UPDATE audit_log SET seq = seq + 1 WHERE seq = ?", (seq,))
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    forged = AuditEntry(seq=4, at=at, user_id=None, action="patient.update",
                        entity="patients", entity_id=None, patient_id=None, session_id=None,
                        old_values=None, new_values={"note": "backdated"}, reason=None,
                        origin="x", prev_hash=prev)
    conn.execute(
        "INSERT INTO audit_log (id, seq, at, action, entity, new_values, origin, prev_hash, "
        "entry_hash) VALUES (?, 4, '2026-03-02 09:00:00.000000', 'patient.update', "
        "'patients', '{\"note\": \"backdated\"}', 'x', ?, ?)",
        (uuid.uuid4().hex, prev, entry_hash(forged, prev)))
    conn.close()
    seq, _when, _action, problem = _broken(kapp("audit", "verify", "--db", str(trail)))
    assert seq == 5 and problem == "entry 5 does not link to entry 4"


def test_verify_names_a_missing_database(tmp_path: Path) -> None:
    result = kapp("audit", "verify", "--db", str(tmp_path / "none.db"))
    assert result.returncode == 2 and "no database" in result.stderr


# -- encrypted ----------------------------------------------------------------------------
@pytest.fixture
def encrypted(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "enc.db"
    made = vault.create_clinic(path, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    services.protocol.ensure_defaults()
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    nurse = services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                                       role=Role.NURSE, password="nurse-pass-1")
    made.keyring.enrol("admin", "admin-pass-1")
    _fill(services, type("Staff", (), {"nurse": nurse}))
    made.database.dispose()
    return path, made.keyring.data_key


def _tamper_encrypted(path: Path, key: bytes, change: Callable[[Any], None]) -> None:
    conn = sqlcipher_module().connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DROP TRIGGER trg_audit_log_no_update")
    change(conn)
    conn.close()


def test_an_encrypted_trail_needs_an_account_and_detects_an_edit(
        encrypted: tuple[Path, bytes]) -> None:
    path, key = encrypted
    no_user = kapp("audit", "verify", "--db", str(path))
    assert no_user.returncode == 2 and "--user NAME" in no_user.stderr
    wrong = kapp("audit", "verify", "--db", str(path), "--user", "admin",
                 env={"KAPP_PASSWORD": "guess"})
    assert wrong.returncode == 2 and "user name or password is not right" in wrong.stderr
    assert "Traceback" not in wrong.stderr and "hmac" not in wrong.stderr
    good = kapp("audit", "verify", "--db", str(path), "--user", "admin",
                env={"KAPP_PASSWORD": "admin-pass-1"})
    assert good.returncode == 0 and "intact" in good.stdout
    _tamper_encrypted(path, key, lambda c: c.execute(
        "UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 2"))
    seq, _when, _action, problem = _broken(kapp(
        "audit", "verify", "--db", str(path), "--user", "admin",
        env={"KAPP_PASSWORD": "admin-pass-1"}))
    assert seq == 2 and "changed after it was written" in problem
