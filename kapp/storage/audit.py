"""The tamper-evident audit trail: append, and verify the hash chain.

Each entry's hash covers its own content and the previous entry's hash. Editing a row
changes its hash; removing one leaves a gap in ``seq``; inserting one by hand cannot
produce a hash that the next entry links to. ``verify_chain`` names the first break.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from kapp.domain.ids import new_id
from kapp.storage.engine import plain_rows
from kapp.storage.models import AuditEntry

GENESIS_HASH = "0" * 64


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a value for old/new values in the trail."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _content(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "user_id": str(entry.user_id) if entry.user_id else None,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "patient_id": str(entry.patient_id) if entry.patient_id else None,
        "session_id": str(entry.session_id) if entry.session_id else None,
        "old": entry.old_values,
        "new": entry.new_values,
        "reason": entry.reason,
        "origin": entry.origin,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: AuditEntry, prev_hash: str) -> str:
    return hashlib.sha256((prev_hash + _content(entry)).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Appended:
    """One entry as written to the trail (what ``entry_hash`` reads, plus its hashes)."""

    id: uuid.UUID
    seq: int
    at: datetime
    user_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str | None
    patient_id: uuid.UUID | None
    session_id: uuid.UUID | None
    old_values: Any
    new_values: Any
    reason: str | None
    origin: str
    prev_hash: str
    entry_hash: str = ""


# Built once: executing the same statement objects hits SQLAlchemy's compiled cache.
_LAST = (sa.select(AuditEntry.seq, AuditEntry.entry_hash)
         .order_by(AuditEntry.seq.desc()).limit(1))
_INSERT = sa.insert(AuditEntry)


def append(session: OrmSession, **entry: Any) -> Appended:
    """Add one entry to the trail inside the caller's ORM transaction (see ``append_on``
    for the arguments). Rows the caller added but did not flush yet are flushed first,
    so the entry is written after what it records."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return append_on(session.connection(), **entry)


def append_on(
    conn: Connection,
    *,
    at: datetime,
    origin: str,
    user_id: uuid.UUID | None,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str | None,
    patient_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> Appended:
    """Add one entry to the trail inside the transaction open on ``conn``.

    The caller's transaction began with BEGIN IMMEDIATE (SQLite), or took kapp's write
    lock (PostgreSQL, kapp/storage/engine.py), so no other writer can take the same
    ``seq`` or link to the same predecessor between reading the last entry and inserting
    this one (the chain never forks); the unique constraint on ``seq`` is the backstop.

    Two plain statements (read the last entry, insert this one), not the ORM's unit of
    work: an entry is written once and never changed.
    """
    last = plain_rows(conn, _LAST)
    seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, GENESIS_HASH)
    entry = Appended(
        id=new_id(),
        seq=seq,
        at=at,
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id) if entity_id is not None else None,
        patient_id=patient_id,
        session_id=session_id,
        old_values=jsonable(dict(old)) if old is not None else None,
        new_values=jsonable(dict(new)) if new is not None else None,
        reason=reason,
        origin=origin,
        prev_hash=prev,
    )
    hashed = entry_hash(entry, prev)  # type: ignore[arg-type]
    conn.execute(_INSERT, {
        "id": entry.id, "seq": seq, "at": at, "user_id": user_id, "action": action,
        "entity": entity, "entity_id": entry.entity_id, "patient_id": patient_id,
        "session_id": session_id, "old_values": entry.old_values,
        "new_values": entry.new_values, "reason": reason, "origin": origin,
        "prev_hash": prev, "entry_hash": hashed,
    })
    return replace(entry, entry_hash=hashed)


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    problem: str


def verify_chain(session: OrmSession) -> Iterator[ChainBreak | int]:
    """Walk the trail in order. Yields the count of entries checked every 1,000 (for a
    progress bar) and a ``ChainBreak`` for the first problem found, then stops."""
    prev = GENESIS_HASH
    expected_seq = 1
    rows = session.execute(sa.select(AuditEntry).order_by(AuditEntry.seq)).scalars()
    for checked, entry in enumerate(rows.yield_per(1000), start=1):
        if entry.seq != expected_seq:
            yield ChainBreak(
                expected_seq,
                f"entry {expected_seq} is missing (next entry found is {entry.seq})"
                if entry.seq > expected_seq
                else f"entry {entry.seq} appears twice or out of order",
            )
            return
        if entry.prev_hash != prev:
            yield ChainBreak(entry.seq, f"entry {entry.seq} does not link to entry {entry.seq - 1}")
            return
        if entry_hash(entry, prev) != entry.entry_hash:
            yield ChainBreak(entry.seq, f"entry {entry.seq} was changed after it was written")
            return
        prev = entry.entry_hash
        expected_seq += 1
        if checked % 1000 == 0:
            yield checked
    yield expected_seq - 1
