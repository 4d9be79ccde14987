"""Reading the audit trail (administrators only) and verifying its hash chain.

Pages are fetched newest first by keyset (``after`` = the last row's (time, seq)), so the
thousandth page of a million-entry trail costs what the first does. The filters use the
trail's indexes: patient + time, user + time, time, action.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import aliased

from kapp.domain.errors import FieldError
from kapp.domain.permissions import Permission
from kapp.services.base import Actor, Service, raise_if
from kapp.storage import audit
from kapp.storage import models as m
from kapp.storage.database import Database

PAGE_SIZE = 200
MAX_PAGE = 5000

Cursor = tuple[datetime, int]
"""Where a page ended: the last row's (time, seq); the next page starts after it."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the administrator asked to see; every field is optional. Dates are calendar
    days at the clinic (this computer's time zone), both ends included."""

    patient_mrn: str | None = None
    user_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: datetime
    user_id: uuid.UUID | None
    username: str | None
    user_name: str | None
    action: str
    entity: str
    entity_id: str | None
    patient_id: uuid.UUID | None
    mrn: str | None
    session_id: uuid.UUID | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    reason: str | None

    @property
    def cursor(self) -> Cursor:
        return (self.at, self.seq)


@dataclass(frozen=True, slots=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    next_cursor: Cursor | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of walking the chain. ``intact`` only when every entry was checked."""

    checked: int
    total: int
    cancelled: bool = False
    broken_seq: int | None = None
    problem: str | None = None
    broken_at: datetime | None = None
    broken_action: str | None = None

    @property
    def intact(self) -> bool:
        return not self.cancelled and self.broken_seq is None

    def describe(self) -> str:
        """One sentence for a person (the CLI prints it, the viewer shows it)."""
        if self.cancelled:
            return f"Verification stopped after {self.checked:,} of {self.total:,} entries."
        if self.broken_seq is None:
            return (f"The audit trail is intact: all {self.checked:,} entries are present, "
                    "unchanged and in order.")
        where = f"entry {self.broken_seq}"
        if self.broken_at is not None:
            when = self.broken_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            where += f" ({when}, {self.broken_action})"
        return f"The audit trail is BROKEN at {where}: {self.problem}."


Progress = Callable[[int, int], None]


def verify_trail(db: Database, *, progress: Progress | None = None,
                 cancelled: Callable[[], bool] | None = None) -> ChainReport:
    """Walk the whole chain (no permission check: for ``kapp audit verify``, whose user
    already holds the database itself). ``progress(checked, total)`` every 1,000 entries;
    ``cancelled()`` is asked as often and stops the walk when it says True."""
    with db.reading() as session:
        total = session.execute(sa.select(sa.func.count()).select_from(m.AuditEntry)).scalar()
        checked = 0
        for item in audit.verify_chain(session):
            if isinstance(item, audit.ChainBreak):
                at, action = _near(session, item.seq)
                return ChainReport(checked=checked, total=total or 0, broken_seq=item.seq,
                                   problem=item.problem, broken_at=at, broken_action=action)
            checked = item
            if progress is not None:
                progress(checked, total or 0)
            if cancelled is not None and cancelled() and checked < (total or 0):
                return ChainReport(checked=checked, total=total or 0, cancelled=True)
        return ChainReport(checked=checked, total=total or 0)


def _near(session: OrmSession, seq: int) -> tuple[datetime | None, str | None]:
    """Time and action of the broken entry, or of the next one when it is missing."""
    row = session.execute(
        sa.select(m.AuditEntry.at, m.AuditEntry.action)
        .where(m.AuditEntry.seq >= seq).order_by(m.AuditEntry.seq).limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


class AuditViewService(Service):
    """The administrator's window on the trail. Reads only; each call checks the right."""

    def page(self, *, actor: Actor, filters: AuditFilter | None = None,
             after: Cursor | None = None, limit: int = PAGE_SIZE) -> AuditPage:
        limit = max(1, min(int(limit), MAX_PAGE))
        with self.db.reading() as s:
            self._check(s, actor)
            query = self._filtered(s, filters or AuditFilter())
            if after is not None:
                at, seq = after
                # "at <= x" first, so the index on time starts the scan at the cursor
                # (a deep page then costs what the first one does), then the tie-break.
                query = query.where(m.AuditEntry.at <= at, sa.or_(
                    m.AuditEntry.at < at, m.AuditEntry.seq < seq))
            user, patient = aliased(m.User), aliased(m.Patient)
            query = (query.add_columns(user.username, user.full_name, patient.mrn)
                     .outerjoin(user, user.id == m.AuditEntry.user_id)
                     .outerjoin(patient, patient.id == m.AuditEntry.patient_id)
                     .order_by(m.AuditEntry.at.desc(), m.AuditEntry.seq.desc())
                     .limit(limit + 1))
            found = s.execute(query).all()
            rows = tuple(_row(entry, username, full_name, mrn)
                         for entry, username, full_name, mrn in found[:limit])
        more = len(found) > limit
        return AuditPage(rows, rows[-1].cursor if more and rows else None)

    def count(self, *, actor: Actor, filters: AuditFilter | None = None) -> int:
        with self.db.reading() as s:
            self._check(s, actor)
            query = self._filtered(s, filters or AuditFilter())
            return s.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar()

    def actions(self, *, actor: Actor) -> list[str]:
        """Every kind of action in the trail, for the filter's list."""
        with self.db.reading() as s:
            self._check(s, actor)
            return list(s.execute(sa.select(m.AuditEntry.action).distinct()
                                  .order_by(m.AuditEntry.action)).scalars())

    def verify(self, *, actor: Actor, progress: Progress | None = None,
               cancelled: Callable[[], bool] | None = None) -> ChainReport:
        with self.db.reading() as s:
            self._check(s, actor)
        return verify_trail(self.db, progress=progress, cancelled=cancelled)

    # -- helpers --------------------------------------------------------------------------
    def _check(self, session: OrmSession, actor: Actor) -> None:
        # A read: no unit of work, but the same rule as every service (re-read the user).
        self._user(_Reading(session), actor, Permission.VIEW_AUDIT)  # type: ignore[arg-type]

    @staticmethod
    def _filtered(session: OrmSession, f: AuditFilter) -> sa.Select[Any]:
        errors: list[FieldError] = []
        query = sa.select(m.AuditEntry)
        mrn = (f.patient_mrn or "").strip()
        if mrn:
            patient_id = session.execute(
                sa.select(m.Patient.id).where(sa.func.upper(m.Patient.mrn) == mrn.upper())
            ).scalar()
            if patient_id is None:
                errors.append(FieldError("patient_mrn", f"No patient has the MRN {mrn}."))
            query = query.where(m.AuditEntry.patient_id == patient_id)
        if f.date_from and f.date_to and f.date_from > f.date_to:
            errors.append(FieldError("date_to", "The end date is before the start date.",
                                     f"on or after {f.date_from.isoformat()}"))
        raise_if(errors)
        if f.user_id is not None:
            query = query.where(m.AuditEntry.user_id == f.user_id)
        if f.date_from is not None:
            query = query.where(m.AuditEntry.at >= _local_midnight(f.date_from))
        if f.date_to is not None:
            query = query.where(m.AuditEntry.at < _local_midnight(f.date_to + timedelta(1)))
        if f.action:
            query = query.where(m.AuditEntry.action == f.action)
        return query


@dataclass
class _Reading:
    session: OrmSession


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone()


def _row(entry: m.AuditEntry, username: str | None, full_name: str | None,
         mrn: str | None) -> AuditRow:
    return AuditRow(seq=entry.seq, at=entry.at, user_id=entry.user_id, username=username,
                    user_name=full_name, action=entry.action, entity=entry.entity,
                    entity_id=entry.entity_id, patient_id=entry.patient_id, mrn=mrn,
                    session_id=entry.session_id, old=entry.old_values, new=entry.new_values,
                    reason=entry.reason)
