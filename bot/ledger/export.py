"""Export an LAO's entries for keying back into e-LAAS: XLSX (four sheets) and CSV (UTF-8 BOM)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.core.cells import clean_cell, safe_cell, xlsx_text, xlsx_text_cell
from bot.core.contract import FileBlob
from bot.core.thaifmt import amount_in_words, thai_date, thai_date_numeric, thai_datetime
from bot.ledger.entries import KIND_TH, METHOD_TH, Entry, Lao
from bot.ledger.names import shown_name
from bot.ledger.xlsx_cache import add_cached_values

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written: 0.1-0.2 s of every start
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.worksheet import Worksheet

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
HEADERS = ("ลำดับ", "วันที่ (พ.ศ.)", "ประเภท", "เลขที่เอกสาร", "รายการ", "วิธีรับ/จ่าย",
           "จำนวนเงิน (บาท)", "ผู้บันทึก", "ยกเลิก", "คีย์ใน e-LAAS แล้ว")  # fmt: skip
MONEY = "#,##0.00"
# A date in the Buddhist era with Thai month names, "1 ก.ค. 2567": 1 = Western digits,
# 07 = Thai Buddhist calendar, 041E = th-TH (Excel's LCID form, also read by LibreOffice).
BE_DATE = "[$-107041E]d mmm yyyy"
HEADER_ROW = 4  # three title lines, then the column headers


@cache
def _font(size: int | None = 14, bold: bool = False) -> Font:
    from openpyxl.styles import Font

    return Font(name="TH Sarabun New", bold=bold, size=size)


@cache
def _head_fill() -> PatternFill:
    from openpyxl.styles import PatternFill

    return PatternFill("solid", fgColor="DDEBF7")


def entry_row(e: Entry, names: Mapping[str, str] | None = None) -> list[Any]:
    """One entry as the cells of the all-entries sheet and the CSV, texts as typed.

    People are named by the name recorded with the entry (or the void), else their name in
    the member directory (``names``: user id -> name), else the neutral label of
    :func:`shown_name`; never by their channel id (``line:U…`` is nobody's business in a
    spreadsheet).
    """
    names = names or {}
    void = ""
    if e.void is not None:
        who = shown_name(e.void.by, e.void.by_name or names.get(e.void.by) or (
            e.author_name if e.void.by == e.author else ""))
        when = f"{who}, {thai_datetime(e.void.at)}" if who else thai_datetime(e.void.at)
        void = f"ยกเลิก: {e.void.reason} ({when})"
    return [
        e.no,
        thai_date_numeric(e.date),
        KIND_TH[e.kind],
        clean_cell(e.doc_no or ""),
        clean_cell(e.description),
        METHOD_TH.get(e.method or "", ""),
        e.amount,
        clean_cell(shown_name(e.author, e.author_name or names.get(e.author, ""))),
        clean_cell(void),
        thai_date(e.keyed_at.date()) if e.keyed_at else "",
    ]


def _period(entries: Sequence[Entry], date_from: date | None, date_to: date | None) -> str:
    lo = date_from or (entries[0].date if entries else None)
    hi = date_to or (entries[-1].date if entries else None)
    if lo is None or hi is None:
        return "-"
    return thai_date(lo) if lo == hi else f"{thai_date(lo)} ถึง {thai_date(hi)}"


def _cell(ws: Worksheet, value: Any, *, bold: bool = False, money: bool = False) -> Any:
    """A styled cell for headers and money, a safe one for text; others go in plain."""
    if isinstance(value, str) and not bold:
        return xlsx_text(ws, value)
    if not (bold or money):
        return value
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment

    c = WriteOnlyCell(ws, value=value)
    if money:
        c.number_format = MONEY
    if bold:
        c.font = _font(bold=True)
        c.fill = _head_fill()
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return c


def _sheet(wb: Workbook, title: str, widths: Sequence[int], landscape: bool = True) -> Worksheet:
    ws = wb.create_sheet(title)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    # titles and the header stay in view; a write-only sheet takes this before its first row
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    return ws


def _title_rows(ws: Worksheet, title: str, lao: Lao, period: str, width: int) -> None:
    """Three title lines, each merged across the table so it prints and converts whole."""
    lines = (f"{title} (แบบช่วยบันทึก)", f"{lao.name} รหัส {lao.code} จังหวัด{lao.province or '-'}",
             f"ช่วงวันที่ {period}")
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    last = get_column_letter(width)
    for row, text in enumerate(lines, 1):
        c = xlsx_text_cell(ws, text)
        c.font = _font(16, bold=True) if row == 1 else _font()
        c.alignment = Alignment(horizontal="center", vertical="center")
        ws.append([c])
        ws.merged_cells.add(f"A{row}:{last}{row}")


def _date_cell(ws: Worksheet, d: date) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws, value=d)
    c.number_format = BE_DATE
    return c


def _formula(ws: Worksheet, formula: str, value: Decimal, cache: dict[str, Decimal],
             ref: str, *, bold: bool = False) -> WriteOnlyCell:
    """A money formula cell; ``value`` is what it computes, stored as its cached result."""
    from openpyxl.cell import WriteOnlyCell

    c = WriteOnlyCell(ws, value=formula)
    c.number_format = MONEY
    if bold:
        c.font = _font(None, bold=True)
    cache[ref] = value
    return c


def brought_forward(entries: Sequence[Entry], day: date) -> Decimal:
    """Cash balance carried into ``day``: receipts minus payments before it, voids left out.

    The daily cash report (bot.forms.catalog) and the XLSX daily summary both start from this.
    """
    return sum((e.amount if e.kind == "receipt" else -e.amount
                for e in entries if e.date < day and not e.voided), Decimal(0))


def export_xlsx(lao: Lao, entries: Sequence[Entry], date_from: date | None = None,
                date_to: date | None = None, *, now: datetime | None = None,
                opening: Decimal = Decimal(0), names: Mapping[str, str] | None = None) -> bytes:
    """The key-back workbook: all entries, cash receipts, cash payments, daily summary.

    Dates are real date cells shown in the Buddhist era (``BE_DATE``); amounts are numbers
    formatted ``#,##0.00``; totals, running totals and balances are formulas whose results
    are stored with them (see bot.ledger.xlsx_cache). Voided entries appear in the first sheet
    marked as voided and are left out of every total. ``opening`` is the balance brought
    forward into the first day (see :func:`brought_forward`); ``names`` see :func:`entry_row`.
    """
    entries = sorted(entries, key=lambda e: (e.date, e.no))
    period = _period(entries, date_from, date_to)
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.calculation.fullCalcOnLoad = True  # Excel and LibreOffice recompute on opening
    cached: dict[str, dict[str, Decimal]] = {}

    title = "รายการทั้งหมด"
    ws = _sheet(wb, title, (7, 13, 7, 14, 40, 10, 15, 18, 30, 14))
    cache = cached.setdefault(title, {})
    _title_rows(ws, "รายการรับ-จ่ายสำหรับคีย์ย้อนหลังเข้า e-LAAS", lao, period, len(HEADERS))
    ws.append([_cell(ws, h, bold=True) for h in HEADERS])
    for e in entries:
        row = entry_row(e, names)
        row[1] = _date_cell(ws, e.date)
        ws.append([v if i == 1 else _cell(ws, v, money=(i == 6)) for i, v in enumerate(row)])
    first, last = HEADER_ROW + 1, HEADER_ROW + max(len(entries), 1)
    live = [e for e in entries if not e.voided]
    rec = sum((e.amount for e in live if e.kind == "receipt"), Decimal(0))
    pay = sum((e.amount for e in live if e.kind == "payment"), Decimal(0))
    at = HEADER_ROW + len(entries) + 1
    for label, kind, value in (("รวมรับ", "รับ", rec), ("รวมจ่าย", "จ่าย", pay)):
        formula = (f'=SUMIFS(G{first}:G{last},C{first}:C{last},"{kind}",I{first}:I{last},"")'
                   if entries else "=0")
        ws.append([_cell(ws, "")] * 5 + [_cell(ws, label, bold=True),
                                         _formula(ws, formula, value, cache, f"G{at}", bold=True)])
        at += 1
    ws.append([_cell(ws, "")] * 5 + [_cell(ws, "สุทธิ", bold=True),
                                     _formula(ws, f"=G{at - 2}-G{at - 1}", rec - pay, cache,
                                              f"G{at}", bold=True)])
    ws.append([_cell(ws, "ยอดรวมไม่นับรายการที่ยกเลิก")])

    for kind, title in (("receipt", "เงินสดรับ"), ("payment", "เงินสดจ่าย")):
        sheet = _sheet(wb, title, (7, 13, 14, 40, 10, 15, 16), landscape=False)
        cache = cached.setdefault(title, {})
        _title_rows(sheet, f"สมุด{title}", lao, period, 7)
        sheet.append([_cell(sheet, h, bold=True) for h in
                      ("ลำดับ", "วันที่", "เลขที่เอกสาร", "รายการ", "วิธี", "จำนวนเงิน",
                       "ยอดสะสม")])  # fmt: skip
        running = Decimal(0)
        r = HEADER_ROW
        for e in (x for x in live if x.kind == kind):
            running += e.amount
            r += 1
            carried = f"=F{r}" if r == HEADER_ROW + 1 else f"=G{r - 1}+F{r}"
            sheet.append([_cell(sheet, e.no), _date_cell(sheet, e.date),
                          _cell(sheet, e.doc_no or ""),
                          _cell(sheet, e.description),
                          _cell(sheet, METHOD_TH.get(e.method or "", "")),
                          _cell(sheet, e.amount, money=True),
                          _formula(sheet, carried, running, cache, f"G{r}")])
        total = f"=SUM(F{HEADER_ROW + 1}:F{r})" if r > HEADER_ROW else "=0"
        sheet.append([_cell(sheet, "")] * 4 + [_cell(sheet, "รวม", bold=True),
                                               _formula(sheet, total, running, cache,
                                                        f"F{r + 1}", bold=True)])
        sheet.append([_cell(sheet, f"({amount_in_words(running)})")])

    title = "สรุปรายวัน"
    days = _sheet(wb, title, (14, 16, 16, 16, 16, 16, 16), landscape=False)
    cache = cached.setdefault(title, {})
    _title_rows(days, "สรุปรับ-จ่ายรายวัน", lao, period, 7)
    days.append([_cell(days, h, bold=True) for h in
                 ("วันที่", "รับ", "จ่าย", "สุทธิ", "รับสะสม", "จ่ายสะสม", "คงเหลือสะสม")])
    r = HEADER_ROW + 1
    days.append([_cell(days, "ยอดยกมา", bold=True)] + [_cell(days, "")] * 5
                + [_cell(days, opening, money=True)])
    cum_r = cum_p = Decimal(0)
    balance = opening
    for d, got, paid in daily_totals(live):
        cum_r += got
        cum_p += paid
        balance += got - paid
        r += 1
        prev_r = f"E{r - 1}+" if r > HEADER_ROW + 2 else ""
        prev_p = f"F{r - 1}+" if r > HEADER_ROW + 2 else ""
        days.append([_date_cell(days, d), _cell(days, got, money=True),
                     _cell(days, paid, money=True),
                     _formula(days, f"=B{r}-C{r}", got - paid, cache, f"D{r}"),
                     _formula(days, f"={prev_r}B{r}", cum_r, cache, f"E{r}"),
                     _formula(days, f"={prev_p}C{r}", cum_p, cache, f"F{r}"),
                     _formula(days, f"=G{r - 1}+D{r}", balance, cache, f"G{r}")])
    lo, hi = HEADER_ROW + 2, r
    sums = (f"=SUM(B{lo}:B{hi})", f"=SUM(C{lo}:C{hi})") if hi >= lo else ("=0", "=0")
    days.append([_cell(days, "รวม", bold=True),
                 _formula(days, sums[0], cum_r, cache, f"B{r + 1}", bold=True),
                 _formula(days, sums[1], cum_p, cache, f"C{r + 1}", bold=True),
                 _formula(days, f"=B{r + 1}-C{r + 1}", cum_r - cum_p, cache, f"D{r + 1}",
                          bold=True)] + [_cell(days, "")] * 2
                + [_formula(days, f"=G{r}", balance, cache, f"G{r + 1}", bold=True)])
    stamp = thai_datetime(now) if now else ""
    if stamp:
        days.append([_cell(days, f"ส่งออกเมื่อ {stamp}")])
    buf = io.BytesIO()
    wb.save(buf)
    return add_cached_values(buf.getvalue(), cached)


def daily_totals(entries: Sequence[Entry]) -> list[tuple[date, Decimal, Decimal]]:
    """(day, receipts, payments) for each day that has entries, in date order."""
    totals: dict[date, list[Decimal]] = {}
    for e in entries:
        t = totals.setdefault(e.date, [Decimal(0), Decimal(0)])
        t[0 if e.kind == "receipt" else 1] += e.amount
    return [(d, r, p) for d, (r, p) in sorted(totals.items())]


def export_csv(entries: Sequence[Entry], names: Mapping[str, str] | None = None) -> bytes:
    """All entries in date order as CSV, UTF-8 with BOM so Excel shows Thai.

    A CSV cell has no type: text that a spreadsheet would read as a formula keeps the
    neutralising apostrophe of :func:`safe_cell`.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    for e in sorted(entries, key=lambda e: (e.date, e.no)):
        row = [safe_cell(v) if isinstance(v, str) else v for v in entry_row(e, names)]
        row[6] = f"{e.amount:.2f}"
        w.writerow(row)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_file(lao: Lao, entries: Sequence[Entry], fmt: str, date_from: date | None = None,
                date_to: date | None = None, *, now: datetime | None = None,
                opening: Decimal = Decimal(0), names: Mapping[str, str] | None = None,
                ) -> FileBlob:
    """The export as a file to send: ``fmt`` is ``xlsx`` or ``csv``.

    Without a period the file covers its entries' dates, and its name says so.
    """
    days = sorted(e.date for e in entries)
    date_from = date_from or (days[0] if days else None)
    date_to = date_to or (days[-1] if days else None)
    name = export_name(lao, date_from, date_to, now)
    if fmt == "csv":
        return FileBlob(export_csv(entries, names), f"{name}.csv", CSV_MIME)
    if fmt == "xlsx":
        data = export_xlsx(lao, entries, date_from, date_to, now=now, opening=opening,
                           names=names)
        return FileBlob(data, f"{name}.xlsx", XLSX_MIME)
    raise ValueError(f"unknown export format {fmt!r}")


def export_name(lao: Lao, date_from: date | None, date_to: date | None,
                now: datetime | None = None) -> str:
    """``elaas-CODE-20240701-20240731`` for a range (one date for a day), else the export day."""
    if date_from and date_to:
        span = f"{date_from:%Y%m%d}" + ("" if date_from == date_to else f"-{date_to:%Y%m%d}")
        return f"elaas-{lao.code}-{span}"
    return f"elaas-{lao.code}-{(now or datetime.now()):%Y%m%d}"
