"""Sign-in names: user names typed at sign-in that are no account, counted for the lockout

An unknown user name must read exactly like an account at the sign-in window: the same
words, the same argon2 work and the same lockout after the clinic's number of failures.
The open clinic counts an account's failures in ``users``; it counts the names that are no
account here, keyed by a salted HMAC of the name (never the name in clear: people type
passwords into the user-name box). A table of its own, one CREATE on both databases, so
that every workstation on the clinic's database (or server) shares the count, in the same
transaction as the failure's audit entry.

Revision ID: 0008_sign_in_names
Revises: 0007_nasal_devices
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_sign_in_names"
down_revision: str | None = "0007_nasal_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "sign_in_names"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name_key", name=op.f("pk_sign_in_names")),
    )


def downgrade() -> None:
    op.drop_table(_TABLE)
