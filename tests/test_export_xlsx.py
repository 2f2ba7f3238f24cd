"""The key-back XLSX: Buddhist-era date cells, frozen headers, formulas with cached results."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from bot.forms.catalog import render_filled
from bot.ledger.entries import Lao
from bot.ledger.export import BE_DATE, brought_forward, export_xlsx
from bot.qa.knowledge import default_knowledge_dir
from handlers.app import Core, form_catalog
from tests.conftest import Say, make_lao_admin

CODE = "01234567"
TYPED = (
    "รับ 1,000 ค่าขยะ 1/7/2567",
    "จ่าย 300 ค่าน้ำมัน 1/7/2567",
    "รับ 500 ค่าธรรมเนียม 2/7/2567",
    "รับ 999 ผิด 2/7/2567",  # voided below: in no total
    "จ่าย 150.50 ค่าน้ำดื่ม 2/7/2567",
    "รับ 2,000 ค่าเช่าตลาด 3/7/2567",
)


@pytest.fixture
def books(core: Core, say: Say) -> tuple[Workbook, Workbook]:
    """The export of 2-3 Jul 2567 from chat: (formulas, cached values)."""
    make_lao_admin(core, "console:u1", CODE)
    for line in TYPED:
        assert "บันทึกแล้ว" in say(line, user="u1")[0].text
    say("ยกเลิก 4 พิมพ์ผิด", user="u1")
    r = say("ส่งออก 2/7/2567-3/7/2567", user="u1")[0]
    assert r.file is not None
    assert r.file.filename == f"elaas-{CODE}-20240702-20240703.xlsx"
    return (openpyxl.load_workbook(io.BytesIO(r.file.data)),
            openpyxl.load_workbook(io.BytesIO(r.file.data), data_only=True))


def _row_of(ws: Any, col: str, text: str) -> int:
    return next(c.row for c in ws[col] if c.value == text)


def test_dates_are_real_date_cells_shown_in_the_buddhist_era(
    books: tuple[Workbook, Workbook],
) -> None:
    formulas, _ = books
    for title, col in (("รายการทั้งหมด", "B"), ("เงินสดรับ", "B"), ("สรุปรายวัน", "A")):
        ws = formulas[title]
        cells = [c for c in ws[col][4:] if isinstance(c.value, datetime)]
        assert cells, title
        for c in cells:
            assert c.is_date and c.number_format == BE_DATE
        assert cells[0].value.date() == date(2024, 7, 2)
    assert BE_DATE == "[$-107041E]d mmm yyyy"  # th-TH, Thai Buddhist calendar (07)


def test_titles_are_merged_across_the_table_and_headers_frozen(
    books: tuple[Workbook, Workbook],
) -> None:
    formulas, _ = books
    widths = {"รายการทั้งหมด": "J", "เงินสดรับ": "G", "เงินสดจ่าย": "G", "สรุปรายวัน": "G"}
    for title, last in widths.items():
        ws = formulas[title]
        merged = {str(r) for r in ws.merged_cells.ranges}
        assert {f"A1:{last}1", f"A2:{last}2", f"A3:{last}3"} <= merged, title
        assert ws.freeze_panes == "A5", title
        assert "แบบช่วยบันทึก" in ws["A1"].value and "2 ก.ค. 2567" in ws["A3"].value


def test_totals_are_formulas_whose_values_are_stored(books: tuple[Workbook, Workbook]) -> None:
    formulas, values = books
    main, cached = formulas["รายการทั้งหมด"], values["รายการทั้งหมด"]
    rec = _row_of(main, "F", "รวมรับ")
    assert main[f"G{rec}"].value.startswith("=SUMIFS(G5:G8,C5:C8,\"รับ\",I5:I8,\"\")")
    assert Decimal(str(cached[f"G{rec}"].value)) == Decimal("2500")  # the voided 999 left out
    assert Decimal(str(cached[f"G{rec + 1}"].value)) == Decimal("150.50")
    assert main[f"G{rec + 2}"].value == f"=G{rec}-G{rec + 1}"
    assert Decimal(str(cached[f"G{rec + 2}"].value)) == Decimal("2349.50")
    book = formulas["เงินสดรับ"]
    total = _row_of(book, "E", "รวม")
    assert book[f"F{total}"].value == f"=SUM(F5:F{total - 1})"
    assert Decimal(str(values["เงินสดรับ"][f"F{total}"].value)) == Decimal("2500")
    # every formula anywhere has its result stored for readers without a formula engine
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert values[ws.title][c.coordinate].value is not None, c.coordinate


def test_daily_summary_brings_forward_what_the_bot_recorded_the_report_leaves_it_blank(
    core: Core, books: tuple[Workbook, Workbook],
) -> None:
    formulas, values = books
    days, cached = formulas["สรุปรายวัน"], values["สรุปรายวัน"]
    assert days["A5"].value == "ยอดยกมา"
    assert Decimal(str(days["G5"].value)) == Decimal("700")  # 1 Jul: 1,000 - 300
    day2 = next(c.row for c in days["A"] if isinstance(c.value, datetime)
                and c.value.date() == date(2024, 7, 2))
    assert days[f"G{day2}"].value == f"=G{day2 - 1}+D{day2}"
    end_of_2nd = Decimal(str(cached[f"G{day2}"].value))
    assert end_of_2nd == Decimal("1049.50")
    entries = core.book.ledger(CODE).entries()
    lao = core.book.directory.lao(CODE)
    assert lao is not None
    for day, opening in ((date(2024, 7, 2), Decimal("700")), (date(2024, 7, 3), end_of_2nd)):
        report = form_catalog(default_knowledge_dir().resolve()).get("daily-cash-report")
        assert report is not None
        blob = render_filled(report, "xlsx", lao=lao, entries=entries, date_from=day,
                             date_to=day)
        texts = [str(c.value) for ws in openpyxl.load_workbook(io.BytesIO(blob.data)).worksheets
                 for row in ws.iter_rows() for c in row if c.value is not None]
        # The signed report leaves the opening balance for the clerk (the bot never knows the
        # cash held before its first entry); the export's working summary brings forward what
        # the bot recorded, and says so in the README.
        assert not any(re.search(r"ยอดยกมา [\d,.]+", t) for t in texts), texts
        assert brought_forward(entries, day) == opening
        # and an export that starts on that day brings the same balance forward
        data = export_xlsx(lao, [e for e in entries if e.date >= day], day, day,
                           opening=brought_forward(entries, day))
        assert Decimal(str(openpyxl.load_workbook(io.BytesIO(data))["สรุปรายวัน"]["G5"].value)) \
            == opening


def test_title_rows_are_text_like_every_cell() -> None:
    # an XLSX string cell is never evaluated: the name stays as typed (no apostrophe to copy)
    lao = Lao("01234567", "=HYPERLINK(\"http://x\",\"y\")", "-cmd")
    wb = openpyxl.load_workbook(io.BytesIO(export_xlsx(lao, [])))
    for ws in wb.worksheets:
        for c in (ws["A1"], ws["A2"], ws["A3"]):
            assert c.data_type == "s"
        assert ws["A2"].value.startswith("=HYPERLINK") and ws["A2"].quotePrefix
