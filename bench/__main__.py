"""Run the benchmark: ``python -m bench [--small] [--cache DIR]``."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench import cases
from bench.clinic import build, working_copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--small", action="store_true",
                        help="a 30-patient clinic and few repeats: checks that the benchmark "
                             "runs (used by make test); its figures mean nothing")
    parser.add_argument("--cache", type=Path, default=Path(".bench"),
                        help="where the built clinic is kept (default .bench/)")
    args = parser.parse_args(argv)
    runs = 3 if args.small else 40
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
    figures = [cases.cold_start(clinic, starts)]
    opened = open_database(sqlite_url(clinic.path))
    services = Services.for_database(opened.database)
    figures.append(cases.search(services, runs * 3))
    opened.database.dispose()
    with tempfile.TemporaryDirectory(prefix="kapp-bench-") as folder:
        copy = working_copy(clinic, Path(folder))
        opened = open_database(sqlite_url(copy))
        services = Services.for_database(opened.database)
        figures.append(cases.record_vitals(services, copy, runs * 5))
        opened.database.dispose()
        shutil.rmtree(folder, ignore_errors=True)
    figures.append(cases.memory(clinic))
    figures.append(cases.size(clinic))
    report(figures)
    return 0


def report(figures: list[cases.Figure]) -> None:
    print()
    width = max(len(f.name) for f in figures)
    for f in figures:
        verdict = {True: "MET", False: "MISSED", None: ""}[f.met]
        ratio = f"  ratio {f.ratio}" if f.ratio else ""
        target = f"  target {f.target}" if f.target else ""
        print(f"{f.name:<{width}}  {f.value}{ratio}{target}  {verdict}")
    missed = [f.name for f in figures if f.met is False]
    print()
    print("All targets met." if not missed else f"Missed: {', '.join(missed)}")


if __name__ == "__main__":
    sys.exit(main())
