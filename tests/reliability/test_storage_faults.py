"""Disk full, read-only file, I/O errors, a lock held too long: plain words, nothing
half-saved, and saving works again once the problem is gone."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from kapp.devtools.checks import content_digest
from kapp.domain.errors import KappError, StorageUnavailable
from kapp.domain.vitals import VitalsInput
from kapp.storage import models as m
from kapp.storage.database import Database
from kapp.storage.faults import fault_kind, translate

pytestmark = pytest.mark.sqlite_only  # faults injected into the SQLite driver


@contextmanager
def on_every_connection(db: Database, *pragmas: str) -> Iterator[None]:
    """Run ``pragmas`` on each new connection while inside; fresh connections after."""
    def run(dbapi_connection: Any, _record: Any) -> None:
        for pragma in pragmas:
            dbapi_connection.execute(pragma)

    db.engine.dispose()
    event.listen(db.engine, "connect", run)
    try:
        yield
    finally:
        event.remove(db.engine, "connect", run)
        db.engine.dispose()


def _note(services, staff, patient, text: str = "Calm, resting.") -> Any:
    return services.records.add_note(actor=staff.nurse, patient_id=patient.id, text=text)


def _notes(db: Database) -> int:
    with db.reading() as s:
        return s.execute(sa.select(sa.func.count()).select_from(m.Note)).scalar_one()


def test_a_read_only_database_refuses_in_plain_words_and_recovers(services, staff, patient,
                                                                  db) -> None:
    before = content_digest(db.engine)
    with on_every_connection(db, "PRAGMA query_only = 1"), \
            pytest.raises(StorageUnavailable) as caught:
        _note(services, staff, patient)
    assert caught.value.kind == "read_only"
    assert "read-only" in str(caught.value) and "NOT saved" in str(caught.value)
    assert "still in the form" in str(caught.value)
    assert content_digest(db.engine) == before
    assert _note(services, staff, patient).text == "Calm, resting."  # works again
    assert _notes(db) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes through file permissions")
def test_a_file_made_read_only_by_its_permissions(services, staff, patient, db,
                                                  db_path: Path) -> None:
    db.engine.dispose()
    for path in (db_path, db_path.parent):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        with pytest.raises(StorageUnavailable):
            _note(services, staff, patient)
    finally:
        db_path.parent.chmod(0o755)
        db_path.chmod(0o644)
    db.engine.dispose()
    _note(services, staff, patient)


def test_a_full_disk_refuses_in_plain_words_and_recovers(services, staff, patient, db) -> None:
    before = content_digest(db.engine)
    with db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    with on_every_connection(db, f"PRAGMA max_page_count = {pages}"), \
            pytest.raises(StorageUnavailable) as caught:
        _note(services, staff, patient, "A long note. " * 1500)
    assert caught.value.kind == "full"
    assert str(caught.value).startswith("The disk is full")
    assert "NOT saved" in str(caught.value)
    assert content_digest(db.engine) == before
    _note(services, staff, patient, "A long note. " * 1500)
    assert _notes(db) == 1


def test_a_lock_held_too_long_by_another_program(services, staff, patient, db,
                                                 db_path: Path) -> None:
    _note(services, staff, patient)  # origin and schema already read
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with on_every_connection(db, "PRAGMA busy_timeout = 50"), \
                pytest.raises(StorageUnavailable) as caught:
            _note(services, staff, patient)
        assert caught.value.kind == "locked" and "NOT saved" in str(caught.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    _note(services, staff, patient)
    assert _notes(db) == 2


class FaultInjector:
    """Raises "disk I/O error" on the Nth driver operation (execute or commit)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.fail_at: int | None = None
        self.count = 0
        self.injected = False

    def _tick(self) -> None:
        self.count += 1
        if self.fail_at is not None and self.count == self.fail_at:
            self.injected = True
            raise sqlite3.OperationalError("disk I/O error")

    def _on_execute(self, *_args: Any) -> None:
        self._tick()  # returning None lets the driver run the statement

    @contextmanager
    def armed(self, fail_at: int) -> Iterator[FaultInjector]:
        self.fail_at, self.count, self.injected = fail_at, 0, False
        dialect = self.engine.dialect
        original_commit: Callable[[Any], None] = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            self._tick()
            original_commit(dbapi_connection)

        names = ("do_execute", "do_executemany", "do_execute_no_params")
        for name in names:
            event.listen(self.engine, name, self._on_execute)
        dialect.do_commit = do_commit  # type: ignore[method-assign]
        try:
            yield self
        finally:
            for name in names:
                event.remove(self.engine, name, self._on_execute)
            del dialect.do_commit  # back to the class's method


def _saves(services, staff, planned) -> dict[str, Callable[[], Any]]:
    nurse, sid = staff.nurse, planned.id
    return {
        # a reading that raises an alert: reading + audit + alert + audit
        "vitals with an alert": lambda: services.entries.record_vitals(
            actor=nurse, session_id=sid,
            values=VitalsInput(hr=130, systolic=195, diastolic=100, spo2=97, rr=14)),
        # an event and a change of the session's status, with the audit entry
        "pump start": lambda: services.sessions.record_pump_event(
            actor=nurse, session_id=sid, kind="start", rate_ml_per_h=150),
        "note": lambda: services.records.add_note(actor=nurse, patient_id=planned.patient_id,
                                                  session_id=sid, text="Settled."),
    }


@pytest.mark.parametrize("which", ["vitals with an alert", "pump start", "note"])
def test_io_error_after_n_operations_saves_all_or_nothing(services, staff, planned, db,
                                                          which: str) -> None:
    injector = FaultInjector(db.engine)
    save = _saves(services, staff, planned)[which]
    counts_at_start = _row_counts(db)
    n = 0
    while True:
        n += 1
        before = content_digest(db.engine)
        with injector.armed(n):
            try:
                save()
            except StorageUnavailable as exc:
                assert injector.injected, f"a fault without injection at N={n}"
                assert exc.kind == "io" and "NOT saved" in str(exc)
                failed = True
            else:
                failed = False
        if failed:
            assert content_digest(db.engine) == before, f"half a save left at N={n}"
            continue
        if injector.injected:
            pytest.fail(f"the save reported success although operation {n} failed")
        break
    # The whole save is there: each new row came with its audit entry.
    after = _row_counts(db)
    added = {t: after[t] - counts_at_start[t] for t in after}
    assert added["audit_log"] >= 1
    assert added["audit_log"] == sum(v for t, v in added.items() if t != "audit_log")
    assert n > 3  # the save took several operations, each one tried as the failing one
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def _row_counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                for t in sa.inspect(db.engine).get_table_names()}


def test_translation_leaves_other_errors_alone() -> None:
    constraint = sa.exc.IntegrityError("insert", {}, sqlite3.IntegrityError("UNIQUE failed"))
    assert translate(constraint) is None
    odd = sa.exc.OperationalError("select", {}, sqlite3.OperationalError("no such table: x"))
    assert translate(odd) is None
    full = sa.exc.OperationalError("x", {}, sqlite3.OperationalError("database or disk is full"))
    assert fault_kind(full) == "full"
    assert isinstance(translate(full), KappError)
