"""A lost connection to the PostgreSQL server: plain words, nothing half-saved, and the
next save works without restarting kapp.

An administrator ends kapp's session with ``pg_terminate_backend`` from a second
connection (what a server restart, a failover or a dropped network does to it) at a chosen
moment of a save. Runs under ``make test-postgres`` (KAPP_TEST_POSTGRES_URL); skipped
otherwise, like tests/storage/test_postgres.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from lost_server import Cable, backend_pid, killed_at, terminate
from sqlalchemy import event

from kapp.domain.errors import StorageUnavailable
from kapp.domain.vitals import VitalsInput
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.storage import models as m
from kapp.storage.database import Database, open_database

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set")


def _rows(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar()
                for t in ("vitals_readings", "alerts", "audit_log", "patients", "notes")}


def _saves(services, staff, planned) -> dict[str, Callable[[], Any]]:
    nurse = staff.nurse
    return {
        # the nurse's short road: plain inserts (reading, alert, audit entries)
        "vitals": lambda: services.entries.record_vitals(
            actor=nurse, session_id=planned.id,
            values=VitalsInput(hr=130, systolic=195, diastolic=100, spo2=97, rr=14)),
        # the ORM unit of work
        "note": lambda: services.records.add_note(
            actor=nurse, patient_id=planned.patient_id, session_id=planned.id,
            text="Settled, eyes closed."),
        "patient": lambda: services.patients.create(actor=nurse, form=PatientForm(
            mrn="T-0301", given_name="Lou", family_name="Lostline",
            date_of_birth=date(1975, 6, 7),
            sex="female", indication="trd")),
    }


@pytest.mark.parametrize("moment", ["turn", "begin", "commit"])
@pytest.mark.parametrize("which", ["vitals", "note", "patient"])
def test_a_session_ended_by_the_server_mid_save_is_told_and_the_retry_saves(
        db, services, staff, planned, which: str, moment: str) -> None:
    save = _saves(services, staff, planned)[which]
    before = _rows(db)
    with killed_at(db, moment) as killed, pytest.raises(StorageUnavailable) as caught:
        save()
    assert killed, "the session was never ended"
    assert caught.value.kind == "server_unreachable"
    message = str(caught.value)
    assert "database server" in message and "cannot be reached" in message
    assert "NOT saved" in message and "still in the form" in message
    assert "Traceback" not in message and "psycopg" not in message
    assert _rows(db) == before  # nothing half-saved

    save()  # the server is still there: the pool gives the retry a new connection
    after = _rows(db)
    assert after["audit_log"] > before["audit_log"]
    with db.engine.connect() as conn:
        live = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    assert live not in killed


def test_a_session_ended_while_idle_is_replaced_before_the_next_save(
        db, services, staff, planned) -> None:
    with db.engine.connect() as conn:  # the pool's connection, idle between two entries
        pid = backend_pid(conn)
    terminate(db, pid)
    recorded = _saves(services, staff, planned)["vitals"]()  # pre-ping: no error at all
    with db.reading() as s:
        assert s.get(m.VitalsReading, recorded.reading.id) is not None


def test_a_read_after_the_session_was_ended_is_told_then_works(
        db, services, staff, patient) -> None:
    killed: list[int] = []

    def kill(connection: sa.Connection) -> None:
        if not killed:
            killed.append(backend_pid(connection))
            terminate(db, killed[-1])

    event.listen(db.engine, "begin", kill)
    try:
        with pytest.raises(StorageUnavailable) as caught:
            services.patients.search("Testperson")
    finally:
        event.remove(db.engine, "begin", kill)
    assert killed and caught.value.kind == "server_unreachable"
    assert "could not read" in str(caught.value) and "NOT saved" not in str(caught.value)
    assert [p.mrn for p in services.patients.search("Testperson")] == ["T-0001"]


@pytest.fixture
def cable(db: Database) -> Iterator[Cable]:
    url = db.engine.url
    relay = Cable(url.host or "127.0.0.1", url.port or 5432)
    yield relay
    relay.pull()


def test_a_server_that_went_away_and_came_back(db, services, staff, planned, cable,
                                               clock) -> None:
    url = db.engine.url.set(host="127.0.0.1", port=cable.port)
    opened = open_database(url.render_as_string(hide_password=False), clock=clock).database
    through_cable = Services.for_database(opened)
    try:
        save = _saves(through_cable, staff, planned)["vitals"]
        save()  # connected: the pool now holds a connection through the cable
        before = _rows(db)

        cable.pull()  # the server stopped, or the network went away
        for _ in range(2):  # the pool's old connection is dead, and no new one is let in
            with pytest.raises(StorageUnavailable) as caught:
                save()
            assert caught.value.kind == "server_unreachable"
            assert f"(127.0.0.1:{cable.port}) cannot be reached" in str(caught.value)
            assert "NOT saved" in str(caught.value)
        with pytest.raises(StorageUnavailable, match="could not read"):
            through_cable.patients.search("Testperson")
        assert _rows(db) == before

        cable.plug()  # back: the next save works, without restarting kapp
        save()
        assert _rows(db)["vitals_readings"] == before["vitals_readings"] + 1
    finally:
        opened.dispose()


@pytest.fixture
def one_connection_role(db: Database) -> Iterator[sa.URL]:
    """A login role with CONNECTION LIMIT 1 and kapp's rights: a server that is full for
    it as soon as one connection is open (SQLSTATE 53300, "too many connections")."""
    admin = sa.create_engine(db.engine.url.set(username="postgres", database="postgres"),
                             poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    role = "kapp_one_slot"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1 IN ROLE "
                             f"{db.engine.url.username}")
    try:
        yield db.engine.url.set(username=role)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


def test_a_full_server_is_told_as_busy_and_the_retry_saves(db, staff, planned, clock,
                                                          one_connection_role) -> None:
    url = one_connection_role
    opened = open_database(url, clock=clock).database
    services = Services.for_database(opened)
    try:
        save = _saves(services, staff, planned)["vitals"]
        save()
        before = _rows(db)
        opened.engine.dispose()  # kapp's connection is given back...
        slot = sa.create_engine(url, poolclass=sa.pool.NullPool).connect()  # ...and taken
        try:
            with pytest.raises(StorageUnavailable) as caught:
                save()
            assert caught.value.kind == "server_busy"
            label = f"{url.host}:{url.port}"
            assert str(caught.value).startswith(
                f"The clinic's database server ({label}) is full: it already has as many "
                "connections as it allows")
            assert "NOT saved" in str(caught.value) and "damaged" not in str(caught.value)
            with pytest.raises(StorageUnavailable, match="could not read") as read:
                services.patients.search("Testperson")
            assert read.value.kind == "server_busy"
            with pytest.raises(StorageUnavailable) as at_start:  # another workstation opens
                open_database(url)
            assert at_start.value.kind == "server_busy"
            assert str(at_start.value).startswith(
                f"kapp cannot connect to the clinic's database server at {label}: it is full")
            assert _rows(db) == before
        finally:
            slot.close()
        save()  # a connection is free again
        assert _rows(db)["vitals_readings"] == before["vitals_readings"] + 1
    finally:
        opened.dispose()
