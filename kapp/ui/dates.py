"""Dates as the clinic reads them (Qt's locale), without the chart libraries: the first
screens use this, so it must stay light to import."""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QDate, QLocale


def day_text(day: date, locale: QLocale | None = None) -> str:
    """A date in the locale's short format with a four-digit year (ISO without a locale)."""
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:
        return day.isoformat()
    pattern = re.sub(r"(?<!y)yy(?!y)", "yyyy", locale.dateFormat(QLocale.FormatType.ShortFormat))
    return locale.toString(QDate(day.year, day.month, day.day), pattern)
