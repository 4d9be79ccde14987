"""The live session screen on the smallest clinic laptop: during a running infusion with a
realistic amount of entries, every panel the nurse needs is on screen at once, without
switching tabs and without scrolling."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QPoint, QRect, Qt
from PySide6.QtWidgets import QStyle

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
# The window at the clinic laptop's whole screen (as the screenshots are taken).
LAPTOP_WHOLE = (1366, 768)


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


def side_effect_lines_whole(panel) -> None:
    """Every line of the side effects list is whole in its column: the name and its
    severity, the status ("✔ resolved 09:35") and what was done, with no "…" and no
    row shorter than its lines (nothing left to a tooltip)."""
    table = panel.table
    metrics = table.fontMetrics()
    margin = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    header = table.header()
    assert header.sectionViewportPosition(3) + header.sectionSize(3) \
        <= table.viewport().width()

    def check(item, column, width):
        lines = item.text(column).split("\n")
        for line in lines:
            assert "…" not in line, line
            assert metrics.horizontalAdvance(line) + margin <= width, (line, width)
        assert table.visualItemRect(item).height() >= len(lines) * metrics.lineSpacing(), \
            item.text(column)

    for row in range(table.topLevelItemCount()):
        item = table.topLevelItem(row)
        for column in (0, 1, 3):
            check(item, column, table.columnWidth(column))
        for index in range(item.childCount()):  # spanned over the whole line
            check(item.child(index), 0, table.viewport().width())
    return table


def remark_whole(table, row) -> None:
    """The remark of ``row`` is drawn whole: no word wider than its column, its lines no
    taller than the row."""
    text = table.model().index(row, COL_REMARKS).data()
    margin = 2 * (table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    width = table.horizontalHeader().sectionSize(COL_REMARKS) - margin
    needed = table.fontMetrics().boundingRect(QRect(0, 0, width, 10_000),
                                              Qt.TextFlag.TextWordWrap, text)
    assert needed.width() <= width, (text, width)
    assert needed.height() <= table.rowHeight(row), (text, table.rowHeight(row))


def titles_whole(table) -> None:
    """Each column's title fits its section as the header draws it (no letter cut off)."""
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    margin = 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
    for column in range(header.count()):
        title = table.model().headerData(column, Qt.Orientation.Horizontal)
        assert metrics.horizontalAdvance(title) + margin <= header.sectionSize(column), \
            (title, header.sectionSize(column))
        assert header.sectionViewportPosition(column) + header.sectionSize(column) \
            <= table.viewport().width(), title


def whole_in(widget, area) -> bool:
    """``widget`` is shown and not cut by the edges of ``area`` (a scroll area's view, or
    the window)."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(area, QPoint(0, 0))
    return QRect(QPoint(0, 0), area.size()).contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", [LAPTOP_WHOLE, DESKTOP], ids=["1366x768", "1920x1080"])
def test_a_busy_infusion_is_one_screen(qtbot, services, staff, planned, clock, size):
    """Forty-one minutes in, with an open alert and the peak-scale reminder both across the
    top: the side effects, the dissociation reports and the notes are all on screen at
    once, each with its key controls whole, beside the readings and their chart; none of
    the three panels needs to scroll."""
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        window, screen = open_busy_screen(qtbot, services, staff, planned, clock, size)
        assert screen.alert_banner.isVisible() and screen.peak_banner.isVisible()
        titles = screen.panel_titles
        assert "Side effects</b> · 2 ongoing" in titles["side_effects"].text()
        assert "Dissociation</b> · 2, last 7/10" in titles["dissociation"].text()
        assert "Notes</b> · 3" in titles["notes"].text()
        qtbot.wait(10)  # the panels' own layouts settle
        save(window, f"session_busy_{size[0]}x{size[1]}")
        body = screen.body
        for name, page in screen.panel_pages.items():
            assert page.isVisible(), name
            assert whole_in(page, body), name
            assert page.verticalScrollBar().maximum() == 0, name
            assert page.horizontalScrollBar().maximum() == 0, name
            assert page.widget().width() <= page.viewport().width(), name
            assert whole_in(titles[name], body), name
        se, di, no = screen.side_effects, screen.dissociation, screen.notes
        keys = [*se.buttons.values(), se.table, se.resolve_button, se.intervention_button,
                se.strike_button]
        side_effect_lines_whole(se)
        assert "Dizziness · ▲ moderate" in se.table.topLevelItem(1).text(1).replace("\n", " ")
        for widget in keys:
            assert whole_in(widget, screen.panel_pages["side_effects"].viewport()), \
                widget.text() if hasattr(widget, "text") else widget
            if hasattr(widget, "text") and callable(widget.text):  # no squeezed words
                assert widget.width() >= widget.sizeHint().width(), widget.text()
        # The way to record a report is its intensity; picking one opens the rest of it.
        for widget in (di.recent, di.intensity, di.moaas):
            assert whole_in(widget, screen.panel_pages["dissociation"].viewport()), widget
        assert not di.add_button.isVisible()
        assert "7/10" in di.recent.toPlainText() and "4/10" in di.recent.toPlainText()
        for widget in (no.list, no.text, no.add_button, no.time):
            assert whole_in(widget, screen.panel_pages["notes"].viewport()), widget
        # Every note and the latest report can be read: the newest is at the top.
        assert no.list.count() == 3 and "dimmed" in no.list.item(0).text()
        assert no.list.visualItemRect(no.list.item(0)).bottom() <= no.list.viewport().height()
        # The readings beside them: every column in view, rhythm and remarks included,
        # with no sideways scrolling, even on the laptop; and the chart under them.
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
                                              for w in ("Note", "baseline", "⚠ alert"))
        titles_whole(table)
        for row in range(table.model().rowCount()):
            remark_whole(table, row)
        assert table.viewport().height() >= 3 * table.rowHeight(0)
        assert screen.chart.isVisible() and screen.chart.height() >= 150
    finally:
        QLocale.setDefault(locale)


def test_alt_keys_move_to_each_panel_and_letters_still_record(qtbot, services, staff,
                                                              planned, clock):
    _window, screen = open_busy_screen(qtbot, services, staff, planned, clock, LAPTOP)
    alt = Qt.KeyboardModifier.AltModifier
    screen.vitals_entry.focus_first()
    qtbot.waitUntil(lambda: screen.vitals_entry.edits["hr"].hasFocus())
    # Alt+3: the note field; the letters are words there, not side effects.
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_3, alt)
    qtbot.waitUntil(lambda: screen.notes.text.hasFocus())
    qtbot.keyClicks(screen.notes.text, "Nap")
    assert screen.side_effects.pending is None
    assert screen.notes.text.toPlainText() == "Nap"
    # Alt+2: the dissociation intensity, with the rest of the report opened under it.
    qtbot.keyClick(screen.notes.text, Qt.Key.Key_2, alt)
    qtbot.waitUntil(lambda: screen.dissociation.intensity.hasFocus())
    assert screen.dissociation.details.isVisible()
    # Alt+1: the side effects list, its newest line selected for Resolved / Intervention.
    qtbot.keyClick(screen.dissociation.intensity, Qt.Key.Key_1, alt)
    qtbot.waitUntil(lambda: screen.side_effects.table.hasFocus())
    assert screen.side_effects.selected() is not None
    # Alt+4: the timeline takes the chart's place; again, the chart is back.
    qtbot.keyClick(screen.side_effects.table, Qt.Key.Key_4, alt)
    qtbot.waitUntil(lambda: screen.timeline_table.hasFocus())
    assert screen.views.currentWidget() is screen.timeline_table
    assert screen.panel_pages["notes"].isVisible()  # nothing else hidden
    qtbot.keyClick(screen.timeline_table, Qt.Key.Key_4, alt)
    assert screen.views.currentWidget() is screen.chart
    # A side effect's key from the readings: its severity asked in its panel, in view.
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_N)
    assert screen.side_effects.pending is e.SideEffectKind.NAUSEA
    assert screen.side_effects.strip.isVisible()
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_2)  # 2: moderate, saved
    assert screen.side_effects.pending is None
    nausea = [x for x in services.sessions.entries(planned.id).side_effects
              if x.kind is e.SideEffectKind.NAUSEA]
    assert [x.severity for x in nausea] == [e.Severity.MILD, e.Severity.MODERATE]
    qtbot.waitUntil(lambda: "3 ongoing" in screen.panel_titles["side_effects"].text())


def test_the_compact_vitals_table_says_the_rest_in_tooltips(qtbot, services, staff, planned,
                                                          clock):
    """Short titles and codes keep every column in view on the laptop; the units, the
    rhythm's words and the whole remark are one hover away (and read by screen readers)."""
    _window, screen = open_busy_screen(qtbot, services, staff, planned, clock, LAPTOP)
    model = screen.vitals_model
    tip = Qt.ItemDataRole.ToolTipRole
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)]
    assert titles == ["Time", "Min", "HR", "SYS", "DIA", "SpO₂", "RR", "ECG", "Note"]
    assert "Remarks" in model.headerData(8, Qt.Orientation.Horizontal, tip)
    assert "mmHg" in model.headerData(3, Qt.Orientation.Horizontal, tip)
    assert "/min" in model.headerData(2, Qt.Orientation.Horizontal, tip)
    assert "%" in model.headerData(5, Qt.Orientation.Horizontal, tip)
    rhythm = model.index(0, 7)
    assert rhythm.data() == "SR" and rhythm.data(tip) == "sinus rhythm"
    assert rhythm.data(Qt.ItemDataRole.AccessibleTextRole) == "sinus rhythm"
    assert model.index(0, 8).data(tip) == "baseline"
    flagged = next(r for r in range(model.rowCount()) if "⚠" in model.index(r, 8).data())
    assert model.index(flagged, 8).data() == "⚠ alert"
    assert model.index(flagged, 8).data(tip) == "⚠ alert"
    # Acknowledged: the same two words and a tick, "(acknowledged)" in the tooltip.
    for alert in services.sessions.entries(planned.id).alerts:
        services.entries.acknowledge_alert(actor=staff.nurse, alert_id=alert.id, action="none",
                                           note="rechecked")
    qtbot.waitUntil(lambda: "✔" in model.index(flagged, 8).data())
    done = next(r for r in range(model.rowCount()) if "✔" in model.index(r, 8).data())
    assert model.index(done, 8).data() == "⚠ alert ✔"
    assert model.index(done, 8).data(tip) == "⚠ alert (acknowledged)"


def test_a_reading_flagged_on_every_vital_still_fits_the_laptop(qtbot, services, staff,
                                                                planned, clock):
    """The worst row: every vital past its alert line at once, a "⚠" before each number.
    Every number stays whole and nothing scrolls sideways; the remark is whole too (on
    two lines where its column is narrow), not only in its tooltip."""
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
    # Every column's title is read whole in its section, the remarks' too ("Note", which
    # was "Remarks" and read "Remar" here); the whole words are in each title's tooltip.
    titles_whole(table)
    # The remark is whole on the screen too, over two lines if its column is narrow.
    remark_whole(table, last)

    # The five alerts of that reading are one banner with one action, above the older one.
    first, older = screen.alert_banner.rows
    assert len(first.alerts) == 5 and len(older.alerts) == 1
    words = first.text.text()
    # Two banners at once: each in the short words of the table's columns, with units
    # (the whole sentences in the tooltip), so they keep to a line or two.
    for brief in ("SYS&nbsp;196&nbsp;mmHg&nbsp;(≥&nbsp;180)",
                  "SpO2&nbsp;86&nbsp;%&nbsp;(&lt;&nbsp;92)",
                  "RR&nbsp;6&nbsp;/\u2060min&nbsp;(&lt;&nbsp;10)"):
        assert brief in words
    assert "SYS&nbsp;184&nbsp;mmHg&nbsp;(≥&nbsp;180)" in older.text.text()
    assert "at or above the alert level of 180 mmHg" in older.text.toolTip()
    line = screen.fontMetrics().lineSpacing()
    assert older.height() <= first.height() <= 2 * older.height()
    # The readings keep room for several rows under the banners, and the chart a useful
    # height (its axes and a few gridlines, not a sliver).
    assert table.viewport().height() >= 3 * table.rowHeight(0)
    assert screen.views.isVisible() and screen.chart.plot.height() >= 5 * line, \
        (screen.chart.plot.height(), line)
    first.action.setCurrentIndex(first.action.findData(e.AlertAction.STOPPED))
    qtbot.keyClicks(first.note, "prescriber called")
    qtbot.mouseClick(first.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(screen.alert_banner.rows) == 1)
    alerts = services.sessions.entries(planned.id).alerts
    done = [a for a in alerts if a.vitals_id == first.alerts[0].vitals_id]
    assert len(done) == 5 and all(a.action is e.AlertAction.STOPPED
                                  and a.action_note == "prescriber called" for a in done)
    assert screen.alert_banner.rows[0].alerts == older.alerts


def test_side_effects_read_whole_in_recovery_on_the_laptop(qtbot, services, staff, planned,
                                                           clock):
    """In recovery, with long names, every severity, a serious one, resolved ones and a long
    intervention: the name, its severity and the status ("✔ resolved 09:35") of each side
    effect are read on the screen, not in a tooltip; the newest is in view."""
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        ensure_application()
        nurse, sid, en = staff.nurse, planned.id, services.entries
        busy_infusion(services, staff, planned, clock)
        first = services.sessions.entries(sid).side_effects[0]
        en.resolve_side_effect(actor=nurse, side_effect_id=first.id)
        for alert in services.sessions.entries(sid).alerts:
            if alert.is_open:
                en.acknowledge_alert(actor=nurse, alert_id=alert.id, action="slowed",
                                     note="rate lowered")
        services.sessions.record_pump_event(actor=nurse, session_id=sid, kind="stop")
        clock.advance(minutes=5)
        emergence = en.record_side_effect(actor=nurse, session_id=sid,
                                          kind="emergence_reaction", severity="severe",
                                          serious=True)
        en.record_intervention(actor=nurse, session_id=sid, kind="medication",
                               drug="midazolam", dose=2.5, dose_unit="mg", route="IV",
                               reason="agitation", side_effect_id=emergence.id)
        clock.advance(minutes=3)
        urinary = en.record_side_effect(actor=nurse, session_id=sid, kind="urinary_symptoms",
                                        severity="moderate")
        clock.advance(minutes=2)
        en.resolve_side_effect(actor=nurse, side_effect_id=urinary.id)
        en.record_side_effect(actor=nurse, session_id=sid, kind="other", severity="mild",
                              description="tingling in both hands")
        clock.advance(minutes=1)
        window = build_main_window(services, "/clinic/kapp-test.db", user=staff.nurse)
        qtbot.addWidget(window)
        window.resize(*LAPTOP_WHOLE)
        window.show()
        qtbot.waitExposed(window)
        window.open_session(sid)
        screen = window.session_screens[sid]
        assert services.sessions.get(sid).status is e.SessionStatus.RECOVERY
        qtbot.wait(20)
        save(window, "session_recovery_side_effects_1366x768")
        table = side_effect_lines_whole(screen.side_effects)
        def plain(text):  # the words, wherever the lines break
            return " ".join(text.replace("·", " ").split())

        words = [plain(table.topLevelItem(r).text(1)) for r in range(table.topLevelItemCount())]
        assert words == [plain(x) for x in ["Nausea · ▪ mild", "Dizziness · ▲ moderate",
                         "Emergence reaction · ⚠ SEVERE · ⚠ serious",
                         "Urinary symptoms · ▲ moderate",
                         "Other: tingling in both hands · ▪ mild"]]
        status = [table.topLevelItem(r).text(3).replace("\n", " ")
                  for r in range(table.topLevelItemCount())]
        assert status[0].startswith("✔ resolved ") and status[3].startswith("✔ resolved ")
        assert status[1] == status[2] == status[4] == "ongoing"
        assert "midazolam 2.5 mg IV" in table.topLevelItem(2).child(0).text(0)
        newest = table.topLevelItem(4)
        qtbot.waitUntil(lambda: table.visualItemRect(newest).bottom()
                        <= table.viewport().height())
        # A wider screen: still whole (the list keeps its column; the chart takes the room).
        window.resize(*DESKTOP)
        qtbot.waitUntil(lambda: screen.width() > LAPTOP_WHOLE[0])
        qtbot.wait(20)
        side_effect_lines_whole(screen.side_effects)
    finally:
        QLocale.setDefault(locale)


def busy_recovery(services, staff, planned, clock):
    """Twenty minutes into recovery after the busy infusion: six side effects in all, three
    of them resolved, two with what was done about them, and recovery vitals."""
    nurse, sid, en = staff.nurse, planned.id, services.entries
    busy_infusion(services, staff, planned, clock)
    for alert in services.sessions.entries(sid).alerts:
        if alert.is_open:
            en.acknowledge_alert(actor=nurse, alert_id=alert.id, action="slowed",
                                 note="rate lowered")
    services.sessions.record_pump_event(actor=nurse, session_id=sid, kind="stop")
    nausea = services.sessions.entries(sid).side_effects[0]
    en.resolve_side_effect(actor=nurse, side_effect_id=nausea.id)
    for minutes, (kind, severity) in ((4, ("headache", "mild")),
                                      (3, ("anxiety", "moderate")),
                                      (3, ("sedation", "mild")),
                                      (2, ("confusion", "mild"))):
        clock.advance(minutes=minutes)
        effect = en.record_side_effect(actor=nurse, session_id=sid, kind=kind,
                                       severity=severity)
        en.record_vitals(actor=nurse, session_id=sid, values=VitalsInput(
            hr=80, systolic=138, diastolic=84, spo2=97, rr=14))
        if kind == "anxiety":
            en.record_intervention(actor=nurse, session_id=sid, kind="comfort",
                                   reason="reassurance, lights dimmed",
                                   side_effect_id=effect.id)
        if kind in ("headache", "sedation"):
            clock.advance(minutes=2)
            en.resolve_side_effect(actor=nurse, side_effect_id=effect.id)
    clock.advance(minutes=1)


@pytest.mark.parametrize("reminder", [True, False], ids=["peak_reminder", "no_reminder"])
def test_a_busy_recovery_shows_its_side_effects_without_scrolling(qtbot, services, staff,
                                                                  planned, clock, reminder):
    """In recovery the nurse records vitals, side effects and their resolution: on the
    1366x768 laptop the side effects list shows every one of six (three resolved, two with
    what was done) without scrolling, ten lines of it (eight, the newest whole, while the
    peak-scale reminder is showing too), while the recovery vitals
    row, the readings and their chart stay in view and usable. The stopped infusion's
    panel keeps to two lines beside its buttons (what is still needed before signing on
    one line, the whole list in its tooltip)."""
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        ensure_application()
        busy_recovery(services, staff, planned, clock)
        window = build_main_window(services, "/clinic/kapp-test.db", user=staff.nurse)
        qtbot.addWidget(window)
        window.resize(*LAPTOP_WHOLE)
        window.show()
        qtbot.waitExposed(window)
        window.open_session(planned.id)
        screen = window.session_screens[planned.id]
        assert services.sessions.get(planned.id).status is e.SessionStatus.RECOVERY
        if not reminder:
            qtbot.mouseClick(screen.peak_later,
                             Qt.MouseButton.LeftButton)
        screen.tick()
        qtbot.wait(20)
        assert screen.peak_banner.isVisible() is reminder
        save(window, f"session_busy_recovery_{'reminder_' if reminder else ''}1366x768")
        table = side_effect_lines_whole(screen.side_effects)
        assert table.topLevelItemCount() == 6
        assert "3 ongoing" in screen.panel_titles["side_effects"].text()
        line = table.fontMetrics().lineSpacing()
        view = table.viewport().rect()
        # With the reminder across the top too, two lines fewer: the list scrolls a little,
        # the newest whole at its foot.
        assert view.height() >= (8 if reminder else 10) * line, (view.height(), line)
        newest = table.topLevelItem(5)
        qtbot.waitUntil(lambda: view.contains(table.visualItemRect(newest)))
        if not reminder:
            assert table.verticalScrollBar().maximum() == 0
            for row in range(table.topLevelItemCount()):
                item = table.topLevelItem(row)
                assert view.contains(table.visualItemRect(item)), row
        page = screen.panel_pages["side_effects"]
        assert page.verticalScrollBar().maximum() == 0
        for widget in (*screen.side_effects.buttons.values(), screen.side_effects.resolve_button,
                       screen.side_effects.intervention_button):
            assert whole_in(widget, page.viewport()), widget.text()
        # The stopped infusion's panel: two lines, what is missing cut short on the screen
        # but whole in its tooltip, one item a line.
        closing = screen.closing
        assert closing.height() <= 3 * line + 16, closing.height()
        assert closing.missing_label.text().startswith("Before signing, still needed (")
        assert "• lot number" in closing.missing_label.toolTip()
        for button in (closing.discharge_button, closing.sign_button):
            assert whole_in(button, window), button.text()
        # The recovery vitals row, the readings and the chart stay usable.
        assert whole_in(screen.vitals_box, window)
        assert "Recovery" in screen.vitals_stage.text()
        vitals = screen.vitals_table
        assert vitals.viewport().height() >= 5 * vitals.rowHeight(0)
        assert screen.chart.isVisible() and screen.chart.plot.height() >= 8 * line, \
            (screen.chart.plot.height(), line)
    finally:
        QLocale.setDefault(locale)


def test_a_dissociation_report_is_whole_under_three_alert_banners(qtbot, services, staff,
                                                                  planned, clock):
    """Three alert banners and the peak reminder across the top of the 1366x698 laptop: the
    nurse who comes to the dissociation panel (Alt+2) and picks an intensity has the whole
    report in view without scrolling (what was felt, the experience, the patient's words,
    what was observed, the time and Add), while the readings keep their rows and the chart
    its height. The notes keep their title line meanwhile (Alt+3 gives them their room
    back), and their room once it is added; the descriptors open over the screen from
    "Felt…", by key as by click."""
    window, screen = open_busy_screen(qtbot, services, staff, planned, clock, LAPTOP)
    for values in (VitalsInput(hr=134, systolic=196, diastolic=118, spo2=86, rr=6),
                   VitalsInput(hr=88, systolic=188, diastolic=96, spo2=97, rr=14)):
        services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                       values=values, rhythm="sinus tachycardia")
    qtbot.waitUntil(lambda: len(screen.alert_banner.rows) == 3)
    qtbot.wait(20)  # the screen settles under them
    assert screen.peak_banner.isVisible()
    di, page, notes = (screen.dissociation, screen.panel_pages["dissociation"],
                       screen.panel_pages["notes"])
    notes_height = notes.height()
    qtbot.keyClick(screen.vitals_table, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: di.intensity.hasFocus())
    qtbot.keyClick(di.intensity, Qt.Key.Key_6)
    qtbot.wait(20)  # the column settles
    save(window, "session_dissociation_three_banners_1366x698")
    view = page.viewport()
    assert page.verticalScrollBar().value() == 0
    for widget in (di.intensity, *di.valence.buttons.values(), di.words, di.observation,
                   di.time, di.intensity_words, di.add_button, di.details):
        assert whole_in(widget, view), widget
    assert di.intensity_words.text() == "6/10"
    assert whole_in(screen.panel_titles["notes"], screen.body)
    table, line = screen.vitals_table, screen.fontMetrics().lineSpacing()
    assert table.viewport().height() >= 3 * table.rowHeight(0)
    assert screen.chart.plot.height() >= 5 * line, (screen.chart.plot.height(), line)

    # The descriptors: Tab to "Felt…", Space opens them inside the window, Tab and Space
    # pick, Enter closes; what was picked is read beside "Felt…".
    assert whole_in(di.felt_button, view) and whole_in(di.felt_words, view)
    qtbot.keyClick(di.intensity, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: di.felt_button.hasFocus())
    qtbot.keyClick(di.felt_button, Qt.Key.Key_Space)
    popup = di.descriptors
    qtbot.waitUntil(lambda: popup.isVisible() and di.chips["body_detachment"].hasFocus())
    assert QRect(window.mapToGlobal(QPoint(0, 0)), window.size()).contains(popup.geometry())
    for _ in range(4):  # detached from surroundings, altered time, space, floating
        qtbot.keyClick(popup.focusWidget(), Qt.Key.Key_Tab)
    assert di.chips["floating"].hasFocus()
    qtbot.keyClick(di.chips["floating"], Qt.Key.Key_Space)
    qtbot.keyClick(di.chips["floating"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.isVisible() and di.felt_button.hasFocus())
    assert di.felt_words.text() == "floating"
    qtbot.keyClick(di.felt_button, Qt.Key.Key_Tab)  # the experience, next
    qtbot.waitUntil(lambda: di.valence.buttons[e.Valence.PLEASANT].hasFocus())
    qtbot.keyClick(di.valence.buttons[e.Valence.PLEASANT], Qt.Key.Key_Space)
    # Alt+3: the notes have their room back, the report stays as typed; back in the
    # report, its room again.
    qtbot.keyClick(di.valence.buttons[e.Valence.PLEASANT], Qt.Key.Key_3,
                   Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.notes.text.hasFocus() and notes.height() == notes_height)
    qtbot.mouseClick(di.words, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: di.words.hasFocus() and whole_in(di.add_button, view))
    assert notes.height() < notes_height and di.valence.value() is e.Valence.PLEASANT
    qtbot.keyClicks(di.words, "heavy and warm")
    qtbot.keyClick(di.words, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not di.details.isVisible() and notes.height() == notes_height)
    report = services.sessions.entries(planned.id).dissociation[-1]
    assert (report.intensity, report.valence, report.descriptors, report.patient_words) == (
        6, e.Valence.PLEASANT, ("floating",), "heavy and warm")


def test_the_vitals_header_measures_its_words_again_in_a_new_font(qtbot):
    """The header keeps each title's width (asked ~50 times at each reading shown), and
    measures again when the text size changes."""
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QTableView

    from kapp.ui.session.screen import CompactHeader

    table = QTableView()
    qtbot.addWidget(table)
    model = QStandardItemModel(0, 2)
    model.setHorizontalHeaderLabels(["SpO2", "Remarks"])
    table.setModel(model)
    header = CompactHeader(table)
    table.setHorizontalHeader(header)
    before = header.sectionSizeFromContents(0)
    assert header.sectionSizeFromContents(0) == before
    font = header.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    header.setFont(font)
    after = header.sectionSizeFromContents(0)
    assert after.width() > before.width() * 1.5
    assert after.width() == header.fontMetrics().horizontalAdvance("SpO2") + header.PADDING
    model.setHorizontalHeaderLabels(["Heart rate", "Remarks"])
    assert header.sectionSizeFromContents(0).width() > after.width()
