"""Clinic settings: the clinic's name, sign-in lockout and the idle screen lock.

Administrative settings, changed by administrators only and audited; the clinical
protocol's thresholds are a separate thing (``kapp.services.protocol``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain.accounts import ClinicSettings, checked_settings
from kapp.domain.errors import FieldError
from kapp.domain.permissions import Permission
from kapp.services.base import Actor, Change, Service, raise_if
from kapp.storage import models as m
from kapp.storage.database import UnitOfWork


def load_settings(uow_or_session: UnitOfWork | OrmSession) -> ClinicSettings:
    session = uow_or_session.session if isinstance(uow_or_session, UnitOfWork) \
        else uow_or_session
    rows = session.execute(sa.select(m.ClinicSetting.key, m.ClinicSetting.value)).all()
    return ClinicSettings.from_values({k: v for k, v in rows})


def store_settings(uow: UnitOfWork, values: dict[str, object],
                   user_id: object | None) -> dict[str, object]:
    """Write clean values; returns the old ones (for the audit entry)."""
    current = load_settings(uow)
    old = {k: getattr(current, k) for k in values}
    for key, value in values.items():
        row = uow.session.get(m.ClinicSetting, key)
        if row is None:
            row = m.ClinicSetting(key=key, value=str(value), updated_at=uow.now)
            uow.session.add(row)
        row.value, row.updated_at, row.updated_by_id = str(value), uow.now, user_id
    uow.session.flush()
    return old


class SettingsService(Service):
    def current(self) -> ClinicSettings:
        with self.db.reading() as s:
            return load_settings(s)

    def update(self, *, actor: Actor, values: dict[str, object],
               reason: str | None = None) -> ClinicSettings:
        """Change some settings (administrators only). Each value is checked against its
        allowed range; nothing is written when any is refused."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.MANAGE_SETTINGS)
            if not values:
                raise_if([FieldError("settings", "Nothing to change")])
            clean, errors = checked_settings(values)
            raise_if(errors)
            old = store_settings(uow, clean, user.id)
            uow.audit(user_id=user.id, action="settings.update", entity="clinic_settings",
                      entity_id=None, old=old, new=clean,
                      reason=(reason or "").strip() or None)
            result = load_settings(uow)
        self.hub.notify(Change.SETTINGS)
        return result
