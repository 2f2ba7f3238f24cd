"""Ledger commands in a clerk's own words: void or correct the latest or several entries,
list a month, ask for the Excel file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.ledger.entries import ParsedEntry
from handlers.app import Core
from tests.conftest import FIXED_NOW, Say
from tests.test_ledger_flows import A, _voided, said, tap
from tests.test_ledger_flows import clerk as clerk  # the same fixture

# ----------------------------------------------------------------------- 8. void, edit in words


@pytest.mark.parametrize("text", ["ยกเลิกรายการล่าสุด", "ลบรายการล่าสุด", "ยกเลิก ล่าสุด",
                                  "ลบรายการที่เพิ่งบันทึก", "ลบรายการ 3", "ลบ 3"])
def test_the_latest_or_a_numbered_entry_in_words_is_shown_with_the_void_step(
        core: Core, clerk: Say, text: str) -> None:
    ask = clerk(text)
    assert "ยกเลิกรายการที่ 3: จ่าย 300.00 บาท (สามร้อยบาทถ้วน) ค่าน้ำมัน" in said(ask)
    assert not _voided(core, 3)
    assert "ยกเลิกรายการที่ 3 แล้ว" in said(clerk("พิมพ์ผิด")) and _voided(core, 3)


@pytest.mark.parametrize("text", ["ยกเลิก 2,3", "ยกเลิก 2-3 ทดสอบ", "ลบรายการ 2 และ 3"])
def test_several_numbers_are_voided_one_at_a_time_with_a_button_each(
        core: Core, clerk: Say, text: str) -> None:
    out = clerk(text)
    assert "ทีละรายการ" in said(out) and not _voided(core, 2) and not _voided(core, 3)
    ask = tap(clerk, out, "ยกเลิกรายการ 3")
    assert "ยกเลิกรายการที่ 3:" in said(ask)
    assert "ยกเลิกรายการที่ 3 แล้ว" in said(clerk("ทดสอบ")) and not _voided(core, 2)


@pytest.mark.parametrize("text", ["แก้ไข 2", "แก้รายการที่ 2", "แก้ไขรายการ 2 เป็น 250"])
def test_an_edit_explains_void_and_enter_again_and_offers_the_void(core: Core, clerk: Say,
                                                                  text: str) -> None:
    out = clerk(text)
    assert "แก้ไขไม่ได้" in said(out) and "รายการที่ 2: รับ 200.00 บาท ค่าน้ำ" in said(out)
    ask = tap(clerk, out, "ยกเลิกรายการ 2")
    assert "ยกเลิกรายการที่ 2:" in said(ask) and not _voided(core, 2)


def test_edit_the_latest_names_it(core: Core, clerk: Say) -> None:
    out = clerk("แก้รายการล่าสุด")
    assert "แก้ไขไม่ได้" in said(out) and "รายการที่ 3" in said(out)


@pytest.mark.parametrize("question", ["ลบรายการยังไง", "ยกเลิกรายการล่าสุดได้ไหม", "แก้ไขใบเสร็จผิด"])
def test_a_question_with_a_void_or_edit_word_is_still_a_question(core: Core, clerk: Say,
                                                                 question: str) -> None:
    out = clerk(question)
    assert out[0].topic is not None and not _voided(core, 3), said(out)


# --------------------------------------------------------------------------- 9. lists by period


@pytest.mark.parametrize("text", ["ดูรายการเดือน ก.ค.", "รายการเดือนกรกฎาคม", "รายการเดือนนี้",
                                  "ขอดูรายการของเดือนนี้ค่ะ", "รายการ 1-15 ก.ค."])
def test_a_list_for_a_month_lists_that_month(core: Core, clerk: Say, text: str) -> None:
    core.book.ledger(A).add_many(  # an entry of the month before is not listed
        [(ParsedEntry("receipt", Decimal(90), "ค่าเก่า", date(2024, 6, 30)), "old")],
        author="console:u1", author_name="", channel="console", now=FIXED_NOW)
    out = said(clerk(text))
    assert "ก.ค. 2567 (3 รายการ)" in out and "ค่าขยะ" in out and "ค่าเก่า" not in out


@pytest.mark.parametrize("text", ["ขอดูรายการทั้งหมด", "รายการทั้งหมด", "ดูรายการ"])
def test_all_entries_are_listed(core: Core, clerk: Say, text: str) -> None:
    out = said(clerk(text))
    assert "รายการทั้งหมด (3 รายการ)" in out and "ค่าน้ำมัน" in out


@pytest.mark.parametrize("text", ["ขอไฟล์excelเดือนนี้", "ขอไฟล์ Excel เดือนนี้"])
def test_asking_for_the_excel_file_of_a_month_sends_it(clerk: Say, text: str) -> None:
    out = clerk(text)
    assert any(r.file is not None for r in out) and "1 ก.ค. 2567 - 31 ก.ค. 2567" in said(out)
