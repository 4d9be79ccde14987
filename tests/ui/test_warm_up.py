"""The patient page readied while the nurse finds a patient (kapp.ui.warm_up)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from kapp.ui.warm_up import CHARTS, PAGE_MODULES, WarmUp
from tests.ui import test_progress_view as progress
from tests.ui.test_progress_view import close_view, drawn, open_view

pytestmark = pytest.mark.gui

demo_patient, english = progress.demo_patient, progress.english  # its fixtures, here too


@pytest.fixture
def pool():
    from kapp.ui.progress_view import POOL

    POOL.clear()
    yield POOL
    POOL.clear()
    QThreadPool.globalInstance().waitForDone()


@pytest.fixture
def window(qtbot):
    widget = QWidget()
    widget.search = QLineEdit(widget)
    QVBoxLayout(widget).addWidget(widget.search)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_the_first_page_draws_into_the_charts_made_ahead(qtbot, services, demo_patient,
                                                         english, pool, window):
    warm = WarmUp(window, delay_ms=0)
    with qtbot.waitSignal(warm.done, timeout=60_000):
        pass
    assert all(name in sys.modules for name in PAGE_MODULES)
    assert len(pool) == CHARTS
    made = {id(chart) for chart in pool._charts}
    panel = pool._panels[-1]

    view, _ = open_view(qtbot, services, demo_patient)
    assert made & {id(chart) for chart in view.charts}, "the charts made ahead were not used"
    assert view.summary is panel
    ahead = drawn(view)
    close_view(view)
    pool.clear()
    fresh, _ = open_view(qtbot, services, demo_patient)
    assert ahead == drawn(fresh)  # the same as drawn on charts made then


def test_no_charts_are_made_once_a_page_has_drawn_its_own(qtbot, services, demo_patient,
                                                          pool, window):
    view, _ = open_view(qtbot, services, demo_patient)
    warm = WarmUp(window, delay_ms=0)
    with qtbot.waitSignal(warm.done, timeout=60_000):
        pass
    assert len(pool) == 0
    close_view(view)


def test_it_waits_while_someone_types(qtbot, pool, window, monkeypatch):
    monkeypatch.setattr(WarmUp, "QUIET_MS", 60_000)
    warm = WarmUp(window, delay_ms=60_000)
    warm._start_imports()  # now; what they end in waits for the event loop
    qtbot.keyClicks(window.search, "okaf")
    qtbot.waitUntil(lambda: bool(warm._steps), timeout=60_000)  # imported: steps are due
    qtbot.wait(100)
    assert len(pool) == 0 and len(warm._steps) == 2 + CHARTS  # nothing done while typing
    warm._last_input = 0.0  # quiet since
    monkeypatch.setattr(WarmUp, "QUIET_MS", 0)
    with qtbot.waitSignal(warm.done, timeout=60_000):
        warm._next()
    assert len(pool) == CHARTS


def test_what_the_window_readies_is_done_last(qtbot, pool, window):
    done: list[str] = []
    window.warm_up_steps = lambda: [lambda: done.append(f"after {len(pool)} charts")]
    warm = WarmUp(window, delay_ms=0)
    with qtbot.waitSignal(warm.done, timeout=60_000):
        pass
    assert done == [f"after {CHARTS} charts"]
