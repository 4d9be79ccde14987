"""The patient's progress as a PDF, for the paper chart and the referring doctor."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from kapp.domain import enums as e
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
    num,
    para,
    words,
    zone_note,
)
from kapp.reports.progress_data import InstrumentSummary, ProgressData, progress_data
from kapp.services.report_reads import PatientHistory

SCORE_COLOR = colors.HexColor("#1565c0")
BASELINE_COLOR = colors.HexColor("#444444")
RESPONSE_COLOR = colors.HexColor("#e65100")
REMISSION_COLOR = colors.HexColor("#2e7d32")
ALERT_COLOR = colors.HexColor("#b00020")
# Severity bands, mildest first: pale enough to print behind the lines.
BAND_COLORS = ["#eef6ee", "#f6f6e6", "#fbf1e3", "#fbe8e1", "#f6dede", "#f0d6d6"]


def _yes_no(value: bool | None) -> str:
    return "not known" if value is None else ("<b>yes</b>" if value else "no")


def _summary_table(data: ProgressData) -> Flowable:
    rows = [["Scale", "Baseline", "Latest", "Change", "Response", "Remission"]]
    for s in data.summaries:
        o = s.outcome
        change = f"<b>{o.percent_change:+.0f}%</b>" if o.percent_change is not None else ""
        rows.append([
            esc(s.name), f"<b>{num(o.baseline)}</b> ({day(s.baseline_on)})",
            f"<b>{num(o.latest)}</b> {esc(s.latest_band or '')} ({day(s.latest_on)})", change,
            _yes_no(o.response) + (" (pain relief)" if s.code == "pain_nrs" else ""),
            (_yes_no(o.remission) + f" ({s.remission_words})") if s.remission_words
            else "no remission rule"])
    if len(rows) == 1:
        rows.append(["no scores recorded", "", "", "", "", ""])
    w = [22 * mm, 30 * mm, 50 * mm, 16 * mm, 30 * mm]
    return grid(rows, [*w, CONTENT_WIDTH - sum(w)])


def _x_range(data: ProgressData) -> tuple[float, float]:
    return 0.5, max(len(data.points), 1) + 0.5


def _x_ticks(data: ProgressData) -> list[float]:
    n = len(data.points)
    step = 1 if n <= 16 else 2 if n <= 32 else 5
    return [float(i) for i in range(1, n + 1) if i == 1 or i % step == 0]


def _course_marks(data: ProgressData) -> list[ch.VMark]:
    return [ch.VMark(first - 0.5, kind, colors.HexColor("#6d4c41"))
            for first, kind in data.course_starts]


def instrument_chart(data: ProgressData, summary: InstrumentSummary,
                     history: PatientHistory, width: float, height: float) -> Flowable:
    definition = history.instruments.get(summary.code)
    lo, hi = (definition.min_total, definition.max_total) if definition else (0, 27)
    points = [(float(p.number), p.scores[summary.code]) for p in data.points
              if summary.code in p.scores]
    chart = ch.Chart(
        width=width, height=height, x_range=_x_range(data), y_range=(lo, hi),
        title=f"{summary.name} per session", x_label="session", x_ticks=_x_ticks(data),
        series=[ch.Series(f"{summary.name} total", points, SCORE_COLOR, "circle")],
        vmarks=_course_marks(data))
    if definition:
        for index, band in enumerate(definition.bands):
            chart.bands.append(ch.Band(band.min - (0.5 if index else 0),
                                       band.max + (0.5 if index < len(definition.bands) - 1
                                                   else 0),
                                       band.label, colors.HexColor(
                                           BAND_COLORS[min(index, len(BAND_COLORS) - 1)])))
    o = summary.outcome
    if o.baseline is not None:
        chart.hlines.append(ch.HLine(o.baseline, f"baseline {num(o.baseline)}", BASELINE_COLOR))
    if summary.response_line is not None:
        word = "relief" if summary.code == "pain_nrs" else "response"
        chart.hlines.append(ch.HLine(summary.response_line,
                                     f"{word} at or below {num(summary.response_line)}",
                                     RESPONSE_COLOR))
    if summary.remission_line is not None:
        chart.hlines.append(ch.HLine(summary.remission_line,
                                     f"remission {summary.remission_words}", REMISSION_COLOR))
    if summary.code == "phq9":
        flagged = [(float(p.number), p.scores["phq9"]) for p in data.points
                   if p.item9_positive and "phq9" in p.scores]
        if flagged:
            chart.series.append(ch.Series("item 9 positive", flagged, ALERT_COLOR, "star",
                                          connect=False))
    return chart.drawing()


def _small_chart(data: ProgressData, title: str, series: list[ch.Series],
                 y_range: tuple[float, float], width: float, height: float,
                 hlines: list[ch.HLine] | None = None) -> Flowable:
    return ch.Chart(width=width, height=height, x_range=_x_range(data), y_range=y_range,
                    title=title, x_label="session", x_ticks=_x_ticks(data), series=series,
                    hlines=hlines or [], vmarks=_course_marks(data)).drawing()


def _safety_charts(data: ProgressData, history: PatientHistory) -> Flowable:
    half = (CONTENT_WIDTH - 4 * mm) / 2
    height = 44 * mm
    pts = data.points

    def series(attr: str) -> list[tuple[float, float]]:
        return [(float(p.number), getattr(p, attr)) for p in pts if getattr(p, attr) is not None]

    cadss = series("cadss_total")
    dissociation = _small_chart(
        data, "Dissociation per session",
        [ch.Series("peak intensity 0-10", series("peak_dissociation"),
                   colors.HexColor("#4527a0"), "circle"),
         *([ch.Series("CADSS total / 10", [(x, y / 10) for x, y in cadss],
                      colors.HexColor("#00838f"), "square", dashed=True)] if cadss else [])],
        (0, 10), half, height)
    rises = series("bp_rise_mmhg")
    hrs = series("peak_hr")
    values = [y for _, y in rises + hrs]
    bp = _small_chart(
        data, "Blood pressure rise and peak heart rate",
        [ch.Series("systolic rise mmHg", rises, colors.HexColor("#1565c0"), "triangle"),
         ch.Series("peak HR /min", hrs, colors.HexColor("#c62828"), "circle", dashed=True)],
        ch.nice_range(values, floor=0, ceiling=60), half, height,
        [ch.HLine(40, "rise of 40 mmHg", ALERT_COLOR)])
    doses = series("dose_mg_per_kg")
    dose = _small_chart(
        data, "Dose per session",
        [ch.Series("mg/kg", doses, colors.HexColor("#5d4037"), "square")],
        ch.nice_range([y for _, y in doses], floor=0, ceiling=1.0), half, height)
    effects = []
    for severity, color, shape in ((e.Severity.MILD, "#9e9d24", "circle"),
                                   (e.Severity.MODERATE, "#ef6c00", "triangle"),
                                   (e.Severity.SEVERE, "#b00020", "square")):
        effects.append(ch.Series(severity.value, [(float(p.number),
                                                   p.side_effects.get(severity, 0))
                                                  for p in pts], colors.HexColor(color), shape))
    counts = [y for s in effects for _, y in s.points]
    side = _small_chart(data, "Side effects per session (count by severity)", effects,
                        (0, max([3, *counts]) + 0.5), half, height)
    if not any(p.dose_mg_per_kg for p in pts):  # intranasal esketamine: fixed mg doses
        dose = _small_chart(
            data, "Dose per session",
            [ch.Series("mg", series("dose_mg"), colors.HexColor("#5d4037"), "square")],
            ch.nice_range([y for _, y in series("dose_mg")], floor=0), half, height)
    t = Table([[dissociation, bp], [dose, side]], colWidths=[half + 4 * mm, half],
              hAlign="LEFT")
    t.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 2)]))
    return t


def _scores_table(data: ProgressData, history: PatientHistory) -> Flowable:
    codes = [s.code for s in data.summaries]
    names = [s.name for s in data.summaries]
    head = ["#", "Date", "Course", "Dose", *names, "Dissoc. peak", "CADSS", "SYS rise mmHg",
            "Peak HR", "Side effects"]
    rows = [head]
    for p in data.points:
        dose = num(p.dose_mg_per_kg, "mg/kg", 2) if p.dose_mg_per_kg else num(p.dose_mg, "mg")
        score_cells = []
        for code in codes:
            text = num(p.scores.get(code))
            if code == "phq9" and p.item9_positive:
                text += ' <font color="#b00020"><b>! item 9</b></font>'
            score_cells.append(text)
        effects = ", ".join(f"{n} {sev.value}" for sev, n in sorted(
            p.side_effects.items(), key=lambda kv: list(e.Severity).index(kv[0])))
        if p.serious_side_effects:
            effects += f' <font color="#b00020"><b>{p.serious_side_effects} serious</b></font>'
        rise = p.bp_rise_mmhg
        rows.append([str(p.number), day(p.when), f"{words(p.course_kind)} {p.number_in_course}",
                     dose, *score_cells, num(p.peak_dissociation), num(p.cadss_total),
                     (f"+{num(rise)}" if rise is not None and rise > 0 else num(rise)),
                     num(p.peak_hr), effects])
    fixed = [7 * mm, 17 * mm, 20 * mm, 17 * mm]
    per_score = 14 * mm
    tail = [14 * mm, 11 * mm, 14 * mm, 11 * mm]
    rest = CONTENT_WIDTH - sum(fixed) - per_score * len(codes) - sum(tail)
    return grid(rows, [*fixed, *[per_score] * len(codes), *tail, rest],
                align_right=range(4, 4 + len(codes) + 4))


def story(history: PatientHistory) -> list[Flowable]:
    data = progress_data(history)
    p = history.patient
    today = history.printed_at.date()
    out: list[Flowable] = [
        para(f"Progress report: {esc(p.family_name.upper())}, {esc(p.given_name)}", "h1"),
        para(f"MRN <b>{esc(p.mrn)}</b> &nbsp; born {day(p.date_of_birth)} "
             f"({age_on(p.date_of_birth, today)} y) &nbsp; {words(p.sex)} &nbsp; indication: "
             f"{words(p.indication)}"),
        para(f"Sessions done: <b>{data.sessions_done}</b> &nbsp; current course: "
             f"{esc(data.current_course)} &nbsp; last session: "
             f"<b>{day(data.last_session_on) or 'none'}</b>"
             + (f" ({(today - data.last_session_on).days} days ago)"
                if data.last_session_on else "")
             + (f" &nbsp; next due: <b>{day(data.next_due_on)}</b>" if data.next_due_on else "")),
        Spacer(1, 2 * mm),
        para("Summary", "h2"), _summary_table(data),
        para(f"Response: a fall of at least {history.protocol.response_fall_fraction:.0%} "
             f"from baseline (pain: {history.protocol.pain_relief_fall_fraction:.0%}). "
             "Baseline: the score before the first course began.", "small"),
    ]
    if data.summaries:
        charts = [instrument_chart(data, s, history, CONTENT_WIDTH, 52 * mm)
                  for s in data.summaries]
        out += [para("Scores", "h2"), *charts]
    if data.points:
        out += [KeepTogether([para("Dissociation, safety and dose", "h2"),
                              _safety_charts(data, history)]),
                KeepTogether([para("Sessions", "h2"), _scores_table(data, history)])]
    else:
        out.append(para("No session has taken place yet.", "body"))
    return out


def write_progress_pdf(history: PatientHistory, out: Path | str | IO[bytes]) -> None:
    p = history.patient
    doc = document(out, title=f"Progress report {p.mrn}", subject=f"Progress of {p.mrn}")
    draw = footer(f"kapp progress report · {p.family_name}, {p.given_name} · MRN {p.mrn} · "
                  f"printed {day_time(history.printed_at)} · {zone_note(history.printed_at)}")
    doc.build(story(history), onFirstPage=draw, onLaterPages=draw)
