"""The command line against the clinic's PostgreSQL server (``--database-url``), as IT
would run it next to the app: a demo clinic written into the server, checked, exported
as CSV and reported as PDF; and a server out of reach or full told in plain words.
Runs under ``make test-postgres`` (KAPP_TEST_POSTGRES_URL); skipped otherwise."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from reports.helpers import pdf_text
from test_cli import kapp

from kapp.cli import main

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set")


@pytest.fixture
def server(postgres_template) -> Iterator[str]:
    """The test server's database, as migrated (no patients); given back so afterwards."""
    postgres_template.reset()
    yield postgres_template.url
    postgres_template.reset()


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
    finally:
        engine.dispose()


def test_demo_check_export_and_report_on_the_server(server: str, tmp_path: Path,
                                                    capsys) -> None:
    made = kapp("demo", "--database-url", server, "--patients", "3", "--seed", "7")
    assert made.returncode == 0, made.stderr
    assert "patients: 3" in made.stdout
    assert "Recovery key" not in made.stdout  # a server is not a file kapp encrypts
    assert _count(server, "patients") == 3 and _count(server, "vitals_readings") > 0

    checked = kapp("db", "check", "--database-url", server)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Schema: up to date" in checked.stdout and "Connection: ok" in checked.stdout
    assert checked.stdout.rstrip().endswith("Healthy")

    assert main(["export", "csv", "--database-url", server, "--out",
                 str(tmp_path / "all")]) == 0
    with (tmp_path / "all" / "patients.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    mrn = sorted(rows, key=lambda r: r["mrn"])[0]["mrn"]
    assert "sessions.csv" in capsys.readouterr().out

    out = tmp_path / "p.pdf"
    assert main(["report", "progress", "--database-url", server, "--patient", mrn,
                 "--out", str(out)]) == 0
    assert "Progress report:" in pdf_text(out)[0]

    verified = kapp("audit", "verify", "--database-url", server)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_second_demo_on_the_same_server_is_refused_in_words(server: str) -> None:
    assert kapp("demo", "--database-url", server, "--patients", "1").returncode == 0
    again = kapp("demo", "--database-url", server, "--patients", "1", "--seed", "2")
    assert again.returncode == 2
    assert "already holds demo patients" in again.stderr
    assert "a new, empty database on the server" in again.stderr
    assert "Traceback" not in again.stderr
    assert _count(server, "patients") == 1


def test_a_server_out_of_reach_is_told_by_the_cli(server: str) -> None:
    url = sa.make_url(server)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = url.set(host="127.0.0.1", port=port, password="s3cret-pw")
    for command in (["demo", "--patients", "1"], ["export", "csv", "--out", "x"],
                    ["db", "check"]):
        result = kapp(*command, "--database-url", gone.render_as_string(hide_password=False))
        assert result.returncode != 0
        said = result.stdout + result.stderr
        assert f"kapp cannot reach the clinic's database server at 127.0.0.1:{port}" in said
        assert "Traceback" not in said and "s3cret-pw" not in said and "damaged" not in said


def test_a_full_server_is_told_by_the_cli(server: str) -> None:
    url = sa.make_url(server)
    admin = sa.create_engine(url.set(username="postgres", database="postgres"),
                             poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP ROLE IF EXISTS kapp_no_slot")
        conn.exec_driver_sql(f"CREATE ROLE kapp_no_slot LOGIN CONNECTION LIMIT 0 IN ROLE "
                             f"{url.username}")
    try:
        full = url.set(username="kapp_no_slot").render_as_string(hide_password=False)
        result = kapp("db", "check", "--database-url", full)
        assert result.returncode != 0
        said = result.stdout + result.stderr
        assert (f"kapp cannot connect to the clinic's database server at "
                f"{url.host}:{url.port}: it is full") in said
        assert "Traceback" not in said and "damaged" not in said
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP ROLE IF EXISTS kapp_no_slot")
        admin.dispose()
