"""Search: covering indexes for the patient search, one keystroke at a time

The patient list reads, at each keystroke, the first page of patients (in name order)
whose name or MRN starts with what was typed, and for each of them the sessions done and
the last session's start. Both are now read from an index alone: the patients' list
columns in name order (the scan stops after one page of matches, and never touches the
long notes of the patient rows), and each patient's sessions by status and start (ten
years of sessions were read row by row before). Purely additive: two indexes.

Revision ID: 0005_search
Revises: 0004_drafts
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_search"
down_revision: str | None = "0004_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.create_index("ix_patients_name_search",
                           ["family_name", "given_name", "mrn", "id", "date_of_birth",
                            "indication"], unique=False)
    with op.batch_alter_table("sessions") as batch:
        batch.create_index("ix_sessions_patient_status_start",
                           ["patient_id", "status", "actual_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_patient_status_start")
    with op.batch_alter_table("patients") as batch:
        batch.drop_index("ix_patients_name_search")
