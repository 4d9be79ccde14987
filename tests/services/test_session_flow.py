"""A whole IV session through the services, as the GUI and the CLI will drive it."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import enums as e
from kapp.domain.errors import RecordLocked, ValidationError
from kapp.domain.vitals import VitalsInput
from kapp.services.sessions import DoseForm
from kapp.storage import models as m
from kapp.storage.audit import ChainBreak, verify_chain


def _audit_count(db) -> int:
    with db.reading() as s:
        return s.execute(sa.select(sa.func.count()).select_from(m.AuditEntry)).scalar_one()


def test_a_whole_session_is_recorded_signed_and_locked(services, staff, planned, whole_session):
    assert planned.dose_mg == 40 and planned.volume_ml == 100
    assert planned.status is e.SessionStatus.PLANNED
    done = whole_session(planned)
    assert done.status is e.SessionStatus.COMPLETED
    assert done.monitoring_minutes == pytest.approx(80)

    assert services.sessions.missing_for_signature(planned.id) == []
    signed = services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                                    password=staff.password(staff.prescriber))
    assert signed.signed_by_id == staff.prescriber.id
    assert signed.signature_meaning == "reviewed and signed"

    with pytest.raises(RecordLocked):
        services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                       values=VitalsInput(hr=70))
    with pytest.raises(RecordLocked):
        services.sessions.set_checklist(actor=staff.nurse, session_id=planned.id, which="pre",
                                        items={"fasting": False})
    addendum = services.records.add_addendum(actor=staff.nurse, session_id=planned.id,
                                             text="Patient phoned: home safely.",
                                             password=staff.password(staff.nurse))
    assert addendum.signed_by_id == staff.nurse.id

    with services.db.reading() as s:
        assert list(verify_chain(s))[-1] == _audit_count(services.db)


def test_signing_lists_what_is_missing_and_signs_nothing(services, staff, planned):
    with pytest.raises(ValidationError) as caught:
        services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                                    password=staff.password(staff.prescriber))
    text = str(caught.value)
    assert "pump start" in text and "lot number" in text and "baseline vitals" in text
    assert services.sessions.get(planned.id).signed_at is None


def test_a_nurse_may_not_sign(services, staff, planned, whole_session):
    from kapp.domain.errors import PermissionDenied

    whole_session(planned)
    before = _audit_count(services.db)
    with pytest.raises(PermissionDenied, match="may not sign"):
        services.sessions.sign(actor=staff.nurse, session_id=planned.id,
                                    password=staff.password(staff.nurse))
    assert _audit_count(services.db) == before


def test_every_mutation_writes_exactly_one_audit_entry_in_its_transaction(
        services, planned, whole_session):
    counts = []
    original, original_writing = services.db.unit_of_work, services.db.writing

    def counting():
        counts.append(_audit_count(services.db))
        return original()

    def counting_writing():  # the ORM-free write transaction (recording vitals)
        counts.append(_audit_count(services.db))
        return original_writing()

    services.db.unit_of_work = counting  # type: ignore[method-assign]
    services.db.writing = counting_writing  # type: ignore[method-assign]
    whole_session(planned)
    counts.append(_audit_count(services.db))
    steps = [b - a for a, b in pairwise(counts)]
    # one entry per mutation, plus one per alert raised (the 182 mmHg reading raised one)
    assert steps.count(1) == len(steps) - 1 and steps.count(2) == 1


def test_rejected_vitals_write_nothing_and_name_each_field(services, staff, planned, db):
    before = _audit_count(db)
    with pytest.raises(ValidationError) as caught:
        services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                       values=VitalsInput(hr=1200, systolic=110, diastolic=120,
                                                          spo2=float("nan")))
    fields = {err.field for err in caught.value.errors}
    assert {"hr", "diastolic", "spo2"} <= fields
    assert any("20" in err.message and "250" in err.message
               for err in caught.value.for_field("hr"))
    assert _audit_count(db) == before
    with db.reading() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(m.VitalsReading)).scalar() == 0


def test_dose_outside_protocol_needs_a_reason_and_a_prescriber(services, staff, course):
    big = DoseForm(route="iv", drug="ketamine", weight=80, mg_per_kg=1.2,
                   concentration_mg_per_ml=1, duration_min=40)
    with pytest.raises(ValidationError) as caught:
        services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                       planned_start=services.db.clock.now(), dose=big)
    assert {"override_reason", "verified_by"} <= {x.field for x in caught.value.errors}
    by_a_nurse = replace(big, override_reason="titration", verified_by=staff.nurse2.id)
    with pytest.raises(ValidationError, match="active prescriber"):
        services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                       planned_start=services.db.clock.now(), dose=by_a_nurse)
    approved = replace(big, override_reason="titrating up after partial response",
                       verified_by=staff.prescriber.id)
    planned = services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                             planned_start=services.db.clock.now(),
                                             dose=approved)
    assert planned.dose_mg == pytest.approx(96)
    assert planned.dose_verified_by_id == staff.prescriber.id


def test_weight_in_pounds_is_converted_and_kept_as_typed(services, staff, course):
    planned = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=services.db.clock.now(),
        dose=DoseForm(route="iv", drug="ketamine", weight=176, weight_unit="lb",
                      mg_per_kg=0.5, concentration_mg_per_ml=1, duration_min=40))
    assert planned.weight_kg == pytest.approx(79.832, abs=0.001)
    assert (planned.weight_entered, planned.weight_unit) == (176, e.WeightUnit.LB)
    assert planned.dose_mg == pytest.approx(39.92)


def test_correcting_a_reading_strikes_it_through_and_keeps_its_values(
        services, staff, planned, clock):
    first = services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                           values=VitalsInput(hr=27, systolic=128, diastolic=82))
    clock.advance(minutes=1)
    fixed = services.entries.correct_vitals(actor=staff.nurse, reading_id=first.reading.entry.id,
                                            values=VitalsInput(hr=72, systolic=128, diastolic=82),
                                            reason="typed 27 for 72")
    assert fixed.reading.entry.supersedes_id == first.reading.entry.id
    with services.db.reading() as s:
        from kapp.services.reading import session_entries

        vitals = session_entries(s, planned.id).vitals
    old = next(v for v in vitals if v.entry.id == first.reading.entry.id)
    assert old.hr == 27 and old.entry.strike is not None
    assert old.entry.strike.reason == "typed 27 for 72"


def test_pump_cannot_pause_before_it_starts(services, staff, planned):
    with pytest.raises(ValidationError):
        services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                            kind="pause")


def test_entries_timed_in_the_future_are_refused(services, staff, planned, clock):
    with pytest.raises(ValidationError, match="future"):
        services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                       values=VitalsInput(hr=70),
                                       taken_at=clock.now() + timedelta(hours=1))


def test_tampering_with_the_audit_trail_is_detected(services, staff, planned, db):
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                   values=VitalsInput(hr=70))
    on = " ON audit_log" if db.engine.dialect.name == "postgresql" else ""
    with db.engine.connect() as conn, conn.begin() as edit:  # a hand edit, past the trigger
        conn.exec_driver_sql(f"DROP TRIGGER trg_audit_log_no_update{on}")
        conn.exec_driver_sql("UPDATE audit_log SET reason = 'forged' WHERE seq = 3")
        result = list(verify_chain(OrmSession(bind=conn)))
        edit.rollback()  # the trigger comes back (the next test's database may be this one)
    assert isinstance(result[-1], ChainBreak) and result[-1].seq == 3


def test_looking_a_session_up_does_not_wait_for_a_writer(services, planned, db):
    """Reads run in a read transaction: a nurse's save elsewhere never blocks them."""
    with db.unit_of_work():  # holds the write lock (BEGIN IMMEDIATE) meanwhile
        assert services.sessions.get(planned.id).id == planned.id
        assert services.sessions.missing_for_signature(planned.id)
        assert services.sessions.delivery(planned.id).state == "not_started"


def test_an_intranasal_esketamine_session_starts_and_stops_without_a_concentration(
        services, staff, course, clock):
    from kapp.services.sessions import DoseForm

    session = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        prescriber_id=staff.prescriber.id,
        dose=DoseForm(route="intranasal", drug="esketamine", weight=None, dose_mg=56))
    nurse = staff.nurse
    services.sessions.record_pump_event(actor=nurse, session_id=session.id, kind="start",
                                        rate_ml_per_h=1)
    clock.advance(minutes=10)
    assert services.sessions.delivery(session.id).dose_mg == 0  # devices, not a pump
    stopped = services.sessions.record_pump_event(actor=nurse, session_id=session.id,
                                                  kind="stop")
    assert stopped.state == "stopped" and stopped.dose_mg == 0
    assert services.sessions.get(session.id).status.value == "recovery"


@pytest.mark.sqlite_only  # counts what reaches SQLite (its trace callback)
def test_recording_vitals_takes_a_bounded_number_of_statements(services, staff, planned, db):
    """The nurse's most frequent entry: BEGIN IMMEDIATE, one read for the user and the
    session, the protocol, the reading, the audit entry's predecessor and the entry,
    COMMIT; an alert adds its row and its audit entry. No ORM unit of work, no re-read
    after the commit. (Reads of plain values go straight to the driver and are not seen
    by the engine's events, so they are counted from the driver below.)"""
    engine_statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda *args: engine_statements.append(args[2]))
    traced: list[str] = []  # and everything that reaches SQLite itself
    db.engine.dispose()
    sa.event.listen(db.engine, "connect",
                    lambda dbapi, _rec: dbapi.set_trace_callback(traced.append))
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id, values=VitalsInput(
        hr=72, systolic=128, diastolic=82, spo2=98, rr=14))  # warms up (connects)
    engine_statements.clear()
    traced.clear()
    quiet = services.entries.record_vitals(
        actor=staff.nurse, session_id=planned.id,
        values=VitalsInput(hr=74, systolic=126, diastolic=80, spo2=98, rr=14))
    assert quiet.alerts == ()
    sent = [s.split()[0].upper() for s in traced]
    assert sent.count("SELECT") == 3 and sent.count("INSERT") == 2, traced
    assert sent[0] == "BEGIN" and sent[-1] == "COMMIT" and len(sent) == 7, traced
    assert len(engine_statements) == 3  # the user-and-session read, the two inserts
    traced.clear()
    loud = services.entries.record_vitals(
        actor=staff.nurse, session_id=planned.id,
        values=VitalsInput(hr=74, systolic=190, diastolic=82, spo2=98, rr=14))
    assert [a.rule for a in loud.alerts] == ["predose_systolic_hold"]  # the rules still fire
    per_alert = len(loud.alerts) * 3  # the alert, the audit predecessor, the audit entry
    assert len(traced) == 7 + per_alert, traced


def test_the_audit_chain_holds_across_quick_and_orm_writes(services, staff, planned, db):
    en, sv = services.entries, services.sessions
    en.record_vitals(actor=staff.nurse, session_id=planned.id,
                     values=VitalsInput(hr=72, systolic=128, diastolic=82, spo2=98, rr=14))
    sv.set_checklist(actor=staff.nurse, session_id=planned.id, which="pre",
                     items={c.value: True for c in e.PreSessionCheck})
    high = en.record_vitals(actor=staff.nurse, session_id=planned.id,
                            values=VitalsInput(hr=72, systolic=200, diastolic=82, spo2=98))
    en.correct_vitals(actor=staff.nurse, reading_id=high.reading.id, reason="cuff slipped",
                      values=VitalsInput(hr=72, systolic=130, diastolic=82, spo2=98))
    with db.reading() as s:
        steps = list(verify_chain(s))
        actions = s.execute(sa.select(m.AuditEntry.action).order_by(m.AuditEntry.seq.desc())
                            .limit(6)).scalars().all()
        stored = s.get(m.VitalsReading, high.reading.id)
        assert stored is not None and stored.struck_at is not None
        assert (stored.systolic, stored.entered_by_id, stored.origin) == (
            200.0, staff.nurse.id, db.origin)
    assert not any(isinstance(x, ChainBreak) for x in steps)
    assert actions[:2] == ["vitals.record", "entry.strike"]
    assert "vitals.record" in actions[2:]


def test_recording_vitals_checks_who_and_where_as_before(services, staff, planned, db):
    from kapp.domain.errors import NotFound, PermissionDenied

    values = VitalsInput(hr=72, systolic=128, diastolic=82, spo2=98, rr=14)
    record = services.entries.record_vitals
    before = _audit_count(db)
    with pytest.raises(PermissionDenied):
        record(actor=uuid.uuid4(), session_id=planned.id, values=values)
    with pytest.raises(NotFound):
        record(actor=staff.nurse, session_id=uuid.uuid4(), values=values)
    with pytest.raises(NotFound):
        record(actor=staff.nurse, session_id="not-an-id", values=values)  # type: ignore[arg-type]
    services.users.deactivate(actor=staff.admin, user_id=staff.nurse2.id, reason="left")
    with pytest.raises(PermissionDenied):
        record(actor=staff.nurse2, session_id=planned.id, values=values)
    assert _audit_count(db) == before + 1  # the deactivation
    services.sessions.abort(actor=staff.nurse, session_id=planned.id, reason="patient unwell")
    with pytest.raises(RecordLocked, match="ended"):
        record(actor=staff.nurse, session_id=planned.id, values=values)


def _every_vital_flagged(services, staff, planned):
    services.sessions.set_checklist(actor=staff.nurse, session_id=planned.id, which="pre",
                                    items={c.value: True for c in e.PreSessionCheck})
    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                        kind="start", rate_ml_per_h=150)
    reading = services.entries.record_vitals(
        actor=staff.nurse, session_id=planned.id,
        values=VitalsInput(hr=134, systolic=196, diastolic=118, spo2=86, rr=6))
    return reading.alerts


def test_one_readings_alerts_are_acknowledged_together(services, staff, planned, db):
    """Five vitals past their lines in one reading are one event at the bedside: one action
    and note for all of them, in one transaction, one audit entry per alert."""
    alerts = _every_vital_flagged(services, staff, planned)
    assert {a.rule for a in alerts} == {"systolic_high", "diastolic_high", "hr_high",
                                        "spo2_low", "rr_low"}
    before = _audit_count(db)
    done = services.entries.acknowledge_alerts(
        actor=staff.nurse, alert_ids=[a.id for a in alerts], action="stopped",
        note="prescriber called")
    assert [a.id for a in done] == [a.id for a in alerts]
    assert all(a.action is e.AlertAction.STOPPED and a.action_note == "prescriber called"
               and a.acknowledged_by_id == staff.nurse.id for a in done)
    assert _audit_count(db) == before + 5
    assert not [a for a in services.sessions.entries(planned.id).alerts if a.is_open]


def test_acknowledging_alerts_is_all_or_none(services, staff, planned, db):
    first, *rest = _every_vital_flagged(services, staff, planned)
    services.entries.acknowledge_alert(actor=staff.nurse, alert_id=first.id, action="none")
    before = _audit_count(db)
    with pytest.raises(ValidationError, match="already acknowledged"):
        services.entries.acknowledge_alerts(actor=staff.nurse,
                                            alert_ids=[a.id for a in (*rest, first)],
                                            action="slowed")
    with pytest.raises(ValidationError) as refused:
        services.entries.acknowledge_alerts(actor=staff.nurse,
                                            alert_ids=[a.id for a in rest], action="")
    assert [x.field for x in refused.value.errors] == ["action"]
    assert _audit_count(db) == before
    still_open = [a for a in services.sessions.entries(planned.id).alerts if a.is_open]
    assert {a.id for a in still_open} == {a.id for a in rest}
