"""Shared fixtures: a migrated template database made once, copied for each test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kapp.domain.clock import FixedClock
from kapp.domain.entities import Course, Patient, TreatmentSession, User
from kapp.domain.enums import Role
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm
from kapp.storage.database import Database, open_database
from kapp.storage.engine import sqlite_url

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    opened = open_database(sqlite_url(path))
    Services.for_database(opened.database).protocol.ensure_defaults()
    opened.database.dispose()
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "kapp.db"
    shutil.copyfile(template_db, path)
    return path


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def db(db_path: Path, clock: FixedClock) -> Iterator[Database]:
    database = open_database(sqlite_url(db_path), clock=clock).database
    yield database
    database.dispose()


@dataclass(frozen=True)
class Staff:
    admin: User
    nurse: User
    nurse2: User
    prescriber: User


@pytest.fixture
def services(db: Database) -> Services:
    return Services.for_database(db)


@pytest.fixture
def staff(services: Services) -> Staff:
    admin = services.users.create_first_admin(username="admin", full_name="Ada Admin")
    make = services.users.create_user
    return Staff(
        admin=admin,
        nurse=make(actor=admin, username="nurse1", full_name="Nia Nurse", role=Role.NURSE),
        nurse2=make(actor=admin, username="nurse2", full_name="Ned Nurse", role=Role.NURSE),
        prescriber=make(actor=admin, username="doc1", full_name="Dr Pia Prescriber",
                        role=Role.PRESCRIBER),
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
