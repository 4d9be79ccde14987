"""The lockout of an ENCRYPTED clinic while it is closed (kapp/services/lockout.py): wrong
passwords typed at the start-up (they fail to unwrap the database key) count towards the
same lockout as at the open clinic, a locked name is refused before any argon2 work, and
the failures are carried into the accounts table and the audit trail on the next open."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from kapp.domain.accounts import AccountLocked, WrongCredentials
from kapp.domain.clock import FixedClock
from kapp.domain.enums import Role
from kapp.services import vault
from kapp.services.facade import Services
from kapp.services.startup import VaultGate
from kapp.storage import keyfile, signin_counts
from kapp.storage import models as m
from kapp.storage.keyfile import KdfParams
from kapp.storage.signin_counts import counts_path

pytestmark = pytest.mark.sqlite_only  # an encrypted (SQLCipher) clinic file

FAST = KdfParams(time_cost=1, memory_cost=1024, parallelism=1)  # the real default is slow
PASSWORDS = {"admin": "admin-pass-1", "nurse1": "nurse-pass-1"}
ATTEMPTS, MINUTES = 3, 10  # the clinic's own settings (not the defaults 5 and 5)


@pytest.fixture
def clinic(tmp_path: Path, clock: FixedClock) -> Path:
    """An encrypted clinic (admin, nurse1) whose lockout is 3 attempts for 10 minutes,
    opened once through the sign-in gate (which copies the settings beside it), closed."""
    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, clock=clock, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password=PASSWORDS["admin"])
    services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                               role=Role.NURSE, password=PASSWORDS["nurse1"])
    services.settings.update(actor=admin, values={"lockout_attempts": ATTEMPTS,
                                                  "lockout_minutes": MINUTES})
    made.database.dispose()
    gate = VaultGate(path, database_label=str(path), clock=clock)
    gate.try_sign_in("admin", PASSWORDS["admin"])
    gate.close()
    return path


@pytest.fixture
def gate(clinic: Path, clock: FixedClock) -> Iterator[VaultGate]:
    gate = VaultGate(clinic, database_label=str(clinic), clock=clock)
    yield gate
    gate.close()


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many argon2 key derivations were run."""
    calls: list[int] = []
    real = keyfile._derive

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(keyfile, "_derive", counted)
    return calls


def _open(clinic: Path, clock: FixedClock) -> Services:
    """The admin opens the clinic (carrying what was counted while it was closed)."""
    gate = VaultGate(clinic, database_label=str(clinic), clock=clock)
    return gate.try_sign_in("admin", PASSWORDS["admin"]).services


def _audit(services: Services, prefix: str) -> list[m.AuditEntry]:
    with services.db.reading() as s:
        rows = s.execute(sa.select(m.AuditEntry).order_by(m.AuditEntry.seq)).scalars().all()
        s.expunge_all()
    return [r for r in rows if r.action.startswith(prefix)]


def _account(services: Services, name: str) -> m.User:
    with services.db.reading() as s:
        row = s.execute(sa.select(m.User).where(m.User.username == name)).scalar_one()
        s.expunge(row)
    return row


def _attempt(gate: VaultGate, name: str, password: str) -> str:
    with pytest.raises((WrongCredentials, AccountLocked)) as caught:
        gate.try_sign_in(name, password)
    assert gate.services is None  # the clinic stays closed
    return str(caught.value)


def test_wrong_passwords_while_closed_lock_the_name_with_the_clinics_settings(
        gate: VaultGate, clock: FixedClock, derivations: list[int]) -> None:
    until = clock.now() + timedelta(minutes=MINUTES)
    for _ in range(ATTEMPTS - 1):
        assert _attempt(gate, "nurse1", "a wrong guess") == "Wrong user name or password."
    with pytest.raises(AccountLocked) as caught:
        gate.try_sign_in("nurse1", "a wrong guess")
    assert caught.value.until == until
    assert str(caught.value).startswith("Too many failed attempts")
    assert f"locked until {until.astimezone():%H:%M}" in str(caught.value)
    # The right password now waits too, refused before any key derivation.
    derivations.clear()
    with pytest.raises(AccountLocked) as refused:
        gate.try_sign_in("NURSE1 ", PASSWORDS["nurse1"])
    assert str(refused.value) == str(AccountLocked(until)) and not derivations
    clock.advance(minutes=MINUTES - 1, seconds=59)
    with pytest.raises(AccountLocked):
        gate.try_sign_in("nurse1", PASSWORDS["nurse1"])
    assert gate.services is None and not derivations
    # When the wait is over the account opens.
    clock.advance(seconds=1)
    signed = gate.try_sign_in("nurse1", PASSWORDS["nurse1"])
    assert signed.user.username == "nurse1"


def test_the_count_is_carried_into_the_accounts_table_and_the_audit_trail(
        gate: VaultGate, clinic: Path, clock: FixedClock) -> None:
    for _ in range(ATTEMPTS):
        _attempt(gate, "nurse1", "a wrong guess")
    clock.advance(minutes=1)
    _attempt(gate, "nurse1", "another guess")  # refused: locked
    locked_at = clock.now() - timedelta(minutes=1)
    services = _open(clinic, clock)  # the admin opens the clinic
    nurse = _account(services, "nurse1")
    assert nurse.locked_until == locked_at + timedelta(minutes=MINUTES)
    failed = [a for a in _audit(services, "user.sign_in.failed") if a.user_id == nurse.id]
    assert [a.new_values["failed_attempts"] for a in failed] == [1, 2, 3]
    assert all(a.new_values["clinic_closed"] for a in failed)
    assert failed[-1].new_values["locked_until"] is not None
    assert failed[0].new_values["attempted_at"].startswith(locked_at.isoformat()[:16])
    refused = [a for a in _audit(services, "user.sign_in.refused") if a.user_id == nurse.id]
    assert len(refused) == 1 and "locked" in refused[0].reason
    # The administrator sees the lock, and the open clinic keeps it.
    (account,) = [a for a in services.users.accounts() if a.user.username == "nurse1"]
    assert account.locked_until == nurse.locked_until
    with pytest.raises(AccountLocked):
        services.users.authenticate("nurse1", PASSWORDS["nurse1"])
    # Carried once: opening again adds nothing.
    services.db.dispose()
    again = _open(clinic, clock)
    assert [a.new_values["failed_attempts"] for a in _audit(again, "user.sign_in.failed")
            if a.user_id == nurse.id] == [1, 2, 3]
    again.db.dispose()


def test_failures_below_the_limit_carry_over_and_a_good_sign_in_resets_them(
        gate: VaultGate, clinic: Path, clock: FixedClock) -> None:
    for _ in range(ATTEMPTS - 1):
        _attempt(gate, "nurse1", "a wrong guess")
    services = _open(clinic, clock)
    assert _account(services, "nurse1").failed_logins == ATTEMPTS - 1
    # The open clinic goes on counting from there: one more locks.
    with pytest.raises(AccountLocked):
        services.users.authenticate("nurse1", "a wrong guess")
    services.db.dispose()
    # ...and the closed clinic, next start, knows it (refused before the unwrap).
    closed = VaultGate(clinic, database_label=str(clinic), clock=clock)
    with pytest.raises(AccountLocked):
        closed.try_sign_in("nurse1", PASSWORDS["nurse1"])
    clock.advance(minutes=MINUTES)
    _attempt(closed, "nurse1", "a wrong guess")
    signed = closed.try_sign_in("nurse1", PASSWORDS["nurse1"])  # carried, then reset
    assert _account(signed.services, "nurse1").failed_logins == 0
    closed.close()
    fresh = VaultGate(clinic, database_label=str(clinic), clock=clock)
    for _ in range(ATTEMPTS - 1):  # a full allowance again
        assert _attempt(fresh, "nurse1", "a wrong guess") == "Wrong user name or password."


def test_an_unknown_user_name_reads_exactly_like_an_account(
        gate: VaultGate, clinic: Path, clock: FixedClock, derivations: list[int]) -> None:
    def run(name: str) -> tuple[list[str], list[int]]:
        said, work = [], []
        for password in ["a wrong guess"] * ATTEMPTS + ["nurse-pass-1"]:
            before = len(derivations)
            said.append(_attempt(gate, name, password))
            work.append(len(derivations) - before)
        return said, work

    assert run("nurse1") == run("no-such-person")  # same words, same argon2 work
    services = _open(clinic, clock)
    unknown = [a for a in _audit(services, "user.sign_in.failed") if a.user_id is None]
    assert len(unknown) == ATTEMPTS and all("unknown user name" in a.reason for a in unknown)
    stored = counts_path(clinic).read_text() + json.dumps(
        [(a.new_values, a.reason) for a in _audit(services, "user.sign_in")], default=str)
    assert "no-such-person" not in stored and "a wrong guess" not in stored
    assert "nurse1" not in counts_path(clinic).read_text()  # names kept as keyed hashes
    services.db.dispose()


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"format": "kapp-sign-in-counts"}',
                                    b"\x00\xff" * 40, None])
def test_a_damaged_or_missing_counts_file_never_stops_a_sign_in(
        clinic: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture,
        damage: bytes | None) -> None:
    counts = counts_path(clinic)
    gate = VaultGate(clinic, database_label=str(clinic), clock=clock)
    _attempt(gate, "nurse1", "a wrong guess")
    if damage is None:
        counts.unlink()
    else:
        counts.write_bytes(damage)
    with caplog.at_level(logging.WARNING):
        _attempt(gate, "nurse1", "a wrong guess")  # counted afresh: 1 of 3
        _attempt(gate, "nurse1", "a wrong guess")  # 2 of 3
        signed = gate.try_sign_in("nurse1", PASSWORDS["nurse1"])
    assert signed.user.username == "nurse1"
    if damage is not None:
        assert "damaged" in caplog.text and "counting" in caplog.text
        assert "not json" not in caplog.text
    json.loads(counts.read_text())  # written whole again
    assert not [p for p in clinic.parent.iterdir() if p.name.endswith(".tmp")]
    failed = [a for a in _audit(signed.services, "user.sign_in.failed")
              if a.new_values.get("clinic_closed")]
    assert len(failed) == 2  # the two counted after the damage
    gate.close()


def test_an_account_locked_at_the_open_clinic_is_refused_before_the_unwrap(
        clinic: Path, clock: FixedClock, derivations: list[int]) -> None:
    services = _open(clinic, clock)
    for _ in range(ATTEMPTS):
        with pytest.raises((WrongCredentials, AccountLocked)):
            services.users.authenticate("nurse1", "a wrong guess")
    services.db.dispose()  # (no clean close: the lock was copied when it happened)
    gate = VaultGate(clinic, database_label=str(clinic), clock=clock)
    derivations.clear()
    with pytest.raises(AccountLocked, match="This account is locked until"):
        gate.try_sign_in("nurse1", PASSWORDS["nurse1"])
    assert not derivations


def test_changed_lockout_settings_reach_the_closed_clinic(
        clinic: Path, clock: FixedClock) -> None:
    gate = VaultGate(clinic, database_label=str(clinic), clock=clock)
    signed = gate.try_sign_in("admin", PASSWORDS["admin"])
    signed.services.settings.update(actor=signed.user, values={"lockout_attempts": 4})
    gate.services.db.dispose()  # killed, not closed: the change was copied already
    gate.services = None
    closed = VaultGate(clinic, database_label=str(clinic), clock=clock)
    for _ in range(3):
        assert _attempt(closed, "nurse1", "a wrong guess") == "Wrong user name or password."
    assert _attempt(closed, "nurse1", "a wrong guess").startswith("Too many failed attempts")


def test_wrong_recovery_keys_are_audited_not_locked_out(
        tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, clock=clock, kdf=FAST)
    services = Services.for_database(made.database, made.keyring)
    services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                      password=PASSWORDS["admin"])
    made.database.dispose()
    wrong = "0000-0000-0000-0000-0000-0000-0000-0000"
    for _ in range(8):
        with pytest.raises(vault.WrongRecoveryKey):
            vault.open_with_recovery_key(path, wrong, clock=clock)
    opened = vault.open_with_recovery_key(path, made.recovery_key, clock=clock)
    services = Services.for_database(opened.database, opened.keyring)
    failed = _audit(services, "user.recover.failed")
    assert len(failed) == 8 and all("wrong recovery key" in a.reason for a in failed)
    opened.database.dispose()


def _in_file(clinic: Path, name: str) -> tuple[int, bool]:
    """The counts file as a kapp started afresh would read it: the name's failures in a
    row, and whether it is locked now (by then ``clock`` has not moved)."""
    counts = signin_counts.load(clinic)
    entry = counts.names.get(counts.key(name))
    return (entry.failures, entry.locked_until is not None) if entry else (0, False)


def test_an_unknown_name_counted_at_the_open_clinic_goes_on_counting_while_closed(
        gate: VaultGate, clinic: Path, clock: FixedClock) -> None:
    gate.try_sign_in("admin", PASSWORDS["admin"])  # the clinic is open
    for _ in range(ATTEMPTS - 1):
        with pytest.raises(WrongCredentials):
            gate.try_sign_in("no-such-person", "a wrong guess")
    gate.close()
    closed = VaultGate(clinic, database_label=str(clinic), clock=clock)
    assert _attempt(closed, "no-such-person", "a wrong guess").startswith(
        "Too many failed attempts: this account is locked until")  # as nurse1 would be
    services = _open(clinic, clock)  # ...and the open clinic, next time, keeps the lock
    with pytest.raises(AccountLocked, match=r"^This account is locked until"):
        services.users.authenticate("no-such-person", "a wrong guess")
    failed = [a for a in _audit(services, "user.sign_in.failed") if a.user_id is None]
    assert [a.new_values["failed_attempts"] for a in failed] == [1, 2, 3]
    services.db.dispose()


def test_an_unknown_name_counted_while_closed_goes_on_counting_at_the_open_clinic(
        gate: VaultGate, clinic: Path, clock: FixedClock) -> None:
    for _ in range(ATTEMPTS - 1):
        _attempt(gate, "no-such-person", "a wrong guess")
    services = _open(clinic, clock)  # carried into sign_in_names, under the file's salt
    with pytest.raises(AccountLocked) as caught:
        services.users.authenticate("no-such-person", "a wrong guess")
    assert caught.value.until == clock.now() + timedelta(minutes=MINUTES)
    failed = [a for a in _audit(services, "user.sign_in.failed") if a.user_id is None]
    assert [a.new_values["failed_attempts"] for a in failed] == [1, 2, 3]
    assert [bool(a.new_values.get("clinic_closed")) for a in failed] == [True, True, False]
    services.db.dispose()


def test_each_failure_while_closed_is_in_the_counts_file_before_its_refusal(
        gate: VaultGate, clinic: Path) -> None:
    for n in range(1, ATTEMPTS):
        for name in ("nurse1", "no-such-person"):
            _attempt(gate, name, "a wrong guess")
            assert _in_file(clinic, name) == (n, False)
    for name in ("nurse1", "no-such-person"):
        _attempt(gate, name, "a wrong guess")
        assert _in_file(clinic, name) == (0, True)


def test_each_failure_at_the_open_clinic_is_in_the_counts_file_before_its_refusal(
        clinic: Path, clock: FixedClock) -> None:
    """A kapp killed while the clinic is open leaves no guesses uncounted for the closed
    clinic: each one counted at the open clinic (a sign-in, or a password typed to sign)
    is in the file (written whole, fsync'd) before its refusal is shown."""
    gate = VaultGate(clinic, database_label=str(clinic), clock=clock)
    signed = gate.try_sign_in("admin", PASSWORDS["admin"])
    nurse = _account(signed.services, "nurse1")
    for n in range(1, ATTEMPTS):
        with pytest.raises(WrongCredentials):
            gate.try_sign_in("nurse1", "a wrong guess")
        assert _in_file(clinic, "nurse1") == (n, False)
        with pytest.raises(WrongCredentials):
            gate.try_sign_in("no-such-person", "a wrong guess")
        assert _in_file(clinic, "no-such-person") == (n, False)
    assert not signed.services.users.verify_password(nurse.id, "a wrong guess")
    assert _in_file(clinic, "nurse1") == (0, True)
    gate.services.db.dispose()  # killed, not closed
    gate.services = None
    closed = VaultGate(clinic, database_label=str(clinic), clock=clock)
    assert _attempt(closed, "nurse1", PASSWORDS["nurse1"]).startswith(
        "This account is locked until")
    assert _attempt(closed, "no-such-person", "a wrong guess").startswith(
        "Too many failed attempts")
