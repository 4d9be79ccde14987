"""A child process for the cold-start figure: ``python -m bench.coldstart bare`` shows an
empty QMainWindow; ``python -m bench.coldstart kapp DB`` starts kapp on DB the way the
composition root does. Each prints "shown" once the window has been painted, then quits."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _finish(app) -> None:
    from PySide6.QtCore import QTimer

    def done() -> None:
        print("shown", flush=True)
        app.quit()

    QTimer.singleShot(0, done)
    app.exec()


def bare() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    _finish(app)


def kapp(path: str) -> None:
    from kapp.services.facade import Services
    from kapp.storage.database import open_database
    from kapp.storage.engine import sqlite_url
    from kapp.ui.app import build_main_window, ensure_application

    app = ensure_application(sys.argv[:1])
    opened = open_database(sqlite_url(path))
    services = Services.for_database(opened.database)
    services.protocol.ensure_defaults()
    nurse = services.users.by_username("nurse1")
    window = build_main_window(services, path, nurse)
    window.show()
    _finish(app)
    opened.database.dispose()


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare()
    else:
        kapp(sys.argv[2])
