"""Entry points: read what a report needs and write the PDF (used by the CLI and the GUI)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import IO

from kapp.reports.progress_pdf import write_progress_pdf
from kapp.reports.rems_pdf import write_rems_pdf
from kapp.reports.session_pdf import write_session_pdf
from kapp.services.base import Actor
from kapp.services.report_reads import ReportReads
from kapp.storage.database import Database

Out = Path | str | IO[bytes]
PRINTER = "printer"
"""The destination written to the audit trail for a report built to be printed."""


def _where(out: Out, destination: str | None) -> str:
    if destination:
        return destination
    return str(out) if isinstance(out, Path | str) else PRINTER


def session_report(db: Database, session_id: uuid.UUID, out: Out, *,
                   actor: Actor | None = None, destination: str | None = None) -> None:
    """The session record PDF, with its audit entry (``destination``: where it went, when
    ``out`` is a temporary file or a buffer). Raises ``NotFound`` for an unknown session."""
    reads = ReportReads(db)
    record = reads.session_record(session_id)
    write_session_pdf(record, out)
    reads.note_report("session", actor=actor, patient_id=record.patient.id,
                      session_id=session_id, destination=_where(out, destination))


def progress_report(db: Database, patient_id: uuid.UUID, out: Out, *,
                    actor: Actor | None = None, destination: str | None = None) -> None:
    """The patient's progress PDF, with its audit entry. Raises ``NotFound`` for an
    unknown patient."""
    reads = ReportReads(db)
    write_progress_pdf(reads.patient_history(patient_id), out)
    reads.note_report("progress", actor=actor, patient_id=patient_id,
                      destination=_where(out, destination))


def rems_report(db: Database, session_id: uuid.UUID, out: Out, *,
                actor: Actor | None = None, destination: str | None = None) -> None:
    """The esketamine REMS monitoring summary of a session, with its audit entry."""
    reads = ReportReads(db)
    record = reads.session_record(session_id)
    write_rems_pdf(record, out)
    reads.note_report("rems", actor=actor, patient_id=record.patient.id,
                      session_id=session_id, destination=_where(out, destination))
