"""A real PostgreSQL server shutting down turns kapp away with SQLSTATE 57P03
(cannot_connect_now, "the database system is shutting down"): kapp calls that
"server_restarting", in its own words, never "damaged" or "cannot be reached".

A server stopped in "smart" mode waits for its last client to leave and meanwhile refuses
every new connection with 57P03, for as long as that client stays: a shutdown that holds
still while the test connects. The shared test server cannot be stopped, so this test
starts its own small cluster from the same server binaries (a few seconds). Runs under
``make test-postgres`` (KAPP_TEST_POSTGRES_URL; .ci/postgres-tests names the binaries in
KAPP_TEST_PG_BINDIR); skipped otherwise."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from kapp.domain.errors import StorageUnavailable
from kapp.storage.database import Database, open_database

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")
pytestmark = [pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set"),
              pytest.mark.slow]


def _bindir() -> Path | None:
    named = os.environ.get("KAPP_TEST_PG_BINDIR")
    candidates = [Path(named)] if named else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        if p.parent.name.isdigit() else 0, reverse=True)
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()),
                None)


def _as_server_user(*command: str | Path) -> list[str]:
    """initdb and postgres refuse to run as root: as the ``postgres`` user then."""
    words = [str(c) for c in command]
    return ["runuser", "-u", "postgres", "--", *words] if os.geteuid() == 0 else words


@dataclass
class Cluster:
    bindir: Path
    data: Path
    port: int

    def url(self, database: str = "kapp") -> str:
        return f"postgresql+psycopg://kapp@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(_as_server_user(self.bindir / "pg_ctl", "-D", self.data, *args),
                              capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) found")
    work = Path(tempfile.mkdtemp(prefix="kapp-pg-restart-"))
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    made = Cluster(bindir, work / "data", port)
    try:
        subprocess.run(_as_server_user(bindir / "initdb", "-D", made.data, "-A", "trust",
                                       "-U", "postgres", "-E", "UTF8", "--no-locale",
                                       "--no-sync"),
                       capture_output=True, text=True, timeout=120, check=True)
        made.pg_ctl("-l", str(work / "server.log"), "-w", "-t", "60", "-o",
                    f"-p {port} -h 127.0.0.1 -k {work} -c fsync=off", "start")
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE ROLE kapp LOGIN")
            conn.execute("CREATE DATABASE kapp OWNER kapp")
        yield made
    finally:
        made.pg_ctl("-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(work, ignore_errors=True)


def test_a_server_shutting_down_is_restarting_in_kapps_words(cluster: Cluster) -> None:
    import psycopg

    database: Database = open_database(cluster.url()).database  # kapp at work meanwhile
    last_client = psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres",
                                  dbname="postgres", autocommit=True)
    try:
        cluster.pg_ctl("-m", "smart", "-W", "stop")  # waits for last_client to leave
        refused = None
        for _ in range(200):  # the postmaster takes a moment to enter its shutdown
            try:
                psycopg.connect(host="127.0.0.1", port=cluster.port, user="kapp",
                                dbname="kapp").close()
            except psycopg.OperationalError as exc:
                refused = exc
                break
            time.sleep(0.05)
        assert refused is not None and "shutting down" in str(refused), refused

        # A workstation whose connection is replaced now (the pool's were recycled).
        database.engine.dispose()
        with pytest.raises(StorageUnavailable) as reading, database.reading() as s:
            s.execute(sa.text("SELECT 1"))
        assert reading.value.kind == "server_restarting"
        assert str(reading.value).startswith(
            f"The clinic's database server (127.0.0.1:{cluster.port}) is restarting (starting "
            "up or shutting down), so kapp could not read the records just now.")

        with pytest.raises(StorageUnavailable) as saving, database.unit_of_work() as uow:
            uow.session.execute(sa.text("SELECT 1"))
        assert saving.value.kind == "server_restarting"
        assert StorageUnavailable.NOT_SAVED in str(saving.value)

        with pytest.raises(StorageUnavailable) as opening:  # kapp opened just now
            open_database(cluster.url())
        assert opening.value.kind == "server_restarting"
        assert f"at 127.0.0.1:{cluster.port} just now: it is restarting" in str(opening.value)
        for said in (reading.value, saving.value, opening.value):
            assert "damaged" not in str(said) and "cannot be reached" not in str(said)
            assert "57P03" not in str(said) and "FATAL" not in str(said)
    finally:
        last_client.close()  # the shutdown completes
        database.dispose()
