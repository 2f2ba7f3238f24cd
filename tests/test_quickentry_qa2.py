"""Quick-entry parser: the second QA round of 2 Dec 2026 (house numbers read as dates, slips in
date words, counts and codes taken as a second amount, other forms, leftover words, ฎ., two
entries on a line), one section per bug.

Today is Wednesday 2 Dec 2026 (2 ธ.ค. 2569) in every case.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.ledger.entries import EntryError, ParsedEntry
from bot.ledger.quickentry import parse_entry

TODAY = date(2026, 12, 2)  # a Wednesday


def refused(text: str) -> str:
    """The refusal message; it must end with an example that itself parses."""
    with pytest.raises(EntryError) as err:
        parse_entry(text, TODAY)
    message = str(err.value)
    example = message.split("ตัวอย่าง:", 1)[1].strip()
    assert isinstance(parse_entry(example, TODAY), ParsedEntry), example
    return message


# --------------------------------------------------------------- 1. house, stall, document numbers

@pytest.mark.parametrize("where", [
    "บ้าน 12/3", "แผง 12/3", "มาตร 12/3", "เลขที่บ้าน 12/3", "ที่อยู่ 12/3", "12/3 หมู่ 4",
    "บ้าน 5/7 หมู่ 2", "บ้าน 12/3 ม.4", "ห้อง 12/3", "ใบส่งของ 1/12", "บิล 3/11",
    "ใบกำกับ 25/11", "ใบแจ้งหนี้ 7/10", "มิเตอร์น้ำ 4/2", "ที่อยู่ 99/1 ม. 3",
])
def test_a_house_stall_meter_or_document_number_stays_in_the_description(where: str) -> None:
    e = parse_entry(f"รับ 300 ค่าขยะ {where}", TODAY)
    assert (e.description, e.date) == (f"ค่าขยะ {where}", TODAY)


@pytest.mark.parametrize("name", ["นายมา", "นางสมศรี", "น.ส.มาลี", "คุณสมชาย"])
def test_a_bare_day_month_after_a_name_is_asked(name: str) -> None:
    message = refused(f"รับ 300 ค่าขยะ {name} 12/3")
    assert "วันที่หรือบ้านเลขที่" in message and "วันที่ 12/3" in message


@pytest.mark.parametrize(("text", "when"), [
    ("รับ 300 ค่าขยะ บ้าน 12/3 วันที่ 25/11", date(2026, 11, 25)),
    ("รับ 300 ค่าขยะ นายมา 25/11/2569", date(2026, 11, 25)),
    ("รับ 300 ค่าขยะ นายมา วันที่ 25/11", date(2026, 11, 25)),
    ("รับ 480 ค่าเช่าแผง 31/7", date(2026, 7, 31)),  # glued into the name: the date
    ("จ่าย 300 ค่าวัสดุ 25/11", date(2026, 11, 25)),
])
def test_a_full_date_or_one_after_wanthi_is_still_a_date(text: str, when: date) -> None:
    assert parse_entry(text, TODAY).date == when


# --------------------------------------------------------------- 2. slips and bare weekdays

@pytest.mark.parametrize("slip", ["มื่อวาน", "เมื่อวาร", "เมื้อวาน", "เมื่อวานนี", "มื่อวานค่ะ"])
def test_a_one_letter_slip_in_yesterday_is_yesterday(slip: str) -> None:
    e = parse_entry(f"รับ 500 ค่าขยะ {slip}", TODAY)
    assert (e.description, e.date) == ("ค่าขยะ", date(2026, 12, 1))


@pytest.mark.parametrize("words", ["เมื่อวันที่ 30 พ.ย.", "งานเมื่อนาน"])
def test_real_words_one_letter_off_are_not_slips(words: str) -> None:
    e = parse_entry(f"รับ 500 ค่าขยะ {words}", TODAY)
    assert e.date != date(2026, 12, 1)


@pytest.mark.parametrize(("day", "when"), [
    ("จันทร์", date(2026, 11, 30)), ("อังคาร", date(2026, 12, 1)), ("ศุกร์", date(2026, 11, 27)),
    ("พุธ", TODAY), ("พฤหัส", date(2026, 11, 26)), ("ศุกร์ค่ะ", date(2026, 11, 27)),
])
def test_a_bare_weekday_is_the_latest_such_day(day: str, when: date) -> None:
    e = parse_entry(f"รับ 500 ค่าขยะ {day}", TODAY)
    assert (e.description, e.date) == ("ค่าขยะ", when)
    if not day.endswith("ค่ะ"):
        assert parse_entry(f"{day} รับ 500 ค่าขยะ", TODAY).date == when


def test_a_weekday_glued_into_a_name_stays() -> None:
    e = parse_entry("รับ 300 ค่าเช่าแผงตลาดจันทร์", TODAY)
    assert (e.description, e.date) == ("ค่าเช่าแผงตลาดจันทร์", TODAY)


# --------------------------------------------------------------- 3. counts and codes

@pytest.mark.parametrize("thing", [
    "ค่าอาหาร 2 มื้อ", "ค่าที่พัก 2 คืน", "ค่าเช่ารถ 12 ที่นั่ง", "ค่าท่อ 4 นิ้ว", "ค่าน้ำดื่ม 20 แพ็ค",
    "ค่าป้าย กว้าง 4 ม.", "ค่าวัสดุ รหัสบัญชี 5120100", "ค่าวัสดุ บจก.สยาม 2020",
    "ค่าซ่อม ถนนเส้น 1089", "ค่าน้ำมัน ทะเบียน กข-1234", "ค่าสี 3 แกลลอน",
])
def test_a_count_or_a_code_is_not_a_second_amount(thing: str) -> None:
    e = parse_entry(f"จ่าย 500 {thing}", TODAY)
    assert (e.amount, e.description) == (Decimal("500"), thing)


@pytest.mark.parametrize("text", ["จ่ายค่าจ้างเหมาโครงการ 3 จำนวนเงิน 150,000",
                                  "จ่ายค่าจ้างเหมาโครงการที่ 3 150,000 บาท",
                                  "จ่าย ค่าวัสดุ รหัส 5120100 จำนวนเงิน 150,000 บาท"])
def test_a_marked_amount_wins_over_a_label_number_before_it(text: str) -> None:
    assert parse_entry(text, TODAY).amount == Decimal("150000")


@pytest.mark.parametrize(("text", "amount"), [
    ("จ่าย ค่าซ่อมถนน 5,000", "5000"), ("จ่าย บจก.สยาม 2,000 ค่าวัสดุ", "2000"),
])
def test_a_name_word_alone_with_its_number_still_gives_the_amount(text: str, amount: str) -> None:
    assert parse_entry(text, TODAY).amount == Decimal(amount)


def test_an_unmarked_number_after_a_marked_amount_is_still_refused() -> None:
    assert "สองจำนวน" in refused("จ่าย 500 บาท ค่าอาหาร 300")


@pytest.mark.parametrize(("text", "doc_no"), [("รับ 500 ค่าขยะ เล่ม 3 เลขที่ 5/7", "3/5/7"),
                                              ("รับ 500 ค่าขยะ เล่ม 3 เลขที่ 45", "3/45")])
def test_a_book_and_number_is_the_document_number(text: str, doc_no: str) -> None:
    e = parse_entry(text, TODAY)
    assert (e.amount, e.doc_no, e.description) == (Decimal("500"), doc_no, "ค่าขยะ")
