"""From credentials to open records: the seam between collecting a user name and password
(the GUI) and checking them (here, or the encrypted opener).

With encryption at rest the password must unwrap the database key BEFORE the database can
be opened, so the GUI never opens anything itself: it hands what was typed to a ``Gate``
and gets back the open ``Services`` and the signed-in ``User``. ``OpenGate`` is the gate of
a database that is already open (unencrypted, or a server); an encrypted gate implements
the same three methods around its key file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kapp.domain.accounts import WrongCredentials
from kapp.domain.clock import Clock
from kapp.domain.entities import User
from kapp.domain.errors import KappError
from kapp.services import vault

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # imported when a clinic is opened: the sign-in window shows before
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

    def close(self) -> None:
        """Close what the gate opened (when the application ends)."""

    def accounts_known(self) -> bool | None:
        """``has_accounts()`` if it is known without loading the database layer, else
        None (a plain file: ``preload`` opens it and then knows)."""

    def preload(self) -> None:
        """Load the database layer and, for a file that needs no password, open and check
        the database; safe to call from a worker thread, once or many times. Raises what
        opening raises (damaged, newer, unsafe location...)."""

    def can_recover(self) -> bool:
        """Does this clinic have a recovery key (an encrypted file)?"""

    def recover(self, recovery_key: str, username: str, new_password: str) -> SignedIn:
        """Every password lost: open with the recovery key and give an administrator a new
        password. Raises ``WrongRecoveryKey`` (kapp.storage.keyfile) or ``ValidationError``
        naming the field."""


def _no_recovery_key() -> str:
    return ""


@dataclass
class OpenGate:
    """The gate of a database that is already open (a database server, or a file opened
    before the GUI): sign-in checks the password hash. There is no encryption key, so no
    recovery key either (``recovery_key`` lets a test supply one)."""

    services: Services
    database_label: str
    recovery_key: Callable[[], str] = _no_recovery_key

    def has_accounts(self) -> bool:
        return self.services.users.count() > 0

    def accounts_known(self) -> bool | None:
        return self.has_accounts()

    def preload(self) -> None:
        """Already open."""

    def create_clinic(self, form: ClinicForm) -> NewClinic:
        user = self.services.users.create_first_admin(
            username=form.username, full_name=form.full_name, password=form.password,
            clinic_name=form.clinic_name)
        return NewClinic(SignedIn(self.services, user), self.recovery_key())

    def try_sign_in(self, username: str, password: str) -> SignedIn:
        return SignedIn(self.services, self.services.users.authenticate(username, password))

    def close(self) -> None:
        self.services.db.dispose()

    def can_recover(self) -> bool:
        return False

    def recover(self, recovery_key: str, username: str, new_password: str) -> SignedIn:
        raise KappError("This database has no recovery key: an administrator of the database "
                        "server resets passwords.")


class VaultGate:
    """The gate of a local database file (the usual case).

    An encrypted clinic stays closed until someone signs in: their password unwraps the
    database key (``kapp.services.vault``), and only then is the file opened and their
    account checked (hash, deactivation, lockout). A new clinic is made encrypted at first
    run; an unencrypted file (development, or made with ``--no-encryption``) opens as it is.
    """

    def __init__(self, path: Path, *, database_label: str, plain_new: bool = False,
                 clock: Clock | None = None) -> None:
        self.path = path
        self.database_label = database_label
        self.plain_new = plain_new
        self.clock = clock
        self.services: Services | None = None
        self._preload_lock = threading.Lock()
        self._preloaded = False

    def _state(self) -> vault.ClinicState:
        return vault.clinic_state(self.path)

    def _open(self, opened: vault.OpenedClinic) -> Services:
        from kapp.services.facade import Services

        services = Services.for_database(opened.database, opened.keyring)
        services.protocol.ensure_defaults()
        self.services = services
        # The counts file follows the accounts' lockouts, each counted failure written
        # (fsync) before its refusal is shown: a kapp killed while open leaves no guesses
        # uncounted for the closed clinic.
        if opened.keyring.encrypted:
            services.hub.subscribe(self._mirror_on_change)
        return services

    def _mirror_on_change(self, changes: frozenset) -> None:
        from kapp.services.changes import Change

        if changes & {Change.USERS, Change.SETTINGS, Change.SIGN_IN}:
            self._mirror()

    def _mirror(self) -> None:
        """Copy the accounts' lockouts and the lockout settings into the file the closed
        clinic counts failed sign-ins in (kapp/services/lockout.py)."""
        services = self.services
        if services is None or not services.keyring.encrypted:
            return
        from kapp.services import lockout

        try:
            lockout.mirror(services.db, Path(self.path).expanduser().resolve())
        except Exception as exc:  # never fail what was done, nor the closing, for a copy
            log.warning("The sign-in counts could not be brought in step with the accounts "
                        "(%s).", type(exc).__name__)

    def accounts_known(self) -> bool | None:
        state = self._state()
        if state is vault.ClinicState.NEW:
            return False
        if state is vault.ClinicState.ENCRYPTED:
            return True  # only an account's password (or the recovery key) tells more
        if self.services is not None:
            return self.services.users.count() > 0
        return None

    def preload(self) -> None:
        """Import the database layer and the services; a plain file is also opened (its
        integrity and schema checked, an older one upgraded) and its accounts counted.
        An encrypted file stays closed until a password unwraps its key."""
        with self._preload_lock:  # the worker thread and a sign-in may both ask
            if self._preloaded:
                return
            vault.load_database_layer()
            import kapp.services.facade
            import kapp.storage.keyfile  # noqa: F401 - WrongPassword, at sign-in

            if self.services is None and self._state() in (
                    vault.ClinicState.PLAIN, vault.ClinicState.KEY_FILE_MISSING,
                    vault.ClinicState.DATABASE_MISSING):
                self._open(vault.open_plain(self.path, clock=self.clock))  # or refused: why
                self.services.users.count()  # type: ignore[union-attr]
            self._preloaded = True

    def has_accounts(self) -> bool:
        known = self.accounts_known()
        if known is not None:
            return known
        self.preload()
        assert self.services is not None
        return self.services.users.count() > 0

    def create_clinic(self, form: ClinicForm) -> NewClinic:
        self.preload()
        if self.services is not None:  # a plain file that has no accounts yet
            services, recovery_key = self.services, ""
        elif self.plain_new:
            services, recovery_key = self._open(
                vault.open_plain(self.path, create=True, clock=self.clock)), ""
        else:
            made = vault.create_clinic(self.path, clock=self.clock)
            services = self._open(vault.OpenedClinic(made.database, made.keyring))
            recovery_key = made.recovery_key
        user = services.users.create_first_admin(
            username=form.username, full_name=form.full_name, password=form.password,
            clinic_name=form.clinic_name)
        return NewClinic(SignedIn(services, user), recovery_key)

    def try_sign_in(self, username: str, password: str) -> SignedIn:
        self.preload()
        from kapp.storage.keyfile import WrongPassword

        if self.services is None:
            try:
                opened = vault.open_clinic(self.path, username.strip().lower(), password,
                                           clock=self.clock)
            except WrongPassword:
                raise WrongCredentials() from None
            services = self._open(opened)
            try:
                return SignedIn(services, services.users.authenticate(username, password))
            except BaseException:
                self.close()  # the key opened the file, but this account may not enter
                raise
            finally:
                self._mirror()  # this sign-in reset (or counted) the account's failures
        return SignedIn(self.services, self.services.users.authenticate(username, password))

    def can_recover(self) -> bool:
        return self._state() is vault.ClinicState.ENCRYPTED

    def recover(self, recovery_key: str, username: str, new_password: str) -> SignedIn:
        if self.services is not None or not self.can_recover():
            raise KappError("Only a locked, encrypted clinic is opened with its recovery key.")
        opened = vault.open_with_recovery_key(self.path, recovery_key, clock=self.clock)
        services = self._open(opened)
        try:
            user = services.users.recover_administrator(username=username,
                                                        new_password=new_password)
        except BaseException:
            self.close()  # nothing is kept open on a refusal
            raise
        return SignedIn(services, user)

    def close(self) -> None:
        with self._preload_lock:  # a preload under way finishes first, then is closed
            if self.services is not None:
                self._mirror()
                self.services.db.dispose()
                self.services = None
            self._preloaded = False
