"""Backups: made automatically (on closing the app, once a day while it runs) and by an
administrator, kept in a rotation, verified, and restored.

Settings live in the database (``kapp_meta``), so every workstation on the file shares
them: the backup folder (default: ``backups`` beside the database), how many daily,
weekly and monthly backups to keep (7/4/12), and whether to back up on closing and once
a day. Restoring first keeps a copy of the current database, and says how many sessions
each side holds.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from kapp.domain.errors import FieldError, KappError, NotFound, StorageUnavailable
from kapp.domain.permissions import Permission
from kapp.services.base import Actor, Change, ChangeHub, Service, raise_if
from kapp.storage import backup as b
from kapp.storage import models as m
from kapp.storage.database import Database
from kapp.storage.engine import create_engine, database_key, sqlite_url
from kapp.storage.keyfile import key_file_path
from kapp.storage.migrate import schema_state, upgrade

log = logging.getLogger(__name__)

_KEYS = {
    "folder": "backup.folder",
    "daily": "backup.keep_daily",
    "weekly": "backup.keep_weekly",
    "monthly": "backup.keep_monthly",
    "on_close": "backup.on_close",
    "every_day": "backup.every_day",
}


class BackupError(KappError):
    """A backup could not be made, verified or restored; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupSettings:
    folder: str = ""  # empty: the "backups" folder beside the database
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    on_close: bool = True
    every_day: bool = True


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    made_at: datetime
    reason: str  # auto, close, manual, pre-restore
    size: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class BackupCheck:
    path: Path
    ok: bool
    problems: tuple[str, ...]
    sessions: int | None
    patients: int | None


@dataclass(frozen=True, slots=True)
class RestoreResult:
    restored_from: Path
    kept_copy: Path  # the database as it was just before the restore
    sessions_before: int  # in the database before the restore
    sessions_after: int  # in the backup, now the database


def _backup(f: b.BackupFile) -> Backup:
    return Backup(f.path, f.made_at, f.reason, f.size)


class BackupService(Service):
    def __init__(self, db: Database, hub: ChangeHub | None = None,
                 factory: b.EngineFactory | None = None) -> None:
        super().__init__(db, hub)
        # Opens an engine on a backup file. An encrypted database's backups are encrypted
        # under the same key, so they are opened with it.
        key = database_key(db.engine)
        self.factory: b.EngineFactory = factory or (
            (lambda path: create_engine(sqlite_url(path), key=key)) if key is not None
            else b.default_factory)

    # -- where ------------------------------------------------------------------------------
    @property
    def database_path(self) -> Path:
        path = b.database_file(self.db.engine)
        if path is None:
            raise BackupError("This database runs on a server: back it up on the server "
                              "(for example with pg_dump), not from kapp.")
        return path

    @property
    def available(self) -> bool:
        return b.database_file(self.db.engine) is not None

    def folder(self) -> Path:
        chosen = self.settings().folder
        return Path(chosen) if chosen else b.backup_folder(self.database_path)

    # -- settings ----------------------------------------------------------------------------
    def settings(self) -> BackupSettings:
        with self.db.reading() as s:
            rows = dict(s.execute(sa.select(m.Meta.key, m.Meta.value)
                                  .where(m.Meta.key.in_(_KEYS.values()))).all())
        default = BackupSettings()
        values: dict[str, object] = {}
        for name, key in _KEYS.items():
            raw = rows.get(key)
            if raw is None:
                continue
            current = getattr(default, name)
            if isinstance(current, bool):
                values[name] = raw == "1"
            elif isinstance(current, int):
                values[name] = int(raw)
            else:
                values[name] = raw
        return BackupSettings(**values)  # type: ignore[arg-type]

    def update_settings(self, *, actor: Actor, settings: BackupSettings) -> BackupSettings:
        errors: list[FieldError] = []
        for name, label, hi in (("daily", "Daily backups kept", 366),
                                ("weekly", "Weekly backups kept", 520),
                                ("monthly", "Monthly backups kept", 1200)):
            value = getattr(settings, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
                errors.append(FieldError(name, f"{label} must be a whole number from 0 to "
                                         f"{hi}", f"0-{hi}"))
        for name in ("on_close", "every_day"):
            if not isinstance(getattr(settings, name), bool):
                errors.append(FieldError(name, "Choose yes or no"))
        folder = settings.folder
        if not isinstance(folder, str) or len(folder) > 1000 or any(
                ord(c) < 32 for c in folder):
            errors.append(FieldError("folder", "The backup folder must be a folder path"))
            folder = ""
        elif folder.strip() and not Path(folder.strip()).is_absolute():
            errors.append(FieldError("folder", "Give the backup folder's full path"))
        if (isinstance(settings.daily, int) and isinstance(settings.weekly, int)
                and isinstance(settings.monthly, int) and not errors
                and settings.daily + settings.weekly + settings.monthly == 0):
            errors.append(FieldError("daily", "Keep at least one automatic backup"))
        raise_if(errors)
        clean = BackupSettings(folder.strip(), settings.daily, settings.weekly,
                               settings.monthly, settings.on_close, settings.every_day)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.MANAGE_BACKUPS)
            old = self.settings()
            for name, key in _KEYS.items():
                value = getattr(clean, name)
                text = ("1" if value else "0") if isinstance(value, bool) else str(value)
                row = uow.session.get(m.Meta, key)
                if row is None:
                    uow.session.add(m.Meta(key=key, value=text))
                else:
                    row.value = text
            uow.audit(user_id=user.id, action="backup.settings", entity="kapp_meta",
                      entity_id="backup", old={k: getattr(old, k) for k in _KEYS},
                      new={k: getattr(clean, k) for k in _KEYS})
        return clean

    # -- making ------------------------------------------------------------------------------
    def create(self, *, actor: Actor) -> Backup:
        """A manual backup, by an administrator."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.MANAGE_BACKUPS)
        made = self._make("manual")
        self._record(user.id, "backup.create", made)
        return made

    def automatic(self, reason: str = "auto") -> Backup | None:
        """The automatic backup (``auto``: the daily one while kapp runs; ``close``: on
        closing the app), if the settings ask for it; then the rotation."""
        settings = self.settings()
        if not self.available:
            return None
        if (reason == "close" and not settings.on_close) or (
                reason == "auto" and not settings.every_day):
            return None
        made = self._make(reason)
        self._record(None, f"backup.{reason}", made)
        removed = b.rotate(self.folder(), daily=settings.daily, weekly=settings.weekly,
                           monthly=settings.monthly)
        if removed:
            log.info("Rotation removed %d old backup(s)", len(removed))
        return made

    def daily_due(self) -> bool:
        """Whether today's automatic backup is still to be made."""
        if not self.available or not self.settings().every_day:
            return False
        today = self.db.clock.now().date()
        return not any(x.made_at.date() == today and x.reason in b.ROTATED
                       for x in self.list())

    def _make(self, reason: str) -> Backup:
        try:
            made = b.create_backup(self.db.engine, self.folder(), reason=reason,
                                   now=self.db.clock.now(), factory=self.factory)
        except b.BackupFailed as exc:
            raise BackupError(f"The backup was not made: {exc}") from exc
        except OSError as exc:
            raise BackupError(f"The backup could not be written to {self.folder()} "
                              f"({exc.strerror or exc}). Check that the folder exists, is "
                              "writable and has free space.") from exc
        except sa.exc.DBAPIError as exc:
            raise BackupError(f"The backup could not be made ({str(exc.orig).splitlines()[0]})."
                              ) from exc
        except Exception as exc:  # the driver's own error, raised by its backup call
            if type(exc).__name__ not in ("OperationalError", "DatabaseError", "Error"):
                raise
            raise BackupError(f"The backup could not be made ({exc}). Try again in a "
                              "moment.") from exc
        self._copy_key_file(made.path)
        log.info("Backup made: %s", made.path)
        return _backup(made)

    def _copy_key_file(self, backup: Path) -> None:
        """An encrypted backup opens only with its key file (the wrapped data key): keep a
        copy beside it, so a backup restored on another laptop still opens with a password
        or the recovery key."""
        keys = key_file_path(self.database_path)
        if keys.exists():
            shutil.copyfile(keys, key_file_path(backup))

    def _record(self, user_id: object, action: str, made: Backup, **extra: object) -> None:
        self._note(user_id, action, made.name, {"file": str(made.path), "size": made.size,
                                                 **extra})

    def _note(self, user_id: object, action: str, name: str, new: dict[str, object]) -> None:
        try:
            with self.db.unit_of_work() as uow:
                uow.audit(user_id=user_id, action=action, entity="backups",  # type: ignore[arg-type]
                          entity_id=name, new=new)
        except StorageUnavailable:  # the backup exists; the note of it could not be saved
            log.warning("Backup %s made but not recorded in the audit trail", name)

    # -- looking -----------------------------------------------------------------------------
    def list(self) -> list[Backup]:
        """Backups in the backup folder, newest first."""
        if not self.available:
            return []
        return [_backup(f) for f in b.list_backups(self.folder())]

    def verify(self, *, actor: Actor, path: Path | str) -> BackupCheck:
        with self.db.unit_of_work() as uow:
            self._user(uow, actor, Permission.MANAGE_BACKUPS)
        path = Path(path)
        check = b.verify(path, self.factory)
        return BackupCheck(path, check.ok, check.problems, check.sessions, check.patients)

    def session_count(self) -> int:
        with self.db.reading() as s:
            return int(s.execute(sa.select(sa.func.count()).select_from(m.Session)).scalar_one())

    # -- restoring ---------------------------------------------------------------------------
    def restore(self, *, actor: Actor, path: Path | str) -> RestoreResult:
        """Replace the database's content with a verified backup's. The current content
        is first kept as a ``pre-restore`` backup; the restore is one transaction on the
        live database (SQLite's backup API into it), so other windows see either the old
        or the new content, never a mix."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.MANAGE_BACKUPS)
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"There is no backup file {path}")
        check = b.verify(path, self.factory)
        if not check.ok:
            raise BackupError(f"{path.name} is not a usable backup: " + "; ".join(check.problems))
        source = self.factory(path)
        try:
            if schema_state(source) == "newer":
                raise BackupError(f"{path.name} was made by a newer version of kapp; install "
                                  "that version to restore it.")
            before = self.session_count()
            kept = self._make("pre-restore")
            raw = source.raw_connection()
            target = self.db.engine.raw_connection()
            try:
                raw.driver_connection.backup(target.driver_connection)  # type: ignore[union-attr]
            except Exception as exc:  # e.g. another kapp holds the database
                if type(exc).__name__ not in ("OperationalError", "DatabaseError", "Error"):
                    raise
                raise BackupError(f"The backup could not be restored ({exc}); the database "
                                  f"is unchanged, and a copy of it is in {kept.name}. Close "
                                  "kapp on the other computers and try again.") from exc
            finally:
                target.close()
                raw.close()
        finally:
            source.dispose()
        self.db.engine.dispose()  # fresh connections read the restored schema
        upgrade(self.db.engine)  # an older backup is brought to this kapp's schema
        self.db._origin = None
        after = self.session_count()
        self._note(user.id, "backup.restore", path.name,
                   {"file": str(path), "kept_copy": str(kept.path),
                    "sessions_before": before, "sessions_after": after})
        self.hub.notify(*Change)
        return RestoreResult(path, kept.path, before, after)


def restore_damaged(db_path: Path, backup: Path,
                    factory: b.EngineFactory = b.default_factory) -> tuple[Path, int | None]:
    """Start-up restore of a damaged database (nothing can be read from it, so nobody
    can sign in to it): the damaged file and its -wal/-shm are moved aside unchanged,
    the verified backup put in its place. Returns (where the damaged file went, sessions
    in the restored database)."""
    check = b.verify(backup, factory)
    if not check.ok:
        raise BackupError(f"{backup.name} is not a usable backup: " + "; ".join(check.problems))
    aside = b.keep_aside(db_path, "damaged")
    b.replace_database(db_path, backup)
    return aside, check.sessions
