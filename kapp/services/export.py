"""CSV export: one tidy table per record type, one row per observation.

Layout (also written as README.txt next to the files):

- one file per record type (``patients.csv``, ``sessions.csv``, ``vitals.csv`` ...);
- one row per observation; item answers of questionnaires are their own table
  (``instrument_answers.csv``: one row per item), so no cell holds a list of numbers;
- times in ISO 8601 with their UTC offset (``2026-03-02T09:35:00+00:00``), dates as
  ``YYYY-MM-DD``; units in the column names (``hr_per_min``, ``systolic_mmhg``,
  ``dose_mg_per_kg``); yes/no as ``true``/``false``; empty when not recorded;
- every clinical row carries its session and the patient's MRN, who entered it and
  when, and, when it was struck through, when, by whom and why (struck rows are kept:
  the record is append-only; filter on ``struck_at`` being empty for current values).

The whole clinic may hold millions of vitals, so every table is streamed from one read
transaction (one consistent snapshot) with ``yield_per``; nothing is held in memory but
a batch of rows. Files are written under a temporary name and renamed only when every
table is complete, so a cancelled or failed export leaves no half-written table behind.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kapp.domain import enums as e
from kapp.domain.errors import KappError, NotFound
from kapp.services.base import Actor, Service
from kapp.storage import models as m
from kapp.storage.base import EntryMixin

BATCH_ROWS = 2000


class ExportCancelled(KappError):
    """The user cancelled the export; no file was left behind."""


@dataclass(frozen=True, slots=True)
class ExportProgress:
    """Where an export is: ``table`` being written, rows done of all tables' rows."""

    table: str
    rows_done: int
    rows_total: int


@dataclass(frozen=True, slots=True)
class ExportResult:
    directory: Path
    files: tuple[Path, ...]
    rows: dict[str, int]  # table name -> data rows written


@dataclass(frozen=True, slots=True)
class Col:
    """One CSV column: its name (with the unit), the SQL expression it comes from, and
    how a value is written (``kind``: text, time, date, bool, user, list, json, or a
    function of the value)."""

    name: str
    expr: Any
    kind: str | Callable[[Any], Any] = "text"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    model: type
    columns: tuple[Col, ...]
    order_by: tuple[Any, ...]
    # How the model reaches the patient: "self" (patients), "patient_id" or "session".
    patient_via: str
    # For a table derived from another's JSON (item answers): row -> output rows.
    explode: Callable[[Sequence[Any]], Iterable[Sequence[Any]]] | None = None
    header: tuple[str, ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        return self.header or tuple(c.name for c in self.columns)


def _entry_cols(model: type[EntryMixin]) -> tuple[Col, ...]:
    return (
        Col("entered_at", model.entered_at, "time"),
        Col("entered_by", model.entered_by_id, "user"),
        Col("struck_at", model.struck_at, "time"),
        Col("struck_by", model.struck_by_id, "user"),
        Col("strike_reason", model.strike_reason),
        Col("supersedes_id", model.supersedes_id),
    )


def _session_keys(model: Any, id_name: str) -> tuple[Col, ...]:
    return (Col(id_name, model.id), Col("session_id", model.session_id),
            Col("patient_mrn", m.Patient.mrn))


def _check(key: str) -> Callable[[Any], Any]:
    return lambda checks: None if not checks or key not in checks else bool(checks[key])


def _contra(key: str) -> Callable[[Any], Any]:
    return lambda answers: (answers or {}).get(key)


def _baseline(code: str) -> Callable[[Any], Any]:
    return lambda scores: (scores or {}).get(code)


# Instrument codes shipped with kapp; a course's baseline score gets a column each.
BASELINE_INSTRUMENTS = ("phq9", "gad7", "madrs", "qids_sr16", "pain_nrs")


def _answers(row: Sequence[Any]) -> Iterable[Sequence[Any]]:
    response_id, session_id, mrn, instrument, taken_at, struck_at, answers = row
    for item, score in sorted((answers or {}).items(), key=lambda kv: int(kv[0])):
        yield (response_id, session_id, mrn, instrument, taken_at, int(item), score, struck_at)


P, S = m.Patient, m.Session
TABLES: tuple[Table, ...] = (
    Table("staff", "Staff accounts (no passwords): who entered, acknowledged and signed.",
          m.User, (
              Col("user_id", m.User.id), Col("username", m.User.username),
              Col("full_name", m.User.full_name), Col("role", m.User.role),
              Col("active", m.User.active, "bool"), Col("created_at", m.User.created_at, "time"),
          ), (m.User.username,), "none"),
    Table("patients", "One row per patient; screening answers one column each.", P, (
        Col("patient_id", P.id), Col("mrn", P.mrn), Col("given_name", P.given_name),
        Col("family_name", P.family_name), Col("date_of_birth", P.date_of_birth, "date"),
        Col("sex", P.sex), Col("indication", P.indication), Col("allergies", P.allergies),
        *(Col(f"contraindication_{c.value}", P.contraindications, _contra(c.value))
          for c in e.Contraindication),
        Col("medication_flags", P.medication_flags, "list"),
        Col("current_medications", P.current_medications), Col("notes", P.notes),
        Col("created_at", P.created_at, "time"), Col("created_by", P.created_by_id, "user"),
        Col("updated_at", P.updated_at, "time"), Col("updated_by", P.updated_by_id, "user"),
        Col("version", P.version),
    ), (P.mrn,), "self"),
    Table("courses", "One row per course (induction, maintenance, booster).", m.Course, (
        Col("course_id", m.Course.id), Col("patient_id", m.Course.patient_id),
        Col("patient_mrn", P.mrn), Col("kind", m.Course.kind),
        Col("planned_sessions", m.Course.planned_sessions),
        Col("started_on", m.Course.started_on, "date"),
        Col("ended_on", m.Course.ended_on, "date"),
        *(Col(f"baseline_{code}_score", m.Course.baseline_scores, _baseline(code))
          for code in BASELINE_INSTRUMENTS),
        Col("notes", m.Course.notes), Col("created_at", m.Course.created_at, "time"),
        Col("created_by", m.Course.created_by_id, "user"),
    ), (P.mrn, m.Course.started_on), "patient_id"),
    Table("sessions", "One row per session: dose plan, controlled substance, checklists, "
          "discharge times and signature. Delivered dose: see infusion_events (pump) or "
          "nasal_devices (intranasal).", S, (
        Col("session_id", S.id), Col("course_id", S.course_id), Col("patient_id", S.patient_id),
        Col("patient_mrn", P.mrn), Col("number_in_course", S.number_in_course),
        Col("status", S.status), Col("planned_start", S.planned_start, "time"),
        Col("actual_start", S.actual_start, "time"),
        Col("infusion_ended_at", S.infusion_ended_at, "time"),
        Col("ready_to_leave_at", S.ready_to_leave_at, "time"), Col("left_at", S.left_at, "time"),
        Col("route", S.route), Col("drug", S.drug), Col("weight_kg", S.weight_kg),
        Col("weight_entered", S.weight_entered), Col("weight_entered_unit", S.weight_unit),
        Col("dose_mg_per_kg", S.dose_mg_per_kg), Col("dose_mg", S.dose_mg),
        Col("concentration_mg_per_ml", S.concentration_mg_per_ml),
        Col("volume_ml", S.volume_ml), Col("duration_min", S.duration_min),
        Col("dose_override_reason", S.dose_override_reason),
        Col("dose_verified_by", S.dose_verified_by_id, "user"),
        Col("lot_number", S.lot_number), Col("amount_drawn_mg", S.amount_drawn_mg),
        Col("amount_wasted_mg", S.amount_wasted_mg),
        Col("waste_witness", S.waste_witness_id, "user"),
        *(Col(f"pre_{c.value}", S.pre_checklist, _check(c.value)) for c in e.PreSessionCheck),
        *(Col(f"discharge_{c.value}", S.discharge_checklist, _check(c.value))
          for c in e.DischargeCheck),
        Col("moaas_lowest_0_5", S.moaas), Col("nurse", S.nurse_id, "user"),
        Col("prescriber", S.prescriber_id, "user"), Col("signed_by", S.signed_by_id, "user"),
        Col("signed_at", S.signed_at, "time"), Col("signature_meaning", S.signature_meaning),
        Col("abort_reason", S.abort_reason), Col("created_at", S.created_at, "time"),
        Col("created_by", S.created_by_id, "user"),
    ), (P.mrn, S.planned_start), "patient_id"),
    Table("infusion_events", "Pump history: start, pause, resume, rate change, stop.",
          m.InfusionEvent, (
              *_session_keys(m.InfusionEvent, "event_id"), Col("kind", m.InfusionEvent.kind),
              Col("at", m.InfusionEvent.at, "time"),
              Col("rate_ml_per_h", m.InfusionEvent.rate_ml_per_h),
              Col("reason", m.InfusionEvent.reason), *_entry_cols(m.InfusionEvent),
          ), (m.InfusionEvent.session_id, m.InfusionEvent.at), "session"),
    Table("nasal_devices", "Intranasal esketamine: one row per nasal device given, with the "
          "mg it held; the dose given is the sum of the devices not struck through.",
          m.NasalDevice, (
              *_session_keys(m.NasalDevice, "device_id"),
              Col("given_at", m.NasalDevice.given_at, "time"),
              Col("device_mg", m.NasalDevice.device_mg),
              Col("reason_sooner_than_interval", m.NasalDevice.reason),
              *_entry_cols(m.NasalDevice),
          ), (m.NasalDevice.session_id, m.NasalDevice.given_at), "session"),
    Table("vitals", "One row per vitals reading; predose=true for the baseline before dosing.",
          m.VitalsReading, (
              *_session_keys(m.VitalsReading, "vitals_id"),
              Col("taken_at", m.VitalsReading.taken_at, "time"),
              Col("predose", m.VitalsReading.predose, "bool"),
              Col("hr_per_min", m.VitalsReading.hr),
              Col("systolic_mmhg", m.VitalsReading.systolic),
              Col("diastolic_mmhg", m.VitalsReading.diastolic),
              Col("spo2_percent", m.VitalsReading.spo2), Col("rr_per_min", m.VitalsReading.rr),
              Col("temperature_c", m.VitalsReading.temperature_c),
              Col("etco2_mmhg", m.VitalsReading.etco2_mmhg),
              Col("rhythm", m.VitalsReading.rhythm), Col("source", m.VitalsReading.source),
              Col("device_id", m.VitalsReading.device_id), *_entry_cols(m.VitalsReading),
          ), (m.VitalsReading.session_id, m.VitalsReading.taken_at), "session"),
    Table("alerts", "Threshold alerts; value and threshold are in the unit of the rule's "
          "vital sign (mmHg, /min or %).", m.Alert, (
              *_session_keys(m.Alert, "alert_id"), Col("vitals_id", m.Alert.vitals_id),
              Col("rule", m.Alert.rule), Col("severity", m.Alert.severity),
              Col("message", m.Alert.message), Col("value", m.Alert.value),
              Col("threshold", m.Alert.threshold), Col("raised_at", m.Alert.raised_at, "time"),
              Col("acknowledged_at", m.Alert.acknowledged_at, "time"),
              Col("acknowledged_by", m.Alert.acknowledged_by_id, "user"),
              Col("action", m.Alert.action), Col("action_note", m.Alert.action_note),
              *_entry_cols(m.Alert),
          ), (m.Alert.session_id, m.Alert.raised_at), "session"),
    Table("side_effects", "Side effects with onset, severity, serious flag and resolution.",
          m.SideEffect, (
              *_session_keys(m.SideEffect, "side_effect_id"), Col("kind", m.SideEffect.kind),
              Col("description", m.SideEffect.description),
              Col("onset_at", m.SideEffect.onset_at, "time"),
              Col("severity", m.SideEffect.severity),
              Col("serious", m.SideEffect.serious, "bool"),
              Col("resolved_at", m.SideEffect.resolved_at, "time"),
              Col("notes", m.SideEffect.notes), *_entry_cols(m.SideEffect),
          ), (m.SideEffect.session_id, m.SideEffect.onset_at), "session"),
    Table("interventions", "What was done: medication (dose in dose_unit), infusion change, "
          "oxygen, comfort; side_effect_id/alert_id name the event it answers.",
          m.Intervention, (
              *_session_keys(m.Intervention, "intervention_id"),
              Col("kind", m.Intervention.kind), Col("drug", m.Intervention.drug),
              Col("dose", m.Intervention.dose), Col("dose_unit", m.Intervention.dose_unit),
              Col("route", m.Intervention.route),
              Col("given_at", m.Intervention.given_at, "time"),
              Col("given_by", m.Intervention.given_by_id, "user"),
              Col("reason", m.Intervention.reason),
              Col("side_effect_id", m.Intervention.side_effect_id),
              Col("alert_id", m.Intervention.alert_id), *_entry_cols(m.Intervention),
          ), (m.Intervention.session_id, m.Intervention.given_at), "session"),
    Table("dissociation", "Quick dissociation reports during a session (intensity 0-10).",
          m.DissociationReport, (
              *_session_keys(m.DissociationReport, "report_id"),
              Col("reported_at", m.DissociationReport.reported_at, "time"),
              Col("intensity_0_10", m.DissociationReport.intensity),
              Col("valence", m.DissociationReport.valence),
              Col("descriptors", m.DissociationReport.descriptors, "list"),
              Col("patient_words", m.DissociationReport.patient_words),
              Col("observation", m.DissociationReport.observation),
              *_entry_cols(m.DissociationReport),
          ), (m.DissociationReport.session_id, m.DissociationReport.reported_at), "session"),
    Table("instrument_responses", "One row per completed questionnaire or scale (PHQ-9, "
          "GAD-7, CADSS...): its total score, band and flags; item answers are in "
          "instrument_answers.", m.InstrumentResponse, (
              Col("response_id", m.InstrumentResponse.id),
              Col("patient_id", m.InstrumentResponse.patient_id), Col("patient_mrn", P.mrn),
              Col("course_id", m.InstrumentResponse.course_id),
              Col("session_id", m.InstrumentResponse.session_id),
              Col("instrument", m.InstrumentResponse.instrument),
              Col("instrument_version", m.InstrumentResponse.instrument_version),
              Col("time_point", m.InstrumentResponse.time_point),
              Col("taken_at", m.InstrumentResponse.taken_at, "time"),
              Col("total_score", m.InstrumentResponse.total),
              Col("band", m.InstrumentResponse.band),
              Col("flags", m.InstrumentResponse.flags, "list"),
              Col("subscale_scores", m.InstrumentResponse.subscales, "json"),
              *_entry_cols(m.InstrumentResponse),
          ), (P.mrn, m.InstrumentResponse.taken_at), "patient_id"),
    Table("instrument_answers", "One row per item answer of each completed instrument "
          "(answer_score is the item's score). Rows of a struck-through response carry its "
          "struck_at.", m.InstrumentResponse, (
              Col("response_id", m.InstrumentResponse.id),
              Col("session_id", m.InstrumentResponse.session_id), Col("patient_mrn", P.mrn),
              Col("instrument", m.InstrumentResponse.instrument),
              Col("taken_at", m.InstrumentResponse.taken_at, "time"),
              Col("struck_at", m.InstrumentResponse.struck_at, "time"),
              Col("answers", m.InstrumentResponse.answers, lambda v: v),
          ), (P.mrn, m.InstrumentResponse.taken_at), "patient_id", explode=_answers,
          header=("response_id", "session_id", "patient_mrn", "instrument", "taken_at",
                  "item", "answer_score", "struck_at")),
    Table("notes", "Free-text notes about a patient or a session.", m.Note, (
        Col("note_id", m.Note.id), Col("patient_id", m.Note.patient_id),
        Col("patient_mrn", P.mrn), Col("session_id", m.Note.session_id),
        Col("written_at", m.Note.written_at, "time"), Col("text", m.Note.text),
        *_entry_cols(m.Note),
    ), (P.mrn, m.Note.written_at), "patient_id"),
    Table("addenda", "Text added to a signed session, signed by its author.", m.Addendum, (
        *_session_keys(m.Addendum, "addendum_id"), Col("text", m.Addendum.text),
        Col("signed_at", m.Addendum.signed_at, "time"),
        Col("signed_by", m.Addendum.signed_by_id, "user"),
        Col("signature_meaning", m.Addendum.signature_meaning), *_entry_cols(m.Addendum),
    ), (m.Addendum.session_id, m.Addendum.entered_at), "session"),
)
TABLE_NAMES = tuple(t.name for t in TABLES)


def _query(table: Table, patient_id: uuid.UUID | None) -> sa.Select:
    query = sa.select(*(c.expr for c in table.columns)).select_from(table.model)
    if table.patient_via == "patient_id":
        query = query.join(P, table.model.patient_id == P.id)
    elif table.patient_via == "session":
        query = query.join(S, table.model.session_id == S.id).join(P, S.patient_id == P.id)
    if patient_id is not None:
        if table.patient_via == "none":
            # Staff who touched this patient's record: everyone, since ids in the other
            # tables must resolve; the staff list holds no patient data.
            pass
        else:
            query = query.where(P.id == patient_id)
    return query.order_by(*table.order_by)


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 72, not 72.0
    return value


class _Formatter:
    def __init__(self, users: dict[uuid.UUID, str]) -> None:
        self.users = users

    def __call__(self, kind: str | Callable[[Any], Any], value: Any) -> Any:
        if callable(kind):
            return _text(kind(value))
        if value is None:
            return ""
        if kind == "user":
            return self.users.get(value, str(value))
        if kind == "list":
            return ";".join(str(v) for v in value)
        if kind == "json":
            return json.dumps(value, sort_keys=True) if value else ""
        return _text(value)


def readme_text(patient_mrn: str | None) -> str:
    scope = f"patient {patient_mrn}" if patient_mrn else "the whole clinic"
    lines = [f"kapp CSV export of {scope}.", "", __doc__.split("\n\n", 1)[1].strip(), ""]
    for table in TABLES:
        lines += [f"{table.name}.csv: {table.description}", "  " + ", ".join(table.names), ""]
    return "\n".join(lines)


class ExportService(Service):
    """Writes the CSV tables. Reads only; the export itself is written to the audit
    trail, since patient data leaves the database."""

    def export_csv(
        self,
        out_dir: Path,
        *,
        patient_id: uuid.UUID | None = None,
        actor: Actor | None = None,
        progress: Callable[[ExportProgress], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExportResult:
        """Write one CSV per table into ``out_dir`` (created if missing).

        Raises:
            NotFound: ``patient_id`` is not a patient.
            ExportCancelled: ``cancelled()`` returned True; no file is left behind.
            OSError: the folder cannot be written (the message names the file).
            StorageUnavailable: the database could not be read, or the export's audit
                entry could not be saved; no file is left behind.
        """
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        rows: dict[str, int] = {}
        mrn = None
        try:
            with self.db.reading() as s:
                if patient_id is not None:
                    mrn = s.execute(sa.select(P.mrn).where(P.id == patient_id)).scalar()
                    if mrn is None:
                        raise NotFound(f"No patient with id {patient_id}")
                users = {k: v for k, v in s.execute(sa.select(m.User.id, m.User.username))}
                fmt = _Formatter(users)
                totals = {t.name: s.execute(sa.select(sa.func.count()).select_from(
                    _query(t, patient_id).order_by(None).subquery())).scalar_one()
                    for t in TABLES}
                grand, done = sum(totals.values()), 0
                for table in TABLES:
                    if progress:
                        progress(ExportProgress(table.name, done, grand))
                    part = out_dir / f"{table.name}.csv.part"
                    written.append(part)
                    count = 0
                    with part.open("w", newline="", encoding="utf-8") as handle:
                        writer = csv.writer(handle)
                        writer.writerow(table.names)
                        for batch in _batches(s, _query(table, patient_id)):
                            if cancelled is not None and cancelled():
                                raise ExportCancelled("The export was cancelled; no files "
                                                      "were written.")
                            out = list(_format(table, batch, fmt))
                            writer.writerows(out)
                            count += len(out)
                            done += len(batch)
                            if progress:
                                progress(ExportProgress(table.name, done, grand))
                    rows[table.name] = count
            readme = out_dir / "README.txt.part"
            written.append(readme)
            readme.write_text(readme_text(mrn), encoding="utf-8")
            # Recorded before the files take their names: an export whose audit entry
            # could not be saved (the database server went away meanwhile) leaves no
            # files behind, so patient data never leaves the database unrecorded.
            self._audit(actor, out_dir, patient_id, rows)
            final = []
            for part in written:
                target = part.with_suffix("")  # drop ".part"
                os.replace(part, target)
                final.append(target)
        except BaseException:
            for part in written:
                part.unlink(missing_ok=True)
            raise
        if progress:
            progress(ExportProgress("", grand, grand))
        return ExportResult(out_dir, tuple(final), rows)

    def _audit(self, actor: Actor | None, out_dir: Path, patient_id: uuid.UUID | None,
               rows: dict[str, int]) -> None:
        with self.db.unit_of_work() as uow:
            user_id = None
            if actor is not None:
                user_id = self._user(uow, actor, None).id
            uow.audit(user_id=user_id, action="export.csv", entity="export", entity_id=None,
                      patient_id=patient_id,
                      new={"folder": str(out_dir), "scope": "patient" if patient_id else
                           "clinic", "rows": rows})


def _batches(s: sa.orm.Session, query: sa.Select) -> Iterator[Sequence[Any]]:
    result = s.execute(query.execution_options(yield_per=BATCH_ROWS))
    yield from result.partitions()


def _format(table: Table, batch: Sequence[Any], fmt: _Formatter) -> Iterator[list[Any]]:
    kinds = [c.kind for c in table.columns]
    for row in batch:
        values = [fmt(kind, value) for kind, value in zip(kinds, row, strict=True)]
        if table.explode is None:
            yield values
        else:
            yield from (list(r) for r in table.explode(values))
