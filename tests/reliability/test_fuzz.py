"""Bad input, fuzzed: hostile values at every service that accepts input.

The only exceptions allowed out are kapp's own (ValidationError, and for a locked or
missing record RecordLocked / NotFound / Conflict), and a refused call leaves the
database's content unchanged (a digest of every row of every table, before and after).
Examples per service: KAPP_FUZZ_EXAMPLES (default 25); the figure in docs/reliability.md
was measured with a larger number.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kapp.devtools.checks import content_digest
from kapp.domain.errors import KappError, PermissionDenied, StorageUnavailable
from kapp.domain.vitals import VitalsInput
from kapp.services.backups import BackupSettings
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm

EXAMPLES = int(os.environ.get("KAPP_FUZZ_EXAMPLES", "25"))
# No shrinking: a failure prints its drawn values, and shrinking a stateful service
# call can take many minutes.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
TRIED = {"examples": 0}

CONTROL = "".join(chr(c) for c in range(0, 32)) + "\x7f\u200b\u202e\ufeff"
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL, max_size=10),
    st.sampled_from(["", " ", "\t\n", "１２０", "３６，８", "36,8", "٣٦", "NaN", "inf", "-0",
                     "1e309", "' OR 1=1 --", "\x00", "Robert'); DROP TABLE patients;--"]),
    st.integers(100_000, 100_001).map(lambda n: "x" * n),  # very long text
)
hostile_number = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 10**400 if False else 10**20, float("nan"), float("inf"),
                     -float("inf"), True, False, 1e-320, -0.0]),
)
aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)),
                                                timezone(timedelta(hours=-12))]))
hostile_time = st.one_of(
    aware, st.datetimes(), st.dates(),
    st.sampled_from([datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)]),
)
anything = st.one_of(st.none(), st.booleans(), hostile_number, hostile_text, hostile_time,
                     st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                          st.integers(),
                                                                          max_size=3),
                     st.binary(max_size=8), st.builds(uuid.uuid4))


hashable = st.one_of(st.none(), st.booleans(), hostile_number, hostile_text, hostile_time,
                     st.builds(uuid.uuid4))


def hostile_key(*valid: Any) -> st.SearchStrategy[Any]:
    return st.one_of(hashable, st.sampled_from(valid))


def hostile(*valid: Any) -> st.SearchStrategy[Any]:
    """Anything at all, with some valid values mixed in so deeper checks are reached."""
    return st.one_of(anything, st.sampled_from(valid)) if valid else anything


def run_refused_or_done(db, call: Callable[[], Any]) -> None:
    TRIED["examples"] += 1
    before = content_digest(db.engine)
    try:
        call()
    except KappError as exc:
        assert not isinstance(exc, StorageUnavailable | PermissionDenied), exc
        assert str(exc)  # a message for the user
        assert content_digest(db.engine) == before, f"refused but changed: {exc}"


@pytest.fixture
def world(services, staff, patient, course, planned, clock):
    clock.advance(minutes=1)
    return services, staff, patient, course, planned


@FUZZ
@given(data=st.data())
def test_vitals(world, db, data) -> None:
    services, staff, _, _, planned = world
    values = VitalsInput(**{k: data.draw(hostile(70, 120, None), label=k) for k in (
        "hr", "systolic", "diastolic", "spo2", "rr", "temperature_c", "etco2_mmhg")})
    run_refused_or_done(db, lambda: services.entries.record_vitals(
        actor=staff.nurse, session_id=planned.id, values=values,
        taken_at=data.draw(hostile(None)), rhythm=data.draw(hostile(None, "sinus")),
        source=data.draw(hostile("manual")), device_id=data.draw(hostile(None))))


@FUZZ
@given(data=st.data())
def test_side_effects_and_interventions(world, db, data) -> None:
    services, staff, _, _, planned = world
    run_refused_or_done(db, lambda: services.entries.record_side_effect(
        actor=staff.nurse, session_id=planned.id, kind=data.draw(hostile("nausea", "other")),
        severity=data.draw(hostile("mild")), onset_at=data.draw(hostile(None)),
        serious=data.draw(hostile(False)), description=data.draw(hostile("")),
        notes=data.draw(hostile(""))))
    run_refused_or_done(db, lambda: services.entries.record_intervention(
        actor=staff.nurse, session_id=planned.id, kind=data.draw(hostile("medication")),
        reason=data.draw(hostile("nausea")), given_at=data.draw(hostile(None)),
        drug=data.draw(hostile("ondansetron")), dose=data.draw(hostile(4)),
        dose_unit=data.draw(hostile("mg")), route=data.draw(hostile("IV")),
        side_effect_id=data.draw(hostile(None)), alert_id=data.draw(hostile(None))))


@FUZZ
@given(data=st.data())
def test_dissociation_and_moaas(world, db, data) -> None:
    services, staff, _, _, planned = world
    run_refused_or_done(db, lambda: services.entries.record_dissociation(
        actor=staff.nurse, session_id=planned.id, intensity=data.draw(hostile(5)),
        valence=data.draw(hostile("pleasant")),
        descriptors=data.draw(st.lists(hostile("floating"), max_size=3)),
        patient_words=data.draw(hostile("")), observation=data.draw(hostile("")),
        reported_at=data.draw(hostile(None))))
    run_refused_or_done(db, lambda: services.sessions.set_moaas(
        actor=staff.nurse, session_id=planned.id, score=data.draw(hostile(4))))


@FUZZ
@given(data=st.data())
def test_pump_and_session_steps(world, db, data) -> None:
    services, staff, _, _, planned = world
    sv = services.sessions
    run_refused_or_done(db, lambda: sv.record_pump_event(
        actor=staff.nurse, session_id=planned.id, kind=data.draw(hostile("start", "pause")),
        at=data.draw(hostile(None)), rate_ml_per_h=data.draw(hostile(150)),
        reason=data.draw(hostile(None, "BP"))))
    run_refused_or_done(db, lambda: sv.set_checklist(
        actor=staff.nurse, session_id=planned.id, which=data.draw(hostile("pre")),
        items=data.draw(st.dictionaries(hostile_key("consent"), hostile(True), max_size=3))))
    run_refused_or_done(db, lambda: sv.set_controlled_substance(
        actor=staff.nurse, session_id=planned.id, lot_number=data.draw(hostile("LOT-1")),
        amount_drawn_mg=data.draw(hostile(50)), amount_wasted_mg=data.draw(hostile(10)),
        witness_id=data.draw(hostile(None, staff.nurse2.id))))


@FUZZ
@given(data=st.data())
def test_discharge_abort(world, db, data) -> None:
    services, staff, _, _, planned = world
    sv = services.sessions
    run_refused_or_done(db, lambda: sv.mark_ready_to_leave(
        actor=staff.nurse, session_id=planned.id, at=data.draw(hostile(None))))
    run_refused_or_done(db, lambda: sv.abort(actor=staff.nurse, session_id=planned.id,
                                             reason=data.draw(hostile(""))))


@FUZZ
@given(data=st.data())
def test_notes_scores_addenda_strikes(world, db, data) -> None:
    services, staff, patient, course, planned = world
    rec = services.records
    run_refused_or_done(db, lambda: rec.add_note(
        actor=staff.nurse, patient_id=patient.id, text=data.draw(hostile("Calm")),
        session_id=data.draw(hostile(None, planned.id)),
        written_at=data.draw(hostile(None))))
    answers = data.draw(st.one_of(
        st.dictionaries(hostile_key(1, 2, 3), hostile(0, 1, 2), max_size=12),
        st.just({i: 1 for i in range(1, 10)})))
    run_refused_or_done(db, lambda: rec.record_instrument(
        actor=staff.nurse, patient_id=patient.id, instrument=data.draw(hostile("phq9")),
        answers=answers, time_point=data.draw(hostile("baseline")),
        session_id=data.draw(hostile(None)), course_id=data.draw(hostile(None, course.id)),
        taken_at=data.draw(hostile(None))))
    run_refused_or_done(db, lambda: rec.add_addendum(
        actor=staff.nurse, session_id=planned.id, text=data.draw(hostile("x")),
        password=data.draw(hostile("nurse1-correct-horse"))))
    run_refused_or_done(db, lambda: rec.strike(
        actor=staff.nurse, table=data.draw(hostile("notes")), entry_id=data.draw(hostile()),
        reason=data.draw(hostile("typo"))))


def _patient_form(data) -> PatientForm:
    return PatientForm(
        mrn=data.draw(hostile("T-0099")), given_name=data.draw(hostile("Ana")),
        family_name=data.draw(hostile("Example")),
        date_of_birth=data.draw(hostile(date(1980, 1, 1))), sex=data.draw(hostile("female")),
        indication=data.draw(hostile("trd")), allergies=data.draw(hostile("")),
        contraindications=data.draw(st.dictionaries(hostile_key("psychosis"), hostile("no"),
                                                    max_size=2)),
        medication_flags=tuple(data.draw(st.lists(hostile("maoi"), max_size=2))),
        current_medications=data.draw(hostile("")), notes=data.draw(hostile("")))


@FUZZ
@given(data=st.data())
def test_patients_and_courses(world, db, data) -> None:
    services, staff, patient, course, _ = world
    run_refused_or_done(db, lambda: services.patients.create(actor=staff.nurse,
                                                            form=_patient_form(data)))
    run_refused_or_done(db, lambda: services.patients.update(
        actor=staff.nurse, patient_id=patient.id, form=_patient_form(data),
        expected_version=data.draw(hostile(1))))
    run_refused_or_done(db, lambda: services.courses.start_course(
        actor=staff.nurse, patient_id=patient.id, kind=data.draw(hostile("induction")),
        planned_sessions=data.draw(hostile(6)), started_on=data.draw(hostile(date(2026, 3, 1))),
        notes=data.draw(hostile(""))))
    run_refused_or_done(db, lambda: services.courses.end_course(
        actor=staff.nurse, course_id=course.id, ended_on=data.draw(hostile(date(2026, 4, 1)))))


@FUZZ
@given(data=st.data())
def test_planning_a_dose(world, db, data) -> None:
    services, staff, _, course, planned = world
    dose = DoseForm(route=data.draw(hostile("iv")), drug=data.draw(hostile("ketamine")),
                    weight=data.draw(hostile(80)), weight_unit=data.draw(hostile("kg", "lb")),
                    mg_per_kg=data.draw(hostile(0.5, None)), dose_mg=data.draw(hostile(None)),
                    concentration_mg_per_ml=data.draw(hostile(0.4)),
                    duration_min=data.draw(hostile(40)),
                    override_reason=data.draw(hostile(None)),
                    verified_by=data.draw(hostile(None, staff.prescriber.id)))
    run_refused_or_done(db, lambda: services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=data.draw(
            hostile(planned.planned_start)), dose=dose))
    run_refused_or_done(db, lambda: services.sessions.set_dose(
        actor=staff.nurse, session_id=planned.id, dose=dose))


@FUZZ
@given(data=st.data())
def test_accounts_protocol_backup_settings(world, db, data) -> None:
    services, staff, *_ = world
    run_refused_or_done(db, lambda: services.users.create_user(
        actor=staff.admin, username=data.draw(hostile("nurse9")),
        full_name=data.draw(hostile("Nia")), role=data.draw(hostile("nurse")),
        password=data.draw(hostile("a long enough password"))))
    key = data.draw(hostile_key("alert_hr_at_or_above", "predose_warn_systolic"))
    run_refused_or_done(db, lambda: services.protocol.update(
        actor=staff.prescriber, values={key: data.draw(hostile(180))},
        reason=data.draw(hostile("new guideline"))))
    run_refused_or_done(db, lambda: services.backups.update_settings(
        actor=staff.admin, settings=BackupSettings(
            folder=data.draw(hostile("")), daily=data.draw(hostile(7)),
            weekly=data.draw(hostile(4)), monthly=data.draw(hostile(12)),
            on_close=data.draw(hostile(True)), every_day=data.draw(hostile(True)))))


@FUZZ
@given(data=st.data())
def test_drafts(world, db, data) -> None:
    services, staff, *_ = world
    content = data.draw(st.one_of(hostile(), st.dictionaries(
        st.text(max_size=5), hostile("typed"), max_size=3)))
    run_refused_or_done(db, lambda: services.drafts.save(
        actor=staff.nurse, form_key=data.draw(hostile("note:1")), content=content))


def test_zz_examples_tried() -> None:
    """Leaves the count of examples in the output (-rA shows it)."""
    print(f"fuzz examples tried: {TRIED['examples']}")
