"""Declarative base, naming convention and the columns most tables share."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from kapp.storage.types import UTCDateTime

# Every constraint gets a stable name, so migrations (and batch mode on SQLite) can refer
# to it and PostgreSQL and SQLite agree on it.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: sa.Uuid()}  # noqa: RUF012


def enum_column(enum: type[StrEnum], name: str) -> sa.Enum:
    """A coded value stored as its text with a CHECK constraint (no native enum type, so
    adding a value later is a migration of one constraint on both databases)."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def user_fk(*, nullable: bool = True) -> Mapped[uuid.UUID | None]:
    return mapped_column(sa.ForeignKey("users.id"), nullable=nullable)


class IdMixin:
    """An app-made UUID key (see ``kapp.domain.ids``)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-10)


class EntryMixin(IdMixin):
    """A clinical entry: who made it, when, on which installation, and whether it was
    struck through.

    Entries are append-only facts. A wrong entry is never deleted or overwritten: it is
    struck through with a reason and keeps its old values; a correction is a new row
    that points at the row it supersedes. This is also what makes records from several
    laptops mergeable by a plain union of rows.
    """

    entered_at: Mapped[datetime]
    origin: Mapped[str] = mapped_column(sa.String(36))
    struck_at: Mapped[datetime | None]
    strike_reason: Mapped[str | None] = mapped_column(sa.Text)

    @declared_attr
    def entered_by_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.ForeignKey("users.id"))

    @declared_attr
    def struck_by_id(cls) -> Mapped[uuid.UUID | None]:  # noqa: N805
        return mapped_column(sa.ForeignKey("users.id"))

    @declared_attr
    def supersedes_id(cls) -> Mapped[uuid.UUID | None]:  # noqa: N805
        return mapped_column(sa.ForeignKey(f"{cls.__tablename__}.id"))  # type: ignore[attr-defined]


class SessionEntryMixin(EntryMixin):
    """An entry that belongs to one treatment session."""

    @declared_attr
    def session_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.ForeignKey("sessions.id"), index=True)
