"""Staff accounts: passwords (argon2id), sign-in with lockout, administration.

Every failed sign-in (and every wrong password typed to sign a record) is written to the
audit trail, without the password and without a user name that matches no account.
After ``lockout_attempts`` failures in a row the account waits ``lockout_minutes`` (clinic
settings); a locked account blocks only its own sign-in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from kapp.domain.accounts import (
    AccountDeactivated,
    AccountLocked,
    ClinicSettings,
    SignInRefused,
    WrongCredentials,
    checked_settings,
    password_problems,
)
from kapp.domain.entities import User
from kapp.domain.enums import Role
from kapp.domain.errors import FieldError
from kapp.domain.ids import new_id
from kapp.domain.permissions import Permission
from kapp.domain.text import coded, required_text
from kapp.services import passwords
from kapp.services.base import Actor, Change, ChangeHub, Service, get_or_404, raise_if
from kapp.services.keys import KeyRing, NoKeyRing
from kapp.services.settings import load_settings, store_settings
from kapp.storage import mappers
from kapp.storage import models as m
from kapp.storage.database import Database, UnitOfWork

_USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the administrator's list shows it."""

    user: User
    has_password: bool
    locked_until: datetime | None
    created_at: datetime


def check_password(uow: UnitOfWork, row: m.User, password: str, *, action: str,
                   settings: ClinicSettings | None = None) -> SignInRefused | None:
    """Check ``password`` for the account ``row`` inside the caller's transaction, keeping
    count of failures and locking the account after too many.

    Returns the refusal (the caller lets the transaction commit, so that the failure is
    recorded, and then raises it) or None when the password is right and the account may
    act. ``action`` names the attempt in the audit trail ("user.sign_in", "session.sign").
    """
    settings = settings or load_settings(uow)
    now = uow.now
    if row.locked_until is not None and row.locked_until > now:
        uow.audit(user_id=row.id, action=f"{action}.refused", entity="users",
                  entity_id=row.id, reason="account locked")
        return AccountLocked(row.locked_until)
    if row.locked_until is not None:  # the wait is over: start counting afresh
        row.locked_until, row.failed_logins = None, 0
    if not passwords.verify(row.password_hash, password if isinstance(password, str) else ""):
        row.failed_logins = (row.failed_logins or 0) + 1
        failures = row.failed_logins
        locked = failures >= settings.lockout_attempts
        if locked:
            row.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            row.failed_logins = 0
        uow.audit(user_id=row.id, action=f"{action}.failed", entity="users", entity_id=row.id,
                  new={"failed_attempts": failures, "locked_until": row.locked_until},
                  reason="wrong password" if row.password_hash else "account has no password")
        uow.session.flush()
        return AccountLocked(row.locked_until, just_now=True) if locked else WrongCredentials(
            "Wrong password." if action != "user.sign_in" else "Wrong user name or password.")
    if not row.active:
        uow.audit(user_id=row.id, action=f"{action}.refused", entity="users",
                  entity_id=row.id, reason="account deactivated")
        return AccountDeactivated()
    if row.failed_logins:
        row.failed_logins = 0
    if row.password_hash and passwords.needs_rehash(row.password_hash):
        row.password_hash = passwords.hash_password(password)
    uow.session.flush()
    return None


class UserService(Service):
    def __init__(self, db: Database, hub: ChangeHub | None = None,
                 keyring: KeyRing | None = None) -> None:
        super().__init__(db, hub)
        # The database key's wrappings (kapp.services.keys): told about every password.
        self.keyring: KeyRing = keyring or NoKeyRing()

    # -- the first account ----------------------------------------------------------------
    def create_first_admin(self, *, username: str, full_name: str, password: str,
                           clinic_name: str | None = None) -> User:
        """The clinic's first account, allowed only while there are no accounts at all."""
        with self.db.unit_of_work() as uow:
            if uow.session.execute(sa.select(m.User.id).limit(1)).first() is not None:
                raise_if([FieldError("username", "This clinic already has accounts")])
            errors: list[FieldError] = []
            clean: dict[str, object] = {}
            if clinic_name is not None:
                clean, errors = checked_settings({"clinic_name": clinic_name})
            row = self._new_user(uow, username, full_name, Role.ADMIN, password, errors)
            uow.audit(user_id=row.id, action="user.create_first_admin", entity="users",
                      entity_id=row.id, new={"username": row.username, "role": row.role})
            if clean:
                old = store_settings(uow, clean, row.id)
                uow.audit(user_id=row.id, action="settings.update", entity="clinic_settings",
                          entity_id=None, old=old, new=clean, reason="first run")
            self.keyring.enrol(row.username, password)
            result = mappers.user(row)
        self.hub.notify(Change.USERS, Change.SETTINGS)
        return result

    # -- administration -------------------------------------------------------------------
    def create_user(self, *, actor: Actor, username: str, full_name: str, role: Role,
                    password: str) -> User:
        """A new account with its initial password (tell the person; they change it)."""
        with self.db.unit_of_work() as uow:
            admin = self._user(uow, actor, Permission.MANAGE_ACCOUNTS)
            row = self._new_user(uow, username, full_name, role, password, [])
            uow.audit(user_id=admin.id, action="user.create", entity="users", entity_id=row.id,
                      new={"username": row.username, "full_name": row.full_name,
                           "role": row.role})
            self.keyring.enrol(row.username, password)
            result = mappers.user(row)
        self.hub.notify(Change.USERS)
        return result

    def deactivate(self, *, actor: Actor, user_id: uuid.UUID, reason: str) -> User:
        """The account can no longer sign in or act; everything it recorded stays."""
        return self.set_active(actor=actor, user_id=user_id, active=False, reason=reason)

    def set_active(self, *, actor: Actor, user_id: uuid.UUID, active: bool, reason: str,
                   password: str | None = None) -> User:
        """Deactivate, or reactivate with a new password (the old one was forgotten by the
        key ring when the account was deactivated)."""
        errors: list[FieldError] = []
        why = required_text(errors, "reason", "Reason", reason, 2000)
        if active:
            errors += password_problems(password)
        raise_if(errors)
        with self.db.unit_of_work() as uow:
            admin = self._user(uow, actor, Permission.MANAGE_ACCOUNTS)
            row = get_or_404(uow.session, m.User, user_id, "user")
            if not active and row.id == admin.id:
                raise_if([FieldError("user", "You cannot deactivate your own account")])
            if not active and row.role is Role.ADMIN and self._active_admins(uow) <= 1:
                raise_if([FieldError("user", "This is the last active administrator: create "
                                     "another administrator first")])
            old = row.active
            row.active = active
            if active:
                assert password is not None
                row.password_hash = passwords.hash_password(password)
                row.failed_logins, row.locked_until = 0, None
            uow.audit(user_id=admin.id, action="user.set_active", entity="users",
                      entity_id=row.id, old={"active": old}, new={"active": active},
                      reason=why)
            if active:
                self.keyring.enrol(row.username, password)  # type: ignore[arg-type]
            else:
                self.keyring.forget(row.username)
            result = mappers.user(row)
        self.hub.notify(Change.USERS)
        return result

    def reset_password(self, *, actor: Actor, user_id: uuid.UUID, new_password: str,
                       reason: str = "password reset by an administrator") -> None:
        """An administrator sets a new password (the person forgot theirs); also ends a
        lockout."""
        with self.db.unit_of_work() as uow:
            admin = self._user(uow, actor, Permission.MANAGE_ACCOUNTS)
            row = get_or_404(uow.session, m.User, user_id, "user")
            raise_if(password_problems(new_password, field="new_password",
                                       username=row.username))
            row.password_hash = passwords.hash_password(new_password)
            row.failed_logins, row.locked_until = 0, None
            uow.audit(user_id=admin.id, action="user.reset_password", entity="users",
                      entity_id=row.id, reason=(reason or "").strip() or None)
            self.keyring.enrol(row.username, new_password)
        self.hub.notify(Change.USERS)

    def recover_administrator(self, *, username: str, new_password: str) -> User:
        """Every password lost: the clinic was opened with its recovery key (which is the
        authority here, so there is no acting user), and an administrator's account gets
        a new password that opens the database from now on. Ends a lockout; refused for
        an account that is not an active administrator (they reset everyone else)."""
        name = (username or "").strip().lower() if isinstance(username, str) else ""
        with self.db.unit_of_work() as uow:
            row = uow.session.execute(
                sa.select(m.User).where(m.User.username == name)).scalar_one_or_none()
            if row is None or not row.active or row.role is not Role.ADMIN:
                raise_if([FieldError(
                    "username", "Give the user name of an active administrator account; "
                    "the administrator then resets the other staff's passwords")])
            raise_if(password_problems(new_password, field="new_password",
                                       username=row.username))
            row.password_hash = passwords.hash_password(new_password)
            row.failed_logins, row.locked_until = 0, None
            uow.audit(user_id=row.id, action="user.recover", entity="users",
                      entity_id=row.id, reason="password set with the clinic's recovery key")
            self.keyring.enrol(row.username, new_password)
            result = mappers.user(row)
        self.hub.notify(Change.USERS)
        return result

    # -- each person ----------------------------------------------------------------------
    def change_password(self, *, actor: Actor, old_password: str, new_password: str) -> None:
        """A person changes their own password (the current one first)."""
        refused: SignInRefused | None = None
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, None)
            raise_if(password_problems(new_password, field="new_password",
                                       username=user.username))
            if new_password == old_password:
                raise_if([FieldError("new_password", "The new password must differ from the "
                                     "current one")])
            refused = check_password(uow, user, old_password, action="user.change_password")
            if refused is None:
                user.password_hash = passwords.hash_password(new_password)
                uow.audit(user_id=user.id, action="user.change_password", entity="users",
                          entity_id=user.id)
                self.keyring.rewrap(user.username, old_password, new_password)
        if refused is not None:
            refused.field = "old_password"
            raise refused
        self.hub.notify(Change.USERS)

    def authenticate(self, username: str, password: str) -> User:
        """Sign in: the account, or ``SignInRefused`` (wrong user name or password, locked
        until HH:MM, deactivated). An unknown name reads like a wrong password."""
        name = (username or "").strip().lower() if isinstance(username, str) else ""
        refused: SignInRefused | None = None
        with self.db.unit_of_work() as uow:
            row = uow.session.execute(
                sa.select(m.User).where(m.User.username == name)).scalar_one_or_none()
            if row is None:
                passwords.verify(None, password if isinstance(password, str) else "")
                uow.audit(user_id=None, action="user.sign_in.failed", entity="users",
                          entity_id=None, reason="unknown user name")
                refused = WrongCredentials()
            else:
                refused = check_password(uow, row, password, action="user.sign_in")
                if refused is None:
                    uow.audit(user_id=row.id, action="user.sign_in", entity="users",
                              entity_id=row.id)
                    user = mappers.user(row)
        if refused is not None:
            if isinstance(refused, AccountLocked):  # the accounts list shows the lock;
                self.hub.notify(Change.USERS)  # an encrypted clinic's counts file copies it
            raise refused
        return user

    def verify_password(self, user_id: uuid.UUID, password: str, *,
                        purpose: str = "user.verify_password") -> bool:
        """Is this the account's password? For a second clinician confirming at the same
        keyboard. Failures count towards the lockout like a sign-in; a locked or
        deactivated account always gets False."""
        with self.db.unit_of_work() as uow:
            row = uow.session.get(m.User, user_id)
            if row is None:
                return False
            refused = check_password(uow, row, password, action=purpose)
        return refused is None

    # -- reading --------------------------------------------------------------------------
    def count(self) -> int:
        """How many accounts exist (none: the clinic is not set up yet)."""
        with self.db.reading() as s:
            return s.execute(sa.select(sa.func.count()).select_from(m.User)).scalar() or 0

    def list_users(self, *, include_inactive: bool = False) -> list[User]:
        with self.db.reading() as s:
            query = sa.select(m.User).order_by(m.User.full_name)
            if not include_inactive:
                query = query.where(m.User.active.is_(True))
            return [mappers.user(r) for r in s.execute(query).scalars()]

    def accounts(self) -> list[Account]:
        """Every account, active first, for the administrator's list."""
        with self.db.reading() as s:
            rows = s.execute(sa.select(m.User).order_by(m.User.active.desc(),
                                                        m.User.full_name)).scalars()
            now = self.db.clock.now()
            return [Account(mappers.user(r), bool(r.password_hash),
                            r.locked_until if r.locked_until and r.locked_until > now else None,
                            r.created_at) for r in rows]

    def by_username(self, username: str) -> User | None:
        with self.db.reading() as s:
            row = s.execute(
                sa.select(m.User).where(m.User.username == username.strip().lower())
            ).scalar_one_or_none()
            return mappers.user(row) if row else None

    def get(self, user_id: uuid.UUID) -> User:
        with self.db.reading() as s:
            return mappers.user(get_or_404(s, m.User, user_id, "user"))

    # -- shared ---------------------------------------------------------------------------
    @staticmethod
    def _active_admins(uow: UnitOfWork) -> int:
        return uow.session.execute(
            sa.select(sa.func.count()).select_from(m.User)
            .where(m.User.active.is_(True), m.User.role == Role.ADMIN)).scalar() or 0

    def _new_user(self, uow: UnitOfWork, username: str, full_name: str, role: Role,
                  password: str, errors: list[FieldError]) -> m.User:
        name = username.strip().lower() if isinstance(username, str) else ""
        if not _USERNAME.match(name):
            errors.append(FieldError(
                "username",
                "User name must be 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
                "2-64 characters a-z 0-9 . _ -"))
        full = required_text(errors, "full_name", "Full name", full_name, 200)
        coded_role = coded(errors, "role", "Role", role, Role)
        errors += password_problems(password, username=name)
        session = uow.session
        if not errors and session.execute(
            sa.select(m.User.id).where(m.User.username == name)
        ).first():
            errors.append(FieldError("username", f"User name '{name}' is already taken"))
        raise_if(errors)
        row = m.User(id=new_id(), username=name, full_name=full, role=coded_role,
                     active=True, created_at=uow.now, failed_logins=0,
                     password_hash=passwords.hash_password(password))
        session.add(row)
        session.flush()
        return row

