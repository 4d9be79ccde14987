"""Vitals values in the session-and-time index, so the progress reads them from it

Opening a patient reads, for each of their sessions, the readings before dosing and the
highest heart rate and blood pressure after it. ``ix_vitals_session_taken`` (session,
time) found a session's readings, but each of them was then read from the table row: for a
patient ten years into boosters about 10,000 row reads per opening (about 20 ms of the
database's own time on the benchmark clinic). The index now also carries what those reads
need (before dosing or not, struck through or not, heart rate, systolic, diastolic), so
they come from the index alone: its leading columns are unchanged, so every read that used
it still does. One index replaced by a wider one; no table is rebuilt.

Revision ID: 0006_vitals_values
Revises: 0005_search
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_vitals_values"
down_revision: str | None = "0005_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NARROW = ["session_id", "taken_at"]
_WIDE = ["session_id", "taken_at", "predose", "struck_at", "hr", "systolic", "diastolic"]


def upgrade() -> None:
    # Plain DDL (no batch mode): only indexes change, the table is never copied.
    op.drop_index("ix_vitals_session_taken", table_name="vitals_readings")
    op.create_index("ix_vitals_session_taken_values", "vitals_readings", _WIDE)


def downgrade() -> None:
    op.drop_index("ix_vitals_session_taken_values", table_name="vitals_readings")
    op.create_index("ix_vitals_session_taken", "vitals_readings", _NARROW)
