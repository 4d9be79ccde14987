"""Everything that happened in a session as one list of lines, newest first (no Qt here,
so the same lines can be tested, printed or exported)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from kapp.domain import enums as e
from kapp.domain.vitals import fmt
from kapp.services.reading import SessionEntries


def words(code: object) -> str:
    """A coded value as a nurse would say it: ``rate_change`` -> ``rate change``."""
    return str(getattr(code, "value", code)).replace("_", " ")


@dataclass(frozen=True, slots=True)
class TimelineLine:
    at: datetime
    what: str  # "Pump", "Vitals", "Alert", ...
    text: str
    struck_reason: str | None = None
    table: str | None = None  # for striking the entry through
    entry_id: uuid.UUID | None = None

    @property
    def struck(self) -> bool:
        return self.struck_reason is not None


def vitals_text(v: object) -> str:
    parts = []
    hr, sys_, dia = getattr(v, "hr", None), getattr(v, "systolic", None), \
        getattr(v, "diastolic", None)
    if hr is not None:
        parts.append(f"HR {fmt(hr)} /min")
    if sys_ is not None and dia is not None:
        parts.append(f"BP {fmt(sys_)}/{fmt(dia)} mmHg")
    for name, label, unit in (("spo2", "SpO2", "%"), ("rr", "RR", "/min"),
                              ("temperature_c", "Temp", "°C"), ("etco2_mmhg", "EtCO2", "mmHg")):
        value = getattr(v, name, None)
        if value is not None:
            parts.append(f"{label} {fmt(value)} {unit}")
    rhythm = getattr(v, "rhythm", None)
    if rhythm:
        parts.append(rhythm)
    return ", ".join(parts)


def pump_text(kind: e.InfusionEventKind, rate: float | None, reason: str | None) -> str:
    text = {
        e.InfusionEventKind.START: "Infusion started",
        e.InfusionEventKind.PAUSE: "Pump paused",
        e.InfusionEventKind.RESUME: "Pump resumed",
        e.InfusionEventKind.RATE_CHANGE: "Rate changed",
        e.InfusionEventKind.STOP: "Infusion stopped",
    }[kind]
    if rate is not None and kind is not e.InfusionEventKind.STOP:
        text += f" at {fmt(round(rate, 2))} mL/h"
    if reason:
        text += f" — {reason}"
    return text


def _struck(entry: object) -> str | None:
    strike = getattr(entry, "strike", None)
    return strike.reason if strike is not None else None


def timeline(entries: SessionEntries, names: Mapping[uuid.UUID, str]) -> list[TimelineLine]:
    """All entries of a session, newest first; struck entries stay, marked with the reason."""
    lines: list[TimelineLine] = []
    add = lines.append
    for p in entries.infusion_events:
        add(TimelineLine(p.at, "Pump", pump_text(p.kind, p.rate_ml_per_h, p.reason),
                         _struck(p.entry), "infusion_events", p.id))
    standing = 0
    for n in entries.nasal_devices:
        if n.entry.is_struck:
            text = f"Nasal device ({fmt(n.device_mg)} mg), struck through"
        else:
            standing += 1
            text = f"Nasal device {standing} given ({fmt(n.device_mg)} mg)"
        if n.reason:
            text += f" — sooner than the interval: {n.reason}"
        add(TimelineLine(n.given_at, "Device", text, _struck(n.entry), "nasal_devices", n.id))
    for v in entries.vitals:
        label = "Baseline vitals" if v.predose else "Vitals"
        add(TimelineLine(v.taken_at, label, vitals_text(v), _struck(v.entry),
                         "vitals_readings", v.id))
    for a in entries.alerts:
        head = {"hold": "HOLD", "warn": "Warning"}.get(a.severity.value, "Alert")
        add(TimelineLine(a.raised_at, head, a.message, _struck(a.entry), "alerts", a.id))
        if a.acknowledged_at is not None:
            who = names.get(a.acknowledged_by_id, "someone") if a.acknowledged_by_id else "?"
            action = words(a.action) if a.action else "none"
            note = f" — {a.action_note}" if a.action_note else ""
            add(TimelineLine(a.acknowledged_at, "Acknowledged",
                             f"{who}: action {action}{note} ({a.message})"))
    for s in entries.side_effects:
        extra = f" — {s.description}" if s.description else ""
        serious = ", SERIOUS" if s.serious else ""
        add(TimelineLine(s.onset_at, "Side effect",
                         f"{words(s.kind).capitalize()} ({words(s.severity)}{serious}){extra}",
                         _struck(s.entry), "side_effects", s.id))
        if s.resolved_at is not None:
            add(TimelineLine(s.resolved_at, "Resolved", f"{words(s.kind).capitalize()} resolved"))
    for i in entries.interventions:
        what = words(i.kind).capitalize()
        if i.drug:
            what += f": {i.drug} {fmt(i.dose) if i.dose is not None else ''}" \
                    f"{' ' + i.dose_unit if i.dose_unit else ''}{' ' + i.route if i.route else ''}"
        if i.reason:
            what += f" — {i.reason}"
        add(TimelineLine(i.given_at, "Intervention", what, _struck(i.entry), "interventions",
                         i.id))
    for d in entries.dissociation:
        text = f"Intensity {d.intensity}/10, {words(d.valence)}"
        if d.descriptors:
            text += "; " + ", ".join(words(x) for x in d.descriptors)
        if d.patient_words:
            text += f'; "{d.patient_words}"'
        if d.observation:
            text += f"; observed: {d.observation}"
        add(TimelineLine(d.reported_at, "Dissociation", text, _struck(d.entry),
                         "dissociation_reports", d.id))
    for r in entries.instruments:
        band = f" ({r.band})" if r.band else ""
        add(TimelineLine(r.taken_at, "Score",
                         f"{r.instrument.upper()} {words(r.time_point)}: {fmt(r.total)}{band}",
                         _struck(r.entry), "instrument_responses", r.id))
    for n in entries.notes:
        add(TimelineLine(n.written_at, "Note", n.text, _struck(n.entry), "notes", n.id))
    for x in entries.addenda:
        who = names.get(x.entry.entered_by_id, "")
        add(TimelineLine(x.entry.entered_at, "Addendum", f"{who}: {x.text}" if who else x.text))
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines
