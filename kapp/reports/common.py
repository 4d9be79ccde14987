"""Fonts, styles and small formatters shared by the PDF reports."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

PAGE = A4
MARGIN = 11 * mm
FONT, BOLD = "KappSans", "KappSans-Bold"

# A font with wide coverage, so names such as "Łucja Nguyễn" print as written. The
# fallback (Vera) ships inside reportlab itself, so a report never fails for want of one.
_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
    ("/System/Library/Fonts/Supplemental/Arial.ttf",
     "/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
)


@cache
def register_fonts() -> tuple[str, str]:
    import reportlab

    shipped = Path(reportlab.__file__).parent / "fonts"
    for regular, bold in (*_FONT_CANDIDATES, (shipped / "Vera.ttf", shipped / "VeraBd.ttf")):
        if Path(regular).is_file() and Path(bold).is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT,
                                          boldItalic=BOLD)
            return FONT, BOLD
    raise RuntimeError("no font found for PDF reports")  # pragma: no cover - Vera ships


INK = colors.HexColor("#1a1a1a")
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#999999")
HEAD_BG = colors.HexColor("#e6e9ee")
ALERT = colors.HexColor("#b00020")
STRUCK = colors.HexColor("#777777")


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=7.6, leading=9.2, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=6.6, leading=8, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.2, leading=8.4),
        "cell_r": ParagraphStyle("cell_r", parent=base, fontSize=7.2, leading=8.4,
                                 alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=7.2, leading=8.4),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=13, leading=16),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=9, leading=11,
                             spaceBefore=5, spaceAfter=2),
        "warn": ParagraphStyle("warn", parent=base, fontName=BOLD, textColor=ALERT),
    }


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=False)


def words(code: Any) -> str:
    """A coded value in plain words: ``raised_bp`` -> ``raised bp``."""
    if code is None:
        return ""
    value = getattr(code, "value", code)
    return str(value).replace("_", " ")


def num(value: float | None, unit: str = "", digits: int = 1) -> str:
    """A number without trailing zeros, with its unit; empty when not recorded."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return f"{text} {unit}".strip() if unit else text


def local(value: datetime) -> datetime:
    """A stored (UTC) time in the computer's time zone, as the clinic reads clocks."""
    return value.astimezone()


def hm(value: datetime | None) -> str:
    return local(value).strftime("%H:%M") if value else ""


def day(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return value.strftime("%Y-%m-%d")


def day_time(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def zone_note(value: datetime) -> str:
    return local(value).strftime("times are local (UTC%z)")


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def para(text: str, style: str = "body") -> Paragraph:
    return Paragraph(text, styles()[style])


def struck(text: str, is_struck: bool) -> str:
    return f'<strike><font color="#777777">{text}</font></strike>' if is_struck else text


def grid(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True,
         struck_rows: Sequence[int] = (), align_right: Sequence[int] = ()) -> Table:
    """A compact table; cells given as text become paragraphs (so they wrap). A cell whose
    text is plain and fits its column on one line is drawn as a string in the same font:
    it looks the same and costs a tenth of a paragraph (a progress report of 200 sessions
    has thousands of cells)."""
    st = styles()
    cell_style = st["cell"]
    room = [w - 4 for w in widths]  # the left and right padding below
    body: list[list[Any]] = []
    for r, row in enumerate(rows):
        cells = []
        for c, cell in enumerate(row):
            if isinstance(cell, str):
                if ((r > 0 or not header) and r not in struck_rows and _plain(cell)
                        and pdfmetrics.stringWidth(cell, cell_style.fontName,
                                                   cell_style.fontSize) <= room[c]):
                    cells.append(cell)
                    continue
                style = "head" if header and r == 0 else (
                    "cell_r" if c in align_right else "cell")
                text = cell if (header and r == 0) else struck(cell, r in struck_rows)
                cells.append(Paragraph(text, st[style]))
            else:
                cells.append(cell)
        body.append(cells)
    table = Table(body, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), cell_style.fontName, cell_style.fontSize,
         cell_style.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), cell_style.textColor),
        *[("ALIGN", (c, 0), (c, -1), "RIGHT") for c in align_right],
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 0.8), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.8),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
    table.setStyle(TableStyle(commands))
    return table


def _plain(text: str) -> bool:
    """Text without markup or line breaks: drawn as it is."""
    return not any(ch in text for ch in "<&\n")


def key_values(pairs: Sequence[tuple[str, str]], widths: tuple[float, float]) -> Table:
    """Label: value lines, labels in bold."""
    rows = [[f"<b>{esc(k)}</b>", v] for k, v in pairs]
    return grid(rows, widths, header=False)


def document(out: Path | str | IO[bytes], *, title: str, subject: str) -> SimpleDocTemplate:
    register_fonts()
    return SimpleDocTemplate(
        str(out) if isinstance(out, Path | str) else out, pagesize=PAGE, leftMargin=MARGIN,
        rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + 3 * mm, title=title, subject=subject, author="kapp",
        creator="kapp")


def footer(left: str) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """A page callback writing ``left`` and the page number at the foot of each page."""

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 6.5)
        canvas.setFillColor(MUTED)
        y = MARGIN - 1 * mm
        canvas.drawString(MARGIN, y, left)
        canvas.drawRightString(PAGE[0] - MARGIN, y, f"page {doc.page}")
        canvas.restoreState()

    return draw


CONTENT_WIDTH = PAGE[0] - 2 * MARGIN
