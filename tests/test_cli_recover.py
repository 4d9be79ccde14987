"""``kapp recover``: the recovery key gives an administrator a new password."""

from __future__ import annotations

import pytest

from kapp.cli import main
from kapp.services import vault
from kapp.storage.keyfile import WrongPassword


def test_recover_sets_a_new_administrator_password(encrypted_clinic, monkeypatch,
                                                   capsys) -> None:
    path, key = encrypted_clinic
    monkeypatch.setenv("KAPP_PASSWORD", "a brand new passphrase")
    monkeypatch.setenv("KAPP_RECOVERY_KEY", key)
    assert main(["recover", "--db", str(path), "--user", "nurse1"]) == 2
    assert "active administrator" in capsys.readouterr().err
    assert main(["recover", "--db", str(path), "--user", "admin"]) == 0
    assert "Ada Admin (admin) has a new password" in capsys.readouterr().out
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "admin", "admin-pass-1")
    vault.open_clinic(path, "admin", "a brand new passphrase").database.dispose()


def test_recover_refuses_a_wrong_key_and_a_plain_database(encrypted_clinic, db_path,
                                                          monkeypatch, capsys) -> None:
    path, _ = encrypted_clinic
    monkeypatch.setenv("KAPP_PASSWORD", "a brand new passphrase")
    monkeypatch.setenv("KAPP_RECOVERY_KEY", "AAAA-" * 7 + "AAAA")
    assert main(["recover", "--db", str(path), "--user", "admin"]) == 2
    assert "does not open" in capsys.readouterr().err
    vault.open_clinic(path, "admin", "admin-pass-1").database.dispose()  # unchanged
    assert main(["recover", "--db", str(db_path), "--user", "admin"]) == 2
    assert "not an encrypted kapp clinic" in capsys.readouterr().err
