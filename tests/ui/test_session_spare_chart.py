"""A chair's screen draws into a session chart the main window made ahead, while nobody
was typing (``MainWindow.warm_up_steps``), and draws there what a chart made then would
(bench/session.py times the screen's opening)."""

from __future__ import annotations

import pytest

from kapp.domain.errors import StorageUnavailable
from kapp.ui import main_window
from kapp.ui.main_window import MainWindow
from kapp.ui.session.chart import MARKERS, SessionChart
from tests.ui.test_session_reads import two_chairs  # noqa: F401 - a fixture, used here
from tests.ui.test_session_screen import make_window, type_vitals

pytestmark = pytest.mark.gui


def drawn(chart: SessionChart) -> dict:
    lines = {name: chart.series(name) for name in chart.curves}
    marks = {kind: [(p.pos().x(), p.pos().y(), p.data()) for p in chart.scatters[kind].points()]
             for kind in MARKERS}
    return {"lines": lines, "marks": marks,
            "x": chart.plot.getPlotItem().getAxis("bottom").labelText,
            "pump": [line.value() for line in chart.pump_markers],
            "levels": [line.value() for line in chart.threshold_lines]}


def test_a_chairs_screen_draws_into_the_chart_made_ahead_and_another_is_made(
        qtbot, monkeypatch, services, staff, two_chairs):  # noqa: F811 - the fixture
    monkeypatch.setattr(main_window, "SPARE_CHART_AFTER_MS", 50)
    here, there = two_chairs
    window = make_window(qtbot, services, staff.nurse)
    for step in window.warm_up_steps():  # as kapp.ui.warm_up does once the window is up
        step()
    spare = window.spare_chart
    assert spare is not None and spare.isHidden()

    window.open_session(here)
    screen = window.session_screens[here]
    assert window.spare_chart is None  # taken: the next is made a moment later
    type_vitals(qtbot, screen, ["72", "128", "82", "98", "14"])
    assert screen.chart is spare and screen.chart.isVisible()
    qtbot.waitUntil(lambda: window.spare_chart is not None, timeout=2000)
    assert window.spare_chart is not spare and window.spare_chart.isHidden()

    fresh = SessionChart()  # what a chart made now draws of the same session
    qtbot.addWidget(fresh)
    fresh.show_entries(screen.session, screen.entries, screen.protocol)
    assert drawn(screen.chart) == drawn(fresh)
    assert drawn(fresh)["lines"]["hr"][1] == [72.0]  # the reading typed, drawn

    window.open_session(there)  # no chart made ahead by then: the screen makes its own
    assert window.session_screens[there].chart not in (spare, None)


def test_a_screen_that_could_not_open_leaves_the_chart_made_ahead_for_the_next(
        qtbot, monkeypatch, services, staff, two_chairs):  # noqa: F811 - the fixture
    here, _there = two_chairs
    window = make_window(qtbot, services, staff.nurse)
    window.make_spare_chart()
    spare = window.spare_chart
    warned: list[str] = []
    monkeypatch.setattr(MainWindow, "warn",
                        staticmethod(lambda parent, title, text: warned.append(text)))

    def away(_session_id):
        raise StorageUnavailable("server_unreachable", "The database server is away.")

    monkeypatch.setattr(services.sessions, "get", away)
    window.open_session(here)
    assert warned and "could not be opened" in warned[0]
    assert here not in window.session_screens
    assert window.spare_chart is spare  # kept, not lost with the screen

    monkeypatch.undo()
    window.open_session(here)
    assert window.session_screens[here].chart is spare
