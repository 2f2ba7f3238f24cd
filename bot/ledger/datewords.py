"""Date words of the quick-entry grammar and of periods: month names, the date patterns, years.

Shared by :mod:`bot.ledger.quickentry` (one entry's date) and its period reader (summaries and
exports). Pure data and small pure functions; refusals are worded by the parser.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from bot.core.thaifmt import BE_OFFSET, THAI_MONTHS_LONG, THAI_MONTHS_SHORT, be_year

# An entry may be dated back to the start of the fiscal year (1 Oct) this many years before the
# current one's: on 2 Dec 2026 back to 1 Oct 2023, so the July 2024 outage's backlog is taken
# and a slip in the year (2469, 2543, 1967) is not.
FISCAL_YEARS_BACK = 3
_MAX_YEARS_FOR_2DIGIT_BE = 10  # "67" is BE 2567 when that is within 10 years of today's BE year

COLLOQUIAL_MONTHS = (
    "มกรา", "กุมภา", "มีนา", "เมษา", "พฤษภา", "มิถุนา",
    "กรกฎา", "สิงหา", "กันยา", "ตุลา", "พฤศจิกา", "ธันวา",
)  # fmt: skip
# Common misspellings of month names (ฏ for ฎ, ษ for ศ).
MISSPELT_MONTHS = {"กรกฏาคม": 7, "กรกฏา": 7, "พฤษจิกายน": 11, "พฤษจิกา": 11}
# Month spelling with dots and spaces removed -> month number.
MONTH_NO: dict[str, int] = {
    **{
        form.replace(".", ""): i + 1
        for i in range(12)
        for form in (THAI_MONTHS_LONG[i], COLLOQUIAL_MONTHS[i], THAI_MONTHS_SHORT[i])
    },
    **MISSPELT_MONTHS,
}


def month_pattern() -> str:
    forms = [*THAI_MONTHS_LONG, *COLLOQUIAL_MONTHS, *MISSPELT_MONTHS]
    for short in THAI_MONTHS_SHORT:
        parts = [p for p in short.split(".") if p]
        forms.append(r"(?:\.\s?)?".join(parts) + r"\.?")
    forms.sort(key=len, reverse=True)
    return "|".join(forms)


MONTHS = month_pattern()
_WEEKDAYS = ("จันทร์", "อังคาร", "พุธ", "พฤหัส", "ศุกร์", "เสาร์", "อาทิตย์")  # Monday first
_WEEKDAY = "|".join(["พฤหัสบดี", *_WEEKDAYS])
# "วันที่ ", "ลงวันที่ ", "วันจันทร์ที่ " before a date (the weekday is only a label).
_DAY_WORD = rf"(?:(?:ณ\s?)?(?:ลง|เมื่อ)?วัน(?:{_WEEKDAY})?\s?ที่\s?)"
DATE_PREFIX = rf"{_DAY_WORD}?"
NUM_DATE_RE = re.compile(
    rf"{DATE_PREFIX}(?<![\d,./\-])(?P<d>\d{{1,2}})(?P<s>[/.\-])(?P<m>\d{{1,2}})(?P=s)"
    r"(?P<y>\d{4}|\d{2})(?!\d|[/.\-]\d)"
)
MONTH_DATE_RE = re.compile(
    rf"{DATE_PREFIX}(?<![\d,.])(?P<d>\d{{1,2}})\s?(?P<mon>{MONTHS})(?![ก-ฮ])"
    r"(?:\s?(?:(?P<era>พ\.?\s?ศ\.?|ค\.?\s?ศ\.?)\s?)?(?P<y>\d{4}|\d{2})"
    r"(?!\d|[,.]\d|\s?(?:บาท|บ\.|สตางค์|สต\.)|\.-))?"
)
DAY_MONTH_RE = re.compile(
    rf"{_DAY_WORD}(?P<d>\d{{1,2}})(?P<s>[/.\-])(?P<m>\d{{1,2}})"
    r"(?!\d|[/.\-]\d)"
)
# A bare "10/7" (day/month, no year): only when both parts can be a day and a month.
BARE_DAY_MONTH_RE = re.compile(
    r"(?<![\d,./\-A-Za-z\ue000])(?P<d>0?[1-9]|[12]\d|3[01])/(?P<m>0?[1-9]|1[0-2])"
    r"(?![\d/.,\-]|\s?(?:บาท|บ\.|สตางค์|สต\.|ถัง|ลิตร|ชั่วโมง|ชม\.|คน|ชิ้น|กก\.|กิโล|โหล|แผ่น"
    r"|ก้อน|ห่อ|กล่อง|ขวด|ถุง|ชุด|อัน|ตัว|เท่า|ส่วน|ไร่|งาน|ตร\.|เมตร|ม\.|หน่วย|รอบ|ครั้ง))"
)  # "1/2 ถัง" is half a tank, not 1 February
DAY_ONLY_RE = re.compile(rf"{_DAY_WORD}(?P<d>\d{{1,2}})(?![\d/.,\-])")
# "เมือวาน" is a common slip for เมื่อวาน; "วานนี้" is yesterday too.
_YESTERDAY = r"(?:เมื่อ|เมือ)วาน(?:นี้)?|วานนี้"
_DAY_BEFORE = r"(?:เมื่อ|เมือ)?วานซืน(?:นี้)?"
RELATIVE = rf"{_DAY_BEFORE}|{_YESTERDAY}|วันนี้|พรุ่งนี้|มะรืน(?:นี้)?"
RELATIVE_RE = re.compile(rf"(?:ลง)?(?P<w>{RELATIVE})")
# A slip of one letter or mark in the longer yesterday words ("มื่อวาน", "เมื่อวาร", "เมื้อวาน")
# is that word. The short ones ("วันนี้", "วานนี้") are left alone: one letter off they are
# other words ("อันนี้", "งานนี้"); so are the real words one letter off the long ones.
_SLIP_WORDS = ("เมื่อวาน", "เมื่อวานนี้", "เมื่อวานซืน")
_NOT_SLIPS = frozenset({"เมื่อวัน", "เมื่อนาน", "เมื่อวาง", "เมื่อวา"})
WORD_RE = re.compile(r"[\u0e01-\u0e4f]+")


def date_word_slip(word: str) -> str | None:
    """The yesterday word that ``word`` is one edit away from, or None."""
    if word in _NOT_SLIPS or not 6 <= len(word) <= 13:
        return None
    for known in _SLIP_WORDS:
        if _one_edit(word, known):
            return known
    return None


def _one_edit(a: str, b: str) -> bool:
    """Exactly one insertion, deletion, substitution or swap of two neighbours apart."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1:  # "เม่ือวาน": marks typed in swapped order
            return a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]

# "2 วันก่อน", "สามวันที่แล้ว", "เมื่อ 3 วันที่แล้ว": that many days back ("สองสามวันก่อน",
# two or three days, is vague).
_DAY_COUNTS = ("หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า", "สิบ")
_N_DAYS = rf"\d{{1,2}}|{'|'.join(_DAY_COUNTS)}"
_AGO = r"\s?วัน\s?(?:ก่อน|ที่แล้ว|ที่ผ่านมา)"
DAYS_AGO_RE = re.compile(
    rf"(?:เมื่อ\s?|(?<![\d,./\-\u0e01-\u0e4f]))(?P<n>{_N_DAYS}){_AGO}"
)


def days_ago(n: str) -> int:
    """Days back for DAYS_AGO_RE's count, in figures or a Thai word."""
    return int(n) if n.isdigit() else _DAY_COUNTS.index(n) + 1


# "วันศุกร์" or a bare "ศุกร์" (the latest Friday, today included), "วันศุกร์ที่แล้ว" (Friday of
# last week), "ศุกร์ที่แล้ว"; "อาทิตย์" alone is also "a week", so it needs "วัน" before it.
# Not glued to a word before it: "ตลาดนัดวันพุธ" is a market, not a date.
WEEKDAY_RE = re.compile(
    r"(?:(?:ลง|เมื่อ)\s?|(?<![ก-๙])(?<!นัด )(?<!ทุก ))"
    rf"(?:วัน(?P<a>{_WEEKDAY})|(?P<b>{_WEEKDAY.replace('|อาทิตย์', '')})"
    r"(?=\s?(?:ที่แล้ว|ก่อน|ที่ผ่านมา)|(?:ครับ|ค่ะ|คะ|นะ)*(?![\u0e01-\u0e4f])))"
    r"(?!\s?(?:นี้|หน้า|ที่\s?\d))"
    r"(?:\s?(?P<when>ที่แล้ว|ก่อน|ที่ผ่านมา))?"
)
# Date words that may come before the kind word ("วานนี้ รับ 500 ค่าขยะ").
LEAD_DATE_WORDS = (
    rf"{RELATIVE}|(?:วัน)?(?:{_WEEKDAY})(?:\s?(?:ที่แล้ว|ก่อน|ที่ผ่านมา))?"
    rf"|(?:{_N_DAYS}){_AGO}|\d{{4}}-\d{{1,2}}-\d{{1,2}}"
)
# Words that name a time but not one day: refused unless a date is given as well.
VAGUE_DATE_RE = re.compile(
    r"(?:สัปดาห์|อาทิตย์|เดือน|ปี)(?:ที่แล้ว|ก่อน|ที่ผ่านมา)|(?:ต้น|กลาง|ปลาย|สิ้น)เดือน"
    r"|(?:สัปดาห์|อาทิตย์)นี้"
    r"|(?:เมื่อ)?(?:หลาย|สองสาม|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|สิบ)?วัน(?:ก่อน|ที่แล้ว)"
    rf"|วัน(?:{_WEEKDAY})\s?(?:นี้|หน้า)|วันหลัง|เมื่อคืน"
    r"|(?<![\d\u0e01-\u0e4f])(?<!\d\s)อาทิตย์(?![\u0e01-\u0e4f])"  # Sunday or a week?
    r"|วันที่\s?(?:หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|สิบ|ยี่|เอ็ด)+"
)
# A date range ("28-30 พ.ย.", "28/11-30/11", "28 พ.ย. - 1 ธ.ค."): not one payment date. A bare
# first day must come before the second ("12 - 9/7/69" is an amount and a date).
_RD = r"\d{1,2}"
_RSEP = r"\s?(?:-|ถึง|จนถึง)\s?"
_RMON = rf"\s?(?:{MONTHS})(?![ก-ฮ])(?:\s?(?:พ\.?\s?ศ\.?\s?)?(?:\d{{4}}|\d{{2}})(?!\d))?"
_RNUM = r"/\d{1,2}(?:/(?:\d{4}|\d{2}))?(?!\d)"
DATE_RANGE_RE = re.compile(
    rf"{DATE_PREFIX}(?<![\d,./\-])"
    rf"(?P<d1>{_RD})(?P<m1>{_RMON}|{_RNUM})?{_RSEP}(?P<d2>{_RD})(?:{_RMON}|{_RNUM})"
)
# An ISO date typed by someone used to computers: "2024-11-30" (or a BE year "2567-11-30").
ISO_ENTRY_DATE_RE = re.compile(
    r"(?<![\d/.\-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d\-])"
)

# Periods for summaries and exports ("ก.ค. 2567", "เดือนนี้", "1/7/2567 - 15/7/2567").
# Numeric dates and nothing else ("32/1", "1/13/67", "30/2 - 5/3"): what a clerk meant as dates,
# so a day not in the calendar is named as such, not read as words.
NUMERIC_DATE = r"\d{1,2}[/.]\d{1,2}(?:[/.](?:\d{4}|\d{2}))?"
NUMERIC_DATES_RE = re.compile(rf"{NUMERIC_DATE}(?:\s?(?:-|–|ถึง|จนถึง)\s?{NUMERIC_DATE})?")
PERIOD_EXAMPLE = "ตัวอย่าง: เมื่อวาน · 9/7/2567 · ก.ค. 2567 · เดือนนี้ · 1/7/2567 - 15/7/2567"
PERIOD_LEAD_RE = re.compile(r"^(?:ช่วง|ตั้งแต่|ของ|ระหว่าง)\s?(?:วันที่\s?)?")
PERIOD_SPLIT_RE = re.compile(r"\s?(?:ถึง|จนถึง|to|~|–|—)\s?|\s-\s|-")
MONTH_PERIOD_RE = re.compile(
    rf"(?:เดือน\s?)?(?P<mon>{MONTHS})(?![ก-ฮ])"
    r"(?:\s?(?:(?P<era>พ\.?\s?ศ\.?|ค\.?\s?ศ\.?)\s?)?(?P<y>\d{4}|\d{2}))?"
    r"|(?:เดือน\s?)?(?P<m>\d{1,2})/(?P<y2>\d{4})"
)
YEAR_PERIOD_RE = re.compile(
    r"(?P<fy>ปีงบ(?:ประมาณ)?|งบ(?:ประมาณ)?\s?ปี)?\s?(?:ปี\s?)?(?:พ\.?\s?ศ\.?\s?)?(?P<y>\d{4})"
)
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
NAMED_PERIODS = (
    "วันนี้", "เมื่อวาน", "เมื่อวานนี้", "เมื่อวานซืน", "สัปดาห์นี้", "อาทิตย์นี้",
    "สัปดาห์ที่แล้ว", "อาทิตย์ที่แล้ว", "สัปดาห์ก่อน", "อาทิตย์ก่อน", "เดือนนี้",
    "เดือนที่แล้ว", "เดือนก่อน", "ปีนี้", "ปีที่แล้ว", "ปีงบนี้", "ปีงบประมาณนี้",
)  # fmt: skip

# The same periods in English ("export csv this month").
ENGLISH_PERIODS = {
    "today": "วันนี้", "yesterday": "เมื่อวาน", "this week": "สัปดาห์นี้",
    "last week": "สัปดาห์ที่แล้ว", "this month": "เดือนนี้", "last month": "เดือนที่แล้ว",
    "this year": "ปีนี้", "last year": "ปีที่แล้ว",
}  # fmt: skip


def resolve_year(year: str, today: date, era: str | None = None) -> int:
    """Christian-era year for a typed 2- or 4-digit year (see :func:`parse_entry`)."""
    y = int(year)
    if era:
        be = era.startswith("พ")
        if len(year) == 2:
            return 2500 + y - BE_OFFSET if be else 2000 + y
        return y - BE_OFFSET if be else y
    if len(year) == 4:
        return y - BE_OFFSET if y > 2400 else y
    # Two digits are a BE year ("67" = 2567) unless only the CE reading is near today
    # ("24" = 2024); a year near neither is taken as BE (then refused as too old or ahead).
    be_candidate = 2500 + y
    if abs(be_candidate - be_year(today)) <= _MAX_YEARS_FOR_2DIGIT_BE:
        return be_candidate - BE_OFFSET
    if abs(2000 + y - today.year) <= _MAX_YEARS_FOR_2DIGIT_BE:
        return 2000 + y
    return be_candidate - BE_OFFSET


def iso_day(text: str, today: date) -> date:
    """``2024-07-09`` or, with a BE year, ``2567-07-09`` (ValueError if no such day)."""
    y, m, d = text.split("-")
    return date(resolve_year(y, today), int(m), int(d))


def plausible_year(year: str) -> bool:
    if len(year) == 2:
        return True
    y = int(year)
    return 1900 <= y <= 2200 or 2443 <= y <= 2743


def month_span(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def named_period(word: str, today: date) -> tuple[date, date] | None:
    monday = today - timedelta(days=today.weekday())
    fy_start = date(today.year - (0 if today.month >= 10 else 1), 10, 1)
    month_start = today.replace(day=1)
    spans: dict[str, tuple[date, date]] = {
        "สัปดาห์นี้": (monday, monday + timedelta(days=6)),
        "สัปดาห์ที่แล้ว": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "สัปดาห์ก่อน": (monday - timedelta(days=7), monday - timedelta(days=1)),
        "เดือนนี้": month_span(today.year, today.month),
        "เดือนที่แล้ว": month_span(
            (month_start - timedelta(days=1)).year, (month_start - timedelta(days=1)).month
        ),
        "ปีนี้": (date(today.year, 1, 1), date(today.year, 12, 31)),
        "ปีที่แล้ว": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "ปีงบนี้": (fy_start, date(fy_start.year + 1, 9, 30)),
    }
    word = word.replace("อาทิตย์", "สัปดาห์").replace("ปีงบประมาณ", "ปีงบ")
    word = word.replace("เดือนก่อน", "เดือนที่แล้ว")
    return spans.get(word)


def days_back(word: str) -> int:
    """Days before today for a RELATIVE word (negative: ahead, to be refused)."""
    word = word.removeprefix("ลง").removesuffix("นี้")
    if word.endswith("วานซืน"):
        return 2
    if word.endswith("วาน"):
        return 1
    return {"วัน": 0, "พรุ่ง": -1}.get(word, -2)  # "วันนี้" minus "นี้" is "วัน"; มะรืน: -2


def weekday_date(name: str, when: str | None, today: date) -> date:
    """The day of a weekday name: the latest one not after today, or with ``ที่แล้ว``/``ก่อน``
    that day of last week (Monday to Sunday), or with ``ที่ผ่านมา`` the latest before today."""
    wd = _WEEKDAYS.index("พฤหัส" if name.startswith("พฤหัส") else name)
    if when in ("ที่แล้ว", "ก่อน"):
        monday = today - timedelta(days=today.weekday())
        return monday - timedelta(days=7 - wd)
    back = (today.weekday() - wd) % 7
    if back == 0 and when == "ที่ผ่านมา":
        back = 7
    return today - timedelta(days=back)


def latest_year_with(month: int, day: int, today: date) -> int:
    """The latest year, not after ``today``, whose calendar has ``day``/``month`` (for a date
    typed without a year): this year or last, and for 29 Feb the latest leap year before that.
    A day no year has (31/4) gives the plain year, for the caller to refuse."""
    year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    if (month, day) == (2, 29):
        while not calendar.isleap(year):
            year -= 1
    return year


def earliest_entry_date(today: date) -> date:
    """The oldest date an entry may have: 1 Oct of the fiscal year ``FISCAL_YEARS_BACK`` before
    the current one (an outage backlog is months old at most; older is a slip in the year)."""
    start = today.year if today.month >= 10 else today.year - 1
    return date(start - FISCAL_YEARS_BACK, 10, 1)
