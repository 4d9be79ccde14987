"""The sign-in lockout of an encrypted clinic while it is closed, and in step once open.

A closed, encrypted clinic checks a password by unwrapping the database key with it
(kapp/storage/keyfile.py); the accounts table, which counts failed sign-ins, cannot be
read yet. The counts file beside the database (kapp/storage/signin_counts.py) counts them
instead, with the clinic's own lockout settings copied from the database:

- ``unwrap_counted``: a user name locked there is refused before any argon2 work, with the
  open clinic's "locked until HH:MM" words; a wrong password counts, and the last one
  allowed locks the name. Every name typed counts, account or not, so that from outside an
  unknown name behaves as an account does (same words, same work, same lockout).
- ``after_open``: when the clinic opens (any successful sign-in, or the recovery key), the
  failures counted while closed are carried into ``users.failed_logins``/``locked_until``
  (a name that is no account: into ``sign_in_names``, which the open clinic counts such
  names in, kapp/services/users.py ``check_unknown_name``) and the audit trail
  (``user.sign_in.failed`` / ``user.sign_in.refused``, as the open clinic writes them),
  and the file is brought in step with the tables. The file and ``sign_in_names`` key
  names under one salt: the database takes the file's the first time, and a file made
  afresh takes the database's.
- ``mirror``: the file follows the tables (lockouts, resets, settings, and each failure
  counted) while the clinic is open; the sign-in gate calls it after a sign-in, on
  account and settings changes, after each counted failure (before its refusal is
  shown, so a kapp killed while open leaves no guesses uncounted) and when it closes.

The recovery key is not locked out: it has 160 random bits (guessing it is hopeless, and
each try costs a full argon2 run), and a lockout would only let someone at the keyboard
block the clinic's last way back in. Its failures are counted and audited
(``user.recover.failed``) when the clinic next opens.

A crash between the database commit and the file write carries the same failures twice
(at least once beats never for an audit trail).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from kapp.domain.accounts import AccountLocked, ClinicSettings, count_failure
from kapp.domain.clock import Clock, SystemClock
from kapp.services.settings import load_settings
from kapp.services.users import sign_in_salt, stored_sign_in_salt
from kapp.storage import models as m
from kapp.storage import signin_counts
from kapp.storage.database import Database, UnitOfWork
from kapp.storage.keyfile import KeyFile, WrongPassword, WrongRecoveryKey, key_file_path
from kapp.storage.signin_counts import NameCount

log = logging.getLogger(__name__)

CLOSED = "typed while the clinic was closed"


def unwrap_counted(path: Path, username: str, password: str, *,
                   clock: Clock | None = None) -> bytes:
    """The database key for this user name and password, counting a wrong password
    towards the lockout. Raises ``AccountLocked`` (locked: no key derivation is tried, or
    this failure locked it) or ``WrongPassword``."""
    now = (clock or SystemClock()).now()
    until = signin_counts.load(path).locked_until(username, now)
    if until is not None:
        signin_counts.update(path, lambda counts: counts.refuse(username, now))
        raise AccountLocked(until)
    key_file = KeyFile.load(key_file_path(path))
    try:
        return key_file.unwrap_user(username, password)
    except WrongPassword:
        locked = signin_counts.update(path, lambda counts: counts.fail(username, now))
        if locked is not None:
            raise AccountLocked(locked, just_now=True) from None
        raise


def unwrap_recovery_counted(path: Path, recovery_key: str, *,
                            clock: Clock | None = None) -> bytes:
    """The database key for the recovery key; a wrong one is counted for the audit trail
    (never locked out: see the module's docstring)."""
    now = (clock or SystemClock()).now()
    key_file = KeyFile.load(key_file_path(path))
    try:
        return key_file.unwrap_recovery(recovery_key)
    except WrongRecoveryKey as exc:
        if "does not open" in str(exc):  # a key that was tried, not a mistyped shape
            signin_counts.update(path, lambda counts: counts.fail_recovery(now))
        raise


def after_open(database: Database, path: Path) -> None:
    """The clinic has just been opened: carry what was counted while it was closed into
    the accounts table and the audit trail, then bring the file in step."""
    with signin_counts.locked(path):
        counts = signin_counts.load(path)
        pending, recovery = counts.take_pending()
        adopt = False  # the database takes the file's salt when it has none and the
        if counts.names:  # file has names to keep (else it takes the database's later)
            with database.reading() as s:
                adopt = stored_sign_in_salt(s) is None
        if pending or recovery or adopt:
            with database.unit_of_work() as uow:
                salt = sign_in_salt(uow, adopt=counts.salt)
                _carry(uow, counts, pending, recovery, names=salt == counts.salt)
        _mirror_into(database, counts)
        _save(counts)


def mirror(database: Database, path: Path) -> None:
    """Copy the accounts' lockout state and the lockout settings into the counts file."""
    with signin_counts.locked(path):
        counts = signin_counts.load(path)
        _mirror_into(database, counts)
        _save(counts)


def _save(counts: signin_counts.SignInCounts) -> None:
    try:
        counts.save()
    except OSError as exc:
        log.warning("The sign-in count file %s cannot be written (%s).", counts.path.name,
                    exc.strerror)


def _mirror_into(database: Database, counts: signin_counts.SignInCounts) -> None:
    now = database.clock.now()
    with database.reading() as s:
        settings: ClinicSettings = load_settings(s)
        rows = s.execute(sa.select(m.User.username, m.User.failed_logins,
                                   m.User.locked_until)).all()
        salt = stored_sign_in_salt(s)
        others = s.execute(sa.select(m.SignInName.name_key, m.SignInName.failed_logins,
                                     m.SignInName.locked_until)
                           .where(sa.or_(m.SignInName.failed_logins > 0,
                                         m.SignInName.locked_until > now))).all()
    counts.mirror(settings, {name: (failed or 0, until) for name, failed, until in rows}, now,
                  salt=salt, others={key: (failed or 0, until) for key, failed, until in others}
                  if salt is not None else None)


def _carry(uow: UnitOfWork, counts: signin_counts.SignInCounts,
           pending: dict[str, NameCount], recovery: list[datetime], *, names: bool) -> None:
    """``names``: the file keys names under the database's salt, so a name that is no
    account is counted on in ``sign_in_names`` (else only audited)."""
    settings = load_settings(uow)
    accounts = {counts.key(row.username): row
                for row in uow.session.execute(sa.select(m.User)).scalars()}
    for key, entry in sorted(pending.items(), key=lambda item: item[1].failed_at[:1]):
        row = accounts.get(key)
        counted: m.User | m.SignInName | None = row
        if row is None and names and entry.failed_at:
            counted = _other_name(uow, key)
        for at in entry.failed_at:
            if counted is not None:
                _replay_failure(uow, counted, at, settings)
            else:
                uow.audit(user_id=None, action="user.sign_in.failed", entity="users",
                          entity_id=None, new={"attempted_at": at, "clinic_closed": True},
                          reason=f"unknown user name, {CLOSED}")
        if entry.dropped:
            uow.audit(user_id=row.id if row else None, action="user.sign_in.failed",
                      entity="users", entity_id=row.id if row else None,
                      new={"more_failed_attempts": entry.dropped, "clinic_closed": True},
                      reason=f"{'wrong password' if row else 'unknown user name'}, {CLOSED}")
        if entry.refused:
            uow.audit(user_id=row.id if row else None, action="user.sign_in.refused",
                      entity="users", entity_id=row.id if row else None,
                      new={"attempts": entry.refused, "clinic_closed": True},
                      reason=f"{'account' if row else 'user name'} locked, {CLOSED}")
    for at in recovery:
        uow.audit(user_id=None, action="user.recover.failed", entity="users", entity_id=None,
                  new={"attempted_at": at, "clinic_closed": True},
                  reason=f"wrong recovery key, {CLOSED}")
    uow.session.flush()


def _other_name(uow: UnitOfWork, key: str) -> m.SignInName:
    """The ``sign_in_names`` row of a name that is no account (made when it has none)."""
    row = uow.session.get(m.SignInName, key)
    if row is None:
        row = m.SignInName(name_key=key, failed_logins=0, last_at=uow.now)
        uow.session.add(row)
    return row


def _replay_failure(uow: UnitOfWork, row: m.User | m.SignInName, at: datetime,
                    settings: ClinicSettings) -> None:
    """One wrong password typed at ``at`` while closed, counted as ``check_password`` (a
    name that is no account: ``check_unknown_name``, kapp/services/users.py) counts one
    typed at the open clinic."""
    account = row if isinstance(row, m.User) else None
    user_id = account.id if account is not None else None
    if row.locked_until is not None and row.locked_until > at:
        uow.audit(user_id=user_id, action="user.sign_in.refused", entity="users",
                  entity_id=user_id, new={"attempted_at": at, "clinic_closed": True},
                  reason=f"{'account' if account else 'user name'} locked, {CLOSED}")
        return
    counted = count_failure(row.failed_logins, row.locked_until, at,
                            attempts=settings.lockout_attempts,
                            minutes=settings.lockout_minutes)
    row.failed_logins, row.locked_until = counted.failures, counted.locked_until
    if isinstance(row, m.SignInName):
        row.last_at = max(row.last_at, at)
    uow.audit(user_id=user_id, action="user.sign_in.failed", entity="users",
              entity_id=user_id,
              new={"failed_attempts": counted.nth, "locked_until": row.locked_until,
                   "attempted_at": at, "clinic_closed": True},
              reason=f"{'wrong password' if account else 'unknown user name'}, {CLOSED}")

