"""Run the benchmark: ``python -m bench [--small] [--cache DIR] [--only CASE ...]``."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench import cases, session, views
from bench.clinic import build, working_copy
from bench.encryption import encryption

CASES = ("start", "search", "open", "pdf", "vitals", "session", "encryption", "memory",
         "size")


SMALL_LIMIT_S = 300  # make test waits 600 s for the small mode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--small", action="store_true",
                        help="a 30-patient clinic and few repeats: checks that the benchmark "
                             "runs (used by make test); its figures mean nothing")
    parser.add_argument("--cache", type=Path, default=Path(".bench"),
                        help="where the built clinic is kept (default .bench/)")
    parser.add_argument("--only", action="append", choices=CASES, metavar="CASE",
                        help="measure only this case (repeatable): " + ", ".join(CASES))
    parser.add_argument("--runs", type=int, default=None,
                        help="repeats of the timed cases (default 40; 3 with --small)")
    args = parser.parse_args(argv)
    wanted = set(args.only or CASES)
    if args.small:  # it takes well under a minute: past this, say where it stands and stop
        import faulthandler

        faulthandler.dump_traceback_later(SMALL_LIMIT_S, exit=True)
    runs = args.runs or (3 if args.small else 40)
    starts = 2 if args.small else 10
    clinic = build(args.cache, small=args.small)
    print(f"kapp benchmark on {platform.node() or 'this machine'}: "
          f"{os.cpu_count()} CPU, Python {platform.python_version()}, {platform.platform()}")
    print(f"Clinic: {clinic.patients:,} patients, {clinic.sessions:,} sessions, "
          f"{clinic.vitals:,} vitals readings; heaviest patient "
          f"{clinic.heaviest_sessions} sessions; file {clinic.size_bytes / 2**20:.0f} MiB")
    from kapp.services.facade import Services
    from kapp.storage.database import open_database
    from kapp.storage.engine import sqlite_url
    from kapp.ui.app import ensure_application

    ensure_application([])
    figures = cases.cold_start_figures(clinic, starts) if "start" in wanted else []
    opened = open_database(sqlite_url(clinic.path))
    services = Services.for_database(opened.database)
    if "search" in wanted:
        figures.append(cases.search(services, runs * 3))
    if "open" in wanted:
        figures += views.open_patient(services, clinic.path,
                                      3 if args.small else (args.runs or 30), small=args.small)
    if "pdf" in wanted:
        figures += views.pdfs(services, clinic.heaviest_mrn, 2 if args.small else 10)
    opened.database.dispose()
    if wanted & {"vitals", "session"}:  # both write: on a copy of the clinic
        with tempfile.TemporaryDirectory(prefix="kapp-bench-") as folder:
            copy = working_copy(clinic, Path(folder))
            opened = open_database(sqlite_url(copy))
            services = Services.for_database(opened.database)
            if "vitals" in wanted:
                figures.append(cases.record_vitals(services, copy, runs * 5))
            if "session" in wanted:
                figures += session.session_screen(services, copy, 3 if args.small else runs)
            opened.database.dispose()
            shutil.rmtree(folder, ignore_errors=True)
    if "encryption" in wanted:
        with tempfile.TemporaryDirectory(prefix="kapp-bench-") as folder:
            figures += encryption(args.cache, Path(folder),
                                  patients=8 if args.small else 30,
                                  rounds=2 if args.small else 10,
                                  per_round=2 if args.small else 10)
    if "memory" in wanted:
        figures.append(cases.memory(clinic))
    if "size" in wanted:
        figures.append(cases.size(clinic))
    report(figures)
    return 0


def report(figures: list[cases.Figure]) -> None:
    """One row per figure: median, p95, the baseline of the same run, ratio, target, met."""
    head = ("Figure", "Median", "p95", "Baseline (same run)", "Ratio", "Target", "Met")
    rows = [head]
    for f in figures:
        if f.timing is not None:
            median, p95 = f"{f.timing.median:.1f} ms", f"{f.timing.p95:.1f} ms"
        else:
            median, p95 = f.value, ""
        base = (f"{f.baseline_name}: {f.baseline.median:.1f} ms" if f.baseline is not None
                else "")
        met = {True: "yes", False: "NO", None: ""}[f.met]
        rows.append((f.name, median, p95, base, f.ratio, f.target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    print()
    for number, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            print("-+-".join("-" * w for w in widths))
    print()
    for f in figures:
        print(f"{f.name}: {f.value}")
    missed = [f.name for f in figures if f.met is False]
    print()
    print("All targets met." if not missed else f"Missed: {', '.join(missed)}")


if __name__ == "__main__":
    sys.exit(main())
