"""The ``kapp`` command line: the same services as the GUI, without Qt."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kapp import __version__, cli_audit, cli_backup, cli_recover, cli_reports, cli_vault
from kapp.domain.errors import KappError, StorageUnavailable
from kapp.paths import default_database_path

if TYPE_CHECKING:  # the window's start imports this module: SQLAlchemy loads later
    import sqlalchemy as sa


def _add_database_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument("--db", metavar="PATH", type=Path,
                       help=f"SQLite database file (default: {default_database_path()})")
    group.add_argument("--database-url", metavar="URL",
                       help="SQLAlchemy URL of a database server, e.g. "
                            "postgresql+psycopg://kapp@dbhost/kapp")
    cli_vault.add_options(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kapp",
        description="Session records and progress charts for ketamine-therapy clinics. "
                    "Without a command, opens the application window.")
    parser.add_argument("--version", action="version", version=f"kapp {__version__}")
    _add_database_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="write a synthetic demo clinic into a database",
        description="Write a realistic synthetic clinic (invented people only): patients "
                    "with depression and CRPS, courses, sessions with vitals, side effects, "
                    "dissociation reports and scores. The same seed gives the same clinic.")
    _add_database_options(demo, required=True)
    demo.add_argument("--patients", type=int, default=40, metavar="N",
                      help="how many patients (default 40)")
    demo.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    demo.add_argument("--set", action="append", default=[], metavar="SETTING=VALUE",
                      dest="protocol",
                      help="a protocol setting for the demo clinic, e.g. "
                           "vitals_interval_infusion_min=3 (repeatable)")
    cli_vault.add_demo_options(demo)

    db = commands.add_parser("db", help="database maintenance",
                             description="Upgrade or check a kapp database.")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_commands.add_parser(
        "upgrade", help="bring the database to this version's schema",
        description="Create the database if it does not exist, or upgrade it to this "
                    "version's schema. An existing file is first copied aside.")
    _add_database_options(up)
    check = db_commands.add_parser(
        "check", help="check integrity and schema revision",
        description="Check the database's integrity, foreign keys and schema revision. "
                    "Exits 0 only when the database is healthy and up to date.")
    _add_database_options(check)
    cli_reports.add_parsers(commands)
    cli_audit.add_parsers(commands, _add_database_options)
    cli_backup.add_parsers(commands)
    cli_recover.add_parsers(commands, _add_database_options)
    return parser


def url_from_args(args: argparse.Namespace) -> sa.URL:
    from kapp.storage.engine import database_url

    if args.database_url:
        return database_url(url=args.database_url)
    return database_url(db_path=args.db or default_database_path())


def unreadable_message(exc: sa.exc.DatabaseError, args: argparse.Namespace | None = None
                       ) -> str:
    """Plain words for a database that cannot be read (the driver's own words after); for
    a database server that cannot be reached, that, naming the server of ``args``."""
    url = url_from_args(args) if args is not None and getattr(args, "database_url", None) \
        else None
    if url is not None:
        from kapp.storage.faults import fault_kind, unreachable_at_start

        if fault_kind(exc) in StorageUnavailable.SERVER_KINDS:
            return str(unreachable_at_start(url, exc))
    detail = str(getattr(exc, "orig", exc)).splitlines()[0]
    return (f"The database cannot be read: it is damaged or is not a kapp database "
            f"({detail}). Restore the latest backup, or choose another file.")


def run(args: argparse.Namespace) -> int:
    """Run a non-GUI command; returns the process exit code."""
    import sqlalchemy as sa

    try:
        if (done := cli_reports.run(args)) is not None:
            return done
        if (code := cli_backup.run(args)) is not None:
            return code
        if args.command == "demo":
            return _demo(args)
        if args.command == "db" and args.db_command == "upgrade":
            return _db_upgrade(args)
        if args.command == "db" and args.db_command == "check":
            return _db_check(args)
        if (code := cli_audit.run(args)) is not None:
            return code
        if (code := cli_recover.run(args)) is not None:
            return code
    except KappError as exc:
        print(f"kapp: {exc}", file=sys.stderr)
        return 2
    except sa.exc.DatabaseError as exc:
        print(f"kapp: {unreadable_message(exc, args)}", file=sys.stderr)
        if args.command == "db" and args.db_command == "check":
            print("NOT healthy")
            return 1
        return 2
    raise AssertionError(f"unhandled command {args.command}")


def _demo(args: argparse.Namespace) -> int:
    from kapp.services.demo import write_demo_clinic
    from kapp.services.demo_text import STAFF
    from kapp.services.protocol import ProtocolService

    if args.patients < 1:
        print("kapp: --patients must be at least 1", file=sys.stderr)
        return 2
    try:
        settings = _settings(args.protocol)
    except ValueError as exc:
        print(f"kapp: {exc}", file=sys.stderr)
        return 2
    opened, recovery_key = cli_vault.open_for_demo(args)
    db = opened.database
    ProtocolService(db).ensure_defaults()
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"\r  {done}/{total} patients", end="", file=sys.stderr, flush=True)

    try:
        summary = write_demo_clinic(db, patients=args.patients, seed=args.seed,
                                    progress=progress, protocol=settings,
                                    password=cli_vault.demo_password(args))
        enrolled = cli_vault.enrol_demo_accounts(opened.keyring, list(STAFF),
                                                 cli_vault.demo_password(args))
    except ValueError as exc:
        print(f"\nkapp: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(file=sys.stderr)
    seconds = time.perf_counter() - started
    print(f"Wrote a synthetic clinic in {seconds:.1f} s:")
    for name in summary.__dataclass_fields__:
        count = getattr(summary, name)
        print(f"  {name.replace('_', ' ')}: {count:,}")
    if enrolled:
        print(f"Demo accounts that open the encrypted database with the --password given: "
              f"{', '.join(enrolled)}")
    if recovery_key:
        print(f"Recovery key (opens the database if every password is lost; shown only "
              f"now):\n  {recovery_key}")
    return 0


def _settings(pairs: list[str]) -> dict[str, float]:
    settings: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            settings[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"--set takes SETTING=NUMBER, e.g. vitals_interval_infusion_min=3; "
                             f"got {pair!r}")
    return settings


def _db_upgrade(args: argparse.Namespace) -> int:
    from kapp.storage.migrate import upgrade

    engine = cli_vault.engine_from_args(args, create=True)
    try:
        result = upgrade(engine)
    finally:
        engine.dispose()
    if result.from_revision == result.to_revision:
        print(f"The database is already at schema revision {result.to_revision}.")
    else:
        print(f"Upgraded the database from revision {result.from_revision or '(new)'} to "
              f"{result.to_revision}.")
    if result.backup_path:
        print(f"A copy of the database before the upgrade is at {result.backup_path}")
    return 0


def _db_check(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from kapp.storage.engine import live_pragmas
    from kapp.storage.migrate import current_revision, head_revision, schema_state

    url = url_from_args(args)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        print(f"kapp: no database at {url.database}", file=sys.stderr)
        return 2
    engine = cli_vault.engine_from_args(args)
    healthy = True
    try:
        state = schema_state(engine)
        revision = current_revision(engine)
        print(f"Schema revision: {revision or '(none)'} (this kapp: {head_revision()})")
        words = {"current": "up to date", "behind": "older: run 'kapp db upgrade'",
                 "newer": "written by a newer kapp", "empty": "empty: not a kapp database yet",
                 "foreign": "not a kapp database"}
        print(f"Schema: {words[state]}")
        healthy = state == "current"
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                integrity = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                foreign = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            ok = integrity == ["ok"]
            print("Integrity: ok" if ok else "Integrity: FAILED\n  " + "\n  ".join(integrity[:20]))
            print("Foreign keys: ok" if not foreign else
                  f"Foreign keys: {len(foreign)} broken reference(s)")
            pragmas = live_pragmas(engine)
            print("Settings: journal_mode={journal_mode} synchronous={synchronous} "
                  "foreign_keys={foreign_keys} busy_timeout={busy_timeout}".format(**pragmas))
            healthy = healthy and ok and not foreign
        else:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            print("Connection: ok")
    finally:
        engine.dispose()
    print("Healthy" if healthy else "NOT healthy")
    return 0 if healthy else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the non-GUI commands (``kapp.__main__`` routes the GUI)."""
    args = build_parser().parse_args(argv)
    return run(args)
