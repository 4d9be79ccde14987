"""What every service shares: the database, the acting user, change notification."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy.orm import Session as OrmSession

from kapp.domain.entities import User
from kapp.domain.errors import FieldError, NotFound, PermissionDenied, RecordLocked, ValidationError
from kapp.domain.permissions import Permission, require
from kapp.services.changes import Change as Change  # re-exported: it lived here first
from kapp.services.changes import ChangeHub
from kapp.services.changes import Listener as Listener
from kapp.storage import models as m
from kapp.storage.database import Database, UnitOfWork

Actor = User | uuid.UUID
T = TypeVar("T")


def actor_id(actor: Actor) -> uuid.UUID:
    return actor.id if isinstance(actor, User) else actor


class Service:
    def __init__(self, db: Database, hub: ChangeHub | None = None) -> None:
        self.db = db
        self.hub = hub or ChangeHub()

    def _user(self, uow: UnitOfWork, actor: Actor, permission: Permission | None) -> m.User:
        """The acting user, re-read from the database: a role is never taken on trust
        from the caller, and a deactivated account can do nothing."""
        row = uow.session.get(m.User, actor_id(actor))
        if row is None or not row.active:
            raise PermissionDenied("This account does not exist or has been deactivated.")
        if permission is not None:
            require(row.role, permission, who=row.full_name)
        return row


def get_or_404(session: OrmSession, model: type[T], key: uuid.UUID, what: str) -> T:
    if not isinstance(key, uuid.UUID):
        raise NotFound(f"No {what} with id {key!r}")
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"No {what} with id {key}")
    return row


def editable_session(uow: UnitOfWork, session_id: uuid.UUID) -> m.Session:
    """The session, if it may still change: a signed session takes only addenda."""
    row = get_or_404(uow.session, m.Session, session_id, "session")
    if row.signed_at is not None:
        raise RecordLocked(
            "This session is signed and can no longer change; add an addendum instead."
        )
    return row


def strike_row(uow: UnitOfWork, *, user_id: uuid.UUID, table: str, row: Any, reason: str,
               patient_id: uuid.UUID | None, session_id: uuid.UUID | None) -> None:
    """Strike an entry through: it keeps its values, and says who struck it, when and why."""
    if row.struck_at is not None:
        raise RecordLocked("This entry is already struck through.")
    row.struck_at, row.struck_by_id, row.strike_reason = uow.now, user_id, reason
    uow.audit(user_id=user_id, action="entry.strike", entity=table, entity_id=row.id,
              patient_id=patient_id, session_id=session_id,
              old={"struck_at": None}, new={"struck_at": uow.now}, reason=reason)


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)
