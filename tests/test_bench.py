"""`make bench` in its small mode: the benchmark runs end to end (figures not judged)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_benchmark_runs_in_small_mode(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "bench", "--small", "--cache", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    for figure in ("Cold start", "Patient search", "Record one vitals reading", "Peak memory",
                   "Database size per session", "session patient, charts drawn",
                   "Session PDF", "Progress PDF", "Encryption cost: record one vitals reading",
                   "Encryption cost: patient search", "Encryption cost: open a patient",
                   "Open a chair's live session screen", "no screen made ahead",
                   "Go to another chair",
                   "Record a reading typed in the session screen", "Record a side effect",
                   "Record a dissociation report", "Add a note", "Acknowledge an alert",
                   "Open the pre-session checklist form",
                   "Open the peak dissociation scale form"):
        assert figure in done.stdout
