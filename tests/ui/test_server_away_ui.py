"""The database server out of reach, as the screens that read it say it: the overview, the
patient page with its progress charts, the patient list and the audit viewer each say in
plain words that the clinic's server (named) cannot be reached and what happens next, and
come back once it answers, by themselves (the background reads) or with F5.

The server's absence is played on any database by ``Outage`` (plain ``make test``); under
``make test-postgres`` the same screens also run through a relay standing in for the
network cable, pulled and plugged back in (``Cable``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from gui_helpers import shot
from lost_server import Cable, Outage
from PySide6.QtCore import Qt

from kapp.services.facade import Services
from kapp.storage.database import Database, open_database
from kapp.ui.audit_viewer import AuditViewer
from kapp.ui.background import BackgroundReader, read_problem
from kapp.ui.changes import HubSignals
from kapp.ui.context import AppContext
from kapp.ui.overview import Overview, time_text
from kapp.ui.patient_list import PatientListView
from kapp.ui.patient_page import PatientPage

pytestmark = pytest.mark.gui

URL = os.environ.get("KAPP_TEST_POSTGRES_URL")
SERVER = "The clinic's database server (db.clinic:5432) cannot be reached just now"
TECHNICAL = ("psycopg", "SQLSTATE", "08006", "OperationalError", "Traceback", "damaged",
             "..", "closed the connection")


class Navigator:
    def show_overview(self) -> None: ...
    def show_patients(self) -> None: ...
    def open_patient(self, patient_id) -> None: ...
    def open_session(self, session_id) -> None: ...


@pytest.fixture
def outage(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    played = Outage(db, monkeypatch)
    yield played
    played.remove()


def plain(text: str) -> None:
    for word in TECHNICAL:
        assert word not in text, word


def shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()  # its keyboard shortcuts (F5) work in the active window
    return widget


def test_the_words_say_what_could_not_be_read_why_and_what_happens_next() -> None:
    from kapp.domain.errors import StorageUnavailable

    away = StorageUnavailable("server_unreachable", SERVER + ", so kapp could not read the "
                              "records. Check this computer's network or ask IT whether "
                              "the server is running.")
    text = read_problem("The overview", away, retrying=True)
    assert text == (f"The overview could not be read. {SERVER}, so kapp could not read the "
                    "records. Check this computer's network or ask IT whether the server "
                    "is running. kapp tries again by itself every 15 seconds; or press F5 "
                    "to try now.")
    assert read_problem("The overview", away).endswith("running. Press F5 to try again.")
    assert read_problem("The list", RuntimeError("x")) == (
        "The list could not be read. The database could not be read. Press F5 to try again.")
    assert read_problem("The list", StorageUnavailable("locked", "Busy"), again=None) == (
        "The list could not be read. Busy.")


def test_the_overview_says_the_server_is_out_of_reach_and_f5_reads_again(
        qtbot, ctx, planned, outage) -> None:
    overview = shown(qtbot, Overview(ctx, Navigator()))
    qtbot.waitUntil(lambda: overview.data is not None)
    outage.cut()
    overview.refresh()
    qtbot.waitUntil(lambda: overview.banner.isVisible())
    text = overview.banner.text()
    assert text.startswith(f"⚠ The overview could not be read. {SERVER}")
    assert "ask IT whether the server is running" in text
    assert text.endswith("kapp tries again by itself every 15 seconds; or press F5 to try "
                         f"now. The lists below are as of {time_text(overview.data.now)}.")
    plain(text)
    assert overview.reader.retrying and overview.refresh_button.isEnabled()
    shot(overview, "server-away-overview")

    outage.up()
    overview.setFocus()
    qtbot.keyClick(overview, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not overview.banner.isVisible() and not overview.loading)
    assert not overview.reader.retrying
    assert "Testperson" in " ".join(overview.today.texts())


def test_the_overview_comes_back_by_itself(qtbot, ctx, planned, outage, monkeypatch) -> None:
    monkeypatch.setattr(BackgroundReader, "RETRY_MS", 200)
    overview = shown(qtbot, Overview(ctx, Navigator()))
    qtbot.waitUntil(lambda: overview.data is not None)
    outage.cut()
    overview.refresh()
    qtbot.waitUntil(lambda: overview.banner.isVisible())
    qtbot.waitUntil(lambda: overview.reader.busy or overview.reader.retrying)
    outage.up()  # nobody touches anything
    qtbot.waitUntil(lambda: not overview.banner.isVisible(), timeout=10000)
    assert overview.data is not None and not overview.reader.retrying


def test_cancelling_the_overview_stops_the_retries(qtbot, ctx, outage) -> None:
    overview = shown(qtbot, Overview(ctx, Navigator()))
    qtbot.waitUntil(lambda: overview.data is not None)
    outage.cut()
    overview.refresh()
    qtbot.waitUntil(lambda: overview.reader.retrying)
    overview.reader.cancel()
    assert not overview.reader.retrying


def test_the_patient_page_says_so_and_comes_back_with_f5(qtbot, ctx, patient, planned,
                                                        outage) -> None:
    outage.cut()  # out of reach as the page opens: not even the name can be read
    page = shown(qtbot, PatientPage(ctx, patient.id, Navigator()))
    qtbot.waitUntil(lambda: bool(page.banner.text()))
    text = page.banner.text()
    assert text.startswith(f"This patient's record could not be read. {SERVER}")
    assert text.endswith("kapp tries again by itself every 15 seconds; or press F5 to try now.")
    plain(text)
    assert page.progress.status.text() == "⏳ Waiting for the database server…"
    assert not page.progress.banner.isVisible()  # said once, on the page
    shot(page, "server-away-patient-page")

    outage.up()
    page.progress.setFocus()
    qtbot.keyClick(page.progress, Qt.Key.Key_F5)  # the charts' read, then the page's
    qtbot.waitUntil(lambda: not page.banner.text() and not page.loading, timeout=10000)
    assert page.name.text() == "Testperson, Alex"
    assert page.progress.progress is not None and page.overview is not None


def test_the_progress_view_alone_says_so_and_comes_back_by_itself(
        qtbot, ctx, patient, planned, outage, monkeypatch) -> None:
    from kapp.ui.progress_view import ProgressView

    monkeypatch.setattr(BackgroundReader, "RETRY_MS", 200)
    outage.cut()
    view = shown(qtbot, ProgressView(ctx, patient.id, Navigator()))
    qtbot.waitUntil(lambda: view.banner.isVisible())
    text = view.banner.text()
    assert text.startswith(f"⚠ This patient's progress could not be read. {SERVER}")
    assert "kapp tries again by itself every 1 second; or press F5" in text
    plain(text)
    outage.up()
    qtbot.waitUntil(lambda: view.progress is not None and not view.banner.isVisible(),
                    timeout=10000)


def test_the_patient_list_says_so_where_the_rows_were_and_f5_reads_again(
        qtbot, services, patient, outage) -> None:
    view = shown(qtbot, PatientListView(services, HubSignals(services.hub)))
    assert view.model.rowCount() == 1
    outage.cut()
    qtbot.keyClicks(view.search, "Test")
    view.refresh()  # what the pause after typing does
    assert view.pages.currentWidget() is view.empty_page
    text = view.empty.text()
    assert "The patient list could not be read</b></p><p>The clinic's" in text.replace(
        "&#x27;", "'")
    assert SERVER.replace("'", "&#x27;") in text
    assert "Press F5 (or type in the search box) to try again." in text
    plain(text)
    assert view.model.rowCount() == 0 and view.count_label.text() == ""
    shot(view, "server-away-patient-list")

    outage.up()
    qtbot.waitUntil(lambda: view.search.hasFocus())
    qtbot.keyClick(view.search, Qt.Key.Key_F5)
    assert view.pages.currentWidget() is view.table and view.model.rowCount() == 1


def test_the_audit_viewer_says_so_and_show_reads_again(qtbot, services, staff, planned,
                                                      outage) -> None:
    ctx = AppContext(services)
    ctx.set_user(staff.admin)
    outage.cut()  # out of reach as the viewer opens: not even its filter choices
    viewer = AuditViewer(ctx)
    ctx.setParent(viewer)
    shown(qtbot, viewer)
    qtbot.waitUntil(lambda: not viewer.busy)
    text = viewer.status.text()
    assert text.startswith(f"⚠ The audit trail could not be read. {SERVER}")
    assert text.endswith("Press Show (Enter) to try again.")
    plain(text)
    assert viewer.user.count() == 1 and viewer.action.count() == 1

    outage.up()
    qtbot.mouseClick(viewer.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not viewer.busy and viewer.model.rowCount() > 0)
    assert viewer.status.text().endswith("newest first.")
    assert viewer.user.count() > 1 and viewer.action.count() > 1


@pytest.mark.parametrize(("sqlstate", "words"), [
    ("53300", "The clinic's database server (db.clinic:5432) is full"),
    ("57P03", "The clinic's database server (db.clinic:5432) is restarting"),
])
def test_a_full_or_restarting_server_is_said_and_tried_again(
        qtbot, ctx, db, planned, monkeypatch, sqlstate, words) -> None:
    played = Outage(db, monkeypatch, sqlstate=sqlstate)
    try:
        overview = shown(qtbot, Overview(ctx, Navigator()))
        qtbot.waitUntil(lambda: overview.data is not None)
        played.cut()
        overview.refresh()
        qtbot.waitUntil(lambda: overview.banner.isVisible())
        assert overview.banner.text().startswith(f"⚠ The overview could not be read. {words}")
        assert overview.reader.retrying
        plain(overview.banner.text())
    finally:
        played.remove()


# -- the same through a real network cable to PostgreSQL ----------------------------------
@pytest.fixture
def through_cable(db: Database, clock) -> Iterator[tuple[Cable, Services]]:
    url = db.engine.url
    cable = Cable(url.host or "127.0.0.1", url.port or 5432)
    opened = open_database(url.set(host="127.0.0.1", port=cable.port)
                           .render_as_string(hide_password=False), clock=clock).database
    try:
        yield cable, Services.for_database(opened)
    finally:
        cable.pull()
        opened.dispose()


@pytest.mark.skipif(not URL, reason="KAPP_TEST_POSTGRES_URL is not set")
def test_a_pulled_cable_is_told_by_each_screen_and_they_come_back(
        qtbot, staff, patient, planned, through_cable, monkeypatch) -> None:
    cable, services = through_cable
    ctx = AppContext(services)
    ctx.set_user(staff.nurse)
    overview = shown(qtbot, Overview(ctx, Navigator()))
    listing = shown(qtbot, PatientListView(services, HubSignals(services.hub)))
    qtbot.waitUntil(lambda: overview.data is not None)
    server = f"The clinic's database server (127.0.0.1:{cable.port}) cannot be reached"

    cable.pull()  # the server stopped, or the network went away
    overview.refresh()
    page = shown(qtbot, PatientPage(ctx, patient.id, Navigator()))
    qtbot.waitUntil(lambda: overview.banner.isVisible() and bool(page.banner.text()),
                    timeout=30000)
    assert server in overview.banner.text() and server in page.banner.text()
    plain(overview.banner.text())
    plain(page.banner.text())
    listing.refresh()
    assert server.replace("'", "&#x27;") in listing.empty.text()

    cable.plug()  # back: F5 on the overview; the page follows by itself
    overview.setFocus()
    qtbot.keyClick(overview, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: not overview.banner.isVisible() and not page.banner.text()
                    and not page.loading, timeout=30000)
    assert page.name.text() == "Testperson, Alex" and page.progress.progress is not None
    listing.activateWindow()
    listing.search.setFocus()
    qtbot.waitUntil(lambda: listing.search.hasFocus())
    qtbot.keyClick(listing.search, Qt.Key.Key_F5)
    assert listing.model.rowCount() == 1
