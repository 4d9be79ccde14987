"""Saving, printing and exporting from the window, off the GUI thread."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QPushButton

from kapp.services.export import ExportService
from kapp.ui import report_actions as ra
from kapp.ui.app import build_main_window
from kapp.ui.context import AppContext

pytestmark = pytest.mark.gui


@pytest.fixture
def ctx(qapp, services, staff):
    context = AppContext(services)
    context.set_user(staff.nurse)
    return context


@pytest.fixture
def messages(monkeypatch) -> list[tuple[str, bool]]:
    said: list[tuple[str, bool]] = []
    monkeypatch.setattr(ra, "inform", lambda parent, title, text, error=False:
                        said.append((text, error)))
    return said


def finish(qtbot, job) -> None:
    with qtbot.waitSignal(job.finished, timeout=60000):
        pass
    qtbot.waitUntil(lambda: job not in ra._RUNNING, timeout=10000)


def test_save_session_pdf(qtbot, ctx, staff, planned, whole_session, tmp_path, monkeypatch,
                          messages) -> None:
    whole_session(planned)
    target = tmp_path / "record"  # the .pdf is added
    asked = []
    monkeypatch.setattr(ra, "ask_save_path", lambda parent, title, suggested, f:
                        asked.append(suggested) or target)
    job = ra.save_session_pdf(ctx, planned.id, None)
    finish(qtbot, job)
    assert asked == ["T-0001-session-2026-03-02.pdf"]
    saved = target.with_suffix(".pdf")
    assert saved.read_bytes().startswith(b"%PDF")
    assert messages == [(f"Saved {saved}", False)]
    assert not list(tmp_path.glob("*.part"))
    from kapp.services.audit_view import AuditFilter  # who saved which record, and where
    entry = ctx.services.audit.page(actor=staff.admin, filters=AuditFilter(
        action="report.session")).rows[0]
    assert (entry.username, entry.mrn, entry.new) == ("nurse1", "T-0001",
                                                      {"destination": str(saved)})


@pytest.mark.parametrize("action", ["save_rems_pdf", "save_progress_pdf"])
def test_save_other_pdfs(qtbot, ctx, planned, whole_session, tmp_path, monkeypatch,
                         messages, action) -> None:
    whole_session(planned)
    monkeypatch.setattr(ra, "ask_save_path", lambda *a: tmp_path / "x.pdf")
    key = planned.patient_id if action == "save_progress_pdf" else planned.id
    finish(qtbot, getattr(ra, action)(ctx, key, None))
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF")
    assert messages[-1][1] is False


def test_nothing_happens_when_the_file_dialog_is_cancelled(ctx, planned, monkeypatch) -> None:
    monkeypatch.setattr(ra, "ask_save_path", lambda *a: None)
    monkeypatch.setattr(ra, "ask_folder", lambda *a: None)
    assert ra.save_session_pdf(ctx, planned.id, None) is None
    assert ra.export_csv(ctx, None, None) is None


def test_a_failure_is_told_in_plain_words(qtbot, ctx, planned, tmp_path, monkeypatch,
                                          messages) -> None:
    monkeypatch.setattr(ra, "ask_save_path", lambda *a: tmp_path / "no-such-folder" / "x.pdf")
    finish(qtbot, ra.save_session_pdf(ctx, planned.id, None))
    ((text, error),) = messages
    assert error and "did not finish" in text and "could not be written" in text


def test_print_session_paints_every_page(qtbot, ctx, planned, whole_session, tmp_path,
                                         monkeypatch, messages) -> None:
    whole_session(planned)
    out = tmp_path / "printed.pdf"

    def accept(parent, printer: QPrinter) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        printer.setResolution(100)
        return True

    monkeypatch.setattr(ra, "ask_printer", accept)
    finish(qtbot, ra.print_session(ctx, planned.id, None))
    assert out.read_bytes().startswith(b"%PDF") and out.stat().st_size > 10000
    assert messages == []


def test_export_clinic_csv(qtbot, ctx, planned, whole_session, tmp_path, monkeypatch,
                           messages) -> None:
    whole_session(planned)
    monkeypatch.setattr(ra, "ask_folder", lambda *a: tmp_path / "csv")
    finish(qtbot, ra.export_csv(ctx, None, None))
    assert (tmp_path / "csv" / "vitals.csv").is_file()
    ((text, error),) = messages
    assert not error and "Exported the whole clinic: 16 files" in text


def test_export_honours_cancel(qtbot, ctx, planned, whole_session, tmp_path, monkeypatch,
                               messages) -> None:
    whole_session(planned)
    gate = threading.Event()

    class Held(ExportService):
        def export_csv(self, *args, **kwargs):
            gate.wait(30)  # hold the worker until the user has pressed Cancel
            return super().export_csv(*args, **kwargs)

    monkeypatch.setattr(ra, "ExportService", Held)
    monkeypatch.setattr(ra, "ask_folder", lambda *a: tmp_path / "csv")
    job = ra.export_csv(ctx, planned.patient_id, None)
    dialog = ra._RUNNING[job].dialog
    with qtbot.waitSignal(job.cancelled, timeout=60000):
        qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)
        assert job.is_cancelled()
        gate.set()
    qtbot.waitUntil(lambda: job not in ra._RUNNING, timeout=10000)
    assert not list((tmp_path / "csv").glob("*.csv*"))
    assert messages == []  # no "done" message after a cancel


def test_file_menu_offers_the_clinic_export(qtbot, services, staff, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(ra, "export_csv", lambda ctx, pid, parent: calls.append(pid))
    window = build_main_window(services, "/clinic/test.db", staff.admin)
    qtbot.addWidget(window)
    assert window.export_clinic_action.text() == "&Export CSV (whole clinic)…"
    window.export_clinic_action.trigger()
    assert calls == [None]
