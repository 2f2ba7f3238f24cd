"""Export an LAO's entries for keying back into e-LAAS: XLSX (four sheets) and CSV (UTF-8 BOM)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bot.cells import safe_cell
from bot.contract import FileBlob
from bot.entries import KIND_TH, METHOD_TH, Entry, Lao
from bot.thaifmt import amount_in_words, thai_date, thai_date_numeric, thai_datetime

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
HEADERS = ("ลำดับ", "วันที่ (พ.ศ.)", "ประเภท", "เลขที่เอกสาร", "รายการ", "วิธีรับ/จ่าย",
           "จำนวนเงิน (บาท)", "ผู้บันทึก", "ยกเลิก", "คีย์ใน e-LAAS แล้ว")  # fmt: skip
MONEY = "#,##0.00"
_BOLD = Font(name="TH Sarabun New", bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def entry_row(e: Entry) -> list[Any]:
    """One entry as the cells of the all-entries sheet and the CSV."""
    void = f"ยกเลิก: {e.void.reason} ({e.void.by}, {thai_datetime(e.void.at)})" if e.void else ""
    return [
        e.no,
        thai_date_numeric(e.date),
        KIND_TH[e.kind],
        safe_cell(e.doc_no or ""),
        safe_cell(e.description),
        METHOD_TH.get(e.method or "", ""),
        e.amount,
        safe_cell(e.author_name or e.author),
        safe_cell(void),
        thai_date(e.keyed_at.date()) if e.keyed_at else "",
    ]


def _period(entries: Sequence[Entry], date_from: date | None, date_to: date | None) -> str:
    lo = date_from or (entries[0].date if entries else None)
    hi = date_to or (entries[-1].date if entries else None)
    if lo is None or hi is None:
        return "-"
    return thai_date(lo) if lo == hi else f"{thai_date(lo)} ถึง {thai_date(hi)}"


def _cell(ws: Worksheet, value: Any, *, bold: bool = False, money: bool = False) -> Any:
    """A styled cell for headers and money; other values go in plain (much faster)."""
    if not (bold or money):
        return value
    c = WriteOnlyCell(ws, value=value)
    if money:
        c.number_format = MONEY
    if bold:
        c.font = _BOLD
        c.fill = _HEAD_FILL
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
    return ws


def _title_rows(ws: Worksheet, title: str, lao: Lao, period: str) -> None:
    ws.append([_cell(ws, f"{title} (แบบช่วยบันทึก)", bold=True)])
    ws.append([_cell(ws, f"{lao.name} รหัส {lao.code} จังหวัด{lao.province or '-'}")])
    ws.append([_cell(ws, f"ช่วงวันที่ {period}")])


def export_xlsx(lao: Lao, entries: Sequence[Entry], date_from: date | None = None,
                date_to: date | None = None, *, now: datetime | None = None) -> bytes:
    """The key-back workbook: all entries, cash receipts, cash payments, daily summary.

    Amounts are numbers formatted ``#,##0.00`` so totals can be checked in Excel; voided
    entries appear in the first sheet marked as voided and are left out of the totals.
    """
    entries = sorted(entries, key=lambda e: (e.date, e.no))
    period = _period(entries, date_from, date_to)
    wb = Workbook(write_only=True)

    ws = _sheet(wb, "รายการทั้งหมด", (7, 13, 7, 14, 40, 10, 15, 18, 30, 14))
    _title_rows(ws, "รายการรับ-จ่ายสำหรับคีย์ย้อนหลังเข้า e-LAAS", lao, period)
    ws.append([_cell(ws, h, bold=True) for h in HEADERS])
    for e in entries:
        row = entry_row(e)
        ws.append([_cell(ws, v, money=(i == 6)) for i, v in enumerate(row)])
    ws.freeze_panes = "A5"

    live = [e for e in entries if not e.voided]
    for kind, title in (("receipt", "เงินสดรับ"), ("payment", "เงินสดจ่าย")):
        sheet = _sheet(wb, title, (7, 13, 14, 40, 10, 15, 16), landscape=False)
        _title_rows(sheet, f"สมุด{title}", lao, period)
        sheet.append([_cell(sheet, h, bold=True) for h in
                      ("ลำดับ", "วันที่", "เลขที่เอกสาร", "รายการ", "วิธี", "จำนวนเงิน",
                       "ยอดสะสม")])  # fmt: skip
        running = Decimal(0)
        for e in (x for x in live if x.kind == kind):
            running += e.amount
            sheet.append([_cell(sheet, v) for v in (
                e.no, thai_date_numeric(e.date), safe_cell(e.doc_no or ""),
                safe_cell(e.description), METHOD_TH.get(e.method or "", ""))]
                + [_cell(sheet, e.amount, money=True), _cell(sheet, running, money=True)])
        sheet.append([_cell(sheet, "")] * 4 + [_cell(sheet, "รวม", bold=True),
                                               _cell(sheet, running, money=True)])
        sheet.append([_cell(sheet, f"({amount_in_words(running)})")])

    days = _sheet(wb, "สรุปรายวัน", (14, 16, 16, 16, 16, 16, 16), landscape=False)
    _title_rows(days, "สรุปรับ-จ่ายรายวัน", lao, period)
    days.append([_cell(days, h, bold=True) for h in
                 ("วันที่", "รับ", "จ่าย", "สุทธิ", "รับสะสม", "จ่ายสะสม", "คงเหลือสะสม")])
    cum_r = cum_p = Decimal(0)
    for d, rec, pay in daily_totals(live):
        cum_r += rec
        cum_p += pay
        days.append([_cell(days, thai_date_numeric(d))]
                    + [_cell(days, v, money=True) for v in (rec, pay, rec - pay, cum_r, cum_p,
                                                            cum_r - cum_p)])
    days.append([_cell(days, "รวม", bold=True)]
                + [_cell(days, v, money=True) for v in (cum_r, cum_p, cum_r - cum_p)])
    stamp = thai_datetime(now) if now else ""
    if stamp:
        days.append([_cell(days, f"ส่งออกเมื่อ {stamp}")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def daily_totals(entries: Sequence[Entry]) -> list[tuple[date, Decimal, Decimal]]:
    """(day, receipts, payments) for each day that has entries, in date order."""
    totals: dict[date, list[Decimal]] = {}
    for e in entries:
        t = totals.setdefault(e.date, [Decimal(0), Decimal(0)])
        t[0 if e.kind == "receipt" else 1] += e.amount
    return [(d, r, p) for d, (r, p) in sorted(totals.items())]


def export_csv(entries: Sequence[Entry]) -> bytes:
    """All entries in date order as CSV, UTF-8 with BOM so Excel shows Thai."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    for e in sorted(entries, key=lambda e: (e.date, e.no)):
        row = entry_row(e)
        row[6] = f"{e.amount:.2f}"
        w.writerow(row)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_file(lao: Lao, entries: Sequence[Entry], fmt: str, date_from: date | None = None,
                date_to: date | None = None, *, now: datetime | None = None) -> FileBlob:
    """The export as a file to send: ``fmt`` is ``xlsx`` or ``csv``."""
    name = export_name(lao, date_from, date_to, now)
    if fmt == "csv":
        return FileBlob(export_csv(entries), f"{name}.csv", CSV_MIME)
    if fmt == "xlsx":
        data = export_xlsx(lao, entries, date_from, date_to, now=now)
        return FileBlob(data, f"{name}.xlsx", XLSX_MIME)
    raise ValueError(f"unknown export format {fmt!r}")


def export_name(lao: Lao, date_from: date | None, date_to: date | None,
                now: datetime | None = None) -> str:
    """``elaas-CODE-20240701-20240731`` for a range (one date for a day), else the export day."""
    if date_from and date_to:
        span = f"{date_from:%Y%m%d}" + ("" if date_from == date_to else f"-{date_to:%Y%m%d}")
        return f"elaas-{lao.code}-{span}"
    return f"elaas-{lao.code}-{(now or datetime.now()):%Y%m%d}"
