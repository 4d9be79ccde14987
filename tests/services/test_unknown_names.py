"""At the OPEN clinic (unencrypted, or already unlocked) a user name that is no account
reads exactly like an account: the same words, the same argon2 work, and the same count
and lockout after the clinic's number of failures (``sign_in_names``, kapp/services/
users.py ``check_unknown_name``). Typing a name until it locks tells nothing about it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from kapp.domain.accounts import AccountLocked, SignInRefused, WrongCredentials
from kapp.domain.clock import FixedClock
from kapp.services import passwords
from kapp.services import users as users_service
from kapp.services.changes import Change
from kapp.services.facade import Services
from kapp.storage import models as m
from kapp.storage.database import Database

ATTEMPTS, MINUTES = 3, 15  # the clinic's own settings (not the defaults 5 and 5)


class CountingHasher(PasswordHasher):
    """The cheap test hasher, counting each argon2 verification (the work that would
    otherwise tell an unknown name from an account by its timing)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash, password) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher() -> Iterator[CountingHasher]:
    counting = CountingHasher()
    previous = passwords.use_hasher(counting)
    yield counting
    passwords.use_hasher(previous)


@pytest.fixture
def lockout(services: Services, staff) -> None:
    services.settings.update(actor=staff.admin, values={"lockout_attempts": ATTEMPTS,
                                                        "lockout_minutes": MINUTES})


def _try(services: Services, name: str, password: str) -> SignInRefused:
    with pytest.raises(SignInRefused) as caught:
        services.users.authenticate(name, password)
    return caught.value


def _audit(db: Database, action: str) -> list[m.AuditEntry]:
    with db.reading() as s:
        rows = s.execute(sa.select(m.AuditEntry).where(m.AuditEntry.action == action)
                         .order_by(m.AuditEntry.seq)).scalars().all()
        s.expunge_all()
    return list(rows)


def test_an_unknown_name_locks_after_the_clinics_attempts_with_an_accounts_words(
        services: Services, staff, lockout, clock: FixedClock) -> None:
    def run(name: str) -> list[tuple[type, str]]:
        said = [_try(services, name, "a wrong guess") for _ in range(ATTEMPTS + 1)]
        said.append(_try(services, name, staff.password("nurse1")))  # the right one waits
        return [(type(r), str(r)) for r in said]

    account, unknown = run("nurse1"), run("no-such-person")
    assert account == unknown
    until = (clock.now() + timedelta(minutes=MINUTES)).astimezone()
    assert [text for _, text in unknown] == (
        ["Wrong user name or password."] * (ATTEMPTS - 1)
        + [f"Too many failed attempts: this account is locked until {until:%H:%M}. Try "
           "again then, or ask an administrator."]
        + [f"This account is locked until {until:%H:%M}. Try again then, or ask an "
           "administrator."] * 2)
    # Still locked a second before the wait is over, like the account; then counted afresh.
    clock.advance(minutes=MINUTES - 1, seconds=59)
    assert str(_try(services, "No-Such-Person ", "x")) == str(_try(services, "nurse1", "x"))
    clock.advance(seconds=1)
    for _ in range(ATTEMPTS - 1):
        assert isinstance(_try(services, "no-such-person", "a wrong guess"), WrongCredentials)
    assert isinstance(_try(services, "no-such-person", "a wrong guess"), AccountLocked)


def test_the_lock_of_an_unknown_name_follows_the_clinic_settings(
        services: Services, staff, clock: FixedClock) -> None:
    """The defaults (5 attempts, 5 minutes) without the clinic's own settings; then the
    administrator's change reaches unknown names as it reaches accounts."""
    for _ in range(4):
        assert isinstance(_try(services, "ghost", "a wrong guess"), WrongCredentials)
    locked = _try(services, "ghost", "a wrong guess")
    assert isinstance(locked, AccountLocked)
    assert locked.until == clock.now() + timedelta(minutes=5)
    services.settings.update(actor=staff.admin, values={"lockout_attempts": 3,
                                                        "lockout_minutes": 20})
    for _ in range(2):
        _try(services, "phantom", "a wrong guess")
    again = _try(services, "phantom", "a wrong guess")
    assert isinstance(again, AccountLocked)
    assert again.until == clock.now() + timedelta(minutes=20)


def test_an_unknown_name_costs_the_same_argon2_work_as_an_account(
        services: Services, staff, lockout, hasher: CountingHasher) -> None:
    def work(name: str) -> list[int]:
        done = []
        for _ in range(ATTEMPTS + 1):  # the last is refused while locked: no work at all
            before = hasher.verified
            _try(services, name, "a wrong guess")
            done.append(hasher.verified - before)
        return done

    assert work("nurse1") == work("no-such-person") == [1] * ATTEMPTS + [0]


def test_unknown_names_are_audited_as_failed_sign_ins_without_the_name(
        services: Services, staff, lockout, db: Database) -> None:
    for _ in range(ATTEMPTS + 1):
        _try(services, "secret-passw0rd-typed-as-name", "a wrong guess")
    failed = [a for a in _audit(db, "user.sign_in.failed") if a.user_id is None]
    assert [a.new_values["failed_attempts"] for a in failed] == list(range(1, ATTEMPTS + 1))
    assert failed[-1].new_values["locked_until"] is not None
    assert all(a.reason == "unknown user name" for a in failed)
    refused = [a for a in _audit(db, "user.sign_in.refused") if a.user_id is None]
    assert [a.reason for a in refused] == ["user name locked"]
    with db.reading() as s:
        rows = s.execute(sa.select(m.SignInName.__table__)).all()
    stored = json.dumps([[str(v) for v in row] for row in rows])
    audit_text = json.dumps([(a.new_values, a.reason) for a in failed + refused])
    assert len(rows) == 1 and "secret-passw0rd" not in stored + audit_text


def test_another_workstation_on_the_database_sees_the_same_count(
        services: Services, staff, lockout, db: Database) -> None:
    other = Services.for_database(db)  # a second kapp on the same clinic database
    _try(services, "ghost", "a wrong guess")
    _try(other, "ghost", "a wrong guess")
    assert isinstance(_try(services, "ghost", "a wrong guess"), AccountLocked)
    assert isinstance(_try(other, "ghost", "any password"), AccountLocked)


def test_each_counted_failure_is_told_before_the_refusal_is_raised(
        services: Services, staff, lockout) -> None:
    """An encrypted clinic's sign-in gate copies the counts into its file on these
    (kapp/services/startup.py): every counted failure, a lock, and nothing else."""
    heard: list[frozenset[Change]] = []
    services.hub.subscribe(heard.append)
    _try(services, "ghost", "a wrong guess")
    _try(services, "nurse1", "a wrong guess")
    assert heard == [{Change.SIGN_IN}, {Change.SIGN_IN}]
    heard.clear()
    for _ in range(2):  # a wrong password typed to sign a record counts too
        assert not services.users.verify_password(staff.nurse.id, "a wrong guess")
    assert heard == [{Change.SIGN_IN}, {Change.SIGN_IN, Change.USERS}]  # the third locks
    heard.clear()
    _try(services, "nurse1", "a wrong guess")  # locked: refused, nothing counted
    assert heard == [{Change.USERS}]


def test_the_names_counted_are_bounded_forgetting_the_quietest_unlocked(
        services: Services, staff, lockout, clock: FixedClock, db: Database,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_service, "MAX_NAMES", 3)
    for _ in range(ATTEMPTS):
        _try(services, "locked-one", "a wrong guess")
    for name in ("a-name", "b-name", "c-name", "d-name"):
        clock.advance(seconds=1)
        _try(services, name, "a wrong guess")
    with db.reading() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(m.SignInName)).scalar() == 3
    # The locked name was kept (the oldest unlocked went first).
    assert isinstance(_try(services, "locked-one", "x"), AccountLocked)
    assert isinstance(_try(services, "d-name", "x"), WrongCredentials)
