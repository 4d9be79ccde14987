"""Coded values. Each enum's value is what is stored in the database and exported."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NURSE = "nurse"
    PRESCRIBER = "prescriber"
    ADMIN = "admin"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    INTERSEX = "intersex"
    UNKNOWN = "unknown"


class Indication(StrEnum):
    TRD = "trd"  # treatment-resistant depression
    DEPRESSION_SI = "depression_si"  # depression with suicidal ideation
    CRPS = "crps"  # complex regional pain syndrome
    CHRONIC_PAIN = "chronic_pain"
    OTHER = "other"


class CourseKind(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"
    BOOSTER = "booster"


class SessionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    RECOVERY = "recovery"
    COMPLETED = "completed"
    ABORTED = "aborted"


class Route(StrEnum):
    IV = "iv"
    IM = "im"
    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    INTRANASAL = "intranasal"


class Drug(StrEnum):
    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"


class WeightUnit(StrEnum):
    KG = "kg"
    LB = "lb"


class InfusionEventKind(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    RATE_CHANGE = "rate_change"
    STOP = "stop"


class VitalsSource(StrEnum):
    MANUAL = "manual"
    DEVICE = "device"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class SideEffectKind(StrEnum):
    """Common side effects (domain.md section 4); ``OTHER`` takes a free description."""

    RAISED_BP = "raised_bp"
    RAISED_HR = "raised_hr"
    NAUSEA = "nausea"
    VOMITING = "vomiting"
    DIZZINESS = "dizziness"
    ANXIETY = "anxiety"
    DYSPHORIA = "dysphoria"
    HEADACHE = "headache"
    DIPLOPIA = "diplopia"
    NYSTAGMUS = "nystagmus"
    SEDATION = "sedation"
    NUMBNESS = "numbness"
    CONFUSION = "confusion"
    HALLUCINATIONS = "hallucinations"
    EMERGENCE_REACTION = "emergence_reaction"
    RESPIRATORY_DEPRESSION = "respiratory_depression"
    URINARY_SYMPTOMS = "urinary_symptoms"
    OTHER = "other"


class InterventionKind(StrEnum):
    MEDICATION = "medication"
    INFUSION_CHANGE = "infusion_change"
    OXYGEN = "oxygen"
    COMFORT = "comfort"  # reassurance, dim lights, eye mask, music
    OTHER = "other"


class AlertAction(StrEnum):
    """What the nurse did about an alert (domain.md section 3)."""

    NONE = "none"
    SLOWED = "slowed"
    PAUSED = "paused"
    STOPPED = "stopped"
    MEDICATION = "medication"


class AlertSeverity(StrEnum):
    WARN = "warn"  # pre-dose: consider delaying
    HOLD = "hold"  # pre-dose: do not start
    ALERT = "alert"  # during the session: act and acknowledge


class Valence(StrEnum):
    """How the patient experienced the dissociation."""

    PLEASANT = "pleasant"
    NEUTRAL = "neutral"
    DISTRESSING = "distressing"


class DissociationDescriptor(StrEnum):
    """What patients report (domain.md section 5)."""

    BODY_DETACHMENT = "body_detachment"
    SURROUNDINGS_DETACHMENT = "surroundings_detachment"
    ALTERED_TIME = "altered_time"
    SPATIAL_DISTORTION = "spatial_distortion"
    FLOATING = "floating"
    WATCHING_SELF = "watching_self"
    THOUGHT_DISCONNECTION = "thought_disconnection"
    EUPHORIA = "euphoria"
    CREATIVITY = "creativity"
    HALLUCINATIONS = "hallucinations"
    CONFUSION = "confusion"


class TimePoint(StrEnum):
    """When an instrument was taken relative to the course or the session."""

    BASELINE = "baseline"
    PRE_SESSION = "pre_session"
    PEAK = "peak"
    POST_SESSION = "post_session"
    H4 = "4h"
    H24 = "24h"
    D7 = "7d"
    D28 = "28d"


class ScreeningAnswer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Contraindication(StrEnum):
    """Screening items before a course (domain.md section 7)."""

    UNCONTROLLED_HYPERTENSION = "uncontrolled_hypertension"
    ANEURYSM_OR_AVM = "aneurysm_or_avm"
    INTRACEREBRAL_HAEMORRHAGE = "intracerebral_haemorrhage"
    ACTIVE_PSYCHOSIS = "active_psychosis"
    PREGNANCY = "pregnancy"
    ACTIVE_SUBSTANCE_MISUSE = "active_substance_misuse"
    SEVERE_LIVER_DISEASE = "severe_liver_disease"
    RAISED_ICP_OR_IOP = "raised_icp_or_iop"


class MedicationFlag(StrEnum):
    """Current medications that matter for ketamine (domain.md section 7)."""

    BENZODIAZEPINE = "benzodiazepine"
    OPIOID = "opioid"
    STIMULANT = "stimulant"
    MAOI = "maoi"
    LAMOTRIGINE = "lamotrigine"


class PreSessionCheck(StrEnum):
    CONSENT_ON_FILE = "consent_on_file"
    FASTING = "fasting"
    ESCORT_CONFIRMED = "escort_confirmed"
    MEDICATION_CHANGES_REVIEWED = "medication_changes_reviewed"


class DischargeCheck(StrEnum):
    VITALS_NEAR_BASELINE = "vitals_near_baseline"
    ALERT_AND_ORIENTED = "alert_and_oriented"
    NAUSEA_CONTROLLED = "nausea_controlled"
    WALKING_STEADILY = "walking_steadily"
    ESCORT_PRESENT = "escort_present"
    INSTRUCTIONS_GIVEN = "instructions_given"


class RemsCheck(StrEnum):
    """The yes/no answers of the esketamine REMS monitoring form (domain.md section 7)
    that the record cannot hold by itself. Stored in the discharge checklist: True is
    "yes", False is "no", a missing key is not answered yet. The rest of the form (date,
    dose, lot, monitoring minutes, blood pressures) comes from the session record."""

    VITALS_ACCEPTABLE_BEFORE_DOSING = "rems_vitals_acceptable_before_dosing"
    VITALS_ACCEPTABLE_BEFORE_DISCHARGE = "rems_vitals_acceptable_before_discharge"
    SEDATION = "rems_sedation"
    DISSOCIATION = "rems_dissociation"
    RESPIRATORY_DEPRESSION = "rems_respiratory_depression"
    PULSE_OXIMETRY_MONITORED = "rems_pulse_oximetry_monitored"
    SERIOUS_ADVERSE_EVENT = "rems_serious_adverse_event"
