"""The progress view and the clinic overview, driven as a prescriber would."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from gui_helpers import dark_palette
from PySide6.QtCore import QEvent, QLocale, QPoint, QPointF, Qt, QThreadPool
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from kapp.domain import enums as e
from kapp.services.demo import write_demo_clinic
from kapp.storage import models as m
from kapp.ui.app import ensure_application
from kapp.ui.context import AppContext
from kapp.ui.overview import Overview
from kapp.ui.progress_charts import DATE_AXIS, DayAxis, point_for
from kapp.ui.progress_view import ProgressView
from tests.conftest import START

pytestmark = pytest.mark.gui

PHQ9_ITEM9 = {1: 3, 2: 3, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 2, 9: 1}  # 19, item 9 positive


class FakeNavigator:
    def __init__(self) -> None:
        self.calls: list[tuple[str, uuid.UUID | None]] = []

    def show_overview(self) -> None:
        self.calls.append(("overview", None))

    def show_patients(self) -> None:
        self.calls.append(("patients", None))

    def open_patient(self, patient_id: uuid.UUID) -> None:
        self.calls.append(("patient", patient_id))

    def open_session(self, session_id: uuid.UUID) -> None:
        self.calls.append(("session", session_id))


@pytest.fixture(autouse=True)
def _no_read_outlives_the_test():
    yield
    QThreadPool.globalInstance().waitForDone()


@pytest.fixture
def english():
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    yield
    QLocale.setDefault(locale)


@pytest.fixture
def demo_patient(db):
    """The demo patient treated for depression with the most sessions (at least six)."""
    write_demo_clinic(db, patients=12, seed=3, today=START.date())
    with db.reading() as s:
        done = Counter(s.execute(sa.select(m.Session.patient_id).where(
            m.Session.status != e.SessionStatus.PLANNED)).scalars())
        depressed = set(s.execute(sa.select(m.Patient.id).where(
            m.Patient.indication.in_([e.Indication.TRD, e.Indication.DEPRESSION_SI]))).scalars())
    pid, count = max(((p, n) for p, n in done.items() if p in depressed), key=lambda x: x[1])
    assert count >= 6
    return pid


def open_view(qtbot, services, patient_id, size=(1366, 768)):
    navigator = FakeNavigator()
    view = ProgressView(AppContext(services), patient_id, navigator)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitUntil(lambda: view.progress is not None and not view.loading, timeout=20000)
    return view, navigator


def hover(widget, where: QPoint) -> None:
    """The mouse comes to rest over ``where`` (a real move event; QTest's may not reach an
    offscreen window's hover handling)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(where), QPointF(widget.mapToGlobal(where)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def count(view, title: str, scatter: str) -> int:
    return len(view.chart(title).scatters[scatter].points())


def test_each_chart_has_a_point_per_session(qtbot, services, demo_patient, english):
    view, _ = open_view(qtbot, services, demo_patient)
    series = services.progress.progress(demo_patient).series
    phq9 = series.scores[0]
    assert phq9.code == "phq9"
    assert count(view, "PHQ-9", "PHQ-9") == len(phq9.points) >= 6
    assert count(view, "GAD-7", "GAD-7") == len(series.scores[1].points)
    assert count(view, "Dissociation: peak", "Peak intensity") == sum(
        p.peak_intensity is not None for p in series.dissociation)
    assert count(view, "Blood pressure rise", "BP rise") == sum(
        p.bp_rise is not None for p in series.safety)
    assert count(view, "Peak heart rate", "Peak heart rate") == sum(
        p.peak_hr is not None for p in series.safety)
    assert count(view, "Side effects", "Side effects") == len(series.sessions)
    assert count(view, "Dose", "Prescribed") == sum(p.mg_per_kg is not None for p in series.dose)
    if phq9.flagged_points:
        assert count(view, "PHQ-9", "Item 9 positive") == len(phq9.flagged_points)
    labels = view.chart("PHQ-9").labels
    assert f"Baseline {phq9.baselines[0].baseline:g}" in labels
    assert "Remission: below 5" in labels
    assert {"Minimal", "Mild", "Moderate", "Moderately severe", "Severe"} <= set(labels)
    assert "Induction ▸" in view.chart("Dose").labels
    first = view.summary.cards[0].text()
    assert "PHQ-9" in first and "→" in first


def test_hovering_a_point_names_the_session_and_clicking_opens_it(qtbot, services,
                                                                  demo_patient, english):
    view, navigator = open_view(qtbot, services, demo_patient)
    series = services.progress.progress(demo_patient).series
    chart = view.chart("PHQ-9")
    view.scroll.ensureWidgetVisible(chart)
    scatter = chart.scatters["PHQ-9"]
    spot = scatter.points()[1]
    tip = scatter.opts["tip"](x=spot.pos().x(), y=spot.pos().y(), data=spot.data())
    point = series.scores[0].points[1]
    assert tip.startswith(point.session.label)
    assert f"PHQ-9 {point.total:g}" in tip
    assert "from baseline" in tip

    def rest_on_the_point() -> bool:  # once the layout has settled, the tip appears
        hover(chart.viewport(), chart.mapFromScene(point_for(scatter, 1)))
        return "PHQ-9" in chart.getPlotItem().vb.toolTip()

    qtbot.waitUntil(rest_on_the_point)
    assert point.session.label in chart.getPlotItem().vb.toolTip()
    where = chart.mapFromScene(point_for(scatter, 1))

    qtbot.mouseClick(chart.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: bool(navigator.calls))
    assert navigator.calls == [("session", point.session.session_id)]

    dose = view.chart("Dose").scatters["Prescribed"]
    dose_tip = dose.opts["tip"](x=0, y=0, data=dose.points()[0].data())
    assert "mg/kg" in dose_tip and series.sessions[0].label in dose_tip


def test_a_chart_is_read_and_its_sessions_opened_from_the_keyboard(qtbot, services,
                                                                   demo_patient, english):
    view, navigator = open_view(qtbot, services, demo_patient)
    series = services.progress.progress(demo_patient).series
    chart = view.chart("PHQ-9")
    points = series.scores[0].points
    chart.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(chart.hasFocus)
    assert chart.keys.text.startswith(points[-1].session.label)  # the latest, at once
    assert chart.accessibleDescription() == chart.keys.text
    qtbot.keyClick(chart, Qt.Key.Key_Home)
    assert chart.keys.text.startswith(points[0].session.label)
    qtbot.keyClick(chart, Qt.Key.Key_Right)
    assert chart.keys.text.startswith(points[1].session.label)
    assert f"PHQ-9 {points[1].total:g}" in chart.keys.text
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    qtbot.keyClick(chart, Qt.Key.Key_Left)  # stays on the first
    assert chart.keys.text.startswith(points[0].session.label)
    qtbot.keyClick(chart, Qt.Key.Key_Return)
    assert navigator.calls == [("session", points[0].session.session_id)]

    dose = view.chart("Dose")  # two lines: ↓ goes from prescribed to delivered
    dose.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(dose.hasFocus)
    assert dose.keys.line == "Prescribed"
    qtbot.keyClick(dose, Qt.Key.Key_Down)
    assert dose.keys.line == "Delivered"
    assert "mg/kg" in dose.keys.text
    qtbot.keyClick(dose, Qt.Key.Key_Escape)
    assert dose.keys.text == ""


def test_tab_reaches_the_charts(qtbot, services, demo_patient):
    view, _ = open_view(qtbot, services, demo_patient)
    view.by_session.setFocus()
    reached = set()
    for _ in range(30):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.add(QApplication.focusWidget())
    assert set(view.charts) <= reached


def test_the_x_axis_switches_to_dates(qtbot, services, demo_patient, english):
    view, _ = open_view(qtbot, services, demo_patient)
    before = count(view, "PHQ-9", "PHQ-9")
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.axis == DATE_AXIS)
    chart = view.chart("PHQ-9")
    assert isinstance(chart.getPlotItem().getAxis("bottom"), DayAxis)
    assert count(view, "PHQ-9", "PHQ-9") == before
    xs = [p.pos().x() for p in chart.scatters["PHQ-9"].points()]
    assert min(xs) > 1e9  # seconds since 1970, not session numbers


def test_a_new_score_redraws_the_view(qtbot, services, staff, patient, course, planned,
                                      whole_session):
    services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                       instrument="phq9", answers=PHQ9_ITEM9,
                                       time_point="baseline", session_id=planned.id)
    view, _ = open_view(qtbot, services, patient.id)
    assert count(view, "PHQ-9", "PHQ-9") == 1
    assert count(view, "PHQ-9", "Item 9 positive") == 1
    # The marker's meaning is said once, beside the title, not by each marker (where
    # names collided with the bands' and the baseline's).
    phq9 = view.chart("PHQ-9")
    assert "▲ = item 9 positive" in phq9.labels and "Item 9 positive" not in phq9.labels
    assert "▲ = item 9 positive" in phq9.getPlotItem().titleLabel.text
    whole_session(planned)
    qtbot.waitUntil(lambda: [p.bp_rise for p in view.progress.series.safety] == [54],
                    timeout=10000)
    assert count(view, "Blood pressure rise", "BP rise") == 1
    assert "+54 mmHg" in view.summary.cards[-1].text()


def test_a_patient_without_sessions_shows_empty_charts(qtbot, services, patient):
    view, _ = open_view(qtbot, services, patient.id)
    assert "No scores recorded yet" in view.chart("Scores").labels
    assert "No session yet" in view.summary.cards[2].text()


# -- overview ------------------------------------------------------------------------------


def open_overview(qtbot, services):
    navigator = FakeNavigator()
    overview = Overview(AppContext(services), navigator)
    qtbot.addWidget(overview)
    overview.resize(1366, 768)
    overview.show()
    qtbot.waitUntil(lambda: overview.data is not None and not overview.loading, timeout=20000)
    return overview, navigator


def test_overview_lists_and_opens_what_needs_attention(qtbot, services, staff, patient,
                                                      planned, whole_session, english):
    services.records.record_instrument(actor=staff.nurse, patient_id=patient.id,
                                       instrument="phq9", answers=PHQ9_ITEM9,
                                       time_point="baseline", session_id=planned.id)
    whole_session(planned)
    services.entries.record_side_effect(actor=staff.nurse, session_id=planned.id,
                                        kind="emergence_reaction", severity="severe",
                                        serious=True)
    overview, navigator = open_overview(qtbot, services)
    (flag,) = overview.flags.texts()
    assert "Testperson, Alex (T-0001)" in flag and "PHQ-9 19" in flag
    assert overview.flags.title().endswith("(1)")
    assert "Testperson" in overview.today.texts()[0]
    assert "Today" in overview.unsigned.texts()[0]
    assert "serious" in overview.effects.texts()[0]
    assert overview.due.texts() == ["✔ Nobody is due"]

    item = overview.flags.list.item(0)
    rect = overview.flags.list.visualItemRect(item)
    qtbot.mouseClick(overview.flags.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert navigator.calls == [("session", planned.id)]

    services.records.add_note(actor=staff.prescriber, patient_id=patient.id,
                              text="Phoned: safe, plan agreed")
    qtbot.waitUntil(lambda: overview.flags.texts() == ["✔ Nothing awaiting"], timeout=10000)


def test_overview_reading_can_be_cancelled(qtbot, services, staff):
    overview, _ = open_overview(qtbot, services)
    overview.refresh()
    assert overview.loading and overview.cancel_button.isVisible()
    qtbot.mouseClick(overview.cancel_button, Qt.MouseButton.LeftButton)
    assert not overview.loading
    assert "Cancelled" in overview.status.text()
    assert overview.refresh_button.isEnabled()


# -- screenshots ---------------------------------------------------------------------------

SHOTS = os.environ.get("KAPP_SCREENSHOTS")




@pytest.mark.skipif(not SHOTS, reason="set KAPP_SCREENSHOTS to a folder to save screenshots")
@pytest.mark.parametrize("scene", ["progress", "progress_dates", "progress_dark",
                                   "progress_all_charts"])
def test_save_progress_screenshot(qtbot, services, demo_patient, english, scene):
    app = ensure_application()  # the type size kapp runs with
    old = app.palette()
    if scene == "progress_dark":
        app.setPalette(dark_palette())
    try:
        # All charts: a window tall enough to show every one (a grab of the scrolled-away
        # part of a scroll area is not painted).
        size = (1366, 1500) if scene == "progress_all_charts" else (1366, 768)
        view, _ = open_view(qtbot, services, demo_patient, size)
        if scene == "progress_dates":
            view.set_axis(DATE_AXIS)
        qtbot.wait(50)
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        assert view.grab().save(str(folder / f"{scene}.png"))
    finally:
        app.setPalette(old)


@pytest.mark.skipif(not SHOTS, reason="set KAPP_SCREENSHOTS to a folder to save screenshots")
def test_save_overview_screenshot(qtbot, services, db, english):
    ensure_application()
    write_demo_clinic(db, patients=60, seed=5, today=START.date())
    overview, _ = open_overview(qtbot, services)
    qtbot.wait(50)
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    assert overview.grab().save(str(folder / "overview.png"))


def test_point_positions_are_inside_the_chart(qtbot, services, demo_patient):
    view, _ = open_view(qtbot, services, demo_patient)
    chart = view.chart("PHQ-9")
    where = chart.mapFromScene(point_for(chart.scatters["PHQ-9"], 0))
    assert chart.viewport().rect().contains(QPoint(where.x(), where.y()))


# -- charts kept from one patient's view for the next ---------------------------------------


def close_view(view) -> None:
    view.deleteLater()  # as the main window closes a patient page: the charts go to the pool
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _looks(item) -> tuple:
    """What one item draws, in comparable words and numbers."""
    import pyqtgraph as pg

    def r(values) -> tuple:
        return tuple(round(float(v), 4) for v in values)

    name = type(item).__name__
    if isinstance(item, pg.TextItem):
        return (name, item.toPlainText(), r((item.pos().x(), item.pos().y())))
    if isinstance(item, pg.PlotDataItem):
        xs, ys = item.getData()
        return (name, r(xs), r(ys), item.opts["pen"].style())
    if isinstance(item, pg.BarGraphItem):
        return (name, r(item.opts["x"]), r(item.opts["height"]), r(item.opts["y0"]))
    if isinstance(item, pg.InfiniteLine):
        return (name, round(item.value(), 4))
    if hasattr(item, "rect"):
        rect = item.rect()
        return (name, r((rect.top(), rect.height())), item.brush().color().name())
    return (name,)


def drawn(view) -> list[tuple]:
    """Everything each chart shows: title, texts, each point series, how many items."""
    out = []
    for chart in view.charts:
        plot = chart.getPlotItem()
        chart.grab()  # painted: the y auto-range is worked out as shown
        # (The x-range is left out: x-linked charts of one column are lined up on screen,
        # which depends on whether they were laid out yet when linked.)
        _x, (y0, y1) = plot.viewRange()
        points = {name: [(round(p.pos().x(), 6), round(p.pos().y(), 6), p.data().session_id)
                         for p in scatter.points()]
                  for name, scatter in chart.scatters.items()}
        shown = Counter(_looks(item) for item in chart.visible_items())
        out.append((chart.title_text, sorted(chart.labels), points, sorted(shown.items()),
                    plot.getAxis("left").labelText, plot.vb.toolTip(),
                    plot.getAxis("left")._tickSpacing, plot.vb.state["autoRange"][1],
                    chart._open_session is view.charts[0]._open_session,
                    (round(y0, 3), round(y1, 3))))
    panel = view.summary  # the figures above the charts, as shown
    out.append(tuple((c.text(), c.accessibleName()) for c in panel.cards
                     if c.isVisibleTo(panel)))
    return out


def test_a_reused_chart_shows_nothing_of_the_previous_patient(qtbot, services, db,
                                                              demo_patient, english):
    from kapp.ui.progress_view import POOL

    with db.reading() as s:  # the demo patient with fewest sessions: other charts, fewer
        counts = Counter(s.execute(sa.select(m.Session.patient_id)).scalars())
        everyone = s.execute(sa.select(m.Patient.id)).scalars().all()
    other = min(everyone, key=lambda p: (counts[p], str(p)))

    POOL.clear()
    first, _ = open_view(qtbot, services, demo_patient)
    kept = set(map(id, first.charts))
    panel = first.summary
    assert len(first.charts) >= 7
    close_view(first)
    assert len(POOL) == len(kept)

    second, navigator = open_view(qtbot, services, other)
    assert kept & set(map(id, second.charts)), "the charts were not reused"
    assert second.summary is panel, "the summary panel was not reused"
    assert len(POOL) == len(kept) - len(second.charts)  # the rest wait for the next patient
    reused = drawn(second)
    assert all(c._open_session == navigator.open_session for c in second.charts)
    close_view(second)

    POOL.clear()
    fresh, _ = open_view(qtbot, services, other)
    assert not kept & set(map(id, fresh.charts))
    assert reused == drawn(fresh)  # the same as drawn on new charts, item for item


def test_the_next_patient_draws_into_the_previous_ones_charts(qtbot, services, demo_patient,
                                                                english):
    from kapp.ui.progress_view import POOL

    POOL.clear()
    first, _ = open_view(qtbot, services, demo_patient)
    close_view(first)
    again, _ = open_view(qtbot, services, demo_patient)
    reused = drawn(again)
    close_view(again)
    POOL.clear()
    fresh, _ = open_view(qtbot, services, demo_patient)
    assert reused == drawn(fresh)


def test_reset_sets_back_what_a_drawing_changed(qtbot, services, demo_patient, english):
    view, _ = open_view(qtbot, services, demo_patient)
    chart = view.chart("Side effects")
    plot = chart.getPlotItem()
    assert plot.getAxis("left")._tickSpacing is not None and plot.items
    chart.reset("PHQ-9 total", "score")
    assert chart.title_text == "PHQ-9 total" and "PHQ-9 total" in plot.titleLabel.text
    assert plot.getAxis("left")._tickSpacing is None
    assert plot.vb.state["autoRange"][1] and not plot.vb.toolTip()
    chart.finish()  # a drawing of nothing: every kept item is hidden
    assert not chart.visible_items() and not chart.scatters and not chart.labels


def test_names_that_would_overlap_are_left_out(qtbot):
    """A short course right before the next, or item-9 positives close together: the
    lines and markers are all drawn, the names only where they fit."""
    from datetime import timedelta

    from kapp.domain.series import CourseSpan
    from kapp.ui.progress_charts import SESSION_AXIS, Chart, Theme

    def span(kind: e.CourseKind, first: int, last: int) -> CourseSpan:
        at = START + timedelta(days=first)
        return CourseSpan(uuid.uuid4(), kind, 1, at.date(), None, 6, last - first + 1,
                          last - first + 1, first, last, at, at)

    chart = Chart("Dose per session", "mg/kg", Theme.of(QApplication.instance()), SESSION_AXIS,
                  lambda _sid: None)
    qtbot.addWidget(chart)
    spans = [span(e.CourseKind.INDUCTION, 1, 6), span(e.CourseKind.MAINTENANCE, 7, 150),
             span(e.CourseKind.MAINTENANCE, 151, 200)]
    chart.courses(spans, labelled=True, crowded=200 / 6)
    assert chart.labels == ["Maintenance ▸", "Maintenance ▸"]  # not the 6-session induction
    assert sum(isinstance(i, type(chart.getPlotItem().items[0])) for i in
               chart.getPlotItem().items) == 3  # a line for each course all the same


def test_charts_showing_the_same_range_share_their_bottom_ticks(qtbot, ticks_worked_out):
    """The x-linked charts of a view work out their bottom axis's ticks once (and axes
    showing the same y-range, their left one); each axis still paints exactly what it
    would have worked out alone, and another range or width is worked out anew."""
    from kapp.ui.chart_axes import PlainAxis
    from kapp.ui.progress_charts import SESSION_AXIS, Chart, Theme

    worked_out = ticks_worked_out
    theme = Theme.of(QApplication.instance())

    def chart(x_range=(0.4, 203.6), width=640):
        made = Chart("Dose per session", "mg/kg", theme, SESSION_AXIS, lambda _sid: None)
        qtbot.addWidget(made)
        made.resize(width, 230)
        made.getPlotItem().setXRange(*x_range, padding=0)
        made.getPlotItem().setYRange(0, 1)
        return made

    first, second = chart(), chart()
    shared = second.grab().toImage(), first.grab().toImage()
    assert worked_out["bottom"] == 1 and worked_out["left"] == 1

    def alone(made):
        PlainAxis._SHARED.clear()
        for side in ("bottom", "left"):
            made.getPlotItem().getAxis(side).picture = None  # its own ticks, worked out
        return made.grab().toImage()

    alone = alone(second), alone(first)
    assert shared == alone
    worked_out.clear()
    chart(x_range=(0.4, 199.6)).grab()
    chart(width=600).grab()
    assert worked_out["bottom"] == 2
