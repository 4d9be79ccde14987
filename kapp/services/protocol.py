"""Reading and editing the clinic protocol (thresholds and defaults)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from kapp.domain.errors import FieldError
from kapp.domain.permissions import Permission
from kapp.domain.protocol import Protocol
from kapp.services.base import Actor, Change, Service, raise_if
from kapp.storage import models as m
from kapp.storage.database import UnitOfWork, Writing
from kapp.storage.engine import plain_rows

_SETTINGS = sa.select(m.ProtocolSetting.key, m.ProtocolSetting.value)
_last: tuple[tuple[Any, ...], Protocol] | None = None


def load_protocol(source: UnitOfWork | Writing | sa.orm.Session) -> Protocol:
    """The protocol as stored now, read inside the caller's transaction.

    The settings are read every time (another workstation may have changed them), but
    building and checking a Protocol from them is done again only when they differ from
    the last ones read: recording a reading should not re-validate the whole protocol."""
    global _last
    if isinstance(source, Writing):
        rows = tuple(plain_rows(source.connection, _SETTINGS))
    else:
        session = source.session if isinstance(source, UnitOfWork) else source
        rows = tuple(tuple(row) for row in session.execute(_SETTINGS))
    last = _last
    if last is not None and last[0] == rows:
        return last[1]
    protocol = Protocol.from_values({key: value for key, value in rows})
    _last = (rows, protocol)
    return protocol


class ProtocolService(Service):
    def current(self) -> Protocol:
        with self.db.reading() as s:
            return load_protocol(s)

    def ensure_defaults(self) -> int:
        """Store every setting that has no row yet with its default; returns how many.
        Run on opening a database, so the stored protocol is complete and visible."""
        with self.db.unit_of_work() as uow:
            present = set(uow.session.execute(sa.select(m.ProtocolSetting.key)).scalars())
            missing = {k: v for k, v in Protocol().as_dict().items() if k not in present}
            for key, value in missing.items():
                uow.session.add(m.ProtocolSetting(key=key, value=value, updated_at=uow.now))
            if missing:
                uow.audit(user_id=None, action="protocol.defaults", entity="protocol_settings",
                          entity_id=None, new=missing)
        if missing:
            self.hub.notify(Change.PROTOCOL)
        return len(missing)

    def update(self, *, actor: Actor, values: dict[str, float], reason: str) -> Protocol:
        """Change some settings; the whole protocol must still be consistent."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.EDIT_PROTOCOL)
            known = set(Protocol.keys())
            if not isinstance(values, dict):
                raise_if([FieldError("values", "The settings must be given by name")])
            errors = [FieldError(str(k), f"Unknown protocol setting '{k}'") for k in values
                      if k not in known]
            if not isinstance(reason, str) or not reason.strip():
                errors.append(FieldError("reason", "Say why the protocol changes"))
            raise_if(errors)
            current = load_protocol(uow)
            proposed = replace(current, **values)
            raise_if(proposed.problems())
            old = {k: getattr(current, k) for k in values}
            for key, value in values.items():
                row = uow.session.get(m.ProtocolSetting, key)
                if row is None:
                    row = m.ProtocolSetting(key=key, value=value, updated_at=uow.now)
                    uow.session.add(row)
                row.value, row.updated_at, row.updated_by_id = float(value), uow.now, user.id
            uow.audit(user_id=user.id, action="protocol.update", entity="protocol_settings",
                      entity_id=None, old=old, new=values, reason=reason.strip())
        self.hub.notify(Change.PROTOCOL)
        return proposed
