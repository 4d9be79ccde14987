"""The kept progress series and page records: reused while nothing they come from changed,
and never after."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from kapp.domain.errors import StorageUnavailable
from kapp.domain.vitals import VitalsInput
from kapp.services.facade import Services
from kapp.services.sessions import DoseForm
from tests.conftest import ALL_CHECKS_PRE, START
from tests.services.test_progress import PHQ9_LOWER, first_session


@pytest.fixture
def done(services, staff, patient, course, planned, whole_session):
    """A patient with one whole session, whose progress has been read (and kept) once."""
    first_session(services, staff, patient, planned, whole_session)
    services.progress.progress(patient.id)
    return planned


def fresh(services: Services, patient_id):
    """The progress computed from scratch, as a reference."""
    services.patient_view.forget_kept()
    return services.progress.progress(patient_id)


def fresh_overview(services: Services, patient_id):
    services.patient_view.forget_kept()
    return services.patient_view.overview(patient_id)


def test_an_unchanged_patient_is_not_computed_again(services, patient, db, done):
    cache = services.progress.cache
    hits = cache.hits
    sent: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    again = services.progress.progress(patient.id)
    assert not [x for x in sent if "FROM sessions" in x]  # nor the sessions read again
    opening = services.patient_view.opening(patient.id)  # the page shares the kept series
    assert cache.hits == hits + 2
    assert opening.progress.series is again.series
    assert again.series == fresh(services, patient.id).series


def _strike_report(services, staff, session):
    (report,) = services.sessions.entries(session.id).dissociation
    services.records.strike(actor=staff.nurse, table="dissociation_reports",
                            entry_id=report.id, reason="entered on the wrong patient")


def _score(services, staff, session):
    services.records.record_instrument(
        actor=staff.nurse, patient_id=session.patient_id, instrument="phq9",
        answers=PHQ9_LOWER, time_point="24h", session_id=session.id)


def _strike_side_effect(services, staff, session):
    (effect,) = services.sessions.entries(session.id).side_effects
    services.records.strike(actor=staff.nurse, table="side_effects", entry_id=effect.id,
                            reason="not a side effect")


@pytest.mark.parametrize("change", [_strike_report, _score, _strike_side_effect])
def test_every_change_to_the_record_is_seen(services, staff, patient, done, change):
    before = services.progress.progress(patient.id).series
    change(services, staff, done)
    after = services.progress.progress(patient.id).series
    assert after != before
    assert after == fresh(services, patient.id).series


def test_the_page_reads_an_unchanged_record_once(services, patient, db, done):
    first = services.patient_view.overview(patient.id)
    sent: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    again = services.patient_view.overview(patient.id)
    assert not [x for x in sent if "FROM sessions" in x or "FROM courses" in x]
    assert again == first == fresh_overview(services, patient.id)


@pytest.mark.parametrize("change", [_strike_report, _score, _strike_side_effect])
def test_the_page_sees_every_change_to_the_record(services, staff, patient, done, change):
    before = services.patient_view.opening(patient.id)
    change(services, staff, done)
    after = services.patient_view.opening(patient.id)
    assert after.progress.series != before.progress.series
    assert after.overview == fresh_overview(services, patient.id)


def test_a_session_planned_on_another_workstation_shows(services, staff, patient, course, db,
                                                         done):
    elsewhere = Services.for_database(db)
    before = services.patient_view.overview(patient.id)
    dose = DoseForm(route="iv", drug="ketamine", weight=80, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.4, duration_min=40)
    planned = elsewhere.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                              planned_start=START, dose=dose)
    after = services.patient_view.overview(patient.id)
    assert len(after.sessions) == len(before.sessions) + 1
    assert planned.id in {row.session.id for row in after.sessions}
    assert after.courses[0].planned == before.courses[0].planned + 1


def test_a_change_made_on_another_workstation_is_seen(services, staff, patient, db, done):
    """Another workstation sharing the server has its own services: nothing tells this
    one of the change but the audit log."""
    elsewhere = Services.for_database(db)
    before = services.progress.progress(patient.id).series
    _strike_report(elsewhere, staff, done)
    after = services.progress.progress(patient.id).series
    assert after.dissociation[0].peak_intensity is None
    assert before.dissociation[0].peak_intensity == 6


def test_a_protocol_change_and_a_new_day_are_seen(services, staff, patient, clock, done):
    services.protocol.update(actor=staff.prescriber, values={"booster_interval_days": 21},
                             reason="new booster schedule")
    assert services.progress.progress(patient.id).series.booster_interval_days == 21
    days = services.progress.progress(patient.id).series.summary.days_since_last
    clock.advance(days=1)
    assert services.progress.progress(patient.id).series.summary.days_since_last == days + 1


def test_a_dose_still_running_is_counted_up_to_now(services, staff, course, clock):
    dose = DoseForm(route="iv", drug="ketamine", weight=80, weight_unit="kg", mg_per_kg=0.5,
                    concentration_mg_per_ml=0.4, duration_min=40)
    running = services.sessions.plan_session(actor=staff.nurse, course_id=course.id,
                                             planned_start=START, dose=dose)
    sv = services.sessions
    sv.set_checklist(actor=staff.nurse, session_id=running.id, which="pre",
                     items=ALL_CHECKS_PRE)
    services.entries.record_vitals(actor=staff.nurse, session_id=running.id,
                                   values=VitalsInput(hr=72, systolic=128, diastolic=82,
                                                      spo2=98, rr=14))
    sv.record_pump_event(actor=staff.nurse, session_id=running.id, kind="start",
                         rate_ml_per_h=150)
    clock.advance(minutes=10)  # 25 mL at 0.4 mg/mL
    (first,) = services.progress.progress(running.patient_id).series.dose
    clock.advance(minutes=10)
    (later,) = services.progress.progress(running.patient_id).series.dose
    assert (first.delivered_mg, later.delivered_mg) == (pytest.approx(10), pytest.approx(20))


def _audit_count(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()


def test_a_patient_read_ahead_opens_without_reading_the_record_again(services, patient, db,
                                                                      done):
    services.patient_view.forget_kept()
    entries = _audit_count(db)
    services.patient_view.read_ahead(patient.id)
    assert _audit_count(db) == entries  # reading ahead is no opening: nothing is written
    sent: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    opening = services.patient_view.opening(patient.id)
    assert not [x for x in sent if "FROM sessions" in x or "FROM vitals" in x]
    services.patient_view.forget_kept()
    assert opening == services.patient_view.opening(patient.id)  # as read from scratch


def test_an_opening_waits_for_the_read_ahead_under_way(services, patient, monkeypatch, done):
    """The page's read does not compute the patient a second time beside the read ahead:
    it waits for it, then finds its result kept."""
    import kapp.services.progress as progress

    computing, go_on = threading.Event(), threading.Event()
    calls: list[int] = []
    real = progress._compute

    def slow_compute(*args, **kwargs):
        calls.append(1)
        computing.set()
        assert go_on.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(progress, "_compute", slow_compute)
    services.patient_view.forget_kept()
    ahead = threading.Thread(target=services.patient_view.read_ahead, args=(patient.id,))
    ahead.start()
    assert computing.wait(10)
    opened: list = []
    page = threading.Thread(target=lambda: opened.append(
        services.patient_view.opening(patient.id)))
    page.start()
    page.join(0.2)
    assert page.is_alive()  # waiting for the read ahead, not computing beside it
    go_on.set()
    ahead.join(10)
    page.join(10)
    assert len(calls) == 1 and len(opened) == 1
    assert opened[0].progress.series == fresh(services, patient.id).series


def _stuck_read(services, monkeypatch, failure):
    """The patient's record read blocks until ``go_on`` is set, then fails with
    ``failure`` the first time (a read stuck on a server that went away); the calls are
    counted."""
    reading, go_on = threading.Event(), threading.Event()
    calls: list[int] = []
    view = services.patient_view
    real = view._record

    def record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            reading.set()
            assert go_on.wait(10)
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(view, "_record", record)
    view.forget_kept()
    return reading, go_on, calls


def _opening_beside_a_read_ahead(services, patient, reading, go_on):
    """A read ahead under way when the page opens: what the page's read got."""
    outcome: list = []

    def ahead() -> None:
        with pytest.raises(StorageUnavailable):
            services.patient_view.read_ahead(patient.id)

    def page() -> None:
        try:
            outcome.append(services.patient_view.opening(patient.id))
        except StorageUnavailable as error:
            outcome.append(error)

    first = threading.Thread(target=ahead)
    first.start()
    assert reading.wait(10)
    second = threading.Thread(target=page)
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting for the read ahead
    go_on.set()
    first.join(10)
    second.join(10)
    assert not first.is_alive() and not second.is_alive()
    return outcome[0]


def test_an_opening_that_waited_for_a_read_ahead_stuck_on_a_lost_server_fails_with_it(
        services, patient, monkeypatch, done):
    """The read ahead's time-out is the page's too: the page says the server is out of
    reach after one time-out, not after a second read waiting for its own."""
    lost = StorageUnavailable("server_unreachable", "The clinic's database server cannot "
                                                    "be reached just now.")
    reading, go_on, calls = _stuck_read(services, monkeypatch, lost)
    got = _opening_beside_a_read_ahead(services, patient, reading, go_on)
    assert isinstance(got, StorageUnavailable) and got is not lost
    assert (got.kind, str(got)) == (lost.kind, str(lost))
    assert len(calls) == 1  # the page did not read again
    assert services.patient_view.opening(patient.id).progress.series == fresh(
        services, patient.id).series  # the next try reads, and works
    assert len(services.patient_view._reading) == 0  # nothing kept of the turns


def test_an_opening_reads_itself_after_a_read_ahead_failed_on_this_computer(
        services, patient, monkeypatch, done):
    """A failure that is not the server's (here, a disk error) is not passed on: the page
    reads itself, as before."""
    reading, go_on, calls = _stuck_read(
        services, monkeypatch, StorageUnavailable("io", "The disk could not be read."))
    got = _opening_beside_a_read_ahead(services, patient, reading, go_on)
    assert got.progress.series == fresh(services, patient.id).series
    assert len(calls) == 2
