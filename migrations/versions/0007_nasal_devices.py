"""Nasal devices: each intranasal esketamine device given, with its time and its mg

An intranasal session is dosed by devices, not by a pump: the nurse records each device as
it is given, and the dose given is added up from them. A table of its own rather than a
new kind of pump event: the pump's history keeps meaning "the pump" (every reader of it,
the delivered-dose arithmetic first, assumes pump events), and adding a value to the
pump-event kind's CHECK constraint would rebuild ``infusion_events`` on SQLite. A new
table is one CREATE on both databases; like every clinical table its rows cannot be
deleted (struck through instead).

Revision ID: 0007_nasal_devices
Revises: 0006_vitals_values
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_nasal_devices"
down_revision: str | None = "0006_vitals_values"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "nasal_devices"
_TRIGGER = f"trg_{_TABLE}_no_delete"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_mg", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=36), nullable=False),
        sa.Column("struck_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("strike_reason", sa.Text(), nullable=True),
        sa.Column("entered_by_id", sa.Uuid(), nullable=False),
        sa.Column("struck_by_id", sa.Uuid(), nullable=True),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("device_mg > 0", name=op.f("ck_nasal_devices_device_mg_positive")),
        sa.ForeignKeyConstraint(["entered_by_id"], ["users.id"],
                                name=op.f("fk_nasal_devices_entered_by_id_users")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_nasal_devices_session_id_sessions")),
        sa.ForeignKeyConstraint(["struck_by_id"], ["users.id"],
                                name=op.f("fk_nasal_devices_struck_by_id_users")),
        sa.ForeignKeyConstraint(["supersedes_id"], ["nasal_devices.id"],
                                name=op.f("fk_nasal_devices_supersedes_id_nasal_devices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nasal_devices")),
    )
    op.create_index(op.f("ix_nasal_devices_session_id"), _TABLE, ["session_id"], unique=False)
    # The same backstop as every clinical table (0002): rows are struck through, never
    # deleted. The PostgreSQL function kapp_refuse_change() was made by 0002.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE DELETE ON {_TABLE} "
                   f"BEGIN SELECT RAISE(ABORT, 'kapp: DELETE on {_TABLE} is not allowed'); END")
    else:
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE DELETE ON {_TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION kapp_refuse_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON {_TABLE}")
    op.drop_index(op.f("ix_nasal_devices_session_id"), table_name=_TABLE)
    op.drop_table(_TABLE)
