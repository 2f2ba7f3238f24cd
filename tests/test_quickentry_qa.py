"""Quick-entry parser: the QA round of 2 Dec 2026 (a tester playing the clerk), one table per bug.

Today is Wednesday 2 Dec 2026 (2 ธ.ค. 2569) in every case unless a case says otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.ledger.entries import EntryError, NotAnEntry, ParsedEntry
from bot.ledger.quickentry import looks_like_entry, parse_entry

TODAY = date(2026, 12, 2)  # a Wednesday


def refused(text: str, today: date = TODAY) -> str:
    """The refusal message; it must end with an example that itself parses."""
    assert looks_like_entry(text), text
    with pytest.raises(EntryError) as err:
        parse_entry(text, today)
    message = str(err.value)
    assert "ตัวอย่าง:" in message, message
    example = message.split("ตัวอย่าง:", 1)[1].strip()
    assert isinstance(parse_entry(example, today), ParsedEntry), example
    return message


def not_an_entry(text: str) -> None:
    assert not looks_like_entry(text), text
    with pytest.raises(NotAnEntry):
        parse_entry(text, TODAY)


# --------------------------------------------------------------- 1. counts with a particle

@pytest.mark.parametrize("text", [
    "จ่าย ค่าอาหาร 15 คนครับ", "รับ 2 คนค่ะ", "รับ 3 รายค่ะ", "จ่าย ค่าน้ำมัน 20 ลิตรค่ะ",
    "รับ 2 คนนะคะ", "จ่ายค่าวัสดุ 4 รายการครับ",
])
def test_a_count_with_a_polite_particle_is_still_a_count(text: str) -> None:
    assert "จำนวนนับ" in refused(text)


@pytest.mark.parametrize("text", ["จ่ายผิด 2 ครั้งค่ะ", "รับซ้ำกับรายการ 1", "จ่ายซ้ำ 2 รอบ",
                                  "รับผิด 1 รายการ"])
def test_a_void_reason_about_a_mistake_is_not_an_entry(text: str) -> None:
    not_an_entry(text)


def test_a_number_after_raikan_points_at_an_entry_not_money() -> None:
    assert "1.00" not in refused("รับ ค่าขยะ ตามรายการ 1")
    e = parse_entry("รับ 1500 ค่าขยะ แก้รายการ 12", TODAY)
    assert (e.amount, e.description) == (Decimal("1500"), "ค่าขยะ แก้รายการ 12")


# --------------------------------------------------------------- 2. +1 / -1 chat

@pytest.mark.parametrize("text", [
    "+1 เห็นด้วยค่ะ", "-1 ไม่เห็นด้วย", "+1", "-1", "+1 ค่ะ", "+100", "+1 ด้วยคน", "+1 เช่นกัน",
    "+ 1 ครับ", "-1 ไม่เอาด้วย", "+500 บาท", "+99 555",
])
def test_plus_one_votes_are_not_entries(text: str) -> None:
    not_an_entry(text)


@pytest.mark.parametrize(("text", "kind", "amount", "description"), [
    ("+ 500 ค่าขยะ", "receipt", "500", "ค่าขยะ"),
    ("+500 ค่าขยะ", "receipt", "500", "ค่าขยะ"),
    ("-300 ค่ากาแฟ เงินสด", "payment", "300", "ค่ากาแฟ"),
    ("+ สองพันห้าร้อยบาท ค่าเช่าตลาด โอน", "receipt", "2500", "ค่าเช่าตลาด"),
    ("+1 ค่าปรับ", "receipt", "1", "ค่าปรับ"),
])
def test_the_plus_minus_shorthand_still_saves(text: str, kind: str, amount: str,
                                              description: str) -> None:
    e = parse_entry(text, TODAY)
    assert (e.kind, e.amount, e.description) == (kind, Decimal(amount), description)


# --------------------------------------------------------------- 3. date words

@pytest.mark.parametrize(("words", "when"), [
    ("วันจันทร์ที่แล้ว", date(2026, 11, 23)),  # the Monday of last week, not 30 Nov
    ("วันพุธที่แล้ว", date(2026, 11, 25)),
    ("วันศุกร์ที่แล้ว", date(2026, 11, 27)),
    ("วันอาทิตย์ที่แล้ว", date(2026, 11, 29)),
    ("จันทร์ที่แล้ว", date(2026, 11, 23)),
    ("วันศุกร์", date(2026, 11, 27)),  # the latest Friday not after today
    ("วันพุธ", date(2026, 12, 2)),
    ("วันจันทร์", date(2026, 11, 30)),
    ("วันอาทิตย์", date(2026, 11, 29)),
    ("วันพฤหัส", date(2026, 11, 26)),
    ("วันพฤหัสบดีที่แล้ว", date(2026, 11, 26)),
    ("เมือวาน", date(2026, 12, 1)),
    ("วานนี้", date(2026, 12, 1)),
    ("เมื่อวานนี้", date(2026, 12, 1)),
    ("2 วันก่อน", date(2026, 11, 30)),
    ("3 วันที่แล้ว", date(2026, 11, 29)),
    ("เมื่อ 5 วันก่อน", date(2026, 11, 27)),
    ("2026-11-30", date(2026, 11, 30)),
    ("2569-11-30", date(2026, 11, 30)),
])
def test_more_date_words(words: str, when: date) -> None:
    e = parse_entry(f"รับ 1500 ค่าขยะ {words}", TODAY)
    assert (e.amount, e.description, e.date) == (Decimal("1500"), "ค่าขยะ", when)


def test_date_words_before_the_kind_word() -> None:
    assert parse_entry("วานนี้ รับ 500 ค่าขยะ", TODAY).date == date(2026, 12, 1)


@pytest.mark.parametrize("words", [
    "สัปดาห์ที่แล้ว", "อาทิตย์ที่แล้ว", "อาทิตย์ก่อน", "เดือนที่แล้ว", "เดือนก่อน", "ต้นเดือน",
    "ปลายเดือน", "สิ้นเดือน", "เมื่อวันก่อน", "วันศุกร์นี้", "หลายวันก่อน", "ปีที่แล้ว",
    "สัปดาห์นี้", "อาทิตย์นี้", "วันอาทิตย์นี้", "วันพุธหน้า",
])
def test_vague_date_words_are_refused_with_a_question_for_the_date(words: str) -> None:
    message = refused(f"รับ 1500 ค่าขยะ {words}")
    assert words in message and "วันที่" in message


def test_a_vague_word_with_a_date_given_stays_in_the_description() -> None:
    e = parse_entry("จ่าย 1200 ค่าไฟเดือนที่แล้ว 1/12/2569", TODAY)
    assert (e.description, e.date) == ("ค่าไฟเดือนที่แล้ว", date(2026, 12, 1))
    e = parse_entry("จ่าย 1200 ค่าไฟเดือนที่แล้ว วันนี้", TODAY)  # what the refusal suggests
    assert (e.description, e.date) == ("ค่าไฟเดือนที่แล้ว", TODAY)
    # "this month's rent" says what the money is for, not when it came
    assert parse_entry("รับ 1500 ค่าเช่าเดือนนี้", TODAY).description == "ค่าเช่าเดือนนี้"


def test_an_iso_date_is_read_as_a_date() -> None:
    assert parse_entry("รับ 1500 ค่าขยะ 2024-11-30", TODAY).date == date(2024, 11, 30)
    assert "2566" in refused("รับ 1500 ค่าขยะ 2023-09-30")  # then too old like any date


# --------------------------------------------------------------- 4. ranges

@pytest.mark.parametrize("text", [
    "จ่าย 500 ค่าเบี้ยเลี้ยง 28-30 พ.ย.", "จ่าย 500 ค่าเบี้ยเลี้ยง 28 - 30 พ.ย. 2569",
    "จ่าย 500 ค่าเบี้ยเลี้ยง 28 ถึง 30 พ.ย.", "จ่าย 500 ค่าเบี้ยเลี้ยง 28/11-30/11",
    "จ่าย 500 ค่าเบี้ยเลี้ยง 28-30/11", "จ่าย 500 ค่าเบี้ยเลี้ยง 28/11/69 - 30/11/69",
    "จ่าย 500 ค่าเบี้ยเลี้ยง วันที่ 28-30 พ.ย.", "จ่าย 500 ค่าเบี้ยเลี้ยง 28 พ.ย. - 1 ธ.ค.",
])
def test_a_date_range_is_refused(text: str) -> None:
    assert "ช่วงวันที่" in refused(text)


def test_a_range_beside_the_payment_date_stays_in_the_description() -> None:
    e = parse_entry("จ่าย 500 ค่าเบี้ยเลี้ยง 28-30 พ.ย. จ่าย 1/12/2569", TODAY)
    assert (e.amount, e.date) == (Decimal("500"), date(2026, 12, 1))
    assert "28-30 พ.ย." in e.description


# --------------------------------------------------------------- 5. very old dates

@pytest.mark.parametrize(("typed", "year"), [
    ("1/1/2469", "2469"), ("1/1/00", "2500"), ("1/1/1967", "2510"), ("1/1/43", "2543"),
    ("1 ม.ค. 2560", "2560"), ("30/9/2566", "2566"),
])
def test_dates_before_the_fiscal_year_three_back_are_refused(typed: str, year: str) -> None:
    message = refused(f"รับ 1500 ค่าขยะ {typed}")
    assert "เก่าเกินไป" in message and "1 ต.ค. 2566" in message and year in message


@pytest.mark.parametrize(("typed", "when"), [
    ("1/10/2566", date(2023, 10, 1)),  # the first day of fiscal 2567 is still taken
    ("9/7/67", date(2024, 7, 9)),  # the July 2024 outage's backlog
    ("2024-11-30", date(2024, 11, 30)),
    ("1/1/68", date(2025, 1, 1)),
    ("15/6/69", date(2026, 6, 15)),
    ("1/11/2026", date(2026, 11, 1)),
])
def test_dates_since_the_fiscal_year_three_back_are_taken(typed: str, when: date) -> None:
    assert parse_entry(f"รับ 1500 ค่าขยะ {typed}", TODAY).date == when


# --------------------------------------------------------------- 6. yearless dates at year end

@pytest.mark.parametrize(("typed", "today"), [
    ("1/1", TODAY), ("2 ม.ค.", TODAY), ("25/12", TODAY), ("31/1", date(2026, 12, 31)),
    ("วันที่ 1/1", date(2026, 12, 20)),
])
def test_a_yearless_date_just_after_new_year_is_refused(typed: str, today: date) -> None:
    message = refused(f"รับ 800 ค่าปรับ {typed}", today)
    assert "ยังมาไม่ถึง" in message and "ใส่ปี" in message


@pytest.mark.parametrize(("typed", "when"), [
    ("3/1", date(2026, 1, 3)),  # 32 days ahead: the latest 3 Jan
    ("1/12", date(2026, 12, 1)),
    ("5 ก.พ.", date(2026, 2, 5)),
    # qa11 item 7: 29 Feb without a year is the latest leap day (29 ก.พ. 2567), not refused
    ("29/2", date(2024, 2, 29)),
    ("29 ก.พ.", date(2024, 2, 29)),
])
def test_a_yearless_date_further_ahead_is_the_latest_one(typed: str, when: date) -> None:
    e = parse_entry(f"รับ 800 ค่าปรับ {typed}", TODAY)
    assert e.date == when and e.year_assumed


# --------------------------------------------------------------- 7. amounts said twice

@pytest.mark.parametrize("text", [
    "รับ 1500 (หนึ่งพันบาท) ค่าขยะ", "รับ 1,500 ห้าร้อย ค่าขยะ", "รับ 1,500 (ห้าร้อย) ค่าขยะ",
    "รับ ค่าขยะ 1,500 บาท (หนึ่งพันบาทถ้วน)",
])
def test_digits_and_words_that_disagree_are_refused(text: str) -> None:
    assert "ไม่ตรงกัน" in refused(text)


@pytest.mark.parametrize("text", [
    "รับ 1,500 (หนึ่งพันห้าร้อยบาท) ค่าขยะ", "รับ 1,500 หนึ่งพันห้าร้อย ค่าขยะ",
    "รับ 1,500 บาท (หนึ่งพันห้าร้อยบาทถ้วน) ค่าขยะ", "รับ 1500 หนึ่งพันห้าร้อยบาทถ้วน ค่าขยะ",
])
def test_digits_and_words_that_agree_are_saved_once(text: str) -> None:
    e = parse_entry(text, TODAY)
    assert (e.amount, e.description) == (Decimal("1500"), "ค่าขยะ")


@pytest.mark.parametrize("text", ["รับ 1,500 ค่าขยะ 3 ราย 200", "จ่าย 500 ค่าวัสดุ 250",
                                  "รับ 1500 ค่าขยะ 200 บาท"])
def test_a_second_bare_amount_is_refused(text: str) -> None:
    assert "จำนวนเงิน" in refused(text)


@pytest.mark.parametrize(("text", "description"), [
    ("รับ 1500 ค่าขยะ หมู่ 3", "ค่าขยะ หมู่ 3"),
    ("จ่าย 900 ค่าจ้าง 3 คน คนละ 300", "ค่าจ้าง 3 คน คนละ 300"),
    ("จ่าย 1200 ค่าไฟ ต.ค. 69", "ค่าไฟ ต.ค. 69"),
    ("รับ 1500 ภาษีป้าย ปี 2569", "ภาษีป้าย ปี 2569"),
])
def test_other_numbers_that_are_not_amounts_stay(text: str, description: str) -> None:
    assert parse_entry(text, TODAY).description == description


# --------------------------------------------------------------- 8. house numbers

def test_a_house_number_is_not_the_document_number() -> None:
    e = parse_entry("รับ 1500 ค่าขยะ บ้านเลขที่ 12/3", TODAY)
    assert (e.amount, e.doc_no, e.description) == (Decimal("1500"), None,
                                                   "ค่าขยะ บ้านเลขที่ 12/3")
    e = parse_entry("รับ 1500 ค่าขยะ บ้านเลขที่ 12/3 ใบเสร็จ 45/2569", TODAY)
    assert (e.doc_no, e.description) == ("45/2569", "ค่าขยะ บ้านเลขที่ 12/3")
    e = parse_entry("รับ 1500 ค่าขยะ บ้านเลขที่ 45", TODAY)
    assert (e.amount, e.doc_no) == (Decimal("1500"), None)


# --------------------------------------------------------------- 9. direction

@pytest.mark.parametrize("text", ["รับ-จ่าย 500 ค่าน้ำ", "รับ/จ่าย 500 ค่าน้ำ", "จ่าย-รับ 500 ค่าน้ำ",
                                  "รับจ่าย 500 ค่าน้ำ", "รายรับ-รายจ่าย 500 ค่าน้ำ"])
def test_both_directions_at_once_are_refused(text: str) -> None:
    assert "รายรับหรือรายจ่าย" in refused(text)


# --------------------------------------------------------------- 10. a day without a month

def test_a_day_without_a_month_missing_from_last_month_asks_for_the_month() -> None:
    message = refused("รับ 500 ค่าขยะ วันที่ 31")
    assert "เดือน" in message and "ในปฏิทิน" not in message


@pytest.mark.parametrize(("typed", "when"), [("วันที่ 28", date(2026, 11, 28)),
                                             ("วันที่ 1", date(2026, 12, 1))])
def test_a_day_without_a_month_is_the_latest_such_day(typed: str, when: date) -> None:
    assert parse_entry(f"รับ 500 ค่าขยะ {typed}", TODAY).date == when


# --------------------------------------------------------------- 11. polite words

@pytest.mark.parametrize(("text", "description"), [
    ("จ่าย 1200 ค่าไฟ ครับผม", "ค่าไฟ"), ("จ่าย 1200 ค่าไฟ นะจ๊ะ", "ค่าไฟ"),
    ("จ่าย 1200 ค่าไฟค่ะ", "ค่าไฟ"), ("จ่าย 1200 ค่าไฟ นะคะ", "ค่าไฟ"),
    ("จ่าย 1200 ค่าไฟ จ้า", "ค่าไฟ"), ("จ่าย 100 ค่าตัดผม", "ค่าตัดผม"),
    ("จ่าย 1200 ค่าไฟ ค่ะ เงินสด", "ค่าไฟ"),
])
def test_polite_endings_are_dropped_from_the_description(text: str, description: str) -> None:
    assert parse_entry(text, TODAY).description == description


# --------------------------------------------------------------- found while fixing the above

@pytest.mark.parametrize(("text", "when"), [
    ("วันจันทร์ที่แล้ว รับ 500 ค่าขยะ", date(2026, 11, 23)),
    ("2 วันก่อน จ่าย 300 ค่ากาแฟ", date(2026, 11, 30)),
    ("เมือวาน รับ 500 ค่าขยะ", date(2026, 12, 1)),
    ("2026-11-30 รับ 500 ค่าขยะ", date(2026, 11, 30)),
])
def test_new_date_words_before_the_kind_word(text: str, when: date) -> None:
    assert parse_entry(text, TODAY).date == when


@pytest.mark.parametrize(("text", "description"), [
    ("รับ 300 ค่าเช่าแผงตลาดนัดวันพุธ", "ค่าเช่าแผงตลาดนัดวันพุธ"),
    ("รับ 300 ค่าเช่าแผง ตลาดนัด วันพุธ", "ค่าเช่าแผง ตลาดนัด วันพุธ"),
    ("จ่าย 5000 ค่าจ้างเหมา รับเหมาทำถนน", "ค่าจ้างเหมา รับเหมาทำถนน"),
    ("จ่าย 1500 ค่าชุดที่ 2 ของงาน", "ค่าชุดที่ 2 ของงาน"),
])
def test_a_weekday_or_kind_word_inside_a_description_stays(text: str, description: str) -> None:
    e = parse_entry(text, TODAY)
    assert (e.description, e.date) == (description, TODAY)


def test_words_first_then_digits_in_brackets() -> None:
    e = parse_entry("รับ หนึ่งพันห้าร้อยบาท (1,500) ค่าขยะ", TODAY)
    assert (e.amount, e.description) == (Decimal("1500"), "ค่าขยะ")
    assert "ไม่ตรงกัน" in refused("รับ หนึ่งพันบาท (1,500) ค่าขยะ")


@pytest.mark.parametrize(("text", "description"), [
    ("รับ 2,000 ค่าเช่าแผง ล็อค 12", "ค่าเช่าแผง ล็อค 12"),
    ("รับ 3,000 ค่าเช่า อาคาร 2 ชั้น 3", "ค่าเช่า อาคาร 2 ชั้น 3"),
    ("รับ 700 ค่าปรับ มาตรา 45", "ค่าปรับ มาตรา 45"),
    ("จ่าย 800 ค่าน้ำมัน เบนซิน 95", "ค่าน้ำมัน เบนซิน 95"),
    ("จ่าย 990 ค่าซอฟต์แวร์ Office 365", "ค่าซอฟต์แวร์ Office 365"),
])
def test_a_number_that_names_a_thing_is_not_a_second_amount(text: str, description: str) -> None:
    assert parse_entry(text, TODAY).description == description


@pytest.mark.parametrize("text", ["จ่าย 2,000 ค่าวิทยากร 2 ชม. 1,000", "รับ 450 ภาษีป้าย 2 ป้าย 225",
                                  "จ่าย 500 ค่าจ้าง 2 คน 250"])
def test_a_second_amount_after_a_count_is_refused(text: str) -> None:
    """"2 ชม. 1,000" may be 1,000 an hour: ask ("ชม." is not "ม." = หมู่)."""
    assert "สองจำนวน" in refused(text)


@pytest.mark.parametrize("typed", ["วันจันทร์ที่ 23", "วันจันทร์ที่ 23 พ.ย.", "วันจันทร์ที่ 23/11/2569",
                                   "วันจันทร์ ที่ 23 พ.ย. 69"])
def test_a_weekday_before_a_day_number_is_a_label(typed: str) -> None:
    """"วันจันทร์ที่ 23" is the 23rd, not the latest Monday (30 Nov)."""
    e = parse_entry(f"รับ 500 ค่าขยะ {typed}", TODAY)
    assert (e.date, e.description) == (date(2026, 11, 23), "ค่าขยะ")


def test_a_day_in_words_is_not_left_in_the_description() -> None:
    assert "วันที่สามสิบ" in refused("รับ 500 ค่าขยะ วันที่สามสิบ")


@pytest.mark.parametrize(("text", "description"), [
    ("รับ 500 ค่าขยะ เวลา 10.30 น.", "ค่าขยะ เวลา 10.30 น."),
    ("รับ 500 ค่าขยะ 14:30 น.", "ค่าขยะ 14:30 น."),
    ("รับ 300 ค่าขยะ รอบ 2", "ค่าขยะ รอบ 2"),
    ("จ่าย 2,300.50 ค่าไฟ มิเตอร์ 2", "ค่าไฟ มิเตอร์ 2"),
])
def test_a_time_or_a_numbered_thing_stays_in_the_description(text: str, description: str) -> None:
    assert parse_entry(text, TODAY).description == description


@pytest.mark.parametrize(("text", "amount", "when"), [
    ("รับ ค่าขยะ - 12 - 9/7/69", "12", date(2026, 7, 9)),
    ("รับ ค่าขยะ | 12 - 9 ก.ค. 2569", "12", date(2026, 7, 9)),
])
def test_an_amount_before_a_date_is_not_a_range(text: str, amount: str, when: date) -> None:
    e = parse_entry(text, TODAY)
    assert (e.amount, e.date) == (Decimal(amount), when)


def test_a_yearless_leap_day_before_the_oldest_allowed_date_is_refused_as_too_old() -> None:
    """29/2 typed in late 2027: the latest leap day (2024) is before 1 Oct 2024."""
    message = refused("รับ 800 ค่าปรับ 29/2", date(2027, 12, 1))
    assert "ในปฏิทิน" not in message and "2567" in message
