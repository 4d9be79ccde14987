"""The nasal devices bar of an intranasal esketamine session, driven by keyboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gui_helpers import shot
from PySide6.QtCore import Qt, QTime

from kapp.domain import enums as e
from kapp.domain.vitals import VitalsInput
from kapp.services.sessions import DoseForm
from kapp.ui.app import build_main_window
from kapp.ui.session.nasal import NasalPanel
from kapp.ui.session.pump import PumpPanel

pytestmark = pytest.mark.gui

ALL_PRE = {c.value: True for c in e.PreSessionCheck}


@pytest.fixture
def asked(monkeypatch):
    questions: list[str] = []
    monkeypatch.setattr(NasalPanel, "confirm",
                        staticmethod(lambda _p, _title, text: questions.append(text) or True))
    monkeypatch.setattr(NasalPanel, "ask_reason", staticmethod(
        lambda _p, _title, text: questions.append(text) or "Patient declined (nausea)"))
    return questions


@pytest.fixture
def nasal(services, staff, course, clock):
    session = services.sessions.plan_session(
        actor=staff.nurse, course_id=course.id, planned_start=clock.now(),
        prescriber_id=staff.prescriber.id,
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=84))
    services.sessions.set_checklist(actor=staff.nurse, session_id=session.id, which="pre",
                                    items=ALL_PRE)
    services.entries.record_vitals(actor=staff.nurse, session_id=session.id,
                                   values=VitalsInput(hr=72, systolic=126, diastolic=80,
                                                      spo2=98, rr=14))
    return session


def _screen(qtbot, services, staff, session_id):
    window = build_main_window(services, "/clinic/kapp-test.db", user=staff.nurse)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.open_session(session_id)
    return window, window.session_screens[session_id]


def test_a_nurse_records_each_nasal_device_by_keyboard(qtbot, services, staff, nasal, clock,
                                                       asked):
    window, screen = _screen(qtbot, services, staff, nasal.id)
    bar = screen.pump
    assert isinstance(bar, NasalPanel) and not isinstance(bar, PumpPanel)
    assert bar.isVisible() and bar.give_button.isVisible()
    assert "none given yet · 3 devices of 28 mg planned" in bar.state_label.text()
    assert bar.delivered_label.text() == "0 of 84 mg given (0 of 3 devices)"

    # Device 1: the button takes Tab focus and Space presses it.
    assert bar.give_button.focusPolicy() & Qt.FocusPolicy.TabFocus
    qtbot.keyClick(bar.give_button, Qt.Key.Key_Space)
    assert asked == []  # baseline and checklist done: nothing to confirm
    first = clock.now()
    qtbot.waitUntil(lambda: services.nasal.dosing(nasal.id).given_count == 1)
    assert services.sessions.get(nasal.id).status is e.SessionStatus.IN_PROGRESS
    qtbot.waitUntil(lambda: "Device 1 of 3 given" in bar.state_label.text())
    assert "next not before" in bar.state_label.text()
    assert bar.delivered_label.text() == "28 of 84 mg given (1 of 3 devices)"
    axis = screen.chart.plot.getPlotItem().getAxis("bottom")
    qtbot.waitUntil(lambda: axis.labelText == "Minutes since the first device")
    assert [line.label.format for line in screen.chart.pump_markers] == ["device 1 (28 mg)"]

    # Too soon: refused next to the time, a reason field opens; with a reason it is kept.
    clock.advance(minutes=2)
    bar.give()
    assert "Device 2 would be 2 min after device 1" in bar.message.text()
    assert not bar.reason_edit.isHidden()
    qtbot.keyClicks(bar.reason_edit, "Prescriber asked to go on")
    qtbot.keyClick(bar.reason_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: services.nasal.dosing(nasal.id).given_count == 2)
    assert services.sessions.entries(nasal.id).nasal_devices[-1].reason == \
        "Prescriber asked to go on"
    assert bar.reason_edit.isHidden() and bar.message.isHidden()
    qtbot.waitUntil(lambda: bar.delivered_label.text() == "56 of 84 mg given (2 of 3 devices)")
    shot(screen, "session_nasal_devices")

    # Device 3 written down late: the time field takes the time it was given.
    clock.advance(minutes=12)
    given = (clock.now() - timedelta(minutes=4)).astimezone()
    bar.time_edit.setTime(QTime(given.hour, given.minute))
    bar.time_edit.setFocus()
    qtbot.keyClick(bar.time_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: services.nasal.dosing(nasal.id).given_count == 3)
    session = services.sessions.get(nasal.id)
    last = services.nasal.dosing(nasal.id).last_at
    assert last.astimezone().strftime("%H:%M") == given.strftime("%H:%M")
    assert session.status is e.SessionStatus.RECOVERY and session.infusion_ended_at == last
    assert session.actual_start == first
    # Dosing over: the bar gives way to the recovery panel, which says what was given.
    qtbot.waitUntil(lambda: not bar.isVisible())
    assert "84 of 84 mg given (3 of 3 devices) · observe until" in \
        screen.closing.times_label.text()
    assert "Nasal devices" in screen.closing.times_label.text()
    lines = [screen.timeline_model.index(r, 2).data()
             for r in range(screen.timeline_model.rowCount())]
    assert any("Nasal device 3 given (28 mg)" in x for x in lines)
    shot(screen, "session_nasal_recovery")
    window.close()


def test_dosing_ended_early_from_the_bar(qtbot, services, staff, nasal, clock, asked):
    window, screen = _screen(qtbot, services, staff, nasal.id)
    bar = screen.pump
    assert bar.end_button.isHidden()  # nothing to end before the first device
    bar.give()
    qtbot.waitUntil(lambda: not bar.end_button.isHidden())
    clock.advance(minutes=6)
    assert bar.end_early()
    assert "28 of 84 mg given" in asked[-1]
    session = services.sessions.get(nasal.id)
    assert session.status is e.SessionStatus.RECOVERY
    assert "Patient declined (nausea)" in services.sessions.entries(nasal.id).notes[-1].text
    window.close()


def test_an_iv_session_keeps_its_pump(qtbot, services, staff, planned):
    window, screen = _screen(qtbot, services, staff, planned.id)
    assert isinstance(screen.pump, PumpPanel)
    window.close()


def test_the_header_counts_minutes_since_the_first_device(qtbot, services, staff, nasal,
                                                          clock, asked):
    """An intranasal session has no infusion: the header's minutes (words and accessible
    name) count from the first device, as the chart's x-axis does."""
    _window, screen = _screen(qtbot, services, staff, nasal.id)
    since = screen.header.since_label
    assert since.text() == "no device yet"
    assert since.accessibleName() == "Minutes since the first device"
    assert "infusion" not in since.accessibleName()
    screen.pump.give()
    qtbot.waitUntil(lambda: services.nasal.dosing(nasal.id).given_count == 1)
    clock.advance(minutes=7)
    screen.tick()
    assert since.text() == "7 min since first device"
    axis = screen.chart.plot.getPlotItem().getAxis("bottom")
    qtbot.waitUntil(lambda: axis.labelText == since.accessibleName())


def test_an_infusion_header_still_counts_since_the_infusion_started(qtbot, services, staff,
                                                                    planned):
    _window, screen = _screen(qtbot, services, staff, planned.id)
    assert screen.header.since_label.text() == "not started"
    assert screen.header.since_label.accessibleName() == "Minutes since the infusion started"
