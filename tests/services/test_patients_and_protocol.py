"""Patients, courses, scores and the protocol through the services."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from kapp.domain.errors import Conflict, PermissionDenied, ValidationError
from kapp.domain.protocol import Protocol
from kapp.services.patients import PatientForm

FORM = PatientForm(mrn="T-0100", given_name="Jordan", family_name="Fictional",
                   date_of_birth=date(1990, 2, 3), sex="male", indication="crps",
                   contraindications={"pregnancy": "no", "active_psychosis": "no"},
                   medication_flags=("opioid",))


def test_create_search_and_edit_a_patient(services, staff):
    created = services.patients.create(actor=staff.nurse, form=FORM)
    assert created.version == 1 and created.medication_flags == ("opioid",)
    assert [p.mrn for p in services.patients.search("fict")] == ["T-0100"]
    assert [p.mrn for p in services.patients.search("t-01")] == ["T-0100"]
    assert [p.mrn for p in services.patients.search("1990-02-03")] == ["T-0100"]
    assert [p.mrn for p in services.patients.search("03/02/1990")] == ["T-0100"]
    assert services.patients.search("jordan nobody") == []
    edited = services.patients.update(actor=staff.nurse, patient_id=created.id,
                                      form=replace(FORM, allergies="latex"),
                                      expected_version=1)
    assert edited.allergies == "latex" and edited.version == 2


def test_find_reads_one_page_and_says_whether_more_match(services, staff, db):
    for n, family in enumerate(["Moss", "Moor", "Mill", "Oak"]):
        services.patients.create(actor=staff.nurse, form=replace(
            FORM, mrn=f"T-02{n}", family_name=family))
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda *args: args[2] != "BEGIN" and statements.append(args[2]))
    page = services.patients.find("m", limit=2)
    assert [p.family_name for p in page.patients] == ["Mill", "Moor"] and page.more
    # One query: the page (limit + 1 rows, no count of every match) with its figures.
    assert len(statements) == 1 and "LIMIT" in statements[0]
    assert "FROM patients" not in statements[0].split("LIMIT")[-1]
    whole = services.patients.find("m", limit=3)
    assert [p.family_name for p in whole.patients] == ["Mill", "Moor", "Moss"]
    assert not whole.more
    assert services.patients.search("m", limit=2) == list(page.patients)
    assert all(p.sessions_done == 0 and p.last_session_at is None for p in page.patients)
    assert services.patients.find("m", limit=0).patients == ()


def test_a_stale_edit_is_refused_not_merged(services, staff):
    created = services.patients.create(actor=staff.nurse, form=FORM)
    services.patients.update(actor=staff.nurse, patient_id=created.id,
                             form=replace(FORM, notes="first"), expected_version=1)
    with pytest.raises(Conflict):
        services.patients.update(actor=staff.nurse2, patient_id=created.id,
                                 form=replace(FORM, notes="second"), expected_version=1)
    assert services.patients.get(created.id).notes == "first"


def test_bad_patient_input_names_each_field(services, staff):
    bad = replace(FORM, mrn="  ", given_name="", date_of_birth=date(2999, 1, 1), sex="x")
    with pytest.raises(ValidationError) as caught:
        services.patients.create(actor=staff.nurse, form=bad)
    assert {"mrn", "given_name", "date_of_birth", "sex"} <= {e.field for e in caught.value.errors}
    assert services.patients.count() == 0


def test_mrn_is_unique(services, staff):
    services.patients.create(actor=staff.nurse, form=FORM)
    with pytest.raises(ValidationError, match="another patient"):
        services.patients.create(actor=staff.nurse, form=replace(FORM, given_name="Other"))


def test_an_administrator_records_no_clinical_data(services, staff):
    with pytest.raises(PermissionDenied):
        services.patients.create(actor=staff.admin, form=FORM)
    assert services.patients.count() == 0


def test_protocol_defaults_are_stored_and_editable_by_a_prescriber(services, staff):
    assert services.protocol.current() == Protocol()
    with pytest.raises(PermissionDenied):
        services.protocol.update(actor=staff.nurse, values={"alert_spo2_below": 90},
                                 reason="clinic decision")
    updated = services.protocol.update(actor=staff.prescriber,
                                       values={"alert_spo2_below": 90}, reason="clinic decision")
    assert updated.alert_spo2_below == 90
    assert services.protocol.current().alert_spo2_below == 90
    with pytest.raises(ValidationError, match="must not be above"):
        services.protocol.update(actor=staff.prescriber, values={"iv_min_dose_mg_per_kg": 1.5},
                                 reason="typo")


def test_alert_levels_follow_the_clinic_protocol(services, staff, planned):
    from kapp.domain.vitals import VitalsInput

    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id, kind="start",
                                        rate_ml_per_h=150)
    quiet = services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                           values=VitalsInput(spo2=91))
    assert [a.rule for a in quiet.alerts] == ["spo2_low"]
    services.protocol.update(actor=staff.prescriber, values={"alert_spo2_below": 90},
                             reason="clinic decision")
    again = services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                           values=VitalsInput(spo2=91))
    assert again.alerts == ()


def test_baseline_score_sets_the_course_baseline_and_item9_is_flagged(
        services, staff, patient, course):
    answers = {1: 3, 2: 3, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 1, 9: 1}
    result = services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                                instrument="phq9", answers=answers,
                                                time_point="baseline", course_id=course.id)
    assert result.total == 18 and "item9_positive" in result.flags
    assert services.courses.get(course.id).baseline_scores == {"phq9": 18}
    with pytest.raises(ValidationError) as caught:
        services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                           instrument="phq9", answers={1: 7},
                                           time_point="pre_session")
    assert any(err.field.startswith("item_") for err in caught.value.errors)


def test_a_sessions_scores_are_read_apart_from_the_patients_others(
        services, staff, patient, course, planned):
    record = services.records.record_instrument
    record(actor=staff.nurse, patient_id=patient.id, instrument="phq9",
           answers={n: 2 for n in range(1, 10)}, time_point="baseline", course_id=course.id)
    in_session = record(actor=staff.nurse, patient_id=patient.id, instrument="gad7",
                        answers={n: 1 for n in range(1, 8)}, time_point="pre_session",
                        session_id=planned.id)
    scores = services.records.scores_for_patient
    assert {r.instrument for r in scores(patient.id)} == {"phq9", "gad7"}
    assert scores(patient.id, session_id=planned.id) == [in_session]
    assert scores(patient.id, "phq9", session_id=planned.id) == []


def test_found_patients_carry_their_sessions_done_and_last_session(
        services, staff, patient, planned, whole_session):
    nobody = services.patients.create(actor=staff.nurse, form=replace(FORM, mrn="T-0300"))
    before = {p.mrn: (p.sessions_done, p.last_session_at) for p in services.patients.search("")}
    assert before == {"T-0001": (0, None), "T-0300": (0, None)}  # planned: not started
    left = whole_session(planned)
    found = {p.mrn: p for p in services.patients.find("").patients}
    assert found["T-0001"].sessions_done == 1
    assert found["T-0001"].last_session_at == left.actual_start
    assert (found[nobody.mrn].sessions_done, found[nobody.mrn].last_session_at) == (0, None)
