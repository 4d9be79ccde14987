"""kapp report session|progress|rems and kapp export csv, with their errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kapp.cli import main

from .helpers import pdf_text

UNKNOWN = "3f2b8c1e-0a4d-4c7e-9b1a-2d5e6f708192"


@pytest.fixture
def done(services, staff, planned, whole_session, db_path):
    whole_session(planned)
    return planned


def test_report_session(done, db_path, tmp_path, capsys) -> None:
    out = tmp_path / "s.pdf"
    assert main(["report", "session", "--db", str(db_path), "--session", str(done.id),
                 "--out", str(out)]) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    assert "LOT-42" in pdf_text(out)[0]


def test_report_rems(done, db_path, tmp_path) -> None:
    out = tmp_path / "r.pdf"
    assert main(["report", "rems", "--db", str(db_path), "--session", str(done.id),
                 "--out", str(out)]) == 0
    assert "128/82 mmHg" in pdf_text(out)[0]


def test_report_progress(done, db_path, tmp_path) -> None:
    out = tmp_path / "p.pdf"
    assert main(["report", "progress", "--db", str(db_path), "--patient", "T-0001",
                 "--out", str(out)]) == 0
    assert "Progress report: TESTPERSON, Alex" in pdf_text(out)[0]


def test_export_csv_one_patient_and_clinic(done, db_path, tmp_path, capsys) -> None:
    assert main(["export", "csv", "--db", str(db_path), "--out", str(tmp_path / "one"),
                 "--patient", "T-0001"]) == 0
    assert "vitals.csv: 3 rows" in capsys.readouterr().out
    assert main(["export", "csv", "--db", str(db_path), "--out", str(tmp_path / "all")]) == 0
    assert (tmp_path / "all" / "sessions.csv").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["report", "session", "--session", UNKNOWN], f"no session with id {UNKNOWN}"),
    (["report", "rems", "--session", "42"], "--session must be a session id"),
    (["report", "progress", "--patient", "T-9999"], "no patient with MRN 'T-9999'"),
    (["export", "csv", "--patient", "T-9999"], "no patient with MRN 'T-9999'"),
])
def test_clear_errors(done, db_path, tmp_path, capsys, args, message) -> None:
    out = tmp_path / ("x.pdf" if args[0] == "report" else "dir")
    assert main([*args, "--db", str(db_path), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_database_and_bad_out(tmp_path, capsys) -> None:
    assert main(["report", "progress", "--db", str(tmp_path / "none.db"), "--patient", "X",
                 "--out", str(tmp_path / "p.pdf")]) == 2
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()  # a report never creates a database
    assert main(["report", "progress", "--db", str(tmp_path / "none.db"), "--patient", "X",
                 "--out", str(tmp_path / "p.txt")]) == 2
    assert "--out must name a .pdf file" in capsys.readouterr().err


def test_runs_headless_as_a_command(done, db_path, tmp_path) -> None:
    """A real process without a display and without importing Qt."""
    out = tmp_path / "s.pdf"
    code = ("import sys; from kapp.__main__ import main; rc = main(sys.argv[1:]); "
            "assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)")
    result = subprocess.run(
        [sys.executable, "-c", code, "report", "session", "--db", str(db_path),
         "--session", str(done.id), "--out", str(out)],
        capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert out.is_file()


# -- who made which report: the audit trail ---------------------------------------------------
def _report_entries(db_path) -> list[tuple[str, str | None, str | None, str]]:
    import json
    import sqlite3

    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT action, user_id, patient_id, new_values FROM audit_log "
                            "WHERE action LIKE 'report.%' ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(a, u, p, json.loads(n)["destination"]) for a, u, p, n in rows]


def test_each_report_is_written_to_the_audit_trail_with_its_maker(
        done, staff, db_path, tmp_path) -> None:
    out = tmp_path / "s.pdf"
    assert main(["report", "session", "--db", str(db_path), "--session", str(done.id),
                 "--user", staff.nurse.username, "--out", str(out)]) == 0
    assert main(["report", "progress", "--db", str(db_path), "--patient", "T-0001",
                 "--out", str(tmp_path / "p.pdf")]) == 0
    (session_entry, progress_entry) = _report_entries(db_path)
    assert session_entry[0] == "report.session" and session_entry[3] == str(out)
    assert session_entry[1] is not None  # the nurse named by --user
    assert progress_entry[0] == "report.progress" and progress_entry[1] is None
    assert session_entry[2] == progress_entry[2] is not None  # both name the patient


def test_an_unknown_user_is_refused(done, db_path, tmp_path, capsys) -> None:
    assert main(["report", "progress", "--db", str(db_path), "--patient", "T-0001",
                 "--user", "nobody", "--out", str(tmp_path / "p.pdf")]) == 2
    assert "no kapp user 'nobody'" in capsys.readouterr().err


def test_reports_and_exports_open_an_encrypted_clinic(tmp_path, monkeypatch, capsys) -> None:
    from datetime import date

    from kapp.domain.enums import Role
    from kapp.services import vault
    from kapp.services.facade import Services
    from kapp.services.patients import PatientForm
    from kapp.storage.keyfile import KdfParams

    path = tmp_path / "enc.db"
    made = vault.create_clinic(path, kdf=KdfParams(time_cost=1, memory_cost=1024,
                                                   parallelism=1))
    services = Services.for_database(made.database, made.keyring)
    services.protocol.ensure_defaults()
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    nurse = services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                                       role=Role.NURSE, password="nurse-pass-1")
    made.keyring.enrol("nurse1", "nurse-pass-1")
    services.patients.create(actor=nurse, form=PatientForm(
        mrn="T-0009", given_name="Enca", family_name="Testperson",
        date_of_birth=date(1979, 3, 4), sex="male", indication="trd"))
    made.database.dispose()

    no_user = ["report", "progress", "--db", str(path), "--patient", "T-0009",
               "--out", str(tmp_path / "p.pdf")]
    assert main(no_user) == 2
    assert "--user NAME" in capsys.readouterr().err  # not "damaged"
    monkeypatch.setenv("KAPP_PASSWORD", "nurse-pass-1")
    assert main([*no_user, "--user", "nurse1"]) == 0
    assert "Progress report: TESTPERSON, Enca" in pdf_text(tmp_path / "p.pdf")[0]
    assert main(["export", "csv", "--db", str(path), "--user", "nurse1",
                 "--out", str(tmp_path / "csv")]) == 0
    assert (tmp_path / "csv" / "patients.csv").read_text().count("T-0009") == 1
