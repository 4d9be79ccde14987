"""Intranasal esketamine: each nasal device recorded as it is given."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from kapp.domain import enums as e
from kapp.domain.errors import PermissionDenied, RecordLocked, ValidationError
from kapp.services.sessions import DoseForm
from kapp.storage import models as m


def _audit(db, prefix: str) -> list[m.AuditEntry]:
    with db.reading() as s:
        rows = s.execute(sa.select(m.AuditEntry).order_by(m.AuditEntry.seq)).scalars().all()
        s.expunge_all()
    return [r for r in rows if r.action.startswith(prefix)]


@pytest.fixture
def nasal(services, staff, course, clock):
    return services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        prescriber_id=staff.prescriber.id,
        dose=DoseForm(route="intranasal", drug="esketamine", weight=None, dose_mg=84))


def _refusal(call) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        call()
    return {x.field: f"{x.message} [{x.allowed}]" for x in refused.value.errors}


def test_devices_start_the_session_add_up_and_end_the_dosing(services, staff, nasal, clock,
                                                             db):
    nurse = staff.nurse
    first_at = clock.now()
    dosing = services.nasal.record_device(actor=nurse, session_id=nasal.id)
    assert (dosing.given_count, dosing.given_mg, dosing.planned_count) == (1, 28, 3)
    assert dosing.next_not_before == first_at + timedelta(minutes=5)
    session = services.sessions.get(nasal.id)
    assert session.status is e.SessionStatus.IN_PROGRESS and session.actual_start == first_at

    clock.advance(minutes=5)
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    clock.advance(minutes=6)
    done = services.nasal.record_device(actor=nurse, session_id=nasal.id)
    assert (done.given_count, done.given_mg, done.complete) == (3, 84, True)
    assert done.observe_until == clock.now() + timedelta(minutes=120)  # from the LAST device
    session = services.sessions.get(nasal.id)
    assert session.status is e.SessionStatus.RECOVERY
    assert session.infusion_ended_at == clock.now()
    assert session.actual_start == first_at

    entries = services.sessions.entries(nasal.id)
    assert [d.device_mg for d in entries.nasal_devices] == [28, 28, 28]
    audit = _audit(db, "nasal.device")
    assert len(audit) == 3 and audit[-1].new_values["given_mg"] == 84
    assert audit[-1].user_id == nurse.id and audit[-1].new_values["status"] == "recovery"

    clock.advance(minutes=10)
    refused = _refusal(lambda: services.nasal.record_device(actor=nurse, session_id=nasal.id))
    assert "All 3 device(s) of the planned 84 mg have been given" in refused["devices"]
    assert "at most 3 device(s) of 28 mg" in refused["devices"]


def test_the_device_size_is_the_protocol_setting(services, staff, nasal, clock):
    settings = services.protocol.current().as_dict()
    services.protocol.update(actor=staff.prescriber,
                             values={**settings, "esketamine_device_mg": 42},
                             reason="new device size")
    done = services.nasal.record_device(actor=staff.nurse, session_id=nasal.id)
    assert done.given_mg == 42 and done.planned_count == 2


def test_a_device_too_soon_needs_a_reason(services, staff, nasal, clock, db):
    nurse = staff.nurse
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    clock.advance(minutes=3)
    refused = _refusal(lambda: services.nasal.record_device(actor=nurse, session_id=nasal.id))
    assert "Device 2 would be 3 min after device 1" in refused["given_at"]
    assert "at least 5 min between devices" in refused["given_at"]
    assert "at least 5 min after the previous device, or a reason" in refused["given_at"]
    assert services.nasal.dosing(nasal.id).given_count == 1  # nothing written

    services.nasal.record_device(actor=nurse, session_id=nasal.id,
                                 early_reason="Patient asked to go on; prescriber agreed")
    devices = services.sessions.entries(nasal.id).nasal_devices
    assert devices[-1].reason == "Patient asked to go on; prescriber agreed"
    assert _audit(db, "nasal.device")[-1].new_values["reason"].startswith("Patient asked")


def test_times_in_the_future_before_the_session_or_out_of_order_are_refused(
        services, staff, nasal, clock):
    nurse = staff.nurse
    refused = _refusal(lambda: services.nasal.record_device(
        actor=nurse, session_id=nasal.id, given_at=clock.now() + timedelta(hours=1)))
    assert "cannot be in the future" in refused["given_at"]
    refused = _refusal(lambda: services.nasal.record_device(
        actor=nurse, session_id=nasal.id, given_at=clock.now() - timedelta(days=1)))
    assert "before the session started" in refused["given_at"]

    clock.advance(minutes=20)
    late = clock.now() - timedelta(minutes=10)  # typed in afterwards: allowed
    services.nasal.record_device(actor=nurse, session_id=nasal.id, given_at=late)
    assert services.sessions.get(nasal.id).actual_start == late
    refused = _refusal(lambda: services.nasal.record_device(
        actor=nurse, session_id=nasal.id, given_at=late - timedelta(minutes=6)))
    assert "before device 1 was given" in refused["given_at"]


def test_devices_only_for_intranasal_sessions_and_only_by_clinical_staff(
        services, staff, planned, nasal):
    refused = _refusal(lambda: services.nasal.record_device(actor=staff.nurse,
                                                            session_id=planned.id))
    assert "intranasal sessions only" in refused["route"]
    with pytest.raises(PermissionDenied):
        services.nasal.record_device(actor=staff.admin, session_id=nasal.id)


def test_a_struck_device_no_longer_counts_and_reopens_the_dosing(services, staff, nasal,
                                                                  clock, db):
    nurse = staff.nurse
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    clock.advance(minutes=5)
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    clock.advance(minutes=5)
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    assert services.sessions.get(nasal.id).status is e.SessionStatus.RECOVERY
    last = services.sessions.entries(nasal.id).nasal_devices[-1]
    services.records.strike(actor=nurse, table="nasal_devices", entry_id=last.id,
                            reason="recorded on the wrong patient's screen")
    dosing = services.nasal.dosing(nasal.id)
    assert (dosing.given_count, dosing.given_mg, dosing.complete) == (2, 56, False)
    session = services.sessions.get(nasal.id)
    assert session.status is e.SessionStatus.IN_PROGRESS and session.infusion_ended_at is None
    struck = services.sessions.entries(nasal.id).nasal_devices[-1]
    assert struck.entry.is_struck and struck.entry.strike.reason.startswith("recorded on")
    assert [a.action for a in _audit(db, "")][-2:] == ["entry.strike", "nasal.recount"]
    services.nasal.record_device(actor=nurse, session_id=nasal.id)  # the real third one
    assert services.sessions.get(nasal.id).status is e.SessionStatus.RECOVERY


def test_striking_the_only_device_puts_the_session_back_to_planned(services, staff, nasal):
    services.nasal.record_device(actor=staff.nurse, session_id=nasal.id)
    only = services.sessions.entries(nasal.id).nasal_devices[0]
    services.records.strike(actor=staff.nurse, table="nasal_devices", entry_id=only.id,
                            reason="pressed before the device was given")
    session = services.sessions.get(nasal.id)
    assert session.status is e.SessionStatus.PLANNED and session.actual_start is None


def test_dosing_ended_early_with_a_reason(services, staff, nasal, clock, db):
    nurse = staff.nurse
    refused = _refusal(lambda: services.nasal.end_dosing(actor=nurse, session_id=nasal.id,
                                                         reason="declined"))
    assert "No device has been given yet" in refused["devices"]
    first = clock.now()
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    clock.advance(minutes=5)
    services.nasal.record_device(actor=nurse, session_id=nasal.id)
    second = clock.now()
    clock.advance(minutes=4)
    refused = _refusal(lambda: services.nasal.end_dosing(actor=nurse, session_id=nasal.id,
                                                         reason="  "))
    assert "reason" in refused
    services.nasal.end_dosing(actor=nurse, session_id=nasal.id,
                              reason="Patient declined the third device (nausea)")
    session = services.sessions.get(nasal.id)
    assert session.status is e.SessionStatus.RECOVERY
    assert session.infusion_ended_at == second and session.actual_start == first
    notes = services.sessions.entries(nasal.id).notes
    assert "after 2 of 3 device(s), 56 of 84 mg given" in notes[-1].text
    assert _audit(db, "nasal.end_dosing")[-1].reason.startswith("Patient declined")
    refused = _refusal(lambda: services.nasal.record_device(actor=nurse, session_id=nasal.id))
    assert "Dosing has ended" in refused["devices"]


def test_no_devices_after_the_session_ended(services, staff, nasal):
    services.sessions.abort(actor=staff.nurse, session_id=nasal.id, reason="BP too high")
    with pytest.raises(RecordLocked):
        services.nasal.record_device(actor=staff.nurse, session_id=nasal.id)
