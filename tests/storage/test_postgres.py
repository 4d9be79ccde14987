"""The same models, migrations and services on PostgreSQL.

Runs when KAPP_TEST_POSTGRES_URL names an empty database the test may reset, e.g.
postgresql+psycopg://kapp@127.0.0.1:55432/kapptest (install the `postgres` extra);
``make test-postgres`` starts a throwaway server and runs these with the whole storage,
services and report suites on it (the shared ``db`` fixture of tests/conftest.py is then
that database). Without it the module is skipped: CI has no PostgreSQL server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from kapp.domain.accounts import SignInRefused, WrongCredentials
from kapp.services import passwords
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.services.users import stored_sign_in_salt
from kapp.storage import audit
from kapp.storage import models as m
from kapp.storage.audit import verify_chain
from kapp.storage.database import Database, open_database
from kapp.storage.migrate import head_revision, schema_state
from kapp.storage.signin_counts import name_key

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set")


def test_migrations_reach_head_with_triggers(db: Database) -> None:
    assert schema_state(db.engine) == "current"
    with db.engine.connect() as conn:
        names = set(conn.exec_driver_sql(
            "select tgname from pg_trigger where not tgisinternal").scalars())
    assert {"trg_audit_log_no_update", "trg_vitals_readings_no_delete"} <= names
    assert head_revision()


def test_a_whole_session_on_postgres(services, staff, planned, whole_session, db) -> None:
    whole_session(planned)
    signed = services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                                    password=staff.password(staff.prescriber))
    assert signed.signed_at is not None
    assert [p.mrn for p in services.patients.search("testp")] == ["T-0001"]
    with db.reading() as s:
        assert isinstance(list(verify_chain(s))[-1], int)
    with pytest.raises(sa.exc.DatabaseError, match="not allowed"), db.engine.begin() as conn:
        conn.exec_driver_sql("delete from audit_log")


# -- two workstations at the same instant ---------------------------------------------------
class Together:
    """Holds each workstation at one point of its transaction (the first time it gets
    there) until all of them are there, or until each one missing waits for a lock (the
    database made it wait, so it cannot come). Without a lock the workstations race
    through the same reads before either writes, every time, not by chance."""

    def __init__(self, url: str, workstations: int) -> None:
        self.workstations = workstations
        self.arrived = 0
        self.here = threading.local()
        self.lock = threading.Lock()
        self.watch = sa.create_engine(url, poolclass=sa.pool.NullPool)  # no write lock

    def __call__(self) -> None:
        if getattr(self.here, "came", False):
            return
        self.here.came = True
        with self.lock:
            self.arrived += 1
        for _ in range(1000):  # at most about 10 s, should the database never answer
            with self.lock:
                missing = self.workstations - self.arrived
            if missing <= 0 or self._waiting_for_a_lock() >= missing:
                return
            time.sleep(0.01)

    def _waiting_for_a_lock(self) -> int:
        with self.watch.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'").scalar() or 0


def _at_once(*calls: Callable[[], object]) -> list[object]:
    """Each call on its own thread, all started together; what each returned or raised."""
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            results[i] = call()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a workstation never finished"
    return results


@pytest.fixture
def second(db: Database, clock) -> Iterator[Services]:
    """Another workstation on the same database (its own engine and connections)."""
    other = open_database(db.engine.url.render_as_string(hide_password=False),
                          clock=clock).database
    yield Services.for_database(other)
    other.dispose()


def _sign_in_at_once(monkeypatch, services: Services, second: Services, name: str,
                     password: str) -> list[object]:
    together = Together(URL or "", 2)
    verify = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda *a: (together(), verify(*a))[1])
    return _at_once(lambda: services.users.authenticate(name, password),
                    lambda: second.users.authenticate(name, password))


def _failures(db: Database) -> list[int]:
    with db.reading() as s:
        return sorted(s.execute(sa.select(m.AuditEntry.new_values["failed_attempts"].as_integer())
                                .where(m.AuditEntry.action == "user.sign_in.failed")).scalars())


def _chain_intact(db: Database) -> int:
    with db.reading() as s:
        result = list(verify_chain(s))
    assert isinstance(result[-1], int), result[-1]
    return result[-1]


@pytest.mark.parametrize("salt_made", [False, True], ids=["first-salt", "salt-exists"])
def test_two_workstations_count_the_same_new_unknown_name_at_once(
        db, services, second, staff, monkeypatch, salt_made) -> None:
    if salt_made:
        with pytest.raises(SignInRefused):
            services.users.authenticate("someone-else", "a wrong guess")
    with db.reading() as s:
        assert (stored_sign_in_salt(s) is not None) == salt_made
    results = _sign_in_at_once(monkeypatch, services, second, "no-such-person", "guess")
    assert all(isinstance(r, WrongCredentials) for r in results), results
    with db.reading() as s:
        salt = stored_sign_in_salt(s)
        assert salt is not None
        row = s.get(m.SignInName, name_key(salt, "no-such-person"))
        assert row is not None and row.failed_logins == 2  # both counted, none lost
    assert _failures(db) == [1, 1, 2] if salt_made else [1, 2]
    _chain_intact(db)


def test_two_workstations_count_failures_of_one_account_at_once(
        db, services, second, staff, monkeypatch) -> None:
    results = _sign_in_at_once(monkeypatch, services, second, "nurse1", "a wrong guess")
    assert all(isinstance(r, WrongCredentials) for r in results), results
    with db.reading() as s:
        assert s.get(m.User, staff.nurse.id).failed_logins == 2  # no lost update
    assert _failures(db) == [1, 2]
    _chain_intact(db)


def test_two_workstations_writing_at_once_keep_one_audit_chain(
        db, services, second, staff, monkeypatch) -> None:
    together = Together(URL or "", 2)
    read = audit.plain_rows

    def read_last(conn: sa.Connection, statement: sa.Select) -> list:
        rows = read(conn, statement)
        if statement is audit._LAST:  # each has read the previous entry, none has written
            together()
        return rows

    monkeypatch.setattr(audit, "plain_rows", read_last)
    before = _chain_intact(db)

    def patient(on: Services, mrn: str) -> object:
        return on.patients.create(actor=staff.nurse, form=PatientForm(
            mrn=mrn, given_name="Sam", family_name="Concurrent", date_of_birth=date(1990, 1, 2),
            sex="male", indication="trd"))

    results = _at_once(lambda: patient(services, "T-0101"), lambda: patient(second, "T-0102"))
    assert not any(isinstance(r, Exception) for r in results), results
    assert _chain_intact(db) == before + 2  # one chain, no entry refused, none forked


def test_a_writer_that_waits_too_long_for_its_turn_is_told_in_plain_words(
        db, services, staff, monkeypatch) -> None:
    from kapp.domain.errors import StorageUnavailable
    from kapp.storage import engine as kapp_engine

    monkeypatch.setattr(kapp_engine, "_TAKE_TURN", kapp_engine._TAKE_TURN.replace(
        f"{kapp_engine.BUSY_TIMEOUT_MS}ms", "200ms"))
    other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with other.connect() as conn:  # another program holds kapp's write lock
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({kapp_engine.WRITE_LOCK})")
        with pytest.raises(StorageUnavailable, match="busy") as caught:
            services.patients.create(actor=staff.nurse, form=PatientForm(
                mrn="T-0201", given_name="Wyn", family_name="Waiting",
                date_of_birth=date(1970, 3, 4), sex="female", indication="trd"))
        assert caught.value.kind == "locked"
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({kapp_engine.WRITE_LOCK})")
    other.dispose()
    assert services.patients.search("waiting") == []  # nothing half-saved
