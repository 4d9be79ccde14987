"""Shared by the report tests: read a PDF's text back, and a two-session course."""

from __future__ import annotations

import re
from pathlib import Path

from pypdf import PdfReader

PHQ9_20 = {1: 3, 2: 3, 3: 3, 4: 3, 5: 2, 6: 2, 7: 2, 8: 2, 9: 0}
PHQ9_8_ITEM9 = {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 0, 8: 1, 9: 1}


def pdf_text(path: Path) -> tuple[str, int]:
    """All pages' text with runs of white space made single spaces, and the page count."""
    reader = PdfReader(str(path))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text), len(reader.pages)
