"""The session record as a PDF: one page for a typical session.

Everything recorded is printed, struck-through entries included (struck through, with
who struck them, when and why), because the paper copy must show what the database
shows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO, Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from kapp.domain import enums as e
from kapp.domain.entities import Entry
from kapp.reports import charts as ch
from kapp.reports.common import (
    CONTENT_WIDTH,
    age_on,
    day,
    day_time,
    document,
    esc,
    footer,
    grid,
    hm,
    key_values,
    num,
    para,
    words,
    zone_note,
)
from kapp.services.report_reads import SessionRecord

HR_COLOR = colors.HexColor("#c62828")
SYS_COLOR = colors.HexColor("#1565c0")
DIA_COLOR = colors.HexColor("#2e7d32")
SPO2_COLOR = colors.HexColor("#6a1b9a")
EVENT_COLOR = colors.HexColor("#5d4037")


class Minutes:
    """Minutes since the infusion started (or since the first entry, before it did)."""

    def __init__(self, record: SessionRecord) -> None:
        s = record.session
        starts = [s.actual_start] if s.actual_start else [
            v.taken_at for v in record.entries.vitals] or [s.planned_start]
        self.zero: datetime = min(starts)

    def __call__(self, at: datetime | None) -> float | None:
        return None if at is None else (at - self.zero).total_seconds() / 60

    def text(self, at: datetime | None) -> str:
        value = self(at)
        return "" if value is None else f"{value:+.0f}" if value < 0 else f"{value:.0f}"


def _strike_note(record: SessionRecord, entry: Entry) -> str:
    if entry.strike is None:
        return ""
    s = entry.strike
    return (f' <font color="#b00020">[struck {hm(s.at)} by {esc(record.who(s.by_id))}: '
            f"{esc(s.reason)}]</font>")


def session_title(record: SessionRecord) -> str:
    s, c = record.session, record.course
    drug = "Esketamine" if s.drug is e.Drug.ESKETAMINE else "Ketamine"
    route = s.route.value.upper() if s.route in (e.Route.IV, e.Route.IM) else words(s.route)
    return (f"Session record: {drug} {route}, session {s.number_in_course} "
            f"of {c.planned_sessions} ({words(c.kind)})")


def _header(record: SessionRecord) -> list[Flowable]:
    p, s = record.patient, record.session
    on = (s.actual_start or s.planned_start).date()
    if s.is_signed:
        status = (f"<b>Signed</b> by {esc(record.who(s.signed_by_id))} {day_time(s.signed_at)}"
                  f" ({esc(s.signature_meaning)})")
    elif s.status is e.SessionStatus.ABORTED:
        status = f'<font color="#b00020"><b>Aborted</b></font>: {esc(s.abort_reason)}'
    else:
        status = f'<font color="#b00020"><b>NOT SIGNED</b></font> (status: {words(s.status)})'
    patient_line = (
        f"<b>{esc(p.family_name.upper())}, {esc(p.given_name)}</b> &nbsp; MRN <b>{esc(p.mrn)}"
        f"</b> &nbsp; born {day(p.date_of_birth)} ({age_on(p.date_of_birth, on)} y) &nbsp; "
        f"{words(p.sex)} &nbsp; indication: {words(p.indication)}")
    flags = []
    if p.allergies:
        flags.append(f"<b>Allergies:</b> {esc(p.allergies)}")
    if p.positive_contraindications():
        flags.append("<b>Contraindications:</b> " + ", ".join(
            words(c) for c in p.positive_contraindications()))
    if p.medication_flags:
        flags.append("<b>Medications that matter:</b> " + ", ".join(
            words(f) for f in p.medication_flags))
    out: list[Flowable] = [
        para(esc(session_title(record)), "h1"),
        para(patient_line),
        para(f"Date {day(s.actual_start or s.planned_start)} &nbsp; {status}"),
    ]
    if flags:
        out.append(para(" &nbsp; ".join(flags)))
    return out


def _timing_and_dose(record: SessionRecord) -> Flowable:
    s, dl = record.session, record.delivery
    monitoring = s.monitoring_minutes
    weight = num(s.weight_kg, "kg")
    if s.weight_unit is e.WeightUnit.LB and s.weight_entered is not None:
        weight += f" (entered {num(s.weight_entered, 'lb')})"
    times = [
        ("Planned", hm(s.planned_start)), ("Infusion start", hm(s.actual_start)),
        ("Infusion end", hm(s.infusion_ended_at)), ("Ready to leave", hm(s.ready_to_leave_at)),
        ("Left", hm(s.left_at)),
        ("Monitoring", num(monitoring, "min", 0) if monitoring is not None else ""),
        ("Nurse", esc(record.who(s.nurse_id))), ("Prescriber", esc(record.who(s.prescriber_id))),
    ]
    planned_rate = ""
    if s.dose_mg and s.concentration_mg_per_ml and s.duration_min:
        planned_rate = num(s.dose_mg / s.concentration_mg_per_ml / (s.duration_min / 60),
                           "mL/h")
    dose = [
        ("Weight", weight),
        ("Dose", f"{num(s.dose_mg_per_kg, 'mg/kg', 2)}  =  <b>{num(s.dose_mg, 'mg', 2)}</b>"
         if s.dose_mg_per_kg else f"<b>{num(s.dose_mg, 'mg', 2)}</b>"),
        ("Concentration", num(s.concentration_mg_per_ml, "mg/mL", 2)),
        ("Volume / over", f"{num(s.volume_ml, 'mL', 1)} over {num(s.duration_min, 'min', 0)}"
         f"{'  (' + planned_rate + ')' if planned_rate else ''}" if s.volume_ml else ""),
        ("Delivered (pump)", f"<b>{num(dl.dose_mg, 'mg', 2)}</b> in {num(dl.volume_ml, 'mL', 1)}"
         if dl is not None and record.entries.infusion_events else "not by pump"),
    ]
    if s.route is e.Route.INTRANASAL:
        dose.append(("Given (nasal devices)", _nasal_given(record)))
    if s.dose_override_reason:
        dose.append(("Outside protocol", f"{esc(s.dose_override_reason)} (verified by "
                     f"{esc(record.who(s.dose_verified_by_id))})"))
    dose = [(k, v) for k, v in dose if v]
    if s.route is not e.Route.IV:
        times[1:3] = [("Dosing start", hm(s.actual_start)),
                      ("Dosing end", hm(s.infusion_ended_at))]
    cs = [
        ("Lot number", esc(s.lot_number or "")),
        ("Drawn / wasted", f"{num(s.amount_drawn_mg, 'mg', 2)} / "
         f"{num(s.amount_wasted_mg, 'mg', 2)}"),
        ("Waste witness", esc(record.who(s.waste_witness_id))),
        ("Lowest MOAA/S", num(s.moaas, "", 0) if s.moaas is not None else "not recorded"),
    ]
    third = CONTENT_WIDTH / 3
    cols = [key_values(times, (24 * mm, third - 25 * mm)),
            key_values(dose, (25 * mm, third - 26 * mm)),
            key_values(cs, (25 * mm, third - 26 * mm))]
    t = Table([cols], colWidths=[third] * 3, hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 2)]))
    return t


def _events(record: SessionRecord, mins: Minutes) -> list[ch.VMark]:
    """Everything that happened, as markers on the vitals chart (struck ones left out)."""
    marks: list[ch.VMark] = []
    en = record.entries
    for ev in en.infusion_events:
        if not ev.entry.is_struck:
            rate = f" {num(ev.rate_ml_per_h)}" if ev.rate_ml_per_h is not None else ""
            marks.append(ch.VMark(mins(ev.at) or 0, f"{words(ev.kind)}{rate}", EVENT_COLOR))
    for a in en.alerts:
        if not a.entry.is_struck:
            marks.append(ch.VMark(mins(a.raised_at) or 0, f"alert {words(a.rule)}",
                                  colors.HexColor("#b00020")))
    for se in en.side_effects:
        if not se.entry.is_struck:
            marks.append(ch.VMark(mins(se.onset_at) or 0, words(se.kind),
                                  colors.HexColor("#ef6c00")))
    for iv in en.interventions:
        if not iv.entry.is_struck:
            marks.append(ch.VMark(mins(iv.given_at) or 0, iv.drug or words(iv.kind),
                                  colors.HexColor("#00695c")))
    for dr in en.dissociation:
        if not dr.entry.is_struck:
            marks.append(ch.VMark(mins(dr.reported_at) or 0, f"dissoc {dr.intensity}/10",
                                  colors.HexColor("#4527a0")))
    return sorted(marks, key=lambda m: m.x)


def vitals_chart(record: SessionRecord, width: float, height: float) -> Flowable | None:
    """HR, systolic, diastolic and SpO2 against minutes, with every event marked."""
    mins = Minutes(record)
    readings = [v for v in record.entries.vitals if not v.entry.is_struck]
    if not readings:
        return None

    def pts(attr: str) -> list[tuple[float, float]]:
        return [(mins(v.taken_at) or 0, getattr(v, attr)) for v in readings
                if getattr(v, attr) is not None]

    marks = _events(record, mins)
    xs = [x for x, _ in pts("systolic") + pts("hr")] + [m.x for m in marks]
    ends = [mins(t) for t in (record.session.left_at, record.session.infusion_ended_at) if t]
    x_lo, x_hi = min([0.0, *xs]), max([10.0, *xs, *[x for x in ends if x is not None]])
    values = [y for a in ("hr", "systolic", "diastolic", "spo2") for _, y in pts(a)]
    proto = record.protocol
    chart = ch.Chart(
        width=width, height=height, x_range=(x_lo - 2, x_hi + 2),
        y_range=ch.nice_range(values, floor=40, ceiling=max([*values, 150]), pad=0.04),
        x_label="minutes since infusion start",
        series=[
            ch.Series("HR /min", pts("hr"), HR_COLOR, "circle"),
            ch.Series("SYS mmHg", pts("systolic"), SYS_COLOR, "triangle"),
            ch.Series("DIA mmHg", pts("diastolic"), DIA_COLOR, "square"),
            ch.Series("SpO2 %", pts("spo2"), SPO2_COLOR, "diamond", dashed=True),
        ],
        vmarks=marks,
    )
    limit = proto.alert_systolic_at_or_above
    if chart.y_range[0] <= limit <= chart.y_range[1]:
        chart.hlines.append(ch.HLine(limit, f"systolic alert {num(limit)} mmHg",
                                     colors.HexColor("#b00020")))
    return chart.drawing()


def _vitals_table(record: SessionRecord, mins: Minutes) -> list[Flowable]:
    rows: list[list[str]] = [["Time", "Min", "HR /min", "SYS mmHg", "DIA mmHg", "MAP mmHg",
                              "SpO2 %", "RR /min", "Temp °C", "Rhythm, notes"]]
    struck_rows = []
    rhythm = None
    for v in record.entries.vitals:
        mean = None
        if v.systolic is not None and v.diastolic is not None:
            mean = (v.systolic + 2 * v.diastolic) / 3
        # The rhythm only when it changes, so that each reading stays on one line.
        extra = ", ".join(x for x in (
            esc(v.rhythm or "") if v.rhythm != rhythm else "",
            "before dosing" if v.predose else "",
            f"{words(v.source)} {esc(v.device_id or '')}".strip()
            if v.source is not e.VitalsSource.MANUAL else "") if x)
        rhythm = v.rhythm or rhythm
        if v.entry.is_struck:
            struck_rows.append(len(rows))
        rows.append([hm(v.taken_at), mins.text(v.taken_at), num(v.hr), num(v.systolic),
                     num(v.diastolic), num(mean, "", 0), num(v.spo2), num(v.rr),
                     num(v.temperature_c), extra + _strike_note(record, v.entry)])
    w = [11 * mm, 8 * mm, 12 * mm, 13 * mm, 13 * mm, 13 * mm, 11 * mm, 11 * mm, 11 * mm]
    table = grid(rows, [*w, CONTENT_WIDTH - sum(w)], struck_rows=struck_rows,
                 align_right=range(1, 9))
    counts: dict[str, int] = {}
    for v in record.entries.vitals:
        who = record.who(v.entry.entered_by_id)
        counts[who] = counts.get(who, 0) + 1
    by = ", ".join(f"{esc(k)} ({n})" for k, n in counts.items())
    return [table, para(f"Vitals entered by: {by}", "small")]


def _pump_table(record: SessionRecord, mins: Minutes, width: float) -> Flowable:
    rows = [["Time", "Min", "Pump", "Rate mL/h", "Reason, by"]]
    struck_rows = []
    for ev in record.entries.infusion_events:
        if ev.entry.is_struck:
            struck_rows.append(len(rows))
        reason = ", ".join(x for x in (esc(ev.reason or ""),
                                       esc(record.who(ev.entry.entered_by_id))) if x)
        rows.append([hm(ev.at), mins.text(ev.at), words(ev.kind), num(ev.rate_ml_per_h),
                     reason + _strike_note(record, ev.entry)])
    w = [10 * mm, 8 * mm, 16 * mm, 13 * mm]
    return grid(rows, [*w, width - sum(w)], struck_rows=struck_rows, align_right=(1, 3))


def _alerts_table(record: SessionRecord, mins: Minutes, width: float) -> Flowable:
    rows = [["Time", "Min", "Alert", "Acknowledged, action"]]
    struck_rows = []
    for a in record.entries.alerts:
        if a.entry.is_struck:
            struck_rows.append(len(rows))
        if a.acknowledged_at:
            ack = (f"{hm(a.acknowledged_at)} {esc(record.who(a.acknowledged_by_id))}: "
                   f"<b>{words(a.action)}</b> {esc(a.action_note or '')}")
        else:
            ack = '<font color="#b00020"><b>not acknowledged</b></font>'
        rows.append([hm(a.raised_at), mins.text(a.raised_at), f"<b>{esc(a.message)}</b>",
                     ack + _strike_note(record, a.entry)])
    w = [10 * mm, 8 * mm, 48 * mm]
    return grid(rows, [*w, width - sum(w)], struck_rows=struck_rows, align_right=(1,))


def _side_effects_table(record: SessionRecord, mins: Minutes, width: float) -> Flowable:
    rows = [["Onset", "Min", "Side effect", "Severity", "Resolved, notes"]]
    struck_rows = []
    for se in record.entries.side_effects:
        if se.entry.is_struck:
            struck_rows.append(len(rows))
        what = words(se.kind) + (f": {esc(se.description)}" if se.description else "")
        severity = words(se.severity) + (' <font color="#b00020"><b>SERIOUS</b></font>'
                                         if se.serious else "")
        rest = ", ".join(x for x in (hm(se.resolved_at) and f"resolved {hm(se.resolved_at)}",
                                     esc(se.notes)) if x)
        rows.append([hm(se.onset_at), mins.text(se.onset_at), what, severity,
                     rest + _strike_note(record, se.entry)])
    w = [10 * mm, 8 * mm, 30 * mm, 16 * mm]
    return grid(rows, [*w, width - sum(w)], struck_rows=struck_rows, align_right=(1,))


def _interventions_table(record: SessionRecord, mins: Minutes, width: float) -> Flowable:
    rows = [["Time", "Min", "Intervention", "Given by, reason"]]
    struck_rows = []
    for iv in record.entries.interventions:
        if iv.entry.is_struck:
            struck_rows.append(len(rows))
        what = words(iv.kind)
        if iv.drug:
            what = (f"<b>{esc(iv.drug)}</b> {num(iv.dose, esc(iv.dose_unit or ''), 2)} "
                    f"{esc(iv.route or '')}")
        by = esc(record.who(iv.given_by_id or iv.entry.entered_by_id))
        rows.append([hm(iv.given_at), mins.text(iv.given_at), what,
                     ", ".join(x for x in (by, esc(iv.reason)) if x)
                     + _strike_note(record, iv.entry)])
    w = [10 * mm, 8 * mm, 36 * mm]
    return grid(rows, [*w, width - sum(w)], struck_rows=struck_rows, align_right=(1,))


def _dissociation_table(record: SessionRecord, mins: Minutes, width: float) -> Flowable:
    rows = [["Time", "Min", "0-10", "Experience", "Patient's words, observation"]]
    struck_rows = []
    for dr in record.entries.dissociation:
        if dr.entry.is_struck:
            struck_rows.append(len(rows))
        said = "; ".join(x for x in (f"“{esc(dr.patient_words)}”" if dr.patient_words else "",
                                     esc(dr.observation)) if x)
        rows.append([hm(dr.reported_at), mins.text(dr.reported_at), str(dr.intensity),
                     f"{words(dr.valence)}: " + ", ".join(words(x) for x in dr.descriptors),
                     said + _strike_note(record, dr.entry)])
    w = [10 * mm, 8 * mm, 8 * mm, 28 * mm]
    return grid(rows, [*w, width - sum(w)], struck_rows=struck_rows, align_right=(1, 2))


def _scores_table(record: SessionRecord, width: float) -> Flowable:
    rows = [["Time", "Scale", "When", "Total", "Band, flags"]]
    struck_rows = []
    for r in record.entries.instruments:
        if r.entry.is_struck:
            struck_rows.append(len(rows))
        definition = record.instruments.get(r.instrument)
        name = definition.name if definition else r.instrument
        flags = []
        for code in r.flags:
            rule = next((f for f in definition.flags if f.code == code), None) \
                if definition else None
            flags.append(f'<font color="#b00020"><b>{esc(rule.message if rule else code)}'
                         f"</b></font>")
        rows.append([hm(r.taken_at), esc(name), words(r.time_point),
                     f"<b>{num(r.total)}</b>", ", ".join([esc(r.band or ""), *flags]).strip(", ")
                     + _strike_note(record, r.entry)])
    w = [10 * mm, 16 * mm, 16 * mm, 10 * mm]
    return grid(rows, [*w, width - sum(w)], struck_rows=struck_rows, align_right=(3,))


def _checklists(record: SessionRecord) -> Flowable:
    s = record.session

    def ticks(values: dict[str, Any], kinds: type[e.StrEnum]) -> str:
        return " &nbsp; ".join(("☑ " if values.get(k.value) else "☐ <b>not done</b> ")
                               + words(k) for k in kinds)

    return para(f"<b>Before the session:</b> {ticks(s.pre_checklist, e.PreSessionCheck)}<br/>"
                f"<b>Discharge:</b> {ticks(s.discharge_checklist, e.DischargeCheck)}")


def _notes(record: SessionRecord) -> list[Flowable]:
    out: list[Flowable] = []
    for n in record.entries.notes:
        text = f"<b>Note {hm(n.written_at)}, {esc(record.who(n.entry.entered_by_id))}:</b> " \
               f"{esc(n.text)}"
        out.append(para((f"<strike>{text}</strike>" if n.entry.is_struck else text)
                        + _strike_note(record, n.entry)))
    for a in record.entries.addenda:
        out.append(para(f"<b>Addendum {day_time(a.entered_at)}, "
                        f"{esc(record.who(a.entry.entered_by_id))}:</b> {esc(a.text)} "
                        f"<i>(signed {day_time(a.signed_at)}, {esc(a.signature_meaning)})</i>"))
    return out


def _side_by_side(left: list[Flowable], right: list[Flowable], gap: float = 3 * mm) -> Table:
    half = (CONTENT_WIDTH - gap) / 2
    t = Table([[left, right]], colWidths=[half + gap, half], hAlign="LEFT")
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (0, -1), gap),
                           ("RIGHTPADDING", (1, 0), (1, -1), 0)]))
    return t


def _section(title: str, body: Flowable | None, empty: str = "none recorded") -> Flowable:
    return KeepTogether([para(esc(title), "h2"), body if body is not None else para(empty,
                                                                                    "small")])


def _signature(record: SessionRecord) -> Flowable:
    s = record.session
    if s.is_signed:
        text = (f"<b>Signed:</b> {esc(record.who(s.signed_by_id))}, {day_time(s.signed_at)}, "
                f"meaning: {esc(s.signature_meaning)}. The record is locked; later "
                "additions appear as addenda.")
    else:
        text = ('<font color="#b00020"><b>Not signed.</b></font> This printout is a draft of '
                "a record that can still change.")
    return para(text)


def story(record: SessionRecord) -> list[Flowable]:
    mins = Minutes(record)
    en = record.entries
    half = (CONTENT_WIDTH - 3 * mm) / 2
    flow: list[Flowable] = [*_header(record), Spacer(1, 2 * mm), _timing_and_dose(record)]
    chart = vitals_chart(record, CONTENT_WIDTH, 56 * mm)
    flow.append(_section("Vitals", chart, "no vitals recorded"))
    if en.vitals:
        flow += _vitals_table(record, mins)
    pump = _pump_table(record, mins, half) if en.infusion_events else para("none recorded",
                                                                          "small")
    alerts = _alerts_table(record, mins, half) if en.alerts else para("none", "small")
    flow.append(_side_by_side(
        [para("Pump", "h2"), pump], [para("Alerts", "h2"), alerts]))
    effects = _side_effects_table(record, mins, half) if en.side_effects else para("none",
                                                                                   "small")
    actions = _interventions_table(record, mins, half) if en.interventions else para("none",
                                                                                     "small")
    flow.append(_side_by_side([para("Side effects", "h2"), effects],
                              [para("Interventions", "h2"), actions]))
    dissociation = _dissociation_table(record, mins, half) if en.dissociation else para(
        "none reported", "small")
    scores = _scores_table(record, half) if en.instruments else para("none taken", "small")
    flow.append(_side_by_side([para("Dissociation", "h2"), dissociation],
                              [para("Scores", "h2"), scores]))
    flow += [para("Checklists", "h2"), _checklists(record)]
    notes = _notes(record)
    if notes:
        flow += [para("Notes and addenda", "h2"), *notes]
    flow += [Spacer(1, 2 * mm), _signature(record)]
    return flow


def write_session_pdf(record: SessionRecord, out: Path | str | IO[bytes]) -> None:
    """Write the session record to ``out`` (a path or a binary file object)."""
    p = record.patient
    doc = document(out, title=session_title(record),
                   subject=f"Session record of {p.mrn}")
    note = (f"kapp session record · {p.family_name}, {p.given_name} · MRN {p.mrn} · "
            f"printed {day_time(record.printed_at)} · {zone_note(record.printed_at)}")
    draw = footer(note)
    doc.build(story(record), onFirstPage=draw, onLaterPages=draw)


def _nasal_given(record: SessionRecord) -> str:
    """The dose given by nasal devices, counted from the devices recorded."""
    given = [d for d in record.entries.nasal_devices if not d.entry.is_struck]
    if not given:
        return "no nasal devices recorded"
    total = sum(d.device_mg for d in given)
    times = ", ".join(f"{hm(d.given_at)} ({num(d.device_mg, 'mg', 0)})" for d in given)
    return f"<b>{num(total, 'mg', 0)}</b> in {len(given)} device(s): {times}"
