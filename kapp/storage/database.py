"""Opening a kapp database and running units of work on it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from kapp.domain.clock import Clock, SystemClock
from kapp.domain.ids import new_id
from kapp.storage import audit
from kapp.storage.backup import backup_folder, latest_backup
from kapp.storage.engine import READ_ONLY, create_engine, sqlite_path
from kapp.storage.faults import server_label, translate, unreachable_at_start
from kapp.storage.health import damaged, quick_check, wal_problem
from kapp.storage.location import refuse_unsafe_location
from kapp.storage.migrate import (
    HEAD_REVISION,
    UpgradeResult,
    is_current,
    refuse_unusable,
    upgrade,
)
from kapp.storage.models import Meta

log = logging.getLogger(__name__)


@dataclass
class UnitOfWork:
    """One transaction: the ORM session plus the helpers every service needs."""

    session: OrmSession
    now: datetime
    origin: str

    def audit(
        self,
        *,
        user_id: uuid.UUID | None,
        action: str,
        entity: str,
        entity_id: uuid.UUID | str | None,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> audit.Appended:
        return audit.append(
            self.session,
            at=self.now,
            origin=self.origin,
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            patient_id=patient_id,
            session_id=session_id,
            old=old,
            new=new,
            reason=reason,
        )


@dataclass
class Writing:
    """One write transaction without the ORM, for the few hot paths that only read a row
    or two and insert: the same BEGIN IMMEDIATE, the same durable commit, the same
    audit chain as ``UnitOfWork``, without building an ORM session around them."""

    connection: Connection
    now: datetime
    origin: str

    def audit(
        self,
        *,
        user_id: uuid.UUID | None,
        action: str,
        entity: str,
        entity_id: uuid.UUID | str | None,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        reason: str | None = None,
    ) -> audit.Appended:
        return audit.append_on(
            self.connection, at=self.now, origin=self.origin, user_id=user_id,
            action=action, entity=entity, entity_id=entity_id, patient_id=patient_id,
            session_id=session_id, old=old, new=new, reason=reason,
        )


class Database:
    """A kapp database: its engine, its installation id and its clock."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._readers = sessionmaker(engine.execution_options(**{READ_ONLY: True}),
                                     expire_on_commit=False)
        self._origin: str | None = None
        self._server = server_label(engine.url)  # named in a lost connection's message

    @property
    def origin(self) -> str:
        """This installation's id, stamped on every row it makes (for later merging)."""
        if self._origin is None:
            with self._sessions.begin() as s:
                row = s.get(Meta, "node_id")
                if row is None:
                    row = Meta(key="node_id", value=str(new_id()))
                    s.add(row)
                self._origin = row.value
        return self._origin

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """A write transaction: commits on success, rolls back wholly on any error.

        A storage fault (disk full, read-only file, I/O error, lock held too long) comes
        out as ``StorageUnavailable`` with a message in plain words; the transaction was
        rolled back, so nothing of it is saved, and the next call may succeed. So does a
        lost connection to a database server ("server_unreachable"): the server drops the
        transaction with the connection, and the pool gives the next call a new one.
        """
        try:
            origin = self.origin
            with self._sessions.begin() as session:
                yield UnitOfWork(session=session, now=self.clock.now(), origin=origin)
        except sa_exc.DBAPIError as exc:
            fault = translate(exc, server=self._server)
            if fault is None:
                raise
            log.warning("Storage fault while saving (%s): %s", fault.kind, exc.orig)
            raise fault from exc

    @contextmanager
    def writing(self) -> Iterator[Writing]:
        """A write transaction on a plain connection (see ``Writing``): commits on
        success, rolls back wholly on any error; storage faults as in ``unit_of_work``."""
        try:
            origin = self.origin
            with self.engine.begin() as connection:
                yield Writing(connection=connection, now=self.clock.now(), origin=origin)
        except sa_exc.DBAPIError as exc:
            fault = translate(exc, server=self._server)
            if fault is None:
                raise
            log.warning("Storage fault while saving (%s): %s", fault.kind, exc.orig)
            raise fault from exc

    @contextmanager
    def reading(self) -> Iterator[OrmSession]:
        """A read-only look; nothing done here is committed."""
        try:
            with self._readers() as session:
                try:
                    yield session
                finally:
                    session.rollback()
        except sa_exc.DBAPIError as exc:
            fault = translate(exc, saving=False, server=self._server)
            if fault is None:
                raise
            log.warning("Storage fault while reading (%s): %s", fault.kind, exc.orig)
            raise fault from exc

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True, slots=True)
class Opened:
    database: Database
    upgrade: UpgradeResult


def open_database(
    url: URL | str, *, clock: Clock | None = None, migrate: bool = True,
    key: bytes | None = None, check: bool = True,
) -> Opened:
    """Open (and if needed create or upgrade) the database at ``url``; with ``key`` the
    SQLite file is encrypted (SQLCipher) under that raw 32-byte key.

    A SQLite file is first checked: refused on a network share or in a cloud-synced
    folder (``UnsafeLocation``), and, when it already exists, its -wal checked against
    its -shm and the file given a ``quick_check`` (``DatabaseDamaged``, naming the latest
    verified backup). With ``key`` the SQLite file is encrypted (SQLCipher) under that
    raw 32-byte key. Raises ``NewerDatabaseError``, ``NotAKappDatabase`` or
    ``WrongDatabaseKey`` with a message fit for the user; a database server that cannot
    be reached gives ``StorageUnavailable`` ("server_unreachable") naming its host and
    port.
    """
    url = make_url(url)
    path = sqlite_path(url)
    existing = False
    if path is not None:
        refuse_unsafe_location(path)
        existing = path.exists() and path.stat().st_size > 0
        if check and existing:
            problem = wal_problem(path)
            if problem is not None:
                raise damaged(path, [problem], _latest_backup(path))
    engine = create_engine(url, key=key)
    try:
        if check and existing and _worth_a_quick_check(path):  # type: ignore[arg-type]
            findings = quick_check(engine)
            if findings != ["ok"]:
                raise damaged(path, findings, _latest_backup(path))  # type: ignore[arg-type]
        if migrate and is_current(engine):  # the everyday case, kept fast for start-up
            return Opened(Database(engine, clock=clock),
                          UpgradeResult(HEAD_REVISION, HEAD_REVISION, None))
        refuse_unusable(engine)
        result = upgrade(engine) if migrate else UpgradeResult(None, "", None)
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        fault = translate(exc)
        if path is None and fault is not None and fault.from_server:
            log.warning("The database server cannot be reached (%s): %s", fault.kind,
                        exc.orig)
            raise unreachable_at_start(url, exc) from exc
        raise
    except Exception:
        engine.dispose()
        raise
    return Opened(Database(engine, clock=clock), result)


QUICK_CHECK_ALWAYS_BYTES = 256 * 2**20
"""Up to this size every start-up runs ``quick_check`` (about a second per 200 MB). A
larger file (years of a busy clinic) is checked at start-up only after an unclean end,
when its -wal still holds pages; each daily backup runs the full integrity check on it."""


def _worth_a_quick_check(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    unclean = wal.exists() and wal.stat().st_size > 0
    return unclean or path.stat().st_size <= QUICK_CHECK_ALWAYS_BYTES


def _latest_backup(path: Path) -> Path | None:
    found = latest_backup(backup_folder(path))
    return found.path if found is not None else None
