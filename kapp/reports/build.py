"""Entry points: read what a report needs and write the PDF (used by the CLI and the GUI)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import IO

from kapp.reports.progress_pdf import write_progress_pdf
from kapp.reports.rems_pdf import write_rems_pdf
from kapp.reports.session_pdf import write_session_pdf
from kapp.services.report_reads import ReportReads
from kapp.storage.database import Database

Out = Path | str | IO[bytes]


def session_report(db: Database, session_id: uuid.UUID, out: Out) -> None:
    """The session record PDF. Raises ``NotFound`` for an unknown session."""
    write_session_pdf(ReportReads(db).session_record(session_id), out)


def progress_report(db: Database, patient_id: uuid.UUID, out: Out) -> None:
    """The patient's progress PDF. Raises ``NotFound`` for an unknown patient."""
    write_progress_pdf(ReportReads(db).patient_history(patient_id), out)


def rems_report(db: Database, session_id: uuid.UUID, out: Out) -> None:
    """The esketamine REMS monitoring summary of a session."""
    write_rems_pdf(ReportReads(db).session_record(session_id), out)
