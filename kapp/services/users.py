"""Staff accounts. Passwords, sign-in and lockout come with the security work."""

from __future__ import annotations

import re

import sqlalchemy as sa

from kapp.domain.entities import User
from kapp.domain.enums import Role
from kapp.domain.errors import FieldError
from kapp.domain.ids import new_id
from kapp.domain.permissions import Permission
from kapp.domain.text import coded, required_text
from kapp.services.base import Actor, Change, Service, get_or_404, raise_if
from kapp.storage import mappers
from kapp.storage import models as m

_USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")


class UserService(Service):
    def create_first_admin(self, *, username: str, full_name: str) -> User:
        """The clinic's first account, allowed only while there are no accounts at all."""
        with self.db.unit_of_work() as uow:
            if uow.session.execute(sa.select(m.User.id).limit(1)).first() is not None:
                raise_if([FieldError("username", "This clinic already has accounts")])
            row = self._new_user(uow, username, full_name, Role.ADMIN)
            uow.audit(user_id=row.id, action="user.create_first_admin", entity="users",
                      entity_id=row.id, new={"username": row.username, "role": row.role})
            result = mappers.user(row)
        self.hub.notify(Change.USERS)
        return result

    def create_user(self, *, actor: Actor, username: str, full_name: str, role: Role) -> User:
        with self.db.unit_of_work() as uow:
            admin = self._user(uow, actor, Permission.MANAGE_ACCOUNTS)
            row = self._new_user(uow, username, full_name, role)
            uow.audit(user_id=admin.id, action="user.create", entity="users", entity_id=row.id,
                      new={"username": row.username, "full_name": row.full_name,
                           "role": row.role})
            result = mappers.user(row)
        self.hub.notify(Change.USERS)
        return result

    def set_active(self, *, actor: Actor, user_id: object, active: bool, reason: str) -> User:
        with self.db.unit_of_work() as uow:
            admin = self._user(uow, actor, Permission.MANAGE_ACCOUNTS)
            row = get_or_404(uow.session, m.User, user_id, "user")  # type: ignore[arg-type]
            old = row.active
            row.active = active
            uow.audit(user_id=admin.id, action="user.set_active", entity="users",
                      entity_id=row.id, old={"active": old}, new={"active": active},
                      reason=reason)
            result = mappers.user(row)
        self.hub.notify(Change.USERS)
        return result

    def list_users(self, *, include_inactive: bool = False) -> list[User]:
        with self.db.reading() as s:
            query = sa.select(m.User).order_by(m.User.full_name)
            if not include_inactive:
                query = query.where(m.User.active.is_(True))
            return [mappers.user(r) for r in s.execute(query).scalars()]

    def by_username(self, username: str) -> User | None:
        with self.db.reading() as s:
            row = s.execute(
                sa.select(m.User).where(m.User.username == username.strip().lower())
            ).scalar_one_or_none()
            return mappers.user(row) if row else None

    def _new_user(self, uow: object, username: str, full_name: str, role: Role) -> m.User:
        errors: list[FieldError] = []
        name = username.strip().lower() if isinstance(username, str) else ""
        if not _USERNAME.match(name):
            errors.append(FieldError(
                "username",
                "User name must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
                "2-64 characters a-z 0-9 . _ -"))
        full = required_text(errors, "full_name", "Full name", full_name, 200)
        coded_role = coded(errors, "role", "Role", role, Role)
        session = uow.session  # type: ignore[attr-defined]
        if not errors and session.execute(
            sa.select(m.User.id).where(m.User.username == name)
        ).first():
            errors.append(FieldError("username", f"User name '{name}' is already taken"))
        raise_if(errors)
        row = m.User(id=new_id(), username=name, full_name=full, role=coded_role,
                     active=True, created_at=uow.now)  # type: ignore[attr-defined]
        session.add(row)
        return row
