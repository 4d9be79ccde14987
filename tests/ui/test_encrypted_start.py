"""`kapp --db PATH` on an encrypted database: nothing opens until a sign-in unwraps the key;
a wrong password is refused at the sign-in window and the file stays closed."""

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


def test_an_encrypted_database_opens_after_the_sign_in(
        encrypted: Path, qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    from kapp import app

    shown: list[tuple[str, bool]] = []

    def fake_exec() -> int:
        for window in QApplication.topLevelWidgets():
            if isinstance(window, MainWindow) and window.isVisible():
                shown.append((window.windowTitle(), window.ctx.services.keyring.encrypted))
                window.close()
        return 0

    def sign_in(gate):  # what the sign-in window hands over
        assert gate.has_accounts() and gate.services is None  # still closed
        return gate.try_sign_in("nurse1", "nurse-pass-1")

    monkeypatch.setattr(qapp, "exec", fake_exec)
    monkeypatch.setattr("kapp.ui.app.ask_sign_in", sign_in)
    args = build_parser().parse_args(["--db", str(encrypted)])
    assert app.run_app(args) == 0
    assert shown == [(f"kapp — {encrypted}", True)]


def test_a_wrong_password_is_refused_and_the_file_stays_closed(encrypted: Path) -> None:
    from kapp.domain.accounts import WrongCredentials
    from kapp.services.startup import VaultGate

    gate = VaultGate(encrypted, database_label=str(encrypted))
    with pytest.raises(WrongCredentials, match="Wrong user name or password"):
        gate.try_sign_in("nurse1", "guess")
    with pytest.raises(WrongCredentials):
        gate.try_sign_in("nobody", "nurse-pass-1")
    assert gate.services is None
    signed = gate.try_sign_in("NURSE1", "nurse-pass-1")
    assert signed.user.username == "nurse1" and signed.services.keyring.encrypted
    gate.close()
