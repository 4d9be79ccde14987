"""Fixtures shared by the GUI tests."""

from __future__ import annotations

import collections

import pytest

from kapp.ui.context import AppContext


@pytest.fixture
def ctx(services, staff) -> AppContext:
    """The screens' context with a nurse signed in."""
    context = AppContext(services)
    context.set_user(staff.nurse)
    return context


@pytest.fixture
def ticks_worked_out(monkeypatch) -> collections.Counter:
    """How many times each axis orientation worked out its ticks (pyqtgraph's
    ``generateDrawSpecs``), with nothing shared yet between axes (``PlainAxis``)."""
    import pyqtgraph as pg

    from kapp.ui.chart_axes import PlainAxis

    counts: collections.Counter = collections.Counter()
    own = pg.AxisItem.generateDrawSpecs

    def counted(axis, painter):
        counts[axis.orientation] += 1
        return own(axis, painter)

    monkeypatch.setattr(pg.AxisItem, "generateDrawSpecs", counted)
    monkeypatch.setattr(PlainAxis, "_SHARED", {})
    return counts
