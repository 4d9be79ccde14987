"""No patient data in logs, crash reports or error messages (synthetic patient only)."""

from __future__ import annotations

import logging
import sys

import pytest
import sqlalchemy as sa

from kapp.domain.errors import KappError
from kapp.storage import models as m

# The fixture patient: Alex Testperson, T-0001, born 1980-05-17.
PATIENT_WORDS = ("Testperson", "T-0001", "1980-05-17", "17/05/1980", "05/17/1980",
                 "drifting on warm water")


def _leaks(text: str) -> list[str]:
    return [w for w in PATIENT_WORDS if w.lower() in text.lower()]


def test_a_whole_session_logged_at_debug_names_no_patient(services, staff, planned,
                                                         whole_session, caplog, db):
    root = logging.getLogger()
    old_level = root.level
    caplog.set_level(logging.DEBUG)  # everything, SQLAlchemy's engine log included
    root.setLevel(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        whole_session(planned)
        services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                               password=staff.password(staff.prescriber))
        services.patients.search("Testperson")
        services.records.add_addendum(actor=staff.nurse, session_id=planned.id,
                                      text="Phoned Alex Testperson", password="wrong pass!!")
    except KappError:
        pass
    finally:
        root.setLevel(old_level)
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) > 50  # the engine really logged its statements
    assert _leaks(logged) == []


def test_a_database_error_does_not_quote_the_patient(services, staff, patient, db):
    with pytest.raises(sa.exc.IntegrityError) as caught, db.unit_of_work() as uow:
        uow.session.add(m.Patient(id=patient.id, mrn="T-0001", given_name="Alex",
                                  family_name="Testperson"))
    assert _leaks(str(caught.value)) == []


def test_the_crash_hook_logs_where_not_what(caplog, monkeypatch):
    from kapp.ui import crash

    shown: list[str] = []
    monkeypatch.setattr(crash, "user_message", lambda exc: shown.append("x") or "x")
    # When an application exists (the GUI tests ran first) the hook shows a modal box.
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: None))
    previous = sys.excepthook
    crash.install_excepthook()
    try:
        try:
            raise ValueError("Alex Testperson T-0001 born 1980-05-17")
        except ValueError:
            with caplog.at_level(logging.ERROR, logger="kapp.crash"):
                sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "builtins.ValueError" in text and "test_the_crash_hook_logs_where_not_what" in text
    assert _leaks(text) == []
    assert _leaks(crash.user_message(ValueError("Alex Testperson"))) == []
