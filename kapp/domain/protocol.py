"""The clinic protocol: every clinical threshold and default, as editable settings.

Nothing clinical is a constant in code. Each field below carries the default from
``shared/docs/domain.md`` plus the label, unit and the range an administrator may set it
to. The database stores one row per setting (see ``kapp.storage``); a setting that has no
row takes its default here, so a new setting added in a later version simply appears.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from kapp.domain.errors import FieldError, ValidationError


def _setting(default: float, label: str, unit: str, lo: float, hi: float, group: str) -> Any:
    return field(
        default=default,
        metadata={"label": label, "unit": unit, "min": lo, "max": hi, "group": group},
    )


DOSE = "Dose"
PREDOSE = "Before dosing"
DURING = "During the session"
DISCHARGE = "Discharge"
MONITORING = "Monitoring"
PLAUSIBILITY = "Plausible values (typing errors)"
OUTCOMES = "Outcomes"


@dataclass(frozen=True, slots=True)
class Protocol:
    """A clinic's protocol. Build it with ``Protocol.from_values`` to validate."""

    # -- Dose (domain.md section 2) ------------------------------------------------------
    iv_default_dose_mg_per_kg: float = _setting(0.5, "IV dose, default", "mg/kg", 0.05, 2, DOSE)
    iv_min_dose_mg_per_kg: float = _setting(0.1, "IV dose, lowest in protocol", "mg/kg", 0, 2,
                                            DOSE)
    iv_max_dose_mg_per_kg: float = _setting(1.0, "IV dose, highest in protocol", "mg/kg", 0, 3,
                                            DOSE)
    iv_default_duration_min: float = _setting(
        40, "IV infusion duration, default", "min", 5, 480, DOSE
    )
    default_concentration_mg_per_ml: float = _setting(
        1.0, "Concentration, default", "mg/mL", 0.01, 100, DOSE
    )
    iv_max_concentration_mg_per_ml: float = _setting(
        50, "Highest concentration for IV (100 mg/mL vials must be diluted)", "mg/mL", 0.1, 100,
        DOSE,
    )
    pain_default_mg_per_kg_per_h: float = _setting(
        0.35, "Pain infusion rate, default", "mg/kg/h", 0.01, 2, DOSE
    )
    esketamine_device_mg: float = _setting(28, "Esketamine per nasal device", "mg", 1, 100, DOSE)
    esketamine_min_dose_mg: float = _setting(56, "Esketamine dose, lowest", "mg", 1, 200, DOSE)
    esketamine_max_dose_mg: float = _setting(84, "Esketamine dose, highest", "mg", 1, 200, DOSE)
    esketamine_device_interval_min: float = _setting(
        5, "Esketamine minutes between devices", "min", 0, 30, DOSE
    )

    # -- Monitoring (section 3) ---------------------------------------------------------
    vitals_interval_infusion_min: float = _setting(
        10, "Vitals every, during infusion", "min", 1, 60, MONITORING
    )
    vitals_interval_recovery_min: float = _setting(
        15, "Vitals every, during recovery", "min", 1, 120, MONITORING
    )
    min_observation_min: float = _setting(
        30, "Observation after infusion, at least", "min", 0, 480, MONITORING
    )
    esketamine_min_observation_min: float = _setting(
        120, "Esketamine observation, at least", "min", 0, 480, MONITORING
    )
    peak_scale_prompt_min: float = _setting(
        40, "Prompt for peak dissociation scale at", "min", 1, 240, MONITORING
    )

    # -- Before dosing ----------------------------------------------------------------------
    predose_warn_systolic: float = _setting(140, "Warn above systolic", "mmHg", 90, 250, PREDOSE)
    predose_warn_diastolic: float = _setting(90, "Warn above diastolic", "mmHg", 50, 150, PREDOSE)
    predose_hold_systolic: float = _setting(160, "Hold above systolic", "mmHg", 90, 250, PREDOSE)
    predose_hold_diastolic: float = _setting(100, "Hold above diastolic", "mmHg", 50, 150, PREDOSE)

    # -- During the session -------------------------------------------------------------
    alert_systolic_at_or_above: float = _setting(
        180, "Alert at systolic at or above", "mmHg", 100, 300, DURING
    )
    alert_diastolic_at_or_above: float = _setting(
        110, "Alert at diastolic at or above", "mmHg", 60, 200, DURING
    )
    alert_hr_at_or_above: float = _setting(
        120, "Alert at heart rate at or above", "/min", 60, 250, DURING
    )
    alert_hr_at_or_below: float = _setting(
        50, "Alert at heart rate at or below", "/min", 20, 100, DURING
    )
    alert_spo2_below: float = _setting(92, "Alert at SpO2 below", "%", 50, 100, DURING)
    alert_rr_below: float = _setting(10, "Alert at respiratory rate below", "/min", 4, 30, DURING)

    # -- Discharge ------------------------------------------------------------------------
    discharge_systolic_margin_mmhg: float = _setting(
        20, "Systolic within baseline plus", "mmHg", 0, 100, DISCHARGE
    )
    discharge_diastolic_margin_mmhg: float = _setting(
        15, "Diastolic within baseline plus", "mmHg", 0, 100, DISCHARGE
    )
    discharge_hr_margin_bpm: float = _setting(
        20, "Heart rate within baseline plus or minus", "/min", 0, 100, DISCHARGE
    )
    discharge_min_spo2: float = _setting(94, "SpO2 at least", "%", 50, 100, DISCHARGE)

    # -- Plausible values: outside these a value is a typing error ------------------------
    plausible_hr_min: float = _setting(20, "Heart rate, lowest", "/min", 0, 100, PLAUSIBILITY)
    plausible_hr_max: float = _setting(250, "Heart rate, highest", "/min", 100, 400, PLAUSIBILITY)
    plausible_systolic_min: float = _setting(50, "Systolic, lowest", "mmHg", 0, 150, PLAUSIBILITY)
    plausible_systolic_max: float = _setting(
        300, "Systolic, highest", "mmHg", 150, 400, PLAUSIBILITY
    )
    plausible_diastolic_min: float = _setting(20, "Diastolic, lowest", "mmHg", 0, 100, PLAUSIBILITY)
    plausible_diastolic_max: float = _setting(
        200, "Diastolic, highest", "mmHg", 80, 300, PLAUSIBILITY
    )
    plausible_spo2_min: float = _setting(50, "SpO2, lowest", "%", 0, 100, PLAUSIBILITY)
    plausible_spo2_max: float = _setting(100, "SpO2, highest", "%", 50, 100, PLAUSIBILITY)
    plausible_rr_min: float = _setting(4, "Respiratory rate, lowest", "/min", 0, 20, PLAUSIBILITY)
    plausible_rr_max: float = _setting(
        60, "Respiratory rate, highest", "/min", 20, 100, PLAUSIBILITY
    )
    plausible_temp_min_c: float = _setting(30, "Temperature, lowest", "°C", 20, 37, PLAUSIBILITY)
    plausible_temp_max_c: float = _setting(43, "Temperature, highest", "°C", 37, 46, PLAUSIBILITY)
    plausible_etco2_min: float = _setting(5, "End-tidal CO2, lowest", "mmHg", 0, 40, PLAUSIBILITY)
    plausible_etco2_max: float = _setting(
        100, "End-tidal CO2, highest", "mmHg", 40, 200, PLAUSIBILITY
    )
    plausible_weight_min_kg: float = _setting(20, "Weight, lowest", "kg", 1, 100, PLAUSIBILITY)
    plausible_weight_max_kg: float = _setting(350, "Weight, highest", "kg", 100, 700, PLAUSIBILITY)

    # -- Outcomes (section 6) -----------------------------------------------------------
    response_fall_fraction: float = _setting(
        0.5, "Response: fall from baseline of at least", "fraction", 0.1, 1, OUTCOMES
    )
    remission_phq9_below: float = _setting(5, "Remission: PHQ-9 below", "score", 1, 27, OUTCOMES)
    remission_madrs_at_or_below: float = _setting(
        10, "Remission: MADRS at or below", "score", 0, 60, OUTCOMES
    )
    remission_qids_at_or_below: float = _setting(
        5, "Remission: QIDS-SR16 at or below", "score", 0, 27, OUTCOMES
    )
    pain_relief_fall_fraction: float = _setting(
        0.3, "Pain: meaningful relief is a fall of at least", "fraction", 0.05, 1, OUTCOMES
    )
    booster_interval_days: float = _setting(
        28, "Booster due every", "days", 1, 365, OUTCOMES
    )

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def spec(cls, key: str) -> dict[str, Any]:
        """Label, unit, min, max and group of one setting."""
        for f in fields(cls):
            if f.name == key:
                return {"key": key, "default": f.default, **f.metadata}
        raise KeyError(key)

    @classmethod
    def from_values(cls, values: dict[str, float]) -> Protocol:
        """A protocol from stored or typed values; unknown keys are ignored (a newer
        kapp may have written them), missing keys take their defaults."""
        names = set(cls.keys())
        known = {k: v for k, v in values.items() if k in names}
        proto = replace(cls(), **{k: float(v) for k, v in known.items()})
        errors = proto.problems()
        if errors:
            raise ValidationError(errors)
        return proto

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def problems(self) -> list[FieldError]:
        """Every setting out of its range, and every pair that contradicts itself."""
        errors: list[FieldError] = []
        for f in fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            allowed = f"{meta['min']:g}-{meta['max']:g} {meta['unit']}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append(FieldError(f.name, f"{meta['label']} must be a number", allowed))
            elif not math.isfinite(value) or not meta["min"] <= value <= meta["max"]:
                errors.append(
                    FieldError(
                        f.name,
                        f"{meta['label']} must be between {meta['min']:g} and {meta['max']:g} "
                        f"{meta['unit']}; got {value:g}",
                        allowed,
                    )
                )
        if errors:
            return errors
        pairs = [
            ("iv_min_dose_mg_per_kg", "iv_max_dose_mg_per_kg"),
            ("iv_min_dose_mg_per_kg", "iv_default_dose_mg_per_kg"),
            ("iv_default_dose_mg_per_kg", "iv_max_dose_mg_per_kg"),
            ("esketamine_min_dose_mg", "esketamine_max_dose_mg"),
            ("predose_warn_systolic", "predose_hold_systolic"),
            ("predose_warn_diastolic", "predose_hold_diastolic"),
            ("alert_hr_at_or_below", "alert_hr_at_or_above"),
            ("plausible_hr_min", "plausible_hr_max"),
            ("plausible_systolic_min", "plausible_systolic_max"),
            ("plausible_diastolic_min", "plausible_diastolic_max"),
            ("plausible_spo2_min", "plausible_spo2_max"),
            ("plausible_rr_min", "plausible_rr_max"),
            ("plausible_temp_min_c", "plausible_temp_max_c"),
            ("plausible_etco2_min", "plausible_etco2_max"),
            ("plausible_weight_min_kg", "plausible_weight_max_kg"),
        ]
        for low, high in pairs:
            if getattr(self, low) > getattr(self, high):
                low_label = self.spec(low)["label"]
                high_label = self.spec(high)["label"]
                errors.append(
                    FieldError(
                        low,
                        f"{low_label} ({getattr(self, low):g}) must not be above "
                        f"{high_label} ({getattr(self, high):g})",
                    )
                )
        return errors
