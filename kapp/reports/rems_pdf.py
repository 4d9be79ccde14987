"""Esketamine REMS monitoring summary of one session (domain.md section 7).

It gathers, from the session record, every answer the US esketamine REMS patient
monitoring form asks for, so that whoever files the form copies from one page. It is a
summary of the record, not the form itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from kapp.domain import enums as e
from kapp.domain.entities import VitalsReading
from kapp.reports.common import (
    CONTENT_WIDTH,
    day,
    day_time,
    document,
    esc,
    footer,
    grid,
    hm,
    num,
    para,
    words,
    zone_note,
)
from kapp.services.report_reads import SessionRecord

BP_AT_MINUTES = 40  # the form asks for blood pressure at 40 minutes after dosing


@dataclass(frozen=True, slots=True)
class RemsSummary:
    """The REMS form's answers, as found in the record (None: not recorded)."""

    treatment_date: str
    dose_mg: float | None
    devices: int | None  # nasal devices: as recorded, else as the planned dose takes
    lot_number: str | None
    monitoring_minutes: float | None
    minimum_minutes: float
    bp_before: VitalsReading | None
    bp_at_40: VitalsReading | None
    bp_before_discharge: VitalsReading | None
    acceptable_before_dosing: bool | None
    acceptable_before_discharge: bool | None
    lowest_moaas: int | None
    sedation_reported: bool
    dissociation_peak: int | None
    cadss_total: float | None
    respiratory_depression: bool
    spo2_checks: int
    lowest_spo2: float | None
    serious_events: tuple[str, ...]
    is_esketamine: bool
    device_mg: float | None = None  # mg in each device
    devices_recorded: bool = False  # the devices given were recorded one by one


def _standing(record: SessionRecord) -> list[VitalsReading]:
    return [v for v in record.entries.vitals if not v.entry.is_struck
            and v.systolic is not None]


def _minutes(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() / 60


def rems_summary(record: SessionRecord) -> RemsSummary:
    s, proto, en = record.session, record.protocol, record.entries
    readings = _standing(record)
    before = [v for v in readings if v.predose]
    after = [v for v in readings if not v.predose]
    at_40 = None
    if s.actual_start and after:
        at_40 = min(after, key=lambda v: abs(_minutes(v.taken_at, s.actual_start)
                                             - BP_AT_MINUTES))
    end = s.ready_to_leave_at or s.left_at
    discharge = [v for v in after if end is None or v.taken_at <= end]
    bp_before = before[-1] if before else None
    acceptable_before = None
    if bp_before is not None:
        acceptable_before = not (bp_before.systolic > proto.predose_warn_systolic or (
            bp_before.diastolic is not None
            and bp_before.diastolic > proto.predose_warn_diastolic))
    acceptable_discharge = s.discharge_checklist.get(e.DischargeCheck.VITALS_NEAR_BASELINE.value)
    effects = [x for x in en.side_effects if not x.entry.is_struck]
    all_vitals = [v for v in en.vitals if not v.entry.is_struck]
    spo2 = [v.spo2 for v in all_vitals if v.spo2 is not None]
    rr_low = any(v.rr is not None and v.rr < proto.alert_rr_below for v in all_vitals)
    spo2_low = any(x < proto.alert_spo2_below for x in spo2)
    peak = max((d.intensity for d in en.dissociation if not d.entry.is_struck), default=None)
    cadss = [r.total for r in en.instruments if not r.entry.is_struck
             and r.instrument in ("cadss", "cadss6")]
    devices, device_mg, dose_mg = None, None, s.dose_mg
    given = [d for d in en.nasal_devices if not d.entry.is_struck]
    if given:  # the dose given is what the devices add up to
        devices, device_mg = len(given), given[0].device_mg
        dose_mg = sum(d.device_mg for d in given)
    elif s.dose_mg and s.route is e.Route.INTRANASAL:
        device_mg = proto.esketamine_device_mg
        devices = math.ceil(s.dose_mg / device_mg - 1e-9)
    return RemsSummary(
        device_mg=device_mg, devices_recorded=bool(given),
        treatment_date=day(s.actual_start or s.planned_start), dose_mg=dose_mg,
        devices=devices, lot_number=s.lot_number, monitoring_minutes=s.monitoring_minutes,
        minimum_minutes=proto.esketamine_min_observation_min, bp_before=bp_before,
        bp_at_40=at_40, bp_before_discharge=discharge[-1] if discharge else None,
        acceptable_before_dosing=acceptable_before,
        acceptable_before_discharge=None if acceptable_discharge is None
        else bool(acceptable_discharge),
        lowest_moaas=s.moaas,
        sedation_reported=any(x.kind is e.SideEffectKind.SEDATION for x in effects),
        dissociation_peak=peak, cadss_total=cadss[-1] if cadss else None,
        respiratory_depression=rr_low or spo2_low or any(
            x.kind is e.SideEffectKind.RESPIRATORY_DEPRESSION for x in effects),
        spo2_checks=len(spo2), lowest_spo2=min(spo2) if spo2 else None,
        serious_events=tuple(f"{words(x.kind)} ({words(x.severity)}, {hm(x.onset_at)})"
                             for x in effects if x.serious),
        is_esketamine=s.drug is e.Drug.ESKETAMINE)


def _bp(v: VitalsReading | None, start: datetime | None) -> str:
    if v is None:
        return '<font color="#b00020"><b>not recorded</b></font>'
    when = hm(v.taken_at)
    if start is not None:
        minute = _minutes(v.taken_at, start)
        when += f" (minute {minute:.0f})" if minute >= 0 else " (before dosing)"
    return f"<b>{num(v.systolic)}/{num(v.diastolic)} mmHg</b> at {when}"


def _yes_no(value: bool | None) -> str:
    if value is None:
        return '<font color="#b00020"><b>not recorded</b></font>'
    return "<b>yes</b>" if value else '<font color="#b00020"><b>NO</b></font>'


def story(record: SessionRecord) -> list[Flowable]:
    r = rems_summary(record)
    s, p = record.session, record.patient
    out: list[Flowable] = [
        para("Esketamine REMS monitoring summary", "h1"),
        para(f"<b>{esc(p.family_name.upper())}, {esc(p.given_name)}</b> &nbsp; MRN "
             f"<b>{esc(p.mrn)}</b> &nbsp; born {day(p.date_of_birth)} &nbsp; session "
             f"{s.number_in_course} of the {words(record.course.kind)} course"),
        para("Answers for the REMS patient monitoring form, taken from the session record. "
             "Copy them into the form; this page is not the form itself.", "small"),
    ]
    if not r.is_esketamine:
        out.append(para(f"This session's drug is {words(s.drug)}, not esketamine: the REMS "
                        "form applies to esketamine only.", "warn"))
    monitoring = num(r.monitoring_minutes, "min", 0) if r.monitoring_minutes is not None \
        else '<font color="#b00020"><b>not complete (no time left)</b></font>'
    if r.monitoring_minutes is not None and r.monitoring_minutes < r.minimum_minutes:
        monitoring += (f' <font color="#b00020"><b>less than the {r.minimum_minutes:g} '
                       "minutes required</b></font>")
    dose = num(r.dose_mg, "mg", 0)
    if r.devices and r.device_mg:
        how = " given, as recorded" if r.devices_recorded else ""
        dose += f" ({r.devices} devices of {num(r.device_mg, 'mg', 0)}{how})"
    dissociation = "none reported" if r.dissociation_peak is None else (
        f"yes, peak intensity {r.dissociation_peak}/10")
    if r.cadss_total is not None:
        dissociation += f"; CADSS total {num(r.cadss_total)}"
    sedation = ("MOAA/S lowest " + (num(r.lowest_moaas, "", 0) if r.lowest_moaas is not None
                                    else "not recorded"))
    sedation += "; sedation recorded as a side effect" if r.sedation_reported else ""
    rows = [
        ["Question on the form", "From the record"],
        ["Treatment date", r.treatment_date],
        ["Drug, route", f"{words(s.drug)}, {words(s.route)}"],
        ["Dose", f"<b>{dose}</b>"],
        ["Lot number", esc(r.lot_number) or '<font color="#b00020"><b>not recorded</b></font>'],
        ["Start of dosing / left", f"{hm(s.actual_start)} / {hm(s.left_at)}"],
        ["Total monitoring time", monitoring],
        ["Blood pressure before dosing", _bp(r.bp_before, s.actual_start)],
        [f"Blood pressure at about {BP_AT_MINUTES} minutes", _bp(r.bp_at_40, s.actual_start)],
        ["Blood pressure before discharge", _bp(r.bp_before_discharge, s.actual_start)],
        ["Vitals acceptable before dosing", _yes_no(r.acceptable_before_dosing)
         + f" (pre-dose threshold {record.protocol.predose_warn_systolic:g}/"
           f"{record.protocol.predose_warn_diastolic:g} mmHg)"],
        ["Vitals acceptable before discharge", _yes_no(r.acceptable_before_discharge)
         + " (discharge check: vitals near baseline)"],
        ["Sedation", sedation],
        ["Dissociation", dissociation],
        ["Respiratory depression", "<b>yes</b>" if r.respiratory_depression else "no"],
        ["Pulse oximetry", f"{r.spo2_checks} SpO2 readings, lowest "
         f"{num(r.lowest_spo2, '%') or 'none'}"],
        ["Serious adverse events", ", ".join(r.serious_events) or "none"],
        ["Monitored by / prescriber", f"{esc(record.who(s.nurse_id))} / "
         f"{esc(record.who(s.prescriber_id))}"],
        ["Signed", f"{esc(record.who(s.signed_by_id))} {day_time(s.signed_at)}"
         if s.is_signed else '<font color="#b00020"><b>not signed</b></font>'],
    ]
    out += [Spacer(1, 3 * mm), grid(rows, [62 * mm, CONTENT_WIDTH - 62 * mm])]
    return out


def write_rems_pdf(record: SessionRecord, out: Path | str | IO[bytes]) -> None:
    p = record.patient
    doc = document(out, title=f"Esketamine REMS monitoring summary {p.mrn}",
                   subject=f"REMS monitoring summary of {p.mrn}")
    draw = footer(f"kapp REMS monitoring summary · {p.family_name}, {p.given_name} · MRN "
                  f"{p.mrn} · printed {day_time(record.printed_at)} · "
                  f"{zone_note(record.printed_at)}")
    doc.build(story(record), onFirstPage=draw, onLaterPages=draw)
