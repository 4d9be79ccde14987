"""The live session screen, driven as a nurse drives it: keyboard vitals, the pump, alerts,
recovery; and after a crash, the same session back from the database."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from gui_helpers import VITALS_ORDER, dark_palette, tab_through_vitals
from PySide6.QtCore import QLocale, Qt, QTime, QTimer
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.domain.clock import FixedClock
from kapp.domain.errors import KappError
from kapp.domain.vitals import VitalsInput
from kapp.services.facade import Services
from kapp.services.patients import PatientForm
from kapp.services.sessions import DoseForm
from kapp.storage.database import open_database
from kapp.storage.engine import sqlite_url
from kapp.storage.faults import translate
from kapp.ui.app import build_main_window, ensure_application
from kapp.ui.session import screen as screen_module
from kapp.ui.session.models import ENTRY_ID_ROLE, STRUCK_ROLE
from kapp.ui.session.pump import PumpPanel
from kapp.ui.session.screen import SessionScreen

pytestmark = pytest.mark.gui

LABEL = "/clinic/kapp-test.db"
ALL_PRE = {c.value: True for c in e.PreSessionCheck}


@pytest.fixture(autouse=True)
def _no_dialogs(monkeypatch):
    """Start and stop ask first; answer yes and remember what was asked."""
    asked: list[str] = []
    monkeypatch.setattr(PumpPanel, "confirm",
                        staticmethod(lambda _parent, title, text: asked.append(text) or True))
    return asked


def make_window(qtbot, services, user):
    window = build_main_window(services, LABEL, user=user)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window


@pytest.fixture
def window(qtbot, services, staff):
    return make_window(qtbot, services, staff.nurse)


def open_screen(qtbot, window, session_id) -> SessionScreen:
    window.open_session(session_id)
    screen = window.session_screens[session_id]
    assert window.stack.currentWidget() is screen
    return screen


def type_vitals(qtbot, screen: SessionScreen, values: list[str], rhythm: str = "") -> None:
    """HR, SYS, DIA, SpO2, RR typed with Tab between them, Enter at the end."""
    widget = tab_through_vitals(qtbot, screen.vitals_entry, values)
    if rhythm:
        qtbot.keyClicks(widget, rhythm)
        if widget.completer().popup().isVisible():
            widget.completer().popup().hide()
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def vitals_of(services, session_id):
    return services.sessions.entries(session_id).vitals


def test_a_nurse_runs_the_infusion_by_keyboard(qtbot, window, services, staff, planned, clock,
                                              _no_dialogs):
    sid = planned.id
    screen = open_screen(qtbot, window, sid)
    assert screen.pre_panel.isVisible()
    assert "consent on file (to do)" in screen.pre_panel.checklist_label.text()
    services.sessions.set_checklist(actor=staff.nurse, session_id=sid, which="pre", items=ALL_PRE)
    qtbot.waitUntil(lambda: "(to do)" not in screen.pre_panel.checklist_label.text())

    # Baseline, judged against the pre-dose limits.
    type_vitals(qtbot, screen, ["72", "128", "82", "98", "14"], rhythm="sinus rhythm")
    (baseline,) = vitals_of(services, sid)
    assert baseline.predose and baseline.systolic == 128 and baseline.rhythm == "sinus rhythm"
    assert "within the pre-dose limits" in screen.pre_panel.baseline_label.text()
    assert QApplication.focusWidget() is screen.vitals_entry.edits["hr"]
    assert screen.vitals_entry.edits["systolic"].text() == ""

    clock.advance(minutes=5)
    assert screen.pump.rate_edit.text() == "150"  # 100 mL over 40 min
    qtbot.mouseClick(screen.pump.start_button, Qt.MouseButton.LeftButton)
    assert _no_dialogs == []  # baseline fine and checklist done: nothing to confirm
    session = services.sessions.get(sid)
    assert session.status is e.SessionStatus.IN_PROGRESS and session.actual_start == clock.now()
    assert not screen.pre_panel.isVisible()
    assert screen.header.since_label.text() == "0 min since start"
    assert "Next vitals in 10:00" in screen.header.countdown.text()

    for minute, values in ((10, ["80", "140", "88", "97", "14"]),
                           (20, ["90", "168", "96", "97", "13"]),
                           (30, ["96", "186", "104", "96", "14"]),
                           (40, ["88", "160", "94", "97", "14"]),
                           (50, ["82", "150", "90", "98", "14"])):
        clock.advance(minutes=10)
        type_vitals(qtbot, screen, values)
        assert screen.header.since_label.text() == f"{minute} min since start"
        if minute == 30:
            # The third reading crosses the systolic alert level: a banner in words.
            qtbot.waitUntil(lambda: screen.alert_banner.isVisible())
            (row,) = screen.alert_banner.rows
            assert "ALERT" in row.text.text() and "Systolic 186 mmHg" in row.text.text()
            assert "⚠ alert" in screen.vitals_model.data(screen.vitals_model.index(3, 8))
            # Acknowledge with the action taken: nothing chosen is refused first.
            qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
            assert "Choose the action taken" in row.problem.text()
            row.action.setCurrentIndex(row.action.findData(e.AlertAction.SLOWED))
            qtbot.keyClicks(row.note, "rate halved")
            qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
            assert not screen.alert_banner.isVisible()
            # ... and the rate goes down, with the reason; without one it is refused.
            screen.pump.rate_edit.setText("75")
            qtbot.mouseClick(screen.pump.rate_button, Qt.MouseButton.LeftButton)
            assert "Say why the rate changes" in screen.pump.message.text()
            qtbot.keyClicks(screen.pump.reason_edit, "BP rise")
            qtbot.keyClick(screen.pump.reason_edit, Qt.Key.Key_Return)
            assert "RUNNING at 75 mL/h" in screen.pump.state_label.text()
    (alert,) = services.sessions.entries(sid).alerts
    assert alert.acknowledged_by_id == staff.nurse.id and alert.action is e.AlertAction.SLOWED
    assert alert.action_note == "rate halved"

    # 150 mL/h for 30 min + 75 mL/h for 20 min = 100 mL = 40 mg, shown live.
    screen.tick()
    assert "Given 40 mg · 100 mL of 40 mg planned" in screen.pump.delivered_label.text()
    qtbot.mouseClick(screen.pump.stop_button, Qt.MouseButton.LeftButton)
    session = services.sessions.get(sid)
    assert session.status is e.SessionStatus.RECOVERY
    assert screen.closing.isVisible() and screen.closing.discharge_button.isVisible()
    assert "discharge check" in screen.closing.missing_label.text()
    assert "Recovery vitals" in screen.vitals_box.toolTip()
    assert "Next vitals in 15:00" in screen.header.countdown.text()  # the recovery interval

    clock.advance(minutes=15)
    type_vitals(qtbot, screen, ["76", "134", "84", "98", "14"])
    readings = vitals_of(services, sid)
    assert len(readings) == 7
    assert [v.predose for v in readings] == [True] + [False] * 6
    assert readings[-1].taken_at > session.infusion_ended_at
    events = services.sessions.entries(sid).infusion_events
    assert [(x.kind.value, x.rate_ml_per_h, x.reason) for x in events] == [
        ("start", 150, None), ("rate_change", 75, "BP rise"), ("stop", None, None)]
    assert screen.vitals_model.rowCount() == 7
    assert screen.timeline_model.data(screen.timeline_model.index(0, 1)) == "Vitals"
    assert screen.chart.series("systolic")[1] == [128, 140, 168, 186, 160, 150, 134]


def test_a_refused_reading_stays_typed_with_the_message_by_its_field(qtbot, window, services,
                                                                      planned):
    screen = open_screen(qtbot, window, planned.id)
    type_vitals(qtbot, screen, ["72", "110", "120", "98", "14"])
    entry = screen.vitals_entry
    assert entry.messages["diastolic"].isVisible()
    assert "Diastolic (120) must be lower than systolic (110)" in entry.messages["diastolic"].text()
    assert [entry.edits[f].text() for f in VITALS_ORDER] == ["72", "110", "120", "98", "14"]
    assert vitals_of(services, planned.id) == ()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is entry.edits["diastolic"])

    entry.edits["hr"].setText("12O")
    assert not entry.submit()
    assert "not a number" in entry.messages["hr"].text()

    entry.edits["hr"].setText("72")
    entry.edits["diastolic"].setText("80")
    assert entry.submit()
    assert not entry.messages["diastolic"].isVisible()


def test_a_failed_save_keeps_the_entry(qtbot, window, services, planned, monkeypatch):
    screen = open_screen(qtbot, window, planned.id)

    def full_disk(**_kwargs):
        raise KappError("the disk is full")

    monkeypatch.setattr(services.entries, "record_vitals", full_disk)
    type_vitals(qtbot, screen, ["72", "128", "82", "98", "14"])
    assert "Not saved: the disk is full" in screen.vitals_entry.general.text()
    assert screen.vitals_entry.edits["rr"].text() == "14"


def test_a_storage_fault_says_not_saved_once(qtbot, window, services, planned, monkeypatch):
    screen = open_screen(qtbot, window, planned.id)

    def full_disk(**_kwargs):
        raise translate(OSError("database or disk is full"))

    monkeypatch.setattr(services.entries, "record_vitals", full_disk)
    type_vitals(qtbot, screen, ["72", "128", "82", "98", "14"])
    text = screen.vitals_entry.general.text()
    assert "The disk is full. This entry was NOT saved" in text
    assert "Not saved" not in text  # its own words say it; not twice
    assert screen.vitals_entry.edits["rr"].text() == "14"


def test_the_time_defaults_to_now_and_can_be_changed(qtbot, window, services, planned, clock):
    screen = open_screen(qtbot, window, planned.id)
    entry = screen.vitals_entry
    local = clock.now().astimezone()
    assert entry.time_edit.time() == QTime(local.hour, local.minute)
    clock.advance(minutes=12)
    screen.tick()
    later = clock.now().astimezone()
    assert entry.time_edit.time() == QTime(later.hour, later.minute)
    entry.time_edit.setTime(QTime(local.hour, local.minute + 5))  # written down at +5
    for field, text in zip(VITALS_ORDER, ["72", "128", "82", "98", "14"], strict=True):
        entry.edits[field].setText(text)
    assert entry.submit()
    (reading,) = vitals_of(services, planned.id)
    assert reading.taken_at == clock.now() - timedelta(minutes=7)
    assert "(now)" in entry.time_caption.text()  # back to following the clock


def test_a_baseline_at_the_hold_level_says_why_and_asks_before_starting(
        qtbot, window, services, planned, _no_dialogs):
    screen = open_screen(qtbot, window, planned.id)
    type_vitals(qtbot, screen, ["72", "165", "95", "98", "14"])
    assert "HOLD" in screen.pre_panel.baseline_label.text()
    qtbot.waitUntil(lambda: screen.alert_banner.isVisible())
    banner = screen.alert_banner.rows[0].text.text()
    assert "HOLD" in banner and "above the hold level of 160/100: do not start" in banner
    screen.pump.start()
    assert "HOLD" in _no_dialogs[0] and "checklist not complete" in _no_dialogs[0]


def test_overdue_vitals_and_the_peak_scale_prompt(qtbot, window, services, staff, planned,
                                                  clock, monkeypatch):
    sid = planned.id
    services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind="start",
                                        rate_ml_per_h=150)
    screen = open_screen(qtbot, window, sid)
    clock.advance(minutes=11)
    screen.tick()
    assert screen.header.countdown.text() == "⚠ Vitals OVERDUE by 1:00"
    window.sidebar.refresh()
    assert "vitals OVERDUE 1 min" in window.sidebar.chairs.item(0).text()
    assert not screen.peak_banner.isVisible()

    opened = []
    monkeypatch.setattr(screen_module.instrument, "open_instrument",
                        lambda *args: opened.append(args) or True)
    clock.advance(minutes=30)
    screen.tick()
    assert screen.peak_banner.isVisible()
    assert "CADSS-6" in screen.peak_banner.text.text()
    qtbot.mouseClick(screen.peak_button, Qt.MouseButton.LeftButton)
    (_ctx, patient_id, code, point, session_id, parent), = opened
    assert (patient_id, code, point, session_id, parent) == (
        planned.patient_id, "cadss6", "peak", sid, screen)
    assert point == e.TimePoint.PEAK.value
    items = services.records.instruments["cadss6"].items
    services.records.record_instrument(actor=staff.nurse, patient_id=planned.patient_id,
                                       instrument="cadss6",
                                       answers={item.number: 0 for item in items},
                                       time_point="peak", session_id=sid)
    qtbot.waitUntil(lambda: not screen.peak_banner.isVisible())


def test_strike_through_from_the_vitals_table(qtbot, window, services, staff, planned,
                                              monkeypatch):
    sid = planned.id
    reading = services.entries.record_vitals(actor=staff.nurse, session_id=sid,
                                             values=VitalsInput(hr=72, systolic=128,
                                                                diastolic=82)).reading
    screen = open_screen(qtbot, window, sid)
    calls = []
    monkeypatch.setattr(screen_module.correction, "strike_entry",
                        lambda *args: calls.append(args) or True)
    model = screen.vitals_model
    assert model.index(0, 0).data(ENTRY_ID_ROLE) == reading.id
    action = screen.strike_action(screen, "vitals_readings", reading.id, "Vitals 09:00", False)
    action.trigger()
    (_ctx, table, entry_id, _description, parent), = calls
    assert (table, entry_id, parent) == ("vitals_readings", reading.id, screen)

    services.records.strike(actor=staff.nurse, table="vitals_readings", entry_id=reading.id,
                            reason="wrong patient")
    qtbot.waitUntil(lambda: model.index(0, 0).data(STRUCK_ROLE) is True)
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole).strikeOut()
    assert "struck: wrong patient" in model.index(0, 8).data()  # the reason on the screen
    assert "Struck through: wrong patient" in model.index(0, 8).data(Qt.ItemDataRole.ToolTipRole)
    assert screen.chart.series("systolic") == ([], [])  # a struck reading leaves the chart
    line = screen.timeline_model.index(0, 2).data()
    assert "[struck through: wrong patient]" in line


def test_models_pass_the_model_tester(qtbot, window, services, staff, planned, whole_session,
                                      qtmodeltester):
    whole_session(planned)
    screen = open_screen(qtbot, window, planned.id)
    assert screen.vitals_model.rowCount() == 3
    assert screen.timeline_model.rowCount() > 10
    qtmodeltester.check(screen.vitals_model)
    qtmodeltester.check(screen.timeline_model)


def test_a_signed_session_opens_read_only_with_its_addenda(qtbot, window, services, staff,
                                                           planned, whole_session, monkeypatch):
    whole_session(planned)
    services.sessions.sign(actor=staff.prescriber, session_id=planned.id,
                           password=staff.password(staff.prescriber))
    services.records.add_addendum(actor=staff.prescriber, session_id=planned.id,
                                  text="Patient phoned next day: well.",
                                  password=staff.password(staff.prescriber))
    screen = open_screen(qtbot, window, planned.id)
    assert screen.read_only
    assert not screen.vitals_box.isVisible()
    pump = screen.pump
    assert not any(b.isVisible() for b in (pump.start_button, pump.pause_button,
                                           pump.resume_button, pump.rate_button,
                                           pump.stop_button))
    assert screen.closing.addendum_button.isVisible()
    assert not screen.closing.sign_button.isVisible()
    assert "Patient phoned next day: well." in screen.closing.addenda_label.text()
    assert "SIGNED" in screen.header.status_badge.text()
    calls = []
    monkeypatch.setattr(screen_module.addendum, "add_addendum",
                        lambda *args: calls.append(args) or False)
    qtbot.mouseClick(screen.closing.addendum_button, Qt.MouseButton.LeftButton)
    assert calls == [(window.ctx, planned.id, screen)]


def test_recovery_buttons_call_the_steps(qtbot, window, services, staff, planned, monkeypatch):
    sid = planned.id
    for kind in ("start", "stop"):
        services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind=kind,
                                            rate_ml_per_h=150 if kind == "start" else None)
    screen = open_screen(qtbot, window, sid)
    calls = []
    monkeypatch.setattr(screen_module.discharge, "open_discharge",
                        lambda *args: calls.append(("discharge", *args)) or True)
    monkeypatch.setattr(screen_module.sign, "sign_session",
                        lambda *args: calls.append(("sign", *args)) or False)
    qtbot.mouseClick(screen.closing.discharge_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.closing.sign_button, Qt.MouseButton.LeftButton)
    assert [c[0] for c in calls] == ["discharge", "sign"]
    assert all(c[2] == sid and c[3] is screen for c in calls)
    assert "baseline vitals before dosing" in screen.closing.missing_label.text()


def test_after_a_crash_the_session_is_back_timed_from_the_stored_start(
        qtbot, window, services, staff, planned, clock, db_path):
    sid = planned.id
    screen = open_screen(qtbot, window, sid)
    type_vitals(qtbot, screen, ["72", "128", "82", "98", "14"])
    clock.advance(minutes=3)
    qtbot.mouseClick(screen.pump.start_button, Qt.MouseButton.LeftButton)
    started = clock.now()
    clock.advance(minutes=10)
    type_vitals(qtbot, screen, ["96", "186", "104", "96", "14"])
    window.close()

    # A new process: its own database connection, services and window, 25 minutes later.
    later = FixedClock(started + timedelta(minutes=25))
    reopened = open_database(sqlite_url(db_path), clock=later).database
    try:
        services2 = Services.for_database(reopened)
        window2 = make_window(qtbot, services2, staff.nurse)
        assert window2.sidebar.chair_ids() == [sid]
        assert "1 open ALERT" in window2.sidebar.chairs.item(0).text()
        window2.open_chair(1)
        screen2 = window2.session_screens[sid]
        assert screen2.header.since_label.text() == "25 min since start"
        assert screen2.vitals_model.rowCount() == 2
        assert screen2.alert_banner.isVisible()
        assert "Systolic 186 mmHg" in screen2.alert_banner.rows[0].text.text()
        assert "RUNNING at 150 mL/h" in screen2.pump.state_label.text()
        # 150 mL/h for 25 min = 62.5 mL at 0.4 mg/mL = 25 mg
        assert "Given 25 mg · 62.5 mL" in screen2.pump.delivered_label.text()
        assert screen2.vitals_model.index(1, 1).data() == "+10"
        window2.close()
    finally:
        reopened.dispose()


def second_session(services, staff, clock):
    form = PatientForm(mrn="T-0002", given_name="Robin", family_name="Samplename",
                       date_of_birth=date(1975, 1, 2), sex="male", indication="trd")
    other = services.patients.create(actor=staff.nurse, form=form)
    course = services.courses.start_course(actor=staff.nurse, patient_id=other.id,
                                           kind="induction", planned_sessions=6,
                                           started_on=clock.now().date())
    dose = DoseForm(route="iv", drug="ketamine", weight=60, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.5, duration_min=40)
    return services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                          planned_start=clock.now(), dose=dose)


def test_two_chairs_each_keep_their_own_timer(qtbot, window, services, staff, planned, clock):
    services.sessions.record_pump_event(actor=staff.nurse, session_id=planned.id,
                                        kind="start", rate_ml_per_h=150)
    clock.advance(minutes=12)
    other = second_session(services, staff, clock)
    services.sessions.record_pump_event(actor=staff.nurse, session_id=other.id, kind="start",
                                        rate_ml_per_h=60)
    services.entries.record_vitals(actor=staff.nurse, session_id=other.id,
                                   values=VitalsInput(hr=130, systolic=130, diastolic=80))
    qtbot.waitUntil(lambda: len(window.sidebar.chair_ids()) == 2)
    first_text, second_text = (window.sidebar.chairs.item(i).text() for i in range(2))
    assert "Testperson, Alex" in first_text and "+12 min" in first_text
    assert "vitals OVERDUE 2 min" in first_text
    assert "Samplename, Robin" in second_text and "1 open ALERT" in second_text
    assert "vitals in 10 min" in second_text

    window.open_chair(1)
    one = window.stack.currentWidget()
    window.next_chair()  # Ctrl+Tab
    two = window.stack.currentWidget()
    assert (one.session_id, two.session_id) == (planned.id, other.id)
    clock.advance(minutes=3)
    window.open_chair(1)
    assert window.stack.currentWidget() is one  # the same screen, not a new one
    # Only the chair on screen counts; a chair shown again catches up at once.
    assert one.timer.isActive() and not two.timer.isActive()
    assert one.header.since_label.text() == "15 min since start"
    assert two.header.since_label.text() == "0 min since start"
    clock.advance(minutes=1)
    window.next_chair()
    assert two.timer.isActive() and not one.timer.isActive()
    assert two.header.since_label.text() == "4 min since start"
    assert one.header.since_label.text() == "15 min since start"
    assert not two.alert_banner.isHidden() and one.alert_banner.isHidden()


SCENES = ["before_infusion", "mid_infusion", "recovery"]


def _scene(services, staff, planned, clock, scene):
    nurse, sid = staff.nurse, planned.id
    en, sv = services.entries, services.sessions
    sv.set_checklist(actor=nurse, session_id=sid, which="pre",
                     items={"consent_on_file": True, "fasting": True,
                            "escort_confirmed": True})
    en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
        hr=74, systolic=146, diastolic=88, spo2=98, rr=14), rhythm="sinus rhythm")
    if scene == "before_infusion":
        return
    sv.set_checklist(actor=nurse, session_id=sid, which="pre", items=ALL_PRE)
    for alert in sv.entries(sid).alerts:
        en.acknowledge_alert(actor=nurse, alert_id=alert.id, action="none",
                             note="rechecked at rest: 138/86")
    clock.advance(minutes=5)
    sv.record_pump_event(actor=nurse, session_id=sid, kind="start", rate_ml_per_h=150)
    for minute, (hr, sys_, dia) in enumerate([(80, 150, 90), (86, 166, 95), (92, 184, 104),
                                               (88, 168, 97)], start=1):
        clock.advance(minutes=10)
        en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
            hr=hr, systolic=sys_, diastolic=dia, spo2=97, rr=14), rhythm="sinus rhythm")
        if minute == 2:
            effect = en.record_side_effect(actor=nurse, session_id=sid, kind="nausea",
                                           severity="mild")
            en.record_intervention(actor=nurse, session_id=sid, kind="medication",
                                   drug="ondansetron", dose=4, dose_unit="mg", route="IV",
                                   reason="nausea", side_effect_id=effect.id)
            services.records.add_note(actor=nurse, patient_id=planned.patient_id,
                                      session_id=sid,
                                      text="Eye mask and music on at the patient's request.")
        if minute == 3:
            en.record_dissociation(actor=nurse, session_id=sid, intensity=4,
                                   valence="neutral", descriptors=["altered_time"],
                                   patient_words="time is slow")
            headache = en.record_side_effect(actor=nurse, session_id=sid, kind="headache",
                                             severity="mild")
            en.resolve_side_effect(actor=nurse, side_effect_id=headache.id)
        if minute == 4:
            en.record_dissociation(actor=nurse, session_id=sid, intensity=6,
                                   valence="pleasant", descriptors=["floating"],
                                   patient_words="like floating")
            en.record_side_effect(actor=nurse, session_id=sid, kind="dizziness",
                                  severity="moderate")
    clock.advance(minutes=2)
    en.record_dissociation(actor=nurse, session_id=sid, intensity=7, valence="pleasant",
                           descriptors=["floating", "body_detachment"],
                           patient_words="far away from my body, calm")
    services.records.add_note(actor=nurse, patient_id=planned.patient_id, session_id=sid,
                              text="Talking calmly, asked for the lights to be dimmed; "
                                   "escort waiting in the lounge.")
    if scene == "mid_infusion":
        return
    for alert in sv.entries(sid).alerts:
        if alert.is_open:
            en.acknowledge_alert(actor=nurse, alert_id=alert.id, action="slowed",
                                 note="rate lowered")
    sv.record_pump_event(actor=nurse, session_id=sid, kind="stop")
    clock.advance(minutes=15)
    en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
        hr=76, systolic=138, diastolic=86, spo2=98, rr=14))
    clock.advance(minutes=12)


@pytest.mark.skipif(not os.environ.get("KAPP_SCREENSHOTS"),
                    reason="set KAPP_SCREENSHOTS to a folder to save screenshots")
@pytest.mark.parametrize("scene", [*SCENES, "mid_infusion_1920", "mid_infusion_dark",
                                   "mid_infusion_typing", "recovery_dark"])
def test_save_screenshot(qtbot, services, staff, planned, clock, scene):
    """What the nurse sees on a 1366x768 clinic laptop (and a 1920x1080 screen, and in a
    dark palette), for a person to look at."""
    app = ensure_application()
    locale, palette = QLocale(), app.palette()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        if scene.endswith("_dark"):
            app.setPalette(dark_palette())
        _scene(services, staff, planned, clock, scene.removesuffix("_1920")
               .removesuffix("_dark").removesuffix("_typing"))
        window = make_window(qtbot, services, staff.nurse)
        if scene.endswith("_1920"):
            window.resize(1920, 1080)
        screen = open_screen(qtbot, window, planned.id)
        screen.tick()
        if scene.endswith("_typing"):  # a side effect's key, then Alt+2: both panels open
            qtbot.keyClick(screen.vitals_table, Qt.Key.Key_N)
            qtbot.keyClick(screen.vitals_table, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
        qtbot.wait(50)
        folder = Path(os.environ["KAPP_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(folder / f"session_{scene}.png"))
    finally:
        QLocale.setDefault(locale)
        app.setPalette(palette)


def test_clock_times_are_local_wall_clock(qtbot):
    from kapp.ui.session.models import clock_text

    moment = datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    assert clock_text(moment) == moment.astimezone().strftime("%H:%M")


def test_the_session_record_menu_saves_prints_and_offers_rems_only_for_esketamine(
        qtbot, window, planned, monkeypatch):
    from kapp.ui import report_actions

    calls = []
    for name in ("save_session_pdf", "print_session", "save_rems_pdf"):
        monkeypatch.setattr(report_actions, name,
                            lambda ctx, sid, parent, name=name: calls.append((name, sid)))
    screen = open_screen(qtbot, window, planned.id)
    assert screen.closing.record_button.menu() is not None
    screen.save_pdf_action.trigger()
    screen.print_action.trigger()
    assert calls == [("save_session_pdf", planned.id), ("print_session", planned.id)]
    assert not screen.rems_action.isVisible()  # a ketamine session has no REMS form


def test_cadss_is_a_key_away_in_the_infusion_and_in_recovery(qtbot, window, services, staff,
                                                             planned, clock):
    """The full dissociation scale opens from its panel without an intensity picked first,
    and without waiting for the peak reminder: Tab from the intensity then Space, or Alt+C
    from anywhere on the screen, or a click. At the peak during the infusion (and in
    recovery while no peak scale is recorded), after the session once one is."""
    from kapp.ui.session_steps.instrument import InstrumentDialog

    sid = planned.id
    services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind="start",
                                        rate_ml_per_h=150)
    clock.advance(minutes=20)  # before the peak reminder
    screen = open_screen(qtbot, window, sid)
    screen.tick()
    panel = screen.dissociation
    assert not screen.peak_banner.isVisible()
    assert panel.intensity.value() is None and not panel.details.isVisible()
    assert panel.cadss_button.isVisible() and panel.cadss_button.isEnabled()
    assert "at the peak" in panel.cadss_when.text()
    opened = []

    def answer(score):
        def fill():
            dialog = QApplication.activeModalWidget()
            assert isinstance(dialog, InstrumentDialog)
            opened.append(dialog.time_point)
            dialog.form.set_answers({n: score for n in dialog.form.rows})
            dialog.accept()
        return fill

    def cadss():
        return [r for r in services.sessions.entries(sid).instruments
                if r.instrument == "cadss" and not r.entry.is_struck]

    # Alt+2 puts the keyboard on the intensity; Tab goes on to CADSS…, Space opens it.
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.intensity.hasFocus())
    # (the rest of a report is open under the intensity now: Tab goes through it first)
    for _ in range(40):
        if panel.cadss_button.hasFocus():
            break
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert panel.cadss_button.hasFocus()
    QTimer.singleShot(0, answer(1))
    qtbot.keyClick(panel.cadss_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(cadss()) == 1)
    assert opened == [e.TimePoint.PEAK]
    assert cadss()[0].time_point is e.TimePoint.PEAK and cadss()[0].session_id == sid
    assert "CADSS total 23" in panel.recent.toPlainText()
    assert not services.sessions.entries(sid).dissociation  # no intensity was needed

    # In recovery, with the peak scale recorded: Alt+C from the vitals row, after the session.
    services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind="stop")
    clock.advance(minutes=10)
    qtbot.waitUntil(lambda: "after the session" in panel.cadss_when.text())
    window.activateWindow()  # back from the dialog (a window manager does this itself)
    qtbot.waitUntil(window.isActiveWindow)
    screen.vitals_entry.focus_first()
    qtbot.waitUntil(lambda: screen.vitals_entry.edits["hr"].hasFocus())
    QTimer.singleShot(0, answer(0))
    qtbot.keyClick(screen.vitals_entry.edits["hr"], Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: len(cadss()) == 2)
    assert opened[-1] is e.TimePoint.POST_SESSION
    assert sorted(r.time_point for r in cadss()) == [e.TimePoint.PEAK, e.TimePoint.POST_SESSION]
    assert screen.vitals_entry.edits["hr"].text() == ""  # the letter did not land there


def test_cadss_in_recovery_counts_at_the_peak_until_one_is_recorded(qtbot, window, services,
                                                                    staff, planned, clock):
    """A short infusion stopped before the peak reminder: the CADSS opened in recovery (a
    click) is the session's peak scale, and the reminder goes."""
    from kapp.ui.session_steps.instrument import InstrumentDialog

    sid = planned.id
    services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind="start",
                                        rate_ml_per_h=150)
    clock.advance(minutes=30)
    services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind="stop")
    clock.advance(minutes=15)
    screen = open_screen(qtbot, window, sid)
    screen.tick()
    panel = screen.dissociation
    assert screen.peak_banner.isVisible()
    assert panel.cadss_button.isEnabled() and "at the peak" in panel.cadss_when.text()

    def fill():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, InstrumentDialog)
        dialog.form.set_answers({n: 0 for n in dialog.form.rows})
        dialog.accept()

    QTimer.singleShot(0, fill)
    qtbot.mouseClick(panel.cadss_button, Qt.MouseButton.LeftButton)
    [result] = [r for r in services.sessions.entries(sid).instruments if r.instrument == "cadss"]
    assert result.time_point is e.TimePoint.PEAK
    screen.tick()
    assert not screen.peak_banner.isVisible()
    assert "after the session" in panel.cadss_when.text()
