"""All services of one open database, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from kapp.services.audit_view import AuditViewService
from kapp.services.backups import BackupService
from kapp.services.base import ChangeHub
from kapp.services.courses import CourseService
from kapp.services.drafts import DraftService
from kapp.services.entries import EntryService
from kapp.services.keys import KeyRing, NoKeyRing
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


@dataclass(frozen=True)
class Services:
    db: Database
    hub: ChangeHub
    users: UserService
    protocol: ProtocolService
    patients: PatientService
    courses: CourseService
    sessions: SessionService
    entries: EntryService
    records: RecordService
    keyring: KeyRing
    settings: SettingsService
    patient_view: PatientViewService
    audit: AuditViewService
    backups: BackupService
    drafts: DraftService
    progress: ProgressService
    overview: OverviewService

    @classmethod
    def for_database(cls, db: Database, keyring: KeyRing | None = None) -> Services:
        hub = ChangeHub()
        keyring = keyring or NoKeyRing()
        return cls(
            db=db,
            hub=hub,
            users=UserService(db, hub, keyring),
            protocol=ProtocolService(db, hub),
            patients=PatientService(db, hub),
            courses=CourseService(db, hub),
            sessions=SessionService(db, hub),
            entries=EntryService(db, hub),
            records=RecordService(db, hub),
            keyring=keyring,
            settings=SettingsService(db, hub),
            patient_view=PatientViewService(db, hub),
            audit=AuditViewService(db, hub),
            backups=BackupService(db, hub),
            drafts=DraftService(db, hub),
            progress=ProgressService(db, hub),
            overview=OverviewService(db, hub),
        )
