"""A chair opens in a session screen the main window made ahead, empty, while nobody was
typing (``MainWindow.warm_up_steps``), and shows there exactly what a screen made for that
session shows: its pump or nasal bar, its entries, its chart, its author's drafts
(bench/session.py times the opening)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from kapp.domain import enums as e
from kapp.domain.errors import StorageUnavailable
from kapp.domain.vitals import VitalsInput
from kapp.services.sessions import DoseForm
from kapp.ui import main_window
from kapp.ui.main_window import MainWindow
from kapp.ui.session.chart import MARKERS, SessionChart
from kapp.ui.session.nasal import NasalPanel
from kapp.ui.session.pump import PumpPanel
from kapp.ui.session.screen import SessionScreen
from tests.ui.test_session_screen import make_window

pytestmark = pytest.mark.gui


@pytest.fixture
def chairs(services, staff, course, planned):
    """An IV ketamine chair with a reading, a side effect, a report and a note, and an
    intranasal esketamine chair with its baseline."""
    nurse, entries = staff.nurse, services.entries
    entries.record_vitals(actor=nurse, session_id=planned.id,
                          values=VitalsInput(hr=72, systolic=126, diastolic=80, spo2=98, rr=14))
    entries.record_side_effect(actor=nurse, session_id=planned.id, kind="nausea",
                               severity="mild")
    entries.record_dissociation(actor=nurse, session_id=planned.id, intensity=4,
                                valence="neutral", descriptors=["body_detachment"])
    services.records.add_note(actor=nurse, patient_id=planned.patient_id,
                              session_id=planned.id, text="Settled, music on.")
    nasal = services.sessions.plan_session(
        actor=nurse, course_id=course.id, planned_start=planned.planned_start,
        prescriber_id=staff.prescriber.id,
        dose=DoseForm(route="intranasal", drug="esketamine", weight=70, dose_mg=84))
    entries.record_vitals(actor=nurse, session_id=nasal.id,
                          values=VitalsInput(hr=70, systolic=120, diastolic=78, spo2=99, rr=13))
    return planned.id, nasal.id


def rows(model) -> list[list]:
    return [[model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())]


def drawn(chart: SessionChart) -> dict:
    marks = {kind: [(p.pos().x(), p.pos().y(), p.data()) for p in chart.scatters[kind].points()]
             for kind in MARKERS}
    return {"lines": {name: chart.series(name) for name in chart.curves}, "marks": marks,
            "x": chart.plot.getPlotItem().getAxis("bottom").labelText,
            "pump": [line.value() for line in chart.pump_markers],
            "levels": [line.value() for line in chart.threshold_lines]}


def shown(screen: SessionScreen) -> dict:
    """What the nurse sees of the session (not the clocks, which tick)."""
    effects = screen.side_effects.table
    return {
        "pump": (type(screen.pump).__name__, screen.pump.isVisibleTo(screen)),
        "rems": screen.rems_action.isVisible(),
        "vitals": rows(screen.vitals_model), "timeline": rows(screen.timeline_model),
        "chart": drawn(screen.chart),
        "titles": {name: title.text() for name, title in screen.panel_titles.items()},
        "side effects": [[effects.topLevelItem(i).text(c) for c in range(4)]
                         for i in range(effects.topLevelItemCount())],
        "reports": screen.dissociation.recent.toPlainText(),
        "notes": [screen.notes.list.item(i).text() for i in range(screen.notes.list.count())],
        "closing": screen.closing.isVisibleTo(screen), "pre": screen.pre_panel.isVisibleTo(screen),
    }


def test_chairs_open_in_screens_made_ahead_as_screens_made_for_them(
        qtbot, monkeypatch, services, staff, chairs):
    monkeypatch.setattr(main_window, "SPARE_SCREEN_AFTER_MS", 50)
    iv, nasal = chairs
    window = make_window(qtbot, services, staff.nurse)
    for step in window.warm_up_steps():  # as kapp.ui.warm_up does once the window is up
        step()
    ahead = window.spare_screen
    assert ahead is not None and ahead.isHidden() and ahead.session_id is None

    window.open_session(nasal)
    screen = window.session_screens[nasal]
    assert screen is ahead and window.stack.currentWidget() is screen
    assert window.spare_screen is None  # taken: the next is made a moment later
    qtbot.waitUntil(lambda: window.spare_screen is not None, timeout=2000)
    assert window.spare_screen.isHidden() and window.spare_screen.session_id is None

    made_for_it = SessionScreen(window.ctx, nasal, window)
    qtbot.addWidget(made_for_it)
    assert isinstance(screen.pump, NasalPanel) and screen.rems_action.isVisible()
    assert shown(screen) == shown(made_for_it)

    second = window.spare_screen
    window.open_session(iv)
    screen = window.session_screens[iv]
    assert screen is second
    made_for_it = SessionScreen(window.ctx, iv, window)
    qtbot.addWidget(made_for_it)
    assert isinstance(screen.pump, PumpPanel) and not screen.rems_action.isVisible()
    assert shown(screen) == shown(made_for_it)
    assert shown(screen)["notes"] and shown(screen)["side effects"]  # not two empty screens
    assert len(shown(screen)["vitals"]) == 1

    # What is typed there is this session's: a reading, and its note's draft.
    screen.vitals_entry.edits["hr"].setText("80")
    for field, text in (("systolic", "130"), ("diastolic", "82"), ("spo2", "97"),
                        ("rr", "14")):
        screen.vitals_entry.edits[field].setText(text)
    screen.vitals_entry.submit()
    assert [v.hr for v in services.sessions.entries(iv).vitals] == [72, 80]
    assert [v.hr for v in services.sessions.entries(nasal).vitals] == [70]
    screen.notes.text.setPlainText("Asked for a blanket")
    screen.notes.keeper.save_now()
    found = services.drafts.find(actor=staff.nurse, form_key=f"note:{iv}")
    assert found is not None and found.content == {"text": "Asked for a blanket"}


def test_a_screen_made_ahead_puts_back_the_drafts_of_the_chair_it_opens(
        qtbot, services, staff, chairs):
    iv, nasal = chairs
    drafts = services.drafts
    drafts.save(actor=staff.nurse, form_key=f"note:{iv}", content={"text": "half a note"})
    drafts.save(actor=staff.nurse, form_key=f"dissociation:{nasal}",
                content={"words": "like floating", "observation": ""})
    window = make_window(qtbot, services, staff.nurse)
    window.make_spare_screen()
    window.open_session(iv)
    screen = window.session_screens[iv]
    assert screen.notes.text.toPlainText() == "half a note"
    assert "Restored your unsaved note" in screen.notes.draft_hint.text()
    assert screen.dissociation.words.text() == "" and not screen.dissociation.details \
        .isVisibleTo(screen)

    window.make_spare_screen()
    window.open_session(nasal)
    screen = window.session_screens[nasal]
    assert screen.notes.text.toPlainText() == ""
    assert screen.dissociation.words.text() == "like floating"
    assert screen.dissociation.details.isVisibleTo(screen)  # open, to show what came back


def test_a_chair_reads_its_forms_drafts_in_one_go_its_own_and_colleagues(
        qtbot, services, staff, chairs, monkeypatch):
    """Opening a chair reads the report's and the note's drafts in one read (four round
    trips to a server otherwise), and shows the same as reading each: one's own put back,
    a colleague's named, never shown."""
    iv, _nasal = chairs
    drafts = services.drafts
    drafts.save(actor=staff.nurse, form_key=f"dissociation:{iv}",
                content={"words": "heavy arms", "observation": ""})
    drafts.save(actor=staff.nurse2, form_key=f"note:{iv}", content={"text": "not yours"})
    window = make_window(qtbot, services, staff.nurse)
    window.make_spare_screen()
    calls: list[str] = []
    for name in ("find", "others", "of_forms"):
        original = getattr(drafts, name)
        monkeypatch.setattr(drafts, name, lambda *a, _o=original, _n=name, **k: (
            calls.append(_n), _o(*a, **k))[1])
    window.open_session(iv)
    screen = window.session_screens[iv]
    assert calls == ["of_forms"]
    assert screen.dissociation.words.text() == "heavy arms"
    assert "Restored your unsaved" in screen.dissociation.draft_hint.text()
    assert screen.notes.text.toPlainText() == ""
    assert "Ned Nurse has an unsaved note here" in screen.notes.draft_hint.text()
    # Once the report is added, colleagues' drafts are read afresh.
    drafts.save(actor=staff.nurse2, form_key=f"dissociation:{iv}", content={"words": "x"})
    screen.dissociation.intensity.set_value(4)
    screen.dissociation.valence.set_value(e.Valence.NEUTRAL)
    assert screen.dissociation.add_report()
    assert "others" in calls[1:] and "Ned Nurse" in screen.dissociation.draft_hint.text()


def test_a_chair_that_could_not_open_leaves_the_screen_made_ahead_for_the_next(
        qtbot, monkeypatch, services, staff, chairs):
    iv, _nasal = chairs
    window = make_window(qtbot, services, staff.nurse)
    window.make_spare_screen()
    ahead = window.spare_screen
    warned: list[str] = []
    monkeypatch.setattr(MainWindow, "warn",
                        staticmethod(lambda parent, title, text: warned.append(text)))

    def away(_session_id):
        raise StorageUnavailable("server_unreachable", "The database server is away.")

    monkeypatch.setattr(services.sessions, "entries", away)
    window.open_session(iv)
    assert warned and "could not be opened" in warned[0]
    assert iv not in window.session_screens and window.stack.currentWidget() is not ahead
    assert window.spare_screen is ahead and ahead.session_id is None  # kept as it was

    monkeypatch.undo()
    window.open_session(iv)
    assert window.session_screens[iv] is ahead
    assert ahead.session.status is e.SessionStatus.PLANNED


def test_a_screen_shows_one_session(qtbot, services, staff, chairs):
    iv, nasal = chairs
    screen = SessionScreen(make_window(qtbot, services, staff.nurse).ctx, iv, QWidget())
    with pytest.raises(RuntimeError):
        screen.attach(nasal)
