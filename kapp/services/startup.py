"""From credentials to open records: the seam between collecting a user name and password
(the GUI) and checking them (here, or the encrypted opener).

With encryption at rest the password must unwrap the database key BEFORE the database can
be opened, so the GUI never opens anything itself: it hands what was typed to a ``Gate``
and gets back the open ``Services`` and the signed-in ``User``. ``OpenGate`` is the gate of
a database that is already open (unencrypted, or a server); an encrypted gate implements
the same three methods around its key file.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kapp.domain.entities import User
from kapp.services.facade import Services


@dataclass(frozen=True, slots=True)
class SignedIn:
    services: Services
    user: User


@dataclass(frozen=True, slots=True)
class ClinicForm:
    """What the first-run screen asks for."""

    clinic_name: str
    username: str
    full_name: str
    password: str


@dataclass(frozen=True, slots=True)
class NewClinic:
    signed_in: SignedIn
    recovery_key: str  # shown once, never stored in the clear


class Gate(Protocol):
    database_label: str

    def has_accounts(self) -> bool:
        """False on first run (no accounts yet: set up the clinic)."""

    def create_clinic(self, form: ClinicForm) -> NewClinic:
        """First run: create the first administrator (and, when encrypted, the key file
        with the recovery key). Raises ValidationError naming the fields."""

    def try_sign_in(self, username: str, password: str) -> SignedIn:
        """Check the credentials (and open the records); raises ``SignInRefused`` with a
        message fit for the sign-in screen, or another ``KappError``."""


def random_recovery_key() -> str:
    """A random 256-bit key, written as groups of four base32 characters (no 0/1/8/9 to
    confuse with O/I/B/g when read back from paper)."""
    text = base64.b32encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


@dataclass
class OpenGate:
    """The gate of a database that is already open: sign-in checks the password hash.

    ``recovery_key`` makes the key shown at first run; the encrypted opener supplies the
    one that really wraps the database key."""

    services: Services
    database_label: str
    recovery_key: Callable[[], str] = random_recovery_key

    def has_accounts(self) -> bool:
        return self.services.users.count() > 0

    def create_clinic(self, form: ClinicForm) -> NewClinic:
        user = self.services.users.create_first_admin(
            username=form.username, full_name=form.full_name, password=form.password,
            clinic_name=form.clinic_name)
        return NewClinic(SignedIn(self.services, user), self.recovery_key())

    def try_sign_in(self, username: str, password: str) -> SignedIn:
        return SignedIn(self.services, self.services.users.authenticate(username, password))
