"""Bringing a database to the schema this kapp expects, safely.

New and old databases take the same path: ``upgrade head``. Before an existing SQLite
file is upgraded it is copied aside with SQLite's online backup API (consistent even with
a ``-wal`` file beside it); if the upgrade fails, that copy is put back. A database
stamped with a revision this kapp does not know was written by a newer kapp and is
refused: opening it could only damage it.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from kapp.domain.errors import KappError
from kapp.paths import migrations_dir
from kapp.storage.engine import apply_key, database_key, sqlite_path

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

HEAD_REVISION = "0008_sign_in_names"
"""The newest schema revision this kapp ships (a test holds it to the migration scripts).
An up-to-date database is recognised from it with one query, without loading Alembic,
which would otherwise be a good part of start-up."""


class NewerDatabaseError(KappError):
    """The database was written by a newer version of kapp."""


class NotAKappDatabase(KappError):
    """The file holds tables but is not a kapp database."""


class MigrationFailed(KappError):
    """An upgrade failed; the database was put back as it was."""


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    from_revision: str | None
    to_revision: str
    backup_path: Path | None


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "kapp ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _has_tables(engine: Engine) -> bool:
    return bool(sa.inspect(engine).get_table_names())


def schema_state(engine: Engine) -> str:
    """One of "empty", "current", "behind", "newer", "foreign"."""
    revision = current_revision(engine)
    if revision is None:
        return "foreign" if _has_tables(engine) else "empty"
    if revision == head_revision():
        return "current"
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    try:
        script.get_revision(revision)
    except Exception:
        return "newer"
    return "behind"


def is_current(engine: Engine) -> bool:
    """Is the database at this kapp's schema revision? One query, no Alembic."""
    try:
        with engine.connect() as conn:
            stamped = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:
        return False  # no such table (new or foreign file), or unreadable: the long path
    return [row[0] for row in stamped] == [HEAD_REVISION]


def refuse_unusable(engine: Engine) -> str:
    """Raise with a clear message when kapp must not touch this database."""
    state = schema_state(engine)
    if state == "newer":
        raise NewerDatabaseError(
            "This database was written by a newer version of kapp (schema revision "
            f"{current_revision(engine)}). Install that version or a later one to open it; "
            "this version will not change it."
        )
    if state == "foreign":
        raise NotAKappDatabase(
            "This file holds a database that kapp did not create. Choose another file."
        )
    return state


def backup_copy(engine: Engine, destination: Path) -> Path:
    """A consistent copy of a live SQLite database, via the online backup API.

    The copy of an encrypted database is encrypted under the same key (SQLCipher's backup
    API copies encrypted-to-encrypted when both ends have the key), so the database's key
    file opens it too."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    key = database_key(engine)
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        target = type(source)(str(destination))  # same driver: sqlite3 or sqlcipher3
        try:
            if key is not None:
                apply_key(target, key)
            source.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
    finally:
        raw.close()
    return destination


def upgrade(engine: Engine, *, revision: str = "head") -> UpgradeResult:
    """Bring the database to ``revision`` (normally head), copying it aside first."""
    state = refuse_unusable(engine)
    before = current_revision(engine)
    target = head_revision() if revision == "head" else revision
    if state == "current" and revision == "head":
        return UpgradeResult(before, target, None)
    backup = None
    db_file = sqlite_path(engine)
    if state == "behind" and db_file is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = backup_copy(engine, db_file.with_name(f"{db_file.name}.pre-upgrade-{stamp}"))
        _copy_key_file(db_file, backup)
        log.info("Copied the database aside before upgrading: %s", backup.name)
    from alembic import command

    try:
        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as exc:
        if backup is not None and db_file is not None:
            _restore_file(engine, backup, db_file)
            raise MigrationFailed(
                f"Upgrading the database failed ({type(exc).__name__}); it was put back "
                f"exactly as it was from the copy {backup.name}."
            ) from exc
        raise
    return UpgradeResult(before, target, backup)


def _copy_key_file(db_file: Path, copy: Path) -> None:
    """An encrypted copy keeps the key file beside it, so it opens on its own."""
    from kapp.storage.keyfile import key_file_path, write_atomically

    keys = key_file_path(db_file)
    if keys.exists():
        write_atomically(key_file_path(copy), keys.read_bytes())


def _restore_file(engine: Engine, backup: Path, db_file: Path) -> None:
    engine.dispose()
    for suffix in ("-wal", "-shm"):
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, db_file)
