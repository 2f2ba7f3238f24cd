"""Lists, key-back marks, periods and exports as a clerk meets them in chat (QA report s6)."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest

from bot.core.contract import Reply
from bot.core.thaifmt import shorten
from bot.ledger.entries import EntryError
from bot.ledger.listing import period_label, read_period
from bot.ledger.summary import Summaries, recount
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say, make_lao_admin

CODE = "01234567"
TODAY = FIXED_NOW.date()  # 15 Jul 2024 = 15 ก.ค. 2567


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.fixture
def clerk(core: Core, say: Say) -> Say:
    make_lao_admin(core, "console:u1", CODE)
    return say


def _saved(clerk: Say, *lines: str, user: str = "u1", name: str = "สมศรี") -> None:
    for line in lines:
        assert "บันทึกแล้ว" in said(clerk(line, user=user, name=name)), line


# --------------------------------------------------------------------------- today


def test_today_shows_what_was_recorded_today_for_an_earlier_date(
    core: Core, clerk: Say,
) -> None:
    # recorded yesterday for the day before: not today's work, never listed under today
    core.engine.clock = lambda: FIXED_NOW - timedelta(days=1)
    _saved(clerk, "รับ 700 ค่าเช่า เมื่อวาน")
    core.engine.clock = lambda: FIXED_NOW
    _saved(clerk, "จ่าย 3,200 ค่าน้ำมัน เช็ค เมื่อวาน")
    for out in (said(clerk(action="cmd:today")), said(clerk("วันนี้"))):
        assert "ยังไม่มีรายการค่ะ" not in out
        assert "ค่าน้ำมัน" in out and "14 ก.ค. 2567" in out and "3,200.00 บาท" in out
        assert "ค่าเช่า" not in out
    _saved(clerk, "รับ 1,500 ค่าขยะ")
    out = said(clerk("วันนี้"))
    assert "ค่าขยะ" in out and "ค่าน้ำมัน" in out
    # the day's totals are the day's own (they match the daily cash report)
    assert "รวมรับ 1,500.00 บาท" in out and "รวมจ่าย 0.00 บาท" in out
    assert out.index("ค่าขยะ") < out.index("ค่าน้ำมัน")  # back-dated: their own section


def test_today_with_nothing_recorded_still_says_so(clerk: Say) -> None:
    assert "ยังไม่มีรายการ" in said(clerk("วันนี้"))


# --------------------------------------------------------------------------- keyed marks


def test_keyed_mark_can_be_undone_by_number_or_range(core: Core, clerk: Say) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ", "รับ 200 ค่าเช่า", "จ่าย 50 ค่าน้ำ", "รับ 300 ค่าปรับ")
    clerk("คีย์แล้ว 1-4")
    out = said(clerk("ยกเลิกคีย์ 2-3"))
    assert "2 รายการ" in out and "ค้างคีย์ 2 รายการ" in out
    out = said(clerk("ยังไม่คีย์ 4"))
    assert "1 รายการ" in out and "ค่าปรับ" in out
    ledger = core.book.ledger(CODE)
    assert [n for n in range(1, 5) if ledger.get(n).keyed] == [1]  # type: ignore[union-attr]
    # an entry that is not marked, a number that does not exist: said, nothing changed
    out = said(clerk("ยกเลิกคีย์ 3 9"))
    assert "ไม่มีรายการที่ 9" in out and "3" in out and "ยังไม่ได้ทำเครื่องหมาย" in out
    # bare words: the pending list (ยังไม่คีย์) and help (ยกเลิกคีย์), never a topic
    assert "ยังไม่ได้คีย์" in said(clerk("ยังไม่คีย์"))
    assert "ยกเลิกคีย์ 3" in said(clerk("ยกเลิกคีย์"))
    # the progress summary follows the undo exactly (keyed count and the day's keyed marks)
    s = Summaries.of(core.store).get(CODE)
    fresh = recount(CODE, ledger.entries(), s.members, s.name, s.province)
    assert s.keyed == 1 and s.counts() == fresh.counts()


def test_keyed_undo_follows_the_keyed_rules(core: Core, clerk: Say) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ")
    clerk("คีย์แล้ว 1")
    inv = core.book.directory.invite(CODE, "member", "cli", FIXED_NOW)
    clerk(f"เข้าร่วม {inv.code}", user="m2")
    assert "1 รายการ" in said(clerk("ยกเลิกคีย์ 1", user="m2"))  # any member, like คีย์แล้ว
    assert not core.book.ledger(CODE).get(1).keyed  # type: ignore[union-attr]
    clerk("คีย์แล้ว 1")
    make_lao_admin(core, "console:x", "07654321")
    clerk("ยกเลิกคีย์ 1", user="x")  # another LAO: its own ledger has no entry 1
    assert core.book.ledger(CODE).get(1).keyed  # type: ignore[union-attr]


def test_keyed_says_what_was_marked_and_how_to_undo(clerk: Say) -> None:
    _saved(clerk, *(f"รับ {100 + i} ค่าขยะ {i + 1}/6/2567" for i in range(12)))
    out = said(clerk("คีย์แล้ว 1-20"))
    assert "ทำเครื่องหมายคีย์แล้ว 12 รายการ" in out and "ไม่มีรายการที่ 13-20" in out
    assert "1 มิ.ย. 2567" in out and "12 มิ.ย. 2567" in out  # the dates covered
    assert "ยกเลิกคีย์ 1-12" in out
    clerk("ยกเลิกคีย์ 1-12")
    out = said(clerk("คีย์แล้ว 3"))  # a few: each one named
    assert "3. 3 มิ.ย. 2567 รับ 102.00 บาท ค่าขยะ" in out and "ยกเลิกคีย์ 3" in out


# --------------------------------------------------------------------------- pending


def test_pending_shows_the_oldest_first_then_how_many_more(clerk: Say) -> None:
    # typed newest first: the list is in the order to key them in (by date)
    _saved(clerk, *(f"รับ {100 + d} ค่าขยะ {d}/6/2567" for d in range(20, 0, -1)))
    out = said(clerk("ค้างคีย์"))
    assert "1 มิ.ย. 2567" in out and "15 มิ.ย. 2567" in out
    assert "16 มิ.ย. 2567" not in out and "20 มิ.ย. 2567" not in out
    assert out.index("1 มิ.ย. 2567") < out.index("15 มิ.ย. 2567")
    assert "อีก 5 รายการ" in out and "ก่อนหน้าอีก" not in out
    assert "พิมพ์: คีย์แล้ว 6-20" in out  # the numbers of the ones shown (typed 20/6 first)


def test_pending_on_an_empty_ledger_says_nothing_is_recorded(clerk: Say) -> None:
    out = said(clerk("ค้างคีย์"))
    assert "ยังไม่มีรายการ" in out and "คีย์เข้า e-LAAS แล้ว" not in out
    _saved(clerk, "รับ 100 ค่าขยะ")
    clerk("ยกเลิก 1 ผิด")
    out = said(clerk("ค้างคีย์"))
    assert "ไม่มีรายการค้างคีย์" in out and "ทุกรายการคีย์เข้า e-LAAS แล้ว" not in out
    _saved(clerk, "รับ 200 ค่าขยะ")
    clerk("คีย์แล้ว 2")
    assert "ทุกรายการคีย์เข้า e-LAAS แล้ว" in said(clerk("ค้างคีย์"))


# --------------------------------------------------------------------------- exports


def test_export_file_name_carries_the_range_of_more_than_one_day(clerk: Say) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ 1/7/2567", "จ่าย 50 ค่าน้ำ 10/7/2567")
    r = clerk("ส่งออก")[0]
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240701-20240710.xlsx"
    assert "1 ก.ค. 2567 - 10 ก.ค. 2567" in r.text
    r = clerk("ส่งออก csv")[0]
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240701-20240710.csv"
    _saved(clerk, "รับ 300 ค่าเช่า เมื่อวาน")
    r = clerk("ส่งออก เมื่อวาน")[0]  # one day: one date, the day's (not the export day's)
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240714.xlsx"


def test_export_of_one_day_of_data_is_named_by_that_day(clerk: Say) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ 1/7/2567")
    r = clerk("ส่งออก")[0]
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240701.xlsx"


def _rows(data: bytes) -> list[list[object]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [[c.value for c in row] for row in wb["รายการทั้งหมด"].iter_rows(min_row=5)]


def test_export_names_the_member_never_the_channel_id(core: Core, clerk: Say) -> None:
    inv = core.book.directory.invite(CODE, "member", "cli", FIXED_NOW)
    clerk(f"เข้าร่วม {inv.code}", user="m2", name="สมชาย")
    _saved(clerk, "รับ 100 ค่าขยะ", user="m2", name="")  # a channel that sent no name
    clerk("ยกเลิก 1 ลงซ้ำ", user="u1")  # voided by the admin สมศรี
    for fmt in ("", " csv"):
        r = clerk(f"ส่งออก{fmt}")[0]
        assert r.file is not None
        text = r.file.data.decode("utf-8-sig") if fmt else repr(_rows(r.file.data))
        assert "console:" not in text
        assert "ยกเลิก: ลงซ้ำ (สมศรี," in text and "สมชาย" in text


def test_xlsx_keeps_formula_like_text_as_typed_and_never_a_formula(clerk: Say) -> None:
    _saved(clerk, "รับ 500 +ค่าปรับ", "จ่าย 20 @ค่าน้ำ")
    clerk("ยกเลิก 2 =1+1")
    r = clerk("ส่งออก")[0]
    assert r.file is not None
    wb = openpyxl.load_workbook(io.BytesIO(r.file.data))
    cells = {c.value: c for row in wb["รายการทั้งหมด"].iter_rows(min_row=5) for c in row
             if isinstance(c.value, str)}
    for typed in ("+ค่าปรับ", "@ค่าน้ำ"):
        assert typed in cells, typed  # no apostrophe to copy into e-LAAS
        assert cells[typed].data_type == "s"
    void = next(v for v in cells if v.startswith("ยกเลิก: =1+1"))
    assert cells[void].data_type == "s"
    receipts = {c.value: c for row in wb["เงินสดรับ"].iter_rows(min_row=5) for c in row}
    assert receipts["+ค่าปรับ"].data_type == "s"
    sheets = zipfile.ZipFile(io.BytesIO(r.file.data))
    xml = "".join(sheets.read(n).decode() for n in sheets.namelist() if "worksheets" in n)
    assert "<f>1+1" not in xml and "ค่าปรับ</f>" not in xml
    # CSV still needs (and keeps) the neutralising apostrophe
    r = clerk("ส่งออก csv")[0]
    assert r.file is not None
    rows = list(csv.reader(io.StringIO(r.file.data.decode("utf-8-sig"))))
    assert "'+ค่าปรับ" in [cell for row in rows for cell in row]


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://x","y")', "=1+1", "-ค่าเช่า", "#N/A"])
def test_xlsx_text_starting_like_a_formula_is_a_string_cell(
    core: Core, clerk: Say, typed: str,
) -> None:
    from bot.ledger.entries import Lao, ParsedEntry
    from bot.ledger.export import export_xlsx

    ledger = core.book.ledger(CODE)
    ledger.add_many([(ParsedEntry("receipt", Decimal("5"), typed, TODAY), "e1")],
                    author="console:u1", author_name="", channel="console", now=FIXED_NOW)
    data = export_xlsx(Lao(CODE, "อบต.ทดสอบ"), ledger.entries(), now=FIXED_NOW)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in ("รายการทั้งหมด", "เงินสดรับ"):
        cell = wb[sheet]["E5" if sheet == "รายการทั้งหมด" else "D5"]
        assert (cell.value, cell.data_type) == (typed, "s"), sheet


# --------------------------------------------------------------------------- periods


def test_summary_and_export_take_a_day_range_within_a_month(clerk: Say) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ 1/6/2567", "รับ 200 ค่าขยะ 10/6/2567",
           "รับ 400 ค่าขยะ 20/6/2567")
    out = said(clerk("สรุป 1-15 มิ.ย."))
    assert "1 มิ.ย. 2567 - 15 มิ.ย. 2567" in out and "รวมรับ 300.00 บาท" in out
    r = clerk("ส่งออก 1-15 มิ.ย.")[0]
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240601-20240615.xlsx"
    assert "รวมรับ 700.00 บาท" in said(clerk("สรุป 1 ถึง 30 มิ.ย. 2567"))
    out = said(clerk("สรุป 1-31 มิ.ย."))
    assert "31" in out and "รวมรับ" not in out  # June has 30 days: refused, says why


def test_this_year_is_the_fiscal_year_and_the_reply_says_so(clerk: Say) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ 1/11/2566", "รับ 200 ค่าขยะ 1/7/2567",
           "รับ 400 ค่าขยะ 1/9/2566")
    for typed in ("สรุป ปีนี้", "สรุป ปีงบ", "สรุป ปีงบนี้", "สรุป ปีงบประมาณ"):
        out = said(clerk(typed))
        assert "ปีงบประมาณ 2567 (1 ต.ค. 2566 - 30 ก.ย. 2567)" in out, typed
        assert "รวมรับ 300.00 บาท" in out, typed
    assert "ปีปฏิทิน พิมพ์: สรุป ปี 2567" in said(clerk("สรุป ปีนี้"))
    out = said(clerk("สรุป ปีที่แล้ว"))
    assert "ปีงบประมาณ 2566" in out and "รวมรับ 400.00 บาท" in out
    assert "ปีปฏิทิน พิมพ์: สรุป ปี 2566" in out
    out = said(clerk("สรุป ปี 2567"))  # a year by number stays the calendar year, named
    assert "ปี พ.ศ. 2567" in out and "รวมรับ 200.00 บาท" in out


@pytest.mark.parametrize(("typed", "lo", "hi"), [
    ("1-15 พ.ย.", date(2023, 11, 1), date(2023, 11, 15)),
    ("๑-๑๕ พ.ย. ๒๕๖๖", date(2023, 11, 1), date(2023, 11, 15)),
    ("วันที่ 3 - 9 ก.ค.", date(2024, 7, 3), date(2024, 7, 9)),
    ("15-1 ก.ค. 2567", date(2024, 7, 1), date(2024, 7, 15)),
    ("ปีนี้", date(2023, 10, 1), date(2024, 9, 30)),
    ("1/7/2567 - 15/7/2567", date(2024, 7, 1), date(2024, 7, 15)),
    ("ก.ค. 2567", date(2024, 7, 1), date(2024, 7, 31)),
])
def test_read_period(typed: str, lo: date, hi: date) -> None:
    assert read_period(typed, TODAY) == (lo, hi)


def test_read_period_refuses_a_day_the_month_does_not_have() -> None:
    with pytest.raises(EntryError, match="30"):
        read_period("1-31 มิ.ย. 2567", TODAY)


def test_period_label_names_fiscal_and_calendar_years() -> None:
    assert period_label(date(2023, 10, 1), date(2024, 9, 30)).startswith("ปีงบประมาณ 2567")
    assert period_label(date(2024, 1, 1), date(2024, 12, 31)).startswith("ปี พ.ศ. 2567")
    assert period_label(date(2024, 7, 1), date(2024, 7, 1)) == "1 ก.ค. 2567"


# --------------------------------------------------------------------------- shortened texts


@pytest.mark.parametrize(("text", "limit", "shown"), [
    ("ค่าซ่อมท่อประปา นายสมชาย 081-234-5678", 30, "ค่าซ่อมท่อประปา นายสมชาย…"),
    ("ผู้ใช้ในเครื่อง", 12, "ผู้ใช้ในเค…"),
    ("ค่าน้ำประปา", 30, "ค่าน้ำประปา"),
    ("ค่าน้ำ", 6, "ค่าน้ำ"),
])
def test_a_shortened_text_is_cut_between_whole_characters_and_says_so(
    text: str, limit: int, shown: str,
) -> None:
    assert shorten(text, limit) == shown
    assert len(shown) <= limit


def test_lists_and_member_buttons_never_cut_a_thai_character_or_hide_the_cut(
    core: Core, clerk: Say,
) -> None:
    _saved(clerk, "จ่าย 4,321 ค่าซ่อมท่อประปา นายสมชาย 081-234-5678")
    listed = said(clerk("ล่าสุด"))
    assert "นายสมชาย…" in listed and "081-2" not in listed
    code = clerk("เชิญ")[0].text.split("เข้าร่วม ")[-1].strip()
    clerk(f"เข้าร่วม {code}", user="u2", name="ผู้ใช้ในเครื่อง")
    labels = [c.label for r in clerk("สมาชิก") for c in r.choices]
    assert len(labels) == 1 and labels[0].endswith(". ผู้ใช้ในเค…"), labels


@pytest.mark.parametrize(("typed", "bad"), [
    ("รายการ 32/1", "32/1"), ("รายการ 1/13", "1/13"), ("รายการ 32/1/2567", "32/1/2567"),
    ("รายการ 30/2 - 5/3", "30/2"), ("รายการ 1/3 ถึง 32/3", "32/3"), ("สรุป 32/1", "32/1"),
    ("ส่งออก 32/1", "32/1"),
])
def test_a_list_of_a_date_not_in_the_calendar_says_so(clerk: Say, typed: str, bad: str) -> None:
    """qa11 item 7: "รายการ 32/1" was out of scope instead of "no such date"."""
    out = said(clerk(typed))
    assert f"ไม่มีวันที่ “{bad}” ในปฏิทิน" in out, out


@pytest.mark.parametrize(("typed", "ext"), [
    ("ส่งออกไฟล์เอ็กเซลเดือนนี้หน่อยค่ะ", "xlsx"),  # qa11 item 7, as typed
    ("export csv this month", "csv"),  # qa11 item 7, as typed
    ("ส่งออก ไฟล์ เอกเซล เดือนนี้", "xlsx"),
    ("ส่งออกเป็นไฟล์เอ็กเซลล์ เดือนนี้ให้หน่อย", "xlsx"),
    ("ส่งออกไฟล์ csv เดือนนี้ด้วยครับ", "csv"),
    ("export this month to excel", "xlsx"),
    ("export excel for this month please", "xlsx"),
])
def test_export_words_around_a_period_run_the_export(clerk: Say, typed: str, ext: str) -> None:
    """The command word, a file format in any common spelling and a period run the export,
    as "ขอไฟล์excelเดือนนี้" did, instead of the export how-to."""
    _saved(clerk, "รับ 100 ค่าขยะ 1/7/2567")
    r = clerk(typed)[0]
    assert r.file is not None and r.file.filename == f"elaas-{CODE}-20240701-20240731.{ext}"


@pytest.mark.parametrize("typed", ["export excel last month", "ส่งออกไฟล์เอ็กเซลเดือนที่แล้ว"])
def test_export_of_an_empty_period_named_in_english_or_thai_says_so(clerk: Say,
                                                                     typed: str) -> None:
    _saved(clerk, "รับ 100 ค่าขยะ 1/7/2567")
    assert "ไม่มีรายการในช่วง 1 มิ.ย. 2567 - 30 มิ.ย. 2567" in said(clerk(typed))
