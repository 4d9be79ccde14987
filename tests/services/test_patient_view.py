"""The patient page's reads: flags, course summaries, session history with names."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kapp.domain import enums as e
from kapp.services.patient_view import FlagKind, FlagLevel
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm
from tests.conftest import START

PHQ9_ITEM9 = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 2}
PHQ9_CLEAR = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0}


def kinds(flags):
    return [f.kind for f in flags]


def form_of(patient, **changes) -> PatientForm:
    values = dict(mrn=patient.mrn, given_name=patient.given_name,
                  family_name=patient.family_name, date_of_birth=patient.date_of_birth,
                  sex=patient.sex, indication=patient.indication)
    values.update(changes)
    return PatientForm(**values)


def test_an_unscreened_patient_is_flagged_as_not_screened(services, patient):
    flags = services.patient_view.flags(patient.id)
    assert kinds(flags) == [FlagKind.NOT_SCREENED]
    assert flags[0].level is FlagLevel.WARNING


def test_screening_answers_and_medications_become_flags(services, staff, patient):
    form = form_of(patient, contraindications={"pregnancy": "yes", "active_psychosis": "no",
                                               "severe_liver_disease": "unknown"},
                   medication_flags=("maoi", "opioid"))
    services.patients.update(actor=staff.nurse, patient_id=patient.id, form=form,
                             expected_version=patient.version)
    flags = services.patient_view.flags(patient.id)
    assert [(f.kind, f.code, f.level) for f in flags] == [
        (FlagKind.CONTRAINDICATION, "pregnancy", FlagLevel.DANGER),
        (FlagKind.SCREENING_UNKNOWN, "severe_liver_disease", FlagLevel.WARNING),
        (FlagKind.MEDICATION, "maoi", FlagLevel.INFO),
        (FlagKind.MEDICATION, "opioid", FlagLevel.INFO),
    ]


def test_phq9_item9_counts_only_at_the_latest_phq9(services, staff, patient, clock):
    services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                       instrument="phq9", answers=PHQ9_ITEM9,
                                       time_point="baseline")
    flags = [f for f in services.patient_view.flags(patient.id)
             if f.kind is FlagKind.INSTRUMENT]
    assert [f.code for f in flags] == ["phq9.item9_positive"]
    assert flags[0].level is FlagLevel.DANGER
    assert "Item 9" in flags[0].message and flags[0].at == START
    clock.advance(days=7)
    services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                       instrument="phq9", answers=PHQ9_CLEAR,
                                       time_point="pre_session")
    assert FlagKind.INSTRUMENT not in kinds(services.patient_view.flags(patient.id))


def test_a_struck_score_raises_no_flag(services, staff, patient):
    result = services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                                instrument="phq9", answers=PHQ9_ITEM9,
                                                time_point="baseline")
    services.records.strike(actor=staff.nurse, table="instrument_responses",
                            entry_id=result.id, reason="entered for the wrong patient")
    assert FlagKind.INSTRUMENT not in kinds(services.patient_view.flags(patient.id))


def test_a_finished_unsigned_session_is_flagged_until_signed(services, staff, planned,
                                                             whole_session):
    overview = services.patient_view.overview(planned.patient_id)
    assert FlagKind.UNSIGNED_SESSION not in kinds(overview.flags)  # only planned so far
    whole_session(planned)
    flags = [f for f in services.patient_view.flags(planned.patient_id)
             if f.kind is FlagKind.UNSIGNED_SESSION]
    assert [(f.session_id, f.number_in_course, f.course_kind) for f in flags] == [
        (planned.id, 1, e.CourseKind.INDUCTION)]
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    assert FlagKind.UNSIGNED_SESSION not in kinds(
        services.patient_view.flags(planned.patient_id))


def test_a_session_in_the_chair_is_flagged(services, staff, planned):
    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                        kind="start", rate_ml_per_h=150)
    flags = services.patient_view.flags(planned.patient_id)
    assert [f.session_id for f in flags if f.kind is FlagKind.IN_CHAIR] == [planned.id]


def test_course_summaries_count_sessions_by_state(services, staff, course, planned,
                                                  whole_session, clock):
    whole_session(planned)
    clock.advance(days=2)
    dose = DoseForm(route="iv", drug="ketamine", weight=80, mg_per_kg=0.5,
                    concentration_mg_per_ml=1, duration_min=40)
    services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                   planned_start=clock.now(), dose=dose)
    later = services.courses.start_course(actor=staff.nurse, patient_id=course.patient_id,
                                          kind="maintenance", planned_sessions=3,
                                          started_on=START.date() + timedelta(days=30))
    summaries = services.patient_view.course_summaries(course.patient_id)
    assert [s.course.id for s in summaries] == [later.id, course.id]  # newest first
    induction = summaries[1]
    assert (induction.done, induction.planned, induction.in_chair) == (1, 1, 0)
    assert induction.last_session_at == START + timedelta(minutes=5)
    assert induction.is_open
    assert (summaries[0].done, summaries[0].planned, summaries[0].last_session_at) == (0, 0,
                                                                                         None)


def test_history_names_who_planned_and_who_signed(services, staff, course, planned,
                                                  whole_session, clock):
    whole_session(planned)
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    clock.advance(days=3)
    over = DoseForm(route="iv", drug="ketamine", weight=80, mg_per_kg=1.2,
                    concentration_mg_per_ml=1, duration_min=40,
                    override_reason="partial response at 1 mg/kg",
                    verified_by=staff.prescriber.id)
    second = services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                            planned_start=clock.now(), dose=over)
    rows = services.patient_view.session_history(course.patient_id)
    assert [r.session.id for r in rows] == [second.id, planned.id]  # newest first
    newest, first = rows
    assert first.signed_by_name == "Dr Pia Prescriber"
    assert first.nurse_name == "Nia Nurse" and first.prescriber_name == "Dr Pia Prescriber"
    assert first.course_kind is e.CourseKind.INDUCTION
    assert first.session.status is e.SessionStatus.COMPLETED
    assert newest.signed_by_name is None and newest.prescriber_name is None
    assert newest.verified_by_name == "Dr Pia Prescriber"
    assert newest.session.number_in_course == 2 and newest.session.dose_mg == 96


def test_clinicians_who_may_verify_a_dose_are_active_prescribers(services, staff):
    assert [u.username for u in services.patient_view.clinicians()] == ["doc1"]
    services.users.set_active(actor=staff.admin, user_id=staff.prescriber.id, active=False,
                              reason="left the clinic")
    assert services.patient_view.clinicians() == []


def test_overview_of_a_new_patient_is_empty_but_complete(services, patient):
    overview = services.patient_view.overview(patient.id)
    assert overview.patient == patient
    assert overview.courses == () and overview.sessions == () and overview.open_courses == ()


def test_edits_show_at_once(services, staff, patient):
    services.patients.update(actor=staff.nurse, patient_id=patient.id,
                             form=replace(form_of(patient), allergies="latex"),
                             expected_version=1)
    assert services.patient_view.overview(patient.id).patient.allergies == "latex"


def test_unknown_patient_is_not_found(services):
    import uuid

    from kapp.domain.errors import NotFound
    with pytest.raises(NotFound):
        services.patient_view.overview(uuid.uuid4())
