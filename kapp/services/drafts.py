"""Drafts: a half-typed form survives a crash, a power cut or the screen lock.

A form saves what has been typed every few seconds under a key naming the form and what
it is for (``"note:<session id>"``, ``"instrument:<patient id>:phq9"``,
``"intervention:<session id>:<side effect id>"``); on opening, it
asks for its draft back; after the entry itself was saved, it discards the draft. The
content is a small JSON object ``{field name: value}`` kept inside the database (so it is
encrypted with it, and never written to a temporary file).

A draft stays with its author: it is stored per user, and only that user loads it. If
another user signs in on the same computer, they never see it as theirs.

Drafts are not clinical records: they are overwritten as typing goes on and removed
once saved, so they carry no audit entries (the entry saved from them does).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kapp.domain.errors import FieldError
from kapp.domain.ids import new_id
from kapp.services.base import Actor, Service, actor_id, raise_if
from kapp.storage import models as m

MAX_KEY = 200
MAX_CONTENT = 200_000  # characters of JSON: a long note and then some


@dataclass(frozen=True, slots=True)
class DraftInfo:
    form_key: str
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class SavedDraft:
    """One's own draft, with when it was last saved (to say "restored from 14:32")."""

    form_key: str
    content: dict[str, Any]
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class DraftPlace:
    """Where one's unsaved entry waits: what form, for which patient and session."""

    form_key: str
    what: str  # "note", "patient's words", "PHQ-9" ...
    patient_id: Any  # uuid.UUID
    mrn: str
    patient_name: str  # "Family, Given", as lists show it
    session_id: Any  # uuid.UUID | None
    session_day: datetime | None
    saved_at: datetime


WHAT = {"note": "note", "dissociation": "patient's words", "intervention": "intervention"}


def _ids(form_key: str) -> tuple[str, uuid.UUID | None, uuid.UUID | None, str]:
    """(kind, patient id, session id, instrument code) named by a draft's key."""
    parts = form_key.split(":")
    try:
        if parts[0] in WHAT and len(parts) == 2:
            return parts[0], None, uuid.UUID(parts[1]), ""
        if parts[0] == "intervention" and len(parts) == 3:  # intervention:<session>:<effect>
            return parts[0], None, uuid.UUID(parts[1]), ""
        if parts[0] == "instrument" and len(parts) == 5:
            session = uuid.UUID(parts[4]) if parts[4] != "-" else None
            return parts[0], uuid.UUID(parts[1]), session, parts[2]
    except ValueError:
        pass
    return "", None, None, ""


@dataclass(frozen=True, slots=True)
class ColleagueDraft:
    """That a colleague keeps a draft of the same form: their name and when, never what."""

    full_name: str
    saved_at: datetime


def _json_value_ok(value: Any, depth: int = 0) -> bool:
    if depth > 5:
        return False
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_json_value_ok(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _json_value_ok(v, depth + 1) for k, v in value.items())
    return False


def _empty(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping):
        return all(_empty(v) for v in value.values())
    return False


@dataclass(frozen=True, slots=True)
class FormDrafts:
    """What a form shows of drafts when it opens: its user's own, and colleagues' (who and
    when only)."""

    own: SavedDraft | None
    others: tuple[ColleagueDraft, ...]


class DraftService(Service):
    def save(self, *, actor: Actor, form_key: str, content: Mapping[str, Any]) -> DraftInfo | None:
        """Keep ``content`` as the actor's draft of ``form_key`` (replacing the previous
        one). A form with nothing typed has no draft: it is discarded instead."""
        key = self._key(form_key)
        errors: list[FieldError] = []
        if not isinstance(content, Mapping) or not _json_value_ok(content):
            errors.append(FieldError("content", "A draft holds text, numbers and choices"))
            text = ""
        else:
            text = json.dumps(dict(content), ensure_ascii=False, sort_keys=True)
            if len(text) > MAX_CONTENT:
                errors.append(FieldError("content", f"The draft is too long to keep "
                                         f"({len(text)} characters; at most {MAX_CONTENT})"))
        raise_if(errors)
        if _empty(content):
            self.discard(actor=actor, form_key=key)
            return None
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, None)
            row = self._row(uow.session, user.id, key)
            if row is None:
                row = m.Draft(id=new_id(), user_id=user.id, form_key=key, content=text,
                              saved_at=uow.now, origin=uow.origin)
                uow.session.add(row)
            else:
                row.content, row.saved_at = text, uow.now
            return DraftInfo(key, uow.now)

    def load(self, *, actor: Actor, form_key: str) -> dict[str, Any] | None:
        """The actor's own draft of ``form_key``, or None."""
        found = self.find(actor=actor, form_key=form_key)
        return found.content if found is not None else None

    def find(self, *, actor: Actor, form_key: str) -> SavedDraft | None:
        """The actor's own draft of ``form_key`` with the time it was saved, or None."""
        key = self._key(form_key)
        with self.db.unit_of_work() as uow:  # the user is re-read, as for any call
            user = self._user(uow, actor, None)
            row = self._row(uow.session, user.id, key)
            if row is None:
                return None
            return SavedDraft(key, json.loads(row.content), row.saved_at)

    def of_forms(self, *, actor: Actor, form_keys: list[str]) -> dict[str, FormDrafts]:
        """``find`` and ``others`` of several forms in one read (a screen that opens with
        several forms: one round trip to a server, not two a form)."""
        keys = [self._key(k) for k in form_keys]
        with self.db.unit_of_work() as uow:
            me = self._user(uow, actor, None).id
            rows = uow.session.execute(
                sa.select(m.Draft.form_key, m.Draft.user_id, m.Draft.content,
                          m.Draft.saved_at, m.User.full_name)
                .join(m.User, m.User.id == m.Draft.user_id)
                .where(m.Draft.form_key.in_(keys))
                .order_by(m.Draft.saved_at.desc())).all()
        own: dict[str, SavedDraft] = {}
        others: dict[str, list[ColleagueDraft]] = {k: [] for k in keys}
        for key, user_id, content, saved_at, name in rows:
            if user_id == me:
                own[key] = SavedDraft(key, json.loads(content), saved_at)
            else:
                others[key].append(ColleagueDraft(name, saved_at))
        return {k: FormDrafts(own.get(k), tuple(others[k])) for k in keys}

    def others(self, *, actor: Actor, form_key: str) -> list[ColleagueDraft]:
        """Colleagues who keep a draft of the same form (newest first): only who and when,
        so a form can say "kept for Ann Nurse" without ever showing or taking it over."""
        key = self._key(form_key)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, None)
            rows = uow.session.execute(
                sa.select(m.User.full_name, m.Draft.saved_at)
                .join(m.User, m.User.id == m.Draft.user_id)
                .where(m.Draft.form_key == key, m.Draft.user_id != user.id)
                .order_by(m.Draft.saved_at.desc())).all()
            return [ColleagueDraft(name, at) for name, at in rows]

    def discard(self, *, actor: Actor, form_key: str) -> bool:
        """Remove the actor's draft of ``form_key`` (after the entry was saved)."""
        key = self._key(form_key)
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, None)
            row = self._row(uow.session, user.id, key)
            if row is None:
                return False
            uow.session.delete(row)
            return True

    def mine(self, *, actor: Actor) -> list[DraftInfo]:
        """The actor's drafts, newest first (to say "you have unsaved entries")."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, None)
            rows = uow.session.execute(
                sa.select(m.Draft.form_key, m.Draft.saved_at).where(m.Draft.user_id == user.id)
                .order_by(m.Draft.saved_at.desc())).all()
            return [DraftInfo(k, t) for k, t in rows]

    def places(self, *, actor: Actor, names: Mapping[str, str] | None = None
               ) -> list[DraftPlace]:
        """The actor's drafts with the patient and session each belongs to, newest first
        (the overview's "your unsaved entries"); ``names``: instrument code -> short name.
        Drafts of forms this version does not know, or of a removed record, are left out."""
        with self.db.reading() as s:
            user = s.get(m.User, actor_id(actor))
            if user is None:
                return []
            rows = s.execute(
                sa.select(m.Draft.form_key, m.Draft.saved_at)
                .where(m.Draft.user_id == user.id).order_by(m.Draft.saved_at.desc())).all()
            wanted = [(key, at, *_ids(key)) for key, at in rows]
            sessions = {sid for *_, sid, _ in wanted if sid is not None}
            by_session = {r.id: r for r in s.execute(
                sa.select(m.Session.id, m.Session.patient_id, m.Session.actual_start,
                          m.Session.planned_start)
                .where(m.Session.id.in_(sessions)))} if sessions else {}
            patient_ids = {pid for *_, pid, _, _ in wanted if pid is not None} | {
                r.patient_id for r in by_session.values()}
            patients = {r.id: r for r in s.execute(
                sa.select(m.Patient.id, m.Patient.mrn, m.Patient.family_name,
                          m.Patient.given_name).where(m.Patient.id.in_(patient_ids)))
            } if patient_ids else {}
        found: list[DraftPlace] = []
        for key, at, kind, pid, sid, code in wanted:
            session = by_session.get(sid) if sid is not None else None
            patient = patients.get(session.patient_id if session is not None else pid)
            if not kind or patient is None or (sid is not None and session is None):
                continue
            what = WHAT.get(kind) or (names or {}).get(code, code.upper())
            day = (session.actual_start or session.planned_start) if session else None
            found.append(DraftPlace(key, what, patient.id, patient.mrn,
                                    f"{patient.family_name}, {patient.given_name}",
                                    sid, day, at))
        return found

    @staticmethod
    def _key(form_key: Any) -> str:
        if not isinstance(form_key, str) or not form_key.strip() or len(form_key) > MAX_KEY \
                or not form_key.isprintable():  # a NUL is refused by PostgreSQL
            raise_if([FieldError("form_key", f"A draft needs the form's name (1-{MAX_KEY} "
                                 "characters)")])
        return form_key.strip()

    @staticmethod
    def _row(session: sa.orm.Session, user_id: Any, key: str) -> m.Draft | None:
        return session.execute(sa.select(m.Draft).where(m.Draft.user_id == user_id,
                                                        m.Draft.form_key == key)).scalar()
