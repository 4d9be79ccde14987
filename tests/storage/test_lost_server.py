"""Recognising a lost or unreachable database server (kapp/storage/faults.py), on fakes
of the driver's errors: no server and no SQLite file needed. The same on a real server:
tests/storage/test_postgres_lost_connection.py."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from kapp.domain.errors import KappError, StorageUnavailable
from kapp.storage.faults import fault_kind, server_label, translate, unreachable_at_start


class FakeServerError(Exception):
    """Shaped like a psycopg error: its words, and the server's SQLSTATE when it sent one."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(orig: Exception, *, invalidated: bool = False,
            kind: type[sa.exc.DBAPIError] = sa.exc.OperationalError) -> sa.exc.DBAPIError:
    return kind("INSERT INTO vitals_readings ...", None, orig,
                connection_invalidated=invalidated)


@pytest.mark.parametrize("sqlstate", ["08000", "08003", "08006", "08001", "08004", "08P01",
                                      "57P01", "57P02"])
def test_connection_sqlstates_are_an_unreachable_server(sqlstate: str) -> None:
    exc = wrapped(FakeServerError("anything at all", sqlstate))
    assert fault_kind(exc) == "server_unreachable"
    assert fault_kind(exc.orig) == "server_unreachable"  # the bare driver error too


@pytest.mark.parametrize("words", [
    "server closed the connection unexpectedly\n\tThis probably means the server "
    "terminated abnormally\n\tbefore or while processing the request.",
    "terminating connection due to administrator command",
    "consuming input failed: server closed the connection unexpectedly",
    "the connection is lost",
    "the connection is closed",
    'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
    "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
    "connections?",
    "could not connect to server: Connection refused",
    "failed to resolve host 'db.clinic.invalid': [Errno -2] Name or service not known",
    "could not receive data from server: Connection timed out",
    "could not send data to server: Broken pipe",
    "SSL connection has been closed unexpectedly",
    "connection failed: connection to server at \"10.0.0.5\", port 5432 failed: "
    "No route to host",
])
def test_the_drivers_words_for_a_lost_server(words: str) -> None:
    assert fault_kind(wrapped(FakeServerError(words))) == "server_unreachable"


def test_a_connection_sqlalchemy_invalidated_is_a_lost_server() -> None:
    odd = FakeServerError("something no list of words knows")
    assert fault_kind(wrapped(odd)) is None
    assert fault_kind(wrapped(odd, invalidated=True)) == "server_unreachable"
    assert fault_kind(wrapped(odd, invalidated=True,
                              kind=sa.exc.InterfaceError)) == "server_unreachable"


def test_a_local_files_closed_connection_is_no_server() -> None:
    # SQLAlchemy calls sqlite3's "Cannot operate on a closed database" a disconnect too;
    # a local file has no server, and that stays a programming error.
    closed = sqlite3.ProgrammingError("Cannot operate on a closed database.")
    assert fault_kind(wrapped(closed, invalidated=True, kind=sa.exc.ProgrammingError)) is None


def test_other_server_errors_are_left_alone() -> None:
    constraint = FakeServerError('duplicate key value violates unique constraint "uq"',
                                 "23505")
    assert translate(wrapped(constraint, kind=sa.exc.IntegrityError)) is None
    assert translate(wrapped(FakeServerError('relation "x" does not exist', "42P01"),
                             kind=sa.exc.ProgrammingError)) is None
    assert fault_kind(wrapped(FakeServerError("canceling statement due to lock timeout",
                                              "55P03"))) == "locked"


def test_the_saving_message_in_plain_words() -> None:
    fault = translate(wrapped(FakeServerError("terminating connection due to administrator "
                                              "command", "57P01")), server="db.clinic:5432")
    assert isinstance(fault, StorageUnavailable) and isinstance(fault, KappError)
    assert fault.kind == "server_unreachable"
    text = str(fault)
    assert text.startswith("The clinic's database server (db.clinic:5432) cannot be reached")
    assert "This entry was NOT saved; it is still in the form as you typed it." in text
    assert "ask IT" in text and text.endswith("then save again.")
    assert "administrator command" not in text and "57P01" not in text


def test_the_reading_message_in_plain_words() -> None:
    fault = translate(wrapped(FakeServerError("the connection is lost")), saving=False)
    assert fault is not None and fault.kind == "server_unreachable"
    assert str(fault).startswith("The clinic's database server cannot be reached just now")
    assert "NOT saved" not in str(fault)


@pytest.mark.parametrize(("url", "label"), [
    ("postgresql+psycopg://kapp:s3cret-pw@db.clinic.example:6543/kapp",
     "db.clinic.example:6543"),
    ("postgresql+psycopg://kapp:s3cret-pw@db.clinic.example/kapp", "db.clinic.example:5432"),
    ("postgresql+psycopg://kapp@/kapp?host=/var/run/postgresql",
     "/var/run/postgresql:5432"),
    ("sqlite:///clinic.db", None),
])
def test_the_server_is_named_by_host_and_port_never_the_password(url: str,
                                                                 label: str | None) -> None:
    assert server_label(make_url(url)) == label


@pytest.mark.parametrize(("said", "why"), [
    ("connection failed: connection to server at \"10.0.0.5\", port 6543 failed: "
     "Connection refused", "it refused the connection"),
    ("failed to resolve host 'db.clinic.example': [Errno -2] Name or service not known",
     "its name could not be found on the network"),
    ("connection failed: connection to server at \"10.0.0.5\", port 6543 failed: "
     "timeout expired", "it did not answer in time"),
])
def test_the_start_message_names_the_server_and_why(said: str, why: str) -> None:
    url = make_url("postgresql+psycopg://kapp:s3cret-pw@db.clinic.example:6543/kapp")
    fault = unreachable_at_start(url, wrapped(FakeServerError(said)))
    text = str(fault)
    assert fault.kind == "server_unreachable"
    assert text.startswith("kapp cannot reach the clinic's database server at "
                           "db.clinic.example:6543 (" + why)
    assert "s3cret-pw" not in text and "kapp:" not in text
    assert "ask IT" in text and "open kapp again" in text


def _no_server_url() -> str:
    import socket

    with socket.socket() as s:  # a port nothing listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://kapp:s3cret-pw@127.0.0.1:{port}/kapp"


def test_opening_a_server_that_is_not_there_says_so(caplog: Any) -> None:
    pytest.importorskip("psycopg")
    from kapp.storage.database import open_database

    url = _no_server_url()
    with pytest.raises(StorageUnavailable) as caught:
        open_database(url)
    assert caught.value.kind == "server_unreachable"
    port = make_url(url).port
    assert str(caught.value).startswith(
        f"kapp cannot reach the clinic's database server at 127.0.0.1:{port} (it refused "
        "the connection")
    assert "s3cret-pw" not in str(caught.value) + caplog.text


def test_the_cli_says_so_too(capsys: Any) -> None:
    pytest.importorskip("psycopg")
    from kapp.cli import main

    url = _no_server_url()
    assert main(["db", "check", "--database-url", url]) != 0
    err = capsys.readouterr().err
    assert "cannot reach the clinic's database server at 127.0.0.1:" in err
    assert "damaged" not in err and "s3cret-pw" not in err and "Traceback" not in err


def test_a_vanished_server_is_given_up_on_in_seconds_not_a_quarter_of_an_hour() -> None:
    pytest.importorskip("psycopg")
    from sqlalchemy import event

    from kapp.storage.engine import create_engine

    url = _no_server_url() + "?connect_timeout=3"
    engine = create_engine(url)
    given: dict[str, Any] = {}
    event.listen(engine, "do_connect", lambda _d, _r, _a, params: given.update(params))
    with pytest.raises(sa.exc.OperationalError), engine.connect():
        pass
    engine.dispose()
    assert given["connect_timeout"] == "3"  # the URL's own setting wins
    assert given["keepalives"] == 1 and given["keepalives_idle"] == 10
    assert given["keepalives_count"] == 3 and given["keepalives_interval"] == 5
    import psycopg

    if psycopg.pq.version() >= 120000:
        assert given["tcp_user_timeout"] == 15000
