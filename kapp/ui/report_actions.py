"""Reports and exports from the window: save a PDF, print, export CSV.

The work (reading the records, building the PDF, writing the CSV files) runs on a worker
thread while a progress dialog shows and can cancel it, so the window stays responsive
even for a whole clinic's export. Results and errors come back on the GUI thread.

Printing: PySide6-Essentials ships no QtPdf, so the PDF is rasterised with pypdfium2
and painted onto the printer page by page: what prints is exactly what the PDF shows,
with one layout to maintain.

The screens call these functions; the lead wires them in:
- patient page: ``save_progress_pdf(ctx, patient_id, parent)`` and
  ``export_csv(ctx, patient_id, parent)``;
- session screen: ``save_session_pdf``, ``print_session`` and ``save_rems_pdf``
  (``ctx, session_id, parent``);
- main window File menu: ``export_csv(ctx, None, parent)`` (added here).
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage, QPainter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from kapp.domain.errors import KappError, StorageUnavailable
from kapp.reports.build import progress_report, rems_report, session_report
from kapp.services.export import ExportCancelled, ExportProgress, ExportService
from kapp.ui.background import action_problem
from kapp.ui.context import AppContext

Work = Callable[["Job"], Any]


class Job(QObject):
    """One piece of background work with progress, cancel, and a result or an error."""

    progressed = Signal(int, int, str)  # done, total, what
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()  # after any of the three above

    def __init__(self, work: Work, not_done: str = "") -> None:
        super().__init__()
        self._work = work
        self.not_done = not_done  # "No PDF was saved.": said when the work failed
        self.stop = threading.Event()

    def is_cancelled(self) -> bool:
        return self.stop.is_set()

    def run(self) -> None:
        try:
            result = self._work(self)
        except ExportCancelled:
            self.cancelled.emit()
        except KappError as exc:
            self.failed.emit(action_problem(exc, self.not_done) if self.not_done
                             else str(exc))
        except OSError as exc:
            name = f" {exc.filename}" if exc.filename else ""
            self.failed.emit(f"The file{name} could not be written: {exc.strerror or exc}.")
        except Exception as exc:
            self.failed.emit(f"Something went wrong: {exc}")
        else:
            if self.is_cancelled():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        self.finished.emit()


class _Watcher(QObject):
    """Lives on the GUI thread, so the job's signals reach it queued, never on the worker."""

    def __init__(self, job: Job, thread: QThread, dialog: QProgressDialog, title: str,
                 parent: QWidget | None, on_success: Callable[[Any], None]) -> None:
        super().__init__()
        self.job, self.thread, self.dialog, self.title = job, thread, dialog, title
        self.parent_widget, self.on_success = parent, on_success

    @Slot(int, int, str)
    def progressed(self, done: int, total: int, what: str) -> None:
        if total > 0:
            self.dialog.setMaximum(100)
            self.dialog.setValue(int(done * 100 / total))
        if what and not self.job.is_cancelled():
            self.dialog.setLabelText(f"{self.title}\n{what}")

    @Slot(object)
    def succeeded(self, result: Any) -> None:
        self._close()
        self.on_success(result)

    @Slot(str)
    def failed(self, message: str) -> None:
        self._close()
        inform(self.parent_widget, self.title, f"{self.title} did not finish. {message}",
               error=True)

    @Slot()
    def cancelled(self) -> None:
        self._close()

    @Slot()
    def finished(self) -> None:
        self.thread.quit()
        self.thread.wait()
        _RUNNING.pop(self.job, None)
        self.thread.deleteLater()

    def _close(self) -> None:
        self.dialog.reset()
        self.dialog.close()
        self.dialog.deleteLater()


# Jobs still running, kept alive (with their threads) until they finish.
_RUNNING: dict[Job, _Watcher] = {}


def start(parent: QWidget | None, title: str, work: Work,
          on_success: Callable[[Any], None], *, determinate: bool = False,
          not_done: str = "") -> Job:
    """Run ``work(job)`` on a worker thread behind a cancellable progress dialog;
    ``not_done`` says what did not happen when a storage problem stopped it."""
    job = Job(work, not_done)
    thread = QThread()
    job.moveToThread(thread)
    dialog = QProgressDialog(title, "Cancel", 0, 100 if determinate else 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.canceled.connect(job.stop.set)
    watcher = _Watcher(job, thread, dialog, title, parent, on_success)
    dialog.canceled.connect(lambda: dialog.setLabelText("Cancelling…"))
    job.progressed.connect(watcher.progressed)
    job.succeeded.connect(watcher.succeeded)
    job.failed.connect(watcher.failed)
    job.cancelled.connect(watcher.cancelled)
    job.finished.connect(watcher.finished)
    thread.started.connect(job.run)
    _RUNNING[job] = watcher
    thread.start()
    return job


# -- dialogs (tests replace these) ------------------------------------------------------
def ask_save_path(parent: QWidget | None, title: str, suggested: str,
                  file_filter: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    return Path(path) if path else None


def ask_folder(parent: QWidget | None, title: str) -> Path | None:
    path = QFileDialog.getExistingDirectory(parent, title)
    return Path(path) if path else None


def inform(parent: QWidget | None, title: str, text: str, *, error: bool = False) -> None:
    if error:
        QMessageBox.warning(parent, title, text)
    else:
        QMessageBox.information(parent, title, text)


def ask_printer(parent: QWidget | None, printer: QPrinter) -> bool:
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle("Print session record")
    return dialog.exec() == QPrintDialog.DialogCode.Accepted


# -- the actions --------------------------------------------------------------------------
def _pdf_name(*parts: str) -> str:
    return "-".join(p.replace(" ", "_").replace("/", "_") for p in parts if p) + ".pdf"


def _session_name(ctx: AppContext, session_id: uuid.UUID, kind: str) -> str:
    """The file name to suggest. Raises ``StorageUnavailable`` (the database cannot be
    read just now: no use asking where to save what cannot be read)."""
    try:
        session = ctx.services.sessions.get(session_id)
        patient = ctx.services.patients.get(session.patient_id)
    except StorageUnavailable:
        raise
    except KappError:
        return _pdf_name(kind)
    when = (session.actual_start or session.planned_start).date().isoformat()
    return _pdf_name(patient.mrn, kind, when)


NO_PDF = "No PDF was saved."


def _not_started(parent: QWidget | None, title: str, problem: KappError,
                 not_done: str) -> None:
    inform(parent, title, f"{title} did not start. {action_problem(problem, not_done)}",
           error=True)


def _save_pdf(ctx: AppContext, parent: QWidget | None, title: str,
              suggest: Callable[[], str], write: Callable[[Path, str], None]) -> Job | None:
    try:
        suggested = suggest()
    except StorageUnavailable as exc:  # e.g. the database server is out of reach
        _not_started(parent, title, exc, NO_PDF)
        return None
    path = ask_save_path(parent, title, suggested, "PDF files (*.pdf)")
    if path is None:
        return None
    if path.suffix.lower() != ".pdf":
        path = path.with_suffix(".pdf")
    partial = path.with_name(path.name + ".part")

    def work(job: Job) -> Path:
        try:
            write(partial, str(path))
            if job.is_cancelled():
                partial.unlink(missing_ok=True)
                return path
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return path

    return start(parent, title, work,
                 lambda saved: inform(parent, title, f"Saved {saved}"), not_done=NO_PDF)


def save_session_pdf(ctx: AppContext, session_id: uuid.UUID,
                     parent: QWidget | None = None) -> Job | None:
    """Ask where, then write the session record PDF; None when the user cancelled."""
    db, actor = ctx.services.db, ctx.actor()
    return _save_pdf(ctx, parent, "Save session record",
                     lambda: _session_name(ctx, session_id, "session"),
                     lambda out, where: session_report(db, session_id, out, actor=actor,
                                       destination=where))


def save_rems_pdf(ctx: AppContext, session_id: uuid.UUID,
                  parent: QWidget | None = None) -> Job | None:
    db, actor = ctx.services.db, ctx.actor()
    return _save_pdf(ctx, parent, "Save REMS monitoring summary",
                     lambda: _session_name(ctx, session_id, "REMS"),
                     lambda out, where: rems_report(db, session_id, out, actor=actor,
                                       destination=where))


def save_progress_pdf(ctx: AppContext, patient_id: uuid.UUID,
                      parent: QWidget | None = None) -> Job | None:
    db, actor = ctx.services.db, ctx.actor()

    def suggest() -> str:
        try:
            mrn = ctx.services.patients.get(patient_id).mrn
        except StorageUnavailable:
            raise
        except KappError:
            mrn = ""
        return _pdf_name(mrn, "progress")

    return _save_pdf(ctx, parent, "Save progress report", suggest,
                     lambda out, where: progress_report(db, patient_id, out, actor=actor,
                                       destination=where))


def print_session(ctx: AppContext, session_id: uuid.UUID,
                  parent: QWidget | None = None) -> Job:
    """Build the session record off the GUI thread, then show the system print dialog."""
    db, actor = ctx.services.db, ctx.actor()

    def work(_job: Job) -> bytes:
        buffer = io.BytesIO()
        session_report(db, session_id, buffer, actor=actor)
        return buffer.getvalue()

    def ready(pdf: bytes) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        try:
            printer.setDocName(_session_name(ctx, session_id, "session"))
        except StorageUnavailable:  # the record is built: print it under a plain name
            printer.setDocName(_pdf_name("session"))
        if ask_printer(parent, printer):
            try:
                print_pdf(pdf, printer)
            except (RuntimeError, OSError) as exc:
                inform(parent, "Print", f"The record could not be printed: {exc}", error=True)

    return start(parent, "Prepare the session record for printing", work, ready,
                 not_done="Nothing was printed.")


def print_pdf(pdf: bytes, printer: QPrinter) -> int:
    """Paint each page of ``pdf`` onto ``printer``; returns the number of pages."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    painter = QPainter()
    if not painter.begin(printer):
        document.close()
        raise RuntimeError("the printer could not be opened")
    try:
        dpi = min(printer.resolution(), 300)
        target = printer.pageRect(QPrinter.Unit.DevicePixel)
        for index in range(len(document)):
            if index:
                printer.newPage()
            page = document[index]
            bitmap = page.render(scale=dpi / 72, rev_byteorder=True)  # RGB, no Pillow needed
            data = bytes(bitmap.buffer)
            fmt = QImage.Format.Format_RGB888 if bitmap.n_channels == 3 else \
                QImage.Format.Format_RGBA8888
            qimage = QImage(data, bitmap.width, bitmap.height, bitmap.stride, fmt)
            painter.drawImage(QRectF(0, 0, target.width(), target.height()), qimage)
        return len(document)
    finally:
        painter.end()
        document.close()


def export_csv(ctx: AppContext, patient_id: uuid.UUID | None,
               parent: QWidget | None = None) -> Job | None:
    """Ask for a folder, then export one patient (or, with None, the whole clinic)."""
    scope = "the whole clinic"
    if patient_id is not None:
        try:
            scope = f"patient {ctx.services.patients.get(patient_id).mrn}"
        except KappError as exc:
            _not_started(parent, "Export CSV", exc, NO_FILES)
            return None
    folder = ask_folder(parent, f"Export CSV of {scope}: choose a folder")
    if folder is None:
        return None
    actor = ctx.user
    exporter = ExportService(ctx.services.db, ctx.services.hub)

    def work(job: Job) -> Any:
        def progress(p: ExportProgress) -> None:
            job.progressed.emit(p.rows_done, p.rows_total, f"{p.table}" if p.table else "")

        return exporter.export_csv(folder, patient_id=patient_id, actor=actor,
                                   progress=progress, cancelled=job.is_cancelled)

    def done(result: Any) -> None:
        rows = sum(result.rows.values())
        inform(parent, "Export CSV", f"Exported {scope}: {len(result.files)} files, "
                                     f"{rows:,} rows, into {result.directory}")

    return start(parent, f"Export CSV of {scope}", work, done, determinate=True,
                 not_done=NO_FILES)


NO_FILES = "No files were written."
