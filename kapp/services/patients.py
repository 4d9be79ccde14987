"""Patients: registration, screening, search."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from kapp.domain import enums as e
from kapp.domain.entities import Patient, PatientSummary
from kapp.domain.errors import Conflict, FieldError
from kapp.domain.ids import new_id
from kapp.domain.permissions import Permission
from kapp.domain.text import coded, optional_text, past_date, required_text
from kapp.services.base import Actor, Change, Service, get_or_404, raise_if
from kapp.storage import mappers
from kapp.storage import models as m


@dataclass(frozen=True, slots=True)
class PatientForm:
    """What a person types to register or edit a patient."""

    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    sex: e.Sex | str
    indication: e.Indication | str
    allergies: str = ""
    contraindications: dict[str, str] = field(default_factory=dict)
    medication_flags: tuple[str, ...] = ()
    current_medications: str = ""
    notes: str = ""


def _checked(form: PatientForm, today: date) -> dict[str, object]:
    errors: list[FieldError] = []
    values: dict[str, object] = {
        "mrn": required_text(errors, "mrn", "MRN", form.mrn, 64),
        "given_name": required_text(errors, "given_name", "Given name", form.given_name, 100),
        "family_name": required_text(errors, "family_name", "Family name", form.family_name, 100),
        "date_of_birth": past_date(errors, "date_of_birth", "Date of birth", form.date_of_birth,
                                   today, 120),
        "sex": coded(errors, "sex", "Sex", form.sex, e.Sex),
        "indication": coded(errors, "indication", "Indication", form.indication, e.Indication),
        "allergies": optional_text(errors, "allergies", "Allergies", form.allergies, 2000),
        "current_medications": optional_text(errors, "current_medications",
                                             "Current medications", form.current_medications,
                                             4000),
        "notes": optional_text(errors, "notes", "Notes", form.notes, 20000),
    }
    screening: dict[str, str] = {}
    for key, answer in (form.contraindications or {}).items():
        item = coded(errors, "contraindications", "Contraindication", key, e.Contraindication)
        value = coded(errors, "contraindications", "Screening answer", answer, e.ScreeningAnswer)
        if item and value:
            screening[item.value] = value.value
    values["contraindications"] = screening
    flags = []
    for flag in form.medication_flags or ():
        coded_flag = coded(errors, "medication_flags", "Medication flag", flag, e.MedicationFlag)
        if coded_flag:
            flags.append(coded_flag.value)
    values["medication_flags"] = sorted(set(flags))
    raise_if(errors)
    return values


@dataclass(frozen=True, slots=True)
class PatientMatches:
    """One page of search results: the patients shown, and whether more match."""

    patients: tuple[PatientSummary, ...]
    more: bool  # more patients match than were read: the list says "keep typing"


class PatientService(Service):
    def create(self, *, actor: Actor, form: PatientForm) -> Patient:
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            values = _checked(form, uow.now.date())
            self._mrn_free(uow.session, str(values["mrn"]), None)
            row = m.Patient(id=new_id(), created_at=uow.now, created_by_id=user.id,
                            updated_at=uow.now, updated_by_id=user.id, origin=uow.origin,
                            **values)
            uow.session.add(row)
            uow.session.flush()
            uow.audit(user_id=user.id, action="patient.create", entity="patients",
                      entity_id=row.id, patient_id=row.id, new=values)
            result = mappers.patient(row)
        self.hub.notify(Change.PATIENTS)
        return result

    def update(self, *, actor: Actor, patient_id: uuid.UUID, form: PatientForm,
               expected_version: int) -> Patient:
        """Edit a patient. ``expected_version`` is the version the form was filled from:
        if another workstation saved in between, the edit is refused, not merged."""
        with self.db.unit_of_work() as uow:
            user = self._user(uow, actor, Permission.RECORD)
            row = get_or_404(uow.session, m.Patient, patient_id, "patient")
            if row.version != expected_version:
                raise Conflict("Someone else changed this patient while you were editing. "
                               "Reopen the patient to see their change, then edit again.")
            values = _checked(form, uow.now.date())
            self._mrn_free(uow.session, str(values["mrn"]), row.id)
            old = {k: getattr(row, k) for k in values}
            changed = {k: v for k, v in values.items() if old[k] != v}
            for key, value in changed.items():
                setattr(row, key, value)
            if changed:
                row.updated_at, row.updated_by_id = uow.now, user.id
                uow.session.flush()
                uow.audit(user_id=user.id, action="patient.update", entity="patients",
                          entity_id=row.id, patient_id=row.id,
                          old={k: old[k] for k in changed}, new=changed)
            result = mappers.patient(row)
        if changed:
            self.hub.notify(Change.PATIENTS)
        return result

    def get(self, patient_id: uuid.UUID) -> Patient:
        with self.db.reading() as s:
            return mappers.patient(get_or_404(s, m.Patient, patient_id, "patient"))

    def by_mrn(self, mrn: str) -> Patient | None:
        with self.db.reading() as s:
            row = s.execute(sa.select(m.Patient).where(m.Patient.mrn == mrn.strip())).scalar()
            return mappers.patient(row) if row else None

    def count(self) -> int:
        with self.db.reading() as s:
            return int(s.execute(sa.select(sa.func.count()).select_from(m.Patient)).scalar_one())

    def search(self, text: str = "", *, limit: int = 200) -> list[PatientSummary]:
        """Patients whose name or MRN starts with each typed word, or whose date of birth
        is the typed date (YYYY-MM-DD or DD.MM.YYYY or DD/MM/YYYY), ordered by name; at
        most ``limit`` of them."""
        return list(self.find(text, limit=limit).patients)

    def find(self, text: str = "", *, limit: int = 200) -> PatientMatches:
        """Like ``search``, and says whether more patients match than the ``limit`` shown.

        Made for one keystroke at a time at ten years of clinic data: one query reads
        ``limit + 1`` matches (no count of every match, only the list's columns), and
        for those alone the sessions done and the last session, from an index
        (``ix_sessions_patient_status_start``) rather than the sessions themselves."""
        if limit < 1:
            return PatientMatches((), more=False)
        p = m.Patient
        found = sa.select(p.id, p.mrn, p.given_name, p.family_name, p.date_of_birth,
                          p.indication)
        for word in text.split():
            born = _parse_dates(word)
            if born:
                found = found.where(p.date_of_birth.in_(born))
                continue
            like = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found = found.where(sa.or_(
                p.family_name.ilike(like, escape="\\"),
                p.given_name.ilike(like, escape="\\"),
                p.mrn.ilike(like, escape="\\"),
            ))
        page = (found.order_by(p.family_name, p.given_name, p.mrn).limit(limit + 1)
                .subquery("page"))
        s_ = m.Session
        last = (sa.select(sa.func.max(s_.actual_start)).where(s_.patient_id == page.c.id)
                .scalar_subquery())
        done = (sa.select(sa.func.count()).where(
                    s_.patient_id == page.c.id,
                    s_.status == e.SessionStatus.COMPLETED.value)
                .scalar_subquery())
        query = (sa.select(page, last.label("last_session_at"), done.label("sessions_done"))
                 .order_by(page.c.family_name, page.c.given_name, page.c.mrn))
        with self.db.reading() as s:
            rows = s.connection().execute(query).all()
        patients = tuple(PatientSummary(*r[:8]) for r in rows[:limit])
        return PatientMatches(patients, more=len(rows) > limit)

    @staticmethod
    def _mrn_free(s: sa.orm.Session, mrn: str, own_id: uuid.UUID | None) -> None:
        other = s.execute(sa.select(m.Patient.id).where(m.Patient.mrn == mrn)).scalar()
        if other is not None and other != own_id:
            raise_if([FieldError("mrn", f"MRN {mrn} belongs to another patient")])


def _parse_dates(word: str) -> list[date]:
    """The dates a typed word can mean: ISO 2024-03-07, or 07.03.2024 / 07/03/2024, which
    is day-first in most locales and month-first in the US, so both readings are tried."""
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", word)
    if iso:
        candidates = [(int(iso[1]), int(iso[2]), int(iso[3]))]
    else:
        local = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", word)
        if not local:
            return []
        a, b, y = int(local[1]), int(local[2]), int(local[3])
        candidates = [(y, b, a), (y, a, b)]
    found = []
    for y, mo, d in candidates:
        try:
            found.append(date(y, mo, d))
        except ValueError:
            continue
    return sorted(set(found))
