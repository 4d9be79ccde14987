"""The main window around the patient list, and screenshots of it for a person to judge."""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QLocale, Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication

import kapp
from kapp.domain.enums import Indication, Sex
from kapp.services.base import Change
from kapp.services.patients import PatientForm
from kapp.services.startup import OpenGate
from kapp.ui.app import build_main_window, ensure_application, run_gui
from kapp.ui.changes import HubSignals
from kapp.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

LABEL = "/clinic/kapp-test.db"
# Made-up people for the screenshots: (given, family, date of birth, indication).
CLINIC = [
    ("Ada", "Okafor", date(1980, 3, 7), Indication.TRD),
    ("Bo", "Lindqvist", date(1975, 11, 30), Indication.CRPS),
    ("Carmen", "Okada", date(1992, 6, 15), Indication.DEPRESSION_SI),
    ("Dmitri", "Varga", date(1968, 1, 22), Indication.TRD),
    ("Esi", "Mensah-Baptiste", date(1988, 9, 4), Indication.CHRONIC_PAIN),
    ("Farah", "Haddad", date(1999, 12, 19), Indication.DEPRESSION_SI),
    ("Gunnar", "Eriksen", date(1957, 5, 2), Indication.CHRONIC_PAIN),
    ("Hana", "Novak", date(1983, 7, 28), Indication.TRD),
    ("Ines", "Carvalho", date(1971, 2, 14), Indication.OTHER),
    ("Jun", "Takeda", date(1994, 10, 10), Indication.TRD),
    ("Kwame", "Asante", date(1962, 4, 1), Indication.CRPS),
    ("Lena", "Brückner", date(2003, 8, 23), Indication.DEPRESSION_SI),
]


@pytest.fixture
def nurse(staff):
    return staff.nurse


def add_patients(services, nurse, people):
    for number, (given, family, born, indication) in enumerate(people, start=1):
        form = PatientForm(mrn=f"K-{1000 + number}", given_name=given, family_name=family,
                           date_of_birth=born, sex=Sex.UNKNOWN, indication=indication)
        services.patients.create(actor=nurse, form=form)


def open_window(qtbot, services, user) -> MainWindow:
    window = build_main_window(services, LABEL, user)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_title_and_status_bar_name_the_database_and_count_its_patients(qtbot, services,
                                                                       nurse):
    add_patients(services, nurse, CLINIC[:3])
    window = open_window(qtbot, services, nurse)
    assert window.windowTitle() == f"kapp — {LABEL}"
    assert window.stack.currentWidget() is window.patients
    status = window.database_status.text()
    assert "3 patients" in status
    assert LABEL in status


def test_status_bar_follows_a_new_patient(qtbot, services, nurse):
    window = open_window(qtbot, services, nurse)
    assert "0 patients" in window.database_status.text()
    add_patients(services, nurse, CLINIC[:1])
    qtbot.waitUntil(lambda: "1 patient in" in window.database_status.text())
    assert window.patients.model.rowCount() == 1


def test_about_names_the_version(qtbot, services, monkeypatch, nurse):
    shown = []
    monkeypatch.setattr(MainWindow, "about", staticmethod(lambda *args: shown.append(args)))
    window = open_window(qtbot, services, nurse)
    window.about_action.trigger()
    (_parent, title, text), = shown
    assert title == "About kapp"
    assert kapp.__version__ in text


def test_quit_closes_the_window(qtbot, services, nurse):
    window = open_window(qtbot, services, nurse)
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    window.quit_action.trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_text_is_large_enough_to_read_from_the_chair(qapp):
    assert ensure_application() is qapp
    assert qapp.font().pointSizeF() >= 10.5
    assert qapp.applicationName() == "kapp"


def test_run_gui_signs_in_shows_the_window_and_returns_the_exit_code(
        qapp, services, staff, nurse, monkeypatch):
    shown = []
    monkeypatch.setattr(MainWindow, "show", lambda self: shown.append(
        (self.windowTitle(), self.ctx.user)))
    monkeypatch.setattr("kapp.ui.app.ask_sign_in",
                        lambda gate: gate.try_sign_in("nurse1", staff.password("nurse1")))
    QTimer.singleShot(0, lambda: qapp.exit(3))
    assert run_gui(OpenGate(services, LABEL)) == 3
    assert shown == [(f"kapp — {LABEL}", nurse)]


def test_run_gui_ends_when_nobody_signs_in(qapp, services, nurse, monkeypatch):
    monkeypatch.setattr("kapp.ui.app.ask_sign_in", lambda gate: None)
    assert run_gui(OpenGate(services, LABEL)) == 0


def test_a_change_from_another_thread_arrives_on_the_gui_thread(qtbot, services):
    signals = HubSignals(services.hub)
    received = []
    signals.changed.connect(lambda changes: received.append((changes, QThread.currentThread())))
    worker = threading.Thread(target=services.hub.notify, args=(Change.PATIENTS,))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(received))
    assert received == [(frozenset({Change.PATIENTS}), QApplication.instance().thread())]


def test_a_deleted_adapter_no_longer_listens(qtbot, services):
    signals = HubSignals(services.hub)
    signals.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(signals))
    services.hub.notify(Change.PATIENTS)  # must not raise


SCENES = {
    # scene: (patients in the database, typed in the search box)
    "main_window": (CLINIC, ""),
    "main_window_search": (CLINIC, "ok"),
    "main_window_no_match": (CLINIC, "xyz"),
    "main_window_empty": ([], ""),
}


@pytest.mark.skipif(not os.environ.get("KAPP_SCREENSHOTS"),
                    reason="set KAPP_SCREENSHOTS to a folder to save screenshots")
@pytest.mark.parametrize("scene", list(SCENES))
def test_save_screenshot(qtbot, services, nurse, scene):
    """Saves what a nurse would see on a 1366x768 clinic laptop, for a person to look at."""
    people, typed = SCENES[scene]
    ensure_application()
    locale = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    try:
        add_patients(services, nurse, people)
        window = open_window(qtbot, services, nurse)
        window.resize(1366, 768)
        if typed:
            qtbot.keyClicks(window.patients.search, typed)
            qtbot.keyClick(window.patients.search, Qt.Key.Key_Down)
        qtbot.wait(50)
        folder = Path(os.environ["KAPP_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(folder / f"{scene}.png"))
    finally:
        QLocale.setDefault(locale)
