"""Cold start imports only what the first screen needs (docs/performance.md): the chart,
PDF and migration libraries and the other screens load when they are first used."""

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


def test_the_main_window_shows_before_the_charts_pdfs_and_other_screens_are_imported(
        db_path: Path, staff, planned) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.coldstart", "kapp", str(db_path), "--modules"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    shown, modules = done.stdout.splitlines()[:2]
    assert shown == "shown"  # the main window was painted, through the composition root
    loaded = set(json.loads(modules))
    assert "kapp.ui.main_window" in loaded and "kapp.ui.patient_list" in loaded
    early = sorted(name for name in loaded
                   if name in NOT_AT_START or name.split(".")[0] in NOT_AT_START
                   or any(name.startswith(f"{lazy}.") for lazy in NOT_AT_START))
    assert early == []
