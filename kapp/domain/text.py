"""Checks for typed text and enum fields, shared by every form."""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from kapp.domain.errors import FieldError

E = TypeVar("E", bound=StrEnum)


def clean(text: str | None) -> str:
    """Trimmed text, with None as the empty string."""
    return (text or "").strip()


# Control characters other than tab and line breaks: invisible, and a NUL cuts text short
# in many tools that read the database or an export later.
_CONTROL = frozenset(chr(c) for c in range(32) if chr(c) not in "\t\n\r") | {"\x7f"}


def _checked_text(errors: list[FieldError], field: str, label: str, value: object) -> str | None:
    """Trimmed text; None (with an error recorded) when ``value`` is not acceptable text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(field, f"{label} must be text"))
        return None
    if any(c in _CONTROL for c in value):
        errors.append(FieldError(field, f"{label} contains invisible control characters; "
                                 "retype it"))
        return None
    return value.strip()


def required_text(
    errors: list[FieldError], field: str, label: str, value: str | None, max_len: int
) -> str:
    checked = _checked_text(errors, field, label, value)
    if checked is None:
        return ""
    text = checked
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
    checked = _checked_text(errors, field, label, value)
    if checked is None:
        return ""
    text = checked
    if len(text) > max_len:
        errors.append(
            FieldError(
                field,
                f"{label} is too long ({len(text)} characters; at most {max_len})",
                f"0-{max_len} characters",
            )
        )
    return text


def identifier(errors: list[FieldError], field: str, label: str, value: Any) -> uuid.UUID | None:
    """A record's id (a UUID, or its text form), or None when not given."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value.strip())
        except ValueError:
            pass
    errors.append(FieldError(field, f"{label} does not name a record kapp knows"))
    return None


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
