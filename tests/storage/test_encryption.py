"""Encryption at rest: a stolen database file and key file, without a password, give nothing
readable; every account and the recovery key open it; password changes only rewrap."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from kapp.domain.clock import FixedClock
from kapp.domain.enums import Role
from kapp.services import vault
from kapp.services.facade import Services
from kapp.services.keys import NoKeyRing
from kapp.services.patients import PatientForm
from kapp.storage.engine import (
    SQLITE_HEADER,
    WrongDatabaseKey,
    create_engine,
    database_key,
    live_pragmas,
    sqlite_url,
)
from kapp.storage.keyfile import (
    FileKeyRing,
    KdfParams,
    KeyFileError,
    WrongPassword,
    WrongRecoveryKey,
    key_file_path,
    new_recovery_key,
    parse_recovery_key,
)
from kapp.storage.migrate import backup_copy, current_revision, upgrade

pytestmark = pytest.mark.sqlite_only  # SQLCipher encrypts a SQLite file

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)  # the real default is slow
# Invented people: names that must never appear in the file's bytes.
SECRET_NAMES = ("Zebulon", "Quixwrightson", "T-7319")
PASSWORDS = {"admin": "admin-pass-1", "nurse1": "nurse-pass-1", "doc1": "doc-pass-1"}


def _patient_form() -> PatientForm:
    return PatientForm(mrn="T-7319", given_name="Zebulon", family_name="Quixwrightson",
                       date_of_birth=date(1979, 4, 2), sex="male", indication="trd",
                       allergies="Quixwrightson penicillin note")


@pytest.fixture
def clinic(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Path, str]]:
    """An encrypted clinic with three enrolled accounts and one patient; closed again.
    Yields (database path, recovery key)."""
    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, clock=clock, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    services.protocol.ensure_defaults()
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    nurse = services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                                       role=Role.NURSE, password="nurse-pass-1")
    services.users.create_user(actor=admin, username="doc1", full_name="Dr Pia Prescriber",
                               role=Role.PRESCRIBER, password="doc-pass-1")
    for name, password in PASSWORDS.items():
        services.keyring.enrol(name, password)
    services.patients.create(actor=nurse, form=_patient_form())
    made.database.dispose()
    yield path, made.recovery_key


def _patients(opened: vault.OpenedClinic) -> list[str]:
    try:
        return [p.family_name for p in
                Services.for_database(opened.database).patients.search("")]
    finally:
        opened.database.dispose()


def _snapshot(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.iterdir()
            if p.name.startswith(path.name) and not p.name.endswith(".lock")}


def test_every_enrolled_account_opens_the_database(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    assert vault.clinic_state(path) is vault.ClinicState.ENCRYPTED
    assert vault.enrolled_usernames(path) == sorted(PASSWORDS)
    for name, password in PASSWORDS.items():
        opened = vault.open_clinic(path, name, password, kdf=FAST)
        assert isinstance(opened.keyring, FileKeyRing) and opened.keyring.encrypted
        assert _patients(opened) == ["Quixwrightson"]


@pytest.mark.parametrize(("username", "password"), [
    ("nurse1", "wrong-password"),
    ("nurse1", PASSWORDS["doc1"]),  # another account's password
    ("nobody", PASSWORDS["nurse1"]),  # an account that does not exist
    ("admin", ""),
])
def test_wrong_password_or_user_cannot_open_and_touches_nothing(
        clinic: tuple[Path, str], username: str, password: str) -> None:
    path, _ = clinic
    before = _snapshot(path)
    with pytest.raises(WrongPassword, match="user name or password is not right"):
        vault.open_clinic(path, username, password)
    after = _snapshot(path)
    # Only the failure is counted (kapp/services/lockout.py): the database and key untouched.
    assert after.pop(path.name + ".signin", None) is not None
    before.pop(path.name + ".signin", None)
    assert after == before


def test_user_names_are_not_case_sensitive(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    assert _patients(vault.open_clinic(path, "  Nurse1 ", PASSWORDS["nurse1"])) == [
        "Quixwrightson"]


def test_the_file_has_no_header_and_no_patient_data_even_in_the_wal(
        tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "live.db"
    made = vault.create_clinic(path, clock=clock, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    services.protocol.ensure_defaults()
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    nurse = services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                                       role=Role.NURSE, password="nurse-pass-1")
    services.patients.create(actor=nurse, form=_patient_form())
    wal = path.with_name(path.name + "-wal")
    try:
        # While kapp is running: the newest pages are in the -wal file.
        assert wal.exists() and wal.stat().st_size > 0
        files = {"db": path.read_bytes(), "wal": wal.read_bytes()}
    finally:
        made.database.dispose()
    files["db after close"] = path.read_bytes()
    files["key file"] = key_file_path(path).read_bytes()
    assert not files["db"].startswith(SQLITE_HEADER)
    assert not files["db after close"].startswith(SQLITE_HEADER)
    for where, data in files.items():
        for secret in (*SECRET_NAMES, "Nia Nurse", "nurse1", "audit_log", "CREATE TABLE"):
            if where == "key file" and secret == "nurse1":
                continue  # the key file names the enrolled accounts (none here)
            assert secret.encode() not in data, f"{secret!r} readable in {where}"
            assert secret.encode("utf-16-le") not in data, f"{secret!r} readable in {where}"


def test_standard_sqlite_sees_no_tables(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            conn.execute("SELECT name FROM sqlite_master").fetchall()
    finally:
        conn.close()


def test_a_wrong_key_fails_at_once_with_a_clear_error_and_nothing_on_stderr(
        clinic: tuple[Path, str], capfd: pytest.CaptureFixture[str]) -> None:
    path, _ = clinic
    before = _snapshot(path)
    engine = create_engine(sqlite_url(path), key=b"\x01" * 32)
    try:
        with pytest.raises(WrongDatabaseKey, match="does not open this file"):
            engine.connect()
    finally:
        engine.dispose()
    assert "hmac" not in capfd.readouterr().err
    assert _snapshot(path) == before


def test_a_plain_engine_cannot_read_the_encrypted_file(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    engine = create_engine(sqlite_url(path))
    try:
        with pytest.raises(sa.exc.DatabaseError), engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
    finally:
        engine.dispose()


def test_encrypted_connections_keep_the_durability_pragmas(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    opened = vault.open_clinic(path, "admin", PASSWORDS["admin"])
    engine = opened.database.engine
    try:
        assert database_key(engine) is not None
        assert live_pragmas(engine) == {"journal_mode": "wal", "synchronous": 2,
                                        "foreign_keys": 1, "busy_timeout": 5000}
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cipher_version").scalar().startswith("4.")
    finally:
        opened.database.dispose()


def test_changing_a_password_rewraps_and_everyone_else_still_opens(
        clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    db_before = path.read_bytes()
    opened = vault.open_clinic(path, "nurse1", PASSWORDS["nurse1"], kdf=FAST)
    opened.database.dispose()  # only the key file changes: no database needed
    with pytest.raises(WrongPassword):
        opened.keyring.rewrap("nurse1", "not-the-old-password", "new-nurse-pass")
    opened.keyring.rewrap("nurse1", PASSWORDS["nurse1"], "new-nurse-pass")
    assert path.read_bytes() == db_before  # rewrapped, not re-encrypted
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "nurse1", PASSWORDS["nurse1"])
    assert _patients(vault.open_clinic(path, "nurse1", "new-nurse-pass")) == ["Quixwrightson"]
    for name in ("admin", "doc1"):
        assert _patients(vault.open_clinic(path, name, PASSWORDS[name])) == ["Quixwrightson"]


def test_enrol_resets_and_forget_removes_an_account(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    opened = vault.open_clinic(path, "admin", PASSWORDS["admin"], kdf=FAST)
    opened.database.dispose()
    opened.keyring.enrol("doc1", "reset-by-admin")  # an administrator's password reset
    opened.keyring.forget("nurse1")
    opened.keyring.forget("nurse1")  # twice is harmless
    assert opened.keyring.usernames() == ["admin", "doc1"]
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "nurse1", PASSWORDS["nurse1"])
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "doc1", PASSWORDS["doc1"])
    assert _patients(vault.open_clinic(path, "doc1", "reset-by-admin")) == ["Quixwrightson"]


def test_one_accounts_wrapping_copied_into_another_slot_does_not_open(
        clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    keys = key_file_path(path)
    data = json.loads(keys.read_text())
    data["users"]["admin"] = data["users"]["nurse1"]  # a nurse trying to become admin
    keys.write_text(json.dumps(data))
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "admin", PASSWORDS["nurse1"])


def test_the_recovery_key_opens_the_database(clinic: tuple[Path, str]) -> None:
    path, recovery_key = clinic
    assert _patients(vault.open_with_recovery_key(path, recovery_key)) == ["Quixwrightson"]
    typed = recovery_key.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    opened = vault.open_with_recovery_key(path, typed, kdf=FAST)
    opened.database.dispose()
    # Every password lost: the administrator sets a new one with the recovered key.
    opened.keyring.enrol("admin", "fresh-admin-pass")
    assert _patients(vault.open_clinic(path, "admin", "fresh-admin-pass")) == ["Quixwrightson"]
    with pytest.raises(WrongRecoveryKey, match="does not open"):
        vault.open_with_recovery_key(path, new_recovery_key())
    with pytest.raises(WrongRecoveryKey, match="groups of 4"):
        vault.open_with_recovery_key(path, "ABCD-EFGH")


def test_replacing_the_recovery_key_retires_the_old_one(clinic: tuple[Path, str]) -> None:
    path, old = clinic
    opened = vault.open_clinic(path, "admin", PASSWORDS["admin"], kdf=FAST)
    opened.database.dispose()
    new = opened.keyring.replace_recovery_key()
    with pytest.raises(WrongRecoveryKey):
        vault.open_with_recovery_key(path, old)
    assert _patients(vault.open_with_recovery_key(path, new)) == ["Quixwrightson"]


def test_recovery_keys_read_back_exactly() -> None:
    for _ in range(50):
        key = new_recovery_key()
        assert len(key) == 39 and key.count("-") == 7
        assert len(parse_recovery_key(key)) == 20
    assert new_recovery_key() != new_recovery_key()


def test_the_migration_backup_copy_is_encrypted_and_opens_with_the_key_file(
        tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    made = vault.create_clinic(path, kdf=FAST)  # made at head; rebuild it at 0001
    made.keyring.enrol("admin", PASSWORDS["admin"])
    key = made.keyring.data_key
    made.database.dispose()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    engine = create_engine(sqlite_url(path), key=key)
    upgrade(engine, revision="0001")
    assert current_revision(engine) == "0001"
    result = upgrade(engine)
    engine.dispose()
    assert result.from_revision == "0001" and result.backup_path is not None
    backup = result.backup_path
    data = backup.read_bytes()
    assert not data.startswith(SQLITE_HEADER)
    assert key_file_path(backup).read_bytes() == key_file_path(path).read_bytes()
    # The copy opens on its own, with the same account, at the old revision.
    opened = vault.open_clinic(backup, "admin", PASSWORDS["admin"], migrate=False)
    try:
        assert current_revision(opened.database.engine) == "0001"
    finally:
        opened.database.dispose()


def test_backup_copy_of_an_encrypted_database_is_encrypted(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    opened = vault.open_clinic(path, "admin", PASSWORDS["admin"])
    try:
        copy = backup_copy(opened.database.engine, path.with_name("copy.db"))
    finally:
        opened.database.dispose()
    data = copy.read_bytes()
    assert not data.startswith(SQLITE_HEADER)
    assert all(secret.encode() not in data for secret in SECRET_NAMES)


# -- which files open how ---------------------------------------------------------------
def test_a_plain_database_without_key_file_opens_plainly(db_path: Path) -> None:
    assert vault.clinic_state(db_path) is vault.ClinicState.PLAIN
    opened = vault.open_clinic(db_path, "anyone", "anything")
    assert isinstance(opened.keyring, NoKeyRing)
    opened.database.dispose()
    vault.open_plain(db_path).database.dispose()


def test_plain_only_on_request_for_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "dev.db"
    assert vault.clinic_state(path) is vault.ClinicState.NEW
    with pytest.raises(vault.ClinicError, match="no database"):
        vault.open_plain(path)
    vault.open_plain(path, create=True).database.dispose()
    assert path.read_bytes().startswith(SQLITE_HEADER)
    assert vault.clinic_state(path) is vault.ClinicState.PLAIN


def test_an_encrypted_database_is_never_opened_or_replaced_as_plain(
        clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    with pytest.raises(vault.ClinicError, match="encrypted: sign in"):
        vault.open_plain(path, create=True)
    with pytest.raises(vault.ClinicError, match="already exists"):
        vault.create_clinic(path)


def test_a_missing_key_file_or_database_is_named(clinic: tuple[Path, str]) -> None:
    path, recovery_key = clinic
    keys = key_file_path(path)
    saved = keys.read_bytes()
    keys.unlink()
    assert vault.clinic_state(path) is vault.ClinicState.KEY_FILE_MISSING
    for attempt in (lambda: vault.open_clinic(path, "admin", PASSWORDS["admin"]),
                    lambda: vault.open_with_recovery_key(path, recovery_key),
                    lambda: vault.open_plain(path, create=True)):
        with pytest.raises(vault.ClinicError, match=r"key file clinic\.db\.keys"):
            attempt()
    with pytest.raises(vault.ClinicError, match="already exists"):
        vault.create_clinic(path)
    keys.write_bytes(saved)
    moved = path.rename(path.with_name("elsewhere.db"))
    assert vault.clinic_state(path) is vault.ClinicState.DATABASE_MISSING
    with pytest.raises(vault.ClinicError, match=r"database clinic\.db is missing"):
        vault.open_clinic(path, "admin", PASSWORDS["admin"])
    with pytest.raises(vault.ClinicError, match="already exists"):
        vault.create_clinic(path)
    assert moved.exists()


def test_a_key_file_of_another_database_is_refused(clinic: tuple[Path, str],
                                                   tmp_path: Path) -> None:
    path, _ = clinic
    other = tmp_path / "other" / "clinic.db"
    made = vault.create_clinic(other, kdf=FAST)
    made.keyring.enrol("admin", PASSWORDS["admin"])
    made.database.dispose()
    key_file_path(path).write_bytes(key_file_path(other).read_bytes())
    with pytest.raises(WrongDatabaseKey, match="belongs to another database"):
        vault.open_clinic(path, "admin", PASSWORDS["admin"])


@pytest.mark.parametrize("damage", [
    b"", b"not json", b'{"format": "something-else"}',
    b'{"format": "kapp-key-file", "version": 99, "users": {}, "recovery": {}}',
])
def test_a_damaged_key_file_is_named(clinic: tuple[Path, str], damage: bytes) -> None:
    path, _ = clinic
    key_file_path(path).write_bytes(damage)
    with pytest.raises(KeyFileError, match="key file"):
        vault.open_clinic(path, "admin", PASSWORDS["admin"])


def test_hostile_key_derivation_settings_are_refused(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    keys = key_file_path(path)
    data = json.loads(keys.read_text())
    data["users"]["admin"]["memory_cost"] = 2**40  # would ask for a petabyte
    keys.write_text(json.dumps(data))
    with pytest.raises(KeyFileError, match="out of range"):
        vault.open_clinic(path, "admin", PASSWORDS["admin"])


def test_the_key_file_is_written_atomically_and_private(clinic: tuple[Path, str]) -> None:
    path, _ = clinic
    keys = key_file_path(path)
    assert keys.stat().st_mode & 0o777 == 0o600
    opened = vault.open_clinic(path, "admin", PASSWORDS["admin"], kdf=FAST)
    opened.database.dispose()
    opened.keyring.enrol("nurse1", "another-pass")
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert keys.stat().st_mode & 0o777 == 0o600
    data = json.loads(keys.read_text())
    assert data["format"] == "kapp-key-file" and sorted(data["users"]) == sorted(PASSWORDS)
    entry = data["users"]["admin"]
    assert entry["kdf"] == "argon2id" and {"salt", "nonce", "wrapped_key"} <= entry.keys()
    salts = {u["salt"] for u in data["users"].values()} | {data["recovery"]["salt"]}
    assert len(salts) == len(PASSWORDS) + 1  # every wrapping has its own salt


def test_the_default_key_derivation_is_argon2id_at_the_owasp_floor_or_above() -> None:
    from kapp.storage.keyfile import DEFAULT_KDF

    assert DEFAULT_KDF.memory_cost >= 19 * 1024 and DEFAULT_KDF.time_cost >= 2


def test_the_recovery_key_gives_an_administrator_a_new_password(
        clinic: tuple[Path, str]) -> None:
    """Every password lost: the recovery key opens the clinic once, an administrator sets a
    new password, and from then on that password opens it (the old one no longer does)."""
    from kapp.domain.errors import ValidationError
    from kapp.services.startup import VaultGate
    from kapp.storage.keyfile import WrongRecoveryKey

    path, recovery_key = clinic
    gate = VaultGate(path, database_label=str(path))
    assert gate.can_recover()
    with pytest.raises(WrongRecoveryKey):
        gate.recover(new_recovery_key(), "admin", "a brand new passphrase")
    with pytest.raises(ValidationError) as refused:  # a nurse is not the way back in
        gate.recover(recovery_key, "nurse1", "a brand new passphrase")
    assert refused.value.errors[0].field == "username" and gate.services is None
    with pytest.raises(ValidationError) as weak:
        gate.recover(recovery_key, "admin", "short")
    assert weak.value.errors[0].field == "new_password" and gate.services is None

    signed = gate.recover(recovery_key.lower().replace("-", " "), "ADMIN",
                          "a brand new passphrase")
    assert signed.user.username == "admin" and signed.services.keyring.encrypted
    from kapp.services.audit_view import AuditFilter

    (entry,) = signed.services.audit.page(
        actor=signed.user, filters=AuditFilter(action="user.recover")).rows
    assert entry.username == "admin" and "recovery key" in (entry.reason or "")
    gate.close()
    with pytest.raises(WrongPassword):
        vault.open_clinic(path, "admin", "admin-pass-1")
    assert _patients(vault.open_clinic(path, "admin", "a brand new passphrase")) \
        == ["Quixwrightson"]
    assert _patients(vault.open_clinic(path, "nurse1", "nurse-pass-1")) == ["Quixwrightson"]
