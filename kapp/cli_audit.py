"""``kapp audit verify``: walk the audit trail's hash chain and name the first break."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kapp.cli_vault import open_from_args


def add_parsers(commands: argparse._SubParsersAction,
                add_database_options: Callable[..., None]) -> None:
    audit = commands.add_parser("audit", help="the audit trail",
                                description="Check the tamper-evident audit trail.")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", help="verify the audit trail's hash chain",
        description="Check that every audit entry is present, unchanged and in order (each "
                    "entry's SHA-256 hash covers its content and the previous entry's hash). "
                    "Exits 0 when the trail is intact; 1 naming the first broken entry when "
                    "a row was edited, removed or inserted by hand.")
    add_database_options(verify)
    verify.add_argument("--quiet", action="store_true", help="print only a problem")


def run(args: argparse.Namespace) -> int | None:
    if args.command != "audit":
        return None
    from kapp.services.audit_view import verify_trail

    opened = open_from_args(args)
    try:
        interactive = sys.stderr.isatty() and not args.quiet

        def progress(checked: int, total: int) -> None:
            if interactive:
                print(f"\r  {checked:,}/{total:,} entries", end="", file=sys.stderr, flush=True)

        report = verify_trail(opened.database, progress=progress)
    finally:
        opened.database.dispose()
    if interactive:
        print(file=sys.stderr)
    if report.intact:
        if not args.quiet:
            print(report.describe())
        return 0
    print(report.describe())
    return 1
