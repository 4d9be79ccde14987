"""A child process for the memory figure: kapp open on DB with its heaviest patient shown;
prints the peak resident set size in MB."""

from __future__ import annotations

import os
import resource
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def peak_kb() -> float:
    """This process's own peak resident set size. Not ``ru_maxrss``: Linux carries the
    parent's peak over into a child started by vfork and exec (as subprocess starts it),
    so that figure was the benchmark's own size whenever that was larger (309 MB after
    the session screen's case, against 185 MB for kapp)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # kB on Linux


def main(path: str, mrn: str) -> None:
    from PySide6.QtCore import QTimer

    from kapp.services.facade import Services
    from kapp.storage.database import open_database
    from kapp.storage.engine import sqlite_url
    from kapp.ui.app import build_main_window, ensure_application

    app = ensure_application(sys.argv[:1])
    opened = open_database(sqlite_url(path))
    services = Services.for_database(opened.database)
    window = build_main_window(services, path, services.users.by_username("nurse1"))
    window.show()
    patient = services.patients.by_mrn(mrn)
    window.open_patient(patient.id)
    # Let background loads finish and charts draw. (Not a processEvents() loop: PySide6
    # mis-counts None's references when that is called hundreds of thousands of times.)
    QTimer.singleShot(1500, app.quit)
    app.exec()
    print(f"{peak_kb() / 1024:.1f}", flush=True)
    window.close()
    opened.database.dispose()


if __name__ == "__main__":
    from bench.coldstart import limit_child

    limit_child()
    main(sys.argv[1], sys.argv[2])
