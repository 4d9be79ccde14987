"""``kapp recover``: the recovery key gives an administrator a new password."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapp.cli import main
from kapp.domain.enums import Role
from kapp.services import vault
from kapp.services.facade import Services
from kapp.storage.keyfile import KdfParams, WrongPassword

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def clinic(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                               role=Role.NURSE, password="nurse-pass-1")
    made.database.dispose()
    return path, made.recovery_key


def test_recover_sets_a_new_administrator_password(clinic, monkeypatch, capsys) -> None:
    path, key = clinic
    monkeypatch.setenv("KAPP_PASSWORD", "a brand new passphrase")
    monkeypatch.setenv("KAPP_RECOVERY_KEY", key)
    assert main(["recover", "--db", str(path), "--user", "nurse1"]) == 2
    assert "active administrator" in capsys.readouterr().err
    assert main(["recover", "--db", str(path), "--user", "admin"]) == 0
    assert "Ada Admin (admin) has a new password" in capsys.readouterr().out
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "admin", "admin-pass-1")
    vault.open_clinic(path, "admin", "a brand new passphrase").database.dispose()


def test_recover_refuses_a_wrong_key_and_a_plain_database(clinic, db_path, monkeypatch,
                                                          capsys) -> None:
    path, _ = clinic
    monkeypatch.setenv("KAPP_PASSWORD", "a brand new passphrase")
    monkeypatch.setenv("KAPP_RECOVERY_KEY", "AAAA-" * 7 + "AAAA")
    assert main(["recover", "--db", str(path), "--user", "admin"]) == 2
    assert "does not open" in capsys.readouterr().err
    vault.open_clinic(path, "admin", "admin-pass-1").database.dispose()  # unchanged
    assert main(["recover", "--db", str(db_path), "--user", "admin"]) == 2
    assert "not an encrypted kapp clinic" in capsys.readouterr().err
