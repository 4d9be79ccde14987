"""Alembic: pytest-alembic's built-in checks, the upgrade path, refusals, triggers."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy.engine import make_url

from kapp.paths import migrations_dir
from kapp.storage.database import open_database
from kapp.storage.engine import create_engine, sqlite_url
from kapp.storage.migrate import (
    MigrationFailed,
    NewerDatabaseError,
    NotAKappDatabase,
    head_revision,
    schema_state,
    upgrade,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def alembic_config() -> dict[str, str]:
    return {"script_location": str(migrations_dir())}


@pytest.fixture
def alembic_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """pytest-alembic's database: a new SQLite file; on a PostgreSQL run, an emptied
    second database beside the test database (<name>_alembic, made when missing), so that
    the model/DDL check and every upgrade and downgrade run on PostgreSQL too."""
    url = os.environ.get("KAPP_TEST_POSTGRES_URL")
    if not url:
        engine = create_engine(sqlite_url(tmp_path / "alembic.db"))
    else:
        main = make_url(url)
        engine = create_engine(main.set(database=f"{main.database}_alembic"),
                               poolclass=sa.pool.NullPool)
        try:
            engine.connect().close()
        except sa.exc.OperationalError:  # no such database yet
            admin = create_engine(main, poolclass=sa.pool.NullPool,
                                  isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'CREATE DATABASE "{main.database}_alembic"')
            except sa.exc.ProgrammingError as exc:
                pytest.skip(f"no database {main.database}_alembic, and it cannot be made "
                            f"({type(exc.orig).__name__}): create it for the Alembic checks")
            finally:
                admin.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    yield engine
    engine.dispose()


def _triggers(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("select name from sqlite_master where type='trigger'")}


@pytest.mark.sqlite_only
def test_new_database_reaches_head(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "new.db"))
    result = upgrade(engine)
    assert (result.from_revision, result.to_revision) == (None, head_revision())
    assert result.backup_path is None  # nothing to copy aside yet
    assert schema_state(engine) == "current"
    engine.dispose()
    assert "trg_audit_log_no_update" in _triggers(tmp_path / "new.db")


@pytest.mark.sqlite_only
def test_fixture_database_from_revision_0001_upgrades_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "kapp-rev0001.db", path)
    with sqlite3.connect(path) as conn:
        before = conn.execute("select mrn, family_name from patients order by mrn").fetchall()
        vitals_before = conn.execute("select count(*) from vitals_readings").fetchone()[0]
    assert before and vitals_before

    engine = create_engine(sqlite_url(path))
    assert schema_state(engine) == "behind"
    result = upgrade(engine)
    engine.dispose()

    assert result.from_revision == "0001" and result.to_revision == head_revision()
    assert result.backup_path is not None and result.backup_path.exists()
    with sqlite3.connect(result.backup_path) as conn:  # the copy is the old database
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == "0001"
    with sqlite3.connect(path) as conn:
        assert conn.execute("select mrn, family_name from patients order by mrn").fetchall() \
            == before
        assert conn.execute("select count(*) from vitals_readings").fetchone()[0] == vitals_before
    assert {"trg_audit_log_no_update", "trg_vitals_readings_no_delete"} <= _triggers(path)


@pytest.mark.sqlite_only
def test_database_from_a_newer_kapp_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    engine = create_engine(sqlite_url(path))
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("update alembic_version set version_num = '9999_future'")
    engine.dispose()
    size_before = path.read_bytes()
    with pytest.raises(NewerDatabaseError, match="newer version of kapp"):
        open_database(sqlite_url(path))
    assert path.read_bytes() == size_before


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_kapp_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table something_else (x integer)")
    with pytest.raises(NotAKappDatabase):
        open_database(sqlite_url(path))


@pytest.mark.sqlite_only
def test_failed_upgrade_puts_the_copy_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "kapp-rev0001.db", path)
    original = _dump(path)

    def broken_upgrade(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated failure half-way")

    monkeypatch.setattr("alembic.command.upgrade", broken_upgrade)
    engine = create_engine(sqlite_url(path))
    with pytest.raises(MigrationFailed, match="put back"):
        upgrade(engine)
    engine.dispose()
    assert _dump(path) == original
    with sqlite3.connect(path) as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == "0001"


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


@pytest.mark.sqlite_only
def test_audit_log_refuses_update_and_delete(tmp_path: Path) -> None:
    from kapp.storage.database import Database

    engine = create_engine(sqlite_url(tmp_path / "a.db"))
    upgrade(engine)
    db = Database(engine)
    with db.unit_of_work() as uow:
        uow.audit(user_id=None, action="test", entity="x", entity_id="1")
    for statement in ("update audit_log set action = 'forged'", "delete from audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="not allowed"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    engine.dispose()


def test_the_declared_head_is_the_newest_migration_script() -> None:
    from kapp.storage.migrate import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION


@pytest.mark.sqlite_only
def test_an_up_to_date_database_opens_without_loading_alembic(tmp_path: Path) -> None:
    """Start-up stays quick: the everyday open is one query, not the migration machinery."""
    import subprocess
    import sys

    path = tmp_path / "kapp.db"
    open_database(sqlite_url(path)).database.dispose()
    probe = ("import sys; from kapp.storage.database import open_database; "
             "from kapp.storage.engine import sqlite_url; "
             f"open_database(sqlite_url({str(path)!r})).database.dispose(); "
             "print('alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
