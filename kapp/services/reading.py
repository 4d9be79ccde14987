"""Everything recorded in one session, read in one go (one query per table)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from kapp.domain import entities as d
from kapp.storage import mappers
from kapp.storage import models as m


@dataclass(frozen=True, slots=True)
class SessionEntries:
    infusion_events: tuple[d.InfusionEvent, ...]
    vitals: tuple[d.VitalsReading, ...]
    alerts: tuple[d.Alert, ...]
    side_effects: tuple[d.SideEffect, ...]
    interventions: tuple[d.Intervention, ...]
    dissociation: tuple[d.DissociationReport, ...]
    instruments: tuple[d.InstrumentResult, ...]
    notes: tuple[d.Note, ...]
    addenda: tuple[d.Addendum, ...]
    nasal_devices: tuple[d.NasalDevice, ...] = ()  # intranasal sessions only


@functools.cache
def _statement(model: type, order: sa.ColumnElement) -> sa.Select:
    # Made once per table, the session a parameter: building a select anew each time was
    # a quarter of reading a session's entries, which the chair's screen does at each entry.
    # Entries of the same moment in the order entered, and a correction after the entry it
    # replaces (same time, perhaps the same clock tick): never whatever order an index has.
    return (sa.select(model).where(model.session_id == sa.bindparam("session_id"))
            .order_by(order, model.entered_at, model.supersedes_id.is_not(None)))


def _rows(s: OrmSession, model: type, order: sa.ColumnElement, session_id: uuid.UUID) -> list:
    return list(s.execute(_statement(model, order), {"session_id": session_id}).scalars())


def session_entries(s: OrmSession, session_id: uuid.UUID) -> SessionEntries:
    """All entries of a session in time order, struck-through ones included (a record
    shows them struck through, with the reason)."""
    return SessionEntries(
        infusion_events=tuple(map(mappers.infusion_event, _rows(
            s, m.InfusionEvent, m.InfusionEvent.at, session_id))),
        vitals=tuple(map(mappers.vitals, _rows(
            s, m.VitalsReading, m.VitalsReading.taken_at, session_id))),
        alerts=tuple(map(mappers.alert, _rows(s, m.Alert, m.Alert.raised_at, session_id))),
        side_effects=tuple(map(mappers.side_effect, _rows(
            s, m.SideEffect, m.SideEffect.onset_at, session_id))),
        interventions=tuple(map(mappers.intervention, _rows(
            s, m.Intervention, m.Intervention.given_at, session_id))),
        dissociation=tuple(map(mappers.dissociation, _rows(
            s, m.DissociationReport, m.DissociationReport.reported_at, session_id))),
        instruments=tuple(map(mappers.instrument, _rows(
            s, m.InstrumentResponse, m.InstrumentResponse.taken_at, session_id))),
        notes=tuple(map(mappers.note, _rows(s, m.Note, m.Note.written_at, session_id))),
        addenda=tuple(map(mappers.addendum, _rows(
            s, m.Addendum, m.Addendum.entered_at, session_id))),
        nasal_devices=tuple(map(mappers.nasal_device, _rows(
            s, m.NasalDevice, m.NasalDevice.given_at, session_id))),
    )
