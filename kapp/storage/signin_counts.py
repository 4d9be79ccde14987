"""Failed sign-ins counted while an encrypted clinic is closed: ``<database>.signin``.

An encrypted clinic's database cannot be read until a password unwraps its key, so the
lockout the accounts table keeps (``failed_logins``, ``locked_until``) cannot count the
guesses typed at a closed clinic. This small JSON file beside the database does, per user
name typed, with a copy of the clinic's lockout settings:

- a name locked here is refused before any key-derivation work;
- each wrong password typed at the closed clinic is counted (the same arithmetic as the
  open clinic, kapp/services/users.py ``check_password``), and its time kept until the
  clinic is next opened, when the failures are carried into the accounts table and the
  audit trail (kapp/services/lockout.py) and the file is brought in step with the table.

Why a file of its own, not a field of the key file: the key file is the one file whose
loss loses the database; it is written rarely (accounts and passwords) and must stay so.
This file changes with every wrong password, is not secret, and may be lost or damaged
without harm: kapp then counts afresh (logging a warning) and the accounts table still
holds the lockouts of the open clinic. It is not part of a backup.

Nothing in it is secret or clinical: no password, no patient data, and no user name in
clear (people type passwords into the user-name box): names are keyed by an HMAC-SHA-256
under a random salt kept in the file, which is enough to match them to accounts and
to keep a typed password from sitting in a readable file. Written atomically (temporary
file, fsync, rename) under the key file's inter-process lock.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from kapp.domain.accounts import ClinicSettings, count_failure

log = logging.getLogger(__name__)

FORMAT = "kapp-sign-in-counts"
VERSION = 1
SUFFIX = ".signin"
SALT_BYTES = 16
MAX_NAMES = 1000  # names typed and not yet forgotten; beyond this the quietest go first
MAX_TIMES = 200  # failure times kept per name until the clinic is opened
T = TypeVar("T")


def counts_path(db_path: Path | str) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + SUFFIX)


def name_key(salt: bytes, username: str) -> str:
    """The key a typed user name is counted under: an HMAC-SHA-256 of the name as the
    sign-in reads it (trimmed, lower case) under ``salt``, never the name in clear (people
    type passwords into the user-name box). The same key in this file and in the open
    clinic's ``sign_in_names`` table, which share the salt (kapp/services/lockout.py)."""
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    return hmac.new(salt, name.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _when(text: Any) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)  # ValueError/TypeError: damaged
    if value.tzinfo is None:
        raise ValueError("a time without its zone")
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class NameCount:
    """One user name's count: its state now, and what is still to carry into the database."""

    failures: int = 0  # in a row, as ``users.failed_logins``
    locked_until: datetime | None = None
    failed_at: list[datetime] = field(default_factory=list)  # not yet carried
    dropped: int = 0  # failures beyond MAX_TIMES, carried as a number
    refused: int = 0  # attempts refused while locked, not yet carried
    last: datetime | None = None  # last activity (which names to forget first)

    @property
    def pending(self) -> bool:
        return bool(self.failed_at or self.dropped or self.refused)

    def to_json(self) -> dict[str, Any]:
        return {"failures": self.failures, "locked_until": _iso(self.locked_until),
                "failed_at": [_iso(t) for t in self.failed_at], "dropped": self.dropped,
                "refused": self.refused, "last": _iso(self.last)}

    @classmethod
    def from_json(cls, data: Any) -> NameCount:
        if not isinstance(data, dict):
            raise ValueError("an entry is not an object")
        failures, dropped, refused = (int(data.get(k) or 0)
                                      for k in ("failures", "dropped", "refused"))
        if min(failures, dropped, refused) < 0:
            raise ValueError("a negative count")
        times = data.get("failed_at") or []
        if not isinstance(times, list):
            raise ValueError("failed_at is not a list")
        return cls(failures=failures, locked_until=_when(data.get("locked_until")),
                   failed_at=[t for t in (_when(x) for x in times[:MAX_TIMES]) if t],
                   dropped=dropped, refused=refused, last=_when(data.get("last")))


@dataclass
class SignInCounts:
    """The parsed file (see the module's docstring)."""

    path: Path
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(SALT_BYTES))
    lockout_attempts: int = ClinicSettings().lockout_attempts
    lockout_minutes: int = ClinicSettings().lockout_minutes
    names: dict[str, NameCount] = field(default_factory=dict)
    recovery_failed_at: list[datetime] = field(default_factory=list)

    # -- reading and writing --------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> SignInCounts:
        """The file, or a fresh count when it is missing; a damaged or unreadable file is
        replaced by a fresh count with a warning (it must never stop a sign-in)."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            log.warning("The sign-in count file %s cannot be read (%s); counting afresh.",
                        path.name, exc.strerror)
            return cls(path)
        try:
            return cls._parse(path, json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError):
            # No content in the message: a damaged file could hold anything.
            log.warning("The sign-in count file %s is damaged; counting failed sign-ins "
                        "afresh.", path.name)
            return cls(path)

    @classmethod
    def _parse(cls, path: Path, data: Any) -> SignInCounts:
        if not isinstance(data, dict) or data.get("format") != FORMAT \
                or data.get("version") != VERSION:
            raise ValueError("not a sign-in count file of this version")
        salt = base64.b64decode(data["salt"], validate=True)
        if len(salt) < 8:
            raise ValueError("salt")
        attempts, minutes = int(data["lockout_attempts"]), int(data["lockout_minutes"])
        if not (1 <= attempts <= 100 and 1 <= minutes <= 24 * 60):
            raise ValueError("lockout settings out of range")
        names = data.get("names") or {}
        recovery = data.get("recovery_failed_at") or []
        if not isinstance(names, dict) or not isinstance(recovery, list):
            raise ValueError("names")
        return cls(path, salt, attempts, minutes,
                   {str(k): NameCount.from_json(v) for k, v in names.items()},
                   [t for t in (_when(x) for x in recovery[:MAX_TIMES]) if t])

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "version": VERSION,
            "about": "Failed sign-ins typed while this encrypted kapp clinic was closed, "
                     "counted for the lockout and carried into the audit trail when it next "
                     "opens. No passwords, no user names in clear, no patient data. Safe to "
                     "lose: kapp then counts afresh.",
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "lockout_attempts": self.lockout_attempts,
            "lockout_minutes": self.lockout_minutes,
            "names": {k: v.to_json() for k, v in sorted(self.names.items())},
            "recovery_failed_at": [_iso(t) for t in self.recovery_failed_at],
        }, indent=1) + "\n"

    def save(self) -> None:
        from kapp.storage.keyfile import write_atomically

        write_atomically(self.path, self.to_json().encode("utf-8"))

    # -- names ----------------------------------------------------------------------------
    def key(self, username: str) -> str:
        return name_key(self.salt, username)

    def locked_until(self, username: str, now: datetime) -> datetime | None:
        entry = self.names.get(self.key(username))
        if entry is not None and entry.locked_until is not None and entry.locked_until > now:
            return entry.locked_until
        return None

    def fail(self, username: str, now: datetime) -> datetime | None:
        """Count a wrong password; returns the time the name is locked until when this
        failure locked it (as ``check_password`` does), else None."""
        entry = self.names.setdefault(self.key(username), NameCount())
        counted = count_failure(entry.failures, entry.locked_until, now,
                                attempts=self.lockout_attempts, minutes=self.lockout_minutes)
        entry.failures, entry.locked_until = counted.failures, counted.locked_until
        entry.last = now
        if len(entry.failed_at) < MAX_TIMES:
            entry.failed_at.append(now)
        else:
            entry.dropped += 1
        self._forget_quietest()
        return counted.locked_until

    def refuse(self, username: str, now: datetime) -> None:
        """An attempt refused because the name is locked (no password was tried)."""
        entry = self.names.setdefault(self.key(username), NameCount())
        entry.refused += 1
        entry.last = now

    def fail_recovery(self, now: datetime) -> None:
        if len(self.recovery_failed_at) < MAX_TIMES:
            self.recovery_failed_at.append(now)

    def _forget_quietest(self) -> None:
        # Bound the file: forget the names with the oldest activity that are not locked,
        # those with nothing left to carry first.
        # (Pushing one name out takes MAX_NAMES wrong passwords, each a full argon2 run.)
        excess = len(self.names) - MAX_NAMES
        if excess <= 0:
            return
        quiet = sorted((k for k, v in self.names.items() if v.locked_until is None),
                       key=lambda k: (self.names[k].pending, self._last(self.names[k])))
        for k in quiet[:excess]:
            del self.names[k]

    @staticmethod
    def _last(entry: NameCount) -> float:
        return entry.last.timestamp() if entry.last is not None else 0.0

    # -- in step with the accounts table ----------------------------------------------------
    def take_pending(self) -> tuple[dict[str, NameCount], list[datetime]]:
        """What was counted while closed and not yet carried into the database; the file
        keeps each name's state but forgets the times (save after the carry commits)."""
        pending = {k: NameCount(v.failures, v.locked_until, list(v.failed_at), v.dropped,
                                v.refused, v.last)
                   for k, v in self.names.items() if v.pending}
        for v in self.names.values():
            v.failed_at, v.dropped, v.refused = [], 0, 0
        recovery, self.recovery_failed_at = self.recovery_failed_at, []
        return pending, recovery

    def mirror(self, settings: ClinicSettings,
               accounts: dict[str, tuple[int, datetime | None]], now: datetime, *,
               salt: bytes | None = None,
               others: dict[str, tuple[int, datetime | None]] | None = None) -> None:
        """Copy the clinic's lockout settings and each account's state (user name ->
        failed_logins, locked_until) from the open database, and the count of each name
        typed there that is no account (its ``sign_in_names`` table: key -> failures,
        locked_until), keyed under the database's ``salt``: a file counting under another
        salt (new, or replaced) takes it and forgets its old keys, but those with failures
        still to carry. Names that are no account keep their count (from outside they must
        behave as accounts do); names with nothing left to tell are forgotten."""
        if salt is not None and salt != self.salt:
            self.salt = salt
            self.names = {k: v for k, v in self.names.items() if v.pending}
        self.lockout_attempts = settings.lockout_attempts
        self.lockout_minutes = settings.lockout_minutes
        for key, (failures, locked_until) in (others or {}).items():
            entry = self.names.setdefault(key, NameCount())
            entry.failures, entry.locked_until = failures or 0, locked_until
        for username, (failures, locked_until) in accounts.items():
            entry = self.names.setdefault(self.key(username), NameCount())
            entry.failures, entry.locked_until = failures or 0, locked_until
        for k in [k for k, v in self.names.items()
                  if not v.pending and not v.failures
                  and (v.locked_until is None or v.locked_until <= now)]:
            del self.names[k]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    from kapp.storage.keyfile import _locked

    with _locked(path):
        yield


def update(db_path: Path | str, change: Callable[[SignInCounts], T]) -> T:
    """Read, change and write the file under the inter-process lock. A file that cannot
    be written is logged, not raised: counting must never stop a sign-in."""
    path = counts_path(db_path)
    with _file_lock(path):
        counts = SignInCounts.load(path)
        result = change(counts)
        try:
            counts.save()
        except OSError as exc:
            log.warning("The sign-in count file %s cannot be written (%s).", path.name,
                        exc.strerror)
        return result


def load(db_path: Path | str) -> SignInCounts:
    return SignInCounts.load(counts_path(db_path))


@contextlib.contextmanager
def locked(db_path: Path | str) -> Iterator[None]:
    """Hold the file's lock across a longer step (carrying counts into the database)."""
    with _file_lock(counts_path(db_path)):
        yield
