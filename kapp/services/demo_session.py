"""One demo session, from booking to signature: the session row, the pump, the vitals
and their alerts (the rest of what is recorded during a session is in ``demo_rows``)."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from kapp.domain import enums as e
from kapp.domain.dosing import KG_PER_LB, to_kg
from kapp.domain.vitals import VitalsInput, predose_findings, session_alerts
from kapp.services import demo_text as txt
from kapp.services.demo_plan import PAIN, Traits, clip
from kapp.services.demo_rows import SIGNATURE_MEANING, Recorder, Row, Visit, minutes

SLOTS = (8, 9, 10, 11, 13, 14, 15)


class SessionBuilder(Recorder):
    """Makes the rows of one patient's sessions."""

    # -- the session row ----------------------------------------------------------------

    def session(self, t: Traits, visit: Visit, state: dict[str, Any]) -> dict[str, Any]:
        """Rows for one visit; returns what the next visit and the course need."""
        rng = self.rng
        self.bp_alert = None
        sid = self.uuid()
        slot = datetime.combine(visit.day, time(rng.choice(SLOTS), rng.choice((0, 30))), UTC)
        nurse = rng.choice(self.staff.nurses)
        other = self.staff.nurses[1] if nurse == self.staff.nurses[0] else self.staff.nurses[0]
        esk = t.route is e.Route.INTRANASAL
        row: Row = {
            "id": sid, "course_id": visit.course_id, "patient_id": visit.patient_id,
            "number_in_course": visit.index + 1, "planned_start": slot,
            "route": t.route, "drug": e.Drug.ESKETAMINE if esk else e.Drug.KETAMINE,
            "prescriber_id": self.staff.prescriber, "created_at": visit.booked_at,
            "created_by_id": nurse, "origin": self.origin,
        }
        for key in (
            "actual_start", "infusion_ended_at", "ready_to_leave_at", "left_at", "weight_kg",
            "weight_entered", "weight_unit", "dose_mg_per_kg", "dose_mg",
            "concentration_mg_per_ml", "volume_ml", "duration_min", "dose_verified_by_id",
            "lot_number", "amount_drawn_mg", "amount_wasted_mg", "waste_witness_id", "moaas",
            "nurse_id", "signed_by_id", "signed_at", "signature_meaning", "abort_reason",
        ):
            row[key] = None
        row["pre_checklist"] = {}
        row["discharge_checklist"] = {}

        pain = t.indication in PAIN
        mpk = state["mg_per_kg"]
        if not esk:
            row["dose_mg_per_kg"] = mpk
            row["duration_min"] = 120.0 if pain else self.p.iv_default_duration_min
        else:
            row["dose_mg"] = state["esk_mg"]

        result: dict[str, Any] = {"left_at": None, "scores": {}}
        if visit.day >= self.today:
            row["status"] = e.SessionStatus.PLANNED
            row["updated_at"] = visit.booked_at
            self.batch.add("sessions", row, at=visit.booked_at, by=nurse,
                           patient_id=visit.patient_id, session_id=sid)
            return result

        # -- weighed on arrival --------------------------------------------------------
        state["weight"] = clip(state["weight"] + rng.gauss(0, 0.4), 40, 160)
        if t.enters_lb:
            entered = round(state["weight"] / KG_PER_LB, 1)
            row["weight_unit"] = e.WeightUnit.LB
            row["weight_kg"] = round(to_kg(entered, e.WeightUnit.LB), 2)
        else:
            entered = round(state["weight"], 1)
            row["weight_unit"] = e.WeightUnit.KG
            row["weight_kg"] = entered
        row["weight_entered"] = entered
        row["nurse_id"] = nurse
        row["pre_checklist"] = {c.value: True for c in e.PreSessionCheck}

        arrival = slot + timedelta(minutes=rng.randint(-10, 15))
        start = arrival + timedelta(minutes=rng.randint(18, 30))
        u = rng.random()
        outcome = "done"
        if u < 0.01:
            outcome = "hold"
        elif u < 0.02 and not esk:
            outcome = "stopped"
        surge = outcome == "done" and rng.random() < (0.08 if visit.done_before < 3 else 0.02)

        # Questionnaires on arrival, whatever happens next.
        result["scores"] = self.instruments_on_arrival(t, visit, sid, arrival, nurse)
        sys_s = t.sys_base + rng.gauss(0, 5)
        dia_s = t.dia_base + rng.gauss(0, 4)
        hr_s = t.hr_base + rng.gauss(0, 4)
        predose_at = arrival + timedelta(minutes=8)
        hr_s = clip(hr_s, self.p.alert_hr_at_or_below + 5, self.p.alert_hr_at_or_above - 20)
        if outcome == "hold":
            pre = (self.p.predose_hold_systolic + rng.randint(2, 16),
                   self.p.predose_hold_diastolic + rng.randint(-4, 6), hr_s)
        else:
            pre_sys = clip(round(sys_s + rng.gauss(0, 3)), 95, self.p.predose_hold_systolic)
            pre_dia = clip(round(dia_s + rng.gauss(0, 2)), 55, self.p.predose_hold_diastolic)
            pre = (pre_sys, min(pre_dia, pre_sys - 25), hr_s)
        pre_id = self.vitals(visit, sid, nurse, predose_at, pre[0], pre[1], pre[2],
                             rng.choice((96, 97, 98, 99)), rng.randint(12, 18), predose=True)
        for finding in predose_findings(VitalsInput(systolic=pre[0], diastolic=pre[1]), self.p):
            self.alert(visit, sid, nurse, pre_id, predose_at, finding, outcome == "hold")

        if outcome == "hold":
            row["status"] = e.SessionStatus.ABORTED
            row["abort_reason"] = (
                f"Blood pressure {pre[0]:.0f}/{pre[1]:.0f} before dosing, above the hold "
                "level after 15 minutes' rest; prescriber informed, session rebooked."
            )
            row["left_at"] = predose_at + timedelta(minutes=rng.randint(20, 40))
            self.finish(row, visit, nurse, row["left_at"])
            result["left_at"] = row["left_at"]
            return result

        # -- the dose ------------------------------------------------------------------
        lot_prefix = "SPV" if esk else "KET"
        row["lot_number"] = f"{lot_prefix}-{visit.day:%y%m}{'AB'[visit.day.day > 15]}"
        row["actual_start"] = start
        row["dose_verified_by_id"] = other
        if esk:
            dose = float(state["esk_mg"])
            devices = round(dose / self.p.esketamine_device_mg)
            end = (devices - 1) * self.p.esketamine_device_interval_min
            row.update(amount_drawn_mg=dose, amount_wasted_mg=0.0)
            events: list[tuple[float, e.InfusionEventKind, float | None, str | None]] = []
            surge_at = 40.0
            observe = max(self.p.esketamine_min_observation_min, rng.uniform(120, 140))
            ready_m = observe
        else:
            weight = row["weight_kg"]
            dose = round(mpk * weight, 1)
            if t.uses_bag:
                conc, volume = round(dose / 100, 4), 100.0
            else:
                conc, volume = self.p.default_concentration_mg_per_ml, dose
            duration = row["duration_min"]
            rate = round(volume / (duration / 60), 1)
            drawn = math.ceil(dose / 10) * 10.0
            row.update(
                dose_mg=dose, concentration_mg_per_ml=conc, volume_ml=volume,
                amount_drawn_mg=drawn, amount_wasted_mg=round(drawn - dose, 1),
                waste_witness_id=other,
            )
            surge_at = 30.0
            events, end = self.pump(rate, volume, surge, outcome)
            ready_m = end + max(self.p.min_observation_min, rng.uniform(30, 60))
        row["infusion_ended_at"] = minutes(start, end)
        row["ready_to_leave_at"] = minutes(start, ready_m)
        row["left_at"] = row["ready_to_leave_at"] + timedelta(minutes=rng.randint(3, 20))
        result["left_at"] = row["left_at"]
        if esk:  # each nasal device as the nurse records it (no random draws: same clinic)
            for number in range(devices):
                given = minutes(start, number * self.p.esketamine_device_interval_min)
                self.entry("nasal_devices", given + timedelta(seconds=15), nurse,
                           visit.patient_id, sid, given_at=given,
                           device_mg=float(self.p.esketamine_device_mg), reason=None)
        for minute, kind, rate_now, reason in events:
            moment = minutes(start, minute)
            self.entry("infusion_events", moment + timedelta(seconds=20), nurse,
                       visit.patient_id, sid, kind=kind, at=moment, rate_ml_per_h=rate_now,
                       reason=reason)

        # -- vitals every few minutes, alerts on the way ---------------------------------
        times = self.reading_times(end, ready_m, esk)
        rise = t.bp_reactivity * rng.uniform(0.5, 1.5) * (1.3 if visit.done_before < 3 else 1)
        dip = rng.random() < 0.015 and not esk
        fast = rng.random() < 0.007
        odd = [m for m in times if 0 < m <= end and m != surge_at]
        dip_at = rng.choice(odd) if dip and odd else None
        fast_at = rng.choice(odd) if fast and odd else None
        for minute in times:
            bump = rise * math.exp(-(((minute - 35) / 18) ** 2))
            sys_v = sys_s + bump + rng.gauss(0, 3)
            dia_v = dia_s + 0.55 * bump + rng.gauss(0, 2.5)
            hr_v = hr_s + 0.35 * bump + rng.gauss(0, 3)
            sys_v = min(sys_v, self.p.alert_systolic_at_or_above - 2)
            dia_v = min(dia_v, self.p.alert_diastolic_at_or_above - 2)
            if surge and minute == surge_at:
                sys_v = self.p.alert_systolic_at_or_above + rng.randint(0, 18)
                if rng.random() < 0.3:
                    dia_v = self.p.alert_diastolic_at_or_above + rng.randint(0, 6)
            hr_v = clip(hr_v, self.p.alert_hr_at_or_below + 3, self.p.alert_hr_at_or_above - 3)
            if minute == fast_at:
                hr_v = self.p.alert_hr_at_or_above + rng.randint(0, 8)
            spo2 = float(rng.choices((95, 96, 97, 98, 99, 100), (2, 6, 20, 34, 28, 10))[0])
            if minute == dip_at:
                spo2 = self.p.alert_spo2_below - rng.randint(1, 3)
            sys_r, dia_r = round(sys_v), round(min(dia_v, sys_v - 25))
            taken = minutes(start, minute)
            reading = (round(hr_v), sys_r, dia_r, spo2, rng.randint(12, 18))
            vid = self.vitals(visit, sid, nurse, taken, sys_r, dia_r, reading[0], spo2,
                              reading[4])
            if not self.near_alert(reading):
                continue
            found = session_alerts(
                VitalsInput(hr=reading[0], systolic=sys_r, diastolic=dia_r, spo2=spo2,
                            rr=reading[4]),
                self.p,
            )
            for finding in found:
                self.alert(visit, sid, nurse, vid, taken, finding, False,
                           during=minute <= end and not esk)

        # -- side effects, dissociation, sedation ---------------------------------------
        self.side_effects(t, visit, sid, nurse, start, end, events)
        level = clip(
            t.dissociation + ((mpk - 0.5) * 8 if not esk else 0) - 0.04 * visit.done_before
            + rng.gauss(0, 1.5), 0, 10,
        )
        distress = outcome == "stopped" and "distressing" in str(events[-1][3])
        self.dissociation(t, visit, sid, nurse, start, level, end if distress else None)
        if outcome == "done" and rng.random() < 0.25:
            self.cadss(visit, sid, nurse, start, level)
        row["moaas"] = rng.choices((5, 4, 3), (55, 35, 10))[0]
        row["discharge_checklist"] = {c.value: True for c in e.DischargeCheck}
        if outcome == "stopped":
            row["status"] = e.SessionStatus.ABORTED
            row["abort_reason"] = events[-1][3]
        else:
            row["status"] = e.SessionStatus.COMPLETED
        if rng.random() < 0.03:
            self.note(visit.patient_id, sid, nurse, row["left_at"], rng.choice(txt.SESSION_NOTES))
        self.finish(row, visit, nurse, row["left_at"])
        state["done"] += 1
        return result

    def finish(self, row: Row, visit: Visit, nurse: uuid.UUID, left: datetime) -> None:
        rng = self.rng
        recent = visit.day >= self.today - timedelta(days=4)
        row["updated_at"] = left
        self.batch.add("sessions", row, at=visit.booked_at, by=nurse,
                       patient_id=visit.patient_id, session_id=row["id"])
        if recent and rng.random() < 0.6:
            return
        signed = min(left + timedelta(minutes=rng.randint(30, 26 * 60)),
                     self.horizon - timedelta(minutes=1))
        row.update(signed_by_id=self.staff.prescriber, signed_at=signed,
                   signature_meaning=SIGNATURE_MEANING, updated_at=signed)
        self.batch.audit.append(
            (signed, self.staff.prescriber, "demo.sign", "sessions", str(row["id"]),
             visit.patient_id, row["id"], {"signature_meaning": SIGNATURE_MEANING})
        )

    def near_alert(self, reading: tuple[float, float, float, float, float]) -> bool:
        """A cheap first look (hr, sys, dia, spo2, rr); ``session_alerts`` has the say."""
        hr, systolic, diastolic, spo2, rr = reading
        p = self.p
        return not (
            p.alert_hr_at_or_below + 1 < hr < p.alert_hr_at_or_above - 1
            and systolic < p.alert_systolic_at_or_above - 1
            and diastolic < p.alert_diastolic_at_or_above - 1
            and spo2 > p.alert_spo2_below + 1
            and rr > p.alert_rr_below + 1
        )

    def pump(
        self, rate: float, volume: float, surge: bool, outcome: str,
    ) -> tuple[list[tuple[float, e.InfusionEventKind, float | None, str | None]], float]:
        """Pump events (minute, kind, rate, reason) and the minute the infusion ended."""
        rng = self.rng
        k = e.InfusionEventKind
        events: list[tuple[float, e.InfusionEventKind, float | None, str | None]] = [
            (0.0, k.START, rate, None)
        ]
        full = 60 * volume / rate
        if outcome == "stopped":
            end = float(rng.randint(12, 25))
            reason = rng.choice((
                "Stopped: distressing dissociation, patient asked to stop",
                "Stopped: IV cannula tissued; not re-sited today",
            ))
            events.append((end, k.STOP, None, reason))
            return events, end
        if surge:
            at = 32.0
            left = volume - rate * at / 60
            end = at + 60 * left / (rate / 2)
            events.append((at, k.RATE_CHANGE, round(rate / 2, 1), "BP rise: slowed to half rate"))
        elif rng.random() < 0.05:
            at = float(rng.randint(12, 25))
            gap = float(rng.randint(3, 8))
            events.append((at, k.PAUSE, None, "Nausea: paused while ondansetron given"))
            events.append((at + gap, k.RESUME, rate, None))
            end = full + gap
        else:
            end = full
        events.append((end, k.STOP, None, "Dose complete"))
        return events, end

    def reading_times(self, end: float, ready: float, esk: bool) -> list[float]:
        every_inf = self.p.vitals_interval_infusion_min
        every_rec = self.p.vitals_interval_recovery_min
        if esk:
            times = [10.0, 25.0, 40.0]
            m = 40.0 + every_rec
        else:
            times = [every_inf * i for i in range(int(end // every_inf) + 1)]
            if end - times[-1] > 3:
                times.append(end)
            m = end + every_rec
        while m < ready:
            times.append(m)
            m += every_rec
        if ready - 2 - times[-1] > 3:
            times.append(ready - 2)
        return times
