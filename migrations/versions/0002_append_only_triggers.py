"""Database triggers that keep the audit trail append-only and clinical records undeletable

The services never update or delete audit entries and never delete clinical records; these
triggers are the database's own backstop against a bulk statement, a bug or a hand edit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("audit_log",)
NO_DELETE = (
    "patients",
    "courses",
    "sessions",
    "infusion_events",
    "vitals_readings",
    "alerts",
    "side_effects",
    "interventions",
    "dissociation_reports",
    "instrument_responses",
    "notes",
    "addenda",
)


def _statements(dialect: str) -> list[str]:
    guarded = [(t, "UPDATE") for t in APPEND_ONLY] + [
        (t, "DELETE") for t in APPEND_ONLY + NO_DELETE
    ]
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'kapp: {verb} on {table} is not allowed'); END"
            for table, verb in guarded
        ]
    return [
        "CREATE OR REPLACE FUNCTION kapp_refuse_change() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'kapp: % on % is not allowed', TG_OP, TG_TABLE_NAME; END $$ "
        "LANGUAGE plpgsql",
        *[
            f"CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kapp_refuse_change()"
            for table, verb in guarded
        ],
    ]


def _names() -> list[tuple[str, str]]:
    return [(t, f"trg_{t}_no_update") for t in APPEND_ONLY] + [
        (t, f"trg_{t}_no_delete") for t in APPEND_ONLY + NO_DELETE
    ]


def upgrade() -> None:
    for statement in _statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, name in _names():
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS kapp_refuse_change()")
