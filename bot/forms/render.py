"""Drawing a form Layout as an A4 PDF (fpdf2, Sarabun, HarfBuzz shaping) or an XLSX workbook.

(Over 500 lines on purpose: the PDF and XLSX renderers walk the same Layout and must
agree cell for cell; splitting them would hide that they are one drawing in two formats.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Literal

import fontpkg_sarabun
from fpdf import FPDF
from fpdf.fonts import TTFFont
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.cells import safe_cell
from bot.core.thaifmt import format_amount, quantize, thai_date, thai_date_numeric
from bot.forms.model import HELPER_LABEL, Cell, Column, Layout, Row

FONT = "Sarabun"
ShapingMode = Literal["auto", "on", "off"]

# Thai characters that HarfBuzz has to position (above/below vowels, tone marks, sara am).
# Text without them renders with the same glyphs and advances unshaped, and shaping every
# table cell costs ~5x more, so cells are shaped only when they hold such a mark.
_THAI_MARKS = re.compile("[\u0e31\u0e33-\u0e3a\u0e47-\u0e4e]")
_SPACES = re.compile(r"\s+")

MARGIN = 12.0
BOTTOM = 14.0
BODY_PT = 10.0
HEAD_PT = 9.5
LINE_H = 5.2
BLANK_ROW_H = 7.5
MAX_CELL_LINES = 6


@lru_cache(maxsize=1)
def font_files() -> tuple[Path, Path]:
    """The Sarabun regular and bold TTFs shipped by fontpkg-sarabun, checked once.

    fpdf2 subsets each document's font object in place when writing it, so parsed fonts
    cannot be shared between documents; registering them costs ~7 ms per document.
    """
    root = fontpkg_sarabun.ROOT / "files"
    regular, bold = root / "Sarabun-Regular.ttf", root / "Sarabun-Bold.ttf"
    for path in (regular, bold):
        if not path.is_file():
            raise FileNotFoundError(f"Sarabun font not found: {path}")
    return regular, bold


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


# ---------------------------------------------------------------------------------------------
# PDF


class FormPDF(FPDF):
    """An A4 page set up for Thai forms: Sarabun, shaping, page numbers in the footer."""

    def __init__(
        self, landscape: bool = False, footer_left: str = "", shaping: ShapingMode = "auto"
    ) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        regular, bold = font_files()
        self.add_font(FONT, "", regular)
        self.add_font(FONT, "B", bold)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False, margin=BOTTOM)
        self.c_margin = 1.2
        self.footer_left = footer_left
        self.shaping_mode: ShapingMode = shaping
        self.shaping_on = False
        self.on_new_page: Callable[[], None] | None = None
        self.page_numbers = True
        self.set_font(FONT, "", BODY_PT)

    @property
    def bottom(self) -> float:
        return self.h - BOTTOM

    def shape_for(self, text: str) -> None:
        """Turn HarfBuzz shaping on or off for the next text (see ``_THAI_MARKS``)."""
        mode = self.shaping_mode
        need = mode == "on" or (mode == "auto" and _THAI_MARKS.search(text) is not None)
        if need != self.shaping_on:
            self.set_text_shaping(need)
            self.shaping_on = need

    def width_of(self, text: str) -> float:
        """Text width in mm from the font's advance widths.

        Equal to the shaped width for Thai (marks have no advance in Sarabun) apart from
        kerning, and much faster than ``get_string_width`` on thousands of cells.
        """
        font = self.current_font
        if not isinstance(font, TTFFont):
            return float(self.get_string_width(text))
        units = sum(map(font.cw.__getitem__, map(ord, text)))
        return float(units) * self.font_size_pt / 1000 / self.k

    def put(self, x: float, y: float, w: float, h: float, text: str, align: str = "L") -> None:
        """Write one line of text in a box without borders."""
        if not text:
            return
        self.shape_for(text)
        if self.shaping_on:
            self.set_xy(x, y)
            self.cell(w, h, text, align=align)
            return
        # Nothing to shape: FPDF.text() draws the same glyphs ~6x faster than cell().
        if align == "L":
            dx = self.c_margin
        else:
            width = self.width_of(text)
            dx = w - self.c_margin - width if align == "R" else (w - width) / 2
        self.text(x + dx, y + 0.5 * h + 0.3 * self.font_size, text)

    def dotted(self, x1: float, y: float, x2: float) -> None:
        """A dotted writing line."""
        if x2 <= x1:
            return
        self.set_draw_color(110)
        self.set_line_width(0.2)
        self.set_dash_pattern(dash=0.3, gap=0.9)
        self.line(x1, y, x2, y)
        self.set_dash_pattern()
        self.set_draw_color(0)

    def wrap(self, text: str, width: float) -> list[str]:
        """Break text into lines that fit ``width`` (between words; Thai words via pythainlp)."""
        avail = width - 2 * self.c_margin
        if not text or self.width_of(text) <= avail:
            return [text]
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self.width_of(candidate) <= avail:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if self.width_of(word) <= avail:
                current = word
                continue
            for piece in self._pieces(word, avail):
                if current and self.width_of(current + piece) > avail:
                    lines.append(current)
                    current = ""
                current += piece
        if current:
            lines.append(current)
        if len(lines) > MAX_CELL_LINES:
            lines = [*lines[: MAX_CELL_LINES - 1], lines[MAX_CELL_LINES - 1] + "…"]
        return lines

    def _pieces(self, word: str, avail: float) -> list[str]:
        """Split a word without spaces: Thai words first, then character clusters."""
        tokens = [word]
        if re.search("[\u0e00-\u0e7f]", word):
            from pythainlp.tokenize import word_tokenize

            tokens = [t for t in word_tokenize(word, engine="newmm") if t]
        pieces: list[str] = []
        for token in tokens:
            if self.width_of(token) <= avail:
                pieces.append(token)
                continue
            cluster = ""
            for ch in token:  # keep marks with their base character
                if cluster and _THAI_MARKS.match(ch) is None:
                    pieces.append(cluster)
                    cluster = ""
                cluster += ch
            if cluster:
                pieces.append(cluster)
        return pieces

    def ensure(self, height: float) -> None:
        """Start a new page (repeating the table header) when ``height`` does not fit."""
        if self.get_y() + height > self.bottom:
            self.add_page()
            if self.on_new_page is not None:
                self.on_new_page()

    def footer(self) -> None:
        if not self.page_numbers:
            return
        self.set_font(FONT, "", 8)
        self.set_text_color(90)
        half = self.epw / 2
        y = self.h - 10
        self.put(self.l_margin, y, half, 5, self.footer_left, "L")
        page = f"หน้า {self.page_no()}/{self.str_alias_nb_pages}"
        self.shape_for(page)
        self.set_xy(self.l_margin + half, y)
        self.cell(half, 5, page, align="R")  # cell() replaces the page-count alias
        self.set_text_color(0)


def _cell_text(column: Column, value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, date):
        return thai_date(value)
    return _plain(value)


_ALIGN = {"left": "L", "right": "R", "center": "C"}


class _TableDrawer:
    """Draws the form table with a header row repeated on every page."""

    def __init__(self, pdf: FormPDF, layout: Layout) -> None:
        self.pdf = pdf
        self.columns = layout.form.columns
        total = sum(c.width for c in self.columns)
        self.widths = [c.width / total * pdf.epw for c in self.columns]

    def header(self) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B", HEAD_PT)
        lines = [pdf.wrap(c.title, w) for c, w in zip(self.columns, self.widths, strict=True)]
        lh = 4.6
        h = max(len(x) for x in lines) * lh + 3
        y = pdf.get_y()
        x = pdf.l_margin
        pdf.set_fill_color(232)
        pdf.set_line_width(0.25)
        for w, cell_lines in zip(self.widths, lines, strict=True):
            pdf.rect(x, y, w, h, style="DF")
            top = y + (h - len(cell_lines) * lh) / 2
            for i, text in enumerate(cell_lines):
                pdf.put(x, top + i * lh, w, lh, text, "C")
            x += w
        pdf.set_xy(pdf.l_margin, y + h)

    def _lines(self, row: Row) -> tuple[int, list[list[str]], float]:
        """How ``row`` is drawn: the cells its label spans, each cell's lines, its height."""
        pdf = self.pdf
        pdf.set_font(FONT, "B" if row.bold else "", BODY_PT)
        span = 0
        if row.label is not None:
            span = next((i for i, v in enumerate(row.cells) if v is not None), len(row.cells))
            span = max(span, 1)
        texts = [_cell_text(c, v) for c, v in zip(self.columns, row.cells, strict=True)]
        lines = [
            pdf.wrap(t, w) if i >= span else [""]
            for i, (t, w) in enumerate(zip(texts, self.widths, strict=True))
        ]
        return span, lines, max(6.5, max(len(x) for x in lines) * LINE_H + 1.3)

    def height(self, row: Row) -> float:
        return self._lines(row)[2]

    def row(self, row: Row, keep_with: float = 0.0) -> None:
        """Draw ``row``; with ``keep_with`` it starts a page unless that much more fits below
        it too (see :func:`_keep_below`)."""
        pdf = self.pdf
        span, lines, h = self._lines(row)
        pdf.ensure(h + keep_with)
        pdf.set_font(FONT, "B" if row.bold else "", BODY_PT)  # a page break drew the header
        y = pdf.get_y()
        x = pdf.l_margin
        pdf.set_line_width(0.2)
        if span:
            span_w = sum(self.widths[:span])
            pdf.rect(x, y, span_w, h)
            pdf.put(x, y + 0.65, span_w, LINE_H, row.label or "", "R")
            x += span_w
        for i in range(span, len(self.columns)):
            column, w = self.columns[i], self.widths[i]
            pdf.rect(x, y, w, h)
            if column.kind == "check" and row.label is None:
                size = 3.2
                pdf.rect(x + (w - size) / 2, y + (6.5 - size) / 2, size, size)
            for j, text in enumerate(lines[i]):
                pdf.put(x, y + 0.65 + j * LINE_H, w, LINE_H, text, _ALIGN[column.align])
            x += w
        pdf.set_xy(pdf.l_margin, y + h)

    def blank(self, count: int, keep_with: float = 0.0) -> None:
        pdf = self.pdf
        pdf.set_line_width(0.2)
        for i in range(count):
            pdf.ensure(BLANK_ROW_H + (keep_with if i == count - 1 else 0.0))
            y = pdf.get_y()
            x = pdf.l_margin
            for w in self.widths:
                pdf.rect(x, y, w, BLANK_ROW_H)
                x += w
            pdf.set_xy(pdf.l_margin, y + BLANK_ROW_H)


def _pdf_top(pdf: FormPDF, layout: Layout) -> None:
    """Helper label, title and header fields of the first page."""
    form = layout.form
    pdf.set_font(FONT, "", 8)
    label_w = pdf.width_of(HELPER_LABEL) + 4
    x = pdf.w - pdf.r_margin - label_w
    pdf.set_draw_color(120)
    pdf.set_line_width(0.2)
    pdf.rect(x, MARGIN - 4, label_w, 5.5)
    pdf.set_text_color(70)
    pdf.put(x, MARGIN - 4, label_w, 5.5, HELPER_LABEL, "C")
    if layout.printed_at:
        pdf.put(x - 40, MARGIN + 1.8, label_w + 40, 4.5, layout.printed_at, "R")
    pdf.set_text_color(0)
    pdf.set_draw_color(0)

    pdf.set_font(FONT, "B", 16)
    pdf.put(pdf.l_margin, MARGIN + 2, pdf.epw, 9, form.name, "C")
    pdf.set_y(MARGIN + 13)
    _pdf_header_fields(pdf, layout.header)
    pdf.set_y(pdf.get_y() + 2.5)


def _pdf_header_fields(pdf: FormPDF, fields: Sequence[tuple[str, str | None]]) -> None:
    pdf.set_font(FONT, "", 11)
    gap, min_line, row_h = 5.0, 38.0, 7.5
    items: list[tuple[str, str | None, float, float]] = []
    for caption, value in fields:
        cap_w = pdf.width_of(caption) + 1.5
        val_w = max(min_line, (pdf.width_of(value) + 6) if value else 0)
        items.append((caption, value, cap_w, val_w))
    rows: list[list[tuple[str, str | None, float, float]]] = [[]]
    used = 0.0
    for item in items:
        need = item[2] + item[3] + (gap if rows[-1] else 0)
        if rows[-1] and used + need > pdf.epw:
            rows.append([])
            used = 0.0
            need = item[2] + item[3]
        rows[-1].append(item)
        used += need
    for row in rows:
        if not row:
            continue
        natural = sum(i[2] + i[3] for i in row) + gap * (len(row) - 1)
        extra = max(0.0, pdf.epw - natural) / len(row)
        y = pdf.get_y()
        x = pdf.l_margin
        for caption, value, cap_w, val_w in row:
            val_w = min(val_w + extra, pdf.epw - cap_w)
            pdf.put(x, y, cap_w, row_h - 1, caption, "L")
            pdf.dotted(x + cap_w, y + row_h - 1.6, x + cap_w + val_w)
            if value:
                pdf.put(x + cap_w + 1, y, val_w - 1, row_h - 1, value, "L")
            x += cap_w + val_w + gap
        pdf.set_y(y + row_h)


def _tail_height(pdf: FormPDF, layout: Layout) -> float:
    """The height of what follows the table: notes, count section and signatures."""
    return (_notes_height(pdf, layout.notes) + _count_height(pdf, layout)
            + _signatures_height(layout.form.signatures, layout.form.orientation == "landscape"))


def _notes_height(pdf: FormPDF, notes: Sequence[str]) -> float:
    if not notes:
        return 0.0
    pdf.set_font(FONT, "", BODY_PT)
    return 2 + sum(len(pdf.wrap(note, pdf.epw)) * LINE_H for note in notes)


def _pdf_notes(pdf: FormPDF, notes: Sequence[str]) -> None:
    if not notes:
        return
    pdf.set_y(pdf.get_y() + 2)
    pdf.set_font(FONT, "", BODY_PT)
    for note in notes:
        lines = pdf.wrap(note, pdf.epw)
        pdf.ensure(len(lines) * LINE_H + 0.5)
        for line in lines:
            y = pdf.get_y()
            pdf.put(pdf.l_margin, y, pdf.epw, LINE_H, line, "L")
            pdf.set_y(y + LINE_H)


COUNT_LINE_H = 8.0


def _count_intro(pdf: FormPDF, layout: Layout) -> list[str]:
    pdf.set_font(FONT, "", 11)
    return pdf.wrap(layout.count_intro, pdf.epw) if layout.count_intro else []


def _count_height(pdf: FormPDF, layout: Layout) -> float:
    section = layout.form.count_section
    if section is None:
        return 0.0
    return 4 + 7 + len(_count_intro(pdf, layout)) * 6 + len(section.lines) * COUNT_LINE_H


def _pdf_count_section(pdf: FormPDF, layout: Layout) -> None:
    section = layout.form.count_section
    if section is None:
        return
    pdf.on_new_page = None
    intro = _count_intro(pdf, layout)
    line_h = COUNT_LINE_H
    pdf.ensure(_count_height(pdf, layout))
    pdf.set_y(pdf.get_y() + 4)
    pdf.set_font(FONT, "B", 11)
    y = pdf.get_y()
    pdf.put(pdf.l_margin, y, pdf.epw, 6, section.title, "L")
    pdf.set_y(y + 7)
    pdf.set_font(FONT, "", 11)
    for line in intro:
        y = pdf.get_y()
        pdf.put(pdf.l_margin, y, pdf.epw, 6, line, "L")
        pdf.set_y(y + 6)
    x0 = pdf.l_margin + 8
    cap_w = max(pdf.width_of(c) for c in section.lines) + 6
    cap_w = min(cap_w, pdf.epw * 0.55)
    line_w = min(65.0, pdf.epw - cap_w - 20)
    for caption in section.lines:
        y = pdf.get_y()
        pdf.put(x0, y, cap_w, line_h - 1, caption, "L")
        pdf.dotted(x0 + cap_w, y + line_h - 2, x0 + cap_w + line_w)
        pdf.put(x0 + cap_w + line_w + 1, y, 12, line_h - 1, "บาท", "L")
        pdf.set_y(y + line_h)


SIGN_LINE_H = 6.5


def _signature_rows(signatures: Sequence[str], landscape: bool) -> list[Sequence[str]]:
    per_row = min(len(signatures), 3 if landscape else 2)
    return [signatures[i : i + per_row] for i in range(0, len(signatures), per_row)]


def _signatures_height(signatures: Sequence[str], landscape: bool) -> float:
    if not signatures:
        return 0.0
    return 6 + len(_signature_rows(signatures, landscape)) * (3 * SIGN_LINE_H + 4)


def _pdf_signatures(pdf: FormPDF, signatures: Sequence[str], landscape: bool) -> None:
    if not signatures:
        return
    pdf.on_new_page = None
    rows = _signature_rows(signatures, landscape)
    block_w = pdf.epw / len(rows[0])
    lh = SIGN_LINE_H
    pdf.set_font(FONT, "", 10.5)
    sign_w = pdf.width_of("ลงชื่อ") + 2
    dots_w = min(55.0, block_w - sign_w - 8)
    total_w = sign_w + dots_w
    pdf.ensure(_signatures_height(signatures, landscape))
    pdf.set_y(pdf.get_y() + 6)
    for row in rows:
        y = pdf.get_y()
        for i, caption in enumerate(row):
            left = pdf.l_margin + i * block_w + (block_w - total_w) / 2
            pdf.put(left, y, sign_w, lh, "ลงชื่อ", "L")
            pdf.dotted(left + sign_w, y + lh - 1.3, left + total_w)
            pdf.put(left + sign_w - 3, y + lh, 3, lh, "(", "R")
            pdf.dotted(left + sign_w, y + 2 * lh - 1.3, left + total_w)
            pdf.put(left + total_w, y + lh, 3, lh, ")", "L")
            pdf.put(left + sign_w, y + 2 * lh, dots_w, lh, caption, "C")
        pdf.set_y(y + 3 * lh + 4)


def _keep_below(table: _TableDrawer, rows: Sequence[Row], tail: float) -> list[float]:
    """How much must fit below each row on its page. The last row keeps ``tail`` (the notes
    and signatures) company, so a signature block never sits alone on a page; the last data
    row keeps the label rows after it (the totals) company, so a page never holds a total
    without an entry above it (widow control)."""
    out = [0.0] * len(rows)
    last_data = next((i for i in range(len(rows) - 1, -1, -1) if rows[i].label is None), None)
    below = tail
    for i in range(len(rows) - 1, -1, -1):
        out[i] = below
        if last_data is None or i <= last_data:
            break
        below += table.height(rows[i])
    return out


def pdf_bytes(layout: Layout) -> bytes:
    """Render a layout as an A4 PDF in the form's orientation.

    Args:
        layout: What to draw.

    Returns:
        The PDF bytes.
    """
    form = layout.form
    landscape = form.orientation == "landscape"
    pdf = FormPDF(landscape, footer_left=f"{form.name} · {HELPER_LABEL}")
    pdf.set_title(form.name)
    pdf.set_creator("elaas-bot")
    pdf.add_page()
    _pdf_top(pdf, layout)
    table = _TableDrawer(pdf, layout)
    pdf.ensure(20)
    table.header()
    pdf.on_new_page = table.header
    tail = _tail_height(pdf, layout)
    keep = tail if tail < (pdf.bottom - MARGIN) / 2 else 0.0
    below = _keep_below(table, layout.rows, 0.0 if layout.blank_rows else keep)
    for row, keep_with in zip(layout.rows, below, strict=True):
        table.row(row, keep_with=keep_with)
    table.blank(layout.blank_rows, keep_with=keep)
    pdf.on_new_page = None
    _pdf_notes(pdf, layout.notes)
    _pdf_count_section(pdf, layout)
    _pdf_signatures(pdf, layout.form.signatures, landscape)
    return bytes(pdf.output())


def text_sample_pdf(text: str, *, shaping: bool = True) -> bytes:
    """One line of 16 pt Sarabun on a 120 x 16 mm page (the shaping check)."""
    pdf = FormPDF(shaping="on" if shaping else "off")
    pdf.page_numbers = False
    pdf.add_page(format=(120, 16))
    pdf.set_font(FONT, "", 16)
    pdf.put(3, 3, 114, 10, text, "L")
    return bytes(pdf.output())


# ---------------------------------------------------------------------------------------------
# XLSX

XLSX_FONT = "TH Sarabun New"
_THIN = Side(style="thin")
_DOTTED = Side(style="dotted")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_F_BODY = Font(name=XLSX_FONT, size=14)
_F_BOLD = Font(name=XLSX_FONT, size=14, bold=True)
_F_TITLE = Font(name=XLSX_FONT, size=18, bold=True)
_F_SMALL = Font(name=XLSX_FONT, size=12, italic=True, color="555555")
_FILL_HEAD = PatternFill("solid", fgColor="E8E8E8")
_A_HEAD = Alignment(horizontal="center", vertical="center", wrap_text=True)
_A_XL = {
    "left": Alignment(horizontal="left", vertical="top", wrap_text=True),
    "right": Alignment(horizontal="right", vertical="top"),
    "center": Alignment(horizontal="center", vertical="top"),
}
_A_LEFT = Alignment(horizontal="left", vertical="center")
_A_CENTER = Alignment(horizontal="center", vertical="center")
_A_RIGHT = Alignment(horizontal="right", vertical="center")
AMOUNT_FORMAT = "#,##0.00"
_COUNTER = re.compile(r"^[1-9][0-9]{0,8}$")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(name: str) -> str:
    """A valid worksheet title: no ``[]:*?/\\``, at most 31 characters."""
    return _SHEET_BAD.sub(" ", name).strip()[:31] or "Sheet"


def _xl_value(column: Column, value: Cell) -> str | int | Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return quantize(value)
    if isinstance(value, date):
        return thai_date_numeric(value)
    text = _plain(value)
    if column.kind == "text" and _COUNTER.match(text):
        return int(text)  # sequence and entry numbers: numbers, not "number stored as text"
    return safe_cell(text)


def _merge_text(
    ws: Worksheet, row: int, first: int, last: int, value: str, font: Font, align: Alignment
) -> None:
    cell = ws.cell(row=row, column=first, value=safe_cell(value))
    cell.font = font
    cell.alignment = align
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def xlsx_bytes(layout: Layout) -> bytes:
    """Render a layout as one worksheet set up to print on A4.

    Amounts are numbers formatted ``#,##0.00``; every text goes through :func:`safe_cell`.

    Args:
        layout: What to write.

    Returns:
        The XLSX bytes.
    """
    form = layout.form
    columns = form.columns
    ncol = len(columns)
    landscape = form.orientation == "landscape"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(form.sheet_name)
    wb.properties.title = form.name
    wb.properties.creator = "elaas-bot"

    _merge_text(ws, 1, 1, ncol, form.name, _F_TITLE, _A_CENTER)
    ws.row_dimensions[1].height = 30
    _merge_text(ws, 2, 1, ncol, HELPER_LABEL, _F_SMALL, _A_RIGHT)
    r = 3
    if layout.printed_at:
        _merge_text(ws, r, 1, ncol, layout.printed_at, _F_SMALL, _A_RIGHT)
        r += 1
    for caption, value in layout.header:
        text = f"{caption} {value}" if value else f"{caption} {'.' * 60}"
        _merge_text(ws, r, 1, ncol, text, _F_BODY, _A_LEFT)
        r += 1
    r += 1

    head = r
    for i, column in enumerate(columns, start=1):
        cell = ws.cell(row=head, column=i, value=safe_cell(column.title))
        cell.font, cell.alignment, cell.border, cell.fill = _F_BOLD, _A_HEAD, _BORDER, _FILL_HEAD
    ws.row_dimensions[head].height = 40
    r = head + 1

    for row in layout.rows:
        _xl_row(ws, r, columns, row)
        r += 1
    for _ in range(layout.blank_rows):
        for i in range(1, ncol + 1):
            ws.cell(row=r, column=i).border = _BORDER
        ws.row_dimensions[r].height = 24
        r += 1

    if layout.notes:
        r += 1
        for note in layout.notes:
            _merge_text(ws, r, 1, ncol, note, _F_BODY, _A_LEFT)
            r += 1
    r = _xl_count_section(ws, r, layout, ncol)
    r = _xl_signatures(ws, r, form.signatures, ncol)
    last_row = r - 1

    total = sum(c.width for c in columns)
    chars = 150 if landscape else 100
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(5.0, column.width / total * chars)

    last_col = get_column_letter(ncol)
    ws.print_area = f"A1:{last_col}{last_row}"
    ws.print_title_rows = f"{head}:{head}"
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.left.text = f"{form.name} · {HELPER_LABEL}"
    ws.oddFooter.right.text = "หน้า &P/&N"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _xl_row(ws: Worksheet, r: int, columns: Sequence[Column], row: Row) -> None:
    font = _F_BOLD if row.bold else _F_BODY
    span = 0
    if row.label is not None:
        span = next((i for i, v in enumerate(row.cells) if v is not None), len(row.cells))
        span = max(span, 1)
        cell = ws.cell(row=r, column=1, value=safe_cell(row.label))
        cell.font, cell.alignment = font, _A_RIGHT
        for i in range(1, span + 1):
            ws.cell(row=r, column=i).border = _BORDER
        if span > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=span)
    for i in range(span, len(columns)):
        column = columns[i]
        value = _xl_value(column, row.cells[i])
        if column.kind == "check" and row.label is None:
            value = "☐"
        cell = ws.cell(row=r, column=i + 1, value=value)
        cell.font, cell.border = font, _BORDER
        cell.alignment = _A_XL[column.align]
        if column.kind == "amount":
            cell.number_format = AMOUNT_FORMAT


def _xl_count_section(ws: Worksheet, r: int, layout: Layout, ncol: int) -> int:
    section = layout.form.count_section
    if section is None:
        return r
    r += 1
    _merge_text(ws, r, 1, ncol, section.title, _F_BOLD, _A_LEFT)
    r += 1
    if layout.count_intro:
        _merge_text(ws, r, 1, ncol, layout.count_intro, _F_BODY, _A_LEFT)
        r += 1
    value_col = max(2, ncol - 1)
    for caption in section.lines:
        _merge_text(ws, r, 1, value_col - 1, caption, _F_BODY, _A_LEFT)
        cell = ws.cell(row=r, column=value_col)
        cell.border = Border(bottom=_DOTTED)
        cell.number_format = AMOUNT_FORMAT
        unit = ws.cell(row=r, column=value_col + 1, value="บาท")
        unit.font = _F_BODY
        ws.row_dimensions[r].height = 24
        r += 1
    return r


def _xl_signatures(ws: Worksheet, r: int, signatures: Sequence[str], ncol: int) -> int:
    if not signatures:
        return r
    r += 1
    per_row = 2 if ncol >= 4 else 1
    width = ncol // per_row
    for start in range(0, len(signatures), per_row):
        for i, caption in enumerate(signatures[start : start + per_row]):
            first = 1 + i * width
            last = ncol if i == per_row - 1 else first + width - 1
            lines = (f"ลงชื่อ {'.' * 40}", f"({'.' * 40})", caption)
            for k, text in enumerate(lines):
                _merge_text(ws, r + 1 + k, first, last, text, _F_BODY, _A_CENTER)
        r += 4
    return r + 1
