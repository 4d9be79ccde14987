"""The synthetic demo clinic: deterministic, plausible, audited and internally consistent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import enums as e
from kapp.domain.clock import FixedClock
from kapp.domain.dosing import KG_PER_LB
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import VitalsInput, vitals_problems
from kapp.services.demo import DemoSummary, write_demo_clinic
from kapp.storage import models as m
from kapp.storage.audit import ChainBreak, verify_chain
from kapp.storage.database import Database, open_database
from kapp.storage.engine import sqlite_url

TODAY = date(2026, 3, 2)
PATIENTS = 16


def make_db(path: Path) -> Database:
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    return open_database(sqlite_url(path), clock=clock).database


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, DemoSummary]]:
    db = make_db(tmp_path_factory.mktemp("demo") / "clinic.db")
    seen: list[tuple[int, int]] = []
    summary = write_demo_clinic(
        db, patients=PATIENTS, seed=1, today=TODAY, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[0] == (0, PATIENTS) and seen[-1] == (PATIENTS, PATIENTS)
    yield db, summary
    db.dispose()


@pytest.fixture
def session(clinic: tuple[Database, DemoSummary]) -> Iterator[OrmSession]:
    with clinic[0].reading() as s:
        yield s


def rows(s: OrmSession, model: type) -> list:
    return list(s.execute(sa.select(model)).scalars())


def count(s: OrmSession, model: type) -> int:
    return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def fingerprint(db: Database) -> tuple:
    with db.reading() as s:
        patients = s.execute(
            sa.select(m.Patient.id, m.Patient.mrn, m.Patient.given_name, m.Patient.family_name)
            .order_by(m.Patient.mrn)
        ).all()
        sessions = s.execute(sa.select(m.Session.id).order_by(m.Session.id)).scalars().all()
        vitals = s.execute(
            sa.select(m.VitalsReading.id, m.VitalsReading.systolic).order_by(m.VitalsReading.id)
        ).all()
    return tuple(patients), tuple(sessions), tuple(vitals)


def test_same_seed_same_clinic_and_another_seed_another(tmp_path: Path) -> None:
    made = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        db = make_db(tmp_path / f"{name}.db")
        summary = write_demo_clinic(db, patients=6, seed=seed, today=TODAY)
        made[name] = (summary, fingerprint(db))
        db.dispose()
    assert made["a"] == made["b"]
    assert made["a"][1][0][0][1] == "DEMO-000001"
    assert made["a"][1][0] != made["c"][1][0]
    assert made["a"][1][1] != made["c"][1][1]


def test_summary_counts_match_the_database(
    clinic: tuple[Database, DemoSummary], session: OrmSession
) -> None:
    summary = clinic[1]
    assert summary.patients == count(session, m.Patient) == PATIENTS
    assert summary.courses == count(session, m.Course)
    assert summary.sessions == count(session, m.Session)
    assert summary.vitals == count(session, m.VitalsReading)
    assert summary.side_effects == count(session, m.SideEffect)
    assert summary.interventions == count(session, m.Intervention)
    assert summary.dissociation_reports == count(session, m.DissociationReport)
    assert summary.instrument_responses == count(session, m.InstrumentResponse)
    assert summary.alerts == count(session, m.Alert)
    assert summary.audit_entries == count(session, m.AuditEntry)
    assert summary.users == 4
    mrns = session.execute(sa.select(m.Patient.mrn)).scalars().all()
    assert all(mrn.startswith("DEMO-") for mrn in mrns)


def test_staff_and_protocol_settings(session: OrmSession) -> None:
    roles = {u.username: u.role for u in rows(session, m.User)}
    assert roles == {
        "nurse1": e.Role.NURSE, "nurse2": e.Role.NURSE,
        "prescriber1": e.Role.PRESCRIBER, "admin": e.Role.ADMIN,
    }
    keys = set(session.execute(sa.select(m.ProtocolSetting.key)).scalars())
    assert keys == set(Protocol.keys())


def test_refuses_a_second_demo_in_the_same_database(
    clinic: tuple[Database, DemoSummary],
) -> None:
    with pytest.raises(ValueError, match="already holds demo patients"):
        write_demo_clinic(clinic[0], patients=2, today=TODAY)


def test_every_vitals_reading_is_plausible(session: OrmSession) -> None:
    protocol = Protocol()
    readings = rows(session, m.VitalsReading)
    assert readings
    for r in readings:
        values = VitalsInput(hr=r.hr, systolic=r.systolic, diastolic=r.diastolic, spo2=r.spo2,
                             rr=r.rr)
        assert vitals_problems(values, protocol) == [], r
        assert r.diastolic < r.systolic
        assert r.rhythm == "sinus rhythm" and r.source is e.VitalsSource.MANUAL
    per_session = Counter(r.session_id for r in readings if r.predose)
    assert set(per_session.values()) == {1}  # one pre-dose baseline per session that began


def test_audit_chain_verifies_and_covers_every_row(
    clinic: tuple[Database, DemoSummary], session: OrmSession
) -> None:
    results = list(verify_chain(session))
    assert not [r for r in results if isinstance(r, ChainBreak)]
    assert results[-1] == clinic[1].audit_entries
    created = Counter(
        session.execute(
            sa.select(m.AuditEntry.entity).where(m.AuditEntry.action == "demo.create")
        ).scalars()
    )
    for model in (m.Patient, m.Course, m.Session, m.VitalsReading, m.InfusionEvent, m.Alert,
                  m.SideEffect, m.Intervention, m.DissociationReport, m.InstrumentResponse,
                  m.Note):
        assert created[model.__tablename__] == count(session, model), model.__tablename__
    signed = session.execute(
        sa.select(sa.func.count()).where(m.Session.signed_at.is_not(None))
    ).scalar_one()
    signs = session.execute(
        sa.select(sa.func.count()).where(m.AuditEntry.action == "demo.sign")
    ).scalar_one()
    assert signed == signs > 0


def test_sessions_are_consistent(session: OrmSession) -> None:
    sessions = rows(session, m.Session)
    statuses = Counter(s.status for s in sessions)
    assert statuses[e.SessionStatus.COMPLETED] > statuses[e.SessionStatus.PLANNED] > 0
    starts = {
        ev.session_id: ev.rate_ml_per_h
        for ev in rows(session, m.InfusionEvent)
        if ev.kind is e.InfusionEventKind.START
    }
    devices: dict[object, list[m.NasalDevice]] = {}
    for d in rows(session, m.NasalDevice):
        devices.setdefault(d.session_id, []).append(d)
    for s in sessions:
        if s.status is e.SessionStatus.PLANNED:
            assert s.planned_start.date() >= TODAY and s.actual_start is None
            continue
        assert s.planned_start.date() < TODAY and s.weight_kg is not None
        if s.weight_unit is e.WeightUnit.LB:
            assert s.weight_kg == pytest.approx(s.weight_entered * KG_PER_LB, abs=0.01)
        if s.actual_start is None:  # not started: blood pressure at the hold level
            assert s.status is e.SessionStatus.ABORTED and "hold" in (s.abort_reason or "")
            continue
        assert s.actual_start < s.infusion_ended_at < s.ready_to_leave_at < s.left_at
        assert s.pre_checklist and all(s.pre_checklist.values())
        if s.signed_at is not None:
            assert s.signed_by_id is not None and s.signature_meaning == "reviewed and signed"
        if s.route is e.Route.IV:
            assert s.dose_mg == pytest.approx(s.dose_mg_per_kg * s.weight_kg, abs=0.06)
            assert 0.1 <= s.dose_mg_per_kg <= 1.0
            rate = s.volume_ml / (s.duration_min / 60)
            assert starts[s.id] == pytest.approx(rate, abs=0.06)
        else:
            assert s.drug is e.Drug.ESKETAMINE and s.dose_mg in (56, 84)
            observed = (s.ready_to_leave_at - s.actual_start).total_seconds() / 60
            assert observed >= 120
            given = sorted(devices[s.id], key=lambda d: d.given_at)  # each device recorded
            assert sum(d.device_mg for d in given) == s.dose_mg
            assert given[0].given_at == s.actual_start
            assert given[-1].given_at == s.infusion_ended_at


def test_alerts_side_effects_and_interventions(session: OrmSession) -> None:
    alerts = rows(session, m.Alert)
    assert any(a.severity is e.AlertSeverity.ALERT for a in alerts)
    for a in alerts:
        assert a.acknowledged_by_id is not None and a.action is not None
        assert a.raised_at < a.acknowledged_at
    effects = rows(session, m.SideEffect)
    assert effects
    assert all(se.resolved_at is None or se.onset_at < se.resolved_at for se in effects)
    linked = [i for i in rows(session, m.Intervention) if i.side_effect_id is not None]
    assert linked
    ids = {se.id for se in effects}
    assert all(i.side_effect_id in ids and i.given_by_id is not None for i in linked)


def test_dissociation_varies_between_people_and_sessions(session: OrmSession) -> None:
    reports = rows(session, m.DissociationReport)
    intensities = {r.intensity for r in reports}
    assert len(intensities) >= 5
    allowed = {d.value for d in e.DissociationDescriptor}
    assert all(set(r.descriptors) <= allowed for r in reports)
    by_session: dict = {}
    for r in reports:
        by_session.setdefault(r.session_id, []).append(r.intensity)
    peaks = {max(v) for v in by_session.values()}
    assert len(peaks) >= 4


def test_responders_fall_by_half_over_induction(
    clinic: tuple[Database, DemoSummary], session: OrmSession
) -> None:
    finished = session.execute(
        sa.select(m.Course, m.Patient.indication)
        .join(m.Patient, m.Patient.id == m.Course.patient_id)
        .where(m.Course.kind == e.CourseKind.INDUCTION, m.Course.ended_on.is_not(None))
    ).all()
    responders = remitters = 0
    for course, indication in finished:
        phq9 = session.execute(
            sa.select(m.InstrumentResponse)
            .where(m.InstrumentResponse.course_id == course.id,
                   m.InstrumentResponse.instrument == "phq9")
            .order_by(m.InstrumentResponse.taken_at)
        ).scalars().all()
        assert phq9[0].time_point is e.TimePoint.BASELINE
        assert course.baseline_scores["phq9"] == phq9[0].total
        for r in phq9:
            assert sum(r.answers.values()) == r.total
            assert ("item9_positive" in r.flags) == (r.answers["9"] > 0)
        if indication in (e.Indication.TRD, e.Indication.DEPRESSION_SI):
            responders += phq9[-1].total <= phq9[0].total * 0.5
            remitters += phq9[-1].total < 5
    summary = clinic[1]
    assert responders == summary.responders > 0
    assert remitters == summary.remitters


def test_database_integrity(clinic: tuple[Database, DemoSummary]) -> None:
    with clinic[0].engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def test_a_long_term_patient_has_about_two_hundred_sessions() -> None:
    import random

    from kapp.services.demo_plan import HISTORY_DAYS, make_courses, make_traits

    rng = random.Random(3)
    traits = make_traits(rng)
    first = TODAY - timedelta(days=HISTORY_DAYS)
    courses = make_courses(rng, traits, first, TODAY, long_term=True)
    visits = sum(len(c.dates) for c in courses)
    # weekly-ish (5-9 days, weekends skipped) for four years after a six-visit induction
    assert 170 <= visits <= 260
    assert [c.kind for c in courses][:2] == [e.CourseKind.INDUCTION, e.CourseKind.MAINTENANCE]


def test_protocol_settings_for_the_demo_clinic_shape_its_sessions(tmp_path: Path) -> None:
    db = make_db(tmp_path / "dense.db")
    try:
        summary = write_demo_clinic(db, patients=3, seed=2, today=TODAY,
                                    protocol={"vitals_interval_infusion_min": 3})
        with db.reading() as s:
            stored = s.execute(sa.select(m.ProtocolSetting.value).where(
                m.ProtocolSetting.key == "vitals_interval_infusion_min")).scalar_one()
        assert stored == 3
        sparse = make_db(tmp_path / "sparse.db")
        try:
            default = write_demo_clinic(sparse, patients=3, seed=2, today=TODAY)
        finally:
            sparse.dispose()
        assert summary.sessions == default.sessions
        assert summary.vitals > 1.5 * default.vitals
    finally:
        db.dispose()


@pytest.mark.parametrize("settings, words", [
    ({"no_such_setting": 1}, "unknown protocol setting"),
    ({"vitals_interval_infusion_min": 0}, "Vitals every, during infusion"),
])
def test_bad_protocol_settings_are_refused_before_anything_is_written(
        tmp_path: Path, settings: dict, words: str) -> None:
    db = make_db(tmp_path / "x.db")
    try:
        with pytest.raises(ValueError, match=words):
            write_demo_clinic(db, patients=2, seed=1, today=TODAY, protocol=settings)
        with db.reading() as s:
            assert count(s, m.Patient) == 0
    finally:
        db.dispose()
