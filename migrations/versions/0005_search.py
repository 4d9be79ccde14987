"""Search: a covering index for the patient list's session figures

The patient list shows, for each of the (at most 200) patients found at a keystroke, the
sessions done and the last session's start. With ten years of sessions that grouped read
fetched every session row of those patients from the table; this index holds all it
needs, so it is read from the index alone. Purely additive.

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
    with op.batch_alter_table("sessions") as batch:
        batch.create_index("ix_sessions_patient_status_start",
                           ["patient_id", "status", "actual_start"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_patient_status_start")
