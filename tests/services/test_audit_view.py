"""The audit read service: administrators only, filters, keyset pages, chain verification."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from kapp.domain.errors import PermissionDenied, ValidationError
from kapp.services.audit_view import AuditFilter, verify_trail
from kapp.services.patients import PatientForm


@pytest.fixture
def trail(services, staff, planned, whole_session, clock):
    """One whole session for T-0001 and a second patient, a day later."""
    whole_session(planned)
    clock.advance(minutes=60 * 24)
    services.patients.create(actor=staff.nurse, form=PatientForm(
        mrn="T-0002", given_name="Bea", family_name="Otherperson",
        date_of_birth=date(1990, 2, 3), sex="female", indication="crps"))
    return services


@pytest.mark.parametrize("who", ["nurse", "nurse2", "prescriber"])
def test_only_administrators_read_the_trail(trail, staff, who) -> None:
    actor = getattr(staff, who)
    for call in (lambda: trail.audit.page(actor=actor),
                 lambda: trail.audit.count(actor=actor),
                 lambda: trail.audit.actions(actor=actor),
                 lambda: trail.audit.verify(actor=actor)):
        with pytest.raises(PermissionDenied, match="may not view the audit trail"):
            call()


def test_newest_first_with_users_patients_and_values(trail, staff) -> None:
    page = trail.audit.page(actor=staff.admin)
    rows = page.rows
    assert page.next_cursor is None
    assert len(rows) == trail.audit.count(actor=staff.admin)
    assert [r.at for r in rows] == sorted((r.at for r in rows), reverse=True)
    # (the template database's protocol defaults were written today, by the real clock)
    clinical = [r for r in rows if r.action != "protocol.defaults"]
    assert clinical[0].action == "patient.create" and clinical[0].mrn == "T-0002"
    assert clinical[0].username == "nurse1" and clinical[0].user_name == "Nia Nurse"
    vitals = [r for r in rows if r.action == "vitals.record"]
    assert vitals and all(r.mrn == "T-0001" for r in vitals)
    assert any((r.new or {}).get("systolic") == 182 for r in vitals)


def test_pages_cover_every_entry_once(trail, staff) -> None:
    everything = trail.audit.page(actor=staff.admin, limit=5000).rows
    seen, cursor = [], None
    while True:
        page = trail.audit.page(actor=staff.admin, after=cursor, limit=7)
        seen.extend(page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [r.seq for r in seen] == [r.seq for r in everything]
    assert len({r.seq for r in seen}) == len(seen)


def test_filters(trail, staff) -> None:
    admin = staff.admin
    by_patient = trail.audit.page(actor=admin, filters=AuditFilter(patient_mrn=" t-0002 ")).rows
    assert [r.action for r in by_patient] == ["patient.create"]
    by_user = trail.audit.page(actor=admin, filters=AuditFilter(user_id=staff.admin.id)).rows
    assert {r.action for r in by_user} == {"user.create_first_admin", "user.create"}
    by_action = trail.audit.page(actor=admin,
                                 filters=AuditFilter(action="alert.acknowledge")).rows
    assert len(by_action) == 1 and by_action[0].mrn == "T-0001"
    day_one = trail.db.clock.now().astimezone().date() - timedelta(1)
    first_day = trail.audit.page(actor=admin, filters=AuditFilter(
        date_from=day_one, date_to=day_one)).rows
    assert first_day and "T-0002" not in {r.mrn for r in first_day}
    later = trail.audit.page(actor=admin, filters=AuditFilter(
        date_from=day_one + timedelta(1), date_to=day_one + timedelta(1))).rows
    assert [r.mrn for r in later] == ["T-0002"]
    combined = AuditFilter(patient_mrn="T-0001", user_id=staff.nurse.id, action="vitals.record")
    assert trail.audit.count(actor=admin, filters=combined) == 3
    assert "alert.acknowledge" in trail.audit.actions(actor=admin)


def test_bad_filters_name_the_field(trail, staff) -> None:
    with pytest.raises(ValidationError) as caught:
        trail.audit.page(actor=staff.admin, filters=AuditFilter(patient_mrn="T-4040"))
    assert caught.value.for_field("patient_mrn")[0].message == "No patient has the MRN T-4040."
    with pytest.raises(ValidationError) as caught:
        trail.audit.page(actor=staff.admin, filters=AuditFilter(
            date_from=date(2026, 3, 5), date_to=date(2026, 3, 1)))
    assert caught.value.for_field("date_to")


def test_verify_reports_intact_then_the_first_break(trail, staff, db_path: Path) -> None:
    report = trail.audit.verify(actor=staff.admin)
    total = trail.audit.count(actor=staff.admin)
    assert report.intact and report.checked == report.total == total
    assert "intact" in report.describe()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER trg_audit_log_no_update")
    conn.execute("UPDATE audit_log SET reason = 'tidied' WHERE seq = 9")
    conn.close()
    broken = verify_trail(trail.db)
    assert not broken.intact and broken.broken_seq == 9 and broken.checked == 0
    assert broken.describe().startswith("The audit trail is BROKEN at entry 9 (")


def test_verify_reports_progress_and_stops_when_cancelled(trail, staff, monkeypatch) -> None:
    from kapp.storage import audit

    def small_steps(session):  # a progress report every entry instead of every 1,000
        yield from range(1, 6)
        yield audit.ChainBreak(6, "never reached")

    monkeypatch.setattr(audit, "verify_chain", small_steps)
    seen: list[int] = []
    report = trail.audit.verify(actor=staff.admin, progress=lambda n, _t: seen.append(n),
                                cancelled=lambda: len(seen) >= 3)
    assert report.cancelled and not report.intact and report.checked == 3
    assert "stopped after 3" in report.describe()
