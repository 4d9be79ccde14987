"""Shared fixtures: a migrated template database made once, copied for each test.

With KAPP_TEST_POSTGRES_URL set (``make test-postgres``), ``db`` is that PostgreSQL
database instead: migrated once per run, then emptied and given the template's rows back
before each test (TRUNCATE does not fire the audit trail's row triggers). Tests about the
SQLite file itself are marked ``sqlite_only`` (or ask for ``db_path``) and skip then.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from kapp.domain import enums as e
from kapp.domain.clock import FixedClock
from kapp.domain.entities import Course, Patient, TreatmentSession, User
from kapp.domain.enums import Role
from kapp.domain.vitals import VitalsInput
from kapp.services import passwords
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm
from kapp.storage.database import Database, open_database
from kapp.storage.engine import create_engine, sqlite_url
from kapp.storage.keyfile import KdfParams

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("KAPP_TEST_POSTGRES_URL") or None
SQLITE_ONLY = "about the SQLite file itself; the run is on PostgreSQL (KAPP_TEST_POSTGRES_URL)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL is None:
        return
    skip = pytest.mark.skip(reason=SQLITE_ONLY)
    for item in items:
        if item.get_closest_marker("sqlite_only") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with the smallest cost: the suite checks behaviour, not hardness."""
    previous = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield
    passwords.use_hasher(previous)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    opened = open_database(sqlite_url(path))
    Services.for_database(opened.database).protocol.ensure_defaults()
    opened.database.dispose()
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    if POSTGRES_URL is not None:  # a test that opens the file itself
        pytest.skip(SQLITE_ONLY)
    path = tmp_path / "kapp.db"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@dataclass
class PostgresTemplate:
    """The PostgreSQL test database as migrated, with its rows (protocol defaults...)."""

    url: str
    tables: list[sa.Table]
    rows: dict[str, list[dict]]

    def reset(self) -> None:
        """Back to the template: every table emptied, the template's rows put back."""
        engine = create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                names = ", ".join(f'"{t.name}"' for t in self.tables)
                conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY")
                for table in self.tables:
                    if self.rows[table.name]:
                        conn.execute(table.insert(), self.rows[table.name])
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> PostgresTemplate:
    """Made once per run: the schema dropped, migrated afresh, the defaults stored."""
    assert POSTGRES_URL is not None
    engine = create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    opened = open_database(POSTGRES_URL)
    Services.for_database(opened.database).protocol.ensure_defaults()
    opened.database.dispose()
    metadata = sa.MetaData()
    with engine.connect() as conn:
        names = [n for n in sa.inspect(conn).get_table_names() if n != "alembic_version"]
        metadata.reflect(conn, only=names)
        tables = list(metadata.sorted_tables)
        rows = {t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))]
                for t in tables}
    engine.dispose()
    return PostgresTemplate(POSTGRES_URL, tables, rows)


@pytest.fixture
def db(request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[Database]:
    if POSTGRES_URL is not None:
        template: PostgresTemplate = request.getfixturevalue("postgres_template")
        template.reset()
        database = open_database(POSTGRES_URL, clock=clock).database
    else:
        path = request.getfixturevalue("db_path")
        database = open_database(sqlite_url(path), clock=clock).database
    yield database
    database.dispose()


@dataclass(frozen=True)
class Staff:
    admin: User
    nurse: User
    nurse2: User
    prescriber: User

    @staticmethod
    def password(user: User | str) -> str:
        """Each test account's password (made up; differs per account)."""
        name = user if isinstance(user, str) else user.username
        return f"{name}-correct-horse"


@pytest.fixture
def services(db: Database) -> Services:
    return Services.for_database(db)


@pytest.fixture
def staff(services: Services) -> Staff:
    pw = Staff.password
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password=pw("admin"))

    def make(username: str, full_name: str, role: Role) -> User:
        return services.users.create_user(actor=admin, username=username, full_name=full_name,
                                          role=role, password=pw(username))

    return Staff(
        admin=admin,
        nurse=make("nurse1", "Nia Nurse", Role.NURSE),
        nurse2=make("nurse2", "Ned Nurse", Role.NURSE),
        prescriber=make("doc1", "Dr Pia Prescriber", Role.PRESCRIBER),
    )


@pytest.fixture
def patient(services: Services, staff: Staff) -> Patient:
    """A synthetic patient (invented name, DEMO-style MRN)."""
    form = PatientForm(mrn="T-0001", given_name="Alex", family_name="Testperson",
                       date_of_birth=date(1980, 5, 17), sex="female", indication="trd")
    return services.patients.create(actor=staff.nurse, form=form)


@pytest.fixture
def course(services: Services, staff: Staff, patient: Patient) -> Course:
    return services.courses.start_course(actor=staff.nurse, patient_id=patient.id,
                                         kind="induction", planned_sessions=6,
                                         started_on=START.date())


@pytest.fixture
def planned(services: Services, staff: Staff, course: Course) -> TreatmentSession:
    """A planned IV session: 80 kg, 0.5 mg/kg (40 mg) at 0.4 mg/mL over 40 minutes."""
    dose = DoseForm(route="iv", drug="ketamine", weight=80, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.4, duration_min=40)
    return services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                          planned_start=START, dose=dose,
                                          prescriber_id=staff.prescriber.id)


ALL_CHECKS_PRE = {c.value: True for c in e.PreSessionCheck}
ALL_CHECKS_DISCHARGE = {c.value: True for c in e.DischargeCheck}


def _run_whole_session(services, staff, planned, clock):
    nurse, sid = staff.nurse, planned.id
    sv, en = services.sessions, services.entries
    sv.set_checklist(actor=nurse, session_id=sid, which="pre", items=ALL_CHECKS_PRE)
    sv.set_controlled_substance(actor=nurse, session_id=sid, lot_number="LOT-42",
                                amount_drawn_mg=50, amount_wasted_mg=10,
                                witness_id=staff.nurse2.id)
    baseline = en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
        hr=72, systolic=128, diastolic=82, spo2=98, rr=14), rhythm="sinus rhythm")
    assert baseline.reading.predose and baseline.alerts == ()
    clock.advance(minutes=5)
    sv.record_pump_event(actor=nurse, session_id=sid, kind="start", rate_ml_per_h=150)
    clock.advance(minutes=30)
    peak = en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
        hr=88, systolic=182, diastolic=100, spo2=97, rr=14))
    assert [a.rule for a in peak.alerts] == ["systolic_high"]
    en.acknowledge_alert(actor=nurse, alert_id=peak.alerts[0].id, action="slowed",
                         note="rate halved, recheck in 5 min")
    sv.record_pump_event(actor=nurse, session_id=sid, kind="rate_change", rate_ml_per_h=75,
                         reason="BP rise")
    effect = en.record_side_effect(actor=nurse, session_id=sid, kind="nausea",
                                   severity="mild")
    en.record_intervention(actor=nurse, session_id=sid, kind="medication", drug="ondansetron",
                           dose=4, dose_unit="mg", route="IV", reason="nausea",
                           side_effect_id=effect.entry.id)
    en.record_dissociation(actor=nurse, session_id=sid, intensity=6, valence="pleasant",
                           descriptors=["floating", "altered_time"],
                           patient_words="like drifting on warm water")
    clock.advance(minutes=10)
    delivery = sv.record_pump_event(actor=nurse, session_id=sid, kind="stop")
    # 150 mL/h for 30 min + 75 mL/h for 10 min = 75 + 12.5 = 87.5 mL at 0.4 mg/mL = 35 mg
    assert delivery.volume_ml == pytest.approx(87.5)
    assert delivery.dose_mg == pytest.approx(35.0)
    clock.advance(minutes=15)
    en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
        hr=74, systolic=134, diastolic=84, spo2=98, rr=14))
    sv.set_checklist(actor=nurse, session_id=sid, which="discharge", items=ALL_CHECKS_DISCHARGE)
    clock.advance(minutes=20)
    sv.mark_ready_to_leave(actor=nurse, session_id=sid)
    clock.advance(minutes=5)
    return sv.mark_left(actor=nurse, session_id=sid)


@pytest.fixture
def whole_session(services: Services, staff: Staff, clock: FixedClock):
    """Runs a planned IV session from checklist to patient left, as a nurse would."""
    return lambda planned: _run_whole_session(services, staff, planned, clock)


@pytest.fixture
def encrypted_clinic(tmp_path: Path) -> tuple[Path, str]:
    """An encrypted clinic file, closed, with an administrator (admin / admin-pass-1) and a
    nurse (nurse1 / nurse-pass-1); and its recovery key. Key derivation at its cheapest
    (the real default is slow on purpose)."""
    from kapp.services import vault

    path = tmp_path / "clinic.db"
    made = vault.create_clinic(path, kdf=KdfParams(time_cost=1, memory_cost=1024,
                                                   parallelism=1))
    services = Services.for_database(made.database, made.keyring)
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin",
                                              password="admin-pass-1")
    services.users.create_user(actor=admin, username="nurse1", full_name="Nia Nurse",
                               role=Role.NURSE, password="nurse-pass-1")
    made.database.dispose()
    return path, made.recovery_key
