"""Date words of the quick-entry grammar and of periods: month names, the date patterns, years.

Shared by :mod:`bot.ledger.quickentry` (one entry's date) and its period reader (summaries and
exports). Pure data and small pure functions; refusals are worded by the parser.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.core.thaifmt import BE_OFFSET, THAI_MONTHS_LONG, THAI_MONTHS_SHORT, be_year

_MAX_YEARS_FOR_2DIGIT_BE = 10  # "67" is BE 2567 when that is within 10 years of today's BE year

COLLOQUIAL_MONTHS = (
    "มกรา", "กุมภา", "มีนา", "เมษา", "พฤษภา", "มิถุนา",
    "กรกฎา", "สิงหา", "กันยา", "ตุลา", "พฤศจิกา", "ธันวา",
)  # fmt: skip
# Month spelling with dots and spaces removed -> month number.
MONTH_NO: dict[str, int] = {
    form.replace(".", ""): i + 1
    for i in range(12)
    for form in (THAI_MONTHS_LONG[i], COLLOQUIAL_MONTHS[i], THAI_MONTHS_SHORT[i])
}


def month_pattern() -> str:
    forms = [*THAI_MONTHS_LONG, *COLLOQUIAL_MONTHS]
    for short in THAI_MONTHS_SHORT:
        parts = [p for p in short.split(".") if p]
        forms.append(r"(?:\.\s?)?".join(parts) + r"\.?")
    forms.sort(key=len, reverse=True)
    return "|".join(forms)


MONTHS = month_pattern()
DATE_PREFIX = r"(?:(?:ณ\s?)?(?:ลง|เมื่อ)?วันที่\s?)?"
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
    r"(?:(?:ณ\s?)?(?:ลง|เมื่อ)?วันที่\s?)(?P<d>\d{1,2})(?P<s>[/.\-])(?P<m>\d{1,2})"
    r"(?!\d|[/.\-]\d)"
)
# A bare "10/7" (day/month, no year): only when both parts can be a day and a month.
BARE_DAY_MONTH_RE = re.compile(
    r"(?<![\d,./\-A-Za-z\ue000])(?P<d>0?[1-9]|[12]\d|3[01])/(?P<m>0?[1-9]|1[0-2])"
    r"(?![\d/.,\-]|\s?(?:บาท|บ\.|สตางค์|สต\.|ถัง|ลิตร|ชั่วโมง|ชม\.|คน|ชิ้น|กก\.|กิโล|โหล|แผ่น"
    r"|ก้อน|ห่อ|กล่อง|ขวด|ถุง|ชุด|อัน|ตัว|เท่า|ส่วน|ไร่|งาน|ตร\.|เมตร|ม\.|หน่วย|รอบ|ครั้ง))"
)  # "1/2 ถัง" is half a tank, not 1 February
DAY_ONLY_RE = re.compile(r"(?:(?:ณ\s?)?(?:ลง|เมื่อ)?วันที่\s?)(?P<d>\d{1,2})(?![\d/.,\-])")
RELATIVE_RE = re.compile(
    r"(?:ลง)?(?P<w>เมื่อวานซืน|เมื่อวาน(?:นี้)?|วันนี้|พรุ่งนี้|มะรืน(?:นี้)?)")

# Periods for summaries and exports ("ก.ค. 2567", "เดือนนี้", "1/7/2567 - 15/7/2567").
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
    be_candidate = 2500 + y
    if abs(be_candidate - be_year(today)) <= _MAX_YEARS_FOR_2DIGIT_BE:
        return be_candidate - BE_OFFSET
    return 2000 + y


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
