"""Every mutating service method, called by every role that lacks the right, is refused
with a clear message and writes nothing: not one row in any table, not one audit entry.

The list of methods is found by looking at the services (every public method taking an
``actor``), so a new mutating method without an entry here fails this test."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from kapp.domain.enums import Role
from kapp.domain.errors import PermissionDenied
from kapp.domain.permissions import Permission, allowed
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import VitalsInput
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm
from kapp.storage.models import Base

# Methods with an actor that every signed-in account may call on its own behalf.
OPEN_TO_EVERY_ROLE = {"users.change_password"}


def _mutating_methods(services: Services) -> set[str]:
    found = set()
    for name in ("users", "protocol", "patients", "courses", "sessions", "entries", "records",
                 "settings"):
        service = getattr(services, name)
        for attr, member in inspect.getmembers(type(service), inspect.isfunction):
            if not attr.startswith("_") and "actor" in inspect.signature(member).parameters:
                found.add(f"{name}.{attr}")
    return found


@pytest.fixture
def world(services, staff, planned, whole_session, clock, patient, course):
    """A completed, unsigned session with an alert, a side effect and vitals."""
    whole_session(planned)
    record = services.entries
    with services.db.reading() as s:
        from kapp.services.reading import session_entries

        entries = session_entries(s, planned.id)
    return {
        "patient": patient, "course": course, "session": planned,
        "alert": entries.alerts[0], "side_effect": entries.side_effects[0],
        "vitals": entries.vitals[0], "record": record,
    }


def _calls(services: Services, staff, w: dict[str, Any], clock) -> dict[
        str, tuple[Permission, Callable[[Any], Any]]]:
    sid, pid = w["session"].id, w["patient"].id
    key = Protocol.keys()[0]
    current = getattr(services.protocol.current(), key)
    form = PatientForm(mrn="T-0099", given_name="Robin", family_name="Example",
                       date_of_birth=clock.now().date() - timedelta(days=40 * 365),
                       sex="unknown", indication="trd")
    dose = DoseForm(route="iv", drug="ketamine", weight=80, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.4, duration_min=40)
    pre = {"fasting": True}
    pw = staff.password
    return {
        "users.create_user": (Permission.MANAGE_ACCOUNTS, lambda a: services.users.create_user(
            actor=a, username="newbie", full_name="New Person", role=Role.NURSE,
            password="a long new password")),
        "users.set_active": (Permission.MANAGE_ACCOUNTS, lambda a: services.users.set_active(
            actor=a, user_id=staff.nurse2.id, active=False, reason="left")),
        "users.deactivate": (Permission.MANAGE_ACCOUNTS, lambda a: services.users.deactivate(
            actor=a, user_id=staff.nurse2.id, reason="left")),
        "users.reset_password": (Permission.MANAGE_ACCOUNTS,
                                 lambda a: services.users.reset_password(
                                     actor=a, user_id=staff.nurse2.id,
                                     new_password="another long one")),
        "settings.update": (Permission.MANAGE_SETTINGS, lambda a: services.settings.update(
            actor=a, values={"idle_lock_minutes": 10})),
        "protocol.update": (Permission.EDIT_PROTOCOL, lambda a: services.protocol.update(
            actor=a, values={key: current}, reason="review")),
        "patients.create": (Permission.RECORD, lambda a: services.patients.create(
            actor=a, form=form)),
        "patients.update": (Permission.RECORD, lambda a: services.patients.update(
            actor=a, patient_id=pid, form=form, expected_version=w["patient"].version)),
        "courses.start_course": (Permission.RECORD, lambda a: services.courses.start_course(
            actor=a, patient_id=pid, kind="maintenance", planned_sessions=3,
            started_on=clock.now().date())),
        "courses.end_course": (Permission.RECORD, lambda a: services.courses.end_course(
            actor=a, course_id=w["course"].id, ended_on=clock.now().date())),
        "sessions.plan_session": (Permission.RECORD, lambda a: services.sessions.plan_session(
            actor=a, course_id=w["course"].id, planned_start=clock.now(), dose=dose)),
        "sessions.set_dose": (Permission.RECORD, lambda a: services.sessions.set_dose(
            actor=a, session_id=sid, dose=dose)),
        "sessions.set_checklist": (Permission.RECORD, lambda a: services.sessions.set_checklist(
            actor=a, session_id=sid, which="pre", items=pre)),
        "sessions.set_controlled_substance": (
            Permission.RECORD, lambda a: services.sessions.set_controlled_substance(
                actor=a, session_id=sid, lot_number="LOT-9", amount_drawn_mg=50,
                amount_wasted_mg=0, witness_id=None)),
        "sessions.set_moaas": (Permission.RECORD, lambda a: services.sessions.set_moaas(
            actor=a, session_id=sid, score=4)),
        "sessions.record_pump_event": (
            Permission.RECORD, lambda a: services.sessions.record_pump_event(
                actor=a, session_id=sid, kind="pause")),
        "sessions.mark_ready_to_leave": (
            Permission.RECORD, lambda a: services.sessions.mark_ready_to_leave(
                actor=a, session_id=sid)),
        "sessions.mark_left": (Permission.RECORD, lambda a: services.sessions.mark_left(
            actor=a, session_id=sid)),
        "sessions.abort": (Permission.RECORD, lambda a: services.sessions.abort(
            actor=a, session_id=sid, reason="patient unwell")),
        "sessions.sign": (Permission.SIGN, lambda a: services.sessions.sign(
            actor=a, session_id=sid, password=pw(a))),
        "entries.record_vitals": (Permission.RECORD, lambda a: services.entries.record_vitals(
            actor=a, session_id=sid, values=VitalsInput(hr=70))),
        "entries.correct_vitals": (Permission.RECORD, lambda a: services.entries.correct_vitals(
            actor=a, reading_id=w["vitals"].entry.id, values=VitalsInput(hr=71),
            reason="typo")),
        "entries.acknowledge_alert": (
            Permission.RECORD, lambda a: services.entries.acknowledge_alert(
                actor=a, alert_id=w["alert"].entry.id, action="observed")),
        "entries.acknowledge_alerts": (
            Permission.RECORD, lambda a: services.entries.acknowledge_alerts(
                actor=a, alert_ids=[w["alert"].entry.id], action="observed")),
        "entries.record_side_effect": (
            Permission.RECORD, lambda a: services.entries.record_side_effect(
                actor=a, session_id=sid, kind="nausea", severity="mild")),
        "entries.resolve_side_effect": (
            Permission.RECORD, lambda a: services.entries.resolve_side_effect(
                actor=a, side_effect_id=w["side_effect"].entry.id)),
        "entries.record_intervention": (
            Permission.RECORD, lambda a: services.entries.record_intervention(
                actor=a, session_id=sid, kind="reassurance", reason="anxious")),
        "entries.record_dissociation": (
            Permission.RECORD, lambda a: services.entries.record_dissociation(
                actor=a, session_id=sid, intensity=3, valence="neutral")),
        "records.record_instrument": (
            Permission.RECORD, lambda a: services.records.record_instrument(
                actor=a, patient_id=pid, instrument="phq9",
                answers={i: 1 for i in range(1, 10)}, time_point="baseline")),
        "records.add_note": (Permission.RECORD, lambda a: services.records.add_note(
            actor=a, patient_id=pid, text="Called the patient.")),
        "records.add_addendum": (Permission.RECORD, lambda a: services.records.add_addendum(
            actor=a, session_id=sid, text="Home safely.", password=pw(a))),
        "records.sign_addendum": (Permission.RECORD, lambda a: services.records.sign_addendum(
            actor=a, session_id=sid, text="Home safely.", password=pw(a))),
        "records.strike": (Permission.RECORD, lambda a: services.records.strike(
            actor=a, table="vitals_readings", entry_id=w["vitals"].entry.id, reason="typo")),
    }


def _snapshot(services: Services) -> dict[str, list[tuple]]:
    with services.db.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
                for t in Base.metadata.sorted_tables}


def test_every_mutating_method_is_refused_to_every_role_without_the_right(
        services, staff, world, clock):
    calls = _calls(services, staff, world, clock)
    assert _mutating_methods(services) - OPEN_TO_EVERY_ROLE == set(calls), \
        "add every new mutating service method to this test"
    accounts = {Role.NURSE: staff.nurse, Role.PRESCRIBER: staff.prescriber,
                Role.ADMIN: staff.admin}
    refused = 0
    for name, (permission, call) in calls.items():
        for role, account in accounts.items():
            if allowed(role, permission):
                continue
            before = _snapshot(services)
            with pytest.raises(PermissionDenied) as caught:
                call(account)
            message = str(caught.value)
            assert account.full_name in message and f"({role.value}) may not" in message, name
            assert _snapshot(services) == before, f"{name} by a {role.value} wrote something"
            refused += 1
    assert refused >= 35  # the walk really walked


def test_the_roles_grant_what_the_clinic_expects():
    nurse, prescriber, admin = Role.NURSE, Role.PRESCRIBER, Role.ADMIN
    assert allowed(nurse, Permission.RECORD) and not allowed(nurse, Permission.SIGN)
    for right in (Permission.RECORD, Permission.SIGN, Permission.APPROVE_DOSE,
                  Permission.EDIT_PROTOCOL):
        assert allowed(prescriber, right)
    for right in (Permission.MANAGE_ACCOUNTS, Permission.MANAGE_BACKUPS,
                  Permission.MANAGE_SETTINGS, Permission.VIEW_AUDIT):
        assert allowed(admin, right)
        assert not allowed(nurse, right) and not allowed(prescriber, right)
    assert not allowed(admin, Permission.RECORD)


def test_a_deactivated_account_can_do_nothing(services, staff, world, clock):
    services.users.deactivate(actor=staff.admin, user_id=staff.nurse2.id, reason="left")
    before = _snapshot(services)
    with pytest.raises(PermissionDenied, match="deactivated"):
        services.entries.record_vitals(actor=staff.nurse2, session_id=world["session"].id,
                                       values=VitalsInput(hr=70))
    assert _snapshot(services) == before
