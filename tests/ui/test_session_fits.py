"""The live session screen on the smallest clinic laptop: during a running infusion with a
realistic amount of entries, every panel the nurse needs is on screen without scrolling."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt

from kapp.domain import enums as e
from kapp.domain.vitals import VitalsInput
from kapp.ui.app import build_main_window, ensure_application
from kapp.ui.session.models import COL_REMARKS
from kapp.ui.session.pump import PumpPanel

pytestmark = pytest.mark.gui

ALL_PRE = {c.value: True for c in e.PreSessionCheck}
# A maximised window on a 1366x768 laptop: the title bar and the taskbar take about 70 px.
LAPTOP = (1366, 698)
DESKTOP = (1920, 1010)


@pytest.fixture(autouse=True)
def _no_dialogs(monkeypatch):
    monkeypatch.setattr(PumpPanel, "confirm", staticmethod(lambda *_a: True))


def busy_infusion(services, staff, planned, clock):
    """Forty minutes into an infusion: baseline and five readings, one open alert, two
    side effects (one treated), two dissociation reports, three notes."""
    nurse, sid = staff.nurse, planned.id
    en, sv, rec = services.entries, services.sessions, services.records
    sv.set_checklist(actor=nurse, session_id=sid, which="pre", items=ALL_PRE)
    en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
        hr=74, systolic=128, diastolic=80, spo2=98, rr=14), rhythm="sinus rhythm")
    clock.advance(minutes=5)
    sv.record_pump_event(actor=nurse, session_id=sid, kind="start", rate_ml_per_h=150)
    rec.add_note(actor=nurse, patient_id=planned.patient_id, session_id=sid,
                 text="Eye mask and music on at the patient's request.")
    readings = [(80, 136, 84), (86, 150, 90), (92, 184, 104), (88, 168, 97), (84, 152, 92)]
    for minute, (hr, sys_, dia) in enumerate(readings, start=1):
        clock.advance(minutes=8)
        en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
            hr=hr, systolic=sys_, diastolic=dia, spo2=97, rr=14), rhythm="sinus rhythm")
        if minute == 2:
            effect = en.record_side_effect(actor=nurse, session_id=sid, kind="nausea",
                                           severity="mild")
            en.record_intervention(actor=nurse, session_id=sid, kind="medication",
                                   drug="ondansetron", dose=4, dose_unit="mg", route="IV",
                                   reason="nausea", side_effect_id=effect.id)
            rec.add_note(actor=nurse, patient_id=planned.patient_id, session_id=sid,
                         text="Nausea settled within ten minutes of ondansetron.")
        if minute == 3:
            en.record_side_effect(actor=nurse, session_id=sid, kind="dizziness",
                                  severity="moderate")
            en.record_dissociation(actor=nurse, session_id=sid, intensity=4,
                                   valence="neutral", descriptors=["floating"],
                                   patient_words="a bit floaty")
        if minute == 5:
            en.record_dissociation(actor=nurse, session_id=sid, intensity=7,
                                   valence="pleasant", descriptors=["floating"],
                                   patient_words="like floating above the chair, calm")
            rec.add_note(actor=nurse, patient_id=planned.patient_id, session_id=sid,
                         text="Talking calmly, asked for the lights to be dimmed.")
    # One alert left open (the 184/104 reading); the others acknowledged.
    open_alerts = [a for a in sv.entries(sid).alerts if a.is_open]
    for alert in open_alerts[:-1]:
        en.acknowledge_alert(actor=nurse, alert_id=alert.id, action="none", note="rechecked")
    clock.advance(minutes=1)


def open_busy_screen(qtbot, services, staff, planned, clock, size):
    ensure_application()
    busy_infusion(services, staff, planned, clock)
    window = build_main_window(services, "/clinic/kapp-test.db", user=staff.nurse)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.open_session(planned.id)
    screen = window.session_screens[planned.id]
    screen.tick()
    qtbot.wait(20)
    return window, screen


def save(window, name):
    folder = os.environ.get("KAPP_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(Path(folder) / f"{name}.png"))


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x768", "1920x1080"])
def test_a_busy_infusion_needs_no_scrolling(qtbot, services, staff, planned, clock, size):
    """Forty-one minutes in, with an open alert and the peak-scale reminder both across the
    top: each right-hand page (side effects, dissociation, notes, timeline) is whole."""
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        window, screen = open_busy_screen(qtbot, services, staff, planned, clock, size)
        assert screen.alert_banner.isVisible() and screen.peak_banner.isVisible()
        assert screen.panels.tabText(0) == "&1 Side effects · 2 ongoing"
        assert screen.panels.tabText(1) == "&2 Dissociation · 2, last 7/10"
        assert screen.panels.tabText(2) == "&3 Notes · 3"
        for name, page in screen.panel_pages.items():
            screen.show_panel(name)
            qtbot.waitUntil(page.isVisible)
            qtbot.waitUntil(lambda p=page: p.viewport().height() > 0)
            qtbot.wait(10)  # the page's own layout settles
            save(window, f"session_busy_{size[0]}x{size[1]}_{name}")
            assert page.verticalScrollBar().maximum() == 0, name
            assert page.horizontalScrollBar().maximum() == 0, name
        # The readings beside them: every column in view, rhythm and remarks included,
        # with no sideways scrolling, even on the laptop.
        table = screen.vitals_table
        header = table.horizontalHeader()
        assert table.horizontalScrollBar().maximum() == 0
        last = header.count() - 1
        assert header.sectionViewportPosition(0) == 0
        assert header.sectionViewportPosition(last) + header.sectionSize(last) \
            <= table.viewport().width()
        # The remarks keep room for a word ("baseline", "⚠ alert") and their title.
        words = header.fontMetrics()
        assert header.sectionSize(last) > max(words.horizontalAdvance(w)
                                              for w in ("Remarks", "baseline", "⚠ alert"))
    finally:
        QLocale.setDefault(locale)


def test_a_side_effect_key_opens_its_page(qtbot, services, staff, planned, clock):
    _window, screen = open_busy_screen(qtbot, services, staff, planned, clock, LAPTOP)
    screen.show_panel("notes")
    screen.vitals_entry.focus_first()
    qtbot.waitUntil(lambda: screen.vitals_entry.edits["hr"].hasFocus())
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_N)  # N: nausea, from the vitals table
    assert screen.side_effects.pending is e.SideEffectKind.NAUSEA
    assert screen.panels.currentWidget() is screen.panel_pages["side_effects"]
    assert screen.side_effects.strip.isVisible()
    qtbot.keyClick(screen.side_effects.strip, Qt.Key.Key_Escape)
    # Alt+3 turns to the notes (the tab's mnemonic).
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert screen.panels.currentWidget() is screen.panel_pages["notes"]


def test_the_compact_vitals_table_says_the_rest_in_tooltips(qtbot, services, staff, planned,
                                                          clock):
    """Short titles and codes keep every column in view on the laptop; the units, the
    rhythm's words and the whole remark are one hover away (and read by screen readers)."""
    _window, screen = open_busy_screen(qtbot, services, staff, planned, clock, LAPTOP)
    model = screen.vitals_model
    tip = Qt.ItemDataRole.ToolTipRole
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    assert titles == ["Time", "Min", "HR", "SYS", "DIA", "SpO₂", "RR", "ECG", "Remarks"]
    assert "mmHg" in model.headerData(3, Qt.Orientation.Horizontal, tip)
    assert "/min" in model.headerData(2, Qt.Orientation.Horizontal, tip)
    assert "%" in model.headerData(5, Qt.Orientation.Horizontal, tip)
    rhythm = model.index(0, 7)
    assert rhythm.data() == "SR" and rhythm.data(tip) == "sinus rhythm"
    assert rhythm.data(Qt.ItemDataRole.AccessibleTextRole) == "sinus rhythm"
    assert model.index(0, 8).data(tip) == "baseline"
    flagged = next(r for r in range(model.rowCount()) if "⚠" in model.index(r, 8).data())
    assert model.index(flagged, 8).data(tip) == model.index(flagged, 8).data()


def test_a_reading_flagged_on_every_vital_still_fits_the_laptop(qtbot, services, staff,
                                                                planned, clock):
    """The worst row: every vital past its alert line at once, a "⚠" before each number.
    Every number stays whole and nothing scrolls sideways; the remark, which says only
    what the marks already say, may be cut short (it is whole in its tooltip)."""
    window, screen = open_busy_screen(qtbot, services, staff, planned, clock, LAPTOP)
    services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                   values=VitalsInput(hr=134, systolic=196, diastolic=118,
                                                      spo2=86, rr=6),
                                   rhythm="sinus tachycardia")
    model = screen.vitals_model
    qtbot.waitUntil(lambda: model.rowCount() == 7)
    qtbot.wait(20)
    save(window, "session_every_vital_flagged_1366x698")
    last = model.rowCount() - 1
    assert all(model.index(last, c).data().startswith("⚠") for c in range(2, 7))
    table = screen.vitals_table
    header = table.horizontalHeader()
    assert table.horizontalScrollBar().maximum() == 0
    for column in range(COL_REMARKS):
        assert header.sectionSize(column) >= table.sizeHintForColumn(column), column
    assert header.sectionViewportPosition(COL_REMARKS) + header.sectionSize(COL_REMARKS) \
        <= table.viewport().width()
    assert model.index(last, COL_REMARKS).data(Qt.ItemDataRole.ToolTipRole) == "⚠ alert"

    # The five alerts of that reading are one banner with one action, above the older one.
    first, older = screen.alert_banner.rows
    assert len(first.alerts) == 5 and len(older.alerts) == 1
    words = first.text.text()
    for brief in ("Systolic&nbsp;196&nbsp;mmHg&nbsp;(≥&nbsp;180)",
                  "SpO2&nbsp;86&nbsp;%&nbsp;(&lt;&nbsp;92)",
                  "Respiratory&nbsp;rate&nbsp;6&nbsp;/min&nbsp;(&lt;&nbsp;10)"):
        assert brief in words
    assert "at or above the alert level of 180 mmHg" in older.text.text()
    # The readings keep room for several rows under the banners.
    assert table.viewport().height() >= 3 * table.rowHeight(0)
    first.action.setCurrentIndex(first.action.findData(e.AlertAction.STOPPED))
    qtbot.keyClicks(first.note, "prescriber called")
    qtbot.mouseClick(first.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(screen.alert_banner.rows) == 1)
    alerts = services.sessions.entries(planned.id).alerts
    done = [a for a in alerts if a.vitals_id == first.alerts[0].vitals_id]
    assert len(done) == 5 and all(a.action is e.AlertAction.STOPPED
                                  and a.action_note == "prescriber called" for a in done)
    assert screen.alert_banner.rows[0].alerts == older.alerts
