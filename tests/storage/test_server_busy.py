"""A database server that turns kapp away, full ("too many connections", SQLSTATE 53300)
or restarting (57P03 "the database system is starting up / shutting down"): each a storage
fault with its own words, never a crash nor "damaged" (kapp/storage/faults.py). On fakes
of psycopg's errors; a real full server: tests/storage/test_postgres_lost_connection.py."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from kapp.domain.errors import StorageUnavailable
from kapp.storage.faults import fault_kind, translate, unreachable_at_start


class FakeServerError(Exception):
    """Shaped like a psycopg error: its words, and the server's SQLSTATE when it sent one."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(orig: Exception, *,
            kind: type[sa.exc.DBAPIError] = sa.exc.OperationalError) -> sa.exc.DBAPIError:
    return kind("SELECT ...", None, orig)


# psycopg's words when the server refuses the connection: no SQLSTATE comes with them
# (libpq reports a failed start-up as text), the server's FATAL after "connection failed".
REFUSED = 'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  '

FULL = [
    FakeServerError("too many connections for role \"kapp\"", "53300"),  # as a statement
    FakeServerError(REFUSED + 'too many connections for role "kapp"'),
    FakeServerError(REFUSED + 'too many connections for database "kapp"'),
    FakeServerError(REFUSED + "sorry, too many clients already"),
    FakeServerError(REFUSED + "remaining connection slots are reserved for roles with the "
                    "SUPERUSER attribute"),
]
RESTARTING = [
    FakeServerError("the database system is starting up", "57P03"),
    FakeServerError(REFUSED + "the database system is starting up"),
    FakeServerError(REFUSED + "the database system is shutting down"),
    FakeServerError(REFUSED + "the database system is in recovery mode"),
    FakeServerError(REFUSED + "the database system is not yet accepting connections"),
]


@pytest.mark.parametrize("error", FULL, ids=str)
def test_a_full_server_is_busy(error: FakeServerError) -> None:
    assert fault_kind(wrapped(error)) == "server_busy"
    assert fault_kind(error) == "server_busy"


@pytest.mark.parametrize("error", RESTARTING, ids=str)
def test_a_server_starting_or_stopping_is_restarting(error: FakeServerError) -> None:
    assert fault_kind(wrapped(error)) == "server_restarting"
    assert fault_kind(error) == "server_restarting"


def test_the_connection_sqlstates_that_stay_a_lost_server() -> None:
    # An ended connection cannot be told from a restart by its error: "stopped or
    # restarted", as before.
    for state in ("57P01", "57P02", "08006"):
        assert fault_kind(wrapped(FakeServerError("x", state))) == "server_unreachable"


@pytest.mark.parametrize(("error", "kind", "words"), [
    (FULL[1], "server_busy", "is full: it already has as many connections as it allows"),
    (RESTARTING[1], "server_restarting", "is restarting (starting up or shutting down)"),
])
def test_saving_and_reading_say_what_happened_and_what_to_do(error, kind, words) -> None:
    saving = translate(wrapped(error), server="db.clinic:5432")
    reading = translate(wrapped(error), saving=False, server="db.clinic:5432")
    for fault in (saving, reading):
        assert isinstance(fault, StorageUnavailable) and fault.kind == kind
        assert fault.from_server
        text = str(fault)
        assert text.startswith(f"The clinic's database server (db.clinic:5432) {words}")
        for technical in ("FATAL", "53300", "57P03", "psycopg", "damaged", "cannot be reached"):
            assert technical not in text
    assert "NOT saved; it is still in the form as you typed it" in str(saving)
    assert "could not read the records" in str(reading) and "NOT saved" not in str(reading)
    if kind == "server_busy":
        assert "ask IT to let the server take more connections" in str(saving)
        assert "Save again in a minute" in str(saving)
    else:
        assert "Save again in a moment" in str(saving)
        assert "answer again in a moment" in str(reading)


@pytest.mark.parametrize(("error", "kind", "words"), [
    (FULL[3], "server_busy", "kapp cannot connect to the clinic's database server at "
                             "db.clinic.example:6543: it is full"),
    (RESTARTING[1], "server_restarting", "kapp cannot connect to the clinic's database "
                                         "server at db.clinic.example:6543 just now: it is "
                                         "restarting"),
])
def test_at_start_the_server_is_named_and_the_wait_is_said(error, kind, words) -> None:
    url = make_url("postgresql+psycopg://kapp:s3cret-pw@db.clinic.example:6543/kapp")
    fault = unreachable_at_start(url, wrapped(error))
    assert fault.kind == kind and str(fault).startswith(words)
    assert "Nothing has been changed" in str(fault) and "open kapp again" in str(fault).lower()
    assert "s3cret-pw" not in str(fault) and "damaged" not in str(fault)


def test_a_local_files_faults_are_not_the_servers() -> None:
    for kind in ("full", "read_only", "io", "locked", "cannot_open", "damaged"):
        assert not StorageUnavailable(kind, "x").from_server
    assert StorageUnavailable("server_unreachable", "x").from_server


def test_an_integrity_error_that_mentions_connections_is_left_alone() -> None:
    odd = FakeServerError('duplicate key: note "too many connections"', "23505")
    assert translate(wrapped(odd, kind=sa.exc.IntegrityError)) is None
