"""Checks for typed text and enum fields, shared by every form."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from kapp.domain.errors import FieldError

E = TypeVar("E", bound=StrEnum)


def clean(text: str | None) -> str:
    """Trimmed text, with None as the empty string."""
    return (text or "").strip()


def required_text(
    errors: list[FieldError], field: str, label: str, value: str | None, max_len: int
) -> str:
    text = clean(value)
    if not text:
        errors.append(FieldError(field, f"{label} is required", f"1-{max_len} characters"))
    elif len(text) > max_len:
        errors.append(
            FieldError(
                field,
                f"{label} is too long ({len(text)} characters; at most {max_len})",
                f"1-{max_len} characters",
            )
        )
    return text


def optional_text(
    errors: list[FieldError], field: str, label: str, value: str | None, max_len: int
) -> str:
    text = clean(value)
    if len(text) > max_len:
        errors.append(
            FieldError(
                field,
                f"{label} is too long ({len(text)} characters; at most {max_len})",
                f"0-{max_len} characters",
            )
        )
    return text


def coded(errors: list[FieldError], field: str, label: str, value: Any, enum: type[E]) -> E | None:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        errors.append(FieldError(field, f"{label} must be one of: {allowed}", allowed))
        return None


def number(
    errors: list[FieldError],
    field: str,
    label: str,
    value: Any,
    lo: float,
    hi: float,
    unit: str,
    *,
    required: bool = True,
    lo_inclusive: bool = True,
) -> float | None:
    """A finite number inside [lo, hi] (or (lo, hi] when ``lo_inclusive`` is false)."""
    allowed = f"{lo:g}-{hi:g} {unit}".strip()
    if value is None:
        if required:
            errors.append(FieldError(field, f"{label} is required", allowed))
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(FieldError(field, f"{label} must be a number ({allowed})", allowed))
        return None
    if not math.isfinite(value):
        errors.append(FieldError(field, f"{label} must be a number ({allowed})", allowed))
        return None
    low_ok = value >= lo if lo_inclusive else value > lo
    if not low_ok or value > hi:
        bound = "between" if lo_inclusive else "above"
        words = (
            f"between {lo:g} and {hi:g} {unit}" if bound == "between" else f"above {lo:g} and at "
            f"most {hi:g} {unit}"
        )
        errors.append(FieldError(field, f"{label} must be {words}; got {value:g}", allowed))
        return None
    return float(value)


def past_date(
    errors: list[FieldError], field: str, label: str, value: Any, today: date, max_years: int
) -> date | None:
    if not isinstance(value, date) or isinstance(value, datetime):
        errors.append(FieldError(field, f"{label} must be a date"))
        return None
    if value > today:
        errors.append(FieldError(field, f"{label} cannot be in the future"))
        return None
    if value < today - timedelta(days=365.25 * max_years):
        errors.append(FieldError(field, f"{label} is more than {max_years} years ago"))
        return None
    return value


def moment(
    errors: list[FieldError],
    field: str,
    label: str,
    value: Any,
    now: datetime,
    *,
    not_before: datetime | None = None,
    future_slack: timedelta = timedelta(minutes=5),
) -> datetime | None:
    """A timezone-aware time that is not in the future (a few minutes' clock drift
    between workstations is allowed) and not before ``not_before``."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors.append(FieldError(field, f"{label} must be a date and time with a time zone"))
        return None
    if value > now + future_slack:
        errors.append(FieldError(field, f"{label} cannot be in the future"))
        return None
    if not_before is not None and value < not_before:
        errors.append(
            FieldError(field, f"{label} cannot be before {not_before:%Y-%m-%d %H:%M} UTC")
        )
        return None
    return value
