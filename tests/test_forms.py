"""Form catalog, blank and pre-filled forms (PDF and XLSX), formula safety and Thai shaping.

Over 500 lines: every form shares the catalog fixtures and the PDF/XLSX readers here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.cells import safe_cell
from bot.forms.catalog import (
    FORMS_DIR,
    GUIDE_TOPICS,
    MIME_TYPES,
    PENDING_ROWS,
    CatalogError,
    FormDef,
    check_catalog,
    load_catalog,
    render_blank,
    render_filled,
    render_pending,
    render_text_sample,
)
from bot.forms.model import HELPER_LABEL
from bot.ledger.entries import Entry, Lao, Void
from bot.notices.status import BANGKOK

DATA = Path(__file__).parent / "data"
SHAPING_REFERENCE = DATA / "shaping_reference.pgm"
SHAPING_TEXT = "ผู้ใหญ่ที่นี่ ฝั่งญี่ปุ่น ซึ่งป่ำ"
EXPECTED_IDS = {
    "cash-receipts-book",
    "cash-payments-book",
    "receipt-control-register",
    "remittance-slip",
    "revenue-register",
    "budget-control-register",
    "daily-cash-report",
    "keyback-worksheet",
}
FILLABLE = {"cash-receipts-book", "cash-payments-book", "daily-cash-report", "keyback-worksheet"}
LAO = Lao("5340101", "องค์การบริหารส่วนตำบลบ้านใหม่", "ลำปาง")
JULY = date(2024, 7, 1)

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None,
    reason="pdftoppm not installed (apt-get install poppler-utils); CI installs it",
)

CATALOG = load_catalog(FORMS_DIR)


def form(form_id: str) -> FormDef:
    found = CATALOG.get(form_id)
    assert found is not None, form_id
    return found


def entry(
    no: int,
    kind: str = "receipt",
    amount: str = "100",
    day: int = 1,
    *,
    description: str = "ค่าธรรมเนียมเก็บขยะ",
    voided: bool = False,
    keyed: bool = False,
    lao_code: str = LAO.code,
    method: str | None = "cash",
) -> Entry:
    return Entry(
        lao_code=lao_code,
        no=no,
        kind=kind,  # type: ignore[arg-type]
        amount=Decimal(amount),
        description=description,
        date=JULY + timedelta(days=day - 1),
        doc_no=f"บร.{no}/2567",
        method=method,  # type: ignore[arg-type]
        author="telegram:1",
        author_name="สมศรี",
        recorded_at=datetime(2024, 7, 1, 9, 0),
        event_id=f"e{no}",
        void=Void("telegram:1", datetime(2024, 7, 2), "ผิด") if voided else None,
        keyed_at=datetime(2024, 8, 1) if keyed else None,
    )


def sheet(data: bytes) -> Worksheet:
    ws = load_workbook(BytesIO(data)).active
    assert isinstance(ws, Worksheet)
    return ws


def header_row(ws: Worksheet, f: FormDef) -> int:
    first_title = f.columns[0].title
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == first_title:
            return int(row[0].row)
    raise AssertionError("table header row not found")


def table_rows(ws: Worksheet, f: FormDef) -> list[dict[str, object]]:
    """The data rows under the header, as column key -> value, up to the first empty row."""
    keys = [c.key for c in f.columns]
    out = []
    for values in ws.iter_rows(min_row=header_row(ws, f) + 1, values_only=True):
        if all(v is None for v in values[: len(keys)]):
            break
        out.append(dict(zip(keys, values, strict=False)))
    return out


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Parse a binary PGM (P5) image: width, height, one byte per pixel."""
    tokens: list[bytes] = []
    i = 0
    while len(tokens) < 4:
        while data[i : i + 1].isspace():
            i += 1
        if data[i : i + 1] == b"#":
            while data[i : i + 1] not in (b"\n", b""):
                i += 1
            continue
        j = i
        while not data[j : j + 1].isspace():
            j += 1
        tokens.append(data[i:j])
        i = j
    assert tokens[0] == b"P5" and int(tokens[3]) == 255, "only 8-bit binary PGM"
    width, height = int(tokens[1]), int(tokens[2])
    return width, height, data[i + 1 : i + 1 + width * height]


def rasterise(pdf: bytes, tmp_path: Path, dpi: int = 40, name: str = "page") -> bytes:
    """First page of a PDF as grey PGM bytes, via pdftoppm."""
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-f", "1", "-l", "1", src, tmp_path / name],
        check=True,
        capture_output=True,
    )
    (out,) = tmp_path.glob(f"{name}*.pgm")
    data = out.read_bytes()
    out.unlink()
    return data


def pdf_text(pdf: bytes, tmp_path: Path, page: int | None = None) -> str:
    src = tmp_path / "text.pdf"
    src.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    result = subprocess.run(
        ["pdftotext", *pages, "-layout", src, "-"], check=True, capture_output=True, text=True
    )
    return result.stdout


# --- catalog ------------------------------------------------------------------------------------


def test_catalog_has_exactly_the_expected_forms() -> None:
    assert set(CATALOG.ids()) == EXPECTED_IDS
    assert len(CATALOG) == len(EXPECTED_IDS)
    assert {f.id for f in CATALOG.all() if f.fillable} == FILLABLE
    assert CATALOG.ids()[0] == "cash-receipts-book"  # the "order" field, not file names
    assert CATALOG.get("no-such-form") is None
    assert "daily-cash-report" in CATALOG


def test_shipped_catalog_is_clean() -> None:
    assert check_catalog(FORMS_DIR, set(GUIDE_TOPICS)) == []


def test_catalog_fields() -> None:
    daily = form("daily-cash-report")
    assert daily.signatures.count("กรรมการเก็บรักษาเงิน") == 3
    assert daily.count_section is not None and "เงินสด" in daily.count_section.lines
    for f in CATALOG:
        assert f.name and f.purpose and f.columns and f.signatures and f.header_fields
        assert set(f.guide_topics) <= GUIDE_TOPICS
        assert f.official_file is None  # none shipped
        assert "อปท." in f.header_fields


def write(dir_: Path, name: str, text: str) -> None:
    (dir_ / name).write_text(text, encoding="utf-8")


def form_yaml(form_id: str, **extra: str) -> str:
    lines = [
        f"id: {form_id}",
        "name: แบบทดสอบ",
        "purpose: ใช้ทดสอบ",
        "guide_topics: [guide.receive]",
        "orientation: portrait",
        "fillable: false",
        "blank_rows: 3",
        "header_fields: [อปท.]",
        "columns:",
        "  - {key: date, title: วันที่, width: 10, align: center, kind: date}",
        "  - {key: amount, title: จำนวนเงิน, width: 10, align: right, kind: amount}",
        "signatures: [ผู้บันทึก]",
        "reviewed: 2026-11-25",
    ]
    for key, value in extra.items():
        lines = [line for line in lines if not line.startswith(f"{key}:")]
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def test_every_sheet_name_fits_excel_whole_words() -> None:
    """The tester's report: "ทะเบียนคุมเงินรายจ่ายตามงบประมา" (the name cut at Excel's 31)."""
    for f in CATALOG:
        assert len(f.sheet_name) <= 31 and f.sheet_name in (f.name, f.label), f.id
    assert form("budget-control-register").sheet_name == "ทะเบียนคุมงบรายจ่าย"
    assert form("cash-receipts-book").sheet_name == "สมุดเงินสดรับ"


def test_a_long_name_needs_a_label_for_the_sheet(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", form_yaml("x", name="ทะเบียนคุมเงินรายจ่ายตามงบประมาณ"))
    (problem,) = check_catalog(tmp_path)
    assert "31" in problem.message and "label" in problem.message
    write(tmp_path, "x.yaml", form_yaml("x", name="ทะเบียนคุมเงินรายจ่ายตามงบประมาณ",
                                         label="ทะเบียนคุมงบรายจ่าย"))
    assert check_catalog(tmp_path) == []


def test_check_catalog_reports_file_line_and_form(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", form_yaml("good"))
    write(tmp_path, "zz-dup.yaml", form_yaml("good"))  # sorted after good.yaml
    write(tmp_path, "topic.yaml", form_yaml("topic", guide_topics="[guide.nothing]"))
    write(tmp_path, "official.yaml", form_yaml("official", official_file="missing.pdf"))
    write(tmp_path, "cash-receipts-book.yaml", form_yaml("cash-receipts-book", fillable="true"))
    write(tmp_path, "broken.yaml", "id: broken\nname: [unclosed\n")
    write(
        tmp_path,
        "badcol.yaml",
        form_yaml("badcol").replace("align: right", "align: middle"),
    )
    problems = check_catalog(tmp_path, {"guide.receive"})
    by_file = {Path(p.file).name: p for p in problems}
    dup = [p.message for p in problems if Path(p.file).name == "zz-dup.yaml"]
    assert dup[0] == "file should be named good.yaml"
    assert dup[1].startswith("duplicate form id")
    assert by_file["topic.yaml"].message == "unknown guide topic 'guide.nothing'"
    assert by_file["topic.yaml"].topic == "topic"
    assert "official_file not found" in by_file["official.yaml"].message
    assert "lacks columns" in by_file["cash-receipts-book.yaml"].message
    assert "running" in by_file["cash-receipts-book.yaml"].message
    assert "invalid YAML" in by_file["broken.yaml"].message
    assert by_file["badcol.yaml"].line == 11  # the line of the bad column item
    assert "align" in by_file["badcol.yaml"].message
    assert "good.yaml" not in by_file
    # without known topics only the topic id syntax is checked
    assert not any("unknown guide topic" in p.message for p in check_catalog(tmp_path, None))


def test_check_catalog_missing_and_unknown_fields(tmp_path: Path) -> None:
    text = form_yaml("x").replace("purpose: ใช้ทดสอบ\n", "") + "colour: red\n"
    write(tmp_path, "x.yaml", text)
    messages = {p.message: p.line for p in check_catalog(tmp_path)}
    assert messages["missing field 'purpose'"] == 1
    assert messages["unknown field 'colour'"] == text.count("\n")


def test_yaml_boolean_key_is_explained(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", form_yaml("x").replace("key: date", "key: no"))
    (problem,) = check_catalog(tmp_path)
    assert "true/false" in problem.message


def test_load_catalog_raises_on_schema_errors(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", form_yaml("x", orientation="sideways"))
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert info.value.problems[0].line == 13  # form_yaml() appends the replaced field


# --- blank forms --------------------------------------------------------------------------------


@pytest.mark.parametrize("form_id", sorted(EXPECTED_IDS))
def test_blank_xlsx_has_header_titles_and_print_setup(form_id: str) -> None:
    f = form(form_id)
    blob = render_blank(f, "xlsx")
    assert blob.mime_type == MIME_TYPES["xlsx"]
    assert blob.filename == f"{form_id}-blank.xlsx"
    ws = sheet(blob.data)
    row = header_row(ws, f)
    assert [ws.cell(row=row, column=i + 1).value for i in range(len(f.columns))] == [
        c.title for c in f.columns
    ]
    assert ws.cell(row=row, column=1).font.bold
    assert ws["A1"].value == f.name
    assert ws["A2"].value == HELPER_LABEL
    assert ws.title == f.sheet_name and len(ws.title) <= 31
    assert int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.orientation == f.orientation
    assert ws.print_title_rows == f"${row}:${row}"
    assert ws.print_area
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # the blank rows have borders
    assert ws.cell(row=row + f.blank_rows, column=1).border.left.style == "thin"


@pytest.mark.parametrize("form_id", sorted(EXPECTED_IDS))
def test_blank_pdf_is_a4_and_not_blank(form_id: str, tmp_path: Path) -> None:
    f = form(form_id)
    blob = render_blank(f, "pdf")
    assert blob.mime_type == "application/pdf"
    assert blob.filename == f"{form_id}-blank.pdf"
    assert blob.data.startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (apt-get install poppler-utils); CI installs it")
    width, height, pixels = read_pgm(rasterise(blob.data, tmp_path))
    a4 = (round(210 / 25.4 * 40), round(297 / 25.4 * 40))
    assert abs(width - (a4[1] if f.orientation == "landscape" else a4[0])) <= 1
    assert abs(height - (a4[0] if f.orientation == "landscape" else a4[1])) <= 1
    dark = sum(1 for p in pixels if p < 160)
    assert dark > 0.01 * width * height, "page looks blank"


def test_blank_with_lao_fills_the_header() -> None:
    ws = sheet(render_blank(form("remittance-slip"), "xlsx", lao=LAO).data)
    texts = [ws.cell(row=r, column=1).value for r in range(1, 10)]
    assert f"อปท. {LAO.name}" in texts
    assert f"จังหวัด {LAO.province}" in texts
    assert any(str(t).startswith("วันที่ ....") for t in texts)  # no date on a blank form
    assert render_blank(form("remittance-slip"), "pdf", lao=LAO).filename == (
        "remittance-slip-5340101-blank.pdf"
    )


def test_official_file_replaces_the_generated_form(tmp_path: Path) -> None:
    text = (FORMS_DIR / "remittance-slip.yaml").read_text(encoding="utf-8")
    write(tmp_path, "remittance-slip.yaml", text + "official_file: official/slip.pdf\n")
    (tmp_path / "official").mkdir()
    official = b"%PDF-1.4 official form"
    (tmp_path / "official" / "slip.pdf").write_bytes(official)
    assert check_catalog(tmp_path) == []
    f = load_catalog(tmp_path).get("remittance-slip")
    assert f is not None
    blob = render_blank(f, "pdf", lao=LAO)
    assert blob.data == official
    assert blob.mime_type == "application/pdf"
    assert blob.filename.endswith(".pdf")
    # no official XLSX: the helper layout is generated
    assert sheet(render_blank(f, "xlsx").data)["A1"].value == f.name


def test_official_file_outside_the_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "x.yaml", form_yaml("x", official_file="../secret.pdf"))
    (problem,) = check_catalog(tmp_path)
    assert "inside the folder" in problem.message


# --- filled forms -------------------------------------------------------------------------------


def ledger() -> list[Entry]:
    return [
        entry(1, "receipt", "1500", day=2),
        entry(2, "payment", "700.50", day=2),
        entry(3, "receipt", "250.25", day=1),
        entry(4, "receipt", "999", day=1, voided=True),
        entry(5, "receipt", "120", day=3, keyed=True),
        entry(6, "receipt", "80", day=9),  # out of range
        entry(7, "payment", "300", day=3, voided=True),
        entry(8, "receipt", "45.75", day=2, method=None),
    ]


def fill(form_id: str, fmt: str = "xlsx", **kw: object) -> bytes:
    args: dict[str, object] = {
        "lao": LAO,
        "entries": ledger(),
        "date_from": JULY,
        "date_to": JULY + timedelta(days=4),
    }
    args.update(kw)
    return render_filled(form(form_id), fmt, **args).data  # type: ignore[arg-type]


def test_cash_receipts_book_total_equals_non_voided_receipts_in_range() -> None:
    expected = [e for e in ledger() if e.kind == "receipt" and not e.voided and e.date.day <= 5]
    total = sum((e.amount for e in expected), Decimal(0))
    f = form("cash-receipts-book")
    ws = sheet(fill("cash-receipts-book"))
    rows = table_rows(ws, f)
    data, total_row = rows[:-1], rows[-1]
    assert [r["description"] for r in data] == [e.description for e in expected]
    # date then entry number order: no. 3 (1 Jul), 1 and 8 (2 Jul), 5 (3 Jul)
    assert [r["doc_no"] for r in data] == ["บร.3/2567", "บร.1/2567", "บร.8/2567", "บร.5/2567"]
    assert [r["date"] for r in data] == ["01/07/2567", "02/07/2567", "02/07/2567", "03/07/2567"]
    assert [r["seq"] for r in data] == [1, 2, 3, 4]
    assert [r["method"] for r in data] == ["เงินสด", "เงินสด", None, "เงินสด"]
    assert total_row["seq"] == "รวม"
    assert Decimal(str(total_row["amount"])) == total == Decimal("1916.00")
    assert Decimal(str(data[-1]["running"])) == total
    amount_cell = ws.cell(row=header_row(ws, f) + 1, column=7)
    assert isinstance(amount_cell.value, float | int)
    assert amount_cell.number_format == "#,##0.00"
    notes = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert any("หนึ่งพันเก้าร้อยสิบหกบาทถ้วน" in str(n) for n in notes)
    assert any("ยกเลิกแล้ว 1 รายการ" in str(n) for n in notes)


def test_cash_payments_book_lists_payments_only() -> None:
    f = form("cash-payments-book")
    rows = table_rows(sheet(fill("cash-payments-book")), f)
    assert len(rows) == 2
    assert Decimal(str(rows[0]["amount"])) == Decimal("700.50")
    assert Decimal(str(rows[-1]["amount"])) == Decimal("700.50")  # total row


def test_daily_cash_report_balances() -> None:
    f = form("daily-cash-report")
    ws = sheet(fill("daily-cash-report", opening_balance=Decimal("10000")))
    rows = table_rows(ws, f)
    opening, days, totals = rows[0], rows[1:-1], rows[-1]
    assert opening["date"] == "ยอดยกมา" and Decimal(str(opening["balance"])) == 10000
    assert [d["date"] for d in days] == [f"0{i}/07/2567" for i in range(1, 6)]
    got = [Decimal(str(d["receipts"])) for d in days]
    paid = [Decimal(str(d["payments"])) for d in days]
    assert got == [Decimal("250.25"), Decimal("1545.75"), Decimal("120"), 0, 0]
    assert paid == [0, Decimal("700.50"), 0, 0, 0]
    assert Decimal(str(days[-1]["balance"])) == Decimal("10000") + sum(got) - sum(paid)
    assert Decimal(str(totals["net"])) == sum(got) - sum(paid)
    texts = [str(ws.cell(row=r, column=1).value) for r in range(1, ws.max_row + 1)]
    assert "ผลการตรวจนับเงินคงเหลือ" in texts
    assert sum("กรรมการเก็บรักษาเงิน" in str(c.value) for row in ws.iter_rows() for c in row) == 3


def test_daily_cash_report_single_day_has_no_total_row() -> None:
    f = form("daily-cash-report")
    day = JULY + timedelta(days=1)
    ws = sheet(fill("daily-cash-report", date_from=day, date_to=day,
                    opening_balance=Decimal("250.25")))
    rows = table_rows(ws, f)
    assert len(rows) == 2
    assert Decimal(str(rows[0]["balance"])) == Decimal("250.25")
    assert Decimal(str(rows[1]["balance"])) == Decimal("1095.50")


def test_daily_cash_report_without_an_opening_balance_leaves_the_balances_blank() -> None:
    """The tester's report: 1,500 received and 45,000 paid printed "ยอดยกมา 0.00" and a closing
    balance of -43,500.00 ready to sign. The bot never knows the cash held before the clerk
    started logging (earlier entries are not a balance), so the balances are the clerk's."""
    f = form("daily-cash-report")
    day = JULY + timedelta(days=20)
    entries = [entry(1, "receipt", "1500", day=21), entry(2, "payment", "45000", day=21)]
    ws = sheet(fill("daily-cash-report", entries=entries, date_from=day, date_to=day))
    rows = table_rows(ws, f)
    assert rows[0]["date"] == "ยอดยกมา" and rows[0]["balance"] in (None, "")
    assert Decimal(str(rows[1]["receipts"])) == 1500 and Decimal(str(rows[1]["payments"])) == 45000
    assert rows[1]["balance"] in (None, "")
    texts = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "43,500" not in texts and "ติดลบ" not in texts and "ยอดยกมา 0.00" not in texts
    assert "บอทไม่ทราบยอดยกมา" in texts


def test_keyback_worksheet_lists_unkeyed_live_entries() -> None:
    f = form("keyback-worksheet")
    rows = table_rows(sheet(fill("keyback-worksheet")), f)
    assert [r["entry_no"] for r in rows] == [3, 1, 2, 8]
    assert [r["kind"] for r in rows] == ["รับ", "รับ", "จ่าย", "รับ"]
    assert all(r["keyed"] == "☐" for r in rows)


def test_pending_worksheet_lists_every_entry_still_to_key_whatever_its_date() -> None:
    """The tester's report: the worksheet "for today" left out entry 3 of 1 Dec, still to key."""
    f = form("keyback-worksheet")
    sheet_ = render_pending(f, "xlsx", lao=LAO, pending=ledger(),
                            printed_at=datetime(2024, 7, 20, 9, 0, tzinfo=BANGKOK))
    rows = table_rows(sheet(sheet_.file.data), f)
    assert [r["entry_no"] for r in rows] == [3, 1, 2, 8, 6]  # oldest first, day 9 too
    assert [e.no for e in sheet_.shown] == [3, 1, 2, 8, 6] and sheet_.left == 0
    assert sheet_.file.filename == "keyback-worksheet-5340101-pending-20240720.xlsx"
    texts = cell_texts(sheet(sheet_.file.data))
    assert "1 กรกฎาคม" in texts and "9 กรกฎาคม" in texts  # the period the entries span
    with pytest.raises(ValueError):
        render_pending(form("cash-receipts-book"), "pdf", lao=LAO, pending=[],
                       printed_at=datetime(2024, 7, 20, tzinfo=BANGKOK))


def test_pending_worksheet_says_how_many_are_left_off() -> None:
    many = [entry(i, "receipt", "10", day=1 + i % 28) for i in range(PENDING_ROWS + 7, 0, -1)]
    f = form("keyback-worksheet")
    got = render_pending(f, "xlsx", lao=LAO, pending=many,
                         printed_at=datetime(2024, 7, 30, tzinfo=BANGKOK))
    rows = table_rows(sheet(got.file.data), f)
    assert len(rows) == PENDING_ROWS and got.left == 7
    oldest = sorted(many, key=lambda e: (e.date, e.no))[:PENDING_ROWS]
    assert [r["entry_no"] for r in rows] == [e.no for e in oldest]
    assert "ยังเหลืออีก 7 รายการ" in cell_texts(sheet(got.file.data))


def cell_texts(ws: Worksheet) -> str:
    return " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def test_filled_pdf_shows_amounts_and_page_numbers(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils); CI installs it")
    text = pdf_text(fill("cash-receipts-book", "pdf"), tmp_path)
    for amount in ("1,500.00", "250.25", "1,916.00"):
        assert amount in text
    assert "999.00" not in text  # voided
    assert "1/1" in text


@pytest.mark.parametrize("count", range(15, 24))
def test_the_signatures_never_sit_alone_on_a_page(tmp_path: Path, count: int) -> None:
    """The tester's report: a full receipts book (17 rows) put the signatures alone on page 2;
    the last row (the total) keeps the notes and signatures company."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils); CI installs it")
    many = [entry(i, "receipt", "100", day=1) for i in range(1, count + 1)]
    data = fill("cash-receipts-book", "pdf", entries=many)
    pages = pdf_text(data, tmp_path).split("\f")
    signed = [p for p in pages if "ลงชื่อ" in p]
    assert len(signed) == 1 and f"{count * 100:,}.00" in signed[0].split("รวมรับทั้งสิ้น")[0]


@pytest.mark.parametrize("form_id", sorted(FILLABLE))
def test_no_page_of_a_filled_form_holds_a_total_without_a_data_row(tmp_path: Path,
                                                                   form_id: str) -> None:
    """The tester's report: 17 to 23 receipts put the total row ("รวม") and the signatures
    alone on page 2. The last data row keeps the rows after it (totals) company: every page
    after the first lists an entry (its document number, "บร.") or a day (its date)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils); CI installs it")
    daily = form_id == "daily-cash-report"  # one row per day, not per entry
    row_mark = re.compile(r"\d{1,2} [ก-ฮ]\.[ก-ฮ]\. 2567" if daily else r"บร\.\d+/2567")
    kind = "payment" if form_id == "cash-payments-book" else "receipt"
    widowed = []
    for count in range(14, 26):  # around the first page's end in every form
        many = [entry(i, kind, "100", day=1) for i in range(1, count + 1)]
        last_day = JULY + timedelta(days=count - 1 if daily else 0)
        text = pdf_text(fill(form_id, "pdf", entries=many, date_to=last_day), tmp_path)
        pages = [p for p in text.split("\f") if p.strip()]
        assert sum(len(row_mark.findall(p)) for p in pages) == count  # every row drawn once
        widowed += [(count, n) for n, p in enumerate(pages, 1) if n > 1 and not row_mark.search(p)]
    assert widowed == []


@pytest.mark.parametrize("form_id", sorted(EXPECTED_IDS))
def test_every_form_carries_the_lao_name_code_and_province(form_id: str) -> None:
    """The tester's report: the budget control register lacked the code and the province."""
    texts = cell_texts(sheet(render_blank(form(form_id), "xlsx", lao=LAO).data))
    assert LAO.name in texts and LAO.code in texts and LAO.province in texts


def test_long_pdf_repeats_the_header_row(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (apt-get install poppler-utils); CI installs it")
    many = [entry(i, "receipt", "10", day=1 + i % 5) for i in range(1, 121)]
    data = fill("cash-receipts-book", "pdf", entries=many)
    page2 = pdf_text(data, tmp_path, page=2).replace(" ", "")
    assert "(บาท)" in page2  # the amount column titles
    assert "1,200.00" in pdf_text(data, tmp_path)


def test_filled_filenames_and_mime() -> None:
    f = form("cash-receipts-book")
    blob = render_filled(
        f, "xlsx", lao=LAO, entries=[], date_from=JULY, date_to=JULY + timedelta(days=4)
    )
    assert blob.filename == "cash-receipts-book-5340101-20240701-20240705.xlsx"
    assert blob.mime_type == MIME_TYPES["xlsx"]
    one = render_filled(f, "pdf", lao=LAO, entries=[], date_from=JULY, date_to=JULY)
    assert one.filename == "cash-receipts-book-5340101-20240701.pdf"


def test_render_filled_refuses_bad_requests() -> None:
    with pytest.raises(ValueError):
        render_filled(
            form("revenue-register"), "pdf", lao=LAO, entries=[], date_from=JULY, date_to=JULY
        )
    with pytest.raises(ValueError):
        render_filled(
            form("cash-receipts-book"),
            "pdf",
            lao=LAO,
            entries=[],
            date_from=JULY,
            date_to=JULY - timedelta(days=1),
        )
    with pytest.raises(ValueError):
        render_filled(
            form("cash-receipts-book"),
            "xlsx",
            lao=LAO,
            entries=[entry(1, lao_code="9999999")],
            date_from=JULY,
            date_to=JULY,
        )
    with pytest.raises(ValueError):
        render_blank(form("cash-receipts-book"), "docx")  # type: ignore[arg-type]


# --- spreadsheet formula safety -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+66812345678", "'+66812345678"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("ค่าขยะ =1", "ค่าขยะ =1"),
        ("", ""),
        ("a\x00b", "ab"),
    ],
)
def test_safe_cell(value: str, expected: str) -> None:
    assert safe_cell(value) == expected


def test_formula_in_description_is_text_in_xlsx() -> None:
    f = form("cash-receipts-book")
    entries = [
        entry(1, description="=SUM(A1)"),
        entry(2, description='=HYPERLINK("http://x","y")'),
    ]
    ws = sheet(fill("cash-receipts-book", entries=entries))
    row = header_row(ws, f) + 1
    col = [c.key for c in f.columns].index("description") + 1
    first, second = ws.cell(row=row, column=col), ws.cell(row=row + 1, column=col)
    assert first.value == "'=SUM(A1)"
    assert first.data_type == "s"
    assert second.data_type == "s"
    assert str(second.value).startswith("'=")


# --- Thai shaping -------------------------------------------------------------------------------


def ink_difference(a: bytes, b: bytes) -> float:
    """Sum of absolute pixel differences relative to the ink of ``a`` (0 = identical)."""
    wa, ha, pa = read_pgm(a)
    wb, hb, pb = read_pgm(b)
    if (wa, ha) != (wb, hb):
        return float("inf")
    ink = sum(255 - p for p in pa)
    assert ink > 0, "reference image is blank"
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / ink


@needs_poppler
def test_thai_shaping_matches_reference(tmp_path: Path) -> None:
    shaped = rasterise(render_text_sample(SHAPING_TEXT), tmp_path, dpi=100, name="on")
    if os.environ.get("ELAAS_REGEN_SHAPING_REF") == "1":  # inspect the image by eye first
        SHAPING_REFERENCE.write_bytes(shaped)
    reference = SHAPING_REFERENCE.read_bytes()
    unshaped = rasterise(
        render_text_sample(SHAPING_TEXT, shaping=False), tmp_path, dpi=100, name="off"
    )
    same = ink_difference(reference, shaped)
    broken = ink_difference(reference, unshaped)
    # The tolerance absorbs anti-aliasing differences between poppler versions; turning
    # shaping off moves or drops the tone marks (ที่ -> ที), about 9% of the ink.
    assert same < 0.035, f"shaped Thai differs from the reference by {same:.3f}"
    assert broken > 0.06, f"the comparison is not sensitive: unshaped differs by {broken:.3f}"
    assert broken > 2 * same
