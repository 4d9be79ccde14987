"""The session's clocks without Qt: minutes since start, vitals due, the peak prompt."""

from __future__ import annotations

from datetime import timedelta

from kapp.domain.protocol import Protocol
from kapp.domain.vitals import VitalsInput
from kapp.ui.session import timing
from kapp.ui.session.stages import grouped


def test_vitals_fall_due_by_the_protocol_interval_of_each_phase(services, staff, planned,
                                                                clock):
    protocol = Protocol()
    sv = services.sessions
    assert timing.next_vitals_due(planned, [], protocol) is None  # not started: none due
    sv.record_pump_event(actor=staff.nurse, session_id=planned.id, kind="start",
                         rate_ml_per_h=150)
    start = clock.now()
    session = sv.get(planned.id)
    due = timing.next_vitals_due(session, [], protocol)
    assert due.due_at == start + timedelta(minutes=protocol.vitals_interval_infusion_min)
    clock.advance(minutes=7)
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                   values=VitalsInput(hr=80))
    vitals = sv.entries(planned.id).vitals
    due = timing.next_vitals_due(session, vitals, protocol)
    assert due.due_at == clock.now() + timedelta(minutes=10)
    clock.advance(minutes=12)
    assert timing.countdown_text(due, clock.now()) == ("Vitals OVERDUE by 2:00", True)
    sv.record_pump_event(actor=staff.nurse, session_id=planned.id, kind="stop")
    recovery = timing.next_vitals_due(sv.get(planned.id), vitals, protocol)
    assert recovery.phase == "recovery"
    assert recovery.due_at == clock.now() + timedelta(minutes=15)


def test_minutes_labels():
    assert timing.minutes_label(None) == ""
    assert timing.minutes_label(0.4) == "0"
    assert timing.minutes_label(30.9) == "+30"
    assert timing.minutes_label(-5.0) == "-5"


def test_missing_checks_are_grouped():
    assert grouped(["lot number", "discharge check: escort present",
                    "discharge check: instructions given"]) == (
        "lot number; discharge checks: escort present, instructions given")
