"""The same models, migrations and services on PostgreSQL.

Runs when KAPP_TEST_POSTGRES_URL names an empty database the test may reset, e.g.
postgresql+psycopg://kapp@127.0.0.1:55432/kapptest (install the `postgres` extra).
Without it the module is skipped: CI has no PostgreSQL server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from kapp.domain.clock import FixedClock
from kapp.storage.audit import verify_chain
from kapp.storage.database import Database, open_database
from kapp.storage.engine import create_engine
from kapp.storage.migrate import head_revision, schema_state

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set")


def _reset(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture
def db(clock: FixedClock) -> Iterator[Database]:  # replaces the SQLite fixture of conftest
    assert URL
    _reset(URL)
    database = open_database(URL, clock=clock).database
    from kapp.services.protocol import ProtocolService

    ProtocolService(database).ensure_defaults()
    yield database
    database.dispose()


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
