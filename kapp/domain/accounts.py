"""Accounts: password rules, the clinic's security settings and sign-in refusals.

Clinic settings here are administrative (how the workstation behaves), not clinical
protocol: they live apart from ``kapp.domain.protocol`` and only administrators change them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from kapp.domain.errors import FieldError, KappError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
SIGNATURE_MEANING = "reviewed and signed"
ADDENDUM_MEANING = "addendum written and signed"


def password_problems(password: object, *, field: str = "password",
                      username: str | None = None) -> list[FieldError]:
    """What is wrong with a new password (never repeating the password itself)."""
    allowed = f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters"
    if not isinstance(password, str) or not password:
        return [FieldError(field, "Enter a password", allowed)]
    if len(password) < MIN_PASSWORD_LENGTH:
        return [FieldError(field, f"The password must be at least {MIN_PASSWORD_LENGTH} "
                           f"characters long (this one has {len(password)}). A few unrelated "
                           "words make a long password that is easy to remember.", allowed)]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [FieldError(field, f"The password can be at most {MAX_PASSWORD_LENGTH} "
                           "characters long", allowed)]
    if password.strip() != password:
        return [FieldError(field, "The password cannot start or end with a space", allowed)]
    if username and password.strip().lower() == username.strip().lower():
        return [FieldError(field, "The password cannot be the user name", allowed)]
    if len(set(password)) < 4:
        return [FieldError(field, "The password repeats too few different characters", allowed)]
    return []


@dataclass(frozen=True, slots=True)
class ClinicSettings:
    """Workstation security settings and the clinic's name, changed by administrators."""

    clinic_name: str = ""
    lockout_attempts: int = 5  # failed sign-ins in a row before the account waits
    lockout_minutes: int = 5  # how long it waits
    idle_lock_minutes: int = 5  # no key or mouse input for this long locks the screen

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_values(cls, values: dict[str, str]) -> ClinicSettings:
        """Stored text values; anything missing or unreadable keeps its default."""
        default = cls()
        kwargs: dict[str, object] = {}
        for key in (f.name for f in fields(cls)):
            if key not in values:
                continue
            if key == "clinic_name":
                kwargs[key] = values[key]
                continue
            try:
                kwargs[key] = int(values[key])
            except (TypeError, ValueError):
                kwargs[key] = getattr(default, key)
        return cls(**kwargs)  # type: ignore[arg-type]

    def as_values(self) -> dict[str, str]:
        return {k: str(getattr(self, k)) for k in self.keys()}


SETTING_RANGES: dict[str, tuple[int, int, str, str]] = {
    "lockout_attempts": (3, 20, "Failed sign-ins before an account waits", "attempts"),
    "lockout_minutes": (1, 120, "Wait after too many failed sign-ins", "minutes"),
    "idle_lock_minutes": (1, 30, "Lock the screen after no input for", "minutes"),
}
CLINIC_NAME_MAX = 200


def checked_settings(values: dict[str, object]) -> tuple[dict[str, object], list[FieldError]]:
    """Validate settings as typed; returns the clean values and the problems."""
    errors: list[FieldError] = []
    clean: dict[str, object] = {}
    for key, value in values.items():
        if key == "clinic_name":
            text = value.strip() if isinstance(value, str) else None
            if not text:
                errors.append(FieldError(key, "Enter the clinic's name", "1-200 characters"))
            elif len(text) > CLINIC_NAME_MAX:
                errors.append(FieldError(key, f"The clinic's name can be at most "
                                         f"{CLINIC_NAME_MAX} characters", "1-200 characters"))
            else:
                clean[key] = text
            continue
        if key not in SETTING_RANGES:
            errors.append(FieldError(key, f"Unknown clinic setting '{key}'"))
            continue
        lo, hi, label, unit = SETTING_RANGES[key]
        allowed = f"{lo}-{hi} {unit}"
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if (isinstance(number, bool) or not isinstance(number, int | float)
                or not math.isfinite(number) or number != int(number)):
            errors.append(FieldError(key, f"{label} must be a whole number of {unit} "
                                     f"from {lo} to {hi}", allowed))
            continue
        if not lo <= number <= hi:
            errors.append(FieldError(key, f"{label} must be from {lo} to {hi} {unit}; "
                                     f"got {int(number)}", allowed))
            continue
        clean[key] = int(number)
    return clean, errors


@dataclass(frozen=True, slots=True)
class CountedFailure:
    """A name's lockout count after one more failed sign-in (see ``count_failure``)."""

    failures: int  # failed sign-ins in a row now (back to 0 when this one locked the name)
    locked_until: datetime | None  # set when this failure locked the name
    nth: int  # which failure in a row this one was


def count_failure(failures: int | None, locked_until: datetime | None, at: datetime, *,
                  attempts: int, minutes: int) -> CountedFailure:
    """One more failed sign-in at ``at`` for a name (an account, or a name typed that is no
    account) whose count is ``failures`` and whose lock, if any, is over: the last of
    ``attempts`` in a row locks it for ``minutes`` (the clinic's lockout settings).

    The one arithmetic of the lockout, at the open clinic (``users.failed_logins``,
    ``sign_in_names``) and the closed one (the ``.signin`` file); the caller refuses a
    name still locked at ``at`` before any password is tried, and calls this only after."""
    if locked_until is not None and locked_until <= at:
        failures = 0  # the wait is over: count afresh
    nth = (failures or 0) + 1
    if nth >= attempts:
        return CountedFailure(0, at + timedelta(minutes=minutes), nth)
    return CountedFailure(nth, None, nth)


class SignInRefused(KappError):
    """A sign-in (or a password re-entered to sign) was refused; the message says why in
    words fit for the person at the keyboard, never whether a user name exists."""

    field = "password"  # the form field the message belongs next to


class WrongCredentials(SignInRefused):
    def __init__(self, message: str = "Wrong user name or password.") -> None:
        super().__init__(message)


class AccountLocked(SignInRefused):
    def __init__(self, until: datetime, *, just_now: bool = False) -> None:
        self.until = until
        self.just_now = just_now  # this failure locked it (it was counted)
        local = until.astimezone()
        first = ("Too many failed attempts: this account" if just_now
                 else "This account")
        super().__init__(f"{first} is locked until {local:%H:%M}. Try again then, or ask an "
                         "administrator.")


class AccountDeactivated(SignInRefused):
    def __init__(self) -> None:
        super().__init__("This account has been deactivated. Ask an administrator.")
