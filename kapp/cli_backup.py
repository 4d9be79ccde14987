"""``kapp backup create|list|verify|restore``: the backup services from the command line.

Actions that change something act as an administrator account: ``--user NAME``, or the
clinic's first active administrator when not given (whoever can run commands on the
database file can read it anyway; password checks on the command line come with the
security work). ``restore`` also works when the database is too damaged to open: the
damaged file is then moved aside unchanged and the backup put in its place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kapp.domain.errors import DatabaseDamaged, KappError
from kapp.services.vault import ClinicError

if TYPE_CHECKING:  # loaded by the command itself (the window's start imports this module)
    from kapp.domain.entities import User
    from kapp.services.facade import Services


def add_parsers(commands: Any) -> None:
    from kapp.cli import _add_database_options

    backup = commands.add_parser(
        "backup", help="make, list, verify or restore backups",
        description="Backups of a SQLite database: consistent while kapp runs, verified "
                    "before they are kept, restored with a copy of the current database "
                    "kept first.")
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a verified backup now")
    listing = actions.add_parser("list", help="list the backups, newest first")
    verify = actions.add_parser("verify", help="check a backup (the newest when none given)")
    verify.add_argument("file", nargs="?", type=Path, help="backup file")
    restore = actions.add_parser(
        "restore", help="replace the database with a backup",
        description="Replace the database's content with a verified backup. The current "
                    "database is first kept as a pre-restore backup; the number of "
                    "sessions on each side is printed.")
    restore.add_argument("file", type=Path, help="backup file to restore")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for parser in (create, listing, verify, restore):
        _add_database_options(parser)  # with --user: the administrator to act as


def run(args: argparse.Namespace) -> int | None:
    if args.command != "backup":
        return None
    from kapp.cli import url_from_args
    from kapp.cli_vault import open_from_args
    from kapp.services.facade import Services
    from kapp.storage.backup import backup_folder, latest_backup

    url = url_from_args(args)
    try:
        opened = open_from_args(args)
    except ClinicError as exc:  # unreadable as a database and no key file: damaged
        if args.backup_command == "restore":
            return _restore_damaged(Path(url.database or ""), args)
        latest = latest_backup(backup_folder(Path(url.database or "")))
        print(f"kapp: {exc}", file=sys.stderr)
        if latest is not None:
            print(f"To restore it: kapp backup restore --db {url.database} {latest.path}",
                  file=sys.stderr)
        return 2
    except DatabaseDamaged as exc:
        if args.backup_command == "restore":
            return _restore_damaged(Path(url.database or ""), args)
        print(f"kapp: {exc}", file=sys.stderr)
        if exc.latest_backup:
            print(f"To restore it: kapp backup restore --db {url.database} "
                  f"{exc.latest_backup}", file=sys.stderr)
        return 2
    services = Services.for_database(opened.database, opened.keyring)
    try:
        return _run(services, args)
    except KappError as exc:
        print(f"kapp: {exc}", file=sys.stderr)
        return 2
    finally:
        opened.database.dispose()


def _admin(services: Services, name: str | None) -> User:
    if name:
        user = services.users.by_username(name)
        if user is None:
            raise KappError(f"There is no account '{name}'.")
        return user
    from kapp.domain.enums import Role

    admins = [u for u in services.users.list_users() if u.role is Role.ADMIN]
    if not admins:
        raise KappError("This database has no administrator account yet.")
    return admins[0]


def _run(services: Services, args: argparse.Namespace) -> int:
    backups = services.backups
    if args.backup_command == "list":
        found = backups.list()
        print(f"Backups in {backups.folder()}:" if found else
              f"No backups yet in {backups.folder()}.")
        for item in found:
            print(f"  {item.name}  {item.made_at:%Y-%m-%d %H:%M} UTC  {item.reason:<11} "
                  f"{item.size / 1e6:7.1f} MB")
        return 0
    actor = _admin(services, args.user)
    if args.backup_command == "create":
        made = backups.create(actor=actor)
        print(f"Backup made and verified: {made.path}")
        return 0
    if args.backup_command == "verify":
        path = args.file
        if path is None:
            found = backups.list()
            if not found:
                print("kapp: there is no backup to verify", file=sys.stderr)
                return 2
            path = found[0].path
        check = backups.verify(actor=actor, path=path)
        if check.ok:
            print(f"{path.name}: ok ({check.patients} patients, {check.sessions} sessions)")
            return 0
        print(f"{path.name}: NOT usable: " + "; ".join(check.problems))
        return 1
    # restore
    check = backups.verify(actor=actor, path=args.file)
    if not check.ok:
        print(f"kapp: {args.file.name} is not a usable backup: " + "; ".join(check.problems),
              file=sys.stderr)
        return 2
    now = backups.session_count()
    print(f"The database holds {now} sessions; the backup {args.file.name} holds "
          f"{check.sessions}.")
    if not args.yes and not _confirm("Replace the database with the backup?"):
        print("Nothing changed.")
        return 1
    result = backups.restore(actor=actor, path=args.file)
    print(f"Restored {result.restored_from.name}: the database now holds "
          f"{result.sessions_after} sessions (it held {result.sessions_before}).")
    print(f"The database as it was is kept in {result.kept_copy}")
    return 0


def _restore_damaged(db_path: Path, args: argparse.Namespace) -> int:
    from kapp.services.backups import restore_damaged

    print(f"The database {db_path.name} is damaged; it will be moved aside unchanged and "
          f"replaced by {args.file.name}.")
    if not args.yes and not _confirm("Restore the backup?"):
        print("Nothing changed.")
        return 1
    try:
        aside, sessions = restore_damaged(db_path, args.file)
    except KappError as exc:
        print(f"kapp: {exc}", file=sys.stderr)
        return 2
    print(f"Restored {args.file.name} ({sessions} sessions). The damaged file is kept as "
          f"{aside}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        print("(not asked: no terminal; add --yes to confirm)", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
