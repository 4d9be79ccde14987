"""Cold start imports only what the first screen needs (docs/performance.md): the sign-in
window shows before SQLAlchemy and kapp.storage load (they load while the person types);
the chart, PDF and migration libraries and the other screens load when first used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

NOT_AT_START = {
    "pyqtgraph", "numpy", "reportlab", "pypdfium2", "alembic",  # charts, PDFs, migrations
    "kapp.reports", "kapp.ui.progress_charts", "kapp.ui.progress_view", "kapp.ui.overview",
    "kapp.ui.patient_page", "kapp.ui.session.screen", "kapp.ui.audit_viewer",
    "kapp.ui.report_actions", "kapp.ui.plan_session", "kapp.services.audit_view",
    "kapp.services.progress", "kapp.services.export",
}


NOT_AT_SIGN_IN = {"sqlalchemy", "kapp.storage", "alembic", "sqlcipher3", "kapp.services.facade",
                  "kapp.ui.main_window",
                  # the enums of Qt's namespace, ~20 ms to build (kapp/ui/sign_in.py)
                  "PySide6.QtCore.Qt"}


def _early(loaded: set[str], lazy: set[str]) -> list[str]:
    return sorted(name for name in loaded
                  if name in lazy or name.split(".")[0] in lazy
                  or any(name.startswith(f"{module}.") for module in lazy))


def test_the_sign_in_window_shows_before_the_database_layer_and_the_main_window_after(
        db_path: Path, staff, planned) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.coldstart", "kapp", str(db_path), "--modules"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The sign-in window was painted before SQLAlchemy and the database layer loaded.
    assert lines[0] == "signin"
    assert _early(set(json.loads(lines[1])), NOT_AT_SIGN_IN) == []
    # The credentials went in the instant it showed; the main window was then painted
    # (through the composition root) on the opened clinic.
    assert lines[2].startswith("main ")
    assert lines[3] == "shown"
    loaded = set(json.loads(lines[4]))
    assert "kapp.ui.main_window" in loaded and "kapp.ui.patient_list" in loaded
    assert "sqlalchemy" in loaded
    assert _early(loaded, NOT_AT_START) == []
