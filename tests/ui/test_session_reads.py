"""What the session screens read, with several chairs open: a reading recorded in one
chair is read back once, for that chair's screen and all its panels, and not by the
chairs that are not on screen until the nurse goes to them (bench/session.py times it)."""

from __future__ import annotations

import collections

import pytest
from gui_helpers import tab_through_vitals
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter

from kapp.services.changes import Change
from kapp.services.sessions import DoseForm
from kapp.ui.session.chart import SessionChart
from tests.ui.test_session_screen import make_window


@pytest.fixture
def two_chairs(services, staff, course, planned):
    dose = DoseForm(route="iv", drug="ketamine", weight=80, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.4, duration_min=40)
    other = services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                           planned_start=planned.planned_start, dose=dose,
                                           prescriber_id=staff.prescriber.id)
    return planned.id, other.id


@pytest.fixture
def reads(monkeypatch, services):
    """Session ids whose entries were read, by whom (screen or panel)."""
    seen: dict[str, list] = collections.defaultdict(list)
    for name, service in (("screen", services.sessions), ("panel", services.records)):
        method = "entries" if name == "screen" else "session_entries"
        original = getattr(service, method)

        def counted(session_id, _original=original, _name=name):
            seen[_name].append(session_id)
            return _original(session_id)

        monkeypatch.setattr(service, method, counted)
    return seen


def test_a_reading_is_read_back_once_and_not_by_the_chairs_out_of_view(
        qtbot, services, staff, two_chairs, reads):
    here, there = two_chairs
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(there)
    window.open_session(here)
    screen = window.session_screens[here]
    qtbot.wait(50)  # what opening set off
    reads.clear()
    delivered: list[frozenset] = []
    window.ctx.changes.changed.connect(delivered.append)

    qtbot.keyClick(tab_through_vitals(qtbot, screen.vitals_entry, ["72", "128", "82", "98",
                                                                   "14"]), Qt.Key.Key_Return)
    assert screen.vitals_model.rowCount() == 1  # shown at once, the panels with it
    qtbot.waitUntil(lambda: bool(delivered))
    assert Change.ENTRIES in delivered[0]
    qtbot.wait(20)
    # One read for the screen and its three panels; the change that the entry notified
    # comes after that read and is not read again; the other chair waits.
    assert reads == {"screen": [here]}

    reads.clear()
    window.open_session(there)
    assert reads == {"screen": [there]}  # read when the nurse goes to it
    window.open_session(here)
    assert reads == {"screen": [there]}  # nothing changed here since


def test_a_change_from_elsewhere_is_read_once(qtbot, services, staff, two_chairs, reads):
    """A change the screen did not make (a device, another workstation's entry relayed)
    is read once for the screen and its panels, and each panel shows it."""
    here, _there = two_chairs
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(here)
    screen = window.session_screens[here]
    qtbot.wait(50)
    reads.clear()
    services.records.add_note(actor=staff.nurse2, patient_id=screen.patient.id,
                              session_id=here, text="Feels floaty, calm.")
    qtbot.waitUntil(lambda: screen.notes.list.count() == 1)
    assert "Feels floaty" in screen.notes.list.item(0).text()
    assert reads == {"screen": [here]}


def test_the_chart_grid_is_solid_and_under_the_readings(qtbot):
    """See-through grid lines made each paint of the chart slow (Qt draws them pixel by
    pixel); solid ones of the same faint colour, under the readings, look the same."""
    chart = SessionChart()
    qtbot.addWidget(chart)
    chart.resize(500, 300)
    chart.show()
    qtbot.waitExposed(chart)
    item = chart.plot.getPlotItem()
    view_z = item.getViewBox().zValue()
    background = chart.plot.backgroundBrush().color()
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        assert axis.zValue() < view_z
        image = QImage(10, 10, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            _line, ticks, _texts = axis.generateDrawSpecs(painter)
        finally:
            painter.end()
        colours = {pen.color().rgba() for pen, *_ in ticks}
        assert all(QColor.fromRgba(c).alpha() == 255 for c in colours)
        assert QColor(background).rgba() not in colours  # faint, not gone
        assert len(colours) > 1  # the minor lines fainter than the major ones


def test_chairs_charts_of_the_same_minutes_work_out_their_ticks_once(
        qtbot, services, planned, ticks_worked_out):
    """Every chair's chart shows about the same minutes and mmHg: the second chart's axes
    take the first one's ticks, and draw exactly what they would have worked out alone."""
    from kapp.ui.chart_axes import PlainAxis

    worked_out = ticks_worked_out
    session = services.sessions.get(planned.id)
    entries = services.sessions.entries(planned.id)
    protocol = services.protocol.current()

    def chart() -> SessionChart:
        made = SessionChart()
        qtbot.addWidget(made)
        made.resize(500, 300)
        made.show_entries(session, entries, protocol)
        return made

    first, second = chart(), chart()
    images = first.grab().toImage(), second.grab().toImage()
    assert worked_out == {"left": 1, "bottom": 1}
    PlainAxis._SHARED.clear()
    for side in ("left", "bottom"):
        second.plot.getPlotItem().getAxis(side).picture = None
    assert second.grab().toImage() == images[1] == images[0]
    assert worked_out == {"left": 2, "bottom": 2}


def test_the_seconds_tick_reads_nothing_and_gives_the_services_dose(
        qtbot, services, staff, planned, clock, monkeypatch):
    """Each open chair ticks every second: the dose given so far is added up from the pump
    events the screen read, the same sum the services make, without a read per tick."""
    sid = planned.id
    services.sessions.record_pump_event(actor=staff.nurse, session_id=sid, kind="start",
                                        rate_ml_per_h=150)
    window = make_window(qtbot, services, staff.nurse)
    window.open_session(sid)
    screen = window.session_screens[sid]
    clock.advance(minutes=12)
    asked = []
    original = services.sessions.delivery
    monkeypatch.setattr(services.sessions, "delivery",
                        lambda *a, **k: asked.append(a) or original(*a, **k))
    screen.tick()
    assert asked == []
    given = original(sid)
    assert given.volume_ml == pytest.approx(30)  # 150 mL/h for 12 minutes
    assert "Given 12 mg · 30 mL" in screen.pump.delivered_label.text()


def test_a_note_by_a_colleague_added_since_the_screen_opened_is_signed_by_name(
        qtbot, services, staff, planned):
    """The screen keeps the staff's names it read on opening; a colleague given an account
    afterwards is read in when the accounts change, so their note is not signed "?"."""
    from kapp.domain.enums import Role

    window = make_window(qtbot, services, staff.nurse)
    window.open_session(planned.id)
    screen = window.session_screens[planned.id]
    newcomer = services.users.create_user(actor=staff.admin, username="nurse9",
                                          full_name="Noor Newcomer", role=Role.NURSE,
                                          password=staff.password("nurse9"))
    services.records.add_note(actor=newcomer, patient_id=screen.patient.id,
                              session_id=planned.id, text="Took over the chair.")
    qtbot.waitUntil(lambda: screen.notes.list.count() == 1)
    assert "Noor Newcomer" in screen.notes.list.item(0).text()
