"""``kapp report ...`` and ``kapp export csv``: PDFs and CSV files without a window."""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from kapp.domain.errors import KappError, NotFound


def add_parsers(commands: argparse._SubParsersAction) -> None:
    from kapp.cli import _add_database_options  # the shared --db/--database-url options

    report = commands.add_parser(
        "report", help="write a PDF report",
        description="Write a printable PDF: a session record, a patient's progress, or an "
                    "esketamine REMS monitoring summary.")
    kinds = report.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    for kind, text in (("session", "the record of one session (one page where it fits)"),
                       ("rems", "the esketamine REMS monitoring summary of one session")):
        p = kinds.add_parser(kind, help=text, description=f"Write {text} as PDF.")
        _add_database_options(p)
        p.add_argument("--session", required=True, metavar="ID",
                       help="the session's id (as shown in the session screen or the CSV "
                            "export)")
        p.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")
    progress = kinds.add_parser(
        "progress", help="a patient's progress over time",
        description="Write a patient's progress (scores, response and remission, "
                    "dissociation, blood pressure, dose per session) as PDF.")
    _add_database_options(progress)
    progress.add_argument("--patient", required=True, metavar="MRN",
                          help="the patient's medical record number")
    progress.add_argument("--out", required=True, type=Path, metavar="FILE.pdf")

    export = commands.add_parser("export", help="export records as files",
                                 description="Export records for analysis.")
    formats = export.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    csv = formats.add_parser(
        "csv", help="one CSV file per record type",
        description="Write one tidy CSV table per record type (patients, courses, sessions, "
                    "vitals, ...) into a folder, one row per observation, ISO 8601 times, "
                    "units in the column names. README.txt in the folder describes them.")
    _add_database_options(csv)
    csv.add_argument("--out", required=True, type=Path, metavar="DIR",
                     help="folder to write into (created if missing)")
    csv.add_argument("--patient", metavar="MRN", help="only this patient (default: everyone)")


def run(args: argparse.Namespace) -> int | None:
    """Run a report or export command; None when ``args`` is another command."""
    if args.command == "report":
        return _report(args)
    if args.command == "export":
        return _export(args)
    return None


def _fail(message: str) -> int:
    print(f"kapp: {message}", file=sys.stderr)
    return 2


def _open(args: argparse.Namespace):
    """Open an existing, current database for reporting (an encrypted one with ``--user``
    and its password); never creates or upgrades."""
    from kapp.cli_vault import local_path, open_from_args
    from kapp.storage.migrate import schema_state

    path = local_path(args)
    if path is not None and not path.exists():
        raise KappError(f"no database at {path}")
    db = open_from_args(args, migrate=False).database
    try:
        state = schema_state(db.engine)
        if state == "behind":
            raise KappError("this database was written by an older kapp; run 'kapp db "
                            "upgrade' first")
        if state in ("empty", "foreign"):
            raise KappError(f"{path or 'the database'} is not a kapp database")
    except BaseException:
        db.dispose()
        raise
    return db


def _actor(db, args: argparse.Namespace):
    """The user named by ``--user`` (or KAPP_USER), who the audit trail says made the
    report; None when no one was named (an unencrypted development database)."""
    import os

    from kapp.cli_vault import USER_ENV
    from kapp.services.facade import Services

    name = getattr(args, "user", None) or os.environ.get(USER_ENV)
    if not name:
        return None
    user = Services.for_database(db).users.by_username(name)
    if user is None:
        raise KappError(f"there is no kapp user '{name}' in this database")
    return user


def _session_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise KappError(f"--session must be a session id such as "
                        f"3f2b8c1e-0a4d-4c7e-9b1a-2d5e6f708192; got '{text}'") from None


def _writable(path: Path) -> None:
    if path.suffix.lower() != ".pdf":
        raise KappError(f"--out must name a .pdf file; got '{path}'")
    if not path.parent.exists():
        raise KappError(f"the folder {path.parent} does not exist")


def _report(args: argparse.Namespace) -> int:
    from kapp.reports.build import progress_report, rems_report, session_report
    from kapp.services.report_reads import ReportReads

    try:
        _writable(args.out)
        if args.report_kind in ("session", "rems"):
            session_id = _session_id(args.session)
            db = _open(args)
            try:
                write = session_report if args.report_kind == "session" else rems_report
                write(db, session_id, args.out, actor=_actor(db, args))
            except NotFound:
                raise KappError(f"no session with id {session_id} in this database") from None
            finally:
                db.dispose()
        else:
            db = _open(args)
            try:
                progress_report(db, ReportReads(db).patient_id_for_mrn(args.patient), args.out,
                                actor=_actor(db, args))
            except NotFound:
                raise KappError(f"no patient with MRN '{args.patient}' in this database") \
                    from None
            finally:
                db.dispose()
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"Wrote {args.out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from kapp.services.export import ExportProgress, ExportService
    from kapp.services.report_reads import ReportReads

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise KappError(f"--out must be a folder; {out} is a file")
    db = _open(args)
    try:
        patient_id = None
        if args.patient:
            try:
                patient_id = ReportReads(db).patient_id_for_mrn(args.patient)
            except NotFound:
                raise KappError(f"no patient with MRN '{args.patient}' in this database") \
                    from None

        def progress(p: ExportProgress) -> None:
            if p.table:
                print(f"\r  {p.table}: {p.rows_done:,} of {p.rows_total:,} rows   ",
                      end="", file=sys.stderr, flush=True)

        try:
            result = ExportService(db).export_csv(out, patient_id=patient_id,
                                                  progress=progress, actor=_actor(db, args))
        except OSError as exc:
            print(file=sys.stderr)
            return _fail(f"cannot write into {out}: {exc.strerror or exc}")
    finally:
        db.dispose()
    print(file=sys.stderr)
    print(f"Wrote {len(result.files)} files into {out}:")
    for name, count in result.rows.items():
        print(f"  {name}.csv: {count:,} rows")
    return 0
