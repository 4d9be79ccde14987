"""The database server out of reach, as the nurse sees it: at start a calm message naming
the server; during a session the vitals form says the reading was NOT saved, keeps what
was typed, and the same Enter saves it once the server answers again (PostgreSQL part
under ``make test-postgres`` only)."""

from __future__ import annotations

import os
import socket

import pytest
from gui_helpers import VITALS_ORDER, shot, tab_through_vitals
from lost_server import killed_at
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kapp.cli import build_parser
from kapp.ui.app import build_main_window

pytestmark = pytest.mark.gui

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")


def test_starting_with_the_server_down_says_so_calmly(monkeypatch, capsys) -> None:
    pytest.importorskip("psycopg")
    from kapp import app

    with socket.socket() as s:  # a port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://kapp:s3cret-pw@127.0.0.1:{port}/kapp"
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr("kapp.ui.app.show_error", lambda t, m: errors.append((t, m)))
    assert app.run_app(build_parser().parse_args(["--database-url", url])) == 2
    ((title, message),) = errors
    assert title == "kapp cannot open the database"
    assert message.startswith(f"kapp cannot reach the clinic's database server at "
                              f"127.0.0.1:{port} (it refused the connection")
    assert "ask IT" in message and "open kapp again" in message
    said = message + capsys.readouterr().err
    assert "s3cret-pw" not in said and "Traceback" not in said and "damaged" not in said


@pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set")
def test_a_lost_server_keeps_the_vitals_as_typed_and_enter_saves_them_later(
        qtbot, services, staff, planned, db) -> None:
    window = build_main_window(services, "kapp on db.clinic", user=staff.nurse)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.open_session(planned.id)
    screen = window.session_screens[planned.id]
    entry = screen.vitals_entry
    typed = ["72", "128", "82", "98", "14"]
    rhythm = tab_through_vitals(qtbot, entry, typed)

    with killed_at(db, "begin") as killed:  # the server ends kapp's session mid-save
        qtbot.keyClick(rhythm, Qt.Key.Key_Return)
    assert killed
    message = entry.general.text()
    assert "database server" in message and "cannot be reached" in message
    assert "NOT saved; it is still in the form as you typed it" in message
    assert "psycopg" not in message and "SQLSTATE" not in message
    assert entry.general.isVisible()
    assert [entry.edits[f].text() for f in VITALS_ORDER] == typed
    assert services.sessions.entries(planned.id).vitals == ()
    shot(entry, "lost-server-vitals")

    qtbot.keyClick(QApplication.focusWidget() or rhythm, Qt.Key.Key_Return)  # save again
    qtbot.waitUntil(lambda: len(services.sessions.entries(planned.id).vitals) == 1)
    (reading,) = services.sessions.entries(planned.id).vitals
    assert (reading.hr, reading.systolic, reading.diastolic) == (72, 128, 82)
    assert not entry.general.isVisible()
    assert entry.edits["hr"].text() == ""
