"""Rows for what is recorded around a demo session: vitals, alerts, side effects and
what was done about them, dissociation reports, questionnaires and notes.

Rows are plain dicts for Core bulk inserts; each one also queues its audit entry in the
``Batch`` (the chain's hashes are worked out when the batch is written).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kapp.domain import enums as e
from kapp.domain.instruments import Instrument, Score, score
from kapp.domain.protocol import Protocol
from kapp.domain.vitals import AlertFinding
from kapp.services import demo_text as txt
from kapp.services.demo_plan import DEPRESSION, PAIN, CoursePlan, Traits, clip

# Insert order: parents before children (foreign keys are checked per statement).
TABLES = (
    "patients", "courses", "sessions", "infusion_events", "nasal_devices", "vitals_readings",
    "alerts",
    "side_effects", "interventions", "dissociation_reports", "instrument_responses", "notes",
)
SIGNATURE_MEANING = "reviewed and signed"

Row = dict[str, Any]
PumpEvents = list[tuple[float, e.InfusionEventKind, float | None, str | None]]


@dataclass(slots=True)
class Staff:
    nurses: tuple[uuid.UUID, uuid.UUID]
    prescriber: uuid.UUID
    admin: uuid.UUID


@dataclass(slots=True)
class Batch:
    """Rows for a few hundred patients, written in one transaction."""

    origin: str
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})
    # (at, user_id, action, entity, entity_id, patient_id, session_id, new_values)
    audit: list[tuple[Any, ...]] = field(default_factory=list)

    def add(
        self, table: str, row: Row, *, at: datetime, by: uuid.UUID | None,
        patient_id: uuid.UUID | None, session_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        self.rows[table].append(row)
        self.audit.append(
            (at, by, "demo.create", table, str(row["id"]), patient_id, session_id, None)
        )
        return row["id"]


@dataclass(slots=True)
class Visit:
    """Where one session stands in the patient's story."""

    patient_id: uuid.UUID
    course_id: uuid.UUID
    course: CoursePlan
    index: int  # in the course, from 0
    day: date
    booked_at: datetime
    done_before: int  # infusions this patient had before this one


def minutes(start: datetime, count: float) -> datetime:
    return start + timedelta(seconds=round(count * 60))


def spread(rng: random.Random, total: int, numbers: list[int], top: int) -> dict[int, int]:
    """Answers (item number -> score) that add up to ``total``, each at most ``top``."""
    answers = dict.fromkeys(numbers, 0)
    total = min(total, top * len(numbers))
    while total > 0:
        n = numbers[rng.randrange(len(numbers))]
        if answers[n] < top:
            answers[n] += 1
            total -= 1
    return answers


class Recorder:
    """Writes the entries of a session into a batch; ``SessionBuilder`` drives it."""

    def __init__(
        self, rng: random.Random, staff: Staff, protocol: Protocol,
        instruments: dict[str, Instrument], today: date, batch: Batch,
    ) -> None:
        self.rng = rng
        self.staff = staff
        self.p = protocol
        self.instruments = instruments
        self.today = today
        self.horizon = datetime.combine(today, time(0), UTC)
        self.batch = batch
        self.origin = batch.origin
        self._scores: dict[tuple[Any, ...], Score] = {}
        self._reads: dict[str, list[int]] = {}
        # The blood-pressure alert of the session being built: (alert id, minute, action).
        self.bp_alert: tuple[uuid.UUID, datetime, e.AlertAction] | None = None

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def entry(
        self, table: str, entered: datetime, by: uuid.UUID, owner: uuid.UUID,
        session_id: uuid.UUID | None, **values: Any,
    ) -> uuid.UUID:
        """An append-only clinical entry (``EntryMixin``) of patient ``owner``, audited."""
        row = {
            "id": self.uuid(), "session_id": session_id, "entered_at": entered,
            "entered_by_id": by, "origin": self.origin, **values,
        }
        return self.batch.add(table, row, at=entered, by=by, patient_id=owner,
                              session_id=session_id)

    def vitals(
        self, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, taken: datetime, systolic: float,
        diastolic: float, hr: float, spo2: float, rr: float, *, predose: bool = False,
    ) -> uuid.UUID:
        return self.entry(
            "vitals_readings", taken + timedelta(seconds=45), nurse, visit.patient_id, sid,
            taken_at=taken, hr=float(round(hr)), systolic=float(systolic),
            diastolic=float(diastolic), spo2=float(spo2), rr=float(rr),
            rhythm="sinus rhythm", source=e.VitalsSource.MANUAL, predose=predose,
        )

    def note(self, patient_id: uuid.UUID, sid: uuid.UUID | None, by: uuid.UUID, at: datetime,
             text: str) -> None:
        self.entry("notes", at, by, patient_id, sid, patient_id=patient_id, written_at=at,
                   text=text)

    def alert(
        self, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, vitals_id: uuid.UUID,
        taken: datetime, finding: AlertFinding, hold: bool, *, during: bool = False,
    ) -> None:
        rng = self.rng
        raised = taken + timedelta(seconds=50)
        acked = raised + timedelta(seconds=rng.randint(30, 180))
        action, note = e.AlertAction.NONE, "Observed; rechecked in 5 minutes."
        oxygen = False
        if finding.severity is e.AlertSeverity.HOLD or hold:
            note = "Dose not started; prescriber informed; session rebooked."
        elif finding.severity is e.AlertSeverity.WARN:
            note = "Rechecked after 10 minutes' rest; prescriber agreed to proceed."
        elif finding.rule in ("systolic_high", "diastolic_high"):
            if self.bp_alert is not None:
                action, note = self.bp_alert[2], "Same reading as the alert above."
            elif during:
                action, note = e.AlertAction.SLOWED, "Infusion slowed to half rate."
            elif rng.random() < 0.4:
                action, note = e.AlertAction.MEDICATION, "Labetalol 10 mg IV on prescriber order."
            else:
                note = "Observed; rechecked in 5 minutes, settling."
        elif finding.rule == "spo2_low":
            oxygen = rng.random() < 0.3
            note = (
                "Oxygen 2 L/min by nasal cannula for 5 minutes."
                if oxygen
                else "Prompted deep breaths; SpO2 back to 97% within a minute."
            )
        elif finding.rule == "hr_high":
            note = "Anxious; reassured. Heart rate settled on recheck."
        alert_id = self.entry(
            "alerts", acked, nurse, visit.patient_id, sid, vitals_id=vitals_id, rule=finding.rule,
            severity=finding.severity, message=finding.message, value=finding.value,
            threshold=finding.threshold, raised_at=raised, acknowledged_at=acked,
            acknowledged_by_id=nurse, action=action, action_note=note,
        )
        if finding.rule in ("systolic_high", "diastolic_high") and self.bp_alert is None:
            self.bp_alert = (alert_id, raised, action)
        if oxygen:
            self.intervention(visit, sid, nurse, acked, e.InterventionKind.OXYGEN,
                              ("Oxygen", 2.0, "L/min", "nasal cannula"), "SpO2 dip",
                              alert_id=alert_id)

    def intervention(
        self, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, at: datetime,
        kind: e.InterventionKind, drug: tuple[str, float, str, str] | None, reason: str, *,
        side_effect_id: uuid.UUID | None = None, alert_id: uuid.UUID | None = None,
    ) -> None:
        name, dose, unit, route = drug or (None, None, None, None)
        self.entry(
            "interventions", at + timedelta(minutes=1), nurse, visit.patient_id, sid, kind=kind,
            drug=name, dose=dose, dose_unit=unit, route=route, given_at=at,
            given_by_id=nurse, reason=reason, side_effect_id=side_effect_id,
            alert_id=alert_id,
        )

    def side_effect(
        self, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, kind: e.SideEffectKind,
        onset: datetime, severity: e.Severity, *, serious: bool = False, notes: str = "",
        lasts: tuple[int, int] = (10, 45),
    ) -> uuid.UUID:
        resolved = onset + timedelta(minutes=self.rng.randint(*lasts))
        return self.entry(
            "side_effects", onset + timedelta(minutes=2), nurse, visit.patient_id, sid, kind=kind,
            description="", onset_at=onset, severity=severity, serious=serious,
            resolved_at=resolved, notes=notes,
        )

    def side_effects(
        self, t: Traits, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, start: datetime,
        end: float, events: PumpEvents,
    ) -> None:
        """What went wrong in this session, if anything, and what was done about it."""
        rng = self.rng
        k, iv = e.SideEffectKind, e.InterventionKind
        mild, moderate = e.Severity.MILD, e.Severity.MODERATE
        ondansetron = ("Ondansetron", 4.0, "mg", "IV")
        if self.bp_alert is not None:
            alert_id, raised, action = self.bp_alert
            se = self.side_effect(visit, sid, nurse, k.RAISED_BP, raised, moderate,
                                  lasts=(20, 50))
            if action is e.AlertAction.SLOWED:
                self.intervention(visit, sid, nurse, raised + timedelta(minutes=2),
                                  iv.INFUSION_CHANGE, None, "BP rise: infusion slowed",
                                  side_effect_id=se, alert_id=alert_id)
            elif action is e.AlertAction.MEDICATION:
                self.intervention(visit, sid, nurse, raised + timedelta(minutes=3),
                                  iv.MEDICATION, ("Labetalol", 10.0, "mg", "IV"),
                                  "BP at alert level", side_effect_id=se, alert_id=alert_id)
        for minute, kind, _, reason in events:
            at = minutes(start, minute)
            if kind is e.InfusionEventKind.PAUSE:
                se = self.side_effect(visit, sid, nurse, k.NAUSEA, at, moderate)
                self.intervention(visit, sid, nurse, at, iv.INFUSION_CHANGE, None,
                                  "Infusion paused for nausea", side_effect_id=se)
                self.intervention(visit, sid, nurse, at + timedelta(minutes=1), iv.MEDICATION,
                                  ondansetron, "Nausea", side_effect_id=se)
            elif kind is e.InfusionEventKind.STOP and reason and "distressing" in reason:
                se = self.side_effect(visit, sid, nurse, k.DYSPHORIA, at, e.Severity.SEVERE,
                                      notes="Frightened, asked to stop.", lasts=(20, 60))
                self.intervention(visit, sid, nurse, at, iv.COMFORT, None,
                                  "Infusion stopped; reassurance, lights dimmed",
                                  side_effect_id=se)
                if rng.random() < 0.5:
                    self.intervention(visit, sid, nurse, at + timedelta(minutes=5),
                                      iv.MEDICATION, ("Midazolam", 1.0, "mg", "IV"),
                                      "Persistent distress", side_effect_id=se)

        def onset() -> datetime:
            return minutes(start, rng.uniform(5, max(10.0, end + 10)))

        def sev() -> e.Severity:
            return rng.choices((mild, moderate, e.Severity.SEVERE), (80, 18, 2))[0]

        if rng.random() < 0.10:
            severity = sev()
            se = self.side_effect(visit, sid, nurse, k.NAUSEA, at := onset(), severity)
            if severity is not mild or rng.random() < 0.6:
                self.intervention(visit, sid, nurse, at + timedelta(minutes=2), iv.MEDICATION,
                                  ondansetron, "Nausea", side_effect_id=se)
        if rng.random() < 0.02:
            se = self.side_effect(visit, sid, nurse, k.VOMITING, at := onset(), moderate)
            self.intervention(visit, sid, nurse, at + timedelta(minutes=2), iv.MEDICATION,
                              ondansetron, "Vomited once", side_effect_id=se)
        if rng.random() < 0.08:
            se = self.side_effect(visit, sid, nurse, k.DIZZINESS, at := onset(), mild)
            if rng.random() < 0.5:
                self.intervention(visit, sid, nurse, at + timedelta(minutes=1), iv.COMFORT,
                                  None, "Reassurance; stayed reclined until steady",
                                  side_effect_id=se)
        if rng.random() < 0.05:
            severity = sev()
            se = self.side_effect(visit, sid, nurse, k.ANXIETY, at := onset(), severity)
            if severity is not mild and rng.random() < 0.6:
                self.intervention(visit, sid, nurse, at + timedelta(minutes=3), iv.MEDICATION,
                                  ("Midazolam", 1.0, "mg", "IV"), "Anxiety", side_effect_id=se)
            else:
                self.intervention(visit, sid, nurse, at + timedelta(minutes=1), iv.COMFORT,
                                  None, "Reassurance, dim lights, eye mask and music",
                                  side_effect_id=se)
        if rng.random() < 0.04:
            se = self.side_effect(visit, sid, nurse, k.HEADACHE, at := onset(), mild)
            if rng.random() < 0.4:
                self.intervention(visit, sid, nurse, at + timedelta(minutes=5), iv.MEDICATION,
                                  ("Paracetamol", 1000.0, "mg", "oral"), "Headache",
                                  side_effect_id=se)
        for kind, chance in ((k.DIPLOPIA, 0.03), (k.NUMBNESS, 0.02), (k.SEDATION, 0.03),
                             (k.DYSPHORIA, 0.015)):
            if rng.random() < chance:
                self.side_effect(visit, sid, nurse, kind, onset(), mild)
        if rng.random() < 0.002:
            se = self.side_effect(
                visit, sid, nurse, k.EMERGENCE_REACTION, at := onset(), e.Severity.SEVERE,
                serious=True, notes="Agitated and disoriented in recovery; prescriber attended.",
                lasts=(30, 90),
            )
            self.intervention(visit, sid, nurse, at + timedelta(minutes=4), iv.MEDICATION,
                              ("Midazolam", 2.0, "mg", "IV"), "Emergence reaction",
                              side_effect_id=se)
        if visit.done_before > 15 and rng.random() < 0.005:
            self.side_effect(visit, sid, nurse, k.URINARY_SYMPTOMS, onset(), mild,
                             notes="Reports urinary frequency; advised GP review and urinalysis.")

    def dissociation(
        self, t: Traits, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, start: datetime,
        level: float, stopped_at: float | None,
    ) -> None:
        rng = self.rng
        distressed = stopped_at is not None
        count = rng.choices((1, 2, 3), (30, 45, 25))[0]
        times = sorted(rng.sample((15, 20, 25, 30, 35, 40), count))
        for minute in [stopped_at - 1] if stopped_at is not None else times:
            peak = 0.7 if 25 <= minute <= 40 else -0.5
            intensity = round(clip(level + peak + rng.gauss(0, 0.8), 0, 10))
            chosen = [d for d in t.descriptors if rng.random() < 0.5] or [t.descriptors[0]]
            if intensity <= 1:
                chosen, words = [], "Not much really, a bit light-headed."
            else:
                words = rng.choice(txt.DESCRIPTOR_WORDS[chosen[0]])
            if distressed:
                valence = e.Valence.DISTRESSING
                intensity = max(intensity, 7)
                words = "I don't like this, I want it to stop."
            else:
                bad = 0.04 + 0.04 * max(0, intensity - 6)
                valence = rng.choices(
                    (e.Valence.DISTRESSING, e.Valence.PLEASANT, e.Valence.NEUTRAL),
                    (bad, 0.6, 0.4 - bad),
                )[0]
            at = minutes(start, minute)
            self.entry("dissociation_reports", at + timedelta(minutes=1), nurse,
                       visit.patient_id, sid, reported_at=at, intensity=intensity,
                       descriptors=chosen, patient_words=words,
                       observation=rng.choice(txt.OBSERVATIONS), valence=valence)

    def response(
        self, code: str, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, taken: datetime,
        answers: dict[int, int], time_point: e.TimePoint,
    ) -> int:
        result = self.score(code, answers)
        self.entry(
            "instrument_responses", taken + timedelta(minutes=2), nurse, visit.patient_id, sid,
            patient_id=visit.patient_id, course_id=visit.course_id, instrument=code,
            instrument_version=result.version, time_point=time_point, taken_at=taken,
            answers={str(n): v for n, v in answers.items()}, total=float(result.total),
            band=result.band, subscales=dict(result.subscales), flags=list(result.flags),
        )
        return result.total

    def score(self, code: str, answers: dict[int, int]) -> Score:
        """``instruments.score``, remembered: the demo's answers are valid by construction,
        so two sets with the same total and the same items that flags and subscales read
        score alike, and 100,000 questionnaires need only a few hundred real scorings."""
        instrument = self.instruments[code]
        if instrument.scoring != "sum":
            return score(instrument, answers)
        read = self._reads.get(code)
        if read is None:
            read = self._reads[code] = sorted(
                {f.item for f in instrument.flags if f.item is not None}
                | {n for sub in instrument.subscales for n in sub.items}
            )
        key = (code, sum(answers.values()), *(answers[n] for n in read))
        found = self._scores.get(key)
        if found is None:
            found = self._scores[key] = score(instrument, answers)
        return found

    def cadss(self, visit: Visit, sid: uuid.UUID, nurse: uuid.UUID, start: datetime,
              level: float) -> None:
        instrument = self.instruments["cadss"]
        total = round(clip(level * 5 + self.rng.gauss(0, 4), 0, instrument.max_total))
        answers = spread(self.rng, total, list(instrument.item_numbers), 4)
        taken = minutes(start, self.p.peak_scale_prompt_min)
        self.response("cadss", visit, sid, nurse, taken, answers, e.TimePoint.PEAK)

    def _ratio(self, visit: Visit, start: float, end: float) -> float:
        """Where a course's scores stand at this visit, as a fraction of the first baseline."""
        n, k = len(visit.course.dates), visit.index
        if n < 2:
            return start
        if visit.course.kind is e.CourseKind.INDUCTION:
            shape = (1 - math.exp(-k / 1.6)) / (1 - math.exp(-(n - 1) / 1.6))
        else:
            shape = k / (n - 1)
        return start + (end - start) * shape

    def instruments_on_arrival(
        self, t: Traits, visit: Visit, sid: uuid.UUID, arrival: datetime, nurse: uuid.UUID,
    ) -> dict[str, float]:
        """PHQ-9 and GAD-7 (and pain NRS) before the dose; returns their totals."""
        rng = self.rng
        c = visit.course
        first = c.kind is e.CourseKind.INDUCTION and visit.index == 0
        last_of_induction = (
            c.kind is e.CourseKind.INDUCTION and visit.index == len(c.dates) - 1
        )
        ratio = self._ratio(visit, c.scores_from, c.scores_to)
        phq = t.phq9_base if first else round(clip(t.phq9_base * ratio + rng.gauss(0, 1.2),
                                                    0, 27))
        if last_of_induction and t.indication in DEPRESSION:
            half = t.phq9_base // 2  # a fall of at least 50% means at most this
            if t.remitter:
                phq = min(phq, 4)
            elif t.responder:
                phq = int(clip(phq, 5, half))
            else:
                phq = max(phq, half + 1)
        point = e.TimePoint.BASELINE if visit.index == 0 else e.TimePoint.PRE_SESSION
        si = t.indication is e.Indication.DEPRESSION_SI
        chance = (0.7 if si else 0.15) if visit.index == 0 else (0.08 if si else 0.02) * ratio
        item9 = rng.randint(1, 2 if si else 1) if rng.random() < chance else 0
        item9 = int(clip(max(item9, phq - 24), 0, phq))
        answers = spread(rng, phq - item9, list(range(1, 9)), 3)
        answers[9] = item9
        taken = arrival + timedelta(minutes=3)
        totals: dict[str, float] = {
            "phq9": self.response("phq9", visit, sid, nurse, taken, answers, point)
        }
        gad_ratio = clip(ratio + rng.gauss(0, 0.08), 0, 1.3)
        gad = t.gad7_base if first else round(clip(t.gad7_base * gad_ratio, 0, 21))
        answers = spread(rng, gad, list(range(1, 8)), 3)
        totals["gad7"] = self.response("gad7", visit, sid, nurse, taken, answers, point)
        if t.indication in PAIN:
            pain = self._ratio(visit, c.pain_from, c.pain_to)
            nrs = t.nrs_base if first else round(clip(t.nrs_base * pain + rng.gauss(0, 0.6),
                                                      0, 10))
            totals["pain_nrs"] = self.response("pain_nrs", visit, sid, nurse, taken, {1: nrs},
                                               point)
        return totals
