"""Each benchmark case: what it measures, its baseline and its target."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.clinic import Clinic
from bench.stats import Timing, timed

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figure:
    name: str
    value: str  # what was measured, formatted
    target: str
    met: bool | None  # None: no target, or not measurable in this build
    ratio: str = ""
    timing: Timing | None = None  # the samples behind value, for the table
    baseline: Timing | None = None  # the physical floor, measured in the same run
    baseline_name: str = ""  # what the baseline is


def _ms(t: Timing) -> str:
    return f"median {t.median:.1f} ms, p95 {t.p95:.1f} ms"


def _child(args: list[str]) -> tuple[float, str]:
    """Run a child python; wall-clock ms until it printed its one line, and the line."""
    from bench.coldstart import child_errors

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                                stderr=errors, text=True, env=env, cwd=ROOT)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        elapsed = (time.perf_counter() - started) * 1000
        proc.wait(timeout=120)
        if proc.returncode != 0 or not line:
            raise RuntimeError(f"benchmark child {args} failed (exit {proc.returncode})"
                               + child_errors(errors))
    return elapsed, line


def cold_start(clinic: Clinic, runs: int) -> Figure:
    """(a) process start -> the first window (sign-in) painted, against the empty window.
    ``cold_start_figures`` also gives (b) and (c) (see bench/coldstart.py)."""
    return cold_start_figures(clinic, runs)[0]


def cold_start_figures(clinic: Clinic, runs: int) -> list[Figure]:
    """(a) start -> sign-in window painted (ratio to the empty window); (b) credentials
    submitted 2 s after it showed -> main window painted; (c) submitted the instant it
    showed -> main window painted. The clinic's -wal is folded in first (no quick_check)."""
    from bench.coldstart import checkpoint, run_child

    checkpoint(str(clinic.path))
    first, typed, at_once, whole, bare = [], [], [], [], []
    for _ in range(runs):  # interleaved, so all see the same machine state
        bare.append(_child(["-m", "bench.coldstart", "bare"])[0])
        slow = run_child(["kapp", str(clinic.path), "2000"])
        first.append(slow["signin@"])
        typed.append(slow["main"])
        quick = run_child(["kapp", str(clinic.path), "0"])
        at_once.append(quick["main"])
        whole.append(quick["main@"])
    a, b, c, w, e = timed(first), timed(typed), timed(at_once), timed(whole), timed(bare)
    ratio, whole_ratio = a.median / e.median, w.median / e.median
    return [
        Figure("Cold start to first window (sign-in)", f"{_ms(a)} (empty Qt window: {_ms(e)})",
               "ratio <= 2", ratio <= 2, f"{ratio:.2f}x", a, e, "empty Qt window"),
        Figure("Cold start to main window, sign-in answered the instant it shows",
               f"{_ms(w)} (of which {_ms(c)} after the sign-in)", "ratio <= 2",
               whole_ratio <= 2, f"{whole_ratio:.2f}x", w, e, "empty Qt window"),
        Figure("Sign-in submitted after 2 s of typing -> main window", _ms(b), "", None,
               timing=b),
        *first_open_figures(clinic, max(1, runs // 2)),
    ]


def first_open_figures(clinic: Clinic, runs: int) -> list[Figure]:
    """The first patient opened after start-up (the heaviest, 3 s after the main window
    showed, as the patient list opens one), with the page readied meanwhile
    (``kapp.ui.warm_up``) and without, interleaved."""
    from bench.coldstart import FIRST_OPEN_AFTER_MS, checkpoint, run_child
    from bench.views import heaviest

    ((mrn, _sessions),) = heaviest(clinic.path, 1)
    ready, cold = [], []
    for _ in range(runs):
        checkpoint(str(clinic.path))
        args = ["kapp", str(clinic.path), "0", "--first-open", mrn]
        ready.append(run_child(args)["opened"])
        cold.append(run_child([*args, "--no-warm-up"])["opened"])
    r, c = timed(ready), timed(cold)
    after = f"{FIRST_OPEN_AFTER_MS / 1000:.0f} s"
    return [
        Figure(f"First patient opened {after} after the main window showed", _ms(r),
               "", None, timing=r),
        Figure("  the same, the page not readied ahead (before kapp.ui.warm_up)", _ms(c),
               "", None, timing=c),
    ]


def search(services, runs: int) -> Figure:
    """One keystroke to the list updated: the search query plus the table's reset."""
    from kapp.ui.context import AppContext
    from kapp.ui.patient_list import PatientListView

    ctx = AppContext(services)
    view = PatientListView(services, ctx.changes)
    view.resize(1000, 700)
    view.show()
    typed = ["m", "ma", "mar", "o", "ok", "DEMO-00", "DEMO-0012", "1975", "1975-0",
             "smith", "lee", "an"]
    samples: list[float] = []
    for _ in range(max(1, runs // len(typed))):
        for text in typed:
            view.search.setText(text)
            started = time.perf_counter()
            view.refresh()
            samples.append((time.perf_counter() - started) * 1000)
    view.close()
    t = timed(samples)
    return Figure("Patient search, keystroke to list", _ms(t), "p95 <= 30 ms", t.p95 <= 30,
                  timing=t)


def vitals_recorder(services) -> Callable[[], object]:
    """One vitals reading recorded through the service, as a nurse does at the chair, into
    a session planned and started for the benchmark (``.session_id``, ``.nurse_id``)."""
    from kapp.domain import enums as e
    from kapp.domain.vitals import VitalsInput
    from kapp.services.sessions import DoseForm

    nurse = services.users.by_username("nurse1")
    prescriber = services.users.by_username("prescriber1")
    patient = services.patients.search("DEMO-", limit=1)[0]
    course = services.courses.for_patient(patient.id)[-1]
    dose = services.sessions.previous_dose(patient.id) or DoseForm(
        route="iv", drug="ketamine", weight=70, weight_unit="kg", mg_per_kg=0.5,
        concentration_mg_per_ml=1, duration_min=40)
    session = services.sessions.plan_session(
        actor=nurse, course_id=course.id, planned_start=datetime.now(UTC), dose=dose,
        prescriber_id=prescriber.id)
    services.sessions.set_checklist(actor=nurse, session_id=session.id, which="pre",
                                    items={c.value: True for c in e.PreSessionCheck})
    services.sessions.record_pump_event(actor=nurse, session_id=session.id, kind="start",
                                        rate_ml_per_h=60)
    values = VitalsInput(hr=76, systolic=131, diastolic=83, spo2=98, rr=14)

    def record() -> object:
        return services.entries.record_vitals(
            actor=nurse, session_id=session.id, values=values, rhythm="sinus rhythm")

    def finish() -> None:  # no chair left occupied for the next run's start-up and memory
        services.sessions.abort(actor=nurse, session_id=session.id,
                                reason="benchmark session, not a patient's")

    record.session_id, record.nurse_id = session.id, nurse.id  # type: ignore[attr-defined]
    record.finish = finish  # type: ignore[attr-defined]
    return record


def plain_vitals_insert(path: Path, session_id: uuid.UUID, nurse_id: uuid.UUID):
    """The floor: the same reading inserted into the same table (same indexes, same
    foreign keys) with plain ``sqlite3`` and the same pragmas, in a durable transaction of
    its own. Returns (insert, close)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("busy_timeout=5000", "journal_mode=WAL", "synchronous=FULL",
                   "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")

    def insert() -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO vitals_readings (id, taken_at, hr, systolic, diastolic, spo2, rr, "
            "rhythm, source, predose, session_id, entered_at, origin, entered_by_id) "
            "VALUES (?,?,?,?,?,?,?,?,'manual',0,?,?,'bench',?)",
            (uuid.uuid4().hex, now, 76, 131, 83, 98, 14, "sinus rhythm", session_id.hex,
             now, nurse_id.hex))
        conn.execute("COMMIT")

    return insert, conn.close


def record_vitals(services, path: Path, runs: int) -> Figure:
    record = vitals_recorder(services)
    insert, close = plain_vitals_insert(path, record.session_id, record.nurse_id)
    record(), insert()  # warm both
    kapp_ms: list[float] = []
    base_ms: list[float] = []
    for _ in range(runs):  # interleaved: both see the same disk at the same minute
        for action, samples in ((record, kapp_ms), (insert, base_ms)):
            started = time.perf_counter()
            action()
            samples.append((time.perf_counter() - started) * 1000)
    close()
    record.finish()
    kapp, base = timed(kapp_ms), timed(base_ms)
    ratio = kapp.median / base.median
    met = kapp.p95 <= 10 and ratio <= 5
    return Figure("Record one vitals reading (durable)",
                  f"{_ms(kapp)} (plain sqlite3: {_ms(base)})",
                  "p95 <= 10 ms, ratio <= 5", met, f"{ratio:.2f}x", kapp, base,
                  "plain sqlite3: the same row into the same table, same pragmas")


def memory(clinic: Clinic) -> Figure:
    _, line = _child(["-m", "bench.memory", str(clinic.path), clinic.heaviest_mrn])
    mb = float(line)
    return Figure("Peak memory, database open and a patient shown", f"{mb:.0f} MB",
                  "<= 300 MB", mb <= 300)


def size(clinic: Clinic) -> Figure:
    per = clinic.size_bytes / max(clinic.sessions, 1)
    return Figure("Database size per session",
                  f"{per / 1024:.1f} KiB ({clinic.size_bytes / 2**20:.0f} MiB for "
                  f"{clinic.sessions:,} sessions)", "", None)


CaseFn = Callable[..., Figure]
