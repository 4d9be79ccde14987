"""What a session record needs before a prescriber may sign it."""

from __future__ import annotations

from collections.abc import Sequence

from kapp.domain import enums as e
from kapp.domain.entities import Alert, InfusionEvent, TreatmentSession, VitalsReading
from kapp.domain.protocol import Protocol


def missing_for_signature(
    session: TreatmentSession,
    *,
    events: Sequence[InfusionEvent],
    vitals: Sequence[VitalsReading],
    alerts: Sequence[Alert],
    protocol: Protocol,
) -> list[str]:
    """Everything still missing, in words; empty when the record is complete."""
    missing: list[str] = []
    if session.status is e.SessionStatus.ABORTED:
        return [] if session.abort_reason else ["the reason the session was aborted"]
    if session.status is not e.SessionStatus.COMPLETED:
        missing.append("the session is not completed (patient not yet marked as left)")
    if session.weight_kg is None:
        missing.append("weight")
    if session.dose_mg is None:
        missing.append("dose")
    live = [x for x in events if not x.entry.is_struck]
    if session.route is e.Route.IV:
        kinds = {x.kind for x in live}
        if e.InfusionEventKind.START not in kinds:
            missing.append("pump start")
        if e.InfusionEventKind.STOP not in kinds:
            missing.append("pump stop")
    if not session.lot_number:
        missing.append("lot number")
    if session.amount_wasted_mg is None:
        missing.append("amount wasted (0 if none)")
    elif session.amount_wasted_mg > 0 and session.waste_witness_id is None:
        missing.append("witness for the amount wasted")
    readings = [v for v in vitals if not v.entry.is_struck]
    if not any(v.predose for v in readings):
        missing.append("baseline vitals before dosing")
    if not any(not v.predose for v in readings):
        missing.append("vitals during the session")
    for check in e.PreSessionCheck:
        if not session.pre_checklist.get(check.value):
            missing.append(f"pre-session check: {check.value.replace('_', ' ')}")
    for check in e.DischargeCheck:
        if not session.discharge_checklist.get(check.value):
            missing.append(f"discharge check: {check.value.replace('_', ' ')}")
    open_alerts = [a for a in alerts if a.is_open]
    if open_alerts:
        missing.append(f"{len(open_alerts)} alert(s) not yet acknowledged")
    if session.ready_to_leave_at is None:
        missing.append("time ready to leave")
    if session.left_at is None:
        missing.append("time left")
    if session.drug is e.Drug.ESKETAMINE:
        minutes = session.monitoring_minutes
        floor = protocol.esketamine_min_observation_min
        if minutes is not None and minutes < floor:
            missing.append(
                f"monitoring of at least {floor:g} minutes (esketamine): {minutes:.0f} recorded"
            )
        if session.moaas is None:
            missing.append("sedation (MOAA/S) for the esketamine monitoring form")
        for check in e.RemsCheck:
            if check.value not in session.discharge_checklist:
                what = check.value.removeprefix("rems_").replace("_", " ")
                missing.append(f"esketamine monitoring form: {what} (yes or no)")
    return missing
