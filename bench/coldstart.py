"""A child process for the cold-start figure: ``python -m bench.coldstart bare`` shows an
empty QMainWindow; ``python -m bench.coldstart kapp DB`` starts kapp on DB through the
composition root (``kapp.app.run_app``, as ``kapp --db DB`` does). Each prints "shown"
once its window has really been painted (after its first paint pass), then quits;
with ``--modules`` kapp then prints the names of the modules imported by then (JSON).

What ``kapp`` measures, and why: the real start of a database that has accounts shows the
sign-in window, and only after a password is accepted the main window. The benchmark
answers the sign-in for the nurse ``nurse1`` without the window or the password check
(argon2id: a deliberate quarter of a second, and a person typing); everything else is the
real path: arguments, the vault gate, opening and checking the database, the services,
the main window on the patient list, and its first paint."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import tempfile
from typing import IO

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# A child normally ends within seconds. One that does not (a deadlock once seen in CI,
# not reproduced since) prints where each thread stands and exits, rather than leaving
# the benchmark waiting for ever for its output.
CHILD_LIMIT_S = 90


def limit_child() -> None:
    import faulthandler

    faulthandler.dump_traceback_later(CHILD_LIMIT_S, exit=True)


def loaded_modules() -> str:
    """The modules imported so far (JSON), and "PySide6.QtCore.Qt" once the Qt namespace's
    enums are built (PySide6 builds all 93 the first time ``Qt`` is taken from QtCore)."""
    names = set(sys.modules)
    core = sys.modules.get("PySide6.QtCore")
    if core is not None and "Qt" in vars(core):
        names.add("PySide6.QtCore.Qt")
    return json.dumps(sorted(names))


def _shown(window) -> None:
    """The first line ("shown") is the figure. kapp's chairs list fills just after the first
    paint; a second line "ready" says when it has (for docs/performance.md)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    print("shown", flush=True)
    if "--modules" in sys.argv:  # what was imported before the window showed (its test)
        print(loaded_modules(), flush=True)

    def ready() -> None:
        sidebar = getattr(window, "sidebar", None)
        if sidebar is not None:
            sidebar.fill()
        if "--modules" not in sys.argv:
            print("ready", flush=True)
        QApplication.instance().quit()

    QTimer.singleShot(0, ready)


FIRST_OPEN_AFTER_MS = 3000
"""From the main window shown to the first patient opened: the nurse finds the patient."""


def _first_open(window, mrn: str) -> None:
    """Open the patient ``mrn`` as the patient list does; print "opened MS" once the window
    has painted the page with every chart in view (``bench.views``' rule), then quit."""
    import time

    from PySide6.QtWidgets import QApplication

    from bench.views import _paint_watch

    patient_id = window.ctx.services.patients.by_mrn(mrn).id
    started = time.perf_counter()
    window.open_patient(patient_id)
    view = window.patient_page.progress

    def painted(watch) -> None:
        watch.stop()
        print(f"opened {(watch.painted_at - started) * 1000:.1f}", flush=True)
        QApplication.instance().quit()

    def drawn() -> None:
        watch = _paint_watch(window, view)
        watch.painted.connect(lambda: painted(watch))
        window.update()

    if view.loading:
        view.loaded.connect(drawn)
    else:
        drawn()


def bare() -> None:
    """The floor: PySide6 only, the same first-paint rule as ``kapp.ui.first_paint``
    (the window's QWindow exposed, so painted once the event loop is back)."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    class Painted(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
            if watched is window:
                if event.type() == QEvent.Type.Show:  # its QWindow exists now
                    window.removeEventFilter(self)
                    window.windowHandle().installEventFilter(self)
            elif event.type() == QEvent.Type.Expose and watched.isExposed():
                watched.removeEventFilter(self)
                QTimer.singleShot(0, lambda: _shown(window))
            return False

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 800)
    painted = Painted()
    window.installEventFilter(painted)
    window.show()
    app.exec()


def stack(path: str) -> None:
    """The floor of kapp's stack, for docs/performance.md: the empty window of ``bare`` plus
    importing SQLAlchemy and kapp's table models, configuring the mappers and one query on
    the database (what any main window on these records must pay before it shows them)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session, configure_mappers

    from kapp.storage import models

    configure_mappers()
    engine = sa.create_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        session.execute(sa.select(models.Patient).limit(1)).all()
    bare()


def kapp(path: str, submit_after_ms: int = 0) -> None:
    """kapp through its composition root. Prints "signin" once the sign-in window is
    painted (the first window: the database layer is still loading behind it); after
    ``submit_after_ms`` (0: the instant it is painted) types ``nurse1`` and submits, and
    prints "stall MS" (the longest the event loop was kept from a keystroke meanwhile) and
    "main MS" (submitted -> main window painted). The password check itself (argon2id: a
    deliberate quarter of a second) is left out; waiting for the clinic to open is not."""
    import time

    from PySide6.QtCore import QTimer

    from kapp.app import run_app
    from kapp.cli import build_parser
    from kapp.services.startup import SignedIn, VaultGate

    def try_sign_in(gate, username: str, password: str):  # the account, without argon2
        gate.preload()
        services = gate.services
        return SignedIn(services, services.users.by_username(username))

    VaultGate.try_sign_in = try_sign_in
    if "--no-warm-up" in sys.argv:  # the first open as it was before kapp.ui.warm_up
        from kapp.ui.warm_up import WarmUp

        WarmUp.DELAY_MS = 24 * 3600 * 1000
    submitted: list[float] = []
    ticks: list[float] = []

    def signin_shown(dialog) -> None:
        print("signin", flush=True)
        if "--modules" in sys.argv:
            print(loaded_modules(), flush=True)
        ticker = QTimer(dialog)  # a keystroke waits at most as long as the longest gap
        ticker.setInterval(5)
        ticker.timeout.connect(lambda: ticks.append(time.perf_counter()))
        if submit_after_ms:
            ticks.append(time.perf_counter())
            ticker.start()

        def submit() -> None:
            ticker.stop()
            if ticks:
                gaps = [b - a for a, b in itertools.pairwise(ticks)]
                print(f"stall {max(gaps, default=0) * 1000:.1f}", flush=True)
            dialog.form.username.setText("nurse1")
            dialog.form.password.setText("typed")
            submitted.append(time.perf_counter())
            dialog.form.submit()

        QTimer.singleShot(submit_after_ms, dialog, submit)

    def main_shown(window) -> None:
        print(f"main {(time.perf_counter() - submitted[0]) * 1000:.1f}", flush=True)
        if "--first-open" in sys.argv:
            mrn = sys.argv[sys.argv.index("--first-open") + 1]
            QTimer.singleShot(FIRST_OPEN_AFTER_MS, lambda: _first_open(window, mrn))
        else:
            _shown(window)

    sys.exit(run_app(build_parser().parse_args(["--db", path]), on_shown=main_shown,
                     on_first_window=signin_shown))


def checkpoint(path: str) -> None:
    """Fold the clinic's -wal back into the file (plain sqlite3), so that no run pays for
    the quick_check kapp makes after an unclean close (a non-empty -wal)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def run_child(args: list[str], *, root: str | None = None,
              timeout: float = 300) -> dict[str, float]:
    """Run ``python -m bench.coldstart ARGS`` (from ``root``: another checkout, for
    "before"); the wall-clock ms from process start to each line's first word, and the
    numbers the lines carry ("main 123.4" -> {"main": 123.4, "main@": wall ms})."""
    import subprocess
    import time
    from pathlib import Path

    root = root or str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": root}
    started = time.perf_counter()
    seen: dict[str, float] = {}
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen([sys.executable, "-m", "bench.coldstart", *args],
                                stdout=subprocess.PIPE, stderr=errors, text=True,
                                env=env, cwd=root)
        assert proc.stdout is not None
        for line in proc.stdout:
            word, _, number = line.strip().partition(" ")
            seen.setdefault(f"{word}@", (time.perf_counter() - started) * 1000)
            if number:
                with contextlib.suppress(ValueError):
                    seen[word] = float(number)
        proc.wait(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"cold-start child {args} failed (exit {proc.returncode})"
                               + child_errors(errors))
    return seen


def child_errors(errors: IO[str]) -> str:
    """The end of what a failed child wrote to stderr (its traceback), for the message."""
    errors.seek(0)
    text = errors.read().strip()
    return f":\n{text[-4000:]}" if text else ""


def report(path: str, runs: int, before: str | None) -> None:
    """Interleaved runs for docs/performance.md: the empty window, kapp's sign-in window,
    submit after 2 s and at once, and (``--before CHECKOUT``) the old start."""
    from statistics import median, quantiles

    checkpoint(path)
    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for _ in range(runs):
        add("empty QMainWindow painted", run_child(["bare"])["shown@"])
        if before:
            add("before: start -> main window painted", run_child(
                ["kapp", path], root=before)["shown@"])
        typed = run_child(["kapp", path, "2000"])
        add("(a) start -> sign-in window painted", typed["signin@"])
        add("(b) submitted after 2 s -> main window painted", typed["main"])
        add("    longest event-loop stall while typing", typed["stall"])
        at_once = run_child(["kapp", path, "0"])
        add("(a') start -> sign-in painted (instant run)", at_once["signin@"])
        add("(c) submitted at once -> main window painted", at_once["main"])
        add("(a'+c) start -> main, nobody typing", at_once["signin@"] + at_once["main"])
        checkpoint(path)
    empty = median(rows["empty QMainWindow painted"])
    for name, values in rows.items():
        p95 = quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        ratio = "" if "stall" in name or "submitted" in name \
            else f"  {median(values) / empty:.2f}x"
        print(f"{name:<52} median {median(values):7.0f} ms  p95 {p95:7.0f} ms{ratio}")


if __name__ == "__main__":
    if sys.argv[1] != "report":
        limit_child()
    if sys.argv[1] == "bare":
        bare()
    elif sys.argv[1] == "stack":
        stack(sys.argv[2])
    elif sys.argv[1] == "report":  # report DB RUNS [--before CHECKOUT]
        report(sys.argv[2], int(sys.argv[3]),
               sys.argv[sys.argv.index("--before") + 1] if "--before" in sys.argv else None)
    else:
        numbers = [a for a in sys.argv[3:] if a.isdigit()]
        kapp(sys.argv[2], int(numbers[0]) if numbers else 0)
