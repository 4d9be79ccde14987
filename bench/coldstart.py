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

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _shown(window) -> None:
    """The first line ("shown") is the figure. kapp's chairs list fills just after the first
    paint; a second line "ready" says when it has (for docs/performance.md)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    print("shown", flush=True)
    if "--modules" in sys.argv:  # what was imported before the window showed (its test)
        print(json.dumps(sorted(sys.modules)), flush=True)

    def ready() -> None:
        sidebar = getattr(window, "sidebar", None)
        if sidebar is not None:
            sidebar.fill()
        if "--modules" not in sys.argv:
            print("ready", flush=True)
        QApplication.instance().quit()

    QTimer.singleShot(0, ready)


def bare() -> None:
    """The floor: PySide6 only, the same first-paint rule as ``kapp.ui.app.FirstPaint``."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    class Painted(QObject):
        def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and isinstance(watched, QWidget) \
                    and watched.window() is window:
                app.removeEventFilter(self)
                QTimer.singleShot(0, lambda: _shown(window))
            return False

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 800)
    painted = Painted()
    app.installEventFilter(painted)
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


def kapp(path: str) -> None:
    from kapp.app import run_app
    from kapp.cli import build_parser

    def sign_in(gate):  # the nurse at the keyboard, without the window or argon2 check
        from kapp.services.startup import SignedIn

        services = gate.services
        return SignedIn(services, services.users.by_username("nurse1"))

    import kapp.ui.app

    kapp.ui.app.ask_sign_in = sign_in
    sys.exit(run_app(build_parser().parse_args(["--db", path]), on_shown=_shown))


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare()
    elif sys.argv[1] == "stack":
        stack(sys.argv[2])
    else:
        kapp(sys.argv[2])
