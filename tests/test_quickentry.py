"""Quick-entry parser: table of typed lines (tests/data/entries.tsv) and round-trip properties.

Over 500 lines: the parser's table runner and its property tests share one set of helpers."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bot.core.thaifmt import THAI_MONTHS_LONG, THAI_MONTHS_SHORT, amount_in_words
from bot.ledger.entries import MAX_AMOUNT, EntryError, Kind, Method, NotAnEntry, ParsedEntry
from bot.ledger.quickentry import (
    EXAMPLE,
    LineResult,
    describe,
    format_entry,
    format_example,
    looks_like_entry,
    parse_entries,
    parse_entry,
    parse_period,
)

DATA = Path(__file__).parent / "data" / "entries.tsv"
TODAY = date(2024, 7, 15)
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def _rows() -> list[tuple[str, str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["text"], r["today"], r["expected"]) for r in reader]


ROWS = _rows()


def test_table_is_big_and_covers_all_outcomes() -> None:
    expected = [e for _, _, e in ROWS]
    assert len(ROWS) >= 120
    assert expected.count("ERROR") >= 20
    assert expected.count("NOT") >= 15


@pytest.mark.parametrize(("text", "today", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_table(text: str, today: str, expected: str) -> None:
    day = date.fromisoformat(today)
    if expected == "NOT":
        with pytest.raises(NotAnEntry):
            parse_entry(text, day)
        assert not looks_like_entry(text)
        return
    assert looks_like_entry(text)
    if expected == "ERROR":
        with pytest.raises(EntryError) as err:
            parse_entry(text, day)
        assert "ตัวอย่าง:" in str(err.value)
        return
    entry = parse_entry(text, day)
    assert isinstance(entry.amount, Decimal)
    assert entry.to_json() == json.loads(expected)


# --------------------------------------------------------------------------- refusals

REFUSALS = [
    ("รับ 1500 ค่าขยะ 16/7/2567", "ยังมาไม่ถึง"),
    ("รับ 0 ค่าขยะ", "มากกว่า 0"),
    ("รับ -1500 ค่าขยะ", "ติดลบ"),
    ("รับ 1500.555 ค่าขยะ", "ทศนิยม"),
    ("รับ 1,000,000,000 ค่าขยะ", "999,999,999.99"),
    ("รับ 1500 ค่าขยะ 31/2/2567", "31/2/2567"),
    ("รับ 1500 ค่าขยะ 0/7/67", "0/7/67"),
    ("รับ 1500 ค่าขยะ 15/13/2567", "15/13/2567"),
    ("รับ 1500", "รายการ"),
    ("รับ ค่าขยะ 15oo", "15oo"),
    ("รับ สองพันห้าบาท ค่าขยะ", "สองแบบ"),
    ("จ่าย 500 ค่าอาหาร เงินสด โอน", "แบบเดียว"),
    ("จ่าย 500 ค่าอาหาร เมื่อวาน 15/7/67", "วันเดียว"),
    ("จ่าย ค่าอาหาร 50 บาท ค่าน้ำ 20 บาท", "ทีละรายการ"),
    ("รับ ค่าขยะ หมู่ 3", "ไม่พบจำนวนเงิน"),
    # a dot before three digits may be a thousands separator: asked, never 1.20 baht silently
    ("จ่าย 1.200 ค่าน้ำมัน", "1,200.00 บาท หรือ 1.20 บาท"),
    ("จ่าย ๑.๒๐๐ ค่าน้ำมัน", "1,200.00 บาท หรือ 1.20 บาท"),
    ("รับ 1.234 ค่าขยะ", "1,234.00 บาท"),
    ("รับ 1500.500 ค่าปรับ", "ทศนิยม"),
    ("จ่าย -500 ค่าน้ำมัน", "ไม่ต้องมีเครื่องหมายลบ"),
    # under one satang: too small, never read as 1 baht (the tester's "0.001" -> "1.00 บาท")
    ("รับ 0.001 ค่าขยะ", "น้อยกว่า 1 สตางค์"),
    ("รับ ๐.๐๐๕ ค่าขยะ", "น้อยกว่า 1 สตางค์"),
    ("รับ 0.0049 ค่าขยะ", "น้อยกว่า 1 สตางค์"),
]


def test_an_amount_under_one_satang_offers_no_other_amount() -> None:
    from bot.ledger.quickentry import dot_amount_readings, dot_readings

    assert dot_readings("0.001") == [] and dot_readings("0.500") == []
    assert dot_amount_readings("รับ 0.001 ค่าขยะ", TODAY) == []
    with pytest.raises(EntryError) as err:
        parse_entry("รับ 0.001 ค่าขยะ", TODAY)
    assert "1.00" not in str(err.value)


@pytest.mark.parametrize(("text", "fragment"), REFUSALS)
def test_refusals_say_what_is_wrong_and_show_an_example(text: str, fragment: str) -> None:
    with pytest.raises(EntryError) as err:
        parse_entry(text, TODAY)
    message = str(err.value)
    assert fragment in message
    assert "ตัวอย่าง:" in message
    example_line = message.split("ตัวอย่าง:", 1)[1].strip()
    assert isinstance(parse_entry(example_line, TODAY), ParsedEntry)  # the example itself works


def test_payment_refusal_shows_a_payment_example() -> None:
    with pytest.raises(EntryError) as err:
        parse_entry("จ่าย 2,500", TODAY)
    assert "ตัวอย่าง: จ่าย" in str(err.value)


def test_yearless_date_months_ahead_means_last_year() -> None:
    assert parse_entry("รับ 1500 ค่าขยะ 20 ธ.ค.", TODAY).date == date(2023, 12, 20)
    assert parse_entry("รับ 1500 ค่าขยะ 16/8", TODAY).date == date(2023, 8, 16)


@pytest.mark.parametrize("typed", ["16 ก.ค.", "20/7", "วันที่ 14/8"])
def test_yearless_date_in_the_coming_month_is_refused_not_moved_back_a_year(typed: str) -> None:
    """On 15 Jul, "16 ก.ค." is a slip or a post-dated slip, not 16 Jul of last year: a year-old
    entry would be saved where the clerk did not mean it. The refusal says how to give a year."""
    with pytest.raises(EntryError, match="ยังมาไม่ถึง") as err:
        parse_entry(f"รับ 1500 ค่าขยะ {typed}", TODAY)
    assert "ใส่ปี" in str(err.value)


@given(days=st.integers(1, 4000), style=st.sampled_from(["dmY", "dmy", "thai", "iso"]))
def test_future_dates_are_refused(days: int, style: str) -> None:
    d = TODAY + timedelta(days=days)
    assume(style != "dmy" or d.year - TODAY.year <= 10)
    text = {
        "dmY": f"{d.day}/{d.month}/{d.year + 543}",
        "dmy": f"{d.day}/{d.month}/{(d.year + 543) % 100:02d}",
        "thai": f"{d.day} {THAI_MONTHS_SHORT[d.month - 1]} {d.year + 543}",
        "iso": f"{d.day}-{d.month}-{d.year}",
    }[style]
    with pytest.raises(EntryError, match="ตัวอย่าง"):
        parse_entry(f"รับ 1500 ค่าขยะ {text}", TODAY)


@given(cents=st.integers(int(MAX_AMOUNT * 100) + 1, 10**13))
def test_amounts_over_the_maximum_are_refused(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    with pytest.raises(EntryError, match="ตัวอย่าง"):
        parse_entry(f"รับ {amount:,.2f} ค่าขยะ", TODAY)


@given(thousandths=st.integers(1, 10**9).filter(lambda n: n % 10 != 0))
def test_more_than_two_decimals_is_refused(thousandths: int) -> None:
    amount = Decimal(thousandths).scaleb(-3)
    with pytest.raises(EntryError, match="ตัวอย่าง"):
        parse_entry(f"จ่าย {amount:.3f} ค่าวัสดุ", TODAY)


@pytest.mark.parametrize("text", ["รับ 0 ค่าขยะ", "รับ 0.00 บาท ค่าขยะ", "-0 ค่าไฟ", "รับ -5 ค่าขยะ"])
def test_zero_and_negative_amounts_are_refused(text: str) -> None:
    with pytest.raises(EntryError, match="ตัวอย่าง"):
        parse_entry(text, TODAY)


# --------------------------------------------------------------------------- helpers


def test_parse_entries_keeps_line_numbers_and_outcomes() -> None:
    pasted = "รับ 1,500 ค่าขยะ\n\n  จ่าย 0 ค่าไฟ  \nสรุปยอดวันนี้\n- จ่าย 300 ค่ากาแฟ เงินสด\n"
    results = parse_entries(pasted, TODAY)
    assert [r.line_no for r in results] == [1, 3, 4, 5]
    assert all(isinstance(r, LineResult) for r in results)
    assert results[0].entry is not None and results[0].entry.amount == Decimal("1500.00")
    assert results[1].error is not None and results[1].entry is None
    assert isinstance(results[2].result, NotAnEntry) and results[2].error is None
    assert results[3].entry is not None and results[3].entry.method == "cash"
    assert results[1].text == "จ่าย 0 ค่าไฟ"


def test_describe() -> None:
    entry = parse_entry("รับ 1,500 ค่าขยะ เงินสด เลขที่ 12/345", TODAY)
    assert describe(entry) == (
        "รับ 1,500.00 บาท (หนึ่งพันห้าร้อยบาทถ้วน) ค่าขยะ · 15 ก.ค. 2567 · เงินสด · เลขที่ 12/345"
    )
    bare = parse_entry("จ่าย 0.5 ค่าปรับ เมื่อวาน", TODAY)
    assert describe(bare) == "จ่าย 0.50 บาท (ห้าสิบสตางค์) ค่าปรับ · 14 ก.ค. 2567"


def test_examples_parse() -> None:
    assert format_example().startswith("ตัวอย่าง: ")
    assert EXAMPLE in format_example()
    for kind in KINDS:
        line = format_example(kind).removeprefix("ตัวอย่าง: ")
        assert parse_entry(line, TODAY).kind == kind


def test_no_float_anywhere() -> None:
    entry = parse_entry("รับ 0.10 ค่าปรับ", TODAY)
    assert entry.amount == Decimal("0.10") and str(entry.amount) == "0.10"


# --------------------------------------------------------------------------- round trip

DESCRIPTIONS = [
    "ค่าขยะ",
    "ค่าน้ำประปา",
    "ค่าไฟฟ้าสำนักงาน",
    "ค่าเช่าอาคารตลาด",
    "ภาษีป้าย",
    "ค่าธรรมเนียมใบอนุญาตก่อสร้าง",
    "ค่าวัสดุสำนักงาน",
    "ค่าจ้างเหมาทำความสะอาด",
    "ค่าน้ำมันเชื้อเพลิง",
    "ค่าปรับผิดสัญญา",
    "ค่าตอบแทนกรรมการ",
    "ค่าซ่อมแซมถนนลูกรัง",
    "เงินอุดหนุนทั่วไป",
    "ค่าอาหารว่างและเครื่องดื่ม",
    "ค่าเช่าแผง ตลาดนัด",
    "ค่าถ่ายเอกสาร",
    "ค่าขายแบบแปลน",
    "ค่าบำรุงรักษารถยนต์",
    "ค่าไปรษณีย์",
    "ค่าธรรมเนียมเก็บขยะ นายสมชาย ใจดี",
    "ค่าจัดซื้อครุภัณฑ์คอมพิวเตอร์",
    "ค่าเช่าที่ดินสาธารณะ",
]
KINDS: tuple[Kind, ...] = ("receipt", "payment")
METHODS: tuple[Method | None, ...] = (None, "cash", "cheque", "transfer")
KIND_WORDS = {
    "receipt": ["รับ", "รับเงิน", "รายรับ", "+"],
    "payment": ["จ่าย", "จ่ายเงิน", "รายจ่าย", "-"],
}
METHOD_WORDS = {
    "cash": ["เงินสด", "ด้วยเงินสด"],
    "cheque": ["เช็ค", "เช็ก", "cheque", "จ่ายด้วยเช็ค"],
    "transfer": ["โอน", "โอนเงิน", "transfer", "พร้อมเพย์", "โอนผ่านธนาคาร"],
}


@dataclass(frozen=True)
class Case:
    """A valid entry and one way of typing it."""

    entry: ParsedEntry
    today: date
    text: str


@st.composite
def amounts(draw: st.DrawFn) -> Decimal:
    cents = draw(
        st.one_of(
            st.integers(1, 100_000_00),
            st.integers(1, 100_000).map(lambda n: n * 100),
            st.integers(1, int(MAX_AMOUNT * 100)),
        )
    )
    return Decimal(cents).scaleb(-2)


@st.composite
def typed_amount(draw: st.DrawFn, amount: Decimal) -> tuple[str, bool]:
    """The amount as a clerk might type it; the flag says whether it is written in words."""
    baht, satang = divmod(int(amount * 100), 100)
    style = draw(st.sampled_from(["digits", "commas", "satang", "words"]))
    if style == "words":
        return amount_in_words(amount), True
    if style == "satang" and satang:
        text = f"{satang} สตางค์" if baht == 0 else f"{baht:,} บาท {satang} สตางค์"
    else:
        commas = style == "commas"
        if satang == 0 and draw(st.booleans()):
            text = f"{baht:,}" if commas else str(baht)
            text += draw(st.sampled_from(["", " บาท", "บาท", " บ.", ".-"]))
        else:
            text = f"{amount:,.2f}" if commas else f"{amount:.2f}"
            if satang % 10 == 0 and draw(st.booleans()):
                text = text[:-1]  # "1500.5"
            text += draw(st.sampled_from(["", " บาท"]))
    if draw(st.booleans()):
        text = text.translate(THAI_DIGITS)
    return text, False


@st.composite
def typed_date(draw: st.DrawFn, today: date) -> tuple[date, str | None]:
    style = draw(
        st.sampled_from(["none", "relative", "dmy_be", "dmY_be", "dmY_ce", "dmy_ce", "thai"])
    )
    if style == "none":
        return today, None
    if style == "relative":
        back, word = draw(st.sampled_from([(0, "วันนี้"), (1, "เมื่อวาน"), (2, "เมื่อวานซืน")]))
        return today - timedelta(days=back), word
    d = today - timedelta(days=draw(st.integers(0, 729)))  # inside the range taken
    be = d.year + 543
    sep = draw(st.sampled_from(["/", "-", "."]))
    day, month = (f"{d.day:02d}", f"{d.month:02d}") if draw(st.booleans()) else (d.day, d.month)
    if style == "thai":
        name = draw(st.sampled_from([THAI_MONTHS_SHORT, THAI_MONTHS_LONG]))[d.month - 1]
        year_style = draw(st.sampled_from(["BE", "be", "CE", "none"]))
        # A yearless date is the latest such day, unless that day comes again within a month
        # (also across the new year): that is refused as in the future.
        yearless = today.year if (d.month, d.day) <= (today.month, today.day) else today.year - 1
        for y in (today.year, today.year + 1):
            try:
                if 0 < (date(y, d.month, d.day) - today).days <= 31:
                    yearless = 0
            except ValueError:
                pass
        if year_style == "none" and d.year != yearless:
            year_style = "BE"
        year = {"BE": f" {be}", "be": f" {be % 100:02d}", "CE": f" {d.year}", "none": ""}
        text = f"{d.day} {name}{year[year_style]}"
    else:
        year_text = {
            "dmy_be": f"{be % 100:02d}",
            "dmY_be": str(be),
            "dmY_ce": str(d.year),
            "dmy_ce": f"{d.year % 100:02d}",
        }[style]
        text = f"{day}{sep}{month}{sep}{year_text}"
    if draw(st.booleans()):
        text = draw(st.sampled_from(["วันที่ ", "ลงวันที่ "])) + text
    return d, text


@st.composite
def typed_doc(draw: st.DrawFn) -> tuple[str | None, str | None]:
    if draw(st.booleans()):
        return None, None
    number = draw(
        st.one_of(
            st.tuples(st.integers(1, 999), st.integers(1, 99999)).map(lambda t: f"{t[0]}/{t[1]}"),
            st.integers(1, 999999).map(lambda n: f"{n:06d}"),
            st.integers(1, 999).map(lambda n: f"{n}/2567"),
        )
    )
    marker = draw(st.sampled_from(["เลขที่", "เลขที่ใบเสร็จ", "ใบเสร็จ", "ฎีกา", "ฏีกา", "book"]))
    if marker == "book":
        book, no = draw(st.integers(1, 99)), draw(st.integers(1, 999))
        return f"{book}/{no}", f"เล่มที่ {book} เลขที่ {no}"
    return number, f"{marker} {number}"


@st.composite
def cases(draw: st.DrawFn, any_order: bool = False) -> Case:
    """A valid entry typed with the amount first (or, with ``any_order``, anywhere)."""
    today = draw(st.dates(date(2015, 1, 1), date(2035, 12, 31)))
    kind = draw(st.sampled_from(KINDS))
    amount = draw(amounts())
    amount_text, in_words = draw(typed_amount(amount))
    description = draw(st.sampled_from(DESCRIPTIONS))
    when, date_text = draw(typed_date(today))
    doc_no, doc_text = draw(typed_doc())
    method = draw(st.sampled_from(METHODS))
    method_text = draw(st.sampled_from(METHOD_WORDS[method])) if method else None
    words = KIND_WORDS[kind]
    kind_word = draw(st.sampled_from(words[:3] if in_words or any_order else words))
    entry = ParsedEntry(kind, amount, description, when, doc_no, method)
    parts = [p for p in (description, date_text, doc_text, method_text) if p]
    if any_order:
        parts = draw(st.permutations([amount_text, *parts]))
        separator = draw(st.sampled_from([" ", ", ", " - ", " | "]))
        if separator == " " and date_text and not date_text[-1].isdigit():
            # "1 ม.ค. 10" is a date with a year to anyone: a bare number right after a
            # yearless Thai date needs a separator to be read as the amount.
            at = parts.index(date_text)
            if at + 1 < len(parts) and parts[at + 1] == amount_text:
                separator = ", "
        if separator == " - " and date_text and date_text[0].isdigit():
            # "1 - 31/12/57" reads as a range of days to anyone (refused as unclear, see
            # test_a_number_dashed_before_a_date_is_a_range_not_an_amount): not a valid entry.
            at = parts.index(amount_text)
            if at + 1 < len(parts) and parts[at + 1] == date_text:
                separator = ", "
        return Case(entry, today, f"{kind_word} " + separator.join(parts))
    gap = " " if in_words else draw(st.sampled_from([" ", "", "  "]))
    parts = draw(st.permutations(parts))
    return Case(entry, today, f"{kind_word}{gap}{amount_text} " + " ".join(parts))


@settings(max_examples=400, deadline=None)
@given(case=cases())
@example(
    Case(
        ParsedEntry("receipt", Decimal("2005.00"), "ค่าขยะ", date(2024, 7, 15)),
        date(2024, 7, 15),
        "รับ สองพันห้าบาทถ้วน ค่าขยะ",
    )
)
def test_round_trip(case: Case) -> None:
    parsed = parse_entry(case.text, case.today)
    assert parsed == case.entry, case.text
    assert parse_entry(format_entry(parsed), case.today) == parsed
    assert looks_like_entry(case.text)
    assert describe(parsed).startswith(("รับ ", "จ่าย "))


@settings(max_examples=300, deadline=None)
@given(case=cases(any_order=True))
def test_round_trip_with_the_amount_anywhere(case: Case) -> None:
    assert parse_entry(case.text, case.today) == case.entry, case.text


def test_a_number_dashed_before_a_date_is_a_range_not_an_amount() -> None:
    # Hypothesis found it: "1 - 31/12/57" could be the days 1 to 31, so nothing is saved.
    with pytest.raises(EntryError):
        parse_entry("รับ 1 - 31/12/57 - ค่าขยะ", date(2015, 1, 10))


@settings(max_examples=200, deadline=None)
@given(case=cases(), junk=st.sampled_from(["👍", "✅", "🙏🏻", "💰", "❤️"]))
def test_emoji_junk_is_ignored(case: Case, junk: str) -> None:
    assert parse_entry(f"{junk} {case.text} {junk}", case.today) == case.entry


@given(
    text=st.text(
        alphabet=st.sampled_from(list("รับจ่ายเงินค่าขยะ 0123456789,./-+บาทสตางค์?ไหมวันที่")),
        max_size=40,
    )
)
def test_never_crashes_and_looks_like_entry_agrees(text: str) -> None:
    try:
        parse_entry(text, TODAY)
    except NotAnEntry:
        assert not looks_like_entry(text)
    except EntryError as exc:
        assert "ตัวอย่าง:" in str(exc)
        assert looks_like_entry(text)
    else:
        assert looks_like_entry(text)


# --------------------------------------------------------------------------- periods

PERIODS = [
    ("", (TODAY, TODAY)),
    ("เมื่อวาน", (date(2024, 7, 14), date(2024, 7, 14))),
    ("9/7/2567", (date(2024, 7, 9), date(2024, 7, 9))),
    ("๙ ก.ค. ๖๗", (date(2024, 7, 9), date(2024, 7, 9))),
    ("ก.ค. 2567", (date(2024, 7, 1), date(2024, 7, 31))),
    ("กุมภาพันธ์ 67", (date(2024, 2, 1), date(2024, 2, 29))),
    ("ส.ค.", (date(2023, 8, 1), date(2023, 8, 31))),
    ("7/2567", (date(2024, 7, 1), date(2024, 7, 31))),
    ("เดือนนี้", (date(2024, 7, 1), date(2024, 7, 31))),
    ("เดือนที่แล้ว", (date(2024, 6, 1), date(2024, 6, 30))),
    ("สัปดาห์ที่แล้ว", (date(2024, 7, 8), date(2024, 7, 14))),
    ("ปี 2567", (date(2024, 1, 1), date(2024, 12, 31))),
    ("ปีงบ 2567", (date(2023, 10, 1), date(2024, 9, 30))),
    ("7 วัน", (date(2024, 7, 9), TODAY)),
    ("1/7/2567 - 15/7/2567", (date(2024, 7, 1), TODAY)),
    ("1/7/67-15/7/67", (date(2024, 7, 1), TODAY)),
    ("ตั้งแต่ 1 ก.ค. 67 ถึง 15 ก.ค. 67", (date(2024, 7, 1), TODAY)),
    ("15/7/2567 - 1/7/2567", (date(2024, 7, 1), TODAY)),
    ("2024-07-01", (date(2024, 7, 1), date(2024, 7, 1))),
]


@pytest.mark.parametrize(("text", "expected"), PERIODS)
def test_parse_period(text: str, expected: tuple[date, date]) -> None:
    assert parse_period(text, TODAY) == expected


@pytest.mark.parametrize("text", ["ฮัลโหล", "31/2/2567", "13/2567", "1/7/2567 - ฮัลโหล"])
def test_parse_period_refusals(text: str) -> None:
    with pytest.raises(EntryError, match="ตัวอย่าง"):
        parse_period(text, TODAY)


@pytest.mark.parametrize("text", [
    "รับเงินค่าขยะวันนี้ 3 ราย", "จ่ายเงินเดือน 15 คน", "รับ 2 ใบ", "จ่ายค่าวัสดุ 4 รายการ",
    "รับค่าเช่า 3 เดือน", "จ่ายค่าน้ำมัน 20 ลิตร",
])
def test_a_count_is_never_saved_as_the_amount(text: str) -> None:
    """"3 ราย" is three cases, not three baht: with no amount left, nothing is saved and the
    message says the number is a count."""
    with pytest.raises(EntryError, match="จำนวนนับ") as err:
        parse_entry(text, TODAY)
    assert "ตัวอย่าง" in str(err.value)


@pytest.mark.parametrize(("text", "amount", "description"), [
    ("รับ 1500 ค่าขยะ 3 ราย", "1500", "ค่าขยะ 3 ราย"),
    ("จ่ายเงินเดือน 15 คน รวม 240,000", "240000", "เงินเดือน 15 คน"),
    ("รับค่าเช่า 3 เดือน 4,500 บาท", "4500", "ค่าเช่า 3 เดือน"),
    ("จ่าย 500 ค่าใบเสร็จ", "500", "ค่าใบเสร็จ"),
    ("รับ 300 ค่ารายการพิเศษ", "300", "ค่ารายการพิเศษ"),
])
def test_the_amount_beside_a_count(text: str, amount: str, description: str) -> None:
    e = parse_entry(text, TODAY)
    assert e.amount == Decimal(amount) and e.description == description


@pytest.mark.parametrize(("text", "says"), [
    ("รับ 1500 หรือ 1600 ดี", "สองจำนวน"),
    ("จ่าย 300 หรือ 350 ค่าน้ำมัน", "สองจำนวน"),
    ("จ่ายค่าจ้าง 3 คน คนละ 300", "ต่อหน่วย"),
    ("จ่ายค่าเสื่อ ผืนละ 150", "ต่อหน่วย"),
])
def test_an_unsure_or_per_unit_amount_is_refused(text: str, says: str) -> None:
    """"1500 or 1600?" and "300 each" are not the amount the clerk will key back: ask."""
    with pytest.raises(EntryError, match=says):
        parse_entry(text, TODAY)


def test_a_total_beside_a_per_unit_price_is_the_amount() -> None:
    e = parse_entry("จ่าย 900 ค่าจ้าง 3 คน คนละ 300", TODAY)
    assert e.amount == Decimal("900")


@pytest.mark.parametrize(("text", "amount", "when", "doc"), [
    ("เมื่อวาน รับ 500 ค่าขยะ", "500", date(2024, 7, 14), None),
    ("9/7/67 จ่าย 1,200 ค่าวัสดุ", "1200", date(2024, 7, 9), None),
    ("10 ก.ค. รับ 300 ค่าปรับ", "300", date(2024, 7, 10), None),
    ("เลขที่ 12/350 รับ 500 ค่าขยะ", "500", TODAY, "12/350"),
    ("ฎีกา 45/2567 จ่าย 4,500 ค่าจ้างเหมา", "4500", TODAY, "45/2567"),
])
def test_a_date_or_document_number_before_the_kind_word(text: str, amount: str, when: date,
                                                        doc: str | None) -> None:
    e = parse_entry(text, TODAY)
    assert (e.amount, e.date, e.doc_no) == (Decimal(amount), when, doc)


@pytest.mark.parametrize("text", ["รับ 800 ค่าปรับ พรุ่งนี้", "จ่าย 500 ค่าวัสดุ มะรืนนี้"])
def test_tomorrow_is_refused_as_in_the_future(text: str) -> None:
    with pytest.raises(EntryError, match="ยังมาไม่ถึง"):
        parse_entry(text, TODAY)


@pytest.mark.parametrize("text", [
    "จ่ายค่าน้ำมัน 3,200 บาท ต้องแนบเอกสารอะไรบ้าง", "รับ 500 ค่าขยะ ต้องให้ใครเซ็น",
    "จ่าย 1,000 ค่าวัสดุ ลงสมุดเล่มไหนเหรอ",
])
def test_an_entry_shaped_question_is_not_an_entry(text: str) -> None:
    with pytest.raises(NotAnEntry):
        parse_entry(text, TODAY)


@pytest.mark.parametrize(("text", "amount"), [
    ("จ่าย ค่าอาหารกลางวัน 15 คน 1,500 บาท", "1500"),
    ("รับ ค่าเช่าแผง 12 แผง 3,600", "3600"),
])
def test_a_count_before_the_amount(text: str, amount: str) -> None:
    assert parse_entry(text, TODAY).amount == Decimal(amount)


@pytest.mark.parametrize("text", ["รับ ค่าเช่าแผง 12 แผง", "รับค่าเช่าที่ดิน 2 แปลง",
                                  "จ่ายค่าขนขยะ 3 เที่ยว", "จ่ายค่าทราย 5 คิว"])
def test_more_counting_words(text: str) -> None:
    with pytest.raises(EntryError, match="จำนวนนับ"):
        parse_entry(text, TODAY)


@pytest.mark.parametrize(("text", "when", "doc"), [
    ("ฎีกา 77/2567 เมื่อวาน จ่าย 12,000 ค่าซ่อมท่อประปา", date(2024, 7, 14), "77/2567"),
    ("จ่าย 4,000 ค่าวิทยากร ใบสำคัญรับเงิน 12", TODAY, "12"),
    ("จ่าย 4,000 ค่าวิทยากร ใบสำคัญรับเงินเลขที่ 12", TODAY, "12"),
])
def test_more_document_number_forms(text: str, when: date, doc: str) -> None:
    e = parse_entry(text, TODAY)
    assert (e.date, e.doc_no) == (when, doc)


def test_tomorrow_before_the_kind_word_is_refused() -> None:
    with pytest.raises(EntryError, match="ยังมาไม่ถึง"):
        parse_entry("พรุ่งนี้ รับ 500 ค่าขยะ", TODAY)


@pytest.mark.parametrize("text", ["รับ", "จ่าย", "จ่ายเงิน", " รับ "])
def test_a_bare_kind_word_asks_for_the_amount(text: str) -> None:
    with pytest.raises(EntryError, match="จำนวนเงิน"):
        parse_entry(text, TODAY)
