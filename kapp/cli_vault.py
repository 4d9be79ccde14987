"""Command-line access to an encrypted database: ``--user NAME``, the password from
``KAPP_PASSWORD`` or a prompt, ``--no-encryption`` for a development database, and the
encrypted demo clinic (``kapp demo --password``). The rules are kapp/services/vault.py's."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kapp.domain.errors import KappError
from kapp.paths import default_database_path
from kapp.services import vault
from kapp.services.keys import NoKeyRing

if TYPE_CHECKING:  # the window's start imports this module: SQLAlchemy loads later
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

PASSWORD_ENV = "KAPP_PASSWORD"
USER_ENV = "KAPP_USER"


class NeedsCredentials(KappError):
    """An encrypted database was given without a user name or password."""


def add_options(parser: argparse.ArgumentParser) -> None:
    """Options for every command that opens a database (added with ``--db``)."""
    parser.add_argument(
        "--user", metavar="NAME",
        help=f"your kapp user name, to open an encrypted database (or set {USER_ENV}); "
             f"the password is read from {PASSWORD_ENV} or asked for")
    parser.add_argument(
        "--no-encryption", action="store_true",
        help="development only: create a NEW database unencrypted (an existing database "
             "keeps what it is)")


def add_demo_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password", metavar="PASSWORD",
        help=f"password for every demo account (or set {PASSWORD_ENV}); a new demo clinic "
             "is encrypted and these accounts open it")


def _url(args: argparse.Namespace) -> sa.URL:
    from kapp.storage.engine import database_url

    if getattr(args, "database_url", None):
        return database_url(url=args.database_url)
    return database_url(db_path=getattr(args, "db", None) or default_database_path())


def local_path(args: argparse.Namespace) -> Path | None:
    """The SQLite file the command names, or None for a database server."""
    if not getattr(args, "database_url", None) and str(getattr(args, "db", "")) != ":memory:":
        # --db, or the default: a path, no URL to parse (SQLAlchemy is not loaded yet)
        return Path(getattr(args, "db", None) or default_database_path()).expanduser().resolve()
    url = _url(args)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def read_password(prompt: str) -> str:
    """From KAPP_PASSWORD, else asked on the terminal (never echoed)."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        raise NeedsCredentials(
            f"The database is encrypted: set {PASSWORD_ENV}, or run kapp in a terminal to be "
            "asked for the password.")
    return getpass.getpass(prompt)


def username(args: argparse.Namespace) -> str:
    name = getattr(args, "user", None) or os.environ.get(USER_ENV)
    if not name:
        raise NeedsCredentials(
            f"The database is encrypted: give --user NAME (or set {USER_ENV}); the password "
            f"is read from {PASSWORD_ENV} or asked for.")
    return name


def open_from_args(args: argparse.Namespace, *, create: bool = False,
                   migrate: bool = True) -> vault.OpenedClinic:
    """Open the database a command names, asking for credentials when it is encrypted.
    ``create``: a missing database is made plain if ``--no-encryption`` was given (an
    encrypted one is made by first run or ``kapp demo``, which enrol an account).
    ``migrate=False``: an older schema is opened as it is, for the caller to refuse."""
    from kapp.storage.database import open_database

    path = local_path(args)
    if path is None:
        return vault.OpenedClinic(open_database(_url(args), migrate=migrate).database,
                                  NoKeyRing())
    state = vault.clinic_state(path)
    if state is vault.ClinicState.NEW and create:
        if not getattr(args, "no_encryption", False):
            raise KappError(
                f"There is no database at {path}. A new clinic is encrypted and is made by "
                "starting kapp (first run) or by 'kapp demo --password ...'; for an "
                "unencrypted development database add --no-encryption.")
        return vault.open_plain(path, create=True)
    if state is vault.ClinicState.ENCRYPTED:
        name = username(args)
        return vault.open_clinic(path, name, read_password(f"Password for {name}: "),
                                 migrate=migrate)
    return vault.open_plain(path, migrate=migrate)  # PLAIN, or refused with the reason


def open_for_window(args: argparse.Namespace) -> vault.OpenedClinic:
    """Until the sign-in and first-run windows exist (security work, kapp/app.py): an
    encrypted database opens with ``--user`` and KAPP_PASSWORD or a terminal prompt; a new
    database is still made plain, as before. First run replaces this with
    ``vault.create_clinic`` and the sign-in window with ``vault.open_clinic``."""
    path = local_path(args)
    if path is not None and vault.clinic_state(path) is vault.ClinicState.NEW:
        return vault.open_plain(path, create=True)
    return open_from_args(args)


def engine_from_args(args: argparse.Namespace, *, create: bool = False) -> Engine:
    """A bare engine (for ``kapp db``), keyed when the database is encrypted."""
    from kapp.storage.engine import create_engine

    path = local_path(args)
    if path is None:
        return create_engine(_url(args))
    state = vault.clinic_state(path)
    if state is vault.ClinicState.NEW and create and not getattr(args, "no_encryption", False):
        raise KappError(
            f"There is no database at {path}. A new clinic is encrypted and is made by "
            "starting kapp (first run) or by 'kapp demo --password ...'; for an unencrypted "
            "development database add --no-encryption.")
    if state is vault.ClinicState.ENCRYPTED:
        name = username(args)
        from kapp.services import lockout

        key = lockout.unwrap_counted(path.expanduser().resolve(), name,
                                     read_password(f"Password for {name}: "))
        return create_engine(_url(args), key=key)
    if state in (vault.ClinicState.KEY_FILE_MISSING, vault.ClinicState.DATABASE_MISSING):
        vault.open_plain(path)  # raises with the reason
    return create_engine(_url(args))


# -- the demo clinic ----------------------------------------------------------------------
def demo_password(args: argparse.Namespace) -> str | None:
    return getattr(args, "password", None) or os.environ.get(PASSWORD_ENV) or None


def open_for_demo(args: argparse.Namespace) -> tuple[vault.OpenedClinic, str | None]:
    """The database for ``kapp demo``: a new one is encrypted (its recovery key returned)
    unless ``--no-encryption``; an existing encrypted one needs ``--user``."""
    path = local_path(args)
    if path is None or vault.clinic_state(path) is not vault.ClinicState.NEW:
        return open_from_args(args), None
    if getattr(args, "no_encryption", False):
        return vault.open_plain(path, create=True), None
    if not demo_password(args):
        raise KappError(
            "A new demo clinic is encrypted: give --password for its demo accounts (or set "
            f"{PASSWORD_ENV}); --no-encryption makes an unencrypted development database.")
    made = vault.create_clinic(path)
    return vault.OpenedClinic(made.database, made.keyring), made.recovery_key


def enrol_demo_accounts(keyring: object, usernames: list[str], password: str | None) -> list[str]:
    """Wrap the key for each demo account that cannot open the database yet."""
    if not getattr(keyring, "encrypted", False) or not password:
        return []
    enrolled = set(keyring.usernames())  # type: ignore[attr-defined]
    added = [name for name in usernames if name not in enrolled]
    for name in added:
        keyring.enrol(name, password)  # type: ignore[attr-defined]
    return added
