"""A synthetic clinic for demonstrations, screenshots and load tests.

Everything is invented: names come from small built-in lists (``demo_text``), MRNs look
like ``DEMO-000123``. The same seed and the same ``today`` give the same clinic, down to
every UUID, because every random choice (ids included) comes from one
``random.Random(seed)``.

Speed matters more than elegance here (3,000 patients are about a million rows), so rows
are built as plain dicts and written with Core bulk inserts, a few hundred patients per
transaction. The audit trail is still complete: one ``demo.create`` entry per row (and a
``demo.sign`` entry per signature), chained with the same hash as
``kapp.storage.audit.append`` computes, worked out in bulk. An audit entry's time is the
simulated time the record was made, so a patient's trail reads as their history.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import enums as e
from kapp.domain.errors import ValidationError
from kapp.domain.instruments import load_instruments
from kapp.domain.protocol import Protocol
from kapp.paths import instruments_dir
from kapp.services import demo_text as txt
from kapp.services.demo_plan import (
    HISTORY_DAYS,
    LONG_TERM_EVERY,
    PAIN,
    make_courses,
    make_traits,
)
from kapp.services.demo_rows import TABLES, Batch, Staff, Visit
from kapp.services.demo_session import SessionBuilder
from kapp.services.passwords import hash_password
from kapp.storage.audit import GENESIS_HASH, entry_hash
from kapp.storage.base import Base
from kapp.storage.database import Database, UnitOfWork
from kapp.storage.models import AuditEntry, Patient, ProtocolSetting, User

MRN_PREFIX = "DEMO-"
BATCH_PATIENTS = 250


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How many rows the demo wrote (``users``: demo accounts created, not reused)."""

    patients: int
    courses: int
    sessions: int
    vitals: int
    side_effects: int
    interventions: int
    dissociation_reports: int
    instrument_responses: int
    alerts: int
    audit_entries: int
    users: int
    infusion_events: int = 0
    notes: int = 0
    # Patients treated for depression who finished their induction and, by design,
    # responded (PHQ-9 down by at least half) or remitted (PHQ-9 below 5) by its end.
    responders: int = 0
    remitters: int = 0


def write_demo_clinic(
    db: Database,
    *,
    patients: int = 40,
    seed: int = 1,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    protocol: Mapping[str, float] | None = None,
    password: str | None = None,
) -> DemoSummary:
    """Fill ``db`` with a synthetic clinic of ``patients`` patients.

    ``password`` becomes every demo account's password (without one they cannot sign in).
    ``protocol`` overrides some of the clinic's protocol settings first (for example a
    clinic that charts vitals every 3 minutes); the sessions follow the result.

    Raises:
        ValueError: ``patients`` is negative, or the database already holds demo
            patients (a second run would mix two clinics; make a fresh database).
    """
    if patients < 0:
        raise ValueError(f"the number of patients must be 0 or more; got {patients}")
    today = today or date.today()
    rng = random.Random(seed)
    counts = dict.fromkeys((*TABLES, "audit_log", "users", "responders", "remitters"), 0)
    with db.unit_of_work() as uow:
        staff, made_users, settings = _set_up(uow, rng, today, counts, dict(protocol or {}),
                                                password)
    instruments = load_instruments(instruments_dir())
    with db.reading() as session:
        chain = _Chain(*_last(session), random.Random(f"kapp-demo-audit:{seed}"), db.origin)

    def make(first: int, size: int) -> tuple[Batch, _Linked, list[str]]:
        batch = Batch(db.origin)
        builder = SessionBuilder(rng, staff, settings, instruments, today, batch)
        outcomes = []
        for number in range(first, first + size):
            # One generator per patient: a patient does not change when the batch size does.
            builder.rng = random.Random(f"kapp-demo:{seed}:{number}")
            outcomes.append(_patient(builder, number))
        return batch, chain.link(batch.audit), outcomes

    if progress:
        progress(0, patients)
    plan = [(first, min(BATCH_PATIENTS, patients + 1 - first))
            for first in range(1, patients + 1, BATCH_PATIENTS)]
    # Python builds the next batch in a thread while SQLite (outside the GIL) writes this one.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kapp-demo") as pool:
        coming = pool.submit(make, *plan[0]) if plan else None
        for index in range(len(plan)):
            assert coming is not None
            batch, linked, outcomes = coming.result()
            coming = pool.submit(make, *plan[index + 1]) if index + 1 < len(plan) else None
            with db.unit_of_work() as uow:
                _write(uow, batch, linked, counts)
            counts["responders"] += sum(o in ("responder", "remitter") for o in outcomes)
            counts["remitters"] += outcomes.count("remitter")
            if progress:
                progress(plan[index][0] + plan[index][1] - 1, patients)
    return DemoSummary(
        patients=counts["patients"], courses=counts["courses"], sessions=counts["sessions"],
        vitals=counts["vitals_readings"], side_effects=counts["side_effects"],
        interventions=counts["interventions"],
        dissociation_reports=counts["dissociation_reports"],
        instrument_responses=counts["instrument_responses"], alerts=counts["alerts"],
        audit_entries=counts["audit_log"], users=made_users,
        infusion_events=counts["infusion_events"], notes=counts["notes"],
        responders=counts["responders"], remitters=counts["remitters"],
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _set_up(
    uow: UnitOfWork, rng: random.Random, today: date, counts: dict[str, int],
    overrides: dict[str, float], password: str | None,
) -> tuple[Staff, int, Protocol]:
    """Refuse a second demo, then make the staff accounts and the protocol settings."""
    s = uow.session
    taken = s.execute(
        sa.select(Patient.mrn).where(Patient.mrn.like(f"{MRN_PREFIX}%")).limit(1)
    ).first()
    if taken is not None:
        raise ValueError(
            f"This database already holds demo patients ({taken[0]}...). Make the demo "
            "clinic in a new database file (or a new, empty database on the server) "
            "instead."
        )
    since = datetime.combine(today - timedelta(days=HISTORY_DAYS + 60), time(8), UTC)
    existing = {u.username: u for u in s.execute(sa.select(User)).scalars()}
    ids: dict[str, uuid.UUID] = {}
    made = 0
    batch = Batch(uow.origin)
    for username, (full_name, role) in txt.STAFF.items():
        new_id = _uuid(rng)  # drawn even when unused, so the rest does not shift
        if username in existing:
            ids[username] = existing[username].id
            continue
        ids[username] = new_id
        made += 1
        row = {"id": new_id, "username": username, "full_name": full_name,
               "role": e.Role(role), "active": True, "created_at": since,
               "password_hash": hash_password(password) if password else None}
        s.execute(sa.insert(User.__table__), [row])
        batch.audit.append((since, None, "demo.create", "users", str(new_id), None, None,
                            {"username": username, "role": role}))
    staff = Staff((ids["nurse1"], ids["nurse2"]), ids["prescriber1"], ids["admin"])
    settings = s.execute(sa.select(ProtocolSetting.key, ProtocolSetting.value)).all()
    stored = {key: value for key, value in settings}
    defaults = Protocol().as_dict()
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"unknown protocol setting(s): {', '.join(unknown)}")
    try:
        Protocol.from_values({**defaults, **stored, **overrides})
    except ValidationError as exc:
        raise ValueError("; ".join(p.message for p in exc.errors)) from exc
    for key, value in overrides.items():
        if key in stored and stored[key] != value:
            s.execute(sa.update(ProtocolSetting.__table__)
                      .where(ProtocolSetting.key == key)
                      .values(value=value, updated_at=since, updated_by_id=staff.admin))
            batch.audit.append((since, staff.admin, "demo.protocol", "protocol_settings", key,
                                None, None, {"value": value, "was": stored[key]}))
        if key in stored:
            stored[key] = value
    defaults = {**defaults, **overrides}
    missing = [
        {"key": key, "value": value, "updated_at": since, "updated_by_id": staff.admin}
        for key, value in defaults.items()
        if key not in stored
    ]
    if missing:
        s.execute(sa.insert(ProtocolSetting.__table__), missing)
    for row in missing:
        batch.audit.append((since, staff.admin, "demo.create", "protocol_settings", row["key"],
                            None, None, {"value": row["value"]}))
    chain = _Chain(*_last(s), rng, uow.origin)
    _append(uow, chain.link(batch.audit), counts)
    return staff, made, Protocol.from_values({**defaults, **stored})


def _patient(b: SessionBuilder, number: int) -> str:
    """All rows of one patient; says whether they responded by the end of induction."""
    rng = b.rng
    t = make_traits(rng)
    pid = b.uuid()
    long_term = number % LONG_TERM_EVERY == LONG_TERM_EVERY // 2
    first_day = b.today + timedelta(days=rng.randint(-HISTORY_DAYS, 10))
    if long_term:
        first_day = b.today - timedelta(days=HISTORY_DAYS)
    created = min(
        datetime.combine(first_day - timedelta(days=rng.randint(7, 21)),
                         time(rng.randint(9, 16), rng.randint(0, 59)), UTC),
        b.horizon - timedelta(hours=2),
    )
    if t.sex is e.Sex.FEMALE:
        given = rng.choice(txt.GIVEN_FEMALE)
    elif t.sex is e.Sex.MALE:
        given = rng.choice(txt.GIVEN_MALE)
    else:
        given = rng.choice(txt.GIVEN_OTHER)
    born = date(b.today.year - t.age, 1, 1) + timedelta(days=rng.randint(0, 364))
    screening = {
        c.value: (e.ScreeningAnswer.UNKNOWN if rng.random() < 0.03 else e.ScreeningAnswer.NO)
        for c in e.Contraindication
    }
    flag_odds = {"benzodiazepine": 0.2, "opioid": 0.35 if t.indication in PAIN else 0.04,
                 "stimulant": 0.05, "lamotrigine": 0.04, "maoi": 0.01}
    flags = [flag for flag, odds in flag_odds.items() if rng.random() < odds]
    meds = rng.choice(txt.MEDICATIONS_PAIN if t.indication in PAIN
                      else txt.MEDICATIONS_DEPRESSION)
    b.batch.add("patients", {
        "id": pid, "mrn": f"{MRN_PREFIX}{number:06d}", "given_name": given,
        "family_name": rng.choice(txt.FAMILY), "date_of_birth": born, "sex": t.sex,
        "indication": t.indication,
        "allergies": rng.choice(txt.ALLERGIES) if rng.random() < 0.2 else "",
        "contraindications": screening, "medication_flags": flags,
        "current_medications": "; ".join([meds, *(txt.MEDICATION_FLAG_DRUGS[f] for f in flags)]),
        "notes": "", "created_at": created, "created_by_id": b.staff.prescriber,
        "updated_at": created, "updated_by_id": b.staff.prescriber, "version": 1,
        "origin": b.origin,
    }, at=created, by=b.staff.prescriber, patient_id=pid)
    if rng.random() < 0.3:
        b.note(pid, None, b.staff.prescriber, created + timedelta(minutes=5),
               rng.choice(txt.INTAKE_NOTES))

    pain = t.indication in PAIN
    state: dict[str, Any] = {
        "weight": t.weight_kg, "done": 0, "esk_mg": 56,
        "mg_per_kg": (0.8 if rng.random() < 0.2 else 0.7) if pain else t.start_mg_per_kg,
    }
    booked = created + timedelta(minutes=10)
    courses = make_courses(rng, t, first_day, b.today, long_term=long_term)
    for course in courses:
        cid = b.uuid()
        course_row = {
            "id": cid, "patient_id": pid, "kind": course.kind,
            "planned_sessions": course.planned_sessions, "started_on": course.dates[0],
            "ended_on": course.dates[-1] if course.ended else None, "baseline_scores": {},
            "notes": "", "created_at": booked, "created_by_id": b.staff.prescriber,
            "origin": b.origin,
        }
        b.batch.add("courses", course_row, at=booked, by=b.staff.prescriber, patient_id=pid)
        for index, day in enumerate(course.dates):
            _titrate(rng, t.responder, pain, course.number, index, state)
            visit = Visit(pid, cid, course, index, day, booked, state["done"])
            result = b.session(t, visit, state)
            if index == 0 and result["scores"]:
                course_row["baseline_scores"] = result["scores"]
            if result["left_at"] is not None:
                booked = result["left_at"] + timedelta(minutes=5)
    induction = courses[0]
    if t.indication in PAIN or not induction.ended or not t.responder:
        return ""
    return "remitter" if t.remitter else "responder"


def _titrate(
    rng: random.Random, responder: bool, pain: bool, course: int, index: int,
    state: dict[str, Any],
) -> None:
    """Raise the dose the way a prescriber would when the first infusions do little."""
    if pain or course != 0 or index < 2:
        return
    if (not responder and index % 2 == 0) or (responder and index == 3 and rng.random() < 0.15):
        state["mg_per_kg"] = round(min(0.8, state["mg_per_kg"] + 0.1), 2)
    if index == 2 and rng.random() < 0.6:
        state["esk_mg"] = 84


def _last(session: OrmSession) -> tuple[int, str]:
    last = session.execute(
        sa.select(AuditEntry.seq, AuditEntry.entry_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class _Linked:
    """Audit rows hashed onto the chain that ended at ``start`` (seq, hash)."""

    start: tuple[int, str]
    pending: list[tuple[Any, ...]]
    plain: list[dict[str, Any]]  # no old/new values: NULL, so no JSON to encode
    with_values: list[dict[str, Any]]


@dataclass(slots=True)
class _Chain:
    """The end of the audit chain as the batches are built, so that hashing (a good part
    of the work) happens in the builder thread; ``_write`` checks the guess."""

    seq: int
    prev: str
    rng: random.Random
    origin: str

    def link(self, pending: list[tuple[Any, ...]]) -> _Linked:
        """Hash entries in time order, exactly as ``kapp.storage.audit.append`` does."""
        linked = _Linked((self.seq, self.prev), pending, [], [])
        seq, prev = self.seq, self.prev
        for at, user, action, entity, entity_id, patient_id, session_id, new in sorted(
            pending, key=lambda entry: entry[0]
        ):
            seq += 1
            row = {
                "id": _uuid(self.rng), "seq": seq, "at": at, "user_id": user, "action": action,
                "entity": entity, "entity_id": entity_id, "patient_id": patient_id,
                "session_id": session_id, "origin": self.origin, "prev_hash": prev,
            }
            hashed = SimpleNamespace(**row, old_values=None, new_values=new, reason=None)
            prev = row["entry_hash"] = entry_hash(cast(AuditEntry, hashed), prev)
            if new is None:
                linked.plain.append(row)
            else:
                row["new_values"] = new
                linked.with_values.append(row)
        self.seq, self.prev = seq, prev
        return linked


def _write(uow: UnitOfWork, batch: Batch, linked: _Linked, counts: dict[str, int]) -> None:
    tables = Base.metadata.tables
    for table in TABLES:
        rows = batch.rows[table]
        if rows:
            uow.session.execute(sa.insert(tables[table]), rows)
            counts[table] += len(rows)
    _append(uow, linked, counts)


def _append(uow: UnitOfWork, linked: _Linked, counts: dict[str, int]) -> None:
    last = _last(uow.session)
    if last != linked.start:
        # Someone else wrote to the trail meanwhile: link onto what is really there.
        linked = _Chain(*last, random.Random(f"{last}"), uow.origin).link(linked.pending)
    for rows in (linked.plain, linked.with_values):
        if rows:
            uow.session.execute(sa.insert(AuditEntry.__table__), rows)
            counts["audit_log"] += len(rows)
