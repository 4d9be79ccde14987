"""Ending kapp's PostgreSQL session from outside, as an administrator (or a server restart,
a failover, a dropped network) would: for the lost-connection tests of the storage and GUI
suites (run under ``make test-postgres``)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from kapp.storage.database import Database


def terminate(db: Database, pid: int) -> None:
    """End server process ``pid`` from another connection, as an administrator would, and
    wait until it is gone."""
    other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    try:
        with other.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                {"pid": pid}).scalar()
            for _ in range(500):
                if not conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity "
                                            "WHERE pid = :pid"), {"pid": pid}).scalar():
                    return
                time.sleep(0.01)
        pytest.fail(f"server process {pid} did not end")
    finally:
        other.dispose()


def backend_pid(connection: Any) -> int:
    return connection.connection.dbapi_connection.info.backend_pid


@contextmanager
def killed_at(db: Database, moment: str) -> Iterator[list[int]]:
    """Terminate the session of the next write transaction at ``moment``: "turn" (as it
    begins, before it takes its turn: kapp's raw-cursor ``driver_execute`` meets the dead
    connection), "begin" (just after it took its turn, before its first statement) or
    "commit" (every row written, just before COMMIT). Yields the terminated server pids."""
    killed: list[int] = []

    def kill(connection: sa.Connection) -> None:
        if killed or connection.get_execution_options().get("kapp_read_only"):
            return
        killed.append(backend_pid(connection))
        terminate(db, killed[-1])

    name = "begin" if moment == "turn" else moment
    event.listen(db.engine, name, kill, insert=moment == "turn")
    try:
        yield killed
    finally:
        event.remove(db.engine, name, kill)


class Cable:
    """A network cable between kapp and the server that the test can pull and plug back
    in: a TCP relay on 127.0.0.1. ``pull()`` drops every open connection and refuses new
    ones (a server that was stopped, or a network that went away); ``plug()`` lets them
    through again (the server is back)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.plug()

    def plug(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def pull(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for s in ([listener] if listener else []) + sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # pulled
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # pulled meanwhile
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class _DriverError(Exception):
    """Shaped like psycopg's error for a lost connection: its words and SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class Outage:
    """The database server out of reach, played on any database (SQLite too, so that plain
    ``make test`` covers the screens' words): while ``down``, every transaction kapp
    begins fails as psycopg's does when the connection is lost (SQLSTATE 08006, its words),
    and
    the storage layer names ``server`` in its message, as for a real server. ``up()`` ends
    it. Other kinds: ``sqlstate="53300"`` (full), ``"57P03"`` (restarting)."""

    WORDS: ClassVar[dict[str, str]] = {"08006": "server closed the connection unexpectedly",
                                       "53300": "too many connections for role \"kapp\"",
                                       "57P03": "the database system is starting up"}

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch, *,
                 server: str = "db.clinic:5432", sqlstate: str = "08006") -> None:
        self.db, self.sqlstate, self.down = db, sqlstate, False
        monkeypatch.setattr(db, "_server", server)
        event.listen(db.engine, "begin", self._fail, insert=True)
        self._listening = True

    def _fail(self, conn: Any) -> None:
        if self.down:
            raise sa.exc.OperationalError("BEGIN", None, _DriverError(
                self.WORDS[self.sqlstate], self.sqlstate))

    def cut(self) -> Outage:
        self.down = True
        return self

    def up(self) -> None:
        self.down = False

    def remove(self) -> None:
        if self._listening:
            event.remove(self.db.engine, "begin", self._fail)
            self._listening = False
