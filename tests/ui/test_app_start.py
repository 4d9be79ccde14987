"""`kapp --db PATH` from the composition root: opens, migrates and shows the patient list."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from kapp.cli import build_parser
from kapp.ui.main_window import MainWindow


def test_starting_kapp_shows_the_patient_list_of_the_chosen_database(
        tmp_path: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    from kapp import app

    shown: list[str] = []

    def fake_exec() -> int:  # instead of the event loop: look at what is on screen
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        shown.extend(w.windowTitle() for w in windows)
        for window in windows:
            window.close()
        return 0

    monkeypatch.setattr(qapp, "exec", fake_exec)
    from kapp.services.startup import ClinicForm

    def first_run(gate):  # what the first-run screen hands over
        assert not gate.has_accounts()
        return gate.create_clinic(ClinicForm("Harbour Clinic", "admin", "Ada Admin",
                                             "a long admin password")).signed_in

    monkeypatch.setattr("kapp.ui.app.ask_first_run", first_run)
    path = tmp_path / "clinic.db"
    assert app.run_app(build_parser().parse_args(["--db", str(path)])) == 0
    assert shown == [f"kapp — {path}"]
    assert path.exists()

    # The second start asks who is there.
    asked: list[bool] = []

    def sign_in(gate):
        asked.append(gate.has_accounts())
        return gate.try_sign_in("admin", "a long admin password")

    monkeypatch.setattr("kapp.ui.app.ask_sign_in", sign_in)
    shown.clear()
    assert app.run_app(build_parser().parse_args(["--db", str(path)])) == 0
    assert asked == [True] and shown == [f"kapp — {path}"]


def test_a_database_from_a_newer_kapp_is_refused_with_a_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import sqlite3

    from kapp import app
    from kapp.storage.engine import create_engine, sqlite_url
    from kapp.storage.migrate import upgrade

    path = tmp_path / "newer.db"
    engine = create_engine(sqlite_url(path))
    upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("update alembic_version set version_num = '9999_future'")
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr("kapp.ui.app.show_error", lambda t, m: errors.append((t, m)))
    assert app.run_app(build_parser().parse_args(["--db", str(path)])) == 2
    assert errors and "newer version of kapp" in errors[0][1]
    assert "newer version of kapp" in capsys.readouterr().err
