"""Crash harness: kill a recording process at a random moment, check nothing it said it
had saved is lost.

A child process records entries through the services, as a nurse's screen would (a
patient, a course, sessions with pump events, vitals that raise alerts, side effects,
notes), and prints each id only after the service call returned: the stand-in for
"Saved" on screen. The parent SIGKILLs it at a random moment, reopens the database the
way kapp does at start-up (with its start-up checks) and checks that

- every printed id is in the database (acknowledged entries lost must be 0);
- nothing is half-written: every clinical row has its audit entry and every audit entry
  its row, every alert its reading, and the audit hash chain is unbroken;
- ``PRAGMA integrity_check`` and ``foreign_key_check`` are clean.

Run it with ``make stress`` (1,000 rounds) or ``python -m kapp.devtools.crash stress
--rounds N``; the quick test suite runs a few dozen rounds. Children are forked from the
harness (fast, POSIX only) or, with ``--spawn``, started as fresh interpreters.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain.errors import KappError
from kapp.domain.vitals import VitalsInput
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm
from kapp.storage import audit
from kapp.storage import models as m
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url

# Tables whose every row is made by a service together with its audit entry.
AUDITED = {
    "patients": m.Patient,
    "courses": m.Course,
    "sessions": m.Session,
    "infusion_events": m.InfusionEvent,
    "vitals_readings": m.VitalsReading,
    "alerts": m.Alert,
    "side_effects": m.SideEffect,
    "notes": m.Note,
}
# What the child prints -> the table the id must be in.
KIND_TABLE = {
    "patient": "patients",
    "session": "sessions",
    "pump": "infusion_events",
    "vitals": "vitals_readings",
    "alert": "alerts",
    "side_effect": "side_effects",
    "note": "notes",
}


# -- the child --------------------------------------------------------------------------
def _staff(services: Services) -> tuple[object, object]:
    users = services.users
    admin = users.by_username("admin")
    if admin is None:
        admin = users.create_first_admin(username="admin", full_name="Crash Admin",
                                         password="crash-admin-password")
    nurse = users.by_username("nurse")
    if nurse is None:
        nurse = users.create_user(actor=admin, username="nurse", full_name="Crash Nurse",
                                  role="nurse",  # type: ignore[arg-type]
                                  password="crash-nurse-password")
    return admin, nurse


def record_until_killed(db_path: Path, seed: int, out: int) -> None:
    """The child: record entries forever, writing "<kind> <id>" to ``out`` after each
    service call returned."""
    rng = random.Random(seed)

    def say(kind: str, ident: object) -> None:
        os.write(out, f"{kind} {ident}\n".encode())

    opened = open_database(sqlite_url(db_path))
    services = Services.for_database(opened.database)
    services.protocol.ensure_defaults()
    _, nurse = _staff(services)
    say("ready", "-")  # set up: the parent's clock for the kill starts now
    now = datetime.now(UTC)
    patient = services.patients.create(actor=nurse, form=PatientForm(  # type: ignore[arg-type]
        mrn=f"T-{uuid.uuid4().hex[:10]}", given_name="Crash", family_name="Testperson",
        date_of_birth=date(1980, 1, 1), sex="unknown", indication="trd"))
    say("patient", patient.id)
    course = services.courses.start_course(actor=nurse, patient_id=patient.id,  # type: ignore[arg-type]
                                           kind="induction", planned_sessions=100,
                                           started_on=now.date())
    sv, en, rec = services.sessions, services.entries, services.records
    while True:
        session = sv.plan_session(actor=nurse, course_id=course.id,  # type: ignore[arg-type]
                                  planned_start=datetime.now(UTC),
                                  dose=DoseForm(route="iv", drug="ketamine", weight=80,
                                                mg_per_kg=0.5, concentration_mg_per_ml=0.4,
                                                duration_min=40))
        say("session", session.id)
        sv.record_pump_event(actor=nurse, session_id=session.id, kind="start",  # type: ignore[arg-type]
                             rate_ml_per_h=150)
        say("pump", session.id)
        for _ in range(rng.randint(5, 40)):
            choice = rng.random()
            if choice < 0.55:
                high = rng.random() < 0.25
                result = en.record_vitals(actor=nurse, session_id=session.id,  # type: ignore[arg-type]
                                          values=VitalsInput(
                                              hr=rng.randint(55, 110),
                                              systolic=rng.randint(185, 200) if high
                                              else rng.randint(105, 150),
                                              diastolic=rng.randint(60, 95),
                                              spo2=rng.randint(94, 100), rr=14))
                say("vitals", result.reading.id)
                for alert in result.alerts:
                    say("alert", alert.id)
            elif choice < 0.75:
                effect = en.record_side_effect(actor=nurse, session_id=session.id,  # type: ignore[arg-type]
                                               kind=rng.choice(["nausea", "dizziness"]),
                                               severity="mild")
                say("side_effect", effect.entry.id)
            elif choice < 0.9:
                note = rec.add_note(actor=nurse, patient_id=patient.id,  # type: ignore[arg-type]
                                    session_id=session.id, text="x" * rng.randint(1, 3000))
                say("note", note.entry.id)
            else:
                sv.record_pump_event(actor=nurse, session_id=session.id,  # type: ignore[arg-type]
                                     kind="rate_change", rate_ml_per_h=rng.choice([75, 100]),
                                     reason="BP rise")
                say("pump", session.id)
        sv.record_pump_event(actor=nurse, session_id=session.id, kind="stop")  # type: ignore[arg-type]
        say("pump", session.id)


# -- the parent ---------------------------------------------------------------------------
@dataclass
class RoundResult:
    acknowledged: int
    lost: list[str]
    problems: list[str]
    seconds_alive: float
    died_before_kill: str | None = None


@dataclass
class Figures:
    rounds: int = 0
    acknowledged: int = 0
    lost: int = 0
    rounds_with_problems: int = 0
    problems: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        return (f"crash rounds: {self.rounds}; acknowledged entries: {self.acknowledged:,}; "
                f"lost: {self.lost}; rounds with problems: {self.rounds_with_problems}; "
                f"time: {self.seconds:.1f} s")


def check_database(db_path: Path, acknowledged: list[tuple[str, str]]
                   ) -> tuple[list[str], list[str], dict[str, int]]:
    """Reopen as kapp does at start-up and check. Returns (lost ids, problems, row counts)."""
    problems: list[str] = []
    try:
        opened = open_database(sqlite_url(db_path))
    except KappError as exc:
        return [], [f"the database did not open: {exc}"], {}
    engine = opened.database.engine
    lost: list[str] = []
    counts: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            integrity = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                problems.append("integrity_check: " + "; ".join(integrity[:5]))
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                problems.append(f"foreign_key_check: {len(broken)} broken reference(s)")
        with OrmSession(engine) as s:
            present: dict[str, set[uuid.UUID]] = {}
            for table, model in AUDITED.items():
                present[table] = set(s.execute(sa.select(model.id)).scalars())
                counts[table] = len(present[table])
            pump_sessions = Counter(s.execute(sa.select(m.InfusionEvent.session_id)).scalars())
            acked_pumps = Counter(uuid.UUID(i) for k, i in acknowledged if k == "pump")
            for sid, n in acked_pumps.items():
                if pump_sessions.get(sid, 0) < n:
                    lost.append(f"pump events of session {sid}: {n} acknowledged, "
                                f"{pump_sessions.get(sid, 0)} found")
            for kind, ident in acknowledged:
                if kind != "pump" and uuid.UUID(ident) not in present[KIND_TABLE[kind]]:
                    lost.append(f"{kind} {ident}")
            audited: dict[str, set[str]] = {t: set() for t in AUDITED}
            for entity, entity_id in s.execute(sa.select(m.AuditEntry.entity,
                                                         m.AuditEntry.entity_id)):
                if entity in audited and entity_id is not None:
                    audited[entity].add(entity_id)
            for table in AUDITED:
                rows = {str(i) for i in present[table]}
                without = rows - audited[table]
                orphans = audited[table] - rows
                if without:
                    problems.append(f"{len(without)} {table} row(s) without their audit entry")
                if orphans:
                    problems.append(f"{len(orphans)} audit entries for missing {table} rows")
            orphan_alerts = s.execute(sa.select(sa.func.count()).select_from(m.Alert)
                                      .outerjoin(m.VitalsReading,
                                                 m.Alert.vitals_id == m.VitalsReading.id)
                                      .where(m.Alert.vitals_id.is_not(None),
                                             m.VitalsReading.id.is_(None))).scalar_one()
            if orphan_alerts:
                problems.append(f"{orphan_alerts} alert(s) without their reading")
            for step in audit.verify_chain(s):
                if isinstance(step, audit.ChainBreak):
                    problems.append(f"audit chain: {step.problem}")
            counts["audit_log"] = int(s.execute(sa.select(sa.func.count())
                                                .select_from(m.AuditEntry)).scalar_one())
    finally:
        opened.database.dispose()
    return lost, problems, counts


def _start_child(db_path: Path, seed: int, spawn: bool) -> tuple[int, int | subprocess.Popen]:
    """(read end of the child's pipe, pid or Popen)."""
    if spawn:
        proc = subprocess.Popen([sys.executable, "-m", "kapp.devtools.crash", "child",
                                 "--db", str(db_path), "--seed", str(seed)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        return proc.stdout.fileno(), proc
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read)
        code = 0
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            record_until_killed(db_path, seed, write)
        except BaseException:
            code = 3
        os._exit(code)
    os.close(write)
    return read, pid


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def _wait_until_ready(fd: int, limit: float = 120.0) -> bytes:
    """What the child wrote until its "ready" line (or until it died or ``limit`` s)."""
    seen = b""
    deadline = time.monotonic() + limit
    while b"ready -\n" not in seen and time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], 0.5)
        if readable:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen


def crash_round(db_path: Path, rng: random.Random, *, spawn: bool = False,
                max_life: float = 0.6) -> RoundResult:
    """One round. Nine rounds in ten kill the child a random time after it is set up
    (so a busy machine still lets it record); one in ten kills it at a random moment
    from its start (opening the database, checking it, first entries)."""
    fd, child = _start_child(db_path, rng.randrange(1 << 30), spawn)
    started = time.monotonic()
    early = b""
    if rng.random() >= 0.1:
        early = _wait_until_ready(fd)
    time.sleep(rng.uniform(0.0, max_life))
    died = None
    if isinstance(child, subprocess.Popen):
        if child.poll() is not None:
            died = f"exit code {child.returncode}"
        child.send_signal(signal.SIGKILL)
        text = early.decode() + _read_all(fd)
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    else:
        finished, status = os.waitpid(child, os.WNOHANG)
        if finished:
            died = f"exit status {status}"
        else:
            os.kill(child, signal.SIGKILL)
        text = early.decode() + _read_all(fd)
        os.close(fd)
        if not finished:
            os.waitpid(child, 0)
    alive = time.monotonic() - started
    acknowledged = []
    for line in text.split("\n")[:-1]:  # a line cut off by the kill was never "saved"
        kind, _, ident = line.partition(" ")
        if kind != "ready":
            acknowledged.append((kind, ident))
    lost, problems, _ = check_database(db_path, acknowledged)
    if died:
        problems.append(f"the child died before it was killed ({died})")
    return RoundResult(len(acknowledged), lost, problems, alive, died)


def stress(db_path: Path, rounds: int, *, seed: int = 1, spawn: bool = False,
           max_life: float = 0.6, progress: bool = False) -> Figures:
    """Run ``rounds`` crash rounds on one database file (it grows round after round)."""
    if spawn is False and not hasattr(os, "fork"):
        spawn = True
    rng = random.Random(seed)
    figures = Figures()
    started = time.monotonic()
    # The schema is made before the first kill, like an installed clinic's file.
    opened = open_database(sqlite_url(db_path))
    Services.for_database(opened.database).protocol.ensure_defaults()
    opened.database.dispose()
    for n in range(1, rounds + 1):
        # Spawned interpreters need time to start before they write anything.
        result = crash_round(db_path, rng, spawn=spawn, max_life=max_life)
        figures.rounds += 1
        figures.acknowledged += result.acknowledged
        figures.lost += len(result.lost)
        if result.problems or result.lost:
            figures.rounds_with_problems += 1
            figures.problems.extend(f"round {n}: {p}" for p in result.lost + result.problems)
        if progress and (n % 50 == 0 or n == rounds):
            print(f"  {n}/{rounds} rounds, {figures.acknowledged:,} acknowledged, "
                  f"{figures.lost} lost", file=sys.stderr, flush=True)
    _, problems, figures.rows = check_database(db_path, [])
    figures.problems.extend(f"final check: {p}" for p in problems)
    figures.seconds = time.monotonic() - started
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kapp.devtools.crash",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    child = commands.add_parser("child", help="record until killed (used by the harness)")
    child.add_argument("--db", type=Path, required=True)
    child.add_argument("--seed", type=int, default=0)
    run = commands.add_parser("stress", help="run crash rounds and print the figures")
    run.add_argument("--db", type=Path, help="database file (default: a new temporary one)")
    run.add_argument("--rounds", type=int, default=1000)
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--max-life", type=float, default=0.6,
                     help="longest time a child lives before the kill, seconds")
    run.add_argument("--spawn", action="store_true",
                     help="start each child as a fresh interpreter instead of forking")
    run.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.command == "child":
        record_until_killed(args.db, args.seed, sys.stdout.fileno())
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kapp-crash-") as tmp:
        db_path = args.db or Path(tmp) / "crash.db"
        figures = stress(db_path, args.rounds, seed=args.seed, spawn=args.spawn,
                         max_life=args.max_life, progress=not args.json)
    if args.json:
        print(json.dumps(asdict(figures)))
    else:
        print(figures.line())
        print("rows at the end: " + ", ".join(f"{k} {v:,}" for k, v in figures.rows.items()))
        for problem in figures.problems[:20]:
            print(f"  PROBLEM {problem}")
        print("OK: no acknowledged entry lost, every check clean" if not figures.problems
              else "FAILED")
    return 0 if not figures.problems else 1


if __name__ == "__main__":
    sys.exit(main())
