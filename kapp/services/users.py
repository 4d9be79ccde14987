"""Staff accounts: passwords (argon2id), sign-in with lockout, administration.

Every failed sign-in (and every wrong password typed to sign a record) is written to the
audit trail, without the password and without a user name that matches no account.
After ``lockout_attempts`` failures in a row the account waits ``lockout_minutes`` (clinic
settings); a locked account blocks only its own sign-in.

A user name that is no account reads exactly like one: the same words, the same argon2
work (a check against a dummy hash), and the same count and lockout, kept in
``sign_in_names`` under a salted HMAC of the name (``check_unknown_name``); otherwise
typing a name until it locks would tell which names are accounts.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain.accounts import (
    AccountDeactivated,
    AccountLocked,
    ClinicSettings,
    SignInRefused,
    WrongCredentials,
    checked_settings,
    count_failure,
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
from kapp.storage.signin_counts import MAX_NAMES, SALT_BYTES, name_key

_USERNAME = re.compile(r"^[a-z0-9._-]{2,64}$")
SALT_KEY = "sign_in_salt"  # kapp_meta: the salt of the names counted in sign_in_names


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
        counted = count_failure(row.failed_logins, row.locked_until, now,
                                attempts=settings.lockout_attempts,
                                minutes=settings.lockout_minutes)
        row.failed_logins, row.locked_until = counted.failures, counted.locked_until
        uow.audit(user_id=row.id, action=f"{action}.failed", entity="users", entity_id=row.id,
                  new={"failed_attempts": counted.nth, "locked_until": row.locked_until},
                  reason="wrong password" if row.password_hash else "account has no password")
        uow.session.flush()
        if counted.locked_until is not None:
            return AccountLocked(counted.locked_until, just_now=True)
        return WrongCredentials(
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


def check_unknown_name(uow: UnitOfWork, username: str, password: str, *,
                       settings: ClinicSettings | None = None) -> SignInRefused:
    """A sign-in with a user name that is no account, refused as ``check_password`` refuses
    a wrong password: the same words, the same argon2 work (a dummy hash is checked), and
    counted towards the same lockout, so that the name locks after the clinic's
    ``lockout_attempts`` with an account's "locked until HH:MM". Audited under the same
    actions as an account's failure, without the name (people type passwords there)."""
    settings = settings or load_settings(uow)
    now = uow.now
    key = name_key(sign_in_salt(uow), username)
    row = uow.session.get(m.SignInName, key)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        row.last_at = now
        uow.audit(user_id=None, action="user.sign_in.refused", entity="users", entity_id=None,
                  reason="user name locked")
        return AccountLocked(row.locked_until)
    passwords.verify(None, password if isinstance(password, str) else "")
    added = row is None
    if row is None:
        row = m.SignInName(name_key=key, failed_logins=0, last_at=now)
        uow.session.add(row)
    counted = count_failure(row.failed_logins, row.locked_until, now,
                            attempts=settings.lockout_attempts, minutes=settings.lockout_minutes)
    row.failed_logins, row.locked_until, row.last_at = counted.failures, counted.locked_until, now
    uow.audit(user_id=None, action="user.sign_in.failed", entity="users", entity_id=None,
              new={"failed_attempts": counted.nth, "locked_until": counted.locked_until},
              reason="unknown user name")
    uow.session.flush()
    if added:
        _forget_quietest_names(uow)
    if counted.locked_until is not None:
        return AccountLocked(counted.locked_until, just_now=True)
    return WrongCredentials()


def stored_sign_in_salt(session: OrmSession) -> bytes | None:
    """The salt the names in ``sign_in_names`` are keyed under, or None (none yet, or
    unreadable)."""
    row = session.get(m.Meta, SALT_KEY)
    if row is None:
        return None
    try:
        salt = base64.b64decode(row.value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return salt if len(salt) >= 8 else None


def sign_in_salt(uow: UnitOfWork, *, adopt: bytes | None = None) -> bytes:
    """The salt of ``sign_in_names``, made on first use: ``adopt`` (an encrypted clinic's
    counts file's, so that the names it counted while closed keep their keys) or random.
    An unreadable one is replaced (the names counted under it are then counted afresh)."""
    salt = stored_sign_in_salt(uow.session)
    if salt is not None:
        return salt
    salt = adopt or secrets.token_bytes(SALT_BYTES)
    text = base64.b64encode(salt).decode("ascii")
    row = uow.session.get(m.Meta, SALT_KEY)
    if row is None:
        uow.session.add(m.Meta(key=SALT_KEY, value=text))
    else:
        row.value = text
        uow.session.execute(sa.delete(m.SignInName))
    uow.session.flush()
    return salt


def _forget_quietest_names(uow: UnitOfWork) -> None:
    """Bound ``sign_in_names`` as the counts file is bounded: beyond MAX_NAMES, the names
    not locked with the oldest last attempt go first (pushing one out takes MAX_NAMES
    wrong sign-ins, each a full argon2 run)."""
    session = uow.session
    excess = (session.execute(sa.select(sa.func.count()).select_from(m.SignInName))
              .scalar() or 0) - MAX_NAMES
    if excess <= 0:
        return
    quiet = (sa.select(m.SignInName.name_key)
             .where(sa.or_(m.SignInName.locked_until.is_(None),
                           m.SignInName.locked_until <= uow.now))
             .order_by(m.SignInName.last_at).limit(excess))
    keys = list(session.execute(quiet).scalars())
    if keys:
        session.execute(sa.delete(m.SignInName).where(m.SignInName.name_key.in_(keys)))


def counted(refused: SignInRefused | None) -> bool:
    """Did this refusal count a failure towards a lockout (not a name already locked, nor
    a deactivated account)?"""
    return isinstance(refused, WrongCredentials) or (
        isinstance(refused, AccountLocked) and refused.just_now)


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
            self._counted(refused)
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
                refused = check_unknown_name(uow, name, password)
            else:
                refused = check_password(uow, row, password, action="user.sign_in")
                if refused is None:
                    uow.audit(user_id=row.id, action="user.sign_in", entity="users",
                              entity_id=row.id)
                    user = mappers.user(row)
        if refused is not None:
            self._counted(refused)
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
        self._counted(refused)
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
    def _counted(self, refused: SignInRefused | None) -> None:
        """Tell who keeps a copy of the lockout counts (an encrypted clinic's counts file,
        kapp/services/lockout.py) before the refusal is shown: each counted failure, and
        a lock (which the accounts list shows too)."""
        changes = [Change.SIGN_IN] if counted(refused) else []
        if isinstance(refused, AccountLocked):
            changes.append(Change.USERS)
        self.hub.notify(*changes)

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

