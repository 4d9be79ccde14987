"""The patient list, driven through its widgets against real services on a temp database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import QLocale, QPoint, QSortFilterProxyModel, Qt

from kapp.domain.entities import PatientSummary
from kapp.domain.enums import Indication, Sex
from kapp.services.patients import PatientForm
from kapp.ui import patient_list
from kapp.ui.changes import HubSignals
from kapp.ui.patient_list import (
    PATIENT_ID_ROLE,
    SORT_ROLE,
    Column,
    PatientListView,
    PatientTableModel,
    short_date,
)
from kapp.ui.read_ahead import ReadAhead

pytestmark = pytest.mark.gui

TODAY = date(2026, 1, 5)
# Made-up people: (MRN, given name, family name, date of birth, indication).
PEOPLE = [
    ("K-1001", "Ada", "Okafor", date(1980, 3, 7), Indication.TRD),
    ("K-1002", "Bo", "Lindqvist", date(1975, 11, 30), Indication.CRPS),
    ("K-1003", "Carmen", "Okada", date(1992, 6, 15), Indication.DEPRESSION_SI),
]


@pytest.fixture
def nurse(staff):
    return staff.nurse


def add_patient(services, nurse, mrn, given, family, born, indication=Indication.TRD):
    form = PatientForm(mrn=mrn, given_name=given, family_name=family, date_of_birth=born,
                       sex=Sex.UNKNOWN, indication=indication)
    return services.patients.create(actor=nurse, form=form)


@pytest.fixture
def clinic(services, nurse):
    for person in PEOPLE:
        add_patient(services, nurse, *person)
    return services


@pytest.fixture
def view(qtbot, clinic):
    widget = PatientListView(clinic, HubSignals(clinic.hub), today=lambda: TODAY)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def us_locale():
    before = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    yield
    QLocale.setDefault(before)


def names(view: PatientListView) -> list[str]:
    table = view.table.model()
    return [table.index(row, Column.NAME).data() for row in range(table.rowCount())]


def summary(**changes) -> PatientSummary:
    values = dict(id=uuid.uuid4(), mrn="K-1", given_name="Ada", family_name="Okafor",
                  date_of_birth=date(1980, 3, 7), indication=Indication.TRD)
    values.update(changes)
    return PatientSummary(**values)


def test_model_passes_the_model_tester(qtmodeltester):
    model = PatientTableModel(today=lambda: TODAY)
    model.set_patients([
        summary(),
        summary(family_name="Lindqvist", given_name="Bo", indication=Indication.OTHER,
                sessions_done=4, last_session_at=datetime(2025, 12, 1, 10, tzinfo=UTC)),
    ])
    qtmodeltester.check(model)
    model.sort(Column.SESSIONS, Qt.SortOrder.DescendingOrder)  # sorts itself, no proxy
    assert model.index(0, Column.NAME).data() == "Lindqvist, Bo"
    qtmodeltester.check(model)


def test_model_shows_words_a_nurse_uses(us_locale):
    model = PatientTableModel(today=lambda: TODAY)
    model.set_patients([
        summary(indication=Indication.DEPRESSION_SI),
        summary(indication=Indication.CHRONIC_PAIN, sessions_done=6,
                last_session_at=datetime(2025, 12, 1, 12, tzinfo=UTC)),
    ])

    def text(row, column):
        return model.index(row, column).data()

    assert text(0, Column.NAME) == "Okafor, Ada"
    assert text(0, Column.INDICATION) == "Depression with suicidal ideation"
    assert text(1, Column.INDICATION) == "Chronic pain"
    # Born 7 March 1980; on 5 January 2026 the birthday has not come yet.
    assert text(0, Column.AGE) == "45"
    # US short dates have a two-digit year; a date of birth must never be ambiguous.
    assert text(0, Column.BORN) == "3/7/1980"
    assert text(0, Column.LAST_SESSION) == "—"
    assert text(1, Column.LAST_SESSION) == "12/1/2025"
    assert text(1, Column.SESSIONS) == "6"
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in Column] == [
        "Name", "MRN", "Date of birth", "Age", "Indication", "Sessions done", "Last session"]


def test_short_date_keeps_the_locale_order():
    assert short_date(date(1980, 3, 7), QLocale(QLocale.Language.German,
                                               QLocale.Country.Germany)) == "07.03.1980"
    assert short_date(date(1980, 3, 7), QLocale(QLocale.Language.Japanese,
                                               QLocale.Country.Japan)) == "1980/03/07"


def test_sorting_by_date_of_birth_sorts_by_date_not_by_text():
    model = PatientTableModel(today=lambda: TODAY)
    # As text in a month-first locale "12/..." would sort before "3/...".
    model.set_patients([summary(mrn="late", date_of_birth=date(1990, 3, 1)),
                        summary(mrn="early", date_of_birth=date(1985, 12, 31)),
                        summary(mrn="first", date_of_birth=date(1950, 1, 2))])
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(Column.BORN, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, Column.MRN).data() for r in range(3)] == ["first", "early", "late"]
    proxy.sort(Column.AGE, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, Column.MRN).data() for r in range(3)] == ["late", "early", "first"]


def test_lists_every_patient_by_name_with_a_count(view):
    assert names(view) == ["Lindqvist, Bo", "Okada, Carmen", "Okafor, Ada"]
    assert view.count_label.text() == "3 patients"
    assert view.pages.currentWidget() is view.table


def test_typing_a_name_narrows_the_list(qtbot, view):
    qtbot.keyClicks(view.search, "okaf")
    qtbot.waitUntil(lambda: names(view) == ["Okafor, Ada"])
    assert view.count_label.text() == "1 of 3 patients matches"
    view.search.clear()
    qtbot.keyClicks(view.search, "oka")
    qtbot.waitUntil(lambda: names(view) == ["Okada, Carmen", "Okafor, Ada"])


def test_search_by_mrn(qtbot, view):
    qtbot.keyClicks(view.search, "K-1002")
    qtbot.waitUntil(lambda: names(view) == ["Lindqvist, Bo"])


def test_search_by_date_of_birth(qtbot, view):
    qtbot.keyClicks(view.search, "1992-06-15")
    qtbot.waitUntil(lambda: names(view) == ["Okada, Carmen"])


def test_no_match_says_what_was_searched(qtbot, view):
    qtbot.keyClicks(view.search, "xyz")
    qtbot.waitUntil(lambda: view.pages.currentWidget() is view.empty_page)
    assert "No patient matches ‘xyz’" in view.empty.text()
    assert view.count_label.text() == "0 of 3 patients match"


def test_empty_database_explains_how_to_get_patients(qtbot, services):
    widget = PatientListView(services, HubSignals(services.hub))
    qtbot.addWidget(widget)
    assert widget.pages.currentWidget() is widget.empty_page
    assert "No patients yet" in widget.empty.text()
    assert "kapp demo --db PATH" in widget.empty.text()
    assert widget.count_label.text() == ""


def test_count_says_when_the_list_is_cut_short(qtbot, view, monkeypatch):
    monkeypatch.setattr(patient_list, "SEARCH_LIMIT", 2)
    view.refresh()
    assert view.count_label.text() == "Showing 2 of 3 — type to narrow"
    qtbot.keyClicks(view.search, "ok")  # exactly 2 match: the list is whole
    qtbot.waitUntil(lambda: view.count_label.text() == "2 of 3 patients match")
    monkeypatch.setattr(patient_list, "SEARCH_LIMIT", 1)
    view.refresh()
    assert names(view) == ["Okada, Carmen"]
    assert view.count_label.text() == "More than 1 patients match — type more to narrow"


def test_a_keystroke_does_not_count_the_patients_again(qtbot, view, clinic, monkeypatch):
    counted = []
    real = clinic.patients.count
    monkeypatch.setattr(clinic.patients, "count", lambda: counted.append(1) or real())
    qtbot.keyClicks(view.search, "oka")
    qtbot.waitUntil(lambda: len(names(view)) == 2)
    view.refresh()
    assert counted == []
    assert view.count_label.text() == "2 of 3 patients match"


def test_the_same_results_leave_the_table_alone(qtbot, view):
    view.table.selectRow(1)
    chosen = view.current_patient_id()
    resets = []
    view.model.modelReset.connect(lambda: resets.append(1))
    view.refresh()
    assert resets == [] and view.current_patient_id() == chosen
    qtbot.keyClicks(view.search, "o")  # Okafor, Okada: another list
    qtbot.waitUntil(lambda: len(names(view)) == 2)
    assert resets == [1]


def test_columns_fit_the_widest_cell(qtbot, view, clinic, nurse):
    add_patient(clinic, nurse, "K-1004-LONG-MRN-0000", "Maximiliana-Josephine",
                "Wolkenstein-Trostburg-Hohenems", date(1999, 12, 28))
    qtbot.waitUntil(lambda: len(names(view)) == 4)
    header = view.table.horizontalHeader()
    for column in Column:
        assert header.sectionSize(column) >= view.table.sizeHintForColumn(column), column


def test_a_new_patient_appears_when_the_hub_notifies(qtbot, view, clinic, nurse):
    add_patient(clinic, nurse, "K-2001", "Dara", "Abara", date(2001, 2, 3), Indication.OTHER)
    qtbot.waitUntil(lambda: names(view)[0] == "Abara, Dara")
    assert view.count_label.text() == "4 patients"


def test_a_new_patient_keeps_the_search_and_the_selection(qtbot, view, clinic, nurse):
    qtbot.keyClicks(view.search, "oka")
    qtbot.waitUntil(lambda: len(names(view)) == 2)
    view.table.selectRow(1)
    chosen = view.current_patient_id()
    add_patient(clinic, nurse, "K-2002", "Eli", "Okapi", date(1999, 9, 9))
    qtbot.waitUntil(lambda: len(names(view)) == 3)
    assert view.search.text() == "oka"
    assert view.current_patient_id() == chosen


def test_enter_opens_the_patient_from_the_keyboard(qtbot, view, clinic):
    qtbot.keyClicks(view.search, "lind")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)
    assert view.table.hasFocus() or view.focusWidget() is view.table
    expected = clinic.patients.by_mrn("K-1002").id
    with qtbot.waitSignal(view.patientActivated) as signal:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert signal.args == [expected]


def test_down_arrow_walks_from_the_search_box_into_the_list(qtbot, view):
    qtbot.keyClicks(view.search, "ok")
    qtbot.keyClick(view.search, Qt.Key.Key_Down)
    assert names(view) == ["Okada, Carmen", "Okafor, Ada"]
    assert view.table.currentIndex().row() == 0
    assert view.focusWidget() is view.table


def test_double_click_opens_the_patient(qtbot, view, clinic):
    rect = view.table.visualRect(view.table.model().index(0, Column.NAME))
    # A real double-click starts with a press, which the view needs to see first.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(view.patientActivated) as signal:
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                          pos=rect.center())
    assert signal.args == [clinic.patients.by_mrn("K-1002").id]
    assert view.table.model().index(0, 0).data(PATIENT_ID_ROLE) == signal.args[0]


def test_the_patient_selected_is_read_ahead_not_the_rows_passed_over(qtbot, view, clinic,
                                                                     monkeypatch):
    read: list[uuid.UUID] = []
    monkeypatch.setattr(clinic.patient_view, "read_ahead", read.append)
    qtbot.keyClicks(view.search, "ok")
    qtbot.keyClick(view.search, Qt.Key.Key_Down)  # Okada, Carmen: passed over at once
    qtbot.keyClick(view.table, Qt.Key.Key_Down)  # Okafor, Ada: the one the nurse stops on
    ada = clinic.patients.by_mrn("K-1001").id
    qtbot.waitUntil(lambda: read == [ada])
    qtbot.wait(3 * ReadAhead.DELAY_MS)
    assert read == [ada]


def test_a_patient_read_ahead_opens_from_what_was_kept(qtbot, view, clinic):
    kept = clinic.patient_view.kept
    clinic.patient_view.forget_kept()
    misses = kept.misses
    qtbot.keyClicks(view.search, "lind")
    qtbot.keyClick(view.search, Qt.Key.Key_Return)  # selected: read ahead
    qtbot.waitUntil(lambda: kept.misses == misses + 1)
    hits = kept.hits
    clinic.patient_view.opening(clinic.patients.by_mrn("K-1002").id)
    assert (kept.hits, kept.misses) == (hits + 1, misses + 1)


def test_search_has_focus_and_ctrl_f_returns_to_it(qtbot, view):
    view.activateWindow()
    qtbot.waitUntil(lambda: view.search.hasFocus())
    view.search.setText("ok")
    view.table.setFocus()
    qtbot.waitUntil(lambda: view.table.hasFocus())
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search.hasFocus()
    assert view.search.selectedText() == "ok"


def test_without_a_configured_locale_dates_are_iso() -> None:
    from datetime import date

    from PySide6.QtCore import QLocale

    from kapp.ui.patient_list import short_date

    assert short_date(date(1979, 8, 31), QLocale.c()) == "1979-08-31"


def test_clicking_a_heading_sorts_and_keeps_the_chosen_patient(qtbot, view, clinic, nurse):
    view.table.selectRow(0)
    chosen = view.current_patient_id()  # Lindqvist, born 1975
    header = view.table.horizontalHeader()
    click = header.sectionViewportPosition(Column.BORN) + header.sectionSize(Column.BORN) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(click, header.height() // 2))
    order = names(view)
    assert order in (["Lindqvist, Bo", "Okafor, Ada", "Okada, Carmen"],
                     ["Okada, Carmen", "Okafor, Ada", "Lindqvist, Bo"])
    assert view.current_patient_id() == chosen
    # A new search keeps the order chosen.
    add_patient(clinic, nurse, "K-2002", "Eli", "Abara", date(1985, 1, 1))
    qtbot.waitUntil(lambda: len(names(view)) == 4)
    assert names(view).index("Abara, Eli") in (1, 2)
    assert view.current_patient_id() == chosen
