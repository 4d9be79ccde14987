"""CSV export: columns and row counts match the database; cancelling leaves nothing."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from kapp.services.demo import write_demo_clinic
from kapp.services.export import TABLE_NAMES, TABLES, ExportCancelled, ExportService
from kapp.storage import models as m


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def db_counts(db, patient_id=None) -> dict[str, int]:
    """Rows per table counted straight from the database."""
    def count(model, via: str) -> int:
        q = sa.select(sa.func.count()).select_from(model)
        if patient_id is not None and via == "patient_id":
            q = q.where(model.patient_id == patient_id)
        elif patient_id is not None and via == "session":
            q = q.join(m.Session, model.session_id == m.Session.id).where(
                m.Session.patient_id == patient_id)
        elif patient_id is not None and via == "self":
            q = q.where(m.Patient.id == patient_id)
        return s.execute(q).scalar_one()

    with db.reading() as s:
        counts = {t.name: count(t.model, t.patient_via) for t in TABLES if t.explode is None}
        q = sa.select(m.InstrumentResponse.answers)
        if patient_id is not None:
            q = q.where(m.InstrumentResponse.patient_id == patient_id)
        counts["instrument_answers"] = sum(len(a) for a in s.execute(q).scalars())
    return counts


@pytest.fixture
def demo_db(db):
    write_demo_clinic(db, patients=3, seed=11, today=date(2026, 3, 1))
    return db


def test_whole_clinic_row_counts_match_the_database(demo_db, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    result = ExportService(demo_db).export_csv(tmp_path)
    expected = db_counts(demo_db)
    assert result.rows == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.csv" for n in TABLE_NAMES] + ["README.txt"])
    for name in TABLE_NAMES:
        assert len(read(tmp_path / f"{name}.csv")) == expected[name], name
    assert expected["vitals"] > 100 and expected["instrument_answers"] > 100


def test_one_patient(demo_db, tmp_path: Path) -> None:
    with demo_db.reading() as s:
        pid, mrn = s.execute(sa.select(m.Patient.id, m.Patient.mrn).order_by(m.Patient.mrn)
                             .limit(1)).one()
    result = ExportService(demo_db).export_csv(tmp_path, patient_id=pid)
    expected = db_counts(demo_db, pid)
    expected["staff"] = result.rows["staff"]  # every account, so ids resolve
    assert result.rows == expected
    for name in ("vitals", "sessions", "instrument_responses", "instrument_answers"):
        rows = read(tmp_path / f"{name}.csv")
        assert rows and {r["patient_mrn"] for r in rows} == {mrn}


def test_columns_units_and_iso_times(services, staff, planned, whole_session,
                                     tmp_path: Path) -> None:
    whole_session(planned)
    ExportService(services.db).export_csv(tmp_path)
    vitals = read(tmp_path / "vitals.csv")
    assert list(vitals[0])[:12] == [
        "vitals_id", "session_id", "patient_mrn", "taken_at", "predose", "hr_per_min",
        "systolic_mmhg", "diastolic_mmhg", "spo2_percent", "rr_per_min", "temperature_c",
        "etco2_mmhg"]
    assert [(v["predose"], v["hr_per_min"], v["systolic_mmhg"], v["diastolic_mmhg"])
            for v in vitals] == [("true", "72", "128", "82"), ("false", "88", "182", "100"),
                                 ("false", "74", "134", "84")]
    assert vitals[0]["taken_at"] == "2026-03-02T09:00:00+00:00"
    assert datetime.fromisoformat(vitals[1]["taken_at"]).utcoffset() is not None
    assert vitals[0]["entered_by"] == "nurse1" and vitals[0]["patient_mrn"] == "T-0001"
    (session,) = read(tmp_path / "sessions.csv")
    assert (session["weight_kg"], session["dose_mg_per_kg"], session["dose_mg"],
            session["concentration_mg_per_ml"], session["lot_number"],
            session["amount_wasted_mg"], session["waste_witness"]) == (
        "80", "0.5", "40", "0.4", "LOT-42", "10", "nurse2")
    assert session["pre_consent_on_file"] == "true" and session["status"] == "completed"
    pump = read(tmp_path / "infusion_events.csv")
    assert [(p["kind"], p["rate_ml_per_h"], p["reason"]) for p in pump] == [
        ("start", "150", ""), ("rate_change", "75", "BP rise"), ("stop", "", "")]
    (effect,) = read(tmp_path / "side_effects.csv")
    (action,) = read(tmp_path / "interventions.csv")
    assert action["side_effect_id"] == effect["side_effect_id"]
    (report,) = read(tmp_path / "dissociation.csv")
    assert report["intensity_0_10"] == "6" and report["descriptors"] == "altered_time;floating"
    assert "hr_per_min" in (tmp_path / "README.txt").read_text()


def test_struck_rows_are_kept_with_the_reason(services, staff, planned, tmp_path) -> None:
    from kapp.domain.vitals import VitalsInput

    wrong = services.entries.record_vitals(actor=staff.nurse, session_id=planned.id,
                                           values=VitalsInput(hr=61, systolic=119, diastolic=71))
    services.records.strike(actor=staff.nurse, table="vitals_readings",
                            entry_id=wrong.reading.id, reason="wrong chair")
    ExportService(services.db).export_csv(tmp_path)
    (row,) = read(tmp_path / "vitals.csv")
    assert row["strike_reason"] == "wrong chair" and row["struck_by"] == "nurse1"
    assert row["struck_at"]


def test_cancel_leaves_no_file_and_progress_is_reported(demo_db, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    seen = []
    calls = iter(range(10**6))

    def cancel_in_vitals() -> bool:
        next(calls)
        return bool(seen) and seen[-1].table == "vitals"

    with pytest.raises(ExportCancelled):
        ExportService(demo_db).export_csv(tmp_path, progress=seen.append,
                                          cancelled=cancel_in_vitals)
    assert list(tmp_path.iterdir()) == []
    assert seen[0].rows_done == 0 and seen[0].rows_total > 0
    done = ExportService(demo_db).export_csv(tmp_path / "again", progress=seen.append)
    assert seen[-1].rows_done == seen[-1].rows_total and done.files


def test_export_is_in_the_audit_trail(services, staff, planned, tmp_path) -> None:
    ExportService(services.db).export_csv(tmp_path, patient_id=planned.patient_id,
                                          actor=staff.prescriber)
    with services.db.reading() as s:
        entry = s.execute(sa.select(m.AuditEntry).where(m.AuditEntry.action == "export.csv")
                          ).scalar_one()
        assert entry.user_id == staff.prescriber.id and entry.patient_id == planned.patient_id
