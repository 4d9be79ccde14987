"""All services of one open database, built once by the composition root.

Each service is made (and its module imported) the first time it is used: a cold start
imports only what the first screen needs (see docs/performance.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from kapp.services.changes import ChangeHub
from kapp.services.keys import KeyRing, NoKeyRing

if TYPE_CHECKING:
    from kapp.services.audit_view import AuditViewService
    from kapp.services.backups import BackupService
    from kapp.services.courses import CourseService
    from kapp.services.drafts import DraftService
    from kapp.services.entries import EntryService
    from kapp.services.nasal import NasalService
    from kapp.services.overview import OverviewService
    from kapp.services.patient_view import PatientViewService
    from kapp.services.patients import PatientService
    from kapp.services.progress import ProgressService
    from kapp.services.protocol import ProtocolService
    from kapp.services.records import RecordService
    from kapp.services.sessions import SessionService
    from kapp.services.settings import SettingsService
    from kapp.services.users import UserService
    from kapp.storage.database import Database

T = TypeVar("T")


class _lazy(Generic[T]):  # noqa: N801 - used like a decorator, as cached_property is
    """A service made on first use, once, even when a worker thread asks at the same time."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self.make = make
        self.name = make.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _lazy[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        with instance._lock:
            made = instance.__dict__.get(self.name)
            if made is None:
                made = instance.__dict__[self.name] = self.make(instance)
        return made


class Services:
    """The services of one database; ``db``, ``hub`` and ``keyring`` are shared by all."""

    def __init__(self, db: Database, hub: ChangeHub, keyring: KeyRing) -> None:
        self.db = db
        self.hub = hub
        self.keyring = keyring
        self._lock = threading.RLock()

    @classmethod
    def for_database(cls, db: Database, keyring: KeyRing | None = None) -> Services:
        return cls(db, ChangeHub(), keyring or NoKeyRing())

    @_lazy
    def users(self) -> UserService:
        from kapp.services.users import UserService

        return UserService(self.db, self.hub, self.keyring)

    @_lazy
    def protocol(self) -> ProtocolService:
        from kapp.services.protocol import ProtocolService

        return ProtocolService(self.db, self.hub)

    @_lazy
    def patients(self) -> PatientService:
        from kapp.services.patients import PatientService

        return PatientService(self.db, self.hub)

    @_lazy
    def courses(self) -> CourseService:
        from kapp.services.courses import CourseService

        return CourseService(self.db, self.hub)

    @_lazy
    def sessions(self) -> SessionService:
        from kapp.services.sessions import SessionService

        return SessionService(self.db, self.hub)

    @_lazy
    def entries(self) -> EntryService:
        from kapp.services.entries import EntryService

        return EntryService(self.db, self.hub)

    @_lazy
    def nasal(self) -> NasalService:
        from kapp.services.nasal import NasalService

        return NasalService(self.db, self.hub)

    @_lazy
    def records(self) -> RecordService:
        from kapp.services.records import RecordService

        return RecordService(self.db, self.hub)

    @_lazy
    def settings(self) -> SettingsService:
        from kapp.services.settings import SettingsService

        return SettingsService(self.db, self.hub)

    @_lazy
    def patient_view(self) -> PatientViewService:
        from kapp.services.patient_view import PatientViewService

        return PatientViewService(self.db, self.hub, self.progress)

    @_lazy
    def audit(self) -> AuditViewService:
        from kapp.services.audit_view import AuditViewService

        return AuditViewService(self.db, self.hub)

    @_lazy
    def backups(self) -> BackupService:
        from kapp.services.backups import BackupService

        return BackupService(self.db, self.hub)

    @_lazy
    def drafts(self) -> DraftService:
        from kapp.services.drafts import DraftService

        return DraftService(self.db, self.hub)

    @_lazy
    def progress(self) -> ProgressService:
        from kapp.services.progress import ProgressService

        return ProgressService(self.db, self.hub)

    @_lazy
    def overview(self) -> OverviewService:
        from kapp.services.overview import OverviewService

        return OverviewService(self.db, self.hub)
