"""`kapp --db PATH --user NAME` on an encrypted database, until the sign-in window exists:
the password comes from KAPP_PASSWORD; a wrong one is refused with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from kapp.cli import build_parser
from kapp.domain.enums import Role
from kapp.services import vault
from kapp.services.facade import Services
from kapp.storage.keyfile import KdfParams
from kapp.ui.main_window import MainWindow

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def encrypted(tmp_path: Path) -> Path:
    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                               role=Role.NURSE, password="nurse-pass-1")
    made.keyring.enrol("nurse1", "nurse-pass-1")
    made.database.dispose()
    return path


def test_an_encrypted_database_opens_with_user_and_password(
        encrypted: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    from kapp import app

    shown: list[tuple[str, bool]] = []

    def fake_exec() -> int:
        for window in QApplication.topLevelWidgets():
            if isinstance(window, MainWindow) and window.isVisible():
                shown.append((window.windowTitle(), window.ctx.services.keyring.encrypted))
                window.close()
        return 0

    monkeypatch.setattr(qapp, "exec", fake_exec)
    monkeypatch.setenv("KAPP_PASSWORD", "nurse-pass-1")
    args = build_parser().parse_args(["--db", str(encrypted), "--user", "nurse1"])
    assert app.run_app(args) == 0
    assert shown == [(f"kapp — {encrypted}", True)]


def test_a_wrong_password_is_refused_with_a_message(
        encrypted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kapp import app

    errors: list[tuple[str, str]] = []
    monkeypatch.setattr("kapp.ui.app.show_error", lambda t, m: errors.append((t, m)))
    monkeypatch.setenv("KAPP_PASSWORD", "guess")
    args = build_parser().parse_args(["--db", str(encrypted), "--user", "nurse1"])
    assert app.run_app(args) == 2
    assert errors and "user name or password is not right" in errors[0][1]
