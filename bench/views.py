"""Opening a patient (every progress chart drawn) and the two PDFs, on the heaviest patient.

Opening a patient is timed as the main window does it: a new ``PatientPage`` (its own
overview read, then the progress read off the GUI thread), until the progress view says it
drew and every chart is painted; the page before it is closed (``deleteLater``) as the main
window closes it, so the new page may draw into the charts the closed one kept. The opens
alternate among the three heaviest patients (about 200 sessions each), never the same one
twice in a row; the first open of each in the process is reported apart. Reopening a
patient whose record has not changed uses the progress series kept from the last time
(``kapp.services.kept``; three patients fit in it), so the opens are also timed with nothing kept,
as for a patient not opened lately, and reported apart too; and so again when picked in
the patient list ``PICK_MS`` before being opened, as a nurse picks one (the list reads the
patient selected ahead, ``kapp.ui.read_ahead``). Its baseline
fetches the very rows that open read, with plain ``sqlite3``: the SELECT statements kapp
sent during the first open of that patient are recorded from the engine and replayed, same
columns, joins and aggregates, so the baseline stays in step with the service's query
shapes.
"""

from __future__ import annotations

import io
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.cases import Figure
from bench.stats import Timing, repeat, timed


def _ms(t: Timing) -> str:
    return f"median {t.median:.1f} ms, p95 {t.p95:.1f} ms"


class _Navigator:
    """Where the page would send the user; the benchmark goes nowhere."""

    def show_overview(self) -> None: ...
    def show_patients(self) -> None: ...
    def open_patient(self, patient_id: uuid.UUID) -> None: ...
    def open_session(self, session_id: uuid.UUID) -> None: ...


class _Statements:
    """The SELECT statements kapp sends while recording, with their parameters."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.recording = False
        self.seen: list[tuple[str, tuple]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> _Statements:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._record)
        self.recording = True
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        self.recording = False
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement: str, parameters, _context, _many) -> None:
        if self.recording and statement.lstrip().upper().startswith("SELECT"):
            with self._lock:
                self.seen.append((statement, tuple(parameters or ())))


HEAVY_PATIENTS = 3  # the bench clinic has three patients of about 200 sessions
PICK_MS = 150
"""From selecting a patient in the list to opening them: the second click of an unhurried
double-click, or Enter after the arrow keys (the list reads ahead from the selection on)."""


def _below_the_fold(view) -> list:
    """The progress view's charts that the window's paint did not reach (scrolled out of
    the viewport)."""
    port = view.scroll.viewport()
    hidden = []
    for chart in view.charts:
        top = chart.mapTo(port, chart.rect().topLeft()).y()
        if top >= port.height() or top + chart.height() <= 0:
            hidden.append(chart)
    return hidden


def _paint_watch(window, view):
    """Watches the window paint the progress view just drawn: ``painted_at`` is set (and
    ``painted`` emitted) at the end of the first paint of the window that has painted every
    chart in view (those below the fold are left to the caller). Qt paints a window while
    it handles the window's UpdateRequest; the watch handles that event itself, to see the
    end of the paint, and notes which charts' viewports got a paint event meanwhile."""
    from PySide6.QtCore import QEvent, QObject, Signal

    class PaintWatch(QObject):
        painted = Signal()

        def __init__(self) -> None:
            super().__init__()
            self.ports = [chart.viewport() for chart in view.charts]
            self.seen: set = set()
            self.painted_at: float | None = None
            for port in self.ports:
                port.installEventFilter(self)
            window.installEventFilter(self)

        def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
            kind = event.type()
            if kind == QEvent.Type.Paint:
                self.seen.add(watched)
            elif kind == QEvent.Type.UpdateRequest and watched is window:
                watched.event(event)  # the paint, done here so that its end is seen
                in_view = {c.viewport() for c in view.charts} - {
                    c.viewport() for c in _below_the_fold(view)}
                if self.painted_at is None and in_view <= self.seen:
                    self.painted_at = time.perf_counter()
                    self.painted.emit()
                return True  # handled
            return False

        def stop(self) -> None:
            for port in self.ports:
                port.removeEventFilter(self)
            window.removeEventFilter(self)

    return PaintWatch()


def heaviest(path: Path, count: int) -> list[tuple[str, int]]:
    """(MRN, sessions) of the patients with most sessions, most first."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT p.mrn, count(*) FROM sessions s JOIN patients p ON p.id = s.patient_id "
            "GROUP BY p.id ORDER BY 2 DESC, p.mrn LIMIT ?", (count,)).fetchall()
    finally:
        conn.close()


def open_patient(services, path: Path, runs: int, *, small: bool = False) -> list[Figure]:
    """From "open patient" to every progress chart drawn, against plain sqlite3 fetching
    the same rows. The opens alternate among the heaviest patients (never the same one
    twice in a row), so that nothing kept from the previous page is a copy of this one;
    the first open of each patient in the process is reported apart."""
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer
    from PySide6.QtWidgets import QStackedWidget, QWidget

    from kapp.ui.context import AppContext
    from kapp.ui.patient_page import PatientPage
    from kapp.ui.read_ahead import ReadAhead

    ctx = AppContext(services)
    ctx.set_user(services.users.by_username("nurse1"))
    heavy = heaviest(path, 2 if small else HEAVY_PATIENTS)
    patients = [services.patients.by_mrn(mrn).id for mrn, _ in heavy]
    navigator = _Navigator()
    window = QStackedWidget()
    window.resize(1366, 768)
    listing = QWidget()  # stands for the patient list, from which a patient is opened
    window.addWidget(listing)
    window.show()
    opened: list = []

    def open_once(patient_id: uuid.UUID) -> float:
        """Returns when the user saw the page whole (perf_counter), below-the-fold paints added."""
        # As MainWindow.open_patient, called from the patient list: the last page (hidden
        # since the list was shown) is closed, deleted when the event loop next runs, inside
        # this timing, and the new one made.
        for old in opened:
            window.removeWidget(old)
            old.deleteLater()
        opened.clear()
        page = PatientPage(ctx, patient_id, navigator)
        window.addWidget(page)
        window.setCurrentWidget(page)
        view = page.progress
        watches: list = []  # the window's paint, watched from the moment the charts are drawn

        def drawn() -> None:
            watches.append(_paint_watch(window, view))

        if view.loading:  # wait for the read off the GUI thread and the drawing
            loop = QEventLoop()
            view.loaded.connect(drawn)
            view.loaded.connect(loop.quit)
            view.reader.failed.connect(loop.quit)
            QTimer.singleShot(60_000, loop.quit)  # never hang the benchmark
            loop.exec()
            view.loaded.disconnect(drawn)
        else:
            drawn()
            window.update()
        if view.progress is None or not view.charts:
            raise RuntimeError("the progress view did not draw")
        # The window as the user sees it: the event loop lays out and paints the page (the
        # page holds its paint until it has drawn); the time is taken at the end of the
        # paint that reached every chart in view. Each chart below the fold is then painted
        # once too, and its time added.
        watch = watches[-1]
        if watch.painted_at is None:
            loop = QEventLoop()
            watch.painted.connect(loop.quit)
            QTimer.singleShot(60_000, loop.quit)
            loop.exec()
        watch.stop()
        if watch.painted_at is None:
            raise RuntimeError("the window was not painted")
        below = time.perf_counter()
        for chart in _below_the_fold(view):
            chart.grab()
        seen = watch.painted_at + (time.perf_counter() - below)
        opened.append(page)
        window.setCurrentWidget(listing)  # back to the list, as the nurse goes to the next
        settle = QEventLoop()  # what the paint set off (repaints, timers) and the page's
        QTimer.singleShot(50, settle.quit)  # hiding end untimed, here, rather than inside
        settle.exec()  # the next open's time
        return seen

    def close_last() -> None:
        for page in opened:
            window.removeWidget(page)
            page.deleteLater()
        opened.clear()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def timed_open(patient_id: uuid.UUID) -> float:
        started = time.perf_counter()
        return (open_once(patient_id) - started) * 1000

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def plain(queries: list[tuple[str, tuple]]) -> float:
        started = time.perf_counter()
        for sql, params in queries:
            conn.execute(sql, params).fetchall()
        return (time.perf_counter() - started) * 1000

    first, queries = [], {}
    for patient_id in patients:  # the first open of each: what it reads is recorded
        with _Statements(services.db.engine) as statements:
            first.append(timed_open(patient_id))
        queries[patient_id] = list(statements.seen)

    samples, base = [], []
    for run in range(runs):  # interleaved, so both see the same machine state
        patient_id = patients[run % len(patients)]
        samples.append(timed_open(patient_id))
        base.append(plain(queries[patient_id]))
    computed = []  # a patient not opened lately: the series are computed, not kept
    for run in range(runs):
        services.patient_view.forget_kept()
        computed.append(timed_open(patients[run % len(patients)]))
    picked = []  # the same, picked in the patient list: read ahead from the selection on
    ahead = ReadAhead(services.patient_view.read_ahead)
    for run in range(runs):
        services.patient_view.forget_kept()
        patient_id = patients[run % len(patients)]
        ahead.select(patient_id)
        pause = QEventLoop()  # until the second click of a double-click, or Enter
        QTimer.singleShot(PICK_MS, pause.quit)
        pause.exec()
        picked.append(timed_open(patient_id))
    close_last()
    conn.close()
    window.close()
    k, b = timed(samples), timed(base)
    ratio = k.median / b.median
    met = k.p95 <= 150 and ratio <= 3
    sessions = "/".join(str(n) for _, n in heavy)
    count = max(len(q) for q in queries.values())
    return [
        Figure(f"Open a {sessions}-session patient, charts drawn (alternating)",
               f"{_ms(k)} (plain sqlite3, the same {count} queries: {_ms(b)})",
               "p95 <= 150 ms, ratio <= 3", met, f"{ratio:.2f}x", k, b,
               f"plain sqlite3, same {count} SELECTs"),
        Figure("  series computed again each time (none kept)", _ms(timed(computed)), "",
               None, timing=timed(computed)),
        Figure(f"  the same, picked in the list {PICK_MS} ms before it is opened",
               _ms(timed(picked)), "", None, timing=timed(picked)),
        Figure("  first open of each in the process",
               ", ".join(f"{mrn} {ms:.0f} ms" for (mrn, _), ms in zip(heavy, first,
                                                                     strict=True)),
               "", None, timing=timed(first)),
    ]


def _sessions(services, patient_id: uuid.UUID) -> int:
    return len(services.patient_view.overview(patient_id).sessions)


def _latest_full_session(services, patient_id: uuid.UUID) -> uuid.UUID:
    from kapp.domain import enums as e

    history = services.patient_view.overview(patient_id).sessions  # newest first
    return next(row.session.id for row in history
                if row.session.status is e.SessionStatus.COMPLETED)


def _pdf(name: str, action: Callable[[], object], runs: int, limit_s: float) -> Figure:
    t = repeat(action, runs)
    return Figure(name, _ms(t), f"<= {limit_s:g} s", t.p95 <= limit_s * 1000, timing=t)


def pdfs(services, mrn: str, runs: int) -> list[Figure]:
    """The session record of the heaviest patient's latest completed session, and that
    patient's whole progress: read and written, as the Reports menu does."""
    from kapp.reports.build import progress_report, session_report

    patient_id = services.patients.by_mrn(mrn).id
    session_id = _latest_full_session(services, patient_id)
    db = services.db
    return [
        _pdf("Session PDF (latest full session)",
             lambda: session_report(db, session_id, io.BytesIO()), runs, 1),
        _pdf("Progress PDF (heaviest patient)",
             lambda: progress_report(db, patient_id, io.BytesIO()), runs, 2),
    ]
