"""Opening a clinic's local database: encrypted by default (Qt-free; the start-up seam).

The rule, decided by what is on disk next to the database path (``clinic_state``):

- nothing there yet (``NEW``): ``create_clinic`` makes an ENCRYPTED database, a key file
  and a recovery key. A plain database is made only on explicit request
  (``open_plain(path, create=True)``: the ``--no-encryption`` development option).
- a key file ``<db>.keys`` beside it (``ENCRYPTED``): opened only by ``open_clinic`` with an
  account's user name and password, or ``open_with_recovery_key``.
- a plain SQLite file and no key file (``PLAIN``): a development database, a test fixture or
  a demo made before encryption; it opens plainly (``open_plain``, and ``open_clinic`` also
  accepts it so that the sign-in screen needs no special case).
- a file that is not plain SQLite and no key file (``KEY_FILE_MISSING``), or a key file
  without its database (``DATABASE_MISSING``): refused with a message saying what to
  restore; nothing is created or overwritten.

A PostgreSQL server is not a path and is not encrypted by kapp (the server's own
encryption and access control apply); open it with ``open_database`` as before.

After ``open_clinic`` the caller still checks the account itself (active, password hash,
lockout: kapp/services/users.py): the key file only proves the password unwraps the key.
"""

from __future__ import annotations

import contextlib
import importlib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from kapp.domain.clock import Clock
from kapp.domain.errors import KappError
from kapp.paths import is_plain_sqlite_file, key_file_path
from kapp.services.keys import KeyRing, NoKeyRing

if TYPE_CHECKING:
    from kapp.storage.database import Database
    from kapp.storage.keyfile import FileKeyRing, KdfParams

# The database layer (SQLAlchemy, SQLCipher, argon2) is imported when a clinic is opened,
# not with this module: the sign-in window shows before it has loaded (docs/performance.md).
_LAZY = {
    "DEFAULT_KDF": "kapp.storage.keyfile", "FileKeyRing": "kapp.storage.keyfile",
    "KdfParams": "kapp.storage.keyfile", "KeyFile": "kapp.storage.keyfile",
    "KeyFileError": "kapp.storage.keyfile", "WrongPassword": "kapp.storage.keyfile",
    "WrongRecoveryKey": "kapp.storage.keyfile", "create_key_file": "kapp.storage.keyfile",
    "WrongDatabaseKey": "kapp.storage.engine",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_database_layer() -> None:
    """Import what opening a clinic needs (a worker thread does this while the person
    types their password)."""
    import kapp.storage.database
    import kapp.storage.engine
    import kapp.storage.keyfile  # noqa: F401


__all__ = [
    "ClinicError",
    "ClinicState",
    "NewClinic",
    "OpenedClinic",
    "clinic_state",
    "create_clinic",
    "enrolled_usernames",
    "key_file_path",
    "open_clinic",
    "open_plain",
    "open_with_recovery_key",
    *_LAZY,  # the database layer's names, imported when first used
]


class ClinicError(KappError):
    """The database cannot be opened the way it was asked (missing files, wrong mode)."""


class ClinicState(StrEnum):
    NEW = "new"
    ENCRYPTED = "encrypted"
    PLAIN = "plain"
    KEY_FILE_MISSING = "key_file_missing"
    DATABASE_MISSING = "database_missing"


class OpenedClinic(NamedTuple):
    database: Database
    keyring: KeyRing


class NewClinic(NamedTuple):
    database: Database
    keyring: FileKeyRing
    recovery_key: str


def clinic_state(path: Path | str) -> ClinicState:
    path = Path(path)
    has_database = path.exists() and path.stat().st_size > 0
    if key_file_path(path).exists():
        return ClinicState.ENCRYPTED if has_database else ClinicState.DATABASE_MISSING
    if not has_database:
        return ClinicState.NEW
    return ClinicState.PLAIN if is_plain_sqlite_file(path) else ClinicState.KEY_FILE_MISSING


def _refuse(path: Path, state: ClinicState) -> None:
    keys = key_file_path(path)
    if state is ClinicState.KEY_FILE_MISSING:
        raise ClinicError(
            f"The database {path} cannot be read: it is damaged, or it is encrypted and its "
            f"key file {keys.name} is not beside it. Put the key file back from the backup "
            "(it is saved with each backup), restore the latest backup, or choose another "
            "file.")
    if state is ClinicState.DATABASE_MISSING:
        raise ClinicError(
            f"The key file {keys} is there but its database {path.name} is missing. "
            "Restore the database from the backup; kapp will not make a new one here.")
    if state is ClinicState.NEW:
        raise ClinicError(f"There is no database at {path}.")


def enrolled_usernames(path: Path | str) -> list[str]:
    """The accounts that can open this encrypted database (none: only the recovery key)."""
    from kapp.storage.keyfile import KeyFile

    return sorted(KeyFile.load(key_file_path(path)).users)


def create_clinic(path: Path | str, *, clock: Clock | None = None,
                  kdf: KdfParams | None = None) -> NewClinic:
    """A new, encrypted clinic database. Show ``recovery_key`` to the administrator once;
    then create the first administrator (UserService) and ``keyring.enrol`` them."""
    from kapp.storage.database import open_database
    from kapp.storage.engine import sqlite_url
    from kapp.storage.keyfile import FileKeyRing, create_key_file

    path = Path(path).expanduser().resolve()
    state = clinic_state(path)
    if state is not ClinicState.NEW:
        raise ClinicError(f"A database or key file already exists at {path}; kapp will not "
                          "replace it.")
    data_key, recovery_key = create_key_file(path, kdf=kdf)
    try:
        database = open_database(sqlite_url(path), clock=clock, key=data_key).database
    except BaseException:
        for leftover in (key_file_path(path), path, path.with_name(path.name + "-wal"),
                         path.with_name(path.name + "-shm")):
            with contextlib.suppress(OSError):
                leftover.unlink()
        raise
    with contextlib.suppress(OSError):  # encrypted anyway; still, only its owner reads it
        path.chmod(0o600)
    return NewClinic(database, FileKeyRing(path, data_key, kdf=kdf), recovery_key)


def open_clinic(path: Path | str, username: str, password: str, *,
                clock: Clock | None = None, kdf: KdfParams | None = None,
                migrate: bool = True) -> OpenedClinic:
    """Open an encrypted clinic with an account's password (``WrongPassword`` if it does not
    unwrap the key). A PLAIN database opens without a key (``NoKeyRing``)."""
    path = Path(path).expanduser().resolve()
    state = clinic_state(path)
    if state is ClinicState.PLAIN:
        return open_plain(path, clock=clock, migrate=migrate)
    _refuse(path, state)
    from kapp.services import lockout

    # Counted towards the user name's lockout while the database is closed; a locked name
    # is refused before any key derivation (kapp/services/lockout.py).
    data_key = lockout.unwrap_counted(path, username, password, clock=clock)
    return _open_encrypted(path, data_key, clock=clock, kdf=kdf, migrate=migrate)


def open_with_recovery_key(path: Path | str, recovery_key: str, *,
                           clock: Clock | None = None, kdf: KdfParams | None = None,
                           migrate: bool = True) -> OpenedClinic:
    """Open an encrypted clinic with its recovery key (every password lost). The caller
    should then have an administrator set a new password (``keyring.enrol``)."""
    path = Path(path).expanduser().resolve()
    state = clinic_state(path)
    if state is ClinicState.PLAIN:
        raise ClinicError(f"The database {path} is not encrypted; it has no recovery key.")
    _refuse(path, state)
    from kapp.services import lockout

    data_key = lockout.unwrap_recovery_counted(path, recovery_key, clock=clock)
    return _open_encrypted(path, data_key, clock=clock, kdf=kdf, migrate=migrate)


def open_plain(path: Path | str, *, create: bool = False, clock: Clock | None = None,
               migrate: bool = True) -> OpenedClinic:
    """An unencrypted database: an existing plain file, or (``create=True``, development
    only) a new one. Refuses an encrypted database."""
    path = Path(path).expanduser().resolve()
    state = clinic_state(path)
    if state is ClinicState.ENCRYPTED:
        raise ClinicError(f"The database {path} is encrypted: sign in to open it.")
    if not (state is ClinicState.PLAIN or (state is ClinicState.NEW and create)):
        _refuse(path, state)
    from kapp.storage.database import open_database
    from kapp.storage.engine import sqlite_url

    opened = open_database(sqlite_url(path), clock=clock, migrate=migrate)
    return OpenedClinic(opened.database, NoKeyRing())


def _open_encrypted(path: Path, data_key: bytes, *, clock: Clock | None,
                    kdf: KdfParams | None, migrate: bool) -> OpenedClinic:
    from kapp.services import lockout
    from kapp.storage.database import open_database
    from kapp.storage.engine import sqlite_url
    from kapp.storage.keyfile import DEFAULT_KDF, FileKeyRing

    opened = open_database(sqlite_url(path), clock=clock, key=data_key, migrate=migrate)
    if migrate:  # (an older schema opened as it is is only looked at, then refused)
        try:
            lockout.after_open(opened.database, path)  # the failures counted while closed
        except BaseException:
            opened.database.dispose()
            raise
    return OpenedClinic(opened.database, FileKeyRing(path, data_key, kdf=kdf or DEFAULT_KDF))
